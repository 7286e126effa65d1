"""HTML that LSTM Lab made itself (charts as SVG images, text escaped), drawn by a one-line component rather
than ``st.html``.

``st.html`` runs every body through the browser's sanitizer (DOMPurify, which parses it into a DOM of its own
first): on /gates, whose heatmaps carry a hover label for every column, that was 90-120 ms of the browser's
work on a load. The app's bodies need no sanitizing: every text in them is escaped where it is made, and
they hold no script. The component sets its body as it is and, on a rerun, only when it changed.

    show_html(body, key, container=None)   draw ``body`` (keys: unique on the page, stable across reruns)
"""

from __future__ import annotations

from contextlib import nullcontext

import streamlit as st

JS = """export default function mountHtmlView({ data, parentElement }) {
  const root = parentElement.querySelector(".html-view");
  if (root.htmlViewBody !== data) {  // a rerun that did not change the body keeps its DOM
    root.innerHTML = data;
    root.htmlViewBody = data;
  }
}"""

_html_view = st.components.v2.component("lstm_lab_html", html='<div class="html-view"></div>', js=JS,
                                        isolate_styles=False)


def show_html(body: str, key: str, container=None) -> None:
    """Draw ``body``, HTML made by the app, in ``container`` (the page where None)."""
    with nullcontext() if container is None else container:
        _html_view(key=key, data=body)
