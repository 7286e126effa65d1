"""Samples shared by every session of the server: the same run, prime and settings draw the same text.

A sample is seeded, so sixteen students opening /generate with the same settings would otherwise
each spend the same half second of the server's time drawing the same 400 characters, one after
the other. The first session to ask streams the text as it is drawn and keeps it here; the others
wait for it and show it at once (lstm_core.execution.compute_once). Bounded: the oldest are dropped.

A student who has just moved a slider (temperature, top-k or top-p) is likely to move it one step
more: once the page is drawn, the samples one step either side are drawn in the background, at a
lower priority, by the same function with the same seed, so that the next step's text (and its
view: ``shared_views``) is here already and identical to what drawing it then would give
(``prepare_neighbours``).
"""

from __future__ import annotations

import math
import os
import threading
import time

import streamlit as st

from lstm_core.execution.compute_once import ComputeOnce

MAX_SAMPLES = 64
BACKGROUND_NICE = 10  # the neighbours' thread yields the cores to every session's own work
# a slider's step, lowest and highest value (None: the vocabulary's size), as pages/3_generate.py draws them
SLIDERS = {"temperature": (0.05, 0.0, 2.0), "top_k": (1, 0, None), "top_p": (0.05, 0.05, 1.0)}


@st.cache_resource
def shared_samples() -> ComputeOnce:
    """The server's one store of samples: settings -> sampled steps, drawn in the asking session's
    thread (it streams the text to its page); a second session asking for the same waits for it."""
    return ComputeOnce(MAX_SAMPLES, thread_name="lstm-lab-samples")


@st.cache_resource
def shared_views() -> ComputeOnce:
    """The server's one store of what /generate shows of a sample (its coloured text, measures and entropy
    chart), by the sample's key in ``shared_samples``."""
    return ComputeOnce(MAX_SAMPLES)


def sampling_options(temperature: float, top_k: int, top_p: float, seed: int) -> dict:
    """The sliders' values as lstm_core.sample_stream's settings (top-k 0 and top-p 1 mean off)."""
    return {"temperature": temperature, "top_k": top_k or None, "top_p": top_p if top_p < 1 else None, "seed": seed}


def moved_slider(before: dict | None, now: dict) -> tuple[str, int]:
    """Which of the sliders in SLIDERS changed between two runs of the page, and which way (+1 up, -1 down);
    the temperature, up, when none did."""
    for name in SLIDERS:
        if before is not None and before.get(name) != now[name]:
            return name, 1 if now[name] > before[name] else -1
    return "temperature", 1


def neighbours(sliders: dict, moved: tuple[str, int], vocab_size: int) -> list[dict]:
    """The sliders' values with ``moved`` (a slider and its way) one step either way within its range, the way
    it moved first, as the browser sends them: on the step's grid, rounded as the step is written (0.8 + 0.05 is
    0.85, not 0.8500000000000001)."""
    moved, way = moved
    step, low, high = SLIDERS[moved]
    high = vocab_size if high is None else high
    values = (as_written(step, sliders[moved] + sign * step) for sign in (way, -way))
    return [{**sliders, moved: value} for value in values if low <= value <= high]


def as_written(step: float | int, value: float) -> float | int:
    """``value`` rounded as its slider's ``step`` is written: a whole number for a whole step, otherwise to the
    step's decimal places (0.8 + 0.05 is 0.85, not 0.8500000000000001)."""
    if isinstance(step, int):
        return int(round(value))
    return round(value, len(f"{step}".partition(".")[2]))


def on_grid(values: dict, vocab_size: int) -> dict:
    """The sliders' values (SLIDERS: temperature, top_k, top_p) on their grids and in their ranges, written as the
    page's widgets write them (``as_written``; top-k up to the vocabulary's size): the browser and the page then
    name a sample by the same numbers. ValueError for a value that is not a number."""
    placed = {}
    for name, (step, low, high) in SLIDERS.items():
        value = float(values[name])
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a number, got {values[name]!r}")
        placed[name] = as_written(step, min(max(round(value / step) * step, low), vocab_size if high is None else high))
    return placed


def politely(steps):
    """The items of ``steps`` unchanged, the interpreter handed to any other thread between two of them: a draw
    ahead holds it only for one character's step at a time, not for the interpreter's whole switch interval,
    while a session's own page runs."""
    for step in steps:
        yield step
        time.sleep(0)


def lower_priority() -> None:
    """Lower the calling thread's scheduling priority (Linux: a thread's own nice value), where the system allows."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
    except (AttributeError, OSError):
        pass  # not on this system: the neighbours are drawn at the ordinary priority


def prepare_neighbours(store: ComputeOnce, key_of, draw_of, sliders: dict, moved: tuple[str, int],
                       vocab_size: int) -> None:
    """Start drawing the samples one step of ``moved`` (moved_slider's) either side, unless the store is already busy (a class's
    sessions do not queue up work for each other): ``key_of(sliders)`` is a sample's key in ``store``,
    ``draw_of(sliders)`` a function that draws it, the very one the page calls."""
    if store.waiting():
        return
    for near in neighbours(sliders, moved, vocab_size):
        draw = draw_of(near)

        def drawn(draw=draw):
            lower_priority()
            return draw()
        store.start(key_of(near), drawn)
