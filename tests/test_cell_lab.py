"""The Cell lab's content (lstm_core.cell_lab): scenario sentences checked against the cell in every
mode, the values the sliders hold and their links, typed sequences."""

import numpy as np
import pytest

from lstm_core import cell, cell_lab
from lstm_core.cell_lab import MODES, SCENARIOS, CellValues


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_sentence_holds_in_every_mode(name, mode):
    """Each claim of the mode's sentence holds at every step it speaks of, and speaks of at least one."""
    scenario = SCENARIOS[name]
    assert scenario.text[mode] and scenario.claims[mode]
    assert scenario.check(mode) == []


def test_the_claims_catch_a_sentence_the_numbers_contradict():
    """The gates mode once started from the preset's biases alone: z_f = +5 kept the forget gate open
    (f = 0.993, c_t = 0.894) under a sentence saying it was driven shut. The claims see it."""
    forget = SCENARIOS["forget"]
    values = forget.values()
    biases_only = cell.step_from_preactivations(values.weights.bias, values.c)
    assert biases_only.forget_gate[0] > 0.99
    problems = forget.check("gates", [biases_only])
    assert any("f ≈ 0 fails" in p for p in problems) and any("c_t ≈ 0 fails" in p for p in problems)
    assert forget.check("gates") == []  # what the gates mode shows now: z from the weights and the input


def test_a_sequence_claim_that_never_applies_is_reported():
    read = SCENARIOS["read"]
    zeros_only = cell.run_sequence(read.weights(), [[0.0], [0.0]], [0.0], [0.9]).steps
    assert any("never applies" in p for p in read.check("sequence", zeros_only))


def test_the_gates_mode_starts_from_what_the_weights_make_of_the_input():
    for scenario in SCENARIOS.values():
        values = scenario.values()
        np.testing.assert_array_equal(values.z, cell.cell_step(values.weights, values.x, values.h, values.c).pre)
        np.testing.assert_allclose(values.step("gates").cell_state, values.step("weights").cell_state, atol=1e-15)


def test_count_counts_the_ones_in_halves():
    count = SCENARIOS["count"]
    inputs = cell_lab.parse_sequence(count.sequence).inputs
    cells = cell.run_sequence(count.weights(), inputs, [count.h_prev], [count.c_prev]).cell_states[:, 0]
    np.testing.assert_array_equal(np.round(cells / 0.5), np.cumsum(inputs[:, 0] == 1))


def test_claim_check_and_label():
    step = cell.cell_step(SCENARIOS["remember"].weights(), [0.8], [0.0], [0.8])
    holds, value, target = cell_lab.Claim("cell_state", "c_prev").check(step)
    assert holds and target == 0.8 and abs(value - 0.8) < 0.02
    assert cell_lab.Claim("forget_gate", 0.0, 0.01).check(step)[0] is False
    assert cell_lab.Claim("cell_state", "c_prev").label == "c_t ≈ c_{t−1}"
    assert cell_lab.Claim("written", 0.5).label == "i·g ≈ 0.5"
    assert not cell_lab.Claim("forget_gate", 0.0, when=1.0).applies(step)  # x_t = 0.8


def test_values_resize_travel_as_json_and_links():
    values = SCENARIOS["count"].values()
    bigger = values.resized(3, 2)
    assert bigger.weights.weight_x.shape == (4, 3, 2) and bigger.weights.bias[2, 0] == 0.0
    assert bigger.weights.weight_x[2, 0, 0] == 0.55 and bigger.z.shape == (4, 3)
    again = CellValues.from_json(bigger.to_json(), 3, 2)
    for name, array in bigger.arrays().items():
        np.testing.assert_array_equal(again.arrays()[name], array)
    sent = bigger.to_json()
    sent["x"] = [5.0, 0.0]  # beyond the slider: clipped
    assert CellValues.from_json(sent, 3, 2).x.tolist() == [2.0, 0.0]
    with pytest.raises(ValueError, match="x must hold 2"):
        CellValues.from_json({**sent, "x": [1.0]}, 3, 2)
    with pytest.raises(ValueError):
        CellValues.from_json({**sent, "c": [float("nan")] * 3}, 3, 2)
    # a link holds only what differs from the preset, and reads back to the same values
    bigger.c[1] = -1.5
    query = bigger.query(values)
    assert query["c"] == "0,-1.5,0" and query["wx"] is None and query["b"] is None
    linked, problems = values.resized(3, 2).with_query(query)
    assert problems == [] and linked.c.tolist() == [0.0, -1.5, 0.0]
    _, problems = values.with_query({"x": "1,2,3", "c": "9"})
    assert "x needs 1 numbers" in problems[0] and "clipped" in problems[1]


def test_parse_sequence():
    parsed = cell_lab.parse_sequence("1 0,-0.5; 2")
    np.testing.assert_array_equal(parsed.inputs[:, 0], [1, 0, -0.5, 2])
    assert cell_lab.parse_sequence("1/2 3/4", inputs=2).inputs.tolist() == [[1, 2], [3, 4]]
    assert cell_lab.parse_sequence("1 0", inputs=3).inputs.shape == (2, 3)
    chars = cell_lab.parse_sequence("abca", inputs=2)
    assert chars.labels == ["a", "b", "c", "a"] and set(chars.embedding) == {"a", "b", "c"}
    np.testing.assert_array_equal(chars.inputs[0], chars.inputs[3])
    assert np.abs(chars.inputs).max() <= 1
    for bad, inputs in (("", 1), ("1/2 3", 2), ("1 " * 41, 1), ("1e9", 1)):
        with pytest.raises(ValueError):
            cell_lab.parse_sequence(bad, inputs)
