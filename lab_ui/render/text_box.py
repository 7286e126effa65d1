"""Text a model wrote, in a grey monospace box as ``st.code`` draws it, without ``st.code``'s syntax
highlighter, which the browser sets up on every page load that shows one.

    show_text(text, container)   draw the box
    text_box_html(text)          its HTML (the text escaped)
"""

from __future__ import annotations

import html

import streamlit as st

from lab_ui.render.palette import INK, TEXT_BOX_BACKGROUND

TEXT_BOX_STYLE = ("white-space:pre-wrap;word-break:break-word;font-family:'Source Code Pro',monospace;font-size:14px;"
                  f"line-height:1.6;color:{INK};background:{TEXT_BOX_BACKGROUND};border-radius:0.5rem;"
                  "padding:0.8rem 1rem;margin:0")


def show_text(text: str, container=None) -> None:
    """``text`` in the box, in ``container`` (the page where None)."""
    (container or st).html(text_box_html(text))


def text_box_html(text: str) -> str:
    """HTML of :func:`show_text`'s box (the text escaped)."""
    return f'<pre class="text-box" style="{TEXT_BOX_STYLE}">{html.escape(text)}</pre>'
