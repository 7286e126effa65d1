"""Complete checks of an imported run's files, made in memory before anything is written.

:meth:`lstm_core.runs.RunStore.import_zip` reads a zip's files into memory and hands them here:
the settings (types, the vocabulary against the model's sizes, the model's size before it is
built), the metrics (every column numeric), the samples and the snapshots' count. A file that
fails raises :class:`ImportRefused` (a ValueError), whose message says what is wrong, and the store
writes nothing. The same settings checks guard :func:`lstm_core.runs.load_run`, so a damaged run
already in a store is refused with a message rather than crashing the page that opens it.

This module knows no store and no run kind's registry: a caller passes how a model is built.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
import zlib
from typing import Callable

import pandas as pd
import torch

MAX_PARAMETERS = 100_000_000  # the largest model a store takes (about 400 MB of float32 weights)
MAX_SETTING = 10_000_000  # no whole-number setting of any model is larger
MAX_SAMPLES = 50  # a run keeps its last 50 samples (lstm_core.training.loop)
FILE_LIMITS = {  # the largest file of each type an import takes, in bytes (what a real run writes, with room)
    "config.json": 20_000_000, "metrics.csv": 5_000_000, "samples.json": 1_000_000, "snapshot": 4_000_000}
CHARACTER_KINDS = ("char", "memory")  # runs whose config.json holds a character vocabulary ("vocab")


class ImportRefused(ValueError):
    """A run's files are not what LSTM Lab writes; the message says which and why."""


def _strings(value, name: str, single: bool = False) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ImportRefused(f"its {name} must be a list of strings.")
    if single and any(len(item) != 1 for item in value):
        raise ImportRefused(f"its {name} must be a list of single characters.")
    if len(set(value)) != len(value):
        raise ImportRefused(f"its {name} repeats an entry.")
    return value


def _size(settings: dict, name: str) -> int:
    value = settings.get(name)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ImportRefused(f"its model setting {name} must be a whole number, got {value!r}.")
    return value


def check_config(config: dict) -> None:
    """Refuse settings of the wrong type, or a vocabulary that does not fit the model's sizes."""
    kind = config.get("kind", "char")
    if not isinstance(kind, str):
        raise ImportRefused("its kind must be a word.")
    for name in ("train", "model"):
        if name in config and not isinstance(config[name], dict):
            raise ImportRefused(f"its {name!r} settings must be a JSON object, got {type(config[name]).__name__}.")
    if not isinstance(config.get("model"), dict):
        raise ImportRefused("it has no model settings.")
    for name in ("name", "summary", "data"):
        if config.get(name) is not None and not isinstance(config[name], str):
            raise ImportRefused(f"its {name} must be text.")
    if config.get("evaluation") is not None and not isinstance(config["evaluation"], dict):
        raise ImportRefused("its evaluation must be a JSON object.")
    model = config["model"]
    if kind in CHARACTER_KINDS:
        vocab = _strings(config.get("vocab"), "vocabulary", single=True)
        if len(vocab) != _size(model, "vocab_size"):
            raise ImportRefused(f"its vocabulary has {len(vocab)} characters, but its model reads {model['vocab_size']}.")
    elif kind == "tagger":
        if len(_strings(config.get("words"), "word list")) != _size(model, "vocab_size"):
            raise ImportRefused("its word list does not match its model's vocabulary size.")
        if len(_strings(config.get("tags"), "tag list")) != _size(model, "tagset_size"):
            raise ImportRefused("its tag list does not match its model's number of tags.")
        chars = config.get("chars")
        if (len(_strings(chars, "character list")) if chars is not None else 0) != model.get("char_vocab_size", 0):
            raise ImportRefused("its character list does not match its model's character vocabulary size.")
    elif kind == "classifier":
        if len(_strings(config.get("words"), "word list")) != _size(model, "vocab_size"):
            raise ImportRefused("its word list does not match its model's vocabulary size.")
        if len(_strings(config.get("labels"), "label list")) != _size(model, "num_classes"):
            raise ImportRefused("its label list does not match its model's number of classes.")


def check_model_size(config: dict, build: Callable[[dict], torch.nn.Module]) -> None:
    """Build the model on PyTorch's meta device (no memory) and refuse it past ``MAX_PARAMETERS``; the
    settings' own range checks raise their ValueError (or a KeyError, TypeError) on the way."""
    for name, value in (config.get("model") if isinstance(config.get("model"), dict) else {}).items():
        if isinstance(value, int) and not isinstance(value, bool) and value > MAX_SETTING:
            raise ImportRefused(f"its model setting {name} is out of range ({value}).")  # lower bounds: the model's
        if isinstance(value, float) and not math.isfinite(value):
            raise ImportRefused(f"its model setting {name} is not a finite number.")
    try:
        with torch.device("meta"):
            parameters = sum(p.numel() for p in build(config).parameters())
    except (RuntimeError, OverflowError) as err:  # a setting's own check raises a ValueError the caller words
        raise ImportRefused(f"its model settings are not usable ({type(err).__name__}).") from None
    if parameters > MAX_PARAMETERS:
        raise ImportRefused(f"its model has {parameters:,} parameters; this server takes up to {MAX_PARAMETERS:,}.")


def check_metrics(data: bytes) -> None:
    """Refuse a metrics file that is not a CSV of numbers (an empty file is no metrics)."""
    if not data.strip():
        return
    try:
        frame = pd.read_csv(io.BytesIO(data))
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        raise ImportRefused("its metrics.csv is not a readable CSV file.") from None
    if len(frame) and not {"step", "seconds"} <= set(frame.columns):
        raise ImportRefused("its metrics.csv lacks the step and seconds columns.")
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) or pd.api.types.is_bool_dtype(frame[column]):
            raise ImportRefused(f"its metrics.csv column {str(column)[:40]!r} holds values that are not numbers.")


def check_samples(data: bytes) -> None:
    """Refuse samples that are not a short list of {step, seconds, prime, text} records."""
    try:
        samples = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ImportRefused("its samples.json is not valid JSON.") from None
    if not isinstance(samples, list) or len(samples) > MAX_SAMPLES or not all(
            isinstance(s, dict) and isinstance(s.get("text", ""), str) and isinstance(s.get("prime", ""), str)
            for s in samples):
        raise ImportRefused(f"its samples.json must be a list of at most {MAX_SAMPLES} samples.")


def check_file_sizes(sizes: dict[str, int], weights_limit: int) -> None:
    """Refuse a zip whose files (name -> unpacked size, as its directory declares) are past their type's limit."""
    for name, size in sizes.items():
        kind = "snapshot" if name.startswith("snapshots/") else name
        limit = weights_limit if kind == "model.safetensors" else FILE_LIMITS.get(kind, 0)
        if size > limit:
            raise ImportRefused(f"its {name} unpacks to {size / 1e6:.1f} MB; this server takes up to {limit / 1e6:g} MB.")


def bounded_read(archive, info) -> bytes:
    """A zip member's bytes, refused as soon as they pass the size its directory declared (a forged
    directory cannot make a small entry unpack into a bomb)."""
    try:
        with archive.open(info) as member:
            data = member.read(info.file_size + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError):
        raise ImportRefused(f"its {info.filename} is damaged in the zip.") from None
    if len(data) > info.file_size:
        raise ImportRefused(f"its {info.filename} unpacks to more than its zip declares.")
    return data
