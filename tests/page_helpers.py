"""Helpers for the page tests: opening a page with a link, the Plotly figures it drew, and their data as numpy."""

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


def open_app(page: str, **query):
    """An AppTest of ``page`` (a path relative to tests/) opened with the link's ``query``, run once, and
    checked for exceptions."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(page, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at
