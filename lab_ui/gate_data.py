"""Server-wide caches of what the gate views show: traces, rankings and figures, per (model, text).

The same model on the same text gives the same trace, whoever asks: every session of the server
shares one bounded cache, so moving a control redraws from memory instead of recomputing. A run
is keyed by its folder and the time its weights last changed, so a run that is still training is
traced anew as it learns. Heatmaps and charts are cached whole, as the HTML they are sent as.
"""

from __future__ import annotations

import streamlit as st

import lstm_core
from lab_ui import gate_views as views
from lab_ui import svg_charts
from lab_ui.common import load_run_cached, run_path, weights_stamp
from lab_ui.heatmap_svg import heatmap_svg as svg_heatmap
from lstm_core import analysis


def run_key(run_id: str) -> tuple[str, float]:
    """(folder, weights stamp): what a cached result of this run depends on."""
    path = run_path(run_id)
    return str(path), weights_stamp(path)


@st.cache_resource(max_entries=24, show_spinner=False)
def trace_of(key: tuple[str, float], text: str) -> lstm_core.Trace:
    """The exact trace of the run ``key`` on ``text`` (shared; never modify it)."""
    run = load_run_cached(*key)
    return lstm_core.trace(run.model, run.vocab, text)


@st.cache_resource(max_entries=24, show_spinner=False)
def features_of(text: str) -> dict:
    return analysis.text_features(text)


@st.cache_resource(max_entries=24, show_spinner=False)
def next_chars_of(key: tuple[str, float], text: str):
    return analysis.next_char_frame(trace_of(key, text))


@st.cache_resource(max_entries=8, show_spinner=False)
def units_found(key: tuple[str, float], corpus: str):
    """The model's interpretable units, judged on a long stretch of the validation text."""
    return analysis.units_found(trace_of(key, analysis.reference_text(corpus)))


@st.cache_resource(max_entries=48, show_spinner=False)
def ranking(key: tuple[str, float], text: str, feature: str, top: int = 8):
    return analysis.rank_units(trace_of(key, text), feature, top=top)


@st.cache_resource(max_entries=64, show_spinner=False)
def unit_order(key: tuple[str, float], text: str, layer: int, quantity: str, sort: str, feature: str,
               first: int, stop: int):
    values = trace_of(key, text)[quantity][layer, first:stop]
    return analysis.unit_order(values, sort, features_of(text)[feature][first:stop])


@st.cache_resource(max_entries=96, show_spinner=False)
def heatmap_svg(key: tuple[str, float], text: str, layer: int, quantity: str, sort: str, feature: str,
                top: int, first: int, stop: int) -> str:
    """One quantity's heatmap as inline SVG (lab_ui.heatmap_svg: a browser draws it far faster than Plotly)."""
    tr = trace_of(key, text)
    units = unit_order(key, text, layer, quantity, sort, feature, first, stop)[:top]
    values = tr[quantity][layer, first:stop][:, units].T  # (units shown, time)
    return svg_heatmap(values, tr.chars[first:stop], units, quantity, first_step=first,
                       title=f"{views.LABELS[quantity]} · layer {layer}")


@st.cache_resource(max_entries=24, show_spinner=False)
def surprisal_svg(key: tuple[str, float], text: str, first: int, stop: int) -> str:
    """The surprisal of each next character as an SVG line (lab_ui.svg_charts), its five likeliest on hover."""
    shown = next_chars_of(key, text).iloc[first:stop]
    return svg_charts.line_svg(shown["surprisal_bits"], trace_of(key, text).chars[first:stop], "surprisal (bits)",
                               hover_text=("next: " + shown["top_next"]).tolist(), first_step=first)


@st.cache_resource(max_entries=24, show_spinner=False)
def saturation_svg(key: tuple[str, float], text: str, layer: int) -> str:
    frame = analysis.saturation_frame(trace_of(key, text), layer)
    return svg_charts.saturation_svg(frame, f"Gate saturation · layer {layer}")
