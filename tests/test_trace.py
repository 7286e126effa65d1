"""The replay must equal the torch module (nn.LSTM, nn.GRU, nn.RNN, the ablated LSTMs' fused kernel): outputs
and final states to 1e-5, for every offered configuration."""

import copy

import numpy as np
import pytest
import torch

from lstm_core.architectures import REGISTRY
from lstm_core.corpus import Vocab
from lstm_core.model import CharModel, ModelConfig
from lstm_core.trace import Intervention, replay_recurrent, trace

TEXT = "MASCARILLE.\nMa foi, tu te le sy sois touves d'arrête sa bien sans les bonheur.\n"
VOCAB = Vocab.from_text(TEXT + "xyz")


def fused(model, text, state=None):
    ids = torch.tensor([VOCAB.encode(text)])
    with torch.no_grad():
        out, (h, c) = model.lstm(model.embedding(ids), state)
    return out[0].numpy(), h[:, 0].numpy(), c[:, 0].numpy()


@pytest.mark.parametrize("layers,hidden", [(layers, hidden) for layers in (1, 2, 3) for hidden in (1, 7, 64, 512)]
                         + [(4, 1024)])  # and the Train page's largest model
def test_replay_equals_nn_lstm(layers, hidden):
    torch.manual_seed(layers * 1000 + hidden)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=hidden, num_layers=layers, dropout=0.3,
                                 forget_bias=1.0)).eval()
    out, h, c = fused(model, TEXT)
    tr = trace(model, VOCAB, TEXT)
    assert tr.hidden_state.shape == (layers, len(TEXT), hidden)
    np.testing.assert_allclose(tr.hidden_state[-1], out, atol=1e-5)
    np.testing.assert_allclose(tr.final_state[0][:, 0].numpy(), h, atol=1e-5)
    np.testing.assert_allclose(tr.final_state[1][:, 0].numpy(), c, atol=1e-5)


@pytest.mark.parametrize("layers,hidden", [(1, 16), (2, 64), (3, 128)])
def test_replay_continues_a_carried_state(layers, hidden):
    torch.manual_seed(3)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=hidden, num_layers=layers)).eval()
    first, second = TEXT[:30], TEXT[30:]
    _, h, c = fused(model, first)
    state = (torch.from_numpy(h).unsqueeze(1), torch.from_numpy(c).unsqueeze(1))
    out, h2, c2 = fused(model, second, state)
    tr = trace(model, VOCAB, second, state=trace(model, VOCAB, first).final_state)
    np.testing.assert_allclose(tr.hidden_state[-1], out, atol=1e-5)
    np.testing.assert_allclose(tr.final_state[1][:, 0].numpy(), c2, atol=1e-5)
    np.testing.assert_allclose(tr.initial_cell, c, atol=1e-6)


def test_replay_of_a_bidirectional_lstm_equals_nn_lstm():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(5, 9, num_layers=2, bidirectional=True).eval()
    x = torch.randn(11, 5)
    with torch.no_grad():
        out, (h, c) = lstm(x)
    traced = replay_recurrent(lstm, x.numpy())
    np.testing.assert_allclose(traced["output"], out.numpy(), atol=1e-5)
    np.testing.assert_allclose(traced["h_n"], h.numpy(), atol=1e-5)
    np.testing.assert_allclose(traced["c_n"], c.numpy(), atol=1e-5)


def test_gates_obey_the_lstm_equations():
    torch.manual_seed(1)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=12, num_layers=2)).eval()
    tr = trace(model, VOCAB, TEXT)
    for layer in range(2):
        c_prev = np.vstack([tr.initial_cell[layer][None], tr.cell_state[layer, :-1]])
        expected_c = tr.forget_gate[layer] * c_prev + tr.input_gate[layer] * tr.cell_candidate[layer]
        np.testing.assert_allclose(tr.cell_state[layer], expected_c, atol=1e-6)
        np.testing.assert_allclose(tr.hidden_state[layer], tr.output_gate[layer] * np.tanh(tr.cell_state[layer]), atol=1e-6)
    for gate in ("input_gate", "forget_gate", "output_gate"):
        assert (tr[gate] > 0).all() and (tr[gate] < 1).all()
    update = tr.cell_update(1, 10, 3)
    assert update["kept"] + update["written"] == pytest.approx(update["c"], abs=1e-6)
    assert update["o"] * update["tanh_c"] == pytest.approx(update["h"], abs=1e-6)


def test_probabilities_equal_the_model_head():
    torch.manual_seed(2)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=32)).eval()
    tr = trace(model, VOCAB, TEXT)
    with torch.no_grad():
        logits, _ = model(torch.tensor([VOCAB.encode(TEXT)]))
    np.testing.assert_allclose(tr.probs, torch.softmax(logits[0], -1).numpy(), atol=1e-5)
    assert tr.surprisal_bits().shape == (len(TEXT) - 1,)
    assert len(tr.top_next(0, 5)) == 5


def test_interventions_change_what_follows_and_only_that():
    torch.manual_seed(4)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=16)).eval()
    plain = trace(model, VOCAB, TEXT)
    silenced = trace(model, VOCAB, TEXT, interventions=[Intervention("hidden_state", 0, [0, 1, 2], 0.0, start=20)])
    np.testing.assert_array_equal(silenced.hidden_state[0, :20], plain.hidden_state[0, :20])
    assert (silenced.hidden_state[0, 20:, :3] == 0).all()
    assert np.abs(silenced.probs[20:] - plain.probs[20:]).max() > 1e-4
    clamped = trace(model, VOCAB, TEXT, interventions=[Intervention("forget_gate", 0, [5], 0.0)])
    assert (clamped.forget_gate[0, :, 5] == 0).all()
    np.testing.assert_allclose(clamped.cell_state[0, :, 5],
                               clamped.input_gate[0, :, 5] * clamped.cell_candidate[0, :, 5], atol=1e-6)
    edited = trace(model, VOCAB, TEXT, interventions=[Intervention("cell_state", 0, [2], 3.0, start=10, stop=11)])
    assert edited.cell_state[0, 10, 2] == pytest.approx(3.0)
    assert edited.cell_state[0, 11, 2] != pytest.approx(3.0)
    with pytest.raises(ValueError):
        Intervention("forget_gate", 0, [1], 1.5)
    with pytest.raises(ValueError):
        Intervention("bogus", 0, [1], 0.0)


def test_unknown_characters_are_replaced_and_reported():
    torch.manual_seed(5)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=8)).eval()
    tr = trace(model, VOCAB, "Où “ça”\t€")
    assert '"' not in VOCAB.chars and tr.replacements["“"] == VOCAB.fallback  # no plain quote to stand in
    quoted = Vocab.from_text(TEXT + '"')
    assert trace(CharModel(ModelConfig(len(quoted), hidden_size=8)).eval(), quoted, "“oui”").replacements == \
        {"“": '"', "”": '"'}  # the plain form, where the vocabulary has it
    assert tr.replacements["€"] == VOCAB.fallback
    assert len(tr.chars) == len("Où “ça”\t€")
    with pytest.raises(ValueError, match="no text"):
        trace(model, VOCAB, "")


def test_long_form_export_has_one_row_per_value():
    torch.manual_seed(6)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=4, num_layers=2)).eval()
    tr = trace(model, VOCAB, "Ma foi")
    frame = tr.long_frame()
    assert len(frame) == 6 * 2 * 6 * 4
    assert list(frame.columns) == ["layer", "time", "character", "unit", "quantity", "value"]
    row = frame[(frame.layer == 1) & (frame.time == 2) & (frame.unit == 3) & (frame.quantity == "cell_state")]
    assert row.value.item() == pytest.approx(float(tr.cell_state[1, 2, 3]))
    assert row.character.item() == " "


ARCHITECTURES = [("lstm", "standard"), ("gru", "standard"), ("rnn", "standard"),
                 ("lstm", "no_forget_gate"), ("lstm", "coupled_gates"), ("lstm", "no_output_gate")]


def final_hidden(architecture, state):
    """h_n of a torch module's returned state: (h, c) for an LSTM, h otherwise."""
    return state[0] if architecture == "lstm" else state


@pytest.mark.parametrize("architecture,variant", ARCHITECTURES[1:])  # the standard LSTM: test_replay_equals_nn_lstm
@pytest.mark.parametrize("layers,hidden", [(layers, hidden) for layers in (1, 2, 3) for hidden in (1, 7, 64, 512)])
def test_replay_equals_the_torch_module_for_every_architecture(architecture, variant, layers, hidden):
    """GRU and RNN against nn.GRU / nn.RNN, the ablated LSTMs against the fused kernel they train with.

    An LSTM without a forget gate sums into its cells without ever forgetting (they reach about 35 here),
    so float32 rounding piles up: the fused float32 kernel's own cells are up to 3e-5 off the exact sums
    (the same kernel in float64). Its replay computes in float64: its cells are held to 1e-5 of the
    exact ones, and its outputs, like everyone's, to 1e-5 of the float32 kernel's.
    """
    torch.manual_seed(layers * 1000 + hidden)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=hidden, num_layers=layers, dropout=0.3, forget_bias=1.0,
                                  architecture=architecture, variant=variant)).eval()
    ids = torch.tensor([VOCAB.encode(TEXT)])
    with torch.no_grad():
        out, state = model.recurrent(model.embedding(ids))
    tr = trace(model, VOCAB, TEXT)
    assert tr.architecture == architecture and tr.quantities == REGISTRY[architecture, variant].quantities
    assert tr.hidden_state.shape == (layers, len(TEXT), hidden)
    np.testing.assert_allclose(tr.hidden_state[-1], out[0].numpy(), atol=1e-5)
    np.testing.assert_allclose(final_hidden(architecture, tr.final_state)[:, 0].numpy(),
                               final_hidden(architecture, state)[:, 0].numpy(), atol=1e-5)
    if architecture == "lstm":
        if variant == "no_forget_gate":
            with torch.no_grad():
                exact = copy.deepcopy(model).double()
                _, state = exact.recurrent(exact.embedding(ids))
        np.testing.assert_allclose(tr.final_state[1][:, 0].numpy(), state[1][:, 0].numpy(), atol=1e-5)
    with torch.no_grad():
        logits, _ = model(ids)
    np.testing.assert_allclose(tr.probs, torch.softmax(logits[0], -1).numpy(), atol=1e-5)


@pytest.mark.parametrize("architecture,variant", ARCHITECTURES)
def test_every_replay_continues_a_carried_state(architecture, variant):
    torch.manual_seed(8)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=32, num_layers=2, architecture=architecture,
                                  variant=variant)).eval()
    first, second = TEXT[:30], TEXT[30:]
    ids = torch.tensor([VOCAB.encode(TEXT)])
    with torch.no_grad():
        whole, state = model.recurrent(model.embedding(ids))
    tr = trace(model, VOCAB, second, state=trace(model, VOCAB, first).final_state)
    np.testing.assert_allclose(tr.hidden_state[-1], whole[0, 30:].numpy(), atol=1e-5)
    np.testing.assert_allclose(final_hidden(architecture, tr.final_state)[:, 0].numpy(),
                               final_hidden(architecture, state)[:, 0].numpy(), atol=1e-5)


def test_the_gru_replay_obeys_its_equations():
    torch.manual_seed(9)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=10, num_layers=2, architecture="gru")).eval()
    tr = trace(model, VOCAB, TEXT)
    for layer in range(2):
        h_prev = np.vstack([np.zeros((1, 10)), tr.hidden_state[layer, :-1]])
        expected = (1 - tr.update_gate[layer]) * tr.new_gate[layer] + tr.update_gate[layer] * h_prev
        np.testing.assert_allclose(tr.hidden_state[layer], expected, atol=1e-6)
    parts = tr.cell_update(1, 5, 2)
    assert parts["kept"] + parts["written"] == pytest.approx(parts["h"], abs=1e-6)
    assert set(parts) >= {"r", "z", "n", "h", "h_prev"}
    with pytest.raises(AttributeError, match="no cell state"):
        tr.cell_state  # noqa: B018 - the attribute access is the test
    with pytest.raises(KeyError, match="reset_gate"):
        tr["forget_gate"]


def test_ablated_lstms_fix_or_tie_their_gates_exactly():
    torch.manual_seed(10)
    traces = {variant: trace(CharModel(ModelConfig(len(VOCAB), hidden_size=16, architecture="lstm", variant=variant,
                                                   forget_bias=1.0)).eval(), VOCAB, TEXT)
              for variant in ("no_forget_gate", "coupled_gates", "no_output_gate")}
    assert (traces["no_forget_gate"].forget_gate == 1.0).all()  # exactly one, not nearly
    coupled = traces["coupled_gates"]
    np.testing.assert_allclose(coupled.input_gate, 1 - coupled.forget_gate, atol=1e-6)
    assert (traces["no_output_gate"].output_gate == 1.0).all()
    np.testing.assert_allclose(traces["no_output_gate"].hidden_state, np.tanh(traces["no_output_gate"].cell_state),
                               atol=1e-6)


def test_gru_and_rnn_interventions():
    torch.manual_seed(11)
    gru = CharModel(ModelConfig(len(VOCAB), hidden_size=12, architecture="gru")).eval()
    plain = trace(gru, VOCAB, TEXT)
    held = trace(gru, VOCAB, TEXT, interventions=[Intervention("update_gate", 0, [3], 1.0, start=10)])
    assert (held.hidden_state[0, 10:, 3] == plain.hidden_state[0, 9, 3]).all()  # z = 1 keeps the state as it was
    rnn = CharModel(ModelConfig(len(VOCAB), hidden_size=12, architecture="rnn")).eval()
    silenced = trace(rnn, VOCAB, TEXT, interventions=[Intervention("hidden_state", 0, [0, 5], 0.0)])
    assert (silenced.hidden_state[0, :, [0, 5]] == 0).all()
    with pytest.raises(ValueError, match="RNN has no forget gate"):
        trace(rnn, VOCAB, TEXT, interventions=[Intervention("forget_gate", 0, [0], 0.0)])
