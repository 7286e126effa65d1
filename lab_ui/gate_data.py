"""Server-wide caches of what the gate views show: traces, rankings and figures, per (model, text).

The same model on the same text gives the same trace, whoever asks: every session of the server
shares one bounded cache, so moving a control redraws from memory instead of recomputing. A run
is keyed by its folder and the time its weights last changed, so a run that is still training is
traced anew as it learns. Heatmaps and charts are cached whole, as the HTML they are sent as.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np
import streamlit as st

import lstm_core
from lab_ui import gate_views as views
from lab_ui.render import charts
from lab_ui.render.heatmaps import heatmap_svg as svg_heatmap
from lab_ui.render.tables import table_html
from lab_ui.run_picker import load_run_cached
from lstm_core import analysis, intervention_search
from lstm_core.ablation import UnitAblation, ablate_saved_run
from lstm_core.execution.compute_once import ComputeOnce
from lstm_core.execution.own_process import in_own_process


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


@st.cache_resource(max_entries=16, show_spinner="Measuring which intervention changes the model most...")
def strongest_intervention(key: tuple[str, float], text: str, layer: int, correlated: tuple[int, ...]):
    """The default intervention on /gates: of the units that follow the feature (``correlated``) and as many
    of the layer's most active ones, each gate clamped or the units silenced, the one that moves the
    next-character probabilities most on ``text``."""
    run = load_run_cached(*key)
    active = np.argsort(-np.abs(trace_of(key, text).values["hidden_state"][layer]).mean(axis=0))[:len(correlated)]
    return intervention_search.strongest_intervention(run.model, run.vocab, text, layer,
                                                      [list(correlated), sorted(int(u) for u in active)])


@st.cache_resource(max_entries=48, show_spinner=False)
def ranking(key: tuple[str, float], text: str, feature: str, top: int = 8):
    return analysis.rank_units(trace_of(key, text), feature, top=top)


@st.cache_resource(max_entries=16, show_spinner=False)
def found_links(key: tuple[str, float], corpus: str, run_id: str, present: bool) -> str:
    """The units we found as a Markdown list, each a link that opens it painted ("" when none was found);
    ``present``: the links keep presentation mode."""
    keep = "&present=1" if present else ""
    return "\n".join(f"- [{analysis.FEATURES[row.feature]}: layer {row.layer}, {views.LABELS[row.quantity]}, unit "
                     f"{row.unit} (r = {row.correlation:+.2f})](?run={run_id}&section=unit&layer={row.layer}"
                     f"&paint={row.quantity}&unit={row.unit}&feature={row.feature}&sort=correlation{keep})"
                     for row in units_found(key, corpus).itertuples())


@st.cache_resource(max_entries=48, show_spinner=False)
def finder_html(key: tuple[str, float], shown: str, ranked_on: str, feature: str) -> tuple[str, str]:
    """The unit finder's table (the units of every layer that follow ``feature`` best on ``ranked_on``) and its
    three best painted on ``shown``, side by side, as the HTML they are sent as: a second visitor's view
    redraws nothing."""
    best = ranking(key, ranked_on, feature)
    table = table_html(best.assign(quantity=best["quantity"].map(views.LABELS),
                                   correlation=best["correlation"].map("{:+.3f}".format)))
    tr = trace_of(key, shown)
    panes = [(f"layer {row.layer}, {views.LABELS[row.quantity]}, unit {row.unit} (r = {row.correlation:+.2f})",
              views.painted_text(tr.chars, tr[row.quantity][row.layer, :, row.unit], row.quantity, max_height=260,
                                 legend=False)) for row in best.head(3).itertuples()]
    return table, views.side_by_side(panes)


@st.cache_resource(max_entries=64, show_spinner=False)
def painted_html(key: tuple[str, float], text: str, quantity: str, layer: int, unit: int, max_height: int = 640) -> str:
    """One unit's ``quantity`` painted on ``text`` (lab_ui.gate_views.painted_text), made once per server."""
    return views.painted_text(trace_of(key, text).chars, trace_of(key, text)[quantity][layer, :, unit], quantity,
                              max_height=max_height)


@st.cache_resource(max_entries=64, show_spinner=False)
def unit_order(key: tuple[str, float], text: str, layer: int, quantity: str, sort: str, feature: str,
               first: int, stop: int):
    values = trace_of(key, text)[quantity][layer, first:stop]
    return analysis.unit_order(values, sort, features_of(text)[feature][first:stop])


@st.cache_resource(max_entries=96, show_spinner=False)
def heatmap_svg(key: tuple[str, float], text: str, layer: int, quantity: str, units: tuple[int, ...],
                first: int, stop: int, scale: str = "quantity") -> str:
    """One quantity's heatmap of ``units`` (in that order: one order for every heatmap of the view) as inline
    SVG (lab_ui.render.heatmaps: a browser draws it far faster than Plotly); ``scale``: one colour scale per
    quantity or per unit."""
    tr = trace_of(key, text)
    units = list(units)
    values = tr[quantity][layer, first:stop][:, units].T  # (units shown, time)
    return svg_heatmap(values, tr.chars[first:stop], units, quantity, first_step=first,
                       title=f"{views.LABELS[quantity]} · layer {layer}", scale=scale)


@st.cache_resource(max_entries=24, show_spinner=False)
def surprisal_svg(key: tuple[str, float], text: str, first: int, stop: int) -> str:
    """The surprisal of each next character as an SVG line (lab_ui.render.charts), its five likeliest on hover."""
    shown = next_chars_of(key, text).iloc[first:stop]
    return charts.line_svg(shown["surprisal_bits"], trace_of(key, text).chars[first:stop], "surprisal (bits)",
                               hover_text=("next: " + shown["top_next"]).tolist(), first_step=first)


@st.cache_resource(max_entries=24, show_spinner=False)
def saturation_svg(key: tuple[str, float], text: str, layer: int) -> str:
    frame = analysis.saturation_frame(trace_of(key, text), layer)
    return charts.saturation_svg(frame, f"Gate saturation · layer {layer}")


# -- unit ablation: computed on demand (seconds), kept server-wide -----------------------------------
ABLATION_CHARS = 1000  # characters of the validation text each unit's silence is measured on
ABLATIONS_KEPT = 16  # (run, layer) results the server keeps, the oldest dropped first


@dataclass(frozen=True)
class Ablation:
    """A layer's unit ablation on a validation passage, and what it cost to compute."""

    result: UnitAblation
    text: str
    seconds: float  # the ablation itself
    wall_seconds: float  # with the worker process's start


@st.cache_resource
def ablation_cache() -> ComputeOnce:
    """The server's ablations, keyed by (run key, corpus, layer), computed in the background one at a time
    (each in a process of its own: see :func:`start_ablation`).

    Unlike ``st.cache_resource`` it can be asked whether a result is there (or on its way) without
    computing it: the page offers a button instead of making a visitor wait, and polls while it is made.
    Visitors who ask for the same ablation share it, and a shared server never runs two at once."""
    return ComputeOnce(ABLATIONS_KEPT, thread_name="lstm-lab-ablation")


def ablation_text(corpus: str) -> str:
    """The passage ablations are measured on: the start of the stretch of validation text that "Units we
    found" reads."""
    return analysis.reference_text(corpus)[:ABLATION_CHARS]


def ablation_of(key: tuple[str, float], corpus: str, layer: int) -> Ablation | None:
    """The layer's ablation if some visitor has computed it already, else None (nothing is computed)."""
    return ablation_cache().get((key, corpus, layer))


def ablation_running(key: tuple[str, float], corpus: str, layer: int) -> bool:
    return ablation_cache().running((key, corpus, layer))


def ablation_error(key: tuple[str, float], corpus: str, layer: int) -> str | None:
    return ablation_cache().error((key, corpus, layer))


def start_ablation(key: tuple[str, float], corpus: str, layer: int) -> Future | None:
    """Silence each unit of ``layer`` in turn on the validation passage, in the background (seconds on a
    256-unit model, more on a busy server); :func:`ablation_of` has it when it is done."""
    def make() -> Ablation:
        text = ablation_text(corpus)
        started = time.perf_counter()
        # In a process of its own, one torch thread at a worker's lower priority: thousands of small steps
        # sharing the web server's interpreter lock ran many times slower there (README, "Measuring speed")
        # and held up its pages.
        result, seconds = in_own_process(ablate_saved_run, key[0], text, layer, threads=1)
        return Ablation(result, text, seconds, time.perf_counter() - started)

    return ablation_cache().start((key, corpus, layer), make)
