"""The tasks' honest baselines: bag-of-words logistic regression for the sentiment classifier, in torch,
and the most frequent tag of each word for the tagger.

Each text becomes the set of its words and word pairs (binary features, those seen at least
twice in training); a linear layer over them (an ``nn.EmbeddingBag`` summing one weight row per
feature present) is fit with L2 regularisation by L-BFGS on the whole training set. It sees no
word order beyond pairs and has no memory, and on 1,600 reviews it is hard to beat.

:func:`shipped_baseline_accuracy` is its accuracy on the shipped IMDB sample, fitted once per process
(tens of seconds on a busy 2-core machine): every classifier trained on the sample, and the lesson,
quote that one number without fitting it again.

:class:`MostFrequentTagBaseline` tags each word with the tag it had most often in the training sentences
(words it never saw: the most frequent tag overall). It reads no context at all; a tagger that does not
beat it has learned less than a lookup table.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn as nn

from .data import TaggedSentence, TokenVocab, load_imdb_sample, load_treebank, tokenize
from .tagger import normalise_word


def bag_features(tokens: list[str]) -> set[str]:
    """The binary features of a text: its words and adjacent word pairs."""
    return set(tokens) | {f"{a} {b}" for a, b in zip(tokens, tokens[1:])}


@dataclass
class BagOfWordsBaseline:
    """A fitted bag-of-words logistic regression."""

    features: TokenVocab
    layer: nn.EmbeddingBag  # (features, classes): each feature's vote for each class
    bias: torch.Tensor  # (classes,)
    label_names: list[str]

    @classmethod
    def fit(cls, texts: list[str], labels: list[int], label_names: list[str], min_count: int = 2,
            l2: float = 1e-3, iterations: int = 60, seed: int = 0) -> "BagOfWordsBaseline":
        torch.manual_seed(seed)
        bags = [bag_features(tokenize(t)) for t in texts]
        counts = Counter(f for bag in bags for f in bag)
        features = TokenVocab(sorted(f for f, n in counts.items() if n >= min_count))
        # sparse gradients: a step's backward pass adds up the features the reviews hold, not every row of the table
        layer = nn.EmbeddingBag(len(features), len(label_names), mode="sum", sparse=True)
        nn.init.zeros_(layer.weight)
        bias = torch.zeros(len(label_names), requires_grad=True)
        ids, offsets = _pack(features, bags)
        target = torch.tensor(labels, dtype=torch.long)
        optimizer = torch.optim.LBFGS([layer.weight, bias], lr=1.0, max_iter=iterations,
                                      line_search_fn="strong_wolfe")

        def closure():
            optimizer.zero_grad()
            logits = layer(ids, offsets) + bias
            loss = nn.functional.cross_entropy(logits, target) + l2 * layer.weight.pow(2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        layer.weight.requires_grad_(False)
        return cls(features, layer, bias.detach(), list(label_names))

    @torch.no_grad()
    def probabilities(self, texts: list[str]) -> np.ndarray:
        """(texts, classes) probabilities."""
        ids, offsets = _pack(self.features, [bag_features(tokenize(t)) for t in texts])
        return torch.softmax(self.layer(ids, offsets) + self.bias, dim=1).numpy()

    def accuracy(self, texts: list[str], labels: list[int]) -> float:
        predicted = self.probabilities(texts).argmax(axis=1)
        return float((predicted == np.asarray(labels)).mean())

    def strongest_words(self, k: int = 10) -> dict[str, list[tuple[str, float]]]:
        """Per class, the k single words whose presence pushes hardest toward it (two classes: the margin)."""
        weights = self.layer.weight.numpy()
        words = [j for j, f in enumerate(self.features.tokens) if j > 1 and " " not in f]
        result = {}
        for c, name in enumerate(self.label_names):
            others = np.delete(weights[words], c, axis=1).max(axis=1)
            margin = weights[words, c] - others
            best = np.argsort(-margin)[:k]
            result[name] = [(self.features.tokens[words[j]], float(margin[j])) for j in best]
        return result


@lru_cache(maxsize=1)
def shipped_baseline_accuracy() -> float:
    """The baseline fitted on the shipped IMDB sample's first 1,600 reviews, scored on its last 400."""
    train, held_out = load_imdb_sample()
    baseline = BagOfWordsBaseline.fit(train.texts, train.labels, train.label_names)
    return baseline.accuracy(held_out.texts, held_out.labels)


@dataclass
class MostFrequentTagBaseline:
    """Each word's most frequent tag in training (words normalised as the tagger's vocabulary does)."""

    best_tag: dict[str, str]  # normalised word -> its most frequent tag
    fallback: str  # the most frequent tag overall: the guess for a word never seen

    @classmethod
    def fit(cls, sentences: list[TaggedSentence]) -> "MostFrequentTagBaseline":
        counts: dict[str, Counter] = {}
        for sentence in sentences:
            for word, tag in zip(sentence.words, sentence.tags):
                counts.setdefault(normalise_word(word), Counter())[tag] += 1
        overall = Counter(tag for sentence in sentences for tag in sentence.tags)
        # ties go to the tag first in alphabetical order, so the baseline never depends on reading order
        best = {word: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for word, c in counts.items()}
        return cls(best, min(overall.items(), key=lambda kv: (-kv[1], kv[0]))[0])

    def tag(self, words: list[str]) -> list[str]:
        return [self.best_tag.get(normalise_word(w), self.fallback) for w in words]

    def accuracy(self, sentences: list[TaggedSentence]) -> float:
        """The share of words tagged right (every word of ``sentences`` counts once)."""
        right = total = 0
        for sentence in sentences:
            right += sum(guess == tag for guess, tag in zip(self.tag(sentence.words), sentence.tags))
            total += len(sentence.tags)
        return right / max(1, total)


@lru_cache(maxsize=4)
def treebank_baseline_accuracy(train_sentences: int) -> float:
    """The most-frequent-tag baseline fitted on the treebank's first ``train_sentences`` training sentences
    (those a tagger learns from; the rest are held back to choose its epoch), scored on the test split."""
    return MostFrequentTagBaseline.fit(load_treebank("train")[:train_sentences]).accuracy(load_treebank("test"))


def _pack(features: TokenVocab, bags: list[set[str]]):
    """Flat feature ids and per-text offsets for ``nn.EmbeddingBag`` (unknown features dropped)."""
    flat, offsets = [], []
    for bag in bags:
        offsets.append(len(flat))
        flat.extend(sorted(features.index[f] for f in bag if f in features.index))
    return torch.tensor(flat, dtype=torch.long), torch.tensor(offsets, dtype=torch.long)
