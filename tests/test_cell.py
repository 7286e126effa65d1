"""The Cell lab's arithmetic: agreement with torch.nn.LSTMCell, scenarios, sequences, one trained unit."""

import numpy as np
import pytest
import torch

from lstm_core import CharLSTM, ModelConfig, PRETRAINED_DIR, Vocab, load_run, trace
from lstm_core import cell


def random_cell(units, inputs, seed):
    torch.manual_seed(seed)
    lstm_cell = torch.nn.LSTMCell(inputs, units)
    with torch.no_grad():
        for p in lstm_cell.parameters():
            p.uniform_(-2, 2)
    return lstm_cell


@pytest.mark.parametrize("units", [1, 2, 3, 4])
@pytest.mark.parametrize("inputs", [1, 2, 3])
def test_cell_step_equals_lstm_cell(units, inputs):
    lstm_cell = random_cell(units, inputs, seed=units * 10 + inputs)
    weights = cell.CellWeights.from_lstm_cell(lstm_cell)
    x, h, c = torch.randn(1, inputs), torch.randn(1, units), torch.randn(1, units) * 2
    with torch.no_grad():
        h_torch, c_torch = lstm_cell(x, (h, c))
    step = cell.cell_step(weights, x[0].numpy(), h[0].numpy(), c[0].numpy())
    assert np.abs(step.hidden_state - h_torch[0].numpy()).max() < 1e-6
    assert np.abs(step.cell_state - c_torch[0].numpy()).max() < 1e-6
    # the pieces add up to the state: kept + written = c_t
    np.testing.assert_allclose(step.kept + step.written, step.cell_state, atol=1e-12)


def test_weights_round_trip_through_lstm_cell():
    weights = cell.CellWeights.from_lstm_cell(random_cell(3, 2, seed=1))
    again = cell.CellWeights.from_lstm_cell(weights.to_lstm_cell())
    np.testing.assert_allclose(again.weight_x, weights.weight_x)
    np.testing.assert_allclose(again.bias, weights.bias)


def test_run_sequence_equals_lstm_cell_loop():
    lstm_cell = random_cell(2, 1, seed=3)
    weights = cell.CellWeights.from_lstm_cell(lstm_cell)
    inputs = np.array([[1.0], [-0.5], [0.25], [2.0]])
    run = cell.run_sequence(weights, inputs, h0=[0.1, -0.2], c0=[0.5, 0.0])
    h, c = torch.tensor([[0.1, -0.2]]), torch.tensor([[0.5, 0.0]])
    with torch.no_grad():
        for t, x in enumerate(inputs):
            h, c = lstm_cell(torch.from_numpy(x[None]).float(), (h, c))
            assert np.abs(run.hidden_states[t] - h[0].numpy()).max() < 1e-6
            assert np.abs(run.cell_states[t] - c[0].numpy()).max() < 1e-6


def test_equations_show_the_lstm_cell_numbers():
    lstm_cell = random_cell(1, 1, seed=5)
    weights = cell.CellWeights.from_lstm_cell(lstm_cell)
    with torch.no_grad():
        h_torch, c_torch = lstm_cell(torch.tensor([[0.7]]), (torch.tensor([[0.2]]), torch.tensor([[-0.4]])))
    lines = cell.equations_latex(cell.cell_step(weights, [0.7], [0.2], [-0.4]), 0, weights)
    assert len(lines) == 6
    assert lines[4].startswith("c_t") and lines[4].endswith(f"{c_torch.item():.4f}")
    assert lines[5].startswith("h_t") and lines[5].endswith(f"{h_torch.item():.4f}")


def scenario_run(name):
    scenario = cell.SCENARIOS[name]
    parsed = cell.parse_sequence(scenario.sequence)
    return parsed, cell.run_sequence(scenario.weights(), parsed.inputs, [scenario.h_prev], [scenario.c_prev])


def test_scenarios_do_what_they_say():
    _, remember = scenario_run("remember")
    assert np.abs(remember.cell_states[:, 0] - cell.SCENARIOS["remember"].c_prev).max() < 0.02
    parsed, forget = scenario_run("forget")
    wiped = parsed.inputs[:, 0] == 1
    assert forget.cell_states[wiped, 0].max() < 0.01 and forget.cell_states[0, 0] > 0.85
    parsed, write = scenario_run("write")
    np.testing.assert_allclose(write.cell_states[:, 0], np.tanh(2 * parsed.inputs[:, 0]), atol=0.01)
    parsed, read = scenario_run("read")
    shown = parsed.inputs[:, 0] == 1
    assert read.hidden_states[~shown, 0].max() < 0.05
    np.testing.assert_allclose(read.hidden_states[shown, 0], np.tanh(read.cell_states[shown, 0]), atol=0.02)
    parsed, count = scenario_run("count")
    ones_so_far = np.cumsum(parsed.inputs[:, 0] == 1)
    np.testing.assert_array_equal(np.round(count.cell_states[:, 0] / 0.5), ones_so_far)
    for scenario in cell.SCENARIOS.values():
        assert scenario.explanation.count(". ") + scenario.explanation.count(": ") >= 1


def test_parse_sequence():
    parsed = cell.parse_sequence("1 0,-0.5; 2")
    np.testing.assert_array_equal(parsed.inputs[:, 0], [1, 0, -0.5, 2])
    assert cell.parse_sequence("1/2 3/4", inputs=2).inputs.tolist() == [[1, 2], [3, 4]]
    assert cell.parse_sequence("1 0", inputs=3).inputs.shape == (2, 3)
    chars = cell.parse_sequence("abca", inputs=2)
    assert chars.labels == ["a", "b", "c", "a"] and set(chars.embedding) == {"a", "b", "c"}
    np.testing.assert_array_equal(chars.inputs[0], chars.inputs[3])
    assert np.abs(chars.inputs).max() <= 1
    for bad, inputs in (("", 1), ("1/2 3", 2), ("1 " * 41, 1), ("1e9", 1)):
        with pytest.raises(ValueError):
            cell.parse_sequence(bad, inputs)


def tiny_model(layers=2):
    torch.manual_seed(0)
    vocab = Vocab.from_text("abcde .\n")
    return CharLSTM(ModelConfig(vocab_size=len(vocab), hidden_size=6, num_layers=layers, embedding_dim=4)).eval(), vocab


@pytest.mark.parametrize("layer", [0, 1])
def test_walk_unit_uses_the_models_own_numbers(layer):
    model, vocab = tiny_model()
    text = "abc de.\nba"
    walk = cell.walk_unit(model, vocab, text, unit=3, layer=layer)
    exact = trace(model, vocab, text)
    assert walk.deviation < 1e-5
    np.testing.assert_allclose(walk.cell_state, exact.cell_state[layer, :, 3], atol=1e-5)
    np.testing.assert_allclose(walk.gates[:, 1], exact.forget_gate[layer, :, 3], atol=1e-5)
    step = walk.step(4)  # the step view rebuilds the same numbers from the four contributions
    assert abs(step.cell_state[0] - exact.cell_state[layer, 4, 3]) < 1e-5
    assert abs(step.hidden_state[0] - exact.hidden_state[layer, 4, 3]) < 1e-5
    with pytest.raises(ValueError, match="units per layer"):
        cell.walk_unit(model, vocab, text, unit=6)


def test_walk_unit_on_the_pretrained_model():
    run = load_run(PRETRAINED_DIR)
    text = "DORINE.\nTartuffe ? Il se porte à merveille."
    busiest = cell.busiest_units(run.model, run.vocab, text, k=3)
    assert len(set(busiest)) == 3
    walk = cell.walk_unit(run.model, run.vocab, text, busiest[0])
    assert walk.deviation < 1e-5 and walk.cell_state.std() > 0
