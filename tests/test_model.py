"""The character model: its settings, shapes, carried state and forget-gate bias."""

import pytest
import torch

from lstm_core import CharModel, ModelConfig


def test_defaults_follow_the_seed_notebook():
    config = ModelConfig(vocab_size=76)
    assert (config.hidden_size, config.num_layers, config.embedding_dim) == (128, 1, 128)
    assert ModelConfig(76, hidden_size=64).embedding_dim == 64  # embedding as wide as the hidden state
    assert ModelConfig(76, hidden_size=64, embedding_dim=8).embedding_dim == 8


@pytest.mark.parametrize("settings,message", [
    (dict(hidden_size=0), "hidden size must be between 1 and 1024, got 0"),
    (dict(hidden_size=2048), "hidden size"),
    (dict(num_layers=0), "layers must be between 1 and 4"),
    (dict(num_layers=5), "layers"),
    (dict(embedding_dim=-1), "embedding size"),
    (dict(dropout=1.0), "dropout must be between 0.0 and 0.9"),
    (dict(dropout=float("nan")), "dropout"),
    (dict(vocab_size=0), "vocabulary size"),
])
def test_out_of_range_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        ModelConfig(**{"vocab_size": 20, **settings})


def test_forward_shapes():
    model = CharModel(ModelConfig(20, hidden_size=12, num_layers=3, embedding_dim=5))
    ids = torch.randint(0, 20, (4, 7))  # (batch, time)
    logits, (h, c) = model(ids)
    assert logits.shape == (4, 7, 20)  # one distribution per position
    assert h.shape == c.shape == (3, 4, 12)  # (layers, batch, units)
    zero_h, zero_c = model.zero_state(4)
    assert zero_h.shape == (3, 4, 12) and not zero_h.any() and not zero_c.any()
    assert torch.equal(model(ids, (zero_h, zero_c))[0], logits)  # no state means a zero state


def test_carried_state_continues_the_sequence():
    torch.manual_seed(0)
    model = CharModel(ModelConfig(20, hidden_size=10, num_layers=2)).eval()
    ids = torch.randint(0, 20, (2, 12))
    with torch.no_grad():
        whole, _ = model(ids)
        first, state = model(ids[:, :5])
        rest, _ = model(ids[:, 5:], state)
        fresh, _ = model(ids[:, 5:])
    assert torch.allclose(torch.cat([first, rest], dim=1), whole, atol=1e-6)
    assert not torch.allclose(fresh, whole[:, 5:], atol=1e-3)  # a reset state changes the predictions


def test_dropout_only_between_layers_and_only_in_training():
    assert CharModel(ModelConfig(20, hidden_size=8, dropout=0.5)).lstm.dropout == 0.0  # one layer: none inside
    model = CharModel(ModelConfig(20, hidden_size=8, num_layers=2, dropout=0.5))
    assert model.lstm.dropout == 0.5
    ids = torch.randint(0, 20, (2, 6))
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(ids)[0], model(ids)[0])


def test_forget_bias_touches_only_the_forget_gate():
    torch.manual_seed(0)
    before = {k: v.clone() for k, v in CharModel(ModelConfig(20, hidden_size=6, num_layers=2)).lstm.named_parameters()}
    torch.manual_seed(0)  # the same draws, then the forget-gate bias set to 2
    model = CharModel(ModelConfig(20, hidden_size=6, num_layers=2, forget_bias=2.0))
    for layer in range(2):
        for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
            bias, old = getattr(model.lstm, name), before[name]
            assert torch.equal(bias[6:12], torch.full((6,), 1.0))  # half of the value in each bias vector
            assert torch.equal(bias[:6], old[:6]) and torch.equal(bias[12:], old[12:])
    configured = CharModel(ModelConfig(20, hidden_size=6, forget_bias=1.0)).lstm
    assert torch.equal((configured.bias_ih_l0 + configured.bias_hh_l0)[6:12], torch.ones(6))
