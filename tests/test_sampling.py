"""Sampling: greedy is deterministic, seeds reproduce, filters cut what they should."""

import numpy as np
import pytest
import torch

import lstm_core
from lstm_core.corpus import Vocab
from lstm_core.execution.own_process import in_own_process
from lstm_core.model import CharModel, ModelConfig
from lstm_core.sampling import (BLAS, LSTMStepper, next_char_distribution, one_thread, sample, sample_stream,
                                sample_with_interventions)

VOCAB = Vocab.from_text("abcdefgh \n.")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return CharModel(ModelConfig(len(VOCAB), hidden_size=16)).eval()


def test_temperature_zero_is_greedy_and_deterministic(model):
    first = sample(model, VOCAB, "abc", 40, temperature=0)
    assert first == sample(model, VOCAB, "abc", 40, temperature=0, seed=123)
    steps = list(sample_stream(model, VOCAB, "abc", 5, temperature=0))
    assert all(step.prob == 1.0 for step in steps)
    assert steps[0].char == VOCAB.chars[int(steps[0].raw_probs.argmax())]


def test_seed_reproduces_and_differs_between_seeds(model):
    a = sample(model, VOCAB, "a", 80, temperature=1.5, seed=1)
    assert a == sample(model, VOCAB, "a", 80, temperature=1.5, seed=1)
    assert a != sample(model, VOCAB, "a", 80, temperature=1.5, seed=2)
    assert len(a) == 80


def test_filters():
    logits = torch.tensor([3.0, 2.0, 1.0, 0.0])
    assert (next_char_distribution(logits, 1.0, top_k=2) > 0).sum() == 2
    probs = next_char_distribution(logits, 1.0, top_p=0.5)
    assert (probs > 0).sum() == 1 and probs.sum() == pytest.approx(1.0)
    cold, hot = next_char_distribution(logits, 0.5), next_char_distribution(logits, 2.0)
    assert cold[0] > next_char_distribution(logits, 1.0)[0] > hot[0]


@pytest.mark.parametrize("kwargs,message", [
    (dict(temperature=-1), "Temperature"), (dict(top_k=0), "top-k"), (dict(top_p=1.5), "top-p"),
    (dict(length=10**7), "Length"),
])
def test_bad_settings_are_refused(model, kwargs, message):
    args = dict(prime="a", length=5, temperature=1.0) | kwargs
    with pytest.raises(ValueError, match=message):
        sample(model, VOCAB, **args)


def test_unknown_prime_characters_are_replaced(model):
    assert len(sample(model, VOCAB, "Zé€", 3, temperature=0)) == 3


@pytest.mark.parametrize("layers", [1, 3])
def test_the_numpy_step_equals_the_fused_lstm(layers):
    """Sampling steps a plain LSTM in numpy (LSTMStepper): its logits and states are the model's."""
    torch.manual_seed(layers)
    net = lstm_core.CharModel(ModelConfig(12, hidden_size=16, num_layers=layers, embedding_dim=5)).eval()
    assert LSTMStepper.suits(net)
    stepper = LSTMStepper(net)
    ids = [3, 1, 4, 1, 5, 9, 2, 6]
    with torch.no_grad():
        logits, state = net(torch.tensor([ids[:1]]), None)
        numpy_state = LSTMStepper.from_torch(state)
        for char in ids[1:]:
            logits, state = net(torch.tensor([[char]]), state)
            numpy_logits, numpy_state = stepper.step(char, numpy_state)
            np.testing.assert_allclose(numpy_logits, logits[0, -1].numpy(), atol=1e-5)
    back = LSTMStepper.to_torch(numpy_state)
    for ours, theirs in zip(back, state):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)


def test_models_the_numpy_step_does_not_compute_keep_the_fused_path():
    gru = lstm_core.CharModel(ModelConfig(len(VOCAB), hidden_size=8, architecture="gru"))
    variant = lstm_core.CharModel(ModelConfig(len(VOCAB), hidden_size=8, variant="no_forget_gate"))
    assert not LSTMStepper.suits(gru) and not LSTMStepper.suits(variant)
    assert len(sample(gru, VOCAB, "abc", 30, temperature=1.0, seed=0)) == 30


def test_sampling_without_interventions_writes_what_sample_writes(model):
    assert sample_with_interventions(model, VOCAB, "ab", 80, (), temperature=0.9, seed=4) == \
        sample(model, VOCAB, "ab", 80, temperature=0.9, seed=4)


def _interleaved_sessions() -> tuple:
    """Two sessions' one_thread, interleaved, in a process with no other thread: the settings before, while
    the second alone holds it, and after both left."""
    def settings():
        return torch.get_num_threads(), [lib["num_threads"] for lib in BLAS.select(user_api="blas").info()]

    before = settings()
    first, second = one_thread(), one_thread()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    held = settings()
    second.__exit__(None, None, None)
    return before, held, settings()


def test_one_thread_limits_torch_and_numpy_blas_until_the_last_user_leaves():
    """Two sessions sampling at once, their steps interleaved: the first to leave must not give the other
    back its threads, and the last restores the settings from before (not the other's "previous" one).
    (In a fresh process: these settings are the process's, and a test process has other threads.)"""
    before, held, after = in_own_process(_interleaved_sessions, threads=2)
    assert held[0] == 1 and all(threads == 1 for threads in held[1])
    assert after == before
