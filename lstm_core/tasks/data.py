"""The seed tasks' data: a CoNLL-U reader for the tagger, a CSV reader for the classifier, vocabularies.

* Part-of-speech tagging (seed ``004``): the Universal Dependencies English Web Treebank, read
  from CoNLL-U (10 tab-separated columns per word; the universal POS tag is column 4). The dev
  split (2,001 sentences) trains, the test split (2,077) evaluates.
* Sentiment (seeds ``000``/``001``): 2,000 IMDB reviews (Maas et al., ACL 2011) as a CSV of
  ``review,sentiment``; the first 1,600 train, the last 400 are held out. Any ``text,label`` CSV
  can be uploaded instead (the full 50,000-review IMDB file has the same layout).

Malformed input is refused with :class:`TaskDataError`, whose message names the line.
"""

from __future__ import annotations

import csv
import html
import io
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
TREEBANK_DIR = REPO_ROOT / "data" / "ud_en_ewt"
TREEBANK_FILES = {"train": "en_ewt-ud-dev.conllu", "test": "en_ewt-ud-test.conllu"}
IMDB_FILE = REPO_ROOT / "data" / "imdb" / "imdb_2000.csv"
IMDB_TRAIN = 1600  # the first 1,600 reviews train; the rest (400) are held out
UPOS_TAGS = ("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
             "PUNCT", "SCONJ", "SYM", "VERB", "X")
PAD, UNK = "<pad>", "<unk>"
MAX_UPLOAD_BYTES = 200_000_000
MAX_CSV_ROWS = 100_000  # rows of an uploaded CSV read at most (the full IMDB file has 50,000)

# The seed notebook's own two sentences (tags DET, NN, V), the tagger's first, instant example.
TOY_SENTENCES = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
]


class TaskDataError(ValueError):
    """A data file that cannot be used; the message says where and why, for the user."""


@dataclass
class TaggedSentence:
    words: list[str]
    tags: list[str]


# -- CoNLL-U ---------------------------------------------------------------------------------
def read_conllu(source, name: str = "the file") -> list[TaggedSentence]:
    """Sentences with their universal POS tags from CoNLL-U text (str, bytes or a path).

    Comment lines (``#``) are skipped, and so are multiword-token ranges (``3-4``) and empty
    nodes (``5.1``), which carry no UPOS tag of their own. A line that is not 10 tab-separated
    fields with a numeric ID and a non-empty form and tag is refused with its line number.
    """
    text = _text_of(source, name)
    sentences: list[TaggedSentence] = []
    words: list[str] = []
    tags: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            if words:
                sentences.append(TaggedSentence(words, tags))
                words, tags = [], []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 10:
            raise TaskDataError(f"Line {number} of {name} has {len(fields)} tab-separated fields; "
                                "a CoNLL-U word line has exactly 10.")
        word_id, form, upos = fields[0], fields[1], fields[3]
        if "-" in word_id or "." in word_id:
            continue  # a multiword token range or an empty node
        if not word_id.isdigit():
            raise TaskDataError(f"Line {number} of {name}: the ID {word_id!r} is not a word number.")
        if not form or not upos or upos == "_":
            raise TaskDataError(f"Line {number} of {name}: the word or its UPOS tag is missing.")
        words.append(form)
        tags.append(upos)
    if words:
        sentences.append(TaggedSentence(words, tags))
    if not sentences:
        raise TaskDataError(f"{name} holds no sentences.")
    return sentences


def load_treebank(split: str) -> list[TaggedSentence]:
    """The shipped UD English Web Treebank: ``train`` (its dev split) or ``test``."""
    if split not in TREEBANK_FILES:
        raise ValueError(f"unknown split {split!r}; choose train or test")
    path = TREEBANK_DIR / TREEBANK_FILES[split]
    return read_conllu(path, path.name)


def toy_sentences() -> list[TaggedSentence]:
    return [TaggedSentence(list(w), list(t)) for w, t in TOY_SENTENCES]


# -- labelled texts (CSV) --------------------------------------------------------------------
@dataclass
class LabelledTexts:
    """Texts with their labels; ``label_names[k]`` is the name of class k."""

    texts: list[str]
    labels: list[int]
    label_names: list[str]

    def __len__(self) -> int:
        return len(self.texts)

    def subset(self, start: int, stop: int | None = None) -> "LabelledTexts":
        return LabelledTexts(self.texts[start:stop], self.labels[start:stop], self.label_names)


TAG_RE = re.compile(r"<[^>]{0,200}>")


def clean_review(text: str) -> str:
    """Plain text from a review: ``<br />`` and other markup become spaces, entities are decoded."""
    text = TAG_RE.sub(" ", text)
    text = html.unescape(text)
    return re.sub(r"\s+", " ", text).strip()


TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (with their contractions) and ``!``/``?``, after :func:`clean_review`."""
    return TOKEN_RE.findall(clean_review(text).lower())


def read_labelled_csv(source, name: str = "the file", max_classes: int = 20,
                      max_rows: int = MAX_CSV_ROWS) -> LabelledTexts:
    """Texts and labels from a two-column CSV (``review,sentiment``, ``text,label``, or no header).

    The first column is the text, the second the label (any string or number). A header row is
    recognised by its names. Rows with the wrong number of columns, an empty text or an empty
    label are refused with their line number, and so is a file with fewer than two classes or more than
    ``max_rows`` rows (refused as soon as the row past it is read: parsing stays bounded).
    """
    text = _text_of(source, name)
    reader = csv.reader(io.StringIO(text))
    texts, raw_labels = [], []
    try:
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) != 2:
                raise TaskDataError(f"Line {line} of {name} has {len(row)} columns; expected 2 (text, label).")
            body, label = row[0].strip(), row[1].strip()
            if not texts and not raw_labels and _is_header(body, label):
                continue
            if not body:
                raise TaskDataError(f"Line {line} of {name}: the text is empty.")
            if not label:
                raise TaskDataError(f"Line {line} of {name}: the label is empty.")
            if len(texts) == max_rows:
                raise TaskDataError(f"{name} has more than {max_rows:,} rows; at most {max_rows:,} are accepted. "
                                    "Keep a sample of each label.")
            texts.append(clean_review(body))
            raw_labels.append(label)
    except csv.Error as err:
        raise TaskDataError(f"Line {reader.line_num} of {name} is not valid CSV ({err}).") from None
    if not texts:
        raise TaskDataError(f"{name} holds no rows of text and label.")
    names = sorted(set(raw_labels))
    if len(names) < 2:
        raise TaskDataError(f"{name} has only one label ({names[0]!r}); a classifier needs at least two.")
    if len(names) > max_classes:
        raise TaskDataError(f"{name} has {len(names)} different labels; at most {max_classes} are supported. "
                            "Is the label in the second column?")
    index = {label: k for k, label in enumerate(names)}
    return LabelledTexts(texts, [index[label] for label in raw_labels], names)


def _is_header(first: str, second: str) -> bool:
    return first.lower() in ("review", "text", "sentence", "document") and \
        second.lower() in ("sentiment", "label", "class", "polarity")


def load_imdb_sample() -> tuple[LabelledTexts, LabelledTexts]:
    """The shipped 2,000 IMDB reviews: (first 1,600 for training, last 400 held out)."""
    data = read_labelled_csv(IMDB_FILE, IMDB_FILE.name)
    return data.subset(0, IMDB_TRAIN), data.subset(IMDB_TRAIN)


def split_upload(data: LabelledTexts, held_out: float = 0.2) -> tuple[LabelledTexts, LabelledTexts]:
    """An uploaded file split in order within each label: of each label's rows, the first 80% train and the
    last 20% are held out, so both parts hold every label in its share even when the file is sorted by label.
    Each part keeps the file's order. A label with too few rows to be in both parts is refused."""
    if len(data) < 10:
        raise TaskDataError(f"The file has {len(data)} rows; at least 10 are needed to train and hold some out.")
    rows_of = {label: [k for k, own in enumerate(data.labels) if own == label]
               for label in range(len(data.label_names))}
    train_rows, held_rows = [], []
    for label, rows in rows_of.items():
        cut = int(round(len(rows) * (1 - held_out)))
        if cut == 0 or cut == len(rows):
            raise TaskDataError(f"The label {data.label_names[label]!r} has {len(rows)} row(s); each label needs "
                                "enough rows to be both trained on and held out.")
        train_rows += rows[:cut]
        held_rows += rows[cut:]
    pick = lambda rows: LabelledTexts([data.texts[k] for k in sorted(rows)],  # noqa: E731
                                      [data.labels[k] for k in sorted(rows)], data.label_names)
    return pick(train_rows), pick(held_rows)


def _text_of(source, name: str) -> str:
    if isinstance(source, Path):
        try:
            source = source.read_bytes()
        except OSError as err:
            raise TaskDataError(f"Cannot read {name}: {err.strerror}.") from None
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise TaskDataError(f"{name} is empty.")
        if len(source) > MAX_UPLOAD_BYTES:
            raise TaskDataError(f"{name} is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB.")
        if b"\x00" in source[:8192]:
            raise TaskDataError(f"{name} looks like a binary file, not text.")
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = bytes(source)[:err.start].count(b"\n") + 1
            raise TaskDataError(f"Line {line} of {name} is not UTF-8 text.") from None
    if not source.strip():
        raise TaskDataError(f"{name} is empty.")
    return source


# -- vocabularies ----------------------------------------------------------------------------
class TokenVocab:
    """Tokens <-> ids, with ``<pad>`` = 0 and ``<unk>`` = 1 (for words and characters alike)."""

    def __init__(self, tokens: list[str]):
        if tokens[:2] != [PAD, UNK]:
            tokens = [PAD, UNK] + [t for t in tokens if t not in (PAD, UNK)]
        self.tokens = list(tokens)
        self.index = {t: k for k, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, sequences, min_freq: int = 1, max_size: int | None = None) -> "TokenVocab":
        counts = Counter(token for seq in sequences for token in seq)
        kept = [t for t, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])) if n >= min_freq]
        return cls(kept[:max_size] if max_size else kept)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.index

    def encode(self, tokens) -> list[int]:
        return [self.index.get(t, 1) for t in tokens]
