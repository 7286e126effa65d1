"""One layer of a trace, packed for the browser: every quantity as 8-bit codes with its scale.

The /gates inspector (lab_ui/components/gates_inspector.js) draws the heatmaps and the painted text
itself, so that a unit, a step, a sort order or a top-k answers in the browser without asking the
server. It receives each quantity of one layer once per (run, text, layer), as bytes: a value is
``low[u] + code * step[u]`` with ``step[u] = (high[u] - low[u]) / 255`` for each unit ``u``, so the
browser's value is the model's own within half a step (``max_error``). A 300-character passage through
a 256-unit LSTM is 460 kB of codes (six quantities) against 3.7 MB of float64. The text's features go
along (the correlation sort), and the quantities' table (their bounds and centres: lstm_core.gates).

    payload = inspection_payload(trace, layer, features)    # a dict that JSON carries as it is
    values = decoded(payload["quantities"][0])              # what the browser computes, in numpy (tests)
"""

from __future__ import annotations

import base64

import numpy as np

from . import gates
from .trace import Trace

LEVELS = 255  # codes 0..255


def quantise(values: np.ndarray) -> dict:
    """``values`` (time, units) as 8-bit codes (base64, row-major: time by time), each unit on a scale of its own
    (``low[u]``, ``step[u]``): a cell state whose units span ±2 and ±200 keeps the small ones readable."""
    values = np.asarray(values, np.float64)
    low, high = values.min(axis=0), values.max(axis=0)
    step = np.where(high > low, (high - low) / LEVELS, 1.0)
    codes = np.rint((values - low) / step).clip(0, LEVELS).astype(np.uint8)
    return {"low": low.tolist(), "step": step.tolist(), "codes": base64.b64encode(codes.tobytes()).decode("ascii")}


def decoded(packed: dict) -> np.ndarray:
    """The values (time, units) a packed quantity stands for: the browser's decoding, in numpy."""
    codes = np.frombuffer(base64.b64decode(packed["codes"]), np.uint8).astype(np.float64)
    codes = codes.reshape(packed["steps"], packed["units"])
    return np.asarray(packed["low"]) + codes * np.asarray(packed["step"])


def max_error(packed: dict) -> np.ndarray:
    """How far each unit's decoded values may be from the model's: half its quantisation step."""
    return np.asarray(packed["step"]) / 2


def inspection_payload(tr: Trace, layer: int, features: dict[str, np.ndarray]) -> dict:
    """Layer ``layer`` of ``tr``: its characters, every quantity packed (:func:`quantise`) with its table entry, and
    the text's ``features`` (lstm_core.analysis.text_features) rounded to 6 decimals."""
    steps, units = len(tr.chars), tr.values[tr.quantities[0]].shape[-1]
    quantities = []
    for name in tr.quantities:
        entry = gates.quantity(name)
        quantities.append({"name": name, "label": entry.label, "kind": entry.kind, "centre": entry.centre,
                           "bounded": entry.bounded, "bounds": [entry.low, entry.high] if entry.bounded else None,
                           "steps": steps, "units": units, **quantise(tr.values[name][layer])})
    return {"chars": list(tr.chars), "layer": layer, "steps": steps, "units": units, "quantities": quantities,
            "features": {name: np.round(np.asarray(values, np.float64), 6).tolist() for name, values in features.items()}}
