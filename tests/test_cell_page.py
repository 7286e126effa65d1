"""AppTest of the Cell lab (/cell): what the page sends its in-browser cell, and what it keeps of the
cell's reports (values, unit shown, step) in the session and the link. The component itself draws
nothing here; tests/test_cell_js.py and tests/test_browser_teaching.py drive it in Chromium."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from lab_ui.run_picker import run_store
from lstm_core import PRETRAINED_DIR, cell, load_run
from lstm_core.cell_lab import MODES, SCENARIOS, CellValues
from lstm_core.unit_walk import walk_unit
from tests.page_helpers import open_app, unescaped

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "4_cell.py")


def component(at) -> tuple[str, dict]:
    """The cell component's key and the data the page sent it."""
    [element] = at.get("bidi_component")
    return element.proto.id.split("-", 2)[-1], json.loads(element.proto.json)


def report(at, **state):
    """What the browser does when a move ends: the component's state changes and the page reruns."""
    key, _ = component(at)
    at.session_state[key] = state
    return at.run()


def stored(at) -> CellValues:
    return at.session_state["cell_lab_values"]


def step_of(data, t):
    """Step t of a sequence or a walk, from the parts the page sent (what the browser recomputes)."""
    parts = data["steps"][t]
    pre = np.add(np.add(parts["from_input"], parts["from_hidden"]), parts["bias"])
    return cell.step_from_preactivations(pre, parts["c_prev"], x=parts["x"])


def test_moved_sliders_are_kept_and_agree_with_lstm_cell():
    at = open_app(PAGE, scenario="remember")
    assert not at.exception
    key, data = component(at)
    assert data["view"] == "weights" and data["scenario"]["text"] == SCENARIOS["remember"].text["weights"]
    assert data["values"] == SCENARIOS["remember"].values().to_json()
    moved = SCENARIOS["remember"].values()
    moved.c[0], moved.weights.weight_x[2, 0, 0], moved.weights.bias[0, 0] = -1.5, 3.0, 0.5
    report(at, values=moved.to_json())
    assert not at.exception
    assert at.query_params["c"] == "-1.5" and at.query_params["wx"] == "0,0,3,0" and at.query_params["b"] == "0.5,6,0,6"
    assert component(at) == (key, data), "a report must not change what is sent (the browser would redraw under the hand)"
    lstm_cell = stored(at).weights.to_lstm_cell(torch.float32)
    with torch.no_grad():
        h_torch, c_torch = lstm_cell(torch.tensor([[0.8]]), (torch.tensor([[0.0]]), torch.tensor([[-1.5]])))
    step = stored(at).step("weights")
    assert abs(step.cell_state[0] - c_torch.item()) < 1e-6 and abs(step.hidden_state[0] - h_torch.item()) < 1e-6


def test_a_link_reproduces_the_values():
    at = open_app(PAGE, scenario="count", units="2", c="0.5,-1", x="0.25")
    assert not at.exception and not at.warning
    _, data = component(at)
    assert data["units"] == 2 and data["values"]["c"] == [0.5, -1.0] and data["values"]["x"] == [0.25]
    assert data["values"]["b"] == [[6.0, 0.0], [6.0, 0.0], [0.0, 0.0], [6.0, 0.0]]  # the preset, resized
    at = open_app(PAGE, scenario="count", c="1,2,3", x="9", mode="nonsense", scenario_x="1")
    assert not at.exception and component(at)[1]["view"] == "weights"
    problems = " ".join(unescaped(w.value) for w in at.warning)  # link values are shown as text
    assert "c needs 1 numbers" in problems and "x must lie between -2 and 2" in problems
    assert component(at)[1]["values"]["x"] == [2.0]


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_sends_its_own_sentence_and_the_sentence_holds(mode):
    for name, scenario in SCENARIOS.items():
        at = open_app(PAGE, scenario=name, mode=mode)
        assert not at.exception
        _, data = component(at)
        assert data["scenario"]["text"] == scenario.text[mode]
        assert [c["label"] for c in data["scenario"]["claims"]] == [c.label for c in scenario.claims[mode]]
        if mode == "sequence":
            steps = [step_of(data, t) for t in range(len(data["steps"]))]
        else:
            steps = [CellValues.from_json(data["values"], 1, 1).step(mode)]
        assert scenario.check(mode, steps) == [], f"{name} in {mode}"


def test_preset_loads_its_weights_and_sequence_mode_counts():
    at = open_app(PAGE)
    at.sidebar.selectbox(key="cell_scenario").select("count").run()
    key, data = component(at)
    assert data["scenario"]["name"] == "count" and data["values"]["b"] == [[6.0], [6.0], [0.0], [6.0]]
    at.sidebar.radio(key="cell_mode").set_value("sequence").run()
    assert not at.exception and at.query_params["mode"] == "sequence"
    key, data = component(at)
    assert data["view"] == "sequence" and data["labels"] == SCENARIOS["count"].sequence.split()
    report(at, step=2)
    assert at.query_params["step"] == "2" and at.session_state["cell_step"] == 2
    assert f"{step_of(data, 2).cell_state[0]:.4f}" == "0.9949"  # two ones seen: about 2 × 0.5 in the cell
    at.text_input(key="cell_sequence").input("").run()
    assert "empty" in at.error[0].value and not at.exception
    at.text_input(key="cell_sequence").input("abba").run()
    assert "Embedding" in at.caption[-1].value
    assert component(at)[1]["at"] == 2  # the step kept, within the new sequence


def test_gate_preactivation_lesson_and_several_units():
    at = open_app(PAGE, mode="gates", units="3", scenario="custom")
    assert not at.exception
    key, data = component(at)
    assert data["view"] == "gates" and data["units"] == 3 and data["scenario"] is None
    values = CellValues.from_json(data["values"], 3, 1)
    values.z[1, 2] = -4.0
    report(at, values=values.to_json(), unit=2)
    assert at.query_params["shown"] == "2" and at.query_params["z"] == "0,0,0,0,0,-4,0,0,0,0,0,0"
    assert f"{stored(at).step('gates').forget_gate[2]:.4f}" == "0.0180"
    at.sidebar.number_input(key="cell_units").set_value(2).run()  # fewer units: the view starts afresh
    new_key, data = component(at)
    assert new_key != key and data["units"] == 2 and data["unit"] == 1 and len(data["values"]["z"][0]) == 2


def test_a_unit_of_the_pretrained_model_by_default():
    at = open_app(PAGE, mode="trained", unit="7")
    assert not at.exception, at.exception
    assert at.number_input(key="cell_model_unit").value == 7
    assert "Largest difference from that exact trace" in at.markdown[-1].value
    _, data = component(at)
    assert data["view"] == "trained" and data["walk"] == {"unit": 7, "layer": 0}
    text = at.text_area(key="cell_walk_text").value
    walk = walk_unit(*(lambda r: (r.model, r.vocab))(load_run(PRETRAINED_DIR)), text, 7)
    assert len(data["steps"]) == len(text)
    for t in (0, 5, len(text) - 1):  # the browser's numbers come from the walk's own parts
        assert abs(step_of(data, t).cell_state[0] - walk.cell_state[t]) < 1e-6
    at.text_area(key="cell_walk_text").input("").run()
    assert at.error and not at.exception


def test_a_unit_of_a_saved_run(isolated_run_store):
    shutil.copytree(PRETRAINED_DIR, isolated_run_store / "copy")
    run_store.clear()  # the store is cached per server; this test's store is a fresh folder
    at = open_app(PAGE, mode="trained", run="copy")
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="selected_run").value == "copy"
    report(at, step=5)
    assert at.session_state["cell_model_step"] == 5 and at.query_params["step"] == "5"
    at.number_input(key="cell_model_unit").set_value(3).run()
    assert component(at)[1]["at"] == 5  # another unit, read at the same character
