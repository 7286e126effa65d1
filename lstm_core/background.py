"""Training in a background thread, with a thread-safe snapshot for a page to poll.

A :class:`BackgroundTrainer` drives any *training* object, i.e. one with ``step()``, ``finished()``,
``progress()``, ``evaluation_due()``, ``evaluate()``, ``save(status)``, ``metrics()``,
``set_lr()`` and optionally ``preview_due()`` / ``preview()`` (see
:class:`lstm_core.training.CharTraining`, and the task trainings in :mod:`lstm_core.tasks`).

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
from pathlib import Path

import torch

from .training import TrainingDiverged

MAX_CONCURRENT = 2
# Torch threads while the app trains: the cores shared out between the concurrent trainings. On a
# 2-core server that is one thread: two threads beside a busy browser or a second training spin
# against each other and measured up to 30x slower, while one thread loses ~30% only when idle.
TRAINING_THREADS = max(1, (os.cpu_count() or 1) // MAX_CONCURRENT)
_slots = threading.BoundedSemaphore(MAX_CONCURRENT)
_queue: list["BackgroundTrainer"] = []
_queue_lock = threading.Lock()
_owners: dict[str, "BackgroundTrainer"] = {}  # run folder -> the trainer (in some open session) that holds it


def _run_key(run_dir) -> str:
    return str(Path(run_dir).resolve())


def run_is_held(run_dir) -> bool:
    """Whether a trainer in some open session holds this run (so no other may continue it)."""
    return _run_key(run_dir) in _owners
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

    def __init__(self, training, ui_interval: float = 0.25):
        self.training = training
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop_request = threading.Event()
        self._pause_request = threading.Event()
        self._status = "idle"
        self._message = "Ready to train."
        self._pending_lr: float | None = None
        self._rows: list[dict] = list(getattr(training, "rows", []))  # a continued run shows its past
        run_dir = getattr(training, "run_dir", None)
        if run_dir is not None:
            _owners[_run_key(run_dir)] = self
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
        run_dir = getattr(self.training, "run_dir", None)
        if run_dir is not None and _owners.get(_run_key(run_dir)) is self:
            del _owners[_run_key(run_dir)]

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
            run_dir = getattr(self.training, "run_dir", None)
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
        last_flush = 0.0
        pending: list[dict] = []
        try:
            while not training.finished():
                if self._stop_request.is_set() or self._pause_request.is_set():
                    break
                with self._lock:
                    if self._pending_lr is not None:
                        training.set_lr(self._pending_lr)
                        self._pending_lr = None
                pending.append(training.step())
                if training.evaluation_due():
                    training.evaluate()
                    training.save(status="running")
                preview = getattr(training, "preview_due", None)
                if preview is not None and preview():
                    training.preview()
                now = time.monotonic()
                if now - last_flush >= self.ui_interval:
                    self._flush(pending)
                    pending, last_flush = [], now
            self._flush(pending)
            if self._stop_request.is_set() or training.finished():
                self._flush([], final_eval=True)
                word = "Finished" if training.finished() else "Stopped"
                with self._lock:
                    self._finish("finished" if training.finished() else "stopped",
                                 f"{word} after {training.step_count:,} steps; the run is saved.")
            else:
                training.save(status="paused")
                with self._lock:
                    self._status, self._message = "paused", "Paused. Resume continues from the same step."
        except TrainingDiverged as err:
            self._flush(pending)
            with self._lock:
                self._status, self._message = "diverged", str(err)
            if training.run_dir is not None:
                training.store.update(training.run_dir, status="diverged")
        except Exception as err:  # noqa: BLE001 - report any failure to the user instead of dying silently
            traceback.print_exc()
            with self._lock:
                self._status, self._message = "failed", f"Training failed: {type(err).__name__}: {err}"

    def _flush(self, pending: list[dict], final_eval: bool = False) -> None:
        if final_eval:
            self.training.evaluate(full=True)
            pending = []
        with self._lock:
            # rows are shared dicts: a later evaluate() fills valid_loss into the newest one
            self._rows.extend(pending)
            self._samples = list(getattr(self.training, "samples", []))

    def _finish(self, status: str, message: str) -> None:
        """Save the run with its final status (caller holds the lock)."""
        self._status, self._message = status, message
        self.training.save(status=status)
