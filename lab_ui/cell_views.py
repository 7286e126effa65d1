"""The Cell lab's views: one cell computed in the browser, and what Python keeps and sends it.

The cell is drawn by a Streamlit component (``lab_ui/components/cell_lab.{html,css,js}``) that
evaluates the cell in JavaScript, so a slider answers without a rerun: the sliders, the equations
with live numbers, the diagram whose arrows carry the values (after Olah, "Understanding LSTM
Networks", 2015) and the activation curves. Python sends the gate table, the values to start
from, the scenario and the view; the component reports the values, the unit shown and the step
back when a move ends, and this module keeps them in the session and the link.

    tinker(lab_data("weights"))                  # the sliders (a fragment: a report reruns only it)
    tinker(sequence_data(parsed))                # a sequence, stepped through in the browser
    trained_unit(run_id, text, layer)            # a unit of a trained model walked through text
    show_cell_update(trace.cell_update(...))     # the same diagram, read-only, on /gates
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import streamlit as st

from lab_ui.html_view import component_file
from lab_ui.query import query_number, query_value, set_query
from lab_ui.export_views import notebook_button
from lab_ui.run_picker import cached_run, run_path
from lab_ui.safe_text import markdown_text
from lstm_core import cell_lab, unit_walk
from lstm_core.cell import MAX_INPUTS, MAX_UNITS, CellStep, run_sequence
from lstm_core.cell_lab import RANGES, SCENARIOS, CellValues
from lstm_core.gates import LSTM_TABLE, QUANTITIES, SYMBOLS
from lstm_core.trace import trace

STORE, REVISION, SENT = "cell_lab_values", "cell_lab_revision", "cell_lab_sent"
QUANTITY_TABLE = [{"name": q.name, "symbol": q.symbol, "kind": q.kind, "activation": q.activation, "label": q.label}
                  for q in LSTM_TABLE]  # lstm_core.gates, as the browser reads it


def component_source(suffix: str) -> str:
    """The component's own file: ``"js"``, ``"css"`` or ``"html"``."""
    return component_file("cell_lab", suffix)


_cell_lab = st.components.v2.component("lstm_lab_cell", html=component_source("html"), css=component_source("css"),
                                       js=component_source("js"), isolate_styles=False)


def _ignore() -> None:
    """The component's reports need no callback: the fragment reads them when it reruns."""


def mount(data: dict, key: str):
    """The component with ``data``; returns what it reported (``values``, ``unit``, ``step``)."""
    return _cell_lab(key=key, data=data, on_values_change=_ignore, on_unit_change=_ignore, on_step_change=_ignore)


# ----------------------------------------------------------------------------- what the lab keeps


def values() -> CellValues:
    return st.session_state[STORE]


def restart() -> None:
    """Something other than the component changed the lab (a preset, the size, the mode): draw it afresh."""
    st.session_state[REVISION] = st.session_state.get(REVISION, 0) + 1


def apply_scenario(name: str) -> None:
    """Load a preset: a one-unit, one-input cell, its values and its sequence."""
    scenario = SCENARIOS[name]
    st.session_state[STORE] = scenario.values()
    st.session_state["cell_sequence"] = scenario.sequence
    st.session_state["cell_units"], st.session_state["cell_inputs"] = 1, 1
    st.session_state["cell_step"], st.session_state["cell_shown"] = 0, 0
    restart()


def on_scenario_change() -> None:
    """The scenario picker: load the chosen preset (``custom`` keeps the values)."""
    if st.session_state["cell_scenario"] in SCENARIOS:
        apply_scenario(st.session_state["cell_scenario"])
    else:
        restart()


def on_shape_change() -> None:
    """Units or inputs changed: keep what fits, new entries start at 0."""
    units, inputs = st.session_state["cell_units"], st.session_state["cell_inputs"]
    st.session_state[STORE] = values().resized(units, inputs)
    st.session_state["cell_shown"] = min(st.session_state.get("cell_shown", 0), units - 1)
    restart()


def preset(scenario: str) -> CellValues:
    """What the values are measured against in the link: the preset's, or a zero cell for ``custom``."""
    return SCENARIOS[scenario].values() if scenario in SCENARIOS else CellValues.zeros(1, 1)


def start_from_link(modes) -> None:
    """The first run of a session: the link decides the scenario, the size, the mode and the values."""
    if STORE in st.session_state:
        return
    scenario = query_value("scenario", "remember")
    if scenario not in SCENARIOS and scenario != "custom":
        st.warning(f"The link asks for a scenario called {markdown_text(repr(scenario)[:80])}; the lab knows "
                   f"{', '.join(SCENARIOS)} "
                   "and custom. Remember is shown instead.")
        scenario = "remember"
    if scenario in SCENARIOS:
        apply_scenario(scenario)
    else:
        st.session_state[STORE], st.session_state["cell_sequence"] = CellValues.zeros(1, 1), "1 0 1 1"
    st.session_state["cell_scenario"] = scenario
    units = st.session_state["cell_units"] = query_number("units", 1, 1, MAX_UNITS, warn=True)
    inputs = st.session_state["cell_inputs"] = query_number("inputs", 1, 1, MAX_INPUTS, warn=True)
    linked, problems = preset(scenario).resized(units, inputs).with_query(st.query_params.to_dict())
    for problem in problems:
        st.warning(f"The link's values: {markdown_text(problem)}.")
    st.session_state[STORE] = linked
    mode = query_value("mode", "weights")
    st.session_state["cell_mode"] = mode if mode in modes else "weights"
    st.session_state["cell_sequence"] = query_value("seq", st.session_state["cell_sequence"])[:200]
    st.session_state["cell_step"] = query_number("step", 0, 0, 10_000)
    st.session_state["cell_shown"] = query_number("shown", 0, 0, units - 1)
    st.session_state[REVISION] = 0


# ----------------------------------------------------------------------------- what the component is sent


def _sent(data: dict, **volatile) -> dict:
    """``data`` with the settings the browser changes itself (``volatile``: values, unit shown, step)
    as they were when the rest of ``data`` last changed.

    The component redraws whenever its data changes; sending back what it just reported would
    redraw it under the user's hand (and take the keyboard focus from its slider).
    """
    identity = hashlib.sha1(json.dumps([st.session_state.get(REVISION), data], sort_keys=True).encode()).hexdigest()
    memo = st.session_state.get(SENT)
    if memo is None or memo["identity"] != identity:
        memo = st.session_state[SENT] = {"identity": identity, "volatile": volatile}
    return {**data, **memo["volatile"]}


def _scenario(mode: str) -> dict | None:
    name = st.session_state["cell_scenario"]
    return SCENARIOS[name].to_json(mode) if name in SCENARIOS else None


def lab_data(mode: str) -> dict:
    """The weights mode (every weight, x, h and c) or the gates mode (z and c), from the stored values."""
    store = values()
    data = {"view": mode, "quantities": QUANTITY_TABLE, "ranges": RANGES, "slider_step": cell_lab.SLIDER_STEP,
            "units": store.units, "inputs": store.inputs, "scenario": _scenario(mode),
            "preset": preset(st.session_state["cell_scenario"]).resized(store.units, store.inputs).to_json()}
    return _sent(data, values=store.to_json(), unit=st.session_state["cell_shown"])


def step_parts(step: CellStep, digits: int | None = None) -> dict:
    """What the browser needs to recompute ``step``: x, h and c before it, and the three parts of each
    pre-activation (input part, recurrent part, bias), optionally rounded to ``digits`` decimals."""
    def keep(a):
        return (np.round(a, digits) if digits else np.asarray(a)).tolist()
    return {name: keep(getattr(step, name)) for name in ("x", "h_prev", "c_prev", "from_input", "from_hidden", "bias")}


def sequence_data(parsed: cell_lab.ParsedSequence) -> dict:
    """A typed sequence run through the stored cell in Python, to be stepped through in the browser."""
    store = values()
    run = run_sequence(store.weights, parsed.inputs, store.h, store.c, parsed.labels)
    name = st.session_state["cell_scenario"]
    base = preset(name).resized(store.units, store.inputs).arrays()
    moved = any(not np.allclose(store.arrays()[k], base[k]) for k in ("wx", "wh", "b", "h", "c")) \
        or name in SCENARIOS and st.session_state["cell_sequence"].strip() != SCENARIOS[name].sequence
    data = {"view": "sequence", "quantities": QUANTITY_TABLE, "units": store.units, "inputs": store.inputs,
            "weights": {k: v for k, v in store.to_json().items() if k in ("wx", "wh", "b")},
            "labels": run.labels, "steps": [step_parts(s) for s in run.steps],
            "scenario": _scenario("sequence"), "moved": bool(moved)}
    last = len(run.steps) - 1
    return _sent(data, at=min(st.session_state["cell_step"], last), unit=st.session_state["cell_shown"])


@st.fragment
def tinker(data: dict) -> None:
    """The component, in a fragment: its reports rerun only this, and land in the session and the link."""
    report = mount(data, key=f"cell_lab_{st.session_state[REVISION]}")
    store = values()
    if report.get("values") is not None:
        try:
            store = st.session_state[STORE] = CellValues.from_json(report["values"], store.units, store.inputs)
        except ValueError as err:
            st.error(f"The browser sent values the lab cannot use ({err}); the last good ones are kept.")
    if report.get("unit") is not None:
        st.session_state["cell_shown"] = int(np.clip(report["unit"], 0, store.units - 1))
    if report.get("step") is not None:
        st.session_state["cell_step"] = max(int(report["step"]), 0)
    if data["view"] in ("weights", "gates"):  # the numbers the lesson quotes, computed here as the sliders stopped
        unit = st.session_state["cell_shown"]
        line, _ = cell_lab.cell_update_line(store.step(data["view"]), unit)
        st.caption(f"Unit {unit}, computed in Python by `lstm_core.cell` where the sliders last stopped: {line}.")
    set_query(**store.query(preset(st.session_state["cell_scenario"])),
              shown=st.session_state["cell_shown"] or None,
              step=st.session_state["cell_step"] or None if data["view"] == "sequence" else None)


# ----------------------------------------------------------------------------- a unit of a trained model


@st.cache_resource(max_entries=4)
def _trace(run_id: str, model_id: int, text: str):
    """The exact trace of ``text``, kept per (run, model loaded, text): choosing another unit needs no new trace."""
    run = cached_run(run_id)
    return trace(run.model, run.vocab, text)


@st.fragment
def trained_unit(run_id: str, text: str, layer: int) -> None:
    """The unit picker, the walk and the component: a new unit or step reruns only this."""
    run = cached_run(run_id)
    hidden = run.model.lstm.hidden_size
    traced = _trace(run_id, id(run.model), text)
    busiest = unit_walk.busiest_units(traced, layer)
    if "cell_model_unit" not in st.session_state:
        st.session_state["cell_model_unit"] = query_number("unit", busiest[0], 0, hidden - 1)
    chosen = int(st.number_input(f"Unit (0 to {hidden - 1})", 0, hidden - 1, key="cell_model_unit"))
    st.caption("Units whose cell state moves most on this text: " + ", ".join(map(str, busiest)))
    walk = unit_walk.walk_unit(run.model, run.vocab, text, chosen, layer, traced)
    if walk.replacements:
        st.warning("Characters this model does not know were replaced: " +
                   ", ".join(f"'{a}' → '{b}'" for a, b in walk.replacements.items()))
    st.markdown(
        f"Unit **{chosen}**'s gates are rebuilt from its own weights: the *input part* reads the embedded character "
        f"(or the layer below), the *recurrent part* reads the previous hidden state of all {hidden} units, taken "
        "from the exact trace of the whole model (so the other units' contributions are the model's own). Largest "
        f"difference from that exact trace over this text: **{walk.deviation:.1e}** (float32 rounding).")
    labels = [repr(ch)[1:-1] if ch.isspace() else ch for ch in walk.chars]
    steps = [step_parts(walk.step(t), digits=7) for t in range(len(labels))]
    data = {"view": "trained", "quantities": QUANTITY_TABLE, "labels": labels, "steps": steps,
            "walk": {"unit": chosen, "layer": layer}}
    step = min(st.session_state.get("cell_model_step", query_number("step", 0, 0, 10_000)), len(labels) - 1)
    report = mount(_sent(data, at=step), key=f"cell_lab_trained_{st.session_state.get(REVISION, 0)}")
    if report.get("step") is not None:
        step = min(max(int(report["step"]), 0), len(labels) - 1)
    st.session_state["cell_model_step"] = step
    set_query(unit=chosen, step=step or None)
    notebook_button("cell", run_path(run_id))  # in the fragment: a new unit or step is in the notebook at once


# ----------------------------------------------------------------------------- the cell update on /gates


def show_cell_update(parts: dict, title: str = "", key: str = "cell-update") -> None:
    """One unit's update at one step (:meth:`lstm_core.Trace.cell_update`'s numbers), drawn read-only
    by the Cell lab's own diagram: kept = f·c(t−1), written = i·g, c(t) = kept + written, h(t) = o·tanh c(t)."""
    update = {name: [parts[SYMBOLS[name]]] for name in QUANTITIES}
    update.update(c_prev=[parts["c_prev"]], kept=[parts["kept"]], written=[parts["written"]],
                  tanh_cell=[parts["tanh_c"]])
    mount({"view": "update", "quantities": QUANTITY_TABLE, "update": update, "title": title}, key=key)
