"""Samples shared by every session of the server: the same run, prime and settings draw the same text.

A sample is seeded, so sixteen students opening /generate with the same settings would otherwise
each spend the same half second of the server's time drawing the same 400 characters, one after
the other. The first session to ask streams the text as it is drawn and keeps it here; the others
wait for it and show it at once (lstm_core.execution.compute_once). Bounded: the oldest are dropped.
"""

from __future__ import annotations

import streamlit as st

from lstm_core.execution.compute_once import ComputeOnce

MAX_SAMPLES = 64


@st.cache_resource
def shared_samples() -> ComputeOnce:
    """The server's one store of samples: settings -> sampled steps, drawn in the asking session's
    thread (it streams the text to its page); a second session asking for the same waits for it."""
    return ComputeOnce(MAX_SAMPLES)
