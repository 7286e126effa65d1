"""The sentiment classifier of seed ``001``: embedding -> (bidirectional) LSTM -> linear.

The seed reads ``lstm_output[-1]``, the output at the last *padded* position: in a padded batch
that is mostly padding, and its backward half has read one token only. Here sequences are
packed (``pack_padded_sequence``) and the classifier reads the final states ``h_n``: the forward
direction's state after the last real word and the backward direction's state after reading
the whole review from the end. Padding never reaches the LSTM, so a review gets the same
prediction alone or in a batch. The strong preset reads max- and mean-pooled outputs over the
real positions instead of the final state (better with little data: every word's state counts).

:func:`read_review` also reads the classifier at every prefix of a review (how the prediction
evolves word by word) and replays the LSTM for its word-level gates.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..limits import check_range
from ..trace import replay_recurrent
from .data import TokenVocab, tokenize

READOUTS = ("last", "pool")
MAX_PREFIX_WORDS = 300  # the word-by-word view reads at most this many words


@dataclass
class ClassifierConfig:
    vocab_size: int
    num_classes: int = 2
    embedding_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    bidirectional: bool = True
    readout: str = "last"  # "last": final states h_n (the seed); "pool": max and mean over time
    dropout: float = 0.0

    def __post_init__(self):
        check_range("word vocabulary size", self.vocab_size, 2, 500_000)
        check_range("number of classes", self.num_classes, 2, 20)
        check_range("embedding size", self.embedding_dim, 1, 1024)
        check_range("hidden size", self.hidden_size, 1, 1024)
        check_range("layers", self.num_layers, 1, 4)
        check_range("dropout", self.dropout, 0.0, 0.9)
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {', '.join(READOUTS)}, got {self.readout!r}")

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMClassifier(nn.Module):
    """Classifies a batch of token sequences; returns logits (batch, classes)."""

    def __init__(self, config: ClassifierConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=0)
        self.lstm = nn.LSTM(config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
                            bidirectional=config.bidirectional, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        features = directions * config.hidden_size * (2 if config.readout == "pool" else 1)
        self.fc = nn.Linear(features, config.num_classes)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch, time) token ids and (batch,) true lengths -> logits (batch, classes)."""
        embeds = self.drop(self.embedding(ids))  # (batch, time, embedding)
        packed = pack_padded_sequence(embeds, lengths.cpu().clamp(min=1), batch_first=True, enforce_sorted=False)
        out, (h_n, _) = self.lstm(packed)
        if self.config.readout == "last":
            # h_n is (layers * directions, batch, hidden); the last layer's directions are at the end.
            features = torch.cat([h_n[-2], h_n[-1]], dim=1) if self.config.bidirectional else h_n[-1]
        else:
            out, _ = pad_packed_sequence(out, batch_first=True, total_length=ids.shape[1])  # (batch, time, D)
            real = (torch.arange(ids.shape[1]).unsqueeze(0) < lengths.unsqueeze(1)).unsqueeze(2)
            largest = out.masked_fill(~real, float("-inf")).amax(dim=1)
            mean = (out * real).sum(dim=1) / lengths.clamp(min=1).unsqueeze(1)
            features = torch.cat([largest, mean], dim=1)
        return self.fc(self.drop(features))


def encode_batch(vocab: TokenVocab, token_lists: list[list[str]], max_tokens: int | None = None):
    """Padded ids (batch, time) and true lengths (batch,); texts are cut to their first ``max_tokens``."""
    encoded = [vocab.encode(tokens[:max_tokens] if max_tokens else tokens) or [1] for tokens in token_lists]
    lengths = torch.tensor([len(ids) for ids in encoded], dtype=torch.long)
    ids = torch.zeros(len(encoded), int(lengths.max()), dtype=torch.long)
    for b, row in enumerate(encoded):
        ids[b, :len(row)] = torch.tensor(row)
    return ids, lengths


@dataclass
class ReadReview:
    """A review as the classifier read it: the verdict, the verdict after every prefix, the gates."""

    words: list[str]
    probs: np.ndarray  # (classes,) for the whole text
    prefix_probs: np.ndarray  # (time, classes): the classifier read after words[: t + 1]
    label_names: list[str]
    unknown: list[bool]
    gates: dict  # replay_recurrent's result: each quantity (layers * directions, time, hidden)
    truncated: bool


@torch.no_grad()
def read_review(model: LSTMClassifier, vocab: TokenVocab, label_names: list[str], text: str,
                max_words: int = MAX_PREFIX_WORDS) -> ReadReview:
    """Classify ``text``, read the classifier at every prefix, and replay its LSTM word by word."""
    words = tokenize(text)
    if not words:
        raise ValueError("There is nothing to classify: type a few words.")
    truncated = len(words) > max_words
    words = words[:max_words]
    model.eval()
    ids = torch.tensor(vocab.encode(words), dtype=torch.long)
    steps = len(ids)
    # Every prefix as one row of a batch: row t holds words[: t + 1]; packing ignores the rest.
    prefixes = ids.unsqueeze(0).repeat(steps, 1)
    lengths = torch.arange(1, steps + 1)
    prefix_probs = torch.softmax(model(prefixes, lengths), dim=1).numpy()
    table = model.embedding.weight.detach().cpu().float().numpy()
    gates = replay_recurrent(model.lstm, table, token_ids=ids.numpy())
    unknown = [w not in vocab for w in words]
    return ReadReview(words, prefix_probs[-1], prefix_probs, list(label_names), unknown, gates, truncated)
