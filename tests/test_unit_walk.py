"""One unit of a trained model walked through text (lstm_core.unit_walk): the model's own numbers,
through the cell's one recurrence."""

import numpy as np
import pytest
import torch

from lstm_core import CharModel, ModelConfig, PRETRAINED_DIR, Vocab, load_run, trace
from lstm_core import unit_walk


def tiny_model(layers=2):
    torch.manual_seed(0)
    vocab = Vocab.from_text("abcde .\n")
    return CharModel(ModelConfig(vocab_size=len(vocab), hidden_size=6, num_layers=layers, embedding_dim=4)).eval(), vocab


@pytest.mark.parametrize("layer", [0, 1])
def test_walk_unit_uses_the_models_own_numbers(layer):
    model, vocab = tiny_model()
    text = "abc de.\nba"
    walk = unit_walk.walk_unit(model, vocab, text, unit=3, layer=layer)
    exact = trace(model, vocab, text)
    assert walk.deviation < 1e-5
    np.testing.assert_allclose(walk.cell_state, exact.cell_state[layer, :, 3], atol=1e-5)
    np.testing.assert_allclose(walk.gates[:, 1], exact.forget_gate[layer, :, 3], atol=1e-5)
    step = walk.step(4)  # one step, as the lab shows it: the same numbers from the three parts
    assert step.pre.shape == (4, 1) and step.c_prev[0] == pytest.approx(exact.cell_state[layer, 3, 3], abs=1e-6)
    assert abs(step.cell_state[0] - exact.cell_state[layer, 4, 3]) < 1e-5
    assert abs(step.hidden_state[0] - exact.hidden_state[layer, 4, 3]) < 1e-5
    np.testing.assert_allclose(step.from_input + step.from_hidden + step.bias, step.pre, atol=1e-12)
    assert step.h_prev[0] == pytest.approx(exact.hidden_state[layer, 3, 3], abs=1e-6)
    with pytest.raises(ValueError, match="units per layer"):
        unit_walk.walk_unit(model, vocab, text, unit=6)


def test_walk_unit_on_the_pretrained_model():
    run = load_run(PRETRAINED_DIR)
    text = "DORINE.\nTartuffe ? Il se porte à merveille."
    traced = trace(run.model, run.vocab, text)
    busiest = unit_walk.busiest_units(traced, k=3)
    assert len(set(busiest)) == 3
    walk = unit_walk.walk_unit(run.model, run.vocab, text, busiest[0], traced=traced)
    assert walk.deviation < 1e-5 and walk.cell_state.std() > 0
