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
        line = next(printed_line for printed_line in lines if printed_line.startswith(name + " "))
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


DEMO_GRID = [LSTMSettings(input_size=i, hidden_size=h, num_layers=layers, bias=bias, batch_first=bf,
                          bidirectional=bi, proj_size=proj, dropout=dropout)
             for (i, h), layers, bias, bf, bi, proj, dropout in [
                 ((4, 6), 1, True, False, False, 0, 0.0), ((4, 6), 2, True, False, True, 0, 0.0),
                 ((3, 5), 2, False, True, True, 2, 0.5), ((2, 8), 3, True, True, False, 3, 0.3),
                 ((1, 2), 1, True, True, True, 0, 0.0)]]
DEMO_IDS = [explorer.module_call(s) for s in DEMO_GRID]


def direct_lstm(batch):
    """A plain nn.LSTM with the demo's arguments and weights, fed the demo's padded batch directly."""
    reference = torch.nn.LSTM(**batch.settings.module_arguments()).eval()
    reference.load_state_dict(batch.lstm.state_dict())
    ids = torch.nn.utils.rnn.pad_sequence(batch.ids, batch_first=batch.settings.batch_first)
    with torch.no_grad():
        return reference(batch.embedding(ids))


def test_the_demo_runs_the_sidebars_configuration():
    settings = LSTMSettings(input_size=4, hidden_size=6, num_layers=2, bidirectional=True)
    batch = explorer.sentence_batch(settings=settings)
    lstm = batch.lstm
    assert (lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.bidirectional) == (4, 6, 2, True)
    assert not lstm.training and batch.embedding.embedding_dim == 4
    assert explorer.module_call(settings) == "nn.LSTM(4, 6, num_layers=2, bidirectional=True)"
    forward = explorer.batch_forward(batch)
    assert forward.input_shape == (7, 3, 4) and forward.output_shape == (7, 3, 12)  # (L, N, ...): batch_first=False
    assert forward.h_n.shape == (4, 3, 6)
    output, (h_n, _) = direct_lstm(batch)
    np.testing.assert_allclose(forward.output, output.transpose(0, 1).numpy(), atol=1e-6)
    np.testing.assert_allclose(forward.h_n, h_n.numpy(), atol=1e-6)
    assert batch.top_rows == [2, 3] and batch.row_name(3) == "layer 1, reverse"


@pytest.mark.parametrize("settings", DEMO_GRID, ids=DEMO_IDS)
def test_batch_keeps_one_state_per_sentence(settings):
    batch = explorer.sentence_batch(settings=settings)
    forward = explorer.batch_forward(batch)
    directions, out_size = 1 + settings.bidirectional, settings.proj_size or settings.hidden_size
    order = (3, 7) if settings.batch_first else (7, 3)
    assert forward.input_shape == (*order, settings.input_size)
    assert forward.output_shape == (*order, directions * out_size)
    assert forward.output.shape == (3, 7, directions * out_size)  # read batch-major whatever the layout
    assert forward.h_n.shape == (directions * settings.num_layers, 3, out_size)
    output, (h_n, _) = direct_lstm(batch)
    np.testing.assert_allclose(forward.output, batch.batch_major(output).numpy(), atol=1e-6)
    np.testing.assert_allclose(forward.h_n, h_n.numpy(), atol=1e-6)
    assert forward.packed_gap < 1e-5
    if settings.bidirectional:  # the reverse direction reads the padding before a shorter sentence's words
        assert forward.alone_gap > 1e-3
    else:
        assert forward.alone_gap < 1e-5
    top = batch.top_rows
    longest = int(np.argmax(batch.lengths))
    np.testing.assert_allclose(forward.h_n[top[0], longest], forward.last_real_output[longest, :out_size], atol=1e-6)
    if settings.bidirectional:  # the reverse direction ends at step 0
        np.testing.assert_allclose(forward.h_n[top[1]], forward.output[:, 0, out_size:], atol=1e-6)


@pytest.mark.parametrize("settings", DEMO_GRID, ids=DEMO_IDS)
def test_packing_gives_the_right_h_n_and_padding_does_not(settings):
    batch = explorer.sentence_batch(settings=settings)
    demo = explorer.packing_demo(batch)
    assert demo.batch_sizes == [3, 3, 3, 2, 2, 1, 1]
    assert demo.true_h_n.shape == demo.packed_h_n.shape == (
        (1 + settings.bidirectional) * settings.num_layers, 3, settings.proj_size or settings.hidden_size)
    assert demo.packed_error.max() < 1e-5
    for length, error in zip(batch.lengths, demo.padded_error):
        if length < max(batch.lengths):
            assert error > 1e-3  # the padding steps changed the state
        else:
            assert error < 1e-5


@pytest.mark.parametrize("settings", DEMO_GRID, ids=DEMO_IDS)
def test_carried_state_changes_the_outputs_and_padding_stays_empty(settings):
    batch = explorer.sentence_batch(settings=settings)
    carry = explorer.carry_versus_reset(batch)
    assert (carry.difference[:, 0] > 1e-3).all()
    for b, length in enumerate(batch.lengths):
        assert np.isnan(carry.difference[b, length:]).all() and not np.isnan(carry.difference[b, :length]).any()


@pytest.mark.parametrize("settings", DEMO_GRID, ids=DEMO_IDS)
def test_detach_stops_the_gradient_at_the_chunk_start(settings):
    demo = explorer.detach_demo(settings, chunk_len=6)
    assert (demo.with_detach[:6] == 0).all()
    assert (demo.without_detach[:6] > 0).all()
    np.testing.assert_allclose(demo.with_detach[6:], demo.without_detach[6:], rtol=1e-5)
    assert (demo.with_detach[6:] > 0).all()


def test_a_refused_configuration_gets_pytorchs_words_not_a_traceback():
    with pytest.raises(ValueError, match="proj_size has to be smaller than hidden_size"):
        explorer.sentence_batch(settings=LSTMSettings(hidden_size=4, proj_size=4))
    with pytest.raises(ValueError, match="at most 256"):
        explorer.detach_demo(LSTMSettings(hidden_size=257))


@pytest.mark.parametrize("settings", DEMO_GRID, ids=DEMO_IDS)
def test_layout_dropout_and_the_random_inputs_size_change_no_weight_and_no_demo_number(settings):
    shared = explorer.weights_only(settings)
    assert shared.num_layers == settings.num_layers and not shared.batch_first and shared.dropout == 0
    for name, values in explorer.explore(settings).values.items():
        np.testing.assert_array_equal(values, explorer.explore(shared).values[name])
    batch, plain = explorer.sentence_batch(settings=settings), explorer.sentence_batch(settings=shared)
    np.testing.assert_allclose(explorer.batch_forward(batch).output, explorer.batch_forward(plain).output, atol=1e-6)
    np.testing.assert_allclose(explorer.carry_versus_reset(batch).difference,
                               explorer.carry_versus_reset(plain).difference, atol=1e-6)
    np.testing.assert_allclose(explorer.packing_demo(batch).padded_h_n, explorer.packing_demo(plain).padded_h_n,
                               atol=1e-6)
    np.testing.assert_allclose(explorer.detach_demo(settings, 5).without_detach,
                               explorer.detach_demo(shared, 5).without_detach, rtol=1e-5)


def test_plain_kernels_give_the_same_numbers_and_put_the_switch_back():
    lstm = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True).eval()
    x = torch.randn(7, 3, 4)
    before = torch.backends.mkldnn.enabled
    with torch.no_grad():
        expected, _ = lstm(x)
        with explorer.plain_kernels():
            assert not torch.backends.mkldnn.enabled
            got, _ = lstm(x)
    assert torch.backends.mkldnn.enabled == before
    torch.testing.assert_close(got, expected, atol=1e-6, rtol=0)


def test_sentence_batch_refuses_bad_input():
    with pytest.raises(ValueError, match="two to four"):
        explorer.sentence_batch(["only one"])
    with pytest.raises(ValueError, match="1 to 12 words"):
        explorer.sentence_batch(["a " * 13, "b"])
