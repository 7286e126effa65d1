"""The sections of the Gates & states page, each a fragment that reruns alone when its own controls move.

A section reads one :class:`GateView` (the run, the text, the layer and the trace) and draws from
the server-wide caches of :mod:`lab_ui.gate_data`, so moving a unit or a step redraws one section
from memory: it neither re-traces the text nor rebuilds the other sections' figures. The page draws one
section at a time, chosen by :func:`pick_section` (and the link, ``?section=heatmaps``); a section that reads
one layer shares a fragment with the layer's control (:func:`by_layer`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import pandas as pd
import streamlit as st

import lstm_core
from lab_ui import gate_data as data
from lab_ui import gate_views as views
from lab_ui import presentation
from lab_ui.cell_views import show_cell_update
from lab_ui.export_views import notebook_button
from lab_ui.run_picker import run_path
from lab_ui.gate_inspector import inspector
from lab_ui.heatmap_scale import scale_control
from lab_ui.render.downloads import plotly_config
from lab_ui.query import query_index, query_number, query_value, set_query
from lab_ui.render.tables import table_html
from lab_ui.render.text_box import show_text
from lab_ui.html_view import show_html
from lab_ui.navigation import view_url
from lstm_core import analysis
from lstm_core.architectures import Architecture
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

    @property
    def architecture(self) -> str:
        """"lstm" (ablated LSTMs too), "gru" or "rnn"."""
        return self.run.model.config.architecture

    @property
    def arch(self) -> Architecture:
        """The model's entry in lstm_core.architectures, which the sections ask."""
        return self.run.model.arch

    @property
    def name(self) -> str:
        return self.arch.display_name

    @property
    def quantities(self) -> tuple[str, ...]:
        """What this model's trace holds (lstm_core.gates): gates first in PyTorch's order, then states."""
        return self.arch.quantities

    @property
    def memory(self) -> str:
        """The state that carries memory: an LSTM's cell state, the hidden state of the others."""
        return self.arch.memory_state

    def feature(self) -> str:
        """The feature units are judged by: the link's, or the most telling one present in the text."""
        present = analysis.features_present(data.features_of(self.text))
        wanted = query_value("feature", analysis.default_feature(data.features_of(self.text)))
        return wanted if wanted in FEATURE_NAMES else present[0] if present else "position_in_line"

    def best_unit(self) -> int:
        """The unit that follows the view's feature most closely in this layer (the default unit)."""
        order = data.unit_order(self.key, self.text, self.layer, self.memory, "correlation", self.feature(), 0,
                                len(self.text))
        return int(order[0])


LSTM_INTRO = (
    "A trained LSTM reads the text one character at a time. At every step each unit's **forget gate** decides "
    "how much of its memory (the **cell state** c) to keep, the **input gate** how much of a new **candidate** g "
    "to write, and the **output gate** how much of the memory to show as the **hidden state** h, which the next "
    "layer and the next step read. Below: those numbers, replayed exactly from the model's weights. Start with "
    "the units we found: some follow speaker names, some count the position in the verse line.")


def intro(arch: Architecture) -> str:
    """What the page shows for this architecture, its quantities named and explained by the gate table."""
    if arch.has_cell_state:
        return LSTM_INTRO
    kinds = f"{len(arch.gates)} gate blocks and one state" if arch.gates else "no gates, one state"
    lines = "\n".join(f"- **{q.label}**: {q.meaning}" for q in arch.table)
    return (f"This model is a **{arch.display_name}**: it reads the text one character at a time, "
            f"with {kinds} per unit, replayed exactly from its weights:\n\n{lines}\n\n"
            "The sections that read an LSTM's cell say so; compare the architectures side by side on "
            f"[/compare]({view_url('compare')}).")


SECTIONS = {"units": "Units we found", "inspect": "Inspect (in the browser)",
            "heatmaps": "Heatmaps", "unit": "One unit and its cell update",
            "saturation": "Gate saturation", "interventions": "Interventions", "movie": "Training movie",
            "ablation": "Units it cannot do without"}
OLD_LINKS = ("movie", "interventions", "saturation")  # the long page's links opened a folded section: ?movie=true


def linked_section() -> str:
    """The section the link opens (``?section=heatmaps``, or an older link's ``?movie=true``), "units" by default."""
    wanted = query_value("section")
    if wanted in SECTIONS:
        return wanted
    return next((name for name in OLD_LINKS if query_value(name) == "true"), "units")


def pick_section() -> str:
    """The section picker: one section is drawn at a time (the page was 5,500 px long), and the link keeps it."""
    section = st.radio("Section", list(SECTIONS), format_func=SECTIONS.get, horizontal=True, key="gates_section",
                       index=list(SECTIONS).index(linked_section()), label_visibility="collapsed")
    set_query(section=section, **dict.fromkeys(OLD_LINKS))  # an older link's flag goes: the section says it
    return section


@st.fragment
def by_layer(view: GateView, section: str = "heatmaps") -> None:
    """The layer's control and a section that shows one layer, as one fragment: moving the layer redraws this
    section alone, not the text's controls."""
    layers = view.run.model.config.num_layers
    left, right = st.columns([1, 5], vertical_alignment="bottom")
    layer = left.selectbox("Layer", range(layers), index=view.layer, key="gates_layer")
    set_query(layer=layer)
    right.caption(f"This section reads layer {layer} of {layers}" + (
        " (0 reads the characters, each next layer the one before it); the units found come from every layer."
        if layers > 1 else "."))
    LAYER_SECTIONS[section](replace(view, layer=layer))
    notebook_button("gates", run_path(view.run_id))  # in the fragment: the layer chosen is in the notebook at once


@st.fragment
def units_we_found(view: GateView) -> None:
    """The model's interpretable units, each a link that opens it painted, and the unit finder."""
    links = data.found_links(view.key, view.corpus, view.run_id, presentation.is_on())
    if links:
        st.markdown("**Units we found** in this model (on a 3,000-character stretch of the validation text), "
                    "one per feature whose best unit follows it with |r| ≥ 0.5:")
        st.markdown(links)
    else:
        st.caption("No unit of this model follows any feature of the validation text with |r| ≥ 0.5 yet.")
    feature = st.selectbox("Units that follow", FEATURE_NAMES, format_func=analysis.FEATURES.get,
                           index=FEATURE_NAMES.index(view.feature()), key="gates_finder_feature",
                           help="Pearson correlation between each unit's value and this feature of the text, "
                                "over the characters ranked on; the strongest first, whatever its sign.")
    ranked_on, text = ranking_span(view)
    if feature not in analysis.features_present(data.features_of(text)):
        st.warning(f"This passage has no character {analysis.FEATURES[feature]}: no unit can follow it here. "
                   "Pick another feature, or another passage.")
        return
    table, painted = data.finder_html(view.key, view.text, text, feature)  # made once per server
    st.caption(f"Ranked over {ranked_on}.")
    show_html(table, key="gates_finder_table")
    show_html(painted, key="gates_found")  # one element, not three columns of two


SPANS = {"shown": "the text shown", "stretch": "the 3,000 characters the units above were found on"}


def ranking_span(view: GateView) -> tuple[str, str]:
    """The text the unit finder ranks on, chosen (and kept in the link as ``rank_on``): the text shown, or the
    stretch of the validation text the units we found were judged on. Returns (its description, the text)."""
    names = list(SPANS)
    span = st.radio("Rank on", names, format_func=SPANS.get, horizontal=True, key="gates_finder_span",
                    index=query_index("rank_on", names, "shown"))
    set_query(rank_on=None if span == "shown" else span)
    if span == "stretch":
        text = analysis.reference_text(view.corpus)
        return f"{len(text):,} characters of the validation text, the stretch the units above were found on", text
    return f"the {len(view.text):,} characters shown", view.text


@st.fragment
def heatmaps(view: GateView) -> None:
    """Heatmaps of the chosen quantities: time on x labelled by the characters, units on y."""
    offered = view.quantities
    # on a projector, three heatmaps fill a screen: the first two gates and the memory, unless the link says more
    shown = [*offered[:2], view.memory] if presentation.is_on() and view.memory not in offered[:2] else offered
    wanted = [q for q in str(query_value("show", ",".join(shown))).split(",") if q in offered]
    if query_value("show") and not wanted:  # a link made for another architecture: show everything this one has
        wanted = list(offered)
    # a row of its own: in a quarter of the width the chips ("forget gate f"...) were cut off
    # on a projector the heatmaps come first: their controls fold away (the link still sets them)
    controls = st.expander("Heatmap settings: quantities, sort, units, steps, scale") if presentation.is_on() \
        else st.container()
    quantities = controls.multiselect("Quantities", offered, default=wanted, format_func=views.LABELS.get,
                                      key=f"gates_quantities:{view.architecture}")
    c2, c3, c4 = controls.columns(3)
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
    steps, scales = controls.columns([4, 2])
    first, stop = steps.slider("Steps shown (each character is labelled up to 100 steps)", 0, last,
                               (query_number("from", 0, 0, last - 1), query_number("to", min(100, last), 1, last)),
                               key="gates_steps")
    stop = max(stop, first + 1)
    scale = scale_control(scales, "gates_scale")
    # one order for every heatmap, the memory's (so that a row can be followed from i to f to c)
    units = tuple(int(u) for u in data.unit_order(view.key, view.text, view.layer, view.memory, sort, feature,
                                                  first, stop)[:top_k])
    set_query(show=",".join(quantities), sort=sort, feature=feature, top=top_k, scale=scale,
              **{"from": first, "to": stop})
    gate_colours = ("Gates run from purple (shut, 0) through white (half open) to orange (open, 1); states and the "
                    "candidate from blue (negative) through white (0) to red (positive).")
    st.caption("How to read: each row is one unit, each column one character of the text (left to right). "
               + (gate_colours if view.arch.gates else
                  "A plain RNN has no gates: its hidden state runs from blue (negative) through white (0) to red "
                  "(positive).") + f" The units are sorted once, by the {views.LABELS[view.memory]}: each row is "
               "the same unit in every heatmap." + (" Each row has a colour scale of its own (its range beside "
                                                     "the unit's number)." if scale == "unit" else "")
               + " Hover a cell for its value.")
    for quantity in quantities:  # SVG, not Plotly: six Plotly heatmaps took the browser seconds to settle
        show_html(data.heatmap_svg(view.key, view.text, view.layer, quantity, units, first, stop, scale),
                  key=f"gates_heatmap_{quantity}")


@st.fragment
def one_unit(view: GateView) -> None:
    """One unit painted on the text, the next characters at one step, and its cell update taken apart."""
    tr = view.trace
    c1, c2 = st.columns(2)
    paint = c1.selectbox("Quantity to paint", view.quantities, format_func=views.LABELS.get,
                         key=f"gates_paint:{view.architecture}", index=query_index("paint", view.quantities, view.memory))
    unit = c2.number_input("Unit", 0, view.hidden - 1, query_number("unit", view.best_unit(), 0, view.hidden - 1),
                           key="gates_unit")
    set_query(paint=paint, unit=unit)
    show_html(data.painted_html(view.key, view.text, paint, view.layer, unit), key="gates_painted")
    st.subheader("Surprisal and the next characters")
    st.caption("How to read: how surprised the model was by each next character, in bits (0: it was certain; "
               "each extra bit halves the probability it gave). Hover a character for its five likeliest next characters.")
    show_html(data.surprisal_svg(view.key, view.text, 0, min(len(view.text), 100)), key="gates_surprisal")
    step = st.slider("Step", 0, len(tr.chars) - 1, query_number("step", 0, 0, len(tr.chars) - 1), key="gates_step")
    set_query(step=step)
    nexts = data.next_chars_of(view.key, view.text)
    left, right = st.columns([2, 3])
    actual = nexts.loc[step, "next_actual"]
    goes_on = f" (the text goes on with **{views.show_token(actual)}**, {nexts.loc[step, 'surprisal_bits']:.2f} bits)"
    left.markdown(f"After **{views.show_token(tr.chars[step])}** (step {step}), the model expects"
                  f"{goes_on if actual else ''}:")
    show_html(table_html(pd.DataFrame([{"next character": views.show_token(ch), "probability": f"{p:.3f}"}
                                       for ch, p in tr.top_next(step, 5)])), key="gates_next_table", container=left)
    with right:
        update_at(view, step, unit)


def update_at(view: GateView, step: int, unit: int) -> None:
    """One unit's update at one step, taken apart in its architecture's own terms."""
    parts = view.trace.cell_update(view.layer, step, unit)
    where = f"unit {unit}, layer {view.layer}, at step {step}"
    if view.arch.has_cell_state:
        show_cell_update(parts, f"The cell update of {where}")
    elif view.arch.gates:  # gates and no cell: a GRU
        st.markdown(f"**The update of {where}.** A GRU has no cell: it blends its old hidden state with a candidate.")
        st.markdown(f"- reset gate r = {parts['r']:.3f}: the candidate reads that much of the old state\n"
                    f"- candidate n = tanh(W·x + r ⊙ (U·h(t−1))) = {parts['n']:+.3f}\n"
                    f"- update gate z = {parts['z']:.3f}: keep z of the old state, take 1 − z of the candidate\n"
                    f"- h(t) = z·h(t−1) + (1 − z)·n = {parts['z']:.3f} × {parts['h_prev']:+.3f} + "
                    f"{1 - parts['z']:.3f} × {parts['n']:+.3f} = {parts['kept']:+.3f} kept + "
                    f"{parts['written']:+.3f} written = **{parts['h']:+.3f}**")
    else:
        st.caption(f"No cell update to take apart: a plain RNN has no gates and rewrites its state whole, "
                   f"h(t) = tanh(W·x + U·h(t−1) + b); here h(t−1) = {parts['h_prev']:+.3f} became "
                   f"h(t) = {parts['h']:+.3f}.")


@st.fragment
def saturation(view: GateView) -> None:
    if not view.arch.sigmoid_gates:
        st.caption("Does not apply: a plain RNN has no gates to saturate; its state is rewritten whole at every step.")
        return
    remembering = ("Karpathy et al. (2015) found forget gates of trained models right-saturated: units that remember "
                   "across long stretches." if view.arch.has_cell_state else
                   "An update gate z near the top keeps its old state most of the time: the GRU's way to remember.")
    st.caption("How to read: one point per unit and gate. A point near the x axis' right end is a gate almost "
               "always shut (below 0.1); near the top, almost always open (above 0.9); near the origin, a gate "
               "that moves in between. " + remembering)
    show_html(data.saturation_svg(view.key, view.text, view.layer), key="gates_saturation")


INTERVENTIONS = {"clamp a gate": None, "silence units (h = 0)": "hidden_state",
                 "set the cell state at one step": "cell_state", "set the hidden state at one step": "hidden_state"}


def interventions_of(arch: Architecture) -> list[str]:
    """The interventions a model of this architecture can take: a gate to clamp only where there is one,
    the cell state an LSTM's, the hidden state the others' memory."""
    offered = ["clamp a gate"] if arch.sigmoid_gates else []
    offered.append("silence units (h = 0)")
    offered.append("set the cell state at one step" if arch.has_cell_state else "set the hidden state at one step")
    return offered


@st.fragment
def interventions(view: GateView) -> None:
    """Clamp a gate, silence units or edit a state, and see the next characters and the continuation change.
    The first settings shown are the intervention measured to change the model's predictions most."""
    run, text, layer = view.run, view.text, view.layer
    offered = interventions_of(view.arch)
    correlated = data.unit_order(view.key, text, layer, view.memory, "correlation", view.feature(), 0, len(text))[:4]
    found = data.strongest_intervention(view.key, text, layer, tuple(int(u) for u in correlated))
    default_kind = "silence units (h = 0)" if found.intervention.quantity == "hidden_state" else "clamp a gate"
    st.caption(f"Set up with the intervention, of {found.tried} tried on this text (each gate clamped to 0 and to 1, "
               f"or the units silenced, on the {len(correlated)} units that follow the feature best or the "
               f"{len(correlated)} most active ones), that changes the next-character probabilities most: "
               f"{found.change:.1%} of the probability moves, on average over the text's characters.")
    kind = st.selectbox("Intervention", offered, index=offered.index(default_kind), key="gates_intervention_kind")
    with st.form("intervention"):
        c1, c2, c3 = st.columns(3)
        clampable = view.arch.sigmoid_gates
        gate = None
        if kind == "clamp a gate":
            best_gate = found.intervention.quantity if found.intervention.quantity in clampable else clampable[0]
            gate = c1.selectbox("Gate (to clamp)", clampable, index=clampable.index(best_gate),
                                format_func=views.LABELS.get)
        elif not clampable:
            c1.caption("A plain RNN has no gate to clamp.")
        units_text = c2.text_input(f"Units (layer {layer})", ", ".join(str(u) for u in found.intervention.units))
        value = c3.number_input("Value", -10.0, 10.0, float(found.intervention.value), 0.1)
        c1, c2, c3, c4 = st.columns(4)
        at_step = len(text) - 1
        if kind.startswith("set the"):  # only a state set at one step has a step
            at_step = c1.number_input(f"Step (for the {views.LABELS[view.memory].rsplit(' ', 1)[0]})", 0,
                                      len(text) - 1, len(text) - 1)
        length = c2.slider("Continuation length", 10, 200, 80, 10)
        temperature = c3.slider("Temperature", 0.0, 2.0, 0.5, 0.05)
        seed = c4.number_input("Seed", 0, 10_000, 0)
        if st.form_submit_button("Apply", type="primary"):
            st.session_state["gates_intervention_applied"] = True  # kept while other settings change
    if not st.session_state.get("gates_intervention_applied"):
        return
    try:
        quantity = INTERVENTIONS[kind] or gate
        window = (at_step, at_step + 1) if kind.startswith("set the") else (0, None)
        edit = lstm_core.Intervention(quantity, layer, analysis.parse_units(units_text, view.hidden), value, *window)
    except ValueError as err:
        st.error(f"This intervention cannot be applied: {err}")
        return
    edited = lstm_core.trace(run.model, run.vocab, text, interventions=[edit])
    bars = analysis.distribution_frame(view.trace.probs[-1], edited.probs[-1], run.vocab.chars,
                                       names=("before", "after"))
    st.html(views.probability_bars(bars, ["before", "after"], title="Next character after the text, before and "
                                   "after the intervention"))
    for column, label, edits in zip(st.columns(2), ("Before", "After"), ([], [edit])):  # same seed, side by side
        column.markdown(f"**{label}**")
        show_text(sample_with_interventions(run.model, run.vocab, text, length, edits, temperature, seed=seed), column)


ABLATION_BARS = 20  # units in the ranked chart
ABLATION_BUTTONS = 8  # of them, the costliest, each a button that paints it


ABLATION_POLL_SECONDS = 1.0


def ablation(view: GateView) -> None:
    """Units the model cannot do without: each unit of the layer silenced in turn on validation text, ranked
    by how much the loss rises. Computed on demand in the background (seconds), then kept for every visitor
    of the server; while it is computed the section polls alone, and the rest of the page stays usable."""
    polling = data.ablation_running(view.key, view.corpus, view.layer)
    st.fragment(run_every=ABLATION_POLL_SECONDS if polling else None)(_ablation_body)(view, polling)


def _ablation_body(view: GateView, polling: bool) -> None:
    layer = view.layer
    if polling and not data.ablation_running(view.key, view.corpus, layer):
        st.rerun()  # it has just ended (or failed): redraw the page, without the polling
    st.caption(f"The unit finder (Units we found) shows what units *follow*; this shows what the model *needs*. Each unit of "
               f"layer {layer} is silenced in turn (its hidden state h held at 0 from the first character on) while "
               f"the model reads {data.ABLATION_CHARS:,} characters of validation text it never trained on; the units "
               "whose silence raises the loss most are the ones the model cannot do without.")
    found = data.ablation_of(view.key, view.corpus, layer)
    if found is None:
        if polling:
            started = st.session_state.setdefault(f"gates_ablation_since:{layer}", time.time())
            st.info(f"Silencing the {view.hidden} units of layer {layer} one at a time... "
                    f"({time.time() - started:.0f} s so far; the rest of the page stays usable, and the result is "
                    "kept for everyone on this server)")
            return
        error = data.ablation_error(view.key, view.corpus, layer)
        if error:
            st.error(f"The ablation failed: {error}")
        if st.button(f"Silence each of the {view.hidden} units of layer {layer} in turn", key="gates_ablation_go",
                     help="One batched pass per group of units: a few seconds for the shipped 256-unit model on a "
                          "quiet machine. Computed once per model and layer on this server, then shown to everyone."):
            data.start_ablation(view.key, view.corpus, layer)
            st.session_state[f"gates_ablation_since:{layer}"] = time.time()
            st.rerun()  # the whole page: this section then polls until the result is there
        return
    st.session_state.pop(f"gates_ablation_since:{layer}", None)
    result = found.result
    frame = result.frame()
    st.plotly_chart(views.ablation_bars(frame.head(ABLATION_BARS), layer), key="ablation",
                    config=plotly_config("unit-ablation"))
    st.caption(f"How to read: one bar per unit, the costliest first: how much the loss rises, in nats per character, "
               f"when that unit alone is silenced (the intact model: {result.baseline:.3f} nats per character on "
               f"these {result.characters:,} predictions). A long bar is a unit the model cannot do without; a bar "
               f"near 0 one it can spare; a bar below 0 one whose silence even helps. Computed in "
               f"{found.seconds:.1f} s ({found.wall_seconds:.1f} s with its worker process's start), once for this "
               "model and layer on this server.")
    top = [int(u) for u in frame["unit"].head(ABLATION_BUTTONS)]
    chosen = st.session_state.get("gates_ablation_unit")
    if chosen not in top:
        chosen = top[0]
    st.markdown("**Paint one of them on the text above:**")
    for column, unit in zip(st.columns(len(top)), top):
        column.button(f"unit {unit}", key=f"gates_ablation_unit_{unit}", width="stretch",
                      type="primary" if unit == chosen else "secondary", on_click=_paint_ablated, args=(unit,))
    delta = float(result.deltas[chosen])
    values = view.trace["hidden_state"][layer, :, chosen]
    marks = data.features_of(view.text)
    present = analysis.features_present(marks)
    follows = ""
    if present:
        r = {name: float(analysis.correlations(values[:, None], marks[name])[0]) for name in present}
        best = max(r, key=lambda name: abs(r[name]))
        follows = f"; of the text's features it follows {analysis.FEATURES[best]} best (r = {r[best]:+.2f})"
    st.caption(f"Unit {chosen} of layer {layer}: silencing it costs {delta:+.3f} nats per character{follows}. "
               "Its hidden state h (what silencing sets to 0), on the text chosen at the top of the page:")
    show_html(views.painted_text(view.trace.chars, values, "hidden_state", max_height=260), key="gates_ablated_paint")


def _paint_ablated(unit: int) -> None:
    st.session_state["gates_ablation_unit"] = unit


LAYER_SECTIONS = {"inspect": inspector,
                  "heatmaps": heatmaps, "unit": one_unit, "saturation": saturation, "interventions": interventions,
                  "ablation": ablation}  # the sections that read one layer (by_layer)
