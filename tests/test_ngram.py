"""The n-gram baseline: Witten-Bell interpolation checked by hand on a tiny text, and on Molière's split."""

import math

import numpy as np
import pytest

from lstm_core.ngram import NGramModel, corpus_baseline


def test_witten_bell_by_hand():
    """Vocabulary {a, b, c} (V = 3), training text "abab", order 2.

    Unigrams: c(a) = 2, c(b) = 2, N = 4, N1+(.) = 2 distinct, so
        P1(a) = P1(b) = (2 + 2/3) / (4 + 2) = 4/9,   P1(c) = (0 + 2/3) / 6 = 1/9.
    Bigrams: after "a": b twice, so c(a) = 2 continuing, N1+(a .) = 1:
        P2(b | a) = (2 + 1 * 4/9) / (2 + 1) = 22/27,   P2(a | a) = (0 + 4/9) / 3 = 4/27.
    After "b": a once (the last b continues nothing): c(b) = 1, N1+(b .) = 1:
        P2(a | b) = (1 + 4/9) / 2 = 13/18,   P2(c | b) = (0 + 1/9) / 2 = 1/18.
    After "c" (never seen): the unigram, P2(a | c) = 4/9.
    """
    model = NGramModel(order=2, vocab_size=3).fit([0, 1, 0, 1])
    text = [0, 1, 0, 0, 1, 2, 0]  # a b a a b c a
    expected = [1 / 3 * 0 + 4 / 9,  # position 0: no context, the unigram
                22 / 27, 13 / 18, 4 / 27, 22 / 27, 1 / 18, 4 / 9]
    np.testing.assert_allclose(np.exp(model.log_probs(text)), expected, rtol=1e-12)
    assert model.loss(text) == pytest.approx(-np.mean(np.log(expected[1:])), rel=1e-12)
    for context in range(3):  # each conditional distribution sums to one
        probs = [np.exp(model.log_probs([context, w])[1]) for w in range(3)]
        assert sum(probs) == pytest.approx(1.0, abs=1e-12)


def test_order_one_is_the_smoothed_unigram_and_bad_input_is_refused():
    model = NGramModel(order=1, vocab_size=4).fit([0, 0, 0, 1])  # N = 4, 2 distinct
    np.testing.assert_allclose(np.exp(model.log_probs([0, 1, 2])), [(3 + 2 / 4) / 6, (1 + 2 / 4) / 6, (2 / 4) / 6])
    with pytest.raises(ValueError, match="order"):
        NGramModel(order=0)
    with pytest.raises(ValueError, match="outside the vocabulary"):
        NGramModel(order=2, vocab_size=2).fit([0, 1, 2])
    with pytest.raises(ValueError, match="fit"):
        NGramModel(order=2, vocab_size=2).log_probs([0, 1])


def test_the_seed_split_baseline_is_beaten_by_the_seed_notebook():
    loss = corpus_baseline("seed", 6)
    assert 1.51 < loss < math.log(80)  # the notebook's LSTM reaches 1.51 on this split: it beats the line


@pytest.mark.slow
def test_order_six_on_the_full_split_costs_1_648_nats():
    assert corpus_baseline("full", 6) == pytest.approx(1.648, abs=0.001)
