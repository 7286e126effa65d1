"""Cell lab: one LSTM cell small enough to read, computed in the browser as its sliders move."""

import streamlit as st

from lab_ui import page_setup, presentation, query_number, query_value, selected_run, set_query

page_setup("Cell lab")

from lab_ui import cell_views as views  # noqa: E402 - after page_setup, which must come first
from lstm_core import cell_lab  # noqa: E402
from lstm_core.cell import MAX_INPUTS, MAX_UNITS  # noqa: E402
from lstm_core.unit_walk import DEFAULT_WALK_TEXT, MAX_WALK_CHARS  # noqa: E402

MODES = {"weights": "Weights and biases", "gates": "Gate pre-activations (first lesson)",
         "sequence": "A sequence, step by step", "trained": "A unit of a trained model"}

views.start_from_link(MODES)  # the first run of a session: the link decides the view

st.title("Cell lab")
st.caption("One LSTM cell, small enough to read. It is computed in your browser as you move a slider, with the "
           "same arithmetic as `lstm_core.cell` (a test holds the two to 1e-12), which agrees with "
           "`torch.nn.LSTMCell` to 1e-6.")

side = presentation.sidebar()  # the sidebar, or in presentation mode the panel at the top of the page
mode = side.radio("What to explore", list(MODES), format_func=MODES.get, key="cell_mode", on_change=views.restart)
if mode != "trained":
    scenario = side.selectbox("Scenario preset", ["custom", *cell_lab.SCENARIOS], key="cell_scenario",
                                    on_change=views.on_scenario_change)
    units = side.number_input("Units", 1, MAX_UNITS, key="cell_units", on_change=views.on_shape_change)
    inputs = side.number_input("Inputs per step", 1, MAX_INPUTS, key="cell_inputs",
                                     on_change=views.on_shape_change)
    set_query(mode=mode, scenario=scenario, units=units, inputs=inputs, run=None, unit=None, text=None, layer=None)

if mode in ("weights", "gates"):
    views.tinker(views.lab_data(mode))

elif mode == "sequence":
    text = st.text_input("Sequence (numbers such as 1 1 0 1, or a short word fed through a small embedding)",
                         key="cell_sequence")
    set_query(seq=text)
    try:
        parsed = cell_lab.parse_sequence(text, inputs)
    except ValueError as err:
        st.error(str(err))
        st.stop()
    if parsed.embedding:
        st.caption("Embedding (a fixed table, one vector per character): " +
                   ", ".join(f"'{ch}' → ({', '.join(f'{v:.2f}' for v in vec)})" for ch, vec in parsed.embedding.items()))
    views.tinker(views.sequence_data(parsed))

else:
    set_query(mode=mode, scenario=None, units=None, inputs=None, seq=None, shown=None, **dict.fromkeys(cell_lab.ARRAYS))
    run_id, model_run = selected_run("Model")
    lstm = model_run.model.lstm
    text = st.text_area(f"Text to step through (up to {MAX_WALK_CHARS} characters)",
                        query_value("text", DEFAULT_WALK_TEXT)[:MAX_WALK_CHARS], key="cell_walk_text")
    if not text or len(text) > MAX_WALK_CHARS:
        st.error(f"Type between 1 and {MAX_WALK_CHARS} characters of text.")
        st.stop()
    layer = st.selectbox("Layer", range(lstm.num_layers), index=query_number("layer", 0, 0, lstm.num_layers - 1),
                         key="cell_layer") if lstm.num_layers > 1 else 0
    set_query(text=None if text == DEFAULT_WALK_TEXT else text, layer=layer or None)  # the link reproduces the walk
    views.trained_unit(run_id, text, layer)  # with its "Download as notebook"
