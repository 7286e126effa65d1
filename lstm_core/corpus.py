"""Character corpora and vocabularies.

The bundled corpus is Molière's plays (`data/moliere.txt`), exactly the text of the seed notebook.
Two splits are offered, both in order (no shuffling, as in the notebook):

- ``seed``: the first 100,000 characters, first 90% train, last 10% test (the notebook's own split);
- ``full``: the whole corpus, first 90% train, last 10% validation.

Uploaded texts go through :func:`decode_upload`, which refuses empty, binary, non-UTF-8 and
absurdly small or large files with a message a user can act on.

Unknown characters (policy, stated once and used everywhere): a character the vocabulary does not
know is replaced by its closest known form, so positions never shift: accents are stripped if the
bare letter is known ("ñ" -> "n"), typographic quotes and dashes become their plain forms, and
anything else becomes the vocabulary's fallback character (a space when the vocabulary has one).
:meth:`Vocab.clean` returns the replacements made so that every caller can show them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
MOLIERE_PATH = DATA_DIR / "moliere.txt"
SEED_SLICE = 100_000
TRAIN_FRACTION = 0.9
MIN_UPLOAD_CHARS = 1_000
MAX_UPLOAD_BYTES = 20_000_000
MAX_VOCAB = 1_000

_PLAIN_FORMS = {
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
    "\u00a0": " ", "\t": " ", "\r": "\n", "\u2026": ".", "\u00ab": '"', "\u00bb": '"',
}


class CorpusError(ValueError):
    """A text that cannot be used as a corpus; the message says why, for the user."""


class Vocab:
    """Maps characters to integer ids and back, sorted like the seed notebook's ``chars``."""

    def __init__(self, chars: str | list[str]):
        chars = list(chars)
        if len(set(chars)) != len(chars):
            raise ValueError("vocabulary characters must be distinct")
        self.chars = chars
        self.stoi = {ch: i for i, ch in enumerate(chars)}
        self.fallback = " " if " " in self.stoi else chars[0]

    @classmethod
    def from_text(cls, text: str) -> "Vocab":
        return cls(sorted(set(text)))

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.chars == other.chars

    def unknown(self, text: str) -> list[str]:
        """Distinct characters of ``text`` outside the vocabulary, in order of appearance."""
        return list(dict.fromkeys(ch for ch in text if ch not in self.stoi))

    def closest(self, ch: str) -> str:
        """The known character that stands in for ``ch`` (see the module's policy)."""
        if ch in self.stoi:
            return ch
        for candidate in (_PLAIN_FORMS.get(ch), ch.lower(), ch.upper()):
            if candidate and candidate in self.stoi:
                return candidate
        bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        for candidate in (bare, bare.lower(), bare.upper()):
            if len(candidate) == 1 and candidate in self.stoi:
                return candidate
        return self.fallback

    def clean(self, text: str) -> tuple[str, dict[str, str]]:
        """``text`` with unknown characters replaced, and the replacements made ({unknown: used})."""
        replacements = {ch: self.closest(ch) for ch in self.unknown(text)}
        if not replacements:
            return text, {}
        return "".join(replacements.get(ch, ch) for ch in text), replacements

    def encode(self, text: str) -> list[int]:
        """Ids of ``text``; unknown characters are replaced by :meth:`closest` first."""
        return [self.stoi[ch] if ch in self.stoi else self.stoi[self.closest(ch)] for ch in text]

    def encode_tensor(self, text: str) -> torch.Tensor:
        """:meth:`encode` as a tensor of int64, vectorised: a whole corpus in a fraction of a second, not
        seconds of interpreter time (the web process builds trainings)."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (characters,) code points
        if not len(codes):
            return torch.zeros(0, dtype=torch.long)
        table = np.zeros(int(codes.max()) + 1, dtype=np.int64)
        for ch in set(text):
            table[ord(ch)] = self.stoi[ch] if ch in self.stoi else self.stoi[self.closest(ch)]
        return torch.from_numpy(table[codes])

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)


@dataclass
class Corpus:
    """A text split in order into a training part and a validation part, with its vocabulary."""

    name: str
    train_text: str
    valid_text: str
    vocab: Vocab
    _ids: dict = field(default_factory=dict, repr=False, compare=False)  # split -> encoded tensor, made once

    def ids(self, split: str) -> torch.Tensor:
        """The ``train`` or ``valid`` text encoded, (characters,) int64; made once per corpus and shared by
        every training of it (never written to), so a server running many trainings holds one copy."""
        if split not in self._ids:
            self._ids[split] = self.vocab.encode_tensor(self.train_text if split == "train" else self.valid_text)
        return self._ids[split]

    @classmethod
    def from_text(cls, text: str, name: str = "uploaded", train_fraction: float = TRAIN_FRACTION) -> "Corpus":
        check_corpus_text(text)
        split = int(train_fraction * len(text))
        return cls(name, text[:split], text[split:], Vocab.from_text(text))

    def describe(self) -> str:
        return (f"{self.name}: {len(self.train_text):,} training and {len(self.valid_text):,} "
                f"validation characters, {len(self.vocab)} distinct characters")


@lru_cache(maxsize=1)
def moliere_text() -> str:
    """The bundled Molière corpus (1,687,290 characters)."""
    return MOLIERE_PATH.read_text(encoding="utf-8")


def load_corpus(name: str = "full") -> Corpus:
    """``"full"`` (whole Molière corpus), ``"seed"`` (the notebook's 100k slice), or a file path."""
    if name in ("full", "seed"):
        return bundled_corpus(name)
    path = Path(name)
    if not path.is_file():
        raise CorpusError(f"No corpus named {name!r}: use 'full', 'seed', or the path of a UTF-8 text file.")
    return Corpus.from_text(decode_upload(path.read_bytes()), name=path.name)


@lru_cache(maxsize=2)
def bundled_corpus(name: str) -> Corpus:
    """The bundled corpora, made once per process and shared (with their encoded splits)."""
    text = moliere_text() if name == "full" else moliere_text()[:SEED_SLICE]
    return Corpus.from_text(text, name=name)


def decode_upload(data: bytes) -> str:
    """Text of an uploaded file, or :class:`CorpusError` saying plainly what is wrong with it."""
    if not data:
        raise CorpusError("The file is empty. Upload a plain UTF-8 text file with at least "
                          f"{MIN_UPLOAD_CHARS:,} characters.")
    if len(data) > MAX_UPLOAD_BYTES:
        raise CorpusError(f"The file is {len(data) / 1e6:.1f} MB; the limit is {MAX_UPLOAD_BYTES / 1e6:.0f} MB.")
    if b"\x00" in data[:65536]:
        raise CorpusError("This looks like a binary file (it contains NUL bytes), not text. "
                          "Upload a plain UTF-8 text file.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CorpusError(f"The file is not valid UTF-8 (first bad byte at position {err.start:,}). "
                          "Save it as UTF-8 and upload it again.") from None
    text = text.replace("\r\n", "\n")
    check_corpus_text(text)
    return text


def check_corpus_text(text: str) -> None:
    """Refuse texts too small to train on, or with too many distinct characters to be prose."""
    if len(text) < MIN_UPLOAD_CHARS:
        raise CorpusError(f"The text has {len(text):,} characters; at least {MIN_UPLOAD_CHARS:,} are "
                          "needed to train and validate a model.")
    distinct = len(set(text))
    if distinct > MAX_VOCAB:
        raise CorpusError(f"The text has {distinct:,} distinct characters (at most {MAX_VOCAB:,}); "
                          "it does not look like prose in one language.")
    control = sum(1 for ch in set(text) if unicodedata.category(ch) == "Cc" and ch not in "\n\t\r")
    if control > 5:
        raise CorpusError("The text contains many control characters; it looks like a binary file.")
