"""Samples shared by the server's sessions: drawn once for the same settings, even when asked for at once."""

import threading
import time

import pytest

from lab_ui.shared_samples import SharedSamples


def test_sessions_asking_at_once_share_one_draw():
    samples, draws, results = SharedSamples(), [], []

    def draw():
        draws.append(1)
        time.sleep(0.05)  # long enough for every other thread to arrive and wait
        return ["a", "b"]

    threads = [threading.Thread(target=lambda: results.append(samples.get_or_draw(("run", 0.8), draw)))
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(draws) == 1 and results == [["a", "b"]] * 8


def test_a_failed_draw_keeps_nothing_and_the_store_is_bounded():
    samples = SharedSamples(capacity=2)
    with pytest.raises(ValueError):
        samples.get_or_draw("bad", lambda: (_ for _ in ()).throw(ValueError("top-p must be in (0, 1]")))
    assert samples.get("bad") is None
    for key in ("one", "two", "three"):
        samples.get_or_draw(key, lambda key=key: [key])
    assert samples.get("one") is None and samples.get("three") == ["three"]
