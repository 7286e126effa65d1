"""Gradient flow through time against autograd, position by position; it vanishes faster without gates."""

import numpy as np
import pytest
import torch

from lstm_core.corpus import Vocab
from lstm_core.gradients import gradient_flow
from lstm_core.model import CharModel, ModelConfig
from lstm_core.recurrence import fused_layers
from lstm_core.trace import trace

TEXT = ("HARPAGON.\nAu voleur! au voleur! à l'assassin! au meurtrier! Justice, juste ciel! Je suis perdu, "
        "je suis assassiné; on m'a coupé la gorge; on m'a dérobé mon argent.\n")
VOCAB = Vocab.from_text(TEXT)


def autograd_norms(model, text, t, max_lag):
    """||dL_t/dh_(t-k)|| and ||dL_t/dc_(t-k)|| for one position t, reading the text from its start through
    the fused kernel one layer and one step at a time, with torch.autograd.grad: the definition written
    out plainly, sharing no code with the measurement.

    The kernel's c output only feeds the next step (h_t = o * tanh(c_t) is computed inside), so the
    total derivative adds the path through h: dL/dc_s = dL/dc_s|_h + dL/dh_s * o_s * (1 - tanh(c_s)^2),
    with o_s and c_s from the exact replay."""
    model = _copy(model).double()
    ids = torch.tensor(VOCAB.encode(text))
    core, lstm = model.recurrent, model.architecture == "lstm"
    layers = core.num_layers
    states = [None] * layers
    hs, cs = [], []  # per step: one tensor per layer
    for step in range(t + 1):
        x = model.embedding(ids[step:step + 1]).unsqueeze(0)  # (1, 1, embedding)
        for layer in range(layers):
            _, states[layer] = fused_layers(model.arch, core, x, layer, layer + 1, states[layer])
            x = (states[layer][0] if lstm else states[layer]).transpose(0, 1)  # feeds the layer above, same step
        hs.append([s[0] if lstm else s for s in states])
        cs.append([s[1] for s in states] if lstm else [])
    loss = torch.nn.functional.cross_entropy(model.head(hs[t][-1][0]), ids[t + 1:t + 2])
    wanted = [hs[t - k][layer] for k in range(max_lag + 1) for layer in range(layers)]
    if lstm:
        wanted += [cs[t - k][layer] for k in range(max_lag + 1) for layer in range(layers)]
    grads = [g.reshape(-1) if g is not None else torch.zeros(core.hidden_size, dtype=torch.float64)
             for g in torch.autograd.grad(loss, wanted, allow_unused=True)]
    count = (max_lag + 1) * layers
    h_grads = np.array([g.numpy() for g in grads[:count]]).reshape(max_lag + 1, layers, -1)
    h_norms = np.linalg.norm(h_grads, axis=-1).T  # (layers, lags)
    if not lstm:
        return h_norms, None
    c_partial = np.array([g.numpy() for g in grads[count:]]).reshape(max_lag + 1, layers, -1)
    replay = trace(model.float(), VOCAB, text[:t + 1])
    steps = [t - k for k in range(max_lag + 1)]
    o = replay.output_gate[:, steps].transpose(1, 0, 2)  # (lags, layers, hidden)
    c = replay.cell_state[:, steps].transpose(1, 0, 2)
    c_total = c_partial + h_grads * o * (1 - np.tanh(c) ** 2)
    return h_norms, np.linalg.norm(c_total, axis=-1).T


@pytest.mark.parametrize("architecture", ["lstm", "gru", "rnn"])
def test_gradient_flow_equals_autograd_position_by_position(architecture):
    torch.manual_seed(0)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=12, num_layers=2, embedding_dim=6,
                                  architecture=architecture)).eval()
    max_lag = 25
    flow = gradient_flow(model, VOCAB, TEXT, max_lag=max_lag, positions=5)
    assert flow.hidden.shape == (2, max_lag + 1) and len(flow.positions) == 5
    expected_h, expected_c = [], []
    for t in flow.positions:
        h, c = autograd_norms(model, TEXT, t, max_lag)
        expected_h.append(h)
        expected_c.append(c)
    np.testing.assert_allclose(flow.hidden, np.mean(expected_h, axis=0), rtol=1e-9)
    if architecture == "lstm":
        np.testing.assert_allclose(flow.cell, np.mean(expected_c, axis=0), rtol=1e-5)  # o, c from float32
    else:
        assert flow.cell is None
    frame = flow.frame()
    assert list(frame.columns[:3]) == ["lag", "layer", "hidden_norm"] and len(frame) == 2 * (max_lag + 1)


def _copy(model):
    twin = CharModel(model.config)
    twin.load_state_dict(model.state_dict())
    return twin.eval()


def test_a_plain_rnn_loses_its_gradient_faster_than_an_lstm_with_an_open_forget_gate():
    text = TEXT * 3
    torch.manual_seed(1)
    rnn = CharModel(ModelConfig(len(VOCAB), hidden_size=32, architecture="rnn")).eval()
    lstm = CharModel(ModelConfig(len(VOCAB), hidden_size=32, forget_bias=5.0)).eval()
    at = 60
    rnn_left = gradient_flow(rnn, VOCAB, text, max_lag=at, positions=8).ratio_at(at)
    lstm_flow = gradient_flow(lstm, VOCAB, text, max_lag=at, positions=8)
    assert lstm_flow.ratio_at(at) > 1e3 * rnn_left
    assert 0 < rnn_left < 1e-6  # vanished, yet measured (float64: not flushed to zero)
    assert (np.diff(np.log(lstm_flow.cell[0, 1:])) < 0.2).all()  # no explosion along the carousel


def test_bad_requests_are_refused():
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=4))
    with pytest.raises(ValueError, match="need at least"):
        gradient_flow(model, VOCAB, TEXT[:50], max_lag=60)
    with pytest.raises(ValueError, match="largest lag"):
        gradient_flow(model, VOCAB, TEXT, max_lag=0)
