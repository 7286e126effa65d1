"""The part-of-speech tagger of seed ``004``: word embedding -> LSTM -> linear -> log-softmax.

The seed's ``LSTMTagger`` reads one sentence at a time. Here it reads padded batches through
``pack_padded_sequence``, so a padded position never reaches the LSTM and a sentence gets the
same tags alone or in a batch. Optional extras for the strong preset: a character-aware word
representation (a small convolution over each word's characters, max-pooled over the real
characters only: it sees suffixes and capitals, so it can tag words it never saw in training),
and a bidirectional LSTM (each tag sees the words on both sides).

Word-level gates come from :func:`lstm_core.replay_recurrent` on the same inputs the LSTM reads.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..limits import check_range
from ..trace import replay_recurrent
from .data import TokenVocab

MAX_WORD_CHARS = 24  # longer words are cut for the character features (their start is kept)
WORD_RE = re.compile(r"\w+(?=n't\b)|n't\b|'\w+|\w+(?:[-.']\w+)*|[^\w\s]+")


def split_words(sentence: str) -> list[str]:
    """A typed sentence cut into treebank-style words (``don't`` -> ``do n't``, punctuation apart)."""
    return WORD_RE.findall(sentence)


def normalise_word(word: str) -> str:
    """The key of a word in the word vocabulary: lower case, digits folded to 0."""
    return re.sub(r"\d", "0", word.lower())


@dataclass
class TaggerConfig:
    vocab_size: int
    tagset_size: int
    embedding_dim: int = 100
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    char_vocab_size: int = 0  # 0: words only (the seed's model); else character features too
    char_embedding_dim: int = 32
    char_channels: int = 64
    dropout: float = 0.0

    def __post_init__(self):
        check_range("word vocabulary size", self.vocab_size, 2, 500_000)
        check_range("number of tags", self.tagset_size, 2, 200)
        check_range("embedding size", self.embedding_dim, 1, 1024)
        check_range("hidden size", self.hidden_size, 1, 1024)
        check_range("layers", self.num_layers, 1, 4)
        check_range("dropout", self.dropout, 0.0, 0.9)
        check_range("character vocabulary size", self.char_vocab_size, 0, 10_000)  # 0: words only
        check_range("character embedding size", self.char_embedding_dim, 1, 256)
        check_range("character channels", self.char_channels, 1, 1024)

    @property
    def lstm_input_size(self) -> int:
        return self.embedding_dim + (self.char_channels if self.char_vocab_size else 0)

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMTagger(nn.Module):
    """Tags every word of a batch of sentences; returns log-probabilities (batch, time, tags)."""

    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.config = config
        self.word_embeddings = nn.Embedding(config.vocab_size, config.embedding_dim, padding_idx=0)
        if config.char_vocab_size:
            self.char_embeddings = nn.Embedding(config.char_vocab_size, config.char_embedding_dim, padding_idx=0)
            self.char_conv = nn.Conv1d(config.char_embedding_dim, config.char_channels, kernel_size=3, padding=1)
        self.lstm = nn.LSTM(config.lstm_input_size, config.hidden_size, num_layers=config.num_layers,
                            bidirectional=config.bidirectional, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        directions = 2 if config.bidirectional else 1
        self.hidden2tag = nn.Linear(directions * config.hidden_size, config.tagset_size)

    def lstm_inputs(self, word_ids: torch.Tensor, char_ids: torch.Tensor | None = None) -> torch.Tensor:
        """What the LSTM reads: (batch, time) word ids [+ (batch, time, chars)] -> (batch, time, input)."""
        embeds = self.word_embeddings(word_ids)
        if self.config.char_vocab_size:
            if char_ids is None:
                raise ValueError("this tagger reads characters too: pass char_ids")
            batch, steps, width = char_ids.shape
            # Each distinct spelling once (a batch repeats its common words, and its padding fills most of it),
            # then every word takes its spelling's features.
            spellings, word_spelling = torch.unique(char_ids.reshape(batch * steps, width), dim=0,
                                                    return_inverse=True)
            chars = self.char_embeddings(spellings)  # (spellings, chars, emb)
            features = self.char_conv(chars.transpose(1, 2))  # (spellings, channels, chars)
            # Max over the word's real characters only; padding characters never win.
            real = (spellings != 0).unsqueeze(1)
            features = features.masked_fill(~real, float("-inf")).amax(dim=2)
            features = torch.where(torch.isfinite(features), features, torch.zeros_like(features))
            embeds = torch.cat([embeds, torch.tanh(features)[word_spelling].reshape(batch, steps, -1)], dim=2)
        return embeds

    def forward(self, word_ids: torch.Tensor, lengths: torch.Tensor, char_ids: torch.Tensor | None = None):
        """(batch, time) ids and (batch,) true lengths -> log-probabilities (batch, time, tags)."""
        embeds = self.drop(self.lstm_inputs(word_ids, char_ids))
        packed = pack_padded_sequence(embeds, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=word_ids.shape[1])
        tag_space = self.hidden2tag(self.drop(out))
        return torch.log_softmax(tag_space, dim=2)


@dataclass
class TaggerVocabs:
    """The tagger's three vocabularies: words (normalised), characters and tags."""

    words: TokenVocab
    chars: TokenVocab | None
    tags: list[str]

    def encode_batch(self, sentences: list[list[str]]):
        """Padded tensors for a batch: word ids (B, T), lengths (B,), char ids (B, T, L) or None."""
        lengths = torch.tensor([len(s) for s in sentences], dtype=torch.long)
        steps = int(lengths.max())
        word_ids = torch.zeros(len(sentences), steps, dtype=torch.long)
        for b, words in enumerate(sentences):
            word_ids[b, :len(words)] = torch.tensor(self.words.encode([normalise_word(w) for w in words]))
        char_ids = None
        if self.chars is not None:
            width = min(MAX_WORD_CHARS, max(len(w) for s in sentences for w in s))
            char_ids = torch.zeros(len(sentences), steps, width, dtype=torch.long)
            for b, words in enumerate(sentences):
                for t, word in enumerate(words):
                    ids = self.chars.encode(list(word[:width]))
                    char_ids[b, t, :len(ids)] = torch.tensor(ids)
        return word_ids, lengths, char_ids


@dataclass
class TaggedWords:
    """A sentence as the tagger read it: the likeliest tag per word, every tag's probability, the gates."""

    words: list[str]
    tags: list[str]
    probs: np.ndarray  # (time, tags)
    tag_names: list[str]
    unknown: list[bool]  # the word was not in the training vocabulary
    gates: dict  # replay_recurrent's result: each quantity (layers * directions, time, hidden)

    def top(self, t: int, k: int = 3) -> list[tuple[str, float]]:
        best = np.argsort(-self.probs[t])[:k]
        return [(self.tag_names[j], float(self.probs[t, j])) for j in best]


@torch.no_grad()
def tag_words(model: LSTMTagger, vocabs: TaggerVocabs, words: list[str]) -> TaggedWords:
    """Tag ``words`` and replay the LSTM on them, keeping every gate and state (word level)."""
    if not words:
        raise ValueError("There is no sentence to tag: type at least one word.")
    model.eval()
    word_ids, lengths, char_ids = vocabs.encode_batch([words])
    log_probs = model(word_ids, lengths, char_ids)[0]  # (time, tags)
    inputs = model.lstm_inputs(word_ids, char_ids)[0].numpy()  # (time, input)
    gates = replay_recurrent(model.lstm, inputs)
    probs = log_probs.exp().numpy()
    tags = [vocabs.tags[j] for j in probs.argmax(axis=1)]
    unknown = [normalise_word(w) not in vocabs.words for w in words]
    return TaggedWords(list(words), tags, probs, list(vocabs.tags), unknown, gates)
