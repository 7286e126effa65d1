"""/generate's sampling controls (temperature, top-k, top-p) with the sample under them, streamed by the server as
it is drawn.

    LABELS, DEFAULTS                                   each control's label and value when the link has none
    linked_settings(vocab_size)                        the values the page's link holds
    streamlit_controls(linked, vocab_size)             the controls as Streamlit widgets, where there is no feed
    session_feed(stream)                               publish the session's feed; its URL, or None where no
                                                       route serves feeds (a page run by AppTest): the page then
                                                       draws Streamlit widgets and its own text box
    chosen_settings(linked, vocab_size)                the values the student chose (``linked`` until then)
    sampling_control(feed, values, vocab_size, prime, store, key)
                                                       the controls at ``values``, and the sample ``key`` of the
                                                       store (lab_ui.shared_samples) under them

The component (lab_ui/components/sample_control.{js,css}) gets the sample's text where the store has it already;
otherwise it asks the feed (lab_ui.sample_feed), which gives it once drawn. When the student changes a control, it
asks the feed itself, before the page reruns.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from lab_ui import sample_feed
from lab_ui.html_view import component_file
from lab_ui.query import query_number
from lab_ui.render.text_box import TEXT_BOX_STYLE
from lab_ui.shared_samples import SLIDERS
from lstm_core.execution.compute_once import ComputeOnce

LABELS = {"temperature": "Temperature (0 = greedy)", "top_k": "Top-k (0 = off)", "top_p": "Top-p (1 = off)"}
DEFAULTS = {"temperature": 0.8, "top_k": 0, "top_p": 1.0}  # off: top-k 0, top-p 1
WIDGET_KEYS = {"temperature": "temperature", "top_k": "generate_top_k", "top_p": "generate_top_p"}  # without a feed
KEY = "generate_sampling"
_TOKEN = "generate_feed_token"

_control = st.components.v2.component("lstm_lab_sample_control", html='<div class="sample-control"></div>',
                                      css=component_file("sample_control", "css"),
                                      js=component_file("sample_control", "js"), isolate_styles=False)


def _ignore() -> None:
    """The component's values need no callback: the page reads them as it reruns."""


def session_feed(stream) -> str | None:
    """Publish this session's feed (``stream(settings)``: the text's pieces), and return its URL; None where no route
    serves feeds."""
    token = st.session_state.setdefault(_TOKEN, sample_feed.new_token())
    url = sample_feed.feed_url(token)
    if url is not None:
        sample_feed.publish(token, stream)
    return url


def _ranges(vocab_size: int):
    """Each control's name, step, lowest and highest value (SLIDERS, top-k's highest the vocabulary's size)."""
    return [(name, step, low, vocab_size if high is None else high) for name, (step, low, high) in SLIDERS.items()]


def linked_settings(vocab_size: int) -> dict:
    """The controls' values the page's link holds (DEFAULTS where it holds none), each brought into its range with a
    warning where the link's is outside it."""
    return {name: query_number(name, DEFAULTS[name], low, high, type(step), warn=True)
            for name, step, low, high in _ranges(vocab_size)}


def streamlit_controls(linked: dict, vocab_size: int) -> dict:
    """The three controls as Streamlit's widgets, for a page without the feed; their values."""
    columns = st.columns([2, 1, 2])
    return {name: (column.number_input if name == "top_k" else column.slider)(
                LABELS[name], low, high, linked[name], step, key=WIDGET_KEYS[name])
            for column, (name, step, low, high) in zip(columns, _ranges(vocab_size))}


def chosen_settings(linked: dict, vocab_size: int) -> dict:
    """The values last chosen in this session's component (read before it is drawn again), each of ``linked`` (the
    link's) until its control is moved; on the controls' grids (lab_ui.sample_feed.on_grid)."""
    state = st.session_state.get(KEY)
    chosen = {name: state.get(name) if hasattr(state, "get") else None for name in SLIDERS}
    return sample_feed.on_grid({name: linked[name] if value is None else value for name, value in chosen.items()},
                               vocab_size)


def sampling_control(feed: str, values: dict, vocab_size: int, prime: str, store: ComputeOnce, sample_key) -> None:
    """The component, fed by ``feed`` (session_feed's URL), its controls at ``values``, showing the sample
    ``sample_key`` of ``store`` (its text, where the store has it already; otherwise the component asks the feed)."""
    controls = [{"name": name, "label": LABELS[name], "kind": "number" if name == "top_k" else "range",
                 "low": low, "high": high, "step": step} for name, step, low, high in _ranges(vocab_size)]
    kept = store.get(sample_key)
    _control(key=KEY, on_temperature_change=_ignore, on_top_k_change=_ignore, on_top_p_change=_ignore,
             data={"controls": controls, "values": values, "feed": feed, "prime": prime,
                   "sample": hashlib.sha1(repr(sample_key).encode()).hexdigest(),
                   "text": None if kept is None else "".join(drawn.char for drawn in kept), "boxStyle": TEXT_BOX_STYLE})
