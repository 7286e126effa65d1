"""Snapshots of the gates while a model learns: a probe traced through the weights of each moment.

While a training runs, the trainer traces a fixed probe (a validation passage, or a sentence for
the tasks) through its current weights at every evaluation and every few seconds, and keeps a
compact :class:`Snapshot`: every quantity as (layers, time, units) in half precision, plus summary
series (each gate's mean and saturation, and for text the units that follow its features best).
A run's snapshots replay as a training movie; the last one feeds the Train page's live gate panel.

Storage is bounded: :class:`SnapshotStore` keeps at most ``MAX_SNAPSHOTS`` files and
``MAX_BYTES`` in a run's ``snapshots/`` folder, thinning the oldest ones evenly, never the first or
the last. Each snapshot is one safetensors file (tensors plus plain-text metadata), never pickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load as load_bytes
from safetensors.numpy import save as save_bytes

from . import gates
from .analysis import correlations, features_present, text_features
from .runs import RunError, temporary_twin

SNAPSHOT_DIR = "snapshots"
MAX_SNAPSHOTS = 40
MAX_BYTES = 32_000_000
PROBE_CHARS = 240  # a probe passage's length: the movie shows every character of it
LOW, HIGH = 0.1, 0.9  # a gate below LOW is shut, above HIGH open (Karpathy et al. 2015's saturation)


@dataclass
class Snapshot:
    """The probe traced through the weights of one moment of a training."""

    step: int
    seconds: float  # training seconds at that step
    tokens: list[str]  # the probe's characters (or words)
    values: dict[str, np.ndarray]  # quantity -> (layers or directions, time, units), float16
    summary: dict = field(default_factory=dict)  # see :func:`summarise`

    @classmethod
    def capture(cls, step: int, seconds: float, tokens, values: dict, text_units: bool = True) -> "Snapshot":
        """A snapshot of traced ``values`` (quantity -> (slots, time, units)); ``text_units`` ranks units
        against the features of a text probe (characters, not words)."""
        kept = {name: np.asarray(array, np.float32).astype(np.float16) for name, array in values.items()}
        tokens = list(tokens)
        return cls(step, float(seconds), tokens, kept,
                   summarise(values, "".join(tokens) if text_units else None))

    @property
    def quantities(self) -> tuple[str, ...]:
        return tuple(self.values)

    def to_bytes(self) -> bytes:
        metadata = {"step": str(self.step), "seconds": repr(self.seconds), "tokens": json.dumps(self.tokens),
                    "summary": json.dumps(self.summary)}
        return save_bytes(dict(self.values), metadata=metadata)

    @classmethod
    def from_bytes(cls, data: bytes, label: str = "a snapshot") -> "Snapshot":
        """Read what :meth:`to_bytes` wrote; anything else is refused with a RunError."""
        try:
            values = load_bytes(data)
            metadata = _metadata(data)
            return cls(int(metadata["step"]), float(metadata["seconds"]), list(json.loads(metadata["tokens"])),
                       {name: array.astype(np.float16) for name, array in values.items()},
                       json.loads(metadata["summary"]))
        except (SafetensorError, KeyError, ValueError, TypeError) as err:
            raise RunError(f"{label} is not a readable snapshot ({type(err).__name__}).") from None


def _metadata(data: bytes) -> dict:
    """The safetensors header's ``__metadata__`` (plain strings)."""
    size = int.from_bytes(data[:8], "little")
    return json.loads(data[8:8 + size])["__metadata__"]


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
    """A run's snapshots on disk, bounded in count and bytes; the first and the last are always kept."""

    def __init__(self, run_dir, max_snapshots: int = MAX_SNAPSHOTS, max_bytes: int = MAX_BYTES):
        self.folder = Path(run_dir) / SNAPSHOT_DIR
        self.max_snapshots, self.max_bytes = max_snapshots, max_bytes

    def files(self) -> list[Path]:
        """Snapshot files, oldest first (their names are the zero-padded step)."""
        return sorted(self.folder.glob("*.safetensors")) if self.folder.is_dir() else []

    def add(self, snapshot: Snapshot) -> Path:
        """Write a snapshot atomically, then thin the older ones to the bounds."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{snapshot.step:09d}.safetensors"
        tmp = temporary_twin(path)
        tmp.write_bytes(snapshot.to_bytes())
        tmp.replace(path)
        self.thin()
        return path

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

    def bytes_used(self) -> int:
        return sum(path.stat().st_size for path in self.files())


def export_npz(snapshots: list[Snapshot], out) -> None:
    """All snapshots of a run in one ``.npz``: ``steps``, ``seconds``, ``tokens`` and, per quantity, an
    array (snapshot, layers, time, units)."""
    if not snapshots:
        raise RunError("This run has no snapshots (it was trained before snapshots were kept, or not at all).")
    arrays = {name: np.stack([s.values[name].astype(np.float32) for s in snapshots]) for name in snapshots[0].values}
    np.savez_compressed(out, steps=np.array([s.step for s in snapshots]),
                        seconds=np.array([s.seconds for s in snapshots]), tokens=np.array(snapshots[0].tokens),
                        **arrays)
