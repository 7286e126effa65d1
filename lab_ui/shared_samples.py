"""Samples shared by every session of the server: the same run, prime and settings draw the same text.

A sample is seeded, so sixteen students opening /generate with the same settings would otherwise
each spend the same half second of the server's time drawing the same 400 characters, one after
the other. The first session to ask streams the text as it is drawn and keeps it here; the others
wait for it (one lock per setting) and show it at once. Bounded: the oldest are dropped.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import streamlit as st

MAX_SAMPLES = 64


class SharedSamples:
    """A bounded map of settings -> sampled steps, computed once even when asked for at once."""

    def __init__(self, capacity: int = MAX_SAMPLES):
        self.capacity = capacity
        self._done: OrderedDict[Hashable, list] = OrderedDict()
        self._locks: dict[Hashable, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: Hashable) -> list | None:
        with self._guard:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
        return None

    def get_or_draw(self, key: Hashable, draw: Callable[[], list]) -> list:
        """The steps kept for ``key``, or ``draw()``'s, kept; a second caller waits for the first."""
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            steps = self.get(key)
            if steps is None:
                steps = draw()  # may raise: nothing is kept, the next caller draws again
                with self._guard:
                    self._done[key] = steps
                    while len(self._done) > self.capacity:
                        oldest, _ = self._done.popitem(last=False)
                        self._locks.pop(oldest, None)
        return steps


@st.cache_resource
def shared_samples() -> SharedSamples:
    """The server's one store of samples."""
    return SharedSamples()
