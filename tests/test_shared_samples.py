"""Samples shared by the server's sessions: drawn once for the same settings, even when asked for at once."""

import threading
import time

import pytest

from lstm_core.execution.compute_once import ComputeOnce
from lab_ui.shared_samples import MAX_SAMPLES


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
