"""Samples shared by the server's sessions: drawn once for the same settings, even when asked for at once."""

import threading
import time

import numpy as np
import pytest
import torch

from lstm_core.corpus import Vocab
from lstm_core.execution.compute_once import ComputeOnce
from lstm_core.model import CharModel, ModelConfig
from lstm_core.sampling import sample_stream
from lab_ui.shared_samples import (MAX_SAMPLES, moved_slider, neighbours, prepare_neighbours, sampling_options)


def test_sessions_asking_at_once_share_one_draw():
    samples, draws, results = ComputeOnce(MAX_SAMPLES), [], []

    def draw():
        draws.append(1)
        time.sleep(0.05)  # long enough for every other thread to arrive and wait
        return ["a", "b"]

    threads = [threading.Thread(target=lambda: results.append(samples.get_or_compute(("run", 0.8), draw)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(draws) == 1 and results == [["a", "b"]] * 8


def test_a_failed_draw_keeps_nothing_and_the_store_is_bounded():
    samples = ComputeOnce(capacity=2)
    with pytest.raises(ValueError):
        samples.get_or_compute("bad", lambda: (_ for _ in ()).throw(ValueError("top-p must be in (0, 1]")))
    assert samples.get("bad") is None
    for key in ("one", "two", "three"):
        samples.get_or_compute(key, lambda key=key: [key])
    assert samples.get("one") is None and samples.get("three") == ["three"]


def test_a_waiting_session_draws_itself_when_the_first_is_stopped():
    samples, started, results = ComputeOnce(capacity=2), threading.Event(), []

    class Stopped(BaseException):  # as Streamlit stops a session's script mid-draw
        pass

    def stopped_draw():
        started.set()
        time.sleep(0.3)  # long enough for the second session to arrive and wait
        raise Stopped

    def first():
        with pytest.raises(Stopped):
            samples.get_or_compute("k", stopped_draw)

    thread = threading.Thread(target=first)
    thread.start()
    started.wait(5)
    results.append(samples.get_or_compute("k", lambda: ["drawn by the second"]))
    thread.join()
    assert results == [["drawn by the second"]] and samples.get("k") == ["drawn by the second"]


def test_the_next_step_of_the_moved_slider_is_drawn_ahead_and_is_the_same_draw():
    """After a temperature change the samples one step either side are drawn in the background with the page's
    own function and seed: the store then holds exactly what drawing them afresh gives."""
    sliders = {"temperature": 0.8, "top_k": 0, "top_p": 1.0}
    up = ("temperature", 1)
    assert moved_slider(None, sliders) == up
    assert moved_slider({**sliders, "top_p": 0.95}, sliders) == ("top_p", 1)
    assert moved_slider({**sliders, "top_k": 3}, sliders) == ("top_k", -1)
    assert neighbours(sliders, up, 15) == [{**sliders, "temperature": 0.85}, {**sliders, "temperature": 0.75}]
    assert neighbours(sliders, ("temperature", -1), 15) == [{**sliders, "temperature": 0.75},
                                                            {**sliders, "temperature": 0.85}]
    assert neighbours({**sliders, "temperature": 2.0}, up, 15) == [{**sliders, "temperature": 1.95}]
    assert neighbours(sliders, ("top_k", 1), 15) == [{**sliders, "top_k": 1}]
    assert [n["top_p"] for n in neighbours({**sliders, "top_p": 0.9}, ("top_p", 1), 15)] == [0.95, 0.85]

    torch.manual_seed(0)
    vocab = Vocab.from_text("abcdefgh \n.")
    model = CharModel(ModelConfig(len(vocab), hidden_size=16)).eval()

    def key_of(values):
        return tuple(sampling_options(**values, seed=3).values())

    def draw_of(values):
        return lambda: list(sample_stream(model, vocab, "ab", 30, **sampling_options(**values, seed=3)))

    store = ComputeOnce(MAX_SAMPLES)
    prepare_neighbours(store, key_of, draw_of, sliders, up, len(vocab))
    for near in neighbours(sliders, up, len(vocab)):
        ahead = store.get_or_compute(key_of(near), lambda: pytest.fail("drawn again"))  # waits for the background
        fresh = draw_of(near)()
        assert [s.char for s in ahead] == [s.char for s in fresh]
        assert all(np.array_equal(a.probs, b.probs) for a, b in zip(ahead, fresh))
