"""User text shown as text: run names, CSV labels and link values never render as Markdown.

Streamlit draws labels, messages (``st.error``, ``st.warning``, ``st.success``, ...), captions, metric
labels and every cell of ``st.table`` as Markdown. A run name such as
``![x](http://example.invalid/a.png)`` would load an outside image in every visitor's browser, and
``[re-enter password](http://example.invalid)`` would draw a link. :func:`markdown_text` escapes every
character that Markdown (CommonMark, GitHub's extensions, Streamlit's ``:color[...]`` directives and
``$...$`` formulas) gives a meaning, so the text reads back exactly as typed.
"""

from __future__ import annotations

import re

MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:=&\"'^@%])")


def markdown_text(text) -> str:
    """``text`` escaped for Streamlit Markdown, on one line (a newline could start a heading or a list)."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))
