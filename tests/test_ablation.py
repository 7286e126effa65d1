"""Unit ablation: each unit silenced over a text, batched, equals the trace's own intervention."""

import numpy as np
import pytest
import torch

from lstm_core.ablation import unit_ablation
from lstm_core.corpus import Vocab
from lstm_core.model import CharModel, ModelConfig
from lstm_core.trace import Intervention, trace

TEXT = "DORINE.\nMadame, il faut que je vous dise\nQue ce sont des propos dont on vous a fait part.\n"
VOCAB = Vocab.from_text(TEXT)


def traced_loss(model, interventions=()):
    probs = trace(model, VOCAB, TEXT, interventions=interventions).probs
    ids = VOCAB.encode(TEXT)
    return -np.mean(np.log(probs[np.arange(len(ids) - 1), ids[1:]]))


@pytest.mark.parametrize("architecture,variant,layer", [("lstm", "standard", 0), ("lstm", "standard", 1),
                                                        ("gru", "standard", 0), ("rnn", "standard", 1),
                                                        ("lstm", "coupled_gates", 0)])
def test_ablation_equals_silencing_in_the_trace(architecture, variant, layer):
    torch.manual_seed(3)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=9, num_layers=2, embedding_dim=5,
                                  architecture=architecture, variant=variant)).eval()
    result = unit_ablation(model, VOCAB, TEXT, layer=layer)
    assert result.baseline == pytest.approx(traced_loss(model), abs=1e-5)
    for unit in range(9):
        silenced = traced_loss(model, [Intervention("hidden_state", layer, [unit], 0.0)])
        assert result.losses[unit] == pytest.approx(silenced, abs=1e-5)
    frame = result.frame()
    assert list(frame["unit"]) == list(np.argsort(-(result.losses - result.baseline), kind="stable"))
    assert frame["delta"].is_monotonic_decreasing and result.characters == len(TEXT) - 1


def test_units_go_in_groups_and_bad_layers_are_refused(monkeypatch):
    torch.manual_seed(4)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=6)).eval()
    whole = unit_ablation(model, VOCAB, TEXT)
    monkeypatch.setattr("lstm_core.ablation.MAX_BATCH_VALUES", 1)  # one unit per group
    np.testing.assert_allclose(unit_ablation(model, VOCAB, TEXT).losses, whole.losses, atol=1e-6)
    some = unit_ablation(model, VOCAB, TEXT, units=[4, 1])
    assert np.isnan(some.losses[[0, 2, 3, 5]]).all() and some.losses[4] == pytest.approx(whole.losses[4], abs=1e-6)
    with pytest.raises(ValueError, match="layer 1 does not exist"):
        unit_ablation(model, VOCAB, TEXT, layer=1)
