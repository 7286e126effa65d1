"""Sampling: greedy is deterministic, seeds reproduce, filters cut what they should."""

import pytest
import torch

from lstm_core.corpus import Vocab
from lstm_core.model import CharLSTM, ModelConfig
from lstm_core.sampling import next_char_distribution, sample, sample_stream

VOCAB = Vocab.from_text("abcdefgh \n.")


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    return CharLSTM(ModelConfig(len(VOCAB), hidden_size=16)).eval()


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
