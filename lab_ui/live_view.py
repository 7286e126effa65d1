"""The live panel's moving part as one Streamlit component: progress, the loss chart beside the latest sample,
the headline figures and the other charts (lab_ui/components/live_panel.{js,css}).

Drawn as a dozen Streamlit elements, a panel that polls twice a second costs the browser a render of every
element at every poll; as one component it costs one render, and the component's script replaces only the
parts whose HTML changed. Every part is HTML made here (charts by
:func:`lab_ui.render.training_figures.figure_svg`, text escaped); the figures go as (label, value, help) and the
script draws them.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import streamlit as st

from lab_ui.html_view import component_file
from lab_ui.render.text_box import text_box_html

FIGURES = "figures"  # the part the component fills with the figures
POLL_SECONDS = 0.5  # the live chart moves twice a second (docs: PRODUCT.md's bar), fed or polled
FEED_TRIES = 3  # failed fetches in a row before the panel gives up its feed for the fragment's polling


def component_source(suffix: str) -> str:
    """The component's own file: ``"js"`` or ``"css"``."""
    return component_file("live_panel", suffix)


_live_panel = st.components.v2.component("lstm_lab_live_panel", html='<div class="live-panel"></div>',
                                         css=component_source("css"), js=component_source("js"), isolate_styles=False)


def progress_html(share: float, text: str, lead: str = "") -> str:
    """A progress bar at ``share`` (0 to 1) under its text, ``lead`` in bold before it (as st.progress draws it)."""
    share = min(max(share, 0.0), 1.0)
    bold = f"<b>{html.escape(lead)}</b> · " if lead else ""
    return (f'<div class="lp-progress-text">{bold}{html.escape(text)}</div>'
            f'<div class="lp-bar" role="progressbar" aria-valuenow="{share * 100:.0f}" aria-valuemin="0" '
            f'aria-valuemax="100"><div style="width:{share:.2%}"></div></div>')


def caption_html(text: str) -> str:
    return f'<div class="lp-caption">{html.escape(text)}</div>'


def sample_html(step: int, text: str) -> str:
    """The model's latest sample under its title."""
    return (f'<p class="lp-sample-title"><b>Sample from the model at step {step:,}</b> (changes as it learns)</p>'
            + text_box_html(text))


def panel_data(parts: list[tuple[str, str | None]], figures: list[tuple[str, str, str | None]]) -> dict:
    """The panel as the script draws it (JSON-ready), whether the page sends it or the feed answers it."""
    return {"parts": [list(part) for part in parts], "figures": [list(figure) for figure in figures]}


def show_live_panel(key: str, parts: list[tuple[str, str | None]], figures: list[tuple[str, str, str | None]],
                    feed: str | None = None, state: str = "", on_lost: Callable[[], None] | None = None):
    """The panel: ``parts`` (name, HTML) in order, the part named FIGURES (its HTML None) drawn from ``figures``
    (label, value, help or None). With a ``feed`` (lab_ui.live_feed's path for it), the script fetches the
    panel from there every POLL_SECONDS and asks for a rerun when the answer's state is no longer ``state``; when
    the feed fails FEED_TRIES times in a row it calls ``on_lost`` in a rerun. Returns the component's result
    (``.lost`` is true in that rerun)."""
    return _live_panel(key=key, data={**panel_data(parts, figures), "feed": feed, "state": state,
                                      "every_ms": round(POLL_SECONDS * 1000), "tries": FEED_TRIES},
                       on_changed_change=_rerun_only, on_lost_change=on_lost or _rerun_only)


def _rerun_only() -> None:
    """A trigger's callback: the rerun it causes is all it asks for."""
