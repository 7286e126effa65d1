"""The cell (lstm_core.cell): agreement with torch.nn.LSTMCell, one step and a sequence."""

import numpy as np
import pytest
import torch

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


def test_preactivations_set_directly_give_the_same_update():
    """The first lesson's step (z set directly) is the same recurrence as a step from weights."""
    weights = cell.CellWeights.from_lstm_cell(random_cell(2, 1, seed=7))
    full = cell.cell_step(weights, [0.3], [0.5, -0.5], [1.0, -2.0])
    direct = cell.step_from_preactivations(full.pre, [1.0, -2.0])
    for name in ("input_gate", "forget_gate", "cell_candidate", "output_gate", "cell_state", "hidden_state"):
        np.testing.assert_array_equal(getattr(direct, name), getattr(full, name))
    np.testing.assert_array_equal(direct.bias, full.pre)  # without parts, the whole z counts as bias
