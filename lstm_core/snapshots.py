"""Snapshots of the gates while a model learns: a probe traced through the weights of each moment.

While a training runs, the trainer traces a fixed probe (a validation passage, or a sentence for
the tasks) through its current weights at every evaluation and every few seconds, and keeps a
compact :class:`Snapshot`: every quantity as (layers, time, units) in half precision, plus summary
series (each gate's mean and saturation, and for text the units that follow its features best).
A run's snapshots replay as a training movie; the last one feeds the Train page's live gate panel.

Where they come from: :meth:`lstm_core.training.loop.Training.snapshot` traces the probe (off the training
clock) and hands the snapshot to its run store (in a worker, to the store's stand-in, which sends it
to the process that owns the store); :meth:`lstm_core.runs.RunStore.write_snapshot` has the snapshot
write itself (:meth:`Snapshot.write_into`) and thin its run's folder. An imported run's snapshots are
checked here too (:func:`check_snapshots`, registered with the store).

Storage is bounded: :class:`SnapshotStore` keeps at most ``MAX_SNAPSHOTS`` files and
``MAX_BYTES`` in a run's ``snapshots/`` folder, thinning the oldest ones evenly, never the first or
the last. Each snapshot is one safetensors file (tensors plus plain-text metadata), never pickled.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_bytes
from safetensors.numpy import save as save_bytes

from . import gates
from .analysis import correlations, features_present, text_features
from .architectures import ENTRIES
from .import_checks import ImportRefused
from .runs import (SNAPSHOT_DIR, RunError, register_import_check, snapshot_files,
                   write_atomic)

MAX_SNAPSHOTS = 40
MAX_BYTES = 32_000_000
PROBE_CHARS = 240  # a probe passage's length: the movie shows every character of it
MAX_PROBE_CHARS = 1000  # a typed probe's longest (a snapshot's size grows with it)
PROBE_WORDS = 60  # a word-level probe's default length (the classifier's review is cut there)
MAX_PROBE_WORDS = 200  # a typed word-level probe's longest
EVERY_SECONDS = 2.0  # a snapshot at least this often, in seconds of training (and at every evaluation)
LOW, HIGH = 0.1, 0.9  # a gate below LOW is shut, above HIGH open (Karpathy et al. 2015's saturation)
TOKEN_KINDS = ("char", "word")  # what one step of a probe is
KNOWN_QUANTITIES = [set(entry.quantities) for entry in ENTRIES]  # a snapshot holds one architecture's


@dataclass
class Snapshot:
    """The probe traced through the weights of one moment of a training."""

    step: int
    seconds: float  # training seconds at that step
    tokens: list[str]  # the probe's characters (or words)
    values: dict[str, np.ndarray]  # quantity -> (layers or directions, time, units), float16
    summary: dict = field(default_factory=dict)  # see :func:`summarise`
    token: str = "char"  # what one step of the probe is: "char" or "word"
    slots: list[str] = field(default_factory=list)  # a name per slot of the first axis ("layer 0", ...)

    @classmethod
    def capture(cls, step: int, seconds: float, tokens, values: dict, text_units: bool = True,
                token: str = "char", slots: list[str] | None = None) -> "Snapshot":
        """A snapshot of traced ``values`` (quantity -> (slots, time, units)); ``text_units`` ranks units
        against the features of a text probe (Molière's characters, not words or the memory task's)."""
        kept = {name: np.asarray(array, np.float32).astype(np.float16) for name, array in values.items()}
        tokens = list(tokens)
        count = next(iter(kept.values())).shape[0] if kept else 0
        return cls(step, float(seconds), tokens, kept, summarise(values, "".join(tokens) if text_units else None),
                   token, list(slots) if slots else slot_names(count))

    @property
    def quantities(self) -> tuple[str, ...]:
        return tuple(self.values)

    @property
    def text(self) -> str:
        """The probe as text (words joined by spaces)."""
        return (" " if self.token == "word" else "").join(self.tokens)

    def to_bytes(self) -> bytes:
        metadata = {"step": str(self.step), "seconds": repr(self.seconds), "tokens": json.dumps(self.tokens),
                    "summary": json.dumps(self.summary), "token": self.token, "slots": json.dumps(self.slots)}
        return save_bytes(dict(self.values), metadata=metadata)

    def write_into(self, run_dir) -> int:
        """Add this snapshot to a run folder's snapshots, kept in their bounds; returns the bytes written."""
        return SnapshotStore(run_dir).add(self)

    @classmethod
    def from_bytes(cls, data: bytes, label: str = "a snapshot") -> "Snapshot":
        """Read what :meth:`to_bytes` wrote; anything else is refused with a RunError."""
        try:
            values = load_bytes(data)
            metadata = _metadata(data)
            tokens = list(json.loads(metadata["tokens"]))
            if set(values) not in KNOWN_QUANTITIES:
                raise ValueError("its quantities are not an architecture's gates and states")
            values = {name: values[name].astype(np.float16) for name in in_order(values)}
            if not values or any(a.ndim != 3 or a.shape[1] != len(tokens) for a in values.values()):
                raise ValueError("its arrays do not match its probe")
            count = next(iter(values.values())).shape[0]
            if any(a.shape[0] != count for a in values.values()):
                raise ValueError("its arrays do not share their slots")
            slots = list(json.loads(metadata.get("slots", "[]"))) or slot_names(count)
            token, summary = metadata.get("token", "char"), json.loads(metadata["summary"])
            if token not in TOKEN_KINDS or not all(isinstance(t, str) and (token == "word" or len(t) == 1)
                                                   for t in tokens):
                raise ValueError("its probe is not a list of characters or words")
            if len(slots) != count or not all(isinstance(slot, str) for slot in slots) or not isinstance(summary, dict):
                raise ValueError("its slots or its summary are malformed")
            return cls(int(metadata["step"]), float(metadata["seconds"]), tokens, values, summary, token, slots)
        except (SafetensorError, KeyError, ValueError, TypeError, AttributeError) as err:
            raise RunError(f"{label} is not a readable snapshot ({type(err).__name__}).") from None


def _metadata(data: bytes) -> dict:
    """The safetensors header's ``__metadata__`` (plain strings)."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size])["__metadata__"]


def in_order(names) -> list[str]:
    """Quantity names in their architecture's order (gates in PyTorch's order, then the states); a file
    lists its tensors alphabetically."""
    names = set(names)
    for arch in ENTRIES:
        if names == set(arch.quantities):
            return list(arch.quantities)
    return sorted(names)


def read_header(path: Path) -> dict:
    """A snapshot file's step, seconds and summary, read from its header alone (not its arrays)."""
    with open(path, "rb") as file:
        size = int.from_bytes(file.read(8), "little")
        if not 0 < size < 50_000_000:
            raise ValueError("not a safetensors header")
        metadata = json.loads(file.read(size))["__metadata__"]
    summary = json.loads(metadata["summary"])
    if not isinstance(summary, dict):
        raise ValueError("not a snapshot's summary")
    return {"step": int(metadata["step"]), "seconds": float(metadata["seconds"]), "summary": summary}


def slot_names(layers: int, bidirectional: bool = False) -> list[str]:
    """Names of a recurrent stack's slots in PyTorch's order (l0, l0 reverse, l1, ...)."""
    if not bidirectional:
        return [f"layer {k}" for k in range(layers)]
    return [f"layer {k}, {way}" for k in range(layers) for way in ("left to right", "right to left")]


def probe_passage(text: str, length: int = PROBE_CHARS) -> str:
    """A training's default probe: ``length`` characters of its validation text, from the start of its
    first speaker's line that leaves ``length`` characters (Molière's "HARPAGON."), else from its start."""
    if len(text) <= length:
        return text
    for match in re.finditer(r"\n[A-ZÀ-ÖØ-ÞŒ][A-ZÀ-ÖØ-ÞŒ' \-]+[.,]", text):
        start = match.start() + 1
        if start + length > len(text):
            break
        return text[start:start + length]
    return text[:length]


def check_probe(probe: str | None, longest: int = MAX_PROBE_CHARS) -> None:
    """A typed probe is refused unless it has 2 to ``longest`` characters, not all blank (None: the default)."""
    if probe is None:
        return
    if not isinstance(probe, str) or not 2 <= len(probe) <= longest:
        size = f"{len(probe):,}" if isinstance(probe, str) else type(probe).__name__
        raise ValueError(f"the probe (the text the gate snapshots trace) must have 2 to {longest:,} characters, "
                         f"got {size}")
    if not probe.strip():
        raise ValueError("the probe (the text the gate snapshots trace) is only blanks: type some text")


def summarise(values: dict, text: str | None = None) -> dict:
    """Summary series of one snapshot: per sigmoid gate and layer, its mean and the share of values
    below ``LOW`` / above ``HIGH``; with a text probe, per feature present, the unit whose cell (or
    hidden) state follows it best and the correlation."""
    summary: dict = {"gates": {}, "units": {}}
    for name, array in values.items():
        entry = gates.quantity(name)
        if entry.kind != "gate" or entry.activation != "sigmoid":
            continue
        array = np.asarray(array, np.float64)
        summary["gates"][name] = {"mean": array.mean(axis=(1, 2)).round(4).tolist(),
                                  "shut": (array < LOW).mean(axis=(1, 2)).round(4).tolist(),
                                  "open": (array > HIGH).mean(axis=(1, 2)).round(4).tolist()}
    state = "cell_state" if "cell_state" in values else "hidden_state"
    if text is not None and state in values:
        features = text_features(text)
        for feature in features_present(features):
            best = []
            for layer, grid in enumerate(np.asarray(values[state], np.float32)):
                r = correlations(grid, features[feature])
                unit = int(np.argmax(np.abs(r)))
                best.append((abs(r[unit]), layer, unit, float(r[unit])))
            _, layer, unit, r = max(best)
            summary["units"][feature] = {"layer": layer, "unit": unit, "quantity": state, "correlation": round(r, 4)}
    return summary


class SnapshotStore:
    """A run's snapshots on disk, bounded in count and bytes; the first and the last are always kept.

    The bounds default to ``MAX_SNAPSHOTS`` and ``MAX_BYTES`` (read when the store object is made)."""

    def __init__(self, run_dir, max_snapshots: int | None = None, max_bytes: int | None = None):
        self.run_dir = Path(run_dir)
        self.folder = self.run_dir / SNAPSHOT_DIR
        self.max_snapshots = MAX_SNAPSHOTS if max_snapshots is None else max_snapshots
        self.max_bytes = MAX_BYTES if max_bytes is None else max_bytes

    def files(self) -> list[Path]:
        """Snapshot files, oldest first (their names are the zero-padded step)."""
        return snapshot_files(self.run_dir)

    def add(self, snapshot: Snapshot) -> int:
        """Write a snapshot atomically (replacing one of the same step), then thin the older ones to the
        bounds; returns the bytes written."""
        self.folder.mkdir(parents=True, exist_ok=True)
        data = snapshot.to_bytes()
        write_atomic(self.folder / f"{snapshot.step:09d}.safetensors", data)
        self.thin()
        return len(data)

    def thin(self) -> None:
        """Remove interior snapshots, the one whose neighbours are closest in steps first, until both
        bounds hold: the movie keeps its first frame, its last and an even spread between."""
        files = self.files()
        sizes = {path: path.stat().st_size for path in files}
        while len(files) > 2 and (len(files) > self.max_snapshots or sum(sizes[f] for f in files) > self.max_bytes):
            steps = [int(f.stem) for f in files]
            gaps = [steps[k + 1] - steps[k - 1] for k in range(1, len(files) - 1)]
            victim = files.pop(1 + int(np.argmin(gaps)))
            victim.unlink(missing_ok=True)

    def load(self) -> list[Snapshot]:
        """Every readable snapshot, oldest first (a damaged file is passed over)."""
        snapshots = []
        for path in self.files():
            try:
                snapshots.append(Snapshot.from_bytes(path.read_bytes(), path.name))
            except (RunError, OSError):
                continue
        return snapshots

    def latest(self) -> Snapshot | None:
        for path in reversed(self.files()):
            try:
                return Snapshot.from_bytes(path.read_bytes(), path.name)
            except (RunError, OSError):
                continue
        return None

    def series(self) -> list[dict]:
        """Each readable snapshot's step, seconds and summary, oldest first, read from the headers alone."""
        rows = []
        for path in self.files():
            try:
                rows.append(read_header(path))
            except (OSError, ValueError, KeyError, TypeError):
                continue
        return rows

    def bytes_used(self) -> int:
        return sum(path.stat().st_size for path in self.files())


def export_npz(snapshots: list[Snapshot], out) -> None:
    """All snapshots of a run in one ``.npz``: ``steps``, ``seconds``, ``tokens``, ``slots`` (the names of
    the first axis) and, per quantity, an array (snapshot, slots, time, units); per sigmoid gate also its
    summary series ``{gate}_mean``, ``{gate}_shut`` and ``{gate}_open``, each (snapshot, slots)."""
    if not snapshots:
        raise RunError("This run has no snapshots (it was trained before snapshots were kept, or with them off).")
    first = snapshots[0]
    shapes = {name: array.shape for name, array in first.values.items()}
    for snapshot in snapshots[1:]:
        if snapshot.tokens != first.tokens or {n: a.shape for n, a in snapshot.values.items()} != shapes:
            raise RunError(f"The snapshot at step {snapshot.step} traced another probe or model than the one at "
                           f"step {first.step}; they cannot be stacked.")
    arrays = {name: np.stack([s.values[name].astype(np.float32) for s in snapshots]) for name in first.values}
    series = {f"{gate}_{figure}": np.array([s.summary["gates"][gate][figure] for s in snapshots], np.float32)
              for gate in first.summary.get("gates", {}) for figure in ("mean", "shut", "open")}
    np.savez_compressed(out, steps=np.array([s.step for s in snapshots]),
                        seconds=np.array([s.seconds for s in snapshots]), tokens=np.array(first.tokens),
                        slots=np.array(first.slots), **series, **arrays)


def check_snapshots(config: dict, files: dict[str, bytes]) -> None:
    """Refuse an imported run whose gate snapshots (name -> bytes) are more than a run keeps, or not all
    readable snapshots of its model (:meth:`lstm_core.runs.RunStore.import_zip` runs it, in memory, once the
    settings are checked)."""
    if len(files) > MAX_SNAPSHOTS:
        raise ImportRefused(f"it holds {len(files)} snapshots; a run keeps at most {MAX_SNAPSHOTS}.")
    units = config["model"]["hidden_size"]
    for name, data in files.items():
        snapshot = Snapshot.from_bytes(data, name)
        if any(array.shape[2] != units for array in snapshot.values.values()):
            raise RunError(f"{name} does not hold this model's units: it is a snapshot of another model.")


register_import_check(check_snapshots)
