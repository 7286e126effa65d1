"""The one table of gates and states: PyTorch's order, ranges that agree with what the cell computes."""

import numpy as np
import pytest
import torch

from lstm_core import gates
from lstm_core.trace import Intervention


def test_gates_follow_pytorch_row_order():
    assert gates.GATES == ("input_gate", "forget_gate", "cell_candidate", "output_gate")
    assert [gates.SYMBOLS[g] for g in gates.GATES] == ["i", "f", "g", "o"]
    assert gates.QUANTITIES == gates.GATES + ("cell_state", "hidden_state")


def test_bounds_hold_for_what_an_lstm_computes():
    """Every bounded quantity of a random LSTM stays within the table's bounds."""
    from lstm_core.trace import replay_lstm

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 5, num_layers=2)
    with torch.no_grad():
        for p in lstm.parameters():
            p.mul_(8)  # large weights push the gates to their limits
    traced = replay_lstm(lstm, np.random.default_rng(0).normal(size=(40, 3)) * 5)
    for name in gates.QUANTITIES:
        low, high = gates.quantity(name).bounds
        if low is not None:
            assert traced[name].min() >= low and traced[name].max() <= high, name
    assert np.abs(traced["cell_state"]).max() > 1  # unbounded indeed


def test_intervention_checks_and_colour_range_agree():
    for name in gates.QUANTITIES:
        entry = gates.quantity(name)
        low, high = gates.colour_range(name, np.array([-3.0, 2.0]))
        if entry.bounded:
            assert (low, high) == entry.bounds
            Intervention(name, 0, [0], high)  # the edge of the range is accepted
            with pytest.raises(ValueError, match="lies between"):
                Intervention(name, 0, [0], high + 0.5)
        else:
            assert (low, high) == (-3.0, 3.0)  # symmetric around the centre, as far as the values reach
            Intervention(name, 0, [0], 7.0)


def test_unknown_quantity_is_named():
    with pytest.raises(ValueError, match="choose one of"):
        gates.quantity("reset_gat")
