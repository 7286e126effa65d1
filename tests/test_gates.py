"""The one table of gates and states: PyTorch's order, ranges that agree with what the cell computes."""

import numpy as np
import pytest
import torch

from lstm_core import gates
from lstm_core.architectures import architecture
from lstm_core.trace import Intervention


def test_gates_follow_pytorch_row_order():
    assert gates.GATES == ("input_gate", "forget_gate", "cell_candidate", "output_gate")
    assert [gates.SYMBOLS[g] for g in gates.GATES] == ["i", "f", "g", "o"]
    assert gates.QUANTITIES == gates.GATES + ("cell_state", "hidden_state")


def test_bounds_hold_for_what_an_lstm_computes():
    """Every bounded quantity of a random LSTM stays within the table's bounds."""
    from lstm_core.trace import replay_recurrent

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 5, num_layers=2)
    with torch.no_grad():
        for p in lstm.parameters():
            p.mul_(8)  # large weights push the gates to their limits
    traced = replay_recurrent(lstm, np.random.default_rng(0).normal(size=(40, 3)) * 5)
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


def test_each_architecture_has_its_table_in_pytorchs_row_order():
    assert architecture("lstm").quantities == gates.QUANTITIES
    assert architecture("gru").quantities == ("reset_gate", "update_gate", "new_gate", "hidden_state")
    assert architecture("gru").gates == ("reset_gate", "update_gate", "new_gate")  # r | z | n, as in weight_ih_l{k}
    assert architecture("rnn").quantities == ("hidden_state",) and architecture("rnn").gates == ()
    assert architecture("gru").sigmoid_gates == ("reset_gate", "update_gate")
    assert [gates.SYMBOLS[g] for g in architecture("gru").gates] == ["r", "z", "n"]
    assert architecture("gru").quantity("hidden_state").meaning != architecture("lstm").quantity("hidden_state").meaning
    with pytest.raises(ValueError, match="must be one of lstm, gru, rnn"):
        architecture("transformer")
    with pytest.raises(ValueError, match="choose one of hidden_state"):
        architecture("rnn").quantity("forget_gate")


def test_bounds_hold_for_what_a_gru_and_an_rnn_compute():
    from lstm_core.trace import replay_recurrent

    torch.manual_seed(1)
    for module in (torch.nn.GRU(3, 5, num_layers=2), torch.nn.RNN(3, 5, num_layers=2)):
        with torch.no_grad():
            for p in module.parameters():
                p.mul_(8)
        traced = replay_recurrent(module, np.random.default_rng(1).normal(size=(40, 3)) * 5)
        for name in architecture("gru" if isinstance(module, torch.nn.GRU) else "rnn").quantities:
            low, high = gates.quantity(name).bounds
            assert traced[name].min() >= low and traced[name].max() <= high, name
