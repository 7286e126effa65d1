"""The nn.LSTM explorer: reported shapes and parameters equal a real nn.LSTM; the demonstrations' claims hold."""

import contextlib
import io
import itertools
import re

import numpy as np
import pytest
import torch

from lstm_core import explorer
from lstm_core.explorer import LSTMSettings

GRID = [LSTMSettings(input_size=i, hidden_size=h, num_layers=layers, bias=bias, batch_first=bf,
                     bidirectional=bi, proj_size=proj, seq_len=4, batch_size=2)
        for (i, h), layers, bias, bf, bi, proj in itertools.product(
            [(3, 5), (1, 2)], [1, 2], [True, False], [False, True], [False, True], [0, 1])]


@pytest.mark.parametrize("settings", GRID, ids=lambda s: "-".join(str(v) for v in vars(s).values()))
def test_reported_shapes_and_parameters_equal_a_real_lstm(settings):
    result = explorer.explore(settings)
    assert result.ok and not result.warnings
    reference = torch.nn.LSTM(**settings.module_arguments())
    dims = (settings.batch_size, settings.seq_len) if settings.batch_first else (settings.seq_len, settings.batch_size)
    x = torch.randn(*dims, settings.input_size)
    output, (h_n, c_n) = reference(x)
    assert result.shapes == {"input": tuple(x.shape), "output": tuple(output.shape),
                             "h_n": tuple(h_n.shape), "c_n": tuple(c_n.shape)}
    expected = [(name, tuple(p.shape)) for name, p in reference.named_parameters()]
    assert [(p.name, p.shape) for p in result.parameters] == expected
    assert result.total_parameters == sum(p.numel() for p in reference.parameters())
    for p in result.parameters:
        if p.name.startswith("weight_hr"):
            assert p.blocks == []
        else:
            assert [g for g, _, _ in p.blocks] == ["i", "f", "g", "o"]
            assert p.blocks[-1][2] + 1 == p.shape[0] == 4 * settings.hidden_size


@pytest.mark.parametrize("settings", [GRID[0], GRID[-1], LSTMSettings(num_layers=3, dropout=0.5, batch_first=True)])
def test_generated_snippet_runs_and_prints_the_reported_shapes(settings):
    result = explorer.explore(settings)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(result.snippet, "snippet", "exec"), {})
    lines = printed.getvalue().splitlines()
    for name in ("output", "h_n", "c_n"):
        line = next(l for l in lines if l.startswith(name + " "))
        assert tuple(int(v) for v in re.findall(r"\d+", line.split(" ", 1)[1])) == result.shapes[name]
    assert lines[-1] == f"parameters {result.total_parameters}"
    assert len(lines) == 3 + len(result.parameters) + 1


def test_bad_combinations_give_pytorchs_own_words():
    warned = explorer.explore(LSTMSettings(dropout=0.2, num_layers=1))
    assert warned.ok and any("non-zero dropout expects num_layers greater than 1" in w for w in warned.warnings)
    too_big = explorer.explore(LSTMSettings(hidden_size=4, proj_size=4))
    assert not too_big.ok and "proj_size has to be smaller than hidden_size" in too_big.error
    assert "greater than zero" in explorer.explore(LSTMSettings(hidden_size=0)).error
    assert "range [0, 1]" in explorer.explore(LSTMSettings(dropout=1.5)).error
    assert not explorer.explore(LSTMSettings(seq_len=0)).ok


def test_batch_keeps_one_state_per_sentence():
    batch = explorer.sentence_batch()
    forward = explorer.batch_forward(batch)
    assert batch.lengths == [5, 7, 3]
    assert forward.output.shape == (3, 7, 4)
    assert forward.alone_gap < 1e-6
    longest = int(np.argmax(batch.lengths))
    np.testing.assert_allclose(forward.h_n[longest], forward.last_real_output[longest], atol=1e-6)


def test_packing_gives_the_right_h_n_and_padding_does_not():
    batch = explorer.sentence_batch()
    demo = explorer.packing_demo(batch)
    assert demo.batch_sizes == [3, 3, 3, 2, 2, 1, 1]
    assert demo.packed_error.max() < 1e-6
    for length, error in zip(batch.lengths, demo.padded_error):
        if length < max(batch.lengths):
            assert error > 1e-3  # the padding steps changed the state
        else:
            assert error < 1e-6


def test_carried_state_changes_the_outputs_and_padding_stays_empty():
    batch = explorer.sentence_batch()
    carry = explorer.carry_versus_reset(batch)
    assert (carry.difference[:, 0] > 1e-3).all()
    for b, length in enumerate(batch.lengths):
        assert np.isnan(carry.difference[b, length:]).all() and not np.isnan(carry.difference[b, :length]).any()


def test_detach_stops_the_gradient_at_the_chunk_start():
    demo = explorer.detach_demo(chunk_len=6)
    assert (demo.with_detach[:6] == 0).all()
    assert (demo.without_detach[:6] > 0).all()
    np.testing.assert_allclose(demo.with_detach[6:], demo.without_detach[6:], rtol=1e-5)
    assert (demo.with_detach[6:] > 0).all()


def test_sentence_batch_refuses_bad_input():
    with pytest.raises(ValueError, match="two to four"):
        explorer.sentence_batch(["only one"])
    with pytest.raises(ValueError, match="1 to 12 words"):
        explorer.sentence_batch(["a " * 13, "b"])
