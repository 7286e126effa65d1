"""The app's own components: HTML that LSTM Lab made itself (charts as SVG images, text escaped), drawn by a
one-line component rather than ``st.html``, and the files of its larger components (lab_ui/components/).

``st.html`` runs every body through the browser's sanitizer (DOMPurify, which parses it into a DOM of its own
first): on /gates, whose heatmaps carry a hover label for every column, that was much of the browser's work on
a load. The app's bodies need no sanitizing: every text in them is escaped where it is made, and
they hold no script. The component sets its body as it is and, on a rerun, only when it changed.

    show_html(body, key, container=None)   draw ``body`` (keys: unique on the page, stable across reruns)
    component_file(name, suffix)           the source of one of the app's own components (lab_ui/components/)
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import streamlit as st

JS = """export default function mountHtmlView({ data, parentElement }) {
  const root = parentElement.querySelector(".html-view");
  if (root.htmlViewBody !== data) {  // a rerun that did not change the body keeps its DOM
    root.innerHTML = data;
    root.htmlViewBody = data;
  }
}"""

COMPONENT_DIR = Path(__file__).resolve().parent / "components"


def component_file(name: str, suffix: str) -> str:
    """A component's own file, ``lab_ui/components/<name>.<suffix>`` (its "js", "css" or "html")."""
    return (COMPONENT_DIR / f"{name}.{suffix}").read_text(encoding="utf-8")


_html_view = st.components.v2.component("lstm_lab_html", html='<div class="html-view"></div>', js=JS,
                                        isolate_styles=False)


def show_html(body: str, key: str, container=None) -> None:
    """Draw ``body``, HTML made by the app, in ``container`` (the page where None)."""
    with nullcontext() if container is None else container:
        _html_view(key=key, data=body)
