"""Cell lab: one LSTM cell small enough to read, its equations with live numbers, and its diagram."""

import numpy as np
import streamlit as st

from lab_ui import page_setup, query_number, query_value, selected_run, set_query

page_setup("Cell lab")

from lab_ui import cell_views as views  # noqa: E402 - after page_setup, which must come first
from lstm_core import cell  # noqa: E402

MODES = {"weights": "Weights and biases", "gates": "Gate pre-activations (first lesson)",
         "sequence": "A sequence, step by step", "trained": "A unit of a trained model"}
DEFAULT_WALK_TEXT = "ORGON.\nEt Tartuffe ?\nDORINE.\nTartuffe ? Il se porte à merveille."

if "cell_started" not in st.session_state:  # first run of this session: the link decides the view
    st.session_state["cell_started"] = True
    scenario = query_value("scenario", "remember")
    st.session_state["cell_scenario"] = scenario if scenario in cell.SCENARIOS else "custom"
    views.apply_scenario(scenario if scenario in cell.SCENARIOS else "remember")
    st.session_state["cell_units"] = query_number("units", 1, 1, cell.MAX_UNITS)
    st.session_state["cell_inputs"] = query_number("inputs", 1, 1, cell.MAX_INPUTS)
    st.session_state["cell_mode"] = query_value("mode", "weights") if query_value("mode") in MODES else "weights"
    st.session_state["cell_sequence"] = query_value("seq", st.session_state["cell_sequence"])[:200]

st.title("Cell lab")
st.caption("One LSTM cell, small enough to read. Every number below is computed by `lstm_core.cell`, "
           "which agrees with `torch.nn.LSTMCell` to 1e-6; arrows are red when positive, blue when negative, "
           "thicker when larger.")

mode = st.sidebar.radio("What to explore", list(MODES), format_func=MODES.get, key="cell_mode")
scenario = st.sidebar.selectbox("Scenario preset", ["custom", *cell.SCENARIOS], key="cell_scenario",
                                on_change=views.on_scenario_change, args=("cell_scenario",))
units = st.sidebar.number_input("Units", 1, cell.MAX_UNITS, key="cell_units")
inputs = st.sidebar.number_input("Inputs per step", 1, cell.MAX_INPUTS, key="cell_inputs")
set_query(mode=mode, scenario=scenario, units=units, inputs=inputs)
if scenario != "custom" and mode != "trained":
    st.info(f"**{scenario.capitalize()}.** {cell.SCENARIOS[scenario].explanation}")

store = views.cell_values(units, inputs)
weights = store["weights"]
unit = st.sidebar.selectbox("Unit shown", range(units), key="cell_unit") if units > 1 and mode != "trained" else 0

if mode in ("weights", "gates"):
    states, controls = st.columns([1, 3])
    with states:
        st.markdown("**Input and previous states**")
        views.state_sliders(store, units, inputs, with_input=mode == "weights")
    with controls:
        if mode == "weights":
            st.markdown(f"**Weights and biases of unit {unit}**")
            views.weight_sliders(weights, unit)
            step = cell.cell_step(weights, store["x"], store["h"], store["c"])
        else:
            st.markdown(f"**Pre-activations of unit {unit}**: the weighted sums before σ or tanh")
            views.preactivation_sliders(store, unit)
            step = cell.step_from_preactivations(store["pre"], store["c"])
    views.show_step(step, unit, weights if mode == "weights" else None)

elif mode == "sequence":
    text = st.text_input("Sequence (numbers such as 1 1 0 1, or a short word fed through a small embedding)",
                         key="cell_sequence")
    set_query(seq=text)
    try:
        parsed = cell.parse_sequence(text, inputs)
    except ValueError as err:
        st.error(str(err))
        st.stop()
    run = cell.run_sequence(weights, parsed.inputs, store["h"], store["c"], parsed.labels)
    last = len(run.steps) - 1
    st.session_state["cell_step"] = min(st.session_state.get("cell_step", 0), last)

    def move(delta: int) -> None:
        st.session_state["cell_step"] = int(np.clip(st.session_state["cell_step"] + delta, 0, last))

    back, forward, where = st.columns([1, 1, 6])
    back.button("◀ step back", on_click=move, args=(-1,), disabled=st.session_state["cell_step"] == 0)
    forward.button("step forward ▶", on_click=move, args=(1,), disabled=st.session_state["cell_step"] == last)
    if last > 0:
        where.slider("Step", 0, last, key="cell_step")
    t = st.session_state["cell_step"]
    st.markdown(f"Step **{t}** of {last}: input **{run.labels[t]}** = {np.round(run.inputs[t], 2).tolist()}, "
                "starting from the h and c set in *Weights and biases*.")
    if parsed.embedding:
        st.caption("Embedding (a fixed table, one vector per character): " +
                   ", ".join(f"'{ch}' → {vec}" for ch, vec in parsed.embedding.items()))
    st.plotly_chart(views.states_over_time(run.labels, {"c_t": run.cell_states, "h_t": run.hidden_states}, t),
                    width="stretch")
    views.show_step(run.steps[t], unit, weights)

else:
    run_id, model_run = selected_run("Model")
    lstm = model_run.model.lstm
    text = st.text_area("Text to step through (up to 300 characters)", DEFAULT_WALK_TEXT, key="cell_walk_text")
    if not text or len(text) > 300:
        st.error("Type between 1 and 300 characters of text.")
        st.stop()
    layer = st.selectbox("Layer", range(lstm.num_layers), key="cell_layer") if lstm.num_layers > 1 else 0
    busiest = cell.busiest_units(model_run.model, model_run.vocab, text, layer)
    if "cell_model_unit" not in st.session_state:
        st.session_state["cell_model_unit"] = query_value("unit", busiest[0], int)
    chosen = st.number_input(f"Unit (0 to {lstm.hidden_size - 1})", 0, lstm.hidden_size - 1, key="cell_model_unit")
    st.caption("Units whose cell state moves most on this text: " + ", ".join(map(str, busiest)))
    set_query(unit=chosen)
    try:
        walk = cell.walk_unit(model_run.model, model_run.vocab, text, int(chosen), layer)
    except ValueError as err:
        st.error(str(err))
        st.stop()
    if walk.replacements:
        st.warning("Characters this model does not know were replaced: " +
                   ", ".join(f"'{a}' → '{b}'" for a, b in walk.replacements.items()))
    labels = [repr(ch)[1:-1] if ch.isspace() else ch for ch in walk.chars]
    t = st.slider("Step", 0, len(labels) - 1, key="cell_model_step") if len(labels) > 1 else 0
    st.markdown(
        f"Unit **{chosen}** of layer {layer}, reading **{labels[t]!r}** (step {t}). Its gates are rebuilt from its "
        "own weights: the *input part* reads the embedded character, the *recurrent part* reads the previous "
        f"hidden state of all {lstm.hidden_size} units, taken from the exact trace of the whole model (so the "
        "other units' contributions are the model's own). Largest difference from that exact trace over this "
        f"text: **{walk.deviation:.1e}** (float32 rounding).")
    st.plotly_chart(views.states_over_time(labels, {"c_t": walk.cell_state, "h_t": walk.hidden_state,
                                                    "f_t": walk.gates[:, 1], "i_t": walk.gates[:, 0]}, t),
                    width="stretch")
    views.show_step(walk.step(t), 0, None)
