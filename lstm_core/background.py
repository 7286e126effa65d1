"""Training in a background thread, with a thread-safe snapshot for a page to poll.

A :class:`BackgroundTrainer` drives any :class:`lstm_core.trainer.Training` (a character model,
or a task's tagger or classifier) through the one training loop, :meth:`Training.run`.

The thread never calls Streamlit. It writes progress under a lock; :meth:`snapshot` hands a
consistent copy to whoever polls. Pause ends the thread and keeps the training object (model,
optimizer, data position), so resume continues exactly where it stopped. A server-wide
semaphore caps concurrent trainings; a trainer waiting for a slot reports its queue position.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field

import torch

from .runs import hold, is_held, release
from .trainer import Training, TrainingDiverged

MAX_CONCURRENT = 2
# Torch threads while the app trains: the cores shared out between the concurrent trainings. On a
# 2-core server that is one thread: two threads beside a busy browser or a second training spin
# against each other and measured up to 30x slower, while one thread loses ~30% only when idle.
TRAINING_THREADS = max(1, (os.cpu_count() or 1) // MAX_CONCURRENT)
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
_queue: list["BackgroundTrainer"] = []
_queue_lock = threading.Lock()
run_is_held = is_held  # whether a trainer in some open session holds a run (so no other may continue it)
_threads_configured = False


def configure_torch_threads(count: int | None = None) -> None:
    """Set torch's intra-op threads once per process (the app and the command line call this)."""
    global _threads_configured
    if not _threads_configured:
        torch.set_num_threads(count or max(1, os.cpu_count() or 1))
        _threads_configured = True


@dataclass
class Snapshot:
    """A consistent copy of a trainer's progress, safe to read from any thread."""

    status: str  # idle, queued, running, paused, finished, stopped, diverged, failed
    message: str
    progress: float
    step: int
    seconds: float
    metrics: list = field(default_factory=list)  # rows (dicts), see CharTraining.step
    samples: list = field(default_factory=list)  # {"step", "seconds", "text"}
    queue_position: int | None = None
    run_dir: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class BackgroundTrainer:
    """Runs one training object in a thread; start / pause / resume / stop from any thread."""

    def __init__(self, training: Training, ui_interval: float = 0.25):
        self.training = training
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop_request = threading.Event()
        self._pause_request = threading.Event()
        self._status = "idle"
        self._message = "Ready to train."
        self._pending_lr: float | None = None
        self._rows: list[dict] = list(training.rows)  # a continued run shows its past
        if training.run_dir is not None:
            hold(training.run_dir)
        self._released = False
        self._samples: list[dict] = []
        self.ui_interval = ui_interval

    # -- control (any thread) --------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._status in ("finished", "stopped", "diverged", "failed"):
                return
            self._stop_request.clear()
            self._pause_request.clear()
            self._status = "queued"
            self._message = "Waiting for a free training slot."
            self._thread = threading.Thread(target=self._run, name="lstm-lab-training", daemon=True)
            self._thread.start()

    resume = start

    def pause(self, wait: bool = True) -> None:
        """End the thread and keep the training state; :meth:`resume` continues from here."""
        self._pause_request.set()
        if wait:
            self.join()

    def stop(self, wait: bool = True) -> None:
        """End the training for good and save it as a finished run."""
        self._stop_request.set()
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._status in ("idle", "paused"):
                    self._finish("stopped", "Stopped; the run is saved.")
        elif wait:
            self.join()

    def release(self) -> None:
        """Its session is gone: pause, and let another session continue the run."""
        self.pause(wait=False)
        self._let_go()

    def _let_go(self) -> None:
        """No longer hold the run: it ended, or its session is gone (a paused run may then be continued
        or deleted elsewhere)."""
        if self.training.run_dir is not None and not self._released:
            self._released = True
            release(self.training.run_dir)

    def join(self, timeout: float | None = 30.0) -> None:
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def set_lr(self, lr: float) -> None:
        """Change the learning rate; the thread applies it before its next step."""
        with self._lock:
            self._pending_lr = lr

    def set_preview_temperature(self, temperature: float) -> None:
        self.training.preview_temperature = float(temperature)

    def snapshot(self, since: int = 0) -> Snapshot:
        """Progress so far; ``since`` skips metric rows the caller already has."""
        with self._lock:
            position = None
            if self._status == "queued":
                with _queue_lock:
                    position = _queue.index(self) + 1 if self in _queue else None
            run_dir = self.training.run_dir
            return Snapshot(self._status, self._message, self.training.progress(), self.training.step_count,
                            self.training.train_seconds, list(self._rows[since:]), list(self._samples),
                            position, str(run_dir) if run_dir else None)

    # -- the thread ------------------------------------------------------------------------
    def _run(self) -> None:
        with _queue_lock:
            _queue.append(self)
        acquired = False
        try:
            while not acquired:
                if self._stop_request.is_set() or self._pause_request.is_set():
                    break
                acquired = _slots.acquire(timeout=0.2)
        finally:
            with _queue_lock:
                _queue.remove(self)
        if not acquired:
            with self._lock:
                if self._stop_request.is_set():
                    self._finish("stopped", "Stopped before it started.")
                else:
                    self._status, self._message = "paused", "Paused while waiting for a slot."
            return
        try:
            self._train()
        finally:
            _slots.release()

    def _train(self) -> None:
        training = self.training
        torch.set_num_threads(TRAINING_THREADS)
        with self._lock:
            self._status, self._message = "running", "Training."
        pending: list[dict] = []
        last_flush = 0.0

        def should_stop() -> bool:
            with self._lock:  # a learning rate changed on the page applies before the next step
                if self._pending_lr is not None:
                    training.set_lr(self._pending_lr)
                    self._pending_lr = None
            return self._stop_request.is_set() or self._pause_request.is_set()

        def on_step(row: dict) -> None:
            nonlocal pending, last_flush
            pending.append(row)
            now = time.monotonic()
            if now - last_flush >= self.ui_interval:
                self._flush(pending)
                pending, last_flush = [], now

        try:
            finished = training.run(should_stop, on_step=on_step)
            self._flush(pending)
            if finished or self._stop_request.is_set():
                if not finished:
                    training.finish("stopped")
                word = "Finished" if finished else "Stopped"
                with self._lock:
                    self._status = "finished" if finished else "stopped"
                    self._message = f"{word} after {training.step_count:,} steps; the run is saved."
                    self._samples = list(training.samples)
                self._let_go()
            else:
                training.save(status="paused")
                with self._lock:
                    self._status, self._message = "paused", "Paused. Resume continues from the same step."
        except TrainingDiverged as err:  # the loop saved the last good weights as "diverged"
            self._flush(pending)
            with self._lock:
                self._status, self._message = "diverged", str(err)
            self._let_go()
        except Exception as err:  # noqa: BLE001 - report any failure to the user instead of dying silently
            traceback.print_exc()
            with self._lock:
                self._status, self._message = "failed", f"Training failed: {type(err).__name__}: {err}"
            self._let_go()

    def _flush(self, pending: list[dict]) -> None:
        with self._lock:
            # rows are shared dicts: a later evaluation fills valid_loss into the newest one
            self._rows.extend(pending)
            self._samples = list(self.training.samples)

    def _finish(self, status: str, message: str) -> None:
        """Save the run with its final status (caller holds the lock)."""
        self._status, self._message = status, message
        if self.training.step_count:
            self.training.finish(status)  # the full evaluation, as a stop while training does
        else:
            self.training.save(status=status)
        self._let_go()
