"""Helpers for the page tests: the Plotly figures a page drew, and their data arrays as numpy."""

from __future__ import annotations

import base64
import json

import numpy as np


def figures(at) -> list[dict]:
    """Every Plotly chart of an AppTest run, as its JSON spec."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A plotly data array, plain or typed ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.array(value)
