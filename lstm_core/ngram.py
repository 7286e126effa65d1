"""The n-gram baseline: an interpolated Witten-Bell character n-gram, the line a model has to beat.

A character model that does not beat an order-6 n-gram has learnt little more than local spelling.
Witten-Bell interpolation (Witten & Bell 1991; Chen & Goodman, "An empirical study of smoothing
techniques for language modeling", 1998) mixes each order with the next lower one, trusting a
context more the more often it was seen and the fewer distinct characters followed it::

    P_k(w | h) = (c(h w) + N1+(h •) · P_{k-1}(w | h')) / (c(h) + N1+(h •))      if c(h) > 0
               = P_{k-1}(w | h')                                                  otherwise
    P_0(w)     = 1 / V

where h is the context of k - 1 characters, h' its last k - 2, c counts in the training text and
N1+(h •) is the number of distinct characters seen after h. Counting is vectorised (each k-gram is
one int64 key in base V), so the full Molière split (1.5 M characters, order 6) is counted in a few
seconds. On that split the validation text costs 1.648 nats per character.

    model = NGramModel(order=6, vocab_size=len(vocab)).fit(train_ids)
    model.loss(valid_ids)            # mean nats per character, positions 1..n-1
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from .corpus import load_corpus

DEFAULT_ORDER = 6


class NGramModel:
    """A character n-gram of ``order`` (the number of characters in an n-gram: context + 1)."""

    def __init__(self, order: int = DEFAULT_ORDER, vocab_size: int = 256):
        if not 1 <= order <= 12:
            raise ValueError(f"the n-gram order must be between 1 and 12, got {order}")
        if vocab_size < 1 or float(vocab_size) ** order >= 2.0 ** 62:
            raise ValueError(f"a vocabulary of {vocab_size} characters is too large for order {order}")
        self.order, self.vocab_size = order, vocab_size
        self.tables: list[tuple[np.ndarray, ...]] = []  # per order k: (keys, counts, contexts, context totals, followers)

    def _keys(self, ids: np.ndarray, k: int) -> np.ndarray:
        """The key of the k-gram ending at each position t >= k - 1 (newest character in the lowest digit)."""
        keys = np.zeros(len(ids) - k + 1, np.int64)
        for j in range(k):  # ids[t - j] times V^j
            keys += ids[k - 1 - j:len(ids) - j].astype(np.int64) * self.vocab_size ** j
        return keys

    def fit(self, ids) -> "NGramModel":
        """Count every k-gram (k = 1..order) of the training ids."""
        ids = np.asarray(ids, np.int64)
        if len(ids) < self.order:
            raise ValueError(f"the training text is shorter than the n-gram order ({self.order})")
        if ids.min() < 0 or ids.max() >= self.vocab_size:
            raise ValueError("the training ids fall outside the vocabulary")
        self.tables = []
        for k in range(1, self.order + 1):
            keys, counts = np.unique(self._keys(ids, k), return_counts=True)  # sorted k-grams and c(h w)
            contexts, starts, followers = np.unique(keys // self.vocab_size, return_index=True, return_counts=True)
            totals = np.add.reduceat(counts, starts)  # c(h): the k-grams that continue h
            self.tables.append((keys, counts, contexts, totals, followers))
        return self

    def log_probs(self, ids) -> np.ndarray:
        """ln P(ids[t] | the up to order - 1 characters before it, within ``ids``) for every t: (len(ids),)."""
        if not self.tables:
            raise ValueError("fit the n-gram on a training text first")
        ids = np.asarray(ids, np.int64)
        probs = np.full(len(ids), 1.0 / self.vocab_size)  # P_0: uniform
        for k, (keys, counts, contexts, totals, followers) in enumerate(self.tables, start=1):
            if len(ids) < k:
                break
            grams = self._keys(ids, k)  # the k-gram ending at t = k - 1 + index
            lower = probs[k - 1:]
            seen_count = _lookup(keys, counts, grams)
            context_total = _lookup(contexts, totals, grams // self.vocab_size)
            distinct = _lookup(contexts, followers, grams // self.vocab_size)
            known = context_total > 0  # a context never seen keeps the lower order's estimate
            mixed = (seen_count + distinct * lower) / np.maximum(context_total + distinct, 1)
            probs[k - 1:] = np.where(known, mixed, lower)
        return np.log(probs)

    def loss(self, ids) -> float:
        """Mean nats per character over positions 1..n-1 (the positions a character model predicts)."""
        return float(-self.log_probs(ids)[1:].mean())


def _lookup(sorted_keys: np.ndarray, values: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """values[i] where sorted_keys[i] == query, else 0."""
    index = np.clip(np.searchsorted(sorted_keys, queries), 0, len(sorted_keys) - 1)
    return np.where(sorted_keys[index] == queries, values[index], 0).astype(np.float64)


@lru_cache(maxsize=8)
def corpus_baseline(corpus: str = "full", order: int = DEFAULT_ORDER) -> float:
    """The n-gram's validation loss (nats per character) on a bundled corpus's own split ("full", "seed")."""
    text = load_corpus(corpus)
    vocab = text.vocab
    model = NGramModel(order, len(vocab)).fit(vocab.encode(text.train_text))
    return model.loss(vocab.encode(text.valid_text))
