"""Helpers for the tests that train in the background: a tiny character training, waiting for a condition, and
a witness training that proves a paused one had the time to take steps; and a run zip made from its files."""

from __future__ import annotations

import io
import tempfile
import time
import zipfile

import pytest

import lstm_core
from lstm_core.execution.background import BackgroundTrainer

TINY_SETTINGS = dict(corpus="seed", hidden_size=8, embedding_dim=8, seq_len=20, batch_size=8, max_seconds=60.0,
                     eval_every_seconds=0.2, eval_chars=2_000, preview_every_seconds=0.3, warmup_steps=0,
                     schedule="constant")


def tiny_training(store, **overrides) -> lstm_core.CharTraining:
    """A training of an 8-unit model on the seed corpus that checkpoints often (``overrides`` change it)."""
    return lstm_core.CharTraining(lstm_core.TrainConfig(**{**TINY_SETTINGS, **overrides}), store=store)


def wait_until(condition, timeout: float = 90.0, what: str = "the condition", poll: float = 0.02) -> None:
    """Poll ``condition()`` until it holds; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(poll)
    pytest.fail(f"timed out waiting for {what}")


def steps_taken_meanwhile(steps: int = 20) -> None:
    """Another tiny training, on the default executor (the pool a paused training gave its worker back to),
    takes ``steps`` steps and stops; its run goes to a store of its own. A test that then sees a paused
    training unchanged has proof that it had the time, and a worker, to take steps: a plain sleep proves
    nothing on a machine too slow to take a step in it."""
    with tempfile.TemporaryDirectory() as root:
        witness = BackgroundTrainer(tiny_training(lstm_core.RunStore(root)))
        witness.start()
        try:
            wait_until(lambda: witness.snapshot().step >= steps, what=f"{steps} steps of the witness training")
        finally:
            witness.stop(wait=True)


def stop_leftover_trainers() -> None:
    """Stop every training a test left running (freeing the server's training slots) and forget the
    session's trainers: AppTests of one process share a session id, hence its trainers."""
    import gc
    import warnings

    from streamlit.testing.v1 import AppTest

    from lstm_core.execution.background import BackgroundTrainer

    with warnings.catch_warnings():  # scanning every object touches deprecated torch attributes
        warnings.simplefilter("ignore")
        leftovers = [o for o in gc.get_objects() if isinstance(o, BackgroundTrainer)]
    if not leftovers:  # the session's slots hold trainers only: with none alive they are empty
        return
    for trainer in leftovers:
        trainer.stop(wait=True)
    AppTest.from_string("from lab_ui import live_training\nlive_training._session_slots.clear()").run()


def zip_of(files: dict) -> bytes:
    """A zip holding ``files`` (name -> bytes), as an upload to the Runs page would."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
