"""The sections of the Gates & states page, each a fragment that reruns alone when its own controls move.

A section reads one :class:`GateView` (the run, the text, the layer and the trace) and draws from
the server-wide caches of :mod:`lab_ui.gate_data`, so moving a unit or a step redraws one section
from memory: it neither re-traces the text nor rebuilds the other sections' figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import streamlit as st

import lstm_core
from lab_ui import gate_data as data
from lab_ui import gate_views as views
from lab_ui.cell_views import show_cell_update
from lab_ui.common import query_index, query_number, query_value, set_query
from lstm_core import analysis
from lstm_core.gates import QUANTITIES, SIGMOID_GATES
from lstm_core.sampling import sample_with_interventions

FEATURE_NAMES = list(analysis.FEATURES)


@dataclass
class GateView:
    """What every section shows: a run's trace of one text, at one layer."""

    run_id: str
    run: lstm_core.Run
    key: tuple  # the run's cache key (folder, weights stamp)
    text: str
    layer: int
    corpus: str

    @property
    def trace(self) -> lstm_core.Trace:
        return data.trace_of(self.key, self.text)

    @property
    def hidden(self) -> int:
        return self.run.model.config.hidden_size

    def feature(self) -> str:
        """The feature units are judged by: the link's, or the most telling one present in the text."""
        present = analysis.features_present(data.features_of(self.text))
        wanted = query_value("feature", analysis.default_feature(data.features_of(self.text)))
        return wanted if wanted in FEATURE_NAMES else present[0] if present else "position_in_line"

    def best_unit(self) -> int:
        """The unit that follows the view's feature most closely in this layer (the default unit)."""
        order = data.unit_order(self.key, self.text, self.layer, "cell_state", "correlation", self.feature(), 0,
                                len(self.text))
        return int(order[0])


@st.fragment
def units_we_found(view: GateView) -> None:
    """The model's interpretable units, each a link that opens it painted, and the unit finder."""
    found = data.units_found(view.key, view.corpus)
    if len(found):
        st.markdown("**Units we found** in this model (on a 3,000-character stretch of the validation text), "
                    "one per feature whose best unit follows it with |r| ≥ 0.5:")
        links = [f"[{analysis.FEATURES[row.feature]}: layer {row.layer}, {views.LABELS[row.quantity]}, unit {row.unit} "
                 f"(r = {row.correlation:+.2f})](?run={view.run_id}&layer={row.layer}&paint={row.quantity}"
                 f"&unit={row.unit}&feature={row.feature}&sort=correlation)" for row in found.itertuples()]
        st.markdown("\n".join(f"- {link}" for link in links))
    else:
        st.caption("No unit of this model follows any feature of the validation text with |r| ≥ 0.5 yet.")
    feature = st.selectbox("Units that follow", FEATURE_NAMES, format_func=analysis.FEATURES.get,
                           index=FEATURE_NAMES.index(view.feature()), key="gates_finder_feature",
                           help="Pearson correlation between each unit's value and this feature of the text, "
                                "over every character shown; the strongest first, whatever its sign.")
    if feature not in analysis.features_present(data.features_of(view.text)):
        st.warning(f"This passage has no character {analysis.FEATURES[feature]}: no unit can follow it here. "
                   "Pick another feature, or another passage.")
        return
    best = data.ranking(view.key, view.text, feature)
    st.table(best.assign(quantity=best["quantity"].map(views.LABELS),
                         correlation=best["correlation"].map("{:+.3f}".format)))
    tr = view.trace
    for column, row in zip(st.columns(3), best.head(3).itertuples()):
        column.caption(f"layer {row.layer}, {views.LABELS[row.quantity]}, unit {row.unit} (r = {row.correlation:+.2f})")
        column.html(views.painted_text(tr.chars, tr[row.quantity][row.layer, :, row.unit], row.quantity,
                                       max_height=260, legend=False))


@st.fragment
def heatmaps(view: GateView) -> None:
    """Heatmaps of the chosen quantities: time on x labelled by the characters, units on y."""
    c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
    wanted = [q for q in str(query_value("show", ",".join(QUANTITIES))).split(",") if q in QUANTITIES]
    quantities = c1.multiselect("Quantities", QUANTITIES, default=wanted, format_func=views.LABELS.get,
                                key="gates_quantities")
    sort = c2.selectbox("Sort units by", analysis.SORT_ORDERS, key="gates_sort",
                        index=query_index("sort", analysis.SORT_ORDERS, "correlation"),
                        help="correlation: with the feature at the right (strongest first); variance: the units "
                             "that change most over the text; mean: the most active; index: unit 0, 1, 2...")
    feature = c3.selectbox("Feature (for correlation)", FEATURE_NAMES, format_func=lambda f: f.replace("_", " "),
                           index=FEATURE_NAMES.index(view.feature()), key="gates_feature",
                           help="What the text does at each character, e.g. 'speaker name' is 1 inside a speaker's "
                                "name in capitals and 0 elsewhere; units are sorted by how closely they follow it.")
    top_k = c4.slider("Top-k units", 1, view.hidden, query_number("top", min(8, view.hidden), 1, view.hidden),
                      key="gates_top", help="How many units each heatmap shows, in the sorted order.")
    last = len(view.text)
    first, stop = st.slider("Steps shown (each character is labelled up to 100 steps)", 0, last,
                            (query_number("from", 0, 0, last - 1), query_number("to", min(100, last), 1, last)),
                            key="gates_steps")
    stop = max(stop, first + 1)
    set_query(show=",".join(quantities), sort=sort, feature=feature, top=top_k, **{"from": first, "to": stop})
    st.caption("How to read: each row is one unit, each column one character of the text (left to right). "
               "Gates run from purple (shut, 0) through white (half open) to orange (open, 1); states and the "
               "candidate from blue (negative) through white (0) to red (positive). Hover a cell for its value.")
    for quantity in quantities:  # SVG, not Plotly: six Plotly heatmaps took the browser seconds to settle
        st.html(data.heatmap_svg(view.key, view.text, view.layer, quantity, sort, feature, top_k, first, stop))


@st.fragment
def one_unit(view: GateView) -> None:
    """One unit painted on the text, the next characters at one step, and its cell update taken apart."""
    tr = view.trace
    c1, c2 = st.columns(2)
    paint = c1.selectbox("Quantity to paint", QUANTITIES, format_func=views.LABELS.get, key="gates_paint",
                         index=query_index("paint", QUANTITIES, "cell_state"))
    unit = c2.number_input("Unit", 0, view.hidden - 1, query_number("unit", view.best_unit(), 0, view.hidden - 1),
                           key="gates_unit")
    set_query(paint=paint, unit=unit)
    st.html(views.painted_text(tr.chars, tr[paint][view.layer, :, unit], paint))
    st.subheader("Surprisal and the next characters")
    st.caption("How to read: how surprised the model was by each next character, in bits (0: it was certain; "
               "each extra bit halves the probability it gave). Hover a character for its five likeliest next characters.")
    st.html(data.surprisal_svg(view.key, view.text, 0, min(len(view.text), 100)))
    step = st.slider("Step", 0, len(tr.chars) - 1, query_number("step", 0, 0, len(tr.chars) - 1), key="gates_step")
    set_query(step=step)
    nexts = data.next_chars_of(view.key, view.text)
    left, right = st.columns([2, 3])
    actual = nexts.loc[step, "next_actual"]
    goes_on = f" (the text goes on with **{views.show_token(actual)}**, {nexts.loc[step, 'surprisal_bits']:.2f} bits)"
    left.markdown(f"After **{views.show_token(tr.chars[step])}** (step {step}), the model expects"
                  f"{goes_on if actual else ''}:")
    left.table(pd.DataFrame([{"next character": views.show_token(ch), "probability": f"{p:.3f}"}
                             for ch, p in tr.top_next(step, 5)]).set_index("next character"))
    with right:
        show_cell_update(tr.cell_update(view.layer, step, unit),
                         f"The cell update of unit {unit}, layer {view.layer}, at step {step}")


@st.fragment
def saturation(view: GateView) -> None:
    st.caption("How to read: one point per unit and gate. A point near the x axis' right end is a gate almost "
               "always shut (below 0.1); near the top, almost always open (above 0.9); near the origin, a gate "
               "that moves in between. Karpathy et al. (2015) found forget gates of trained models right-saturated: "
               "units that remember across long stretches.")
    st.html(data.saturation_svg(view.key, view.text, view.layer))


INTERVENTIONS = {"clamp a gate": None, "silence units (h = 0)": "hidden_state",
                 "set the cell state at one step": "cell_state"}


@st.fragment
def interventions(view: GateView) -> None:
    """Clamp a gate, silence units or edit a state, and see the next characters and the continuation change."""
    run, text, layer = view.run, view.text, view.layer
    with st.form("intervention"):
        c1, c2, c3, c4 = st.columns(4)
        kind = c1.selectbox("Intervention", list(INTERVENTIONS))
        gate = c2.selectbox("Gate (to clamp)", SIGMOID_GATES, format_func=views.LABELS.get)
        suggested = data.unit_order(view.key, text, layer, "cell_state", "correlation", view.feature(), 0, len(text))[:4]
        units_text = c3.text_input(f"Units (layer {layer})", ", ".join(str(u) for u in suggested))
        value = c4.number_input("Value", -10.0, 10.0, 0.0, 0.1)
        c1, c2, c3, c4 = st.columns(4)
        at_step = c1.number_input("Step (for the cell state)", 0, len(text) - 1, len(text) - 1)
        length = c2.slider("Continuation length", 10, 200, 80, 10)
        temperature = c3.slider("Temperature", 0.0, 2.0, 0.5, 0.05)
        seed = c4.number_input("Seed", 0, 10_000, 0)
        if st.form_submit_button("Apply", type="primary"):
            st.session_state["gates_intervention_applied"] = True  # kept while other settings change
    if not st.session_state.get("gates_intervention_applied"):
        return
    try:
        quantity = INTERVENTIONS[kind] or gate
        window = (at_step, at_step + 1) if quantity == "cell_state" else (0, None)
        edit = lstm_core.Intervention(quantity, layer, analysis.parse_units(units_text, view.hidden), value, *window)
    except ValueError as err:
        st.error(f"This intervention cannot be applied: {err}")
        return
    edited = lstm_core.trace(run.model, run.vocab, text, interventions=[edit])
    bars = analysis.distribution_frame(view.trace.probs[-1], edited.probs[-1], run.vocab.chars,
                                       names=("before", "after"))
    st.plotly_chart(views.probability_bars(bars, ["before", "after"], title="Next character after the text, "
                                           "before and after the intervention"), key="intervened")
    for column, label, edits in zip(st.columns(2), ("Before", "After"), ([], [edit])):  # same seed, side by side
        column.markdown(f"**{label}**")
        column.code(sample_with_interventions(run.model, run.vocab, text, length, edits, temperature, seed=seed),
                    language=None, wrap_lines=True)
