"""AppTest of the Cell lab (/cell): sliders, presets, sequences and a unit of a trained model."""

from pathlib import Path

import shutil

import torch
from streamlit.testing.v1 import AppTest

from lab_ui.common import run_store
from lstm_core import PRETRAINED_DIR
from lstm_core import cell

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "4_cell.py")


def open_page(**query):
    at = AppTest.from_file(PAGE, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def latex_lines(at):
    return [element.value for element in at.latex]


def test_sliders_recompute_the_equations_like_lstm_cell():
    at = open_page(scenario="remember")
    assert not at.exception
    assert "Remember" in at.info[0].value
    at.slider(key="cellw_c_0").set_value(-1.5).run()
    at.slider(key="cellw_wx_2_0_0").set_value(3.0).run()
    at.slider(key="cellw_b_0_0").set_value(0.5).run()
    assert not at.exception
    weights = cell.SCENARIOS["remember"].weights()
    weights.weight_x[2, 0, 0], weights.bias[0, 0] = 3.0, 0.5
    lstm_cell = weights.to_lstm_cell(torch.float32)
    x, h, c = torch.tensor([[0.8]]), torch.tensor([[0.0]]), torch.tensor([[-1.5]])
    with torch.no_grad():
        h_torch, c_torch = lstm_cell(x, (h, c))
    lines = latex_lines(at)
    assert f"= {c_torch.item():.4f}" in lines[4]
    assert f"= {h_torch.item():.4f}" in lines[5]
    assert len(at.get("plotly_chart")) == 2  # the diagram and the activation curves


def test_preset_loads_its_weights_and_sequence_mode_counts():
    at = open_page()
    at.sidebar.selectbox(key="cell_scenario").select("count").run()
    assert "Count" in at.info[0].value
    assert at.slider(key="cellw_b_1_0").value == 6.0
    at.sidebar.radio(key="cell_mode").set_value("sequence").run()
    assert not at.exception and at.query_params["mode"] == "sequence"
    forward = next(b for b in at.button if "forward" in b.label)
    forward.click().run()
    forward = next(b for b in at.button if "forward" in b.label)
    forward.click().run()
    assert at.session_state["cell_step"] == 2
    assert "= 0.9949" in latex_lines(at)[4]  # two ones seen: about 2 × 0.5 in the cell
    at.text_input(key="cell_sequence").input("").run()
    assert "empty" in at.error[0].value and not at.exception
    at.text_input(key="cell_sequence").input("abba").run()
    assert "Embedding" in at.caption[-1].value


def test_gate_preactivation_lesson_and_several_units():
    at = open_page(mode="gates", units="3", scenario="custom")
    assert not at.exception
    at.sidebar.selectbox(key="cell_unit").select(2).run()
    at.slider(key="cellw_z_1_2").set_value(-4.0).run()
    assert not at.exception
    assert "\\sigma(-4.0000) = 0.0180" in latex_lines(at)[1]


def test_a_unit_of_the_pretrained_model_by_default():
    at = open_page(mode="trained", unit="7")
    assert not at.exception, at.exception
    assert at.number_input(key="cell_model_unit").value == 7
    assert "Largest difference from that exact trace" in at.markdown[-1].value
    at.text_area(key="cell_walk_text").input("").run()
    assert at.error and not at.exception


def test_a_unit_of_a_saved_run(isolated_run_store):
    shutil.copytree(PRETRAINED_DIR, isolated_run_store / "copy")
    run_store.clear()  # the store is cached per server; this test's store is a fresh folder
    at = open_page(mode="trained", run="copy")
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="selected_run").value == "copy"
    at.slider(key="cell_model_step").set_value(5).run()
    assert "(step 5)" in at.markdown[-1].value
