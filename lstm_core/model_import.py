"""Bring your own model: a character language model trained anywhere, opened as a run like any other.

What opens is the shape of the seed notebook's model (``003``): an embedding, a stack of ``nn.LSTM``,
``nn.GRU`` or ``nn.RNN`` (tanh) layers (any number; ``batch_first`` either way, since it changes no
weight), and a linear head, saved as a state dict::

    torch.save(model.state_dict(), "model.pt")           # or safetensors.torch.save_file(...)
    json.dump(chars, open("vocab.json", "w"))            # the characters in index order, or char_to_idx

    path = import_model(store, weights_bytes, "model.pt", vocab_bytes)   # a run folder, kind "char"

Weights are read from ``.safetensors``, or from ``.pt``/``.pth`` with ``torch.load(weights_only=True)``:
a file that holds anything but tensors (a pickle that would run code) is refused, and nothing in it runs.
The keys are matched by name (``embedding``/``embed``/``encoder``..., ``lstm``/``rnn``/``gru``...,
``fc``/``head``/``decoder``/``linear``...); a mapping ``{"embedding": PREFIX, "recurrent": PREFIX,
"head": PREFIX}`` (the command line's ``--map FILE.json``) names the others. The sizes and the cell type
are read from the shapes (rows of ``weight_ih_l0`` per unit: 4 for an LSTM, 3 for a GRU, 1 for an RNN).
Every mismatch gets one sentence naming the key and both shapes (:class:`ModelImportError`).

The imported run holds the weights renamed to :class:`~lstm_core.model.CharModel`'s (the same numbers),
its vocabulary and a record of where it came from (``config["imported"]``); it has no metrics, samples
or snapshots, so it has no training movie, and the pages say so (:func:`imported_note`).
"""

from __future__ import annotations

import io
import json
import pickle
import re
import shutil
import warnings
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes

from .architectures import STANDARD
from .import_checks import ImportRefused, check_model_size
from .model import CharModel, ModelConfig
from .run_kinds import build_model
from .runs import WEIGHTS_FILE, RunStore, weights_bytes, write_atomic

MAX_WEIGHTS_BYTES = 200_000_000  # as a run zip (lstm_core.runs.MAX_IMPORT_BYTES)
MAX_VOCAB_BYTES = 1_000_000
ROLES = ("embedding", "recurrent", "head")
NAMES = {  # the last part of a module's name that says its role, as people name them
    "embedding": ("embedding", "embeddings", "embed", "emb", "encoder", "char_embedding", "token_embedding",
                  "tok_emb", "wte", "embed_tokens"),
    "recurrent": ("lstm", "rnn", "gru", "recurrent", "lstms", "cell", "core"),
    "head": ("fc", "head", "decoder", "linear", "out", "output", "proj", "lm_head", "classifier", "fc_out"),
}
CONTAINERS = ("state_dict", "model_state_dict", "model")  # a checkpoint dict that nests the state dict
BLOCKS = {4: "lstm", 3: "gru", 1: "rnn"}  # rows of weight_ih_l0 per unit -> the cell type
LAYER_KEYS = ("weight_ih_l{k}", "weight_hh_l{k}", "bias_ih_l{k}", "bias_hh_l{k}")


class ModelImportError(ImportRefused):
    """A state dict or vocabulary that does not make a character model; the message says which key and why."""


def shape(tensor: torch.Tensor) -> tuple:
    return tuple(tensor.shape)


def read_state_dict(data: bytes, filename: str) -> dict[str, torch.Tensor]:
    """The tensors of a ``.safetensors`` file, or of a ``.pt``/``.pth`` state dict read with
    ``torch.load(weights_only=True)`` (never unpickled otherwise). A checkpoint that nests the state dict
    under ``state_dict``/``model_state_dict``/``model`` is opened too."""
    if not data:
        raise ModelImportError(f"{filename} is empty.")
    if len(data) > MAX_WEIGHTS_BYTES:
        raise ModelImportError(f"{filename} is larger than {MAX_WEIGHTS_BYTES // 1_000_000} MB.")
    suffix = Path(filename).suffix.lower()
    if suffix == ".safetensors":
        try:
            return dict(load_safetensors_bytes(data))
        except (SafetensorError, ValueError, RuntimeError, Exception):  # noqa: BLE001 - any parse failure
            raise ModelImportError(f"{filename} is not a readable safetensors file.") from None
    if suffix not in (".pt", ".pth", ".bin"):
        raise ModelImportError(f"{filename}: the weights must be a .safetensors, .pt or .pth file.")
    try:
        with warnings.catch_warnings():  # an old pickle format's warning: the message below says what matters
            warnings.simplefilter("ignore")
            loaded = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # weights_only refused what it read: nothing was run
        if not data.startswith((b"PK", b"\x80")):  # neither torch.save's zip nor a pickle: some other file
            raise ModelImportError(f"{filename} is not a readable PyTorch state dict.") from None
        found = re.search(r"GLOBAL ([\w.]+)", str(err))
        what = f" ({found.group(1)})" if found else ""
        raise ModelImportError(f"{filename} holds a pickled object{what}, not only tensors; LSTM Lab opens state "
                               "dicts only (save one with torch.save(model.state_dict(), ...)), and nothing in "
                               "the file was run.") from None
    except Exception as err:  # noqa: BLE001 - a damaged or foreign file: one sentence, never a traceback
        raise ModelImportError(f"{filename} is not a readable PyTorch state dict ({type(err).__name__}).") from None
    if isinstance(loaded, dict):
        for name in CONTAINERS:
            if isinstance(loaded.get(name), dict) and not any(torch.is_tensor(v) for v in loaded.values()):
                loaded = loaded[name]
                break
    if not isinstance(loaded, dict) or not loaded:
        raise ModelImportError(f"{filename} holds a {type(loaded).__name__}, not a state dict (a mapping of names "
                               "to tensors): save model.state_dict(), not the model.")
    for key, value in loaded.items():
        if not isinstance(key, str) or not torch.is_tensor(value):
            raise ModelImportError(f"{filename}: the entry {str(key)[:60]!r} is a {type(value).__name__}, not a "
                                   "tensor; a state dict holds tensors only.")
    return loaded


def read_vocab(data: bytes, filename: str = "the vocabulary") -> list[str]:
    """The characters in index order, from a JSON list of characters, or an object from character to index
    (as the seed notebook's ``char_to_idx``/``stoi``), or from index to character (``itos``)."""
    if len(data) > MAX_VOCAB_BYTES:
        raise ModelImportError(f"{filename} is larger than {MAX_VOCAB_BYTES // 1_000_000} MB.")
    try:
        vocab = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelImportError(f"{filename} is not valid UTF-8 JSON ({err}).") from None
    if isinstance(vocab, str):
        vocab = list(vocab)
    if isinstance(vocab, dict):
        if all(isinstance(k, str) and len(k) == 1 and isinstance(v, int) and not isinstance(v, bool)
               for k, v in vocab.items()):
            indices = sorted(vocab.values())
            if indices != list(range(len(vocab))):
                raise ModelImportError(f"{filename} maps characters to indices that are not 0 to {len(vocab) - 1}, "
                                       "each once.")
            vocab = sorted(vocab, key=vocab.get)
        elif all(isinstance(k, str) and k.isdigit() and isinstance(v, str) for k, v in vocab.items()):
            if sorted(int(k) for k in vocab) != list(range(len(vocab))):
                raise ModelImportError(f"{filename} maps indices that are not 0 to {len(vocab) - 1} to characters.")
            vocab = [vocab[k] for k in sorted(vocab, key=int)]
        else:
            raise ModelImportError(f"{filename} must map each character to its index, as char_to_idx does.")
    if not isinstance(vocab, list) or not vocab or not all(isinstance(ch, str) and len(ch) == 1 for ch in vocab):
        raise ModelImportError(f"{filename} must be a JSON list of single characters in index order, or an object "
                               "from character to index.")
    if len(set(vocab)) != len(vocab):
        repeated = next(ch for ch in vocab if vocab.count(ch) > 1)
        raise ModelImportError(f"{filename} lists the character {repeated!r} twice.")
    return vocab


def read_mapping(data: bytes | None) -> dict[str, str]:
    """A ``--map`` JSON: {"embedding": PREFIX, "recurrent": PREFIX, "head": PREFIX}, any of the three."""
    if not data:
        return {}
    try:
        mapping = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelImportError(f"the key map is not valid JSON ({err}).") from None
    if not isinstance(mapping, dict) or not all(k in ROLES and isinstance(v, str) for k, v in mapping.items()):
        raise ModelImportError(f"the key map must be a JSON object from {', '.join(ROLES)} to the prefix of that "
                               "module's keys in the state dict, e.g. {\"head\": \"out_proj\"}.")
    return mapping


def find_prefixes(state: dict[str, torch.Tensor], mapping: dict[str, str]) -> dict[str, str]:
    """Each role's key prefix in ``state`` (``"lstm"`` for ``lstm.weight_ih_l0``): the mapping's, else the one
    prefix whose last part is a known name (the recurrent stack: the one prefix holding ``weight_ih_l0``)."""
    prefixes = sorted({key.rpartition(".")[0] for key in state})
    found = {}
    for role in ROLES:
        if role in mapping:
            prefix = mapping[role]
            if prefix not in prefixes:
                raise ModelImportError(f"the key map names {prefix!r} for the {role}, but the state dict has no key "
                                       f"{prefix + '.' if prefix else ''}...; its prefixes are {_listed(prefixes)}.")
            found[role] = prefix
            continue
        if role == "recurrent":
            candidates = [p for p in prefixes if _key(p, "weight_ih_l0") in state]
        else:
            candidates = [p for p in prefixes if p.rpartition(".")[2].lower() in NAMES[role]
                          and _key(p, "weight") in state and _key(p, "weight_ih_l0") not in state]
        candidates = [p for p in candidates if p not in found.values()]
        if len(candidates) != 1:
            what = "no" if not candidates else f"{len(candidates)} ({_listed(candidates)})"
            raise ModelImportError(f"the state dict has {what} key prefix that reads as the {role} among "
                                   f"{_listed(prefixes)}; name it in a key map, e.g. {{\"{role}\": \"...\"}}.")
        found[role] = candidates[0]
    return found


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _listed(names) -> str:
    names = [repr(n) for n in names]
    return ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")


def _need(state: dict, key: str, expected: tuple | None = None, what: str = "") -> torch.Tensor:
    if key not in state:
        shown = f" of shape {expected}" if expected else ""
        raise ModelImportError(f"the state dict has no key {key!r}{shown}{what}.")
    tensor = state[key]
    if expected is not None and shape(tensor) != expected:
        raise ModelImportError(f"{key} has shape {shape(tensor)}, expected {expected}{what}.")
    return tensor


def convert(state: dict[str, torch.Tensor], vocab: list[str], mapping: dict[str, str] | None = None
            ) -> tuple[ModelConfig, dict[str, torch.Tensor], dict[str, str]]:
    """(the model's settings, its weights under CharModel's names, each role's prefix) of a foreign state dict,
    checked key by key and shape by shape."""
    prefixes = find_prefixes(state, mapping or {})
    embedding_key = _key(prefixes["embedding"], "weight")
    embedding = _need(state, embedding_key)
    if embedding.dim() != 2:
        raise ModelImportError(f"{embedding_key} has shape {shape(embedding)}; an embedding's weight is "
                               "(vocabulary, embedding size).")
    if embedding.shape[0] != len(vocab):
        raise ModelImportError(f"the vocabulary has {len(vocab)} characters, but {embedding_key} has "
                               f"{embedding.shape[0]} rows (shape {shape(embedding)}); they must match.")
    rec = prefixes["recurrent"]
    layers = 0
    while _key(rec, f"weight_ih_l{layers}") in state:
        layers += 1
    first_ih, first_hh = state[_key(rec, "weight_ih_l0")], _need(state, _key(rec, "weight_hh_l0"))
    if first_hh.dim() != 2 or first_ih.dim() != 2:
        raise ModelImportError(f"{_key(rec, 'weight_hh_l0')} has shape {shape(first_hh)}; a recurrent layer's "
                               "weights are matrices.")
    hidden = first_hh.shape[1]
    blocks, rest = divmod(first_hh.shape[0], max(hidden, 1))
    if rest or blocks not in BLOCKS:
        raise ModelImportError(f"{_key(rec, 'weight_hh_l0')} has shape {shape(first_hh)}: {first_hh.shape[0]} rows "
                               f"for {hidden} units is not 4 (LSTM), 3 (GRU) or 1 (RNN) blocks of rows.")
    name = BLOCKS[blocks]
    if any(k.startswith(_key(rec, "weight_hr_l")) for k in state):
        raise ModelImportError(f"{_key(rec, 'weight_hr_l0')}: an LSTM with proj_size is not covered; "
                               "the replay reads LSTMs without projections.")
    if any(k.startswith(rec) and k.endswith("_reverse") for k in state):
        raise ModelImportError(f"{_key(rec, 'weight_ih_l0_reverse')}: a bidirectional layer reads the text backwards "
                               "too, so it cannot be a model of the next character.")
    embed_dim = embedding.shape[1]
    if shape(first_ih) != (blocks * hidden, embed_dim):
        raise ModelImportError(f"{_key(rec, 'weight_ih_l0')} has shape {shape(first_ih)}, expected "
                               f"{(blocks * hidden, embed_dim)}: the embedding {embedding_key} {shape(embedding)} "
                               f"feeds it {embed_dim} values.")
    has_bias = _key(rec, "bias_ih_l0") in state or _key(rec, "bias_hh_l0") in state
    renamed = {"embedding.weight": embedding}
    for k in range(layers):
        inputs = embed_dim if k == 0 else hidden
        expected = {"weight_ih_l{k}": (blocks * hidden, inputs), "weight_hh_l{k}": (blocks * hidden, hidden),
                    "bias_ih_l{k}": (blocks * hidden,), "bias_hh_l{k}": (blocks * hidden,)}
        for pattern, wanted in expected.items():
            key = pattern.format(k=k)
            if key.startswith("bias") and not has_bias:  # nn.LSTM(bias=False): the same as zero biases
                renamed[f"{name}.{key}"] = torch.zeros(wanted)
                continue
            renamed[f"{name}.{key}"] = _need(state, _key(rec, key), wanted, f" (layer {k} of the {name.upper()})")
    head_prefix = prefixes["head"]
    head = _need(state, _key(head_prefix, "weight"))
    if head.dim() != 2 or head.shape[1] != hidden:
        raise ModelImportError(f"{_key(head_prefix, 'weight')} has shape {shape(head)}, but the {name.upper()}'s "
                               f"hidden size is {hidden} ({_key(rec, 'weight_hh_l0')} is {shape(first_hh)}): the "
                               f"head must read {hidden} values.")
    if head.shape[0] != len(vocab):
        raise ModelImportError(f"{_key(head_prefix, 'weight')} has shape {shape(head)}: it scores {head.shape[0]} "
                               f"characters, but the vocabulary has {len(vocab)}.")
    bias_key = _key(head_prefix, "bias")
    head_bias = _need(state, bias_key, (len(vocab),)) if bias_key in state else torch.zeros(len(vocab))
    renamed.update({"head.weight": head, "head.bias": head_bias})
    used = {_key(rec, p.format(k=k)) for k in range(layers) for p in LAYER_KEYS} | {embedding_key, _key(head_prefix, "weight"),
                                                                                   bias_key}
    unexpected = sorted(set(state) - used)
    if unexpected:
        key = unexpected[0]
        raise ModelImportError(f"the state dict has an unexpected key {key!r} of shape {shape(state[key])} "
                               f"({len(unexpected)} in all); an embedding -> {name.upper()} -> linear model has none "
                               "(a key map names the modules; other layers are not covered).")
    for key, tensor in renamed.items():
        if not tensor.is_floating_point() or not torch.isfinite(tensor).all():
            raise ModelImportError(f"{key} holds values that are not finite floating-point numbers.")
    try:
        config = ModelConfig(vocab_size=len(vocab), hidden_size=hidden, num_layers=layers, embedding_dim=embed_dim,
                             architecture=name, variant=STANDARD)
    except ValueError as err:
        raise ModelImportError(f"this model is outside what LSTM Lab opens: {err}.") from None
    return config, {k: v.detach().float().contiguous() for k, v in renamed.items()}, prefixes


def imported_model(state: dict[str, torch.Tensor], vocab: list[str], mapping: dict[str, str] | None = None
                   ) -> tuple[CharModel, dict[str, str]]:
    """The :class:`CharModel` holding a foreign state dict's weights, and each role's prefix."""
    config, weights, prefixes = convert(state, vocab, mapping)
    check_model_size({"kind": "char", "model": config.to_dict()}, build_model)
    model = CharModel(config)
    model.load_state_dict(weights)
    return model.eval(), prefixes


def import_model(store: RunStore, weights: bytes, weights_name: str, vocab: bytes, vocab_name: str = "vocab.json",
                 name: str | None = None, mapping: bytes | dict | None = None, owner: str | None = None) -> Path:
    """Add a foreign character model to ``store`` as a run (kind ``char``, status ``imported``); returns its folder.
    Everything is checked before anything is written; a failure leaves nothing behind."""
    chars = read_vocab(vocab, vocab_name)
    roles = mapping if isinstance(mapping, dict) else read_mapping(mapping)
    model, prefixes = imported_model(read_state_dict(weights, weights_name), chars, roles)
    arch = model.arch
    label = (name or Path(weights_name).stem or "imported model").strip()[:80]
    config = {"kind": "char", "model": model.config.to_dict(), "vocab": chars,
              "summary": f"imported {arch.short_name}, {model.config.num_layers} x {model.config.hidden_size}",
              "imported": {"weights": Path(weights_name).name[:120], "vocab": Path(vocab_name).name[:120],
                           "keys": prefixes}}
    path = store.create(label, config, owner=owner)
    try:
        write_atomic(path / WEIGHTS_FILE, weights_bytes(model))
        store.update(path, status="imported")
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        store.forget(path.name)
        raise
    return path


def imported_from(config: dict) -> str | None:
    """The file a run was imported from (a state dict's name), or None for a run trained here."""
    record = config.get("imported")
    if not isinstance(record, dict):
        return None
    return str(record.get("weights") or "a state dict")


def imported_note(config: dict) -> str | None:
    """For a run imported from a state dict, a sentence saying so and what it therefore lacks; None otherwise."""
    source = imported_from(config)
    if source is None:
        return None
    return (f"This model was imported from {source} (weights only): it has no training history, so no loss "
            "curves, samples or training movie.")
