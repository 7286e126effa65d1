"""Why an LSTM can lose to a bag of words on the shipped 1,600 reviews: too few reviews per word, computed.

:func:`word_scarcity` counts, for a classifier's settings, how many words its vocabulary holds, how many
numbers it must learn for their vectors from scratch, and in how many training reviews each word occurs;
then it fits the bag-of-words baseline on the first 200, 400, 800 and 1,600 reviews (scored on the same
400 held out) to show that accuracy is still climbing with data. The lesson's task step and the
Sentiment page both quote it::

    scarcity = word_scarcity(min_word_count=3, max_tokens=200, train_count=1360, embedding_dim=64)
    scarcity.rare_share          # share of the vocabulary seen in fewer than RARE_REVIEWS training reviews
    scarcity.learning_curve      # {reviews: bag-of-words accuracy on the 400 held out}
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .baseline import BagOfWordsBaseline, shipped_baseline_accuracy
from .data import IMDB_TRAIN, TokenVocab, load_imdb_sample, tokenize

RARE_REVIEWS = 10  # a word seen in fewer training reviews than this is "rare"
CURVE_SIZES = (200, 400, 800, IMDB_TRAIN)  # training reviews for the bag-of-words learning curve


@dataclass(frozen=True)
class WordScarcity:
    train_reviews: int  # the reviews the LSTM learns its weights from
    vocabulary: int  # words it learns a vector for (with <pad> and <unk>)
    embedding_numbers: int  # vocabulary x embedding size: learned from scratch
    median_reviews: float  # the median vocabulary word occurs in this many training reviews
    rare_share: float  # share of the vocabulary seen in fewer than RARE_REVIEWS training reviews
    learning_curve: dict[int, float]  # training reviews -> bag-of-words accuracy on the held-out reviews
    held_out: int


@lru_cache(maxsize=4)
def word_scarcity(min_word_count: int, max_tokens: int, train_count: int, embedding_dim: int,
                  max_vocab: int | None = None) -> WordScarcity:
    """The word counts of a classifier with these settings on the shipped IMDB sample, and the bag of words'
    accuracy as its training reviews grow (fitted once per process)."""
    train, held_out = load_imdb_sample()
    tokens = [tokenize(t)[:max_tokens] for t in train.texts[:train_count]]
    vocab = TokenVocab.build(tokens, min_freq=min_word_count, max_size=max_vocab)
    in_reviews = Counter(w for review in tokens for w in set(review))
    reviews_per_word = np.array([in_reviews[w] for w in vocab.tokens[2:]])  # <pad> and <unk> are no words
    curve = {}
    for size in CURVE_SIZES:
        if size == IMDB_TRAIN:
            curve[size] = shipped_baseline_accuracy()  # the very number the page shows beside the LSTM
        else:
            part = train.subset(0, size)
            baseline = BagOfWordsBaseline.fit(part.texts, part.labels, train.label_names)
            curve[size] = baseline.accuracy(held_out.texts, held_out.labels)
    return WordScarcity(train_count, len(vocab), len(vocab) * embedding_dim, float(np.median(reviews_per_word)),
                        float((reviews_per_word < RARE_REVIEWS).mean()), curve, len(held_out))
