"""A training run out of this process, with a thread-safe snapshot for a page to poll.

A :class:`BackgroundTrainer` hands any :class:`lstm_core.training.loop.Training` (a character model, or a
task's tagger or classifier) to an executor (:mod:`lstm_core.execution.executor`): a worker process of the
local pool by default, or a Ray actor. The worker drives the one training loop; this side keeps what
a page shows (metric rows, samples, status, queue position) and writes the worker's checkpoints into
the run store, which this process owns. One light thread per active trainer waits for the worker's
messages; it never calls Streamlit, and the page polls :meth:`snapshot`.

Gate snapshots (:mod:`lstm_core.snapshots`) arrive like checkpoints: this side writes each into the
run folder (thinned) and keeps the newest, with every snapshot's summary, for the live gate panel
(:meth:`BackgroundTrainer.gate_snapshots`).

Pause asks the worker to save and send the training back (model, optimizer, data position), so
resume continues exactly where it stopped, in whichever worker is free. A worker that dies (killed,
out of memory, its machine gone) leaves the run paused at its last checkpoint, and the snapshot's
message says what happened; resume continues from that checkpoint. Trainings beyond the
executor's capacity wait in its queue and report their place in it.
"""

from __future__ import annotations

import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from .executor import Executor, Link, WorkerLost, training_threads
from .factory import default_executor
from ..limits import check_range
from ..runs import RunError, hold, release
from ..snapshots import Snapshot, SnapshotStore
from ..training.loop import LR_RANGE, Training

TRAINING_THREADS = training_threads()  # torch threads of each training, in its worker
ENDED = ("finished", "stopped", "diverged", "failed")
_threads_configured = False


def configure_torch_threads(count: int | None = None) -> None:
    """Set torch's intra-op threads once per process (the app and the command line call this)."""
    global _threads_configured
    if not _threads_configured:
        torch.set_num_threads(count or max(1, os.cpu_count() or 1))
        _threads_configured = True


@dataclass
class TrainingStatus:
    """A consistent copy of a trainer's progress, safe to read from any thread (what
    :meth:`BackgroundTrainer.snapshot` returns; a gate snapshot is :class:`lstm_core.snapshots.Snapshot`)."""

    status: str  # idle, queued, running, paused, finished, stopped, diverged, failed
    message: str
    progress: float
    step: int
    seconds: float
    metrics: list = field(default_factory=list)  # rows (dicts), see CharTraining.step
    samples: list = field(default_factory=list)  # {"step", "seconds", "text"}
    queue_position: int | None = None
    run_dir: str | None = None
    slots: int | None = None  # how many trainings the executor runs at once (while this one is queued)
    restarts: int = 0  # times the rows went back to a checkpoint (a worker died): earlier rows are void

    @property
    def active(self) -> bool:
        return self.status in ("queued", "running")


class BackgroundTrainer:
    """Runs one training object in a worker; start / pause / resume / stop from any thread.

    ``training`` is this side's copy: what the worker starts from, replaced by what comes back at a
    pause, or brought back to the last checkpoint when a worker dies. ``on_eval(row, metrics)`` is
    called (in the trainer's thread) after each evaluation, as :meth:`Training.run`'s is.
    """

    def __init__(self, training: Training, ui_interval: float = 0.25, executor: Executor | None = None,
                 on_eval: Callable[[dict, dict], None] | None = None):
        self.training = training
        self.executor = executor
        self.on_eval = on_eval
        self.ui_interval = ui_interval
        self._lock = threading.Lock()
        self._link_lock = threading.Lock()
        self._link: Link | None = None
        self._thread: threading.Thread | None = None
        self._stop_request = threading.Event()
        self._pause_request = threading.Event()
        self._status = "idle"
        self._message = "Ready to train."
        self._rows: list[dict] = list(training.rows)  # a continued run shows its past
        self._samples: list[dict] = list(training.samples)
        self._step, self._seconds, self._progress = training.step_count, training.train_seconds, training.progress()
        self._restarts = 0
        self.worker_pid: int | None = None  # the process that runs the training now (as the worker reports it)
        self._gate_latest: Snapshot | None = None  # the newest gate snapshot
        self._gate_series: list[dict] = []  # every snapshot's step, seconds and summary, oldest first
        if training.run_dir is not None:
            hold(training.run_dir)
            self._gate_from_disk()  # a continued run shows its movie so far
        self._released = False
        self._session_gone = False  # its browser session ended (release)

    # -- control (any thread) --------------------------------------------------------------
    def start(self) -> None:
        with self._lock:
            thread, active = self._thread, self._status in ("queued", "running")
        if thread is not None and thread.is_alive() and not active:
            thread.join(10)  # it has paused (or lost its worker) and is letting go of its worker
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            if self._status in ENDED:
                return
            self._stop_request.clear()
            self._pause_request.clear()
            self._status = "queued"
            self._message = "Waiting for a free training slot."
            self._thread = threading.Thread(target=self._run, name="lstm-lab-training", daemon=True)
            self._thread.start()

    resume = start

    def pause(self, wait: bool = True) -> None:
        """Have the worker save and hand the training back; :meth:`resume` continues from there."""
        self._pause_request.set()
        self._command(("pause",))
        if wait:
            self.join()

    def stop(self, wait: bool = True) -> None:
        """End the training for good and save it as a finished run."""
        self._stop_request.set()
        self._command(("stop",))
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._status in ("idle", "paused"):
                    self._finish("stopped", "Stopped; the run is saved.")
        elif wait:
            self.join()

    def release(self) -> None:
        """Its session is gone: pause, and let another session continue the run (a run still queued that
        never trained is dropped: :meth:`_left_the_queue`)."""
        self._session_gone = True
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
        """Change the learning rate; the worker applies it before its next step."""
        check_range("learning rate", lr, *LR_RANGE)
        with self._lock:
            self.training.set_lr(lr)
        self._command(("lr", lr))

    def set_preview_temperature(self, temperature: float) -> None:
        with self._lock:
            self.training.preview_temperature = float(temperature)
        self._command(("temperature", float(temperature)))

    def _command(self, command: tuple) -> None:
        with self._link_lock:
            if self._link is not None:
                self._link.send(command)

    def gate_snapshots(self, since: int = 0) -> tuple[Snapshot | None, list[dict]]:
        """The newest gate snapshot and the summaries (step, seconds, summary) of every snapshot from
        number ``since`` on."""
        with self._lock:
            return self._gate_latest, list(self._gate_series[since:])

    def _gate_from_disk(self) -> None:
        """The run's snapshots on disk: the newest, and every kept one's summary (after a restore, say)."""
        store = SnapshotStore(self.training.run_dir)
        series, latest = store.series(), store.latest()
        with self._lock:
            self._gate_series, self._gate_latest = series, latest

    def snapshot(self, since: int = 0) -> TrainingStatus:
        """Progress so far; ``since`` skips metric rows the caller already has."""
        with self._lock:
            position = slots = None
            if self._status == "queued" and self.executor is not None:
                position, slots = self.executor.slots.position(self), self.executor.capacity()
            run_dir = self.training.run_dir
            return TrainingStatus(self._status, self._message, self._progress, self._step, self._seconds,
                            list(self._rows[since:]), list(self._samples), position,
                            str(run_dir) if run_dir else None, slots, self._restarts)

    # -- the trainer's thread --------------------------------------------------------------
    def _run(self) -> None:
        self._first_snapshot()
        try:
            executor = self.executor = self.executor or default_executor()
        except Exception as err:  # noqa: BLE001 - no executor (Ray unreachable, say): say so
            traceback.print_exc()
            self._fail(f"No worker can be reached: {type(err).__name__}: {err}")
            return
        def wanted():
            return not (self._stop_request.is_set() or self._pause_request.is_set())
        if not executor.slots.wait_turn(self, executor.capacity, lambda: not wanted()):
            with self._lock:
                if self._stop_request.is_set():
                    self._finish("stopped", "Stopped before it started.")
                    return
                self._status, self._message = "paused", "Paused while waiting for a slot."
            self._left_the_queue()
            return
        try:
            self._train(executor)
        finally:
            executor.slots.done()

    def _left_the_queue(self) -> None:
        """Paused before a worker took it: the store says paused too (never "created" until a restart); a run
        that never trained, whose session is gone (a closed tab), is dropped from the store: nothing is lost."""
        training = self.training
        if training.store is None or training.run_dir is None:
            return
        try:
            if self._session_gone and not training.step_count:
                self._let_go()
                training.store.delete(training.run_dir.name)
            else:
                training.store.update(training.run_dir, status="paused")
        except (OSError, RunError):
            traceback.print_exc()

    def _train(self, executor: Executor) -> None:
        with self._lock:
            self._status, self._message = "running", "Starting a worker."
            training = self.training
        try:
            link = executor.launch(training, self.ui_interval)
        except Exception as err:  # noqa: BLE001 - a worker that cannot start is reported, not hidden
            traceback.print_exc()
            self._fail(f"No worker could start this training: {type(err).__name__}: {err}")
            return
        with self._link_lock:
            self._link = link
            # what changed while the training travelled, and a pause or stop asked meanwhile
            link.send(("lr", training.base_lr))
            if training.previews:
                link.send(("temperature", training.preview_temperature))
            if self._stop_request.is_set():
                link.send(("stop",))
            elif self._pause_request.is_set():
                link.send(("pause",))
        ended = False
        try:
            while not ended:
                for message in link.receive(timeout=0.5):
                    ended = self._handle(message) or ended
        except WorkerLost as lost:
            self._lost(str(lost))
        finally:
            with self._link_lock:
                self._link = None
            link.close(healthy=ended)

    def _handle(self, message: dict) -> bool:
        """Apply one message from the worker; True when the training's run in that worker has ended."""
        kind = message["type"]
        if kind == "rows":
            with self._lock:
                # rows are kept as dicts: a later evaluation fills valid_loss into the newest one
                self._rows.extend(message["rows"])
                self._step, self._seconds, self._progress = message["step"], message["seconds"], message["progress"]
        elif kind == "eval":
            with self._lock:
                row = self._rows[message["index"]] if 0 <= message["index"] < len(self._rows) else None
                if row is not None:
                    row.update(message["metrics"])
            if self.on_eval is not None and row is not None:
                self.on_eval(row, message["metrics"])
        elif kind == "sample":
            with self._lock:
                self._samples.append(message["sample"])
        elif kind == "checkpoint":
            self._write(message["checkpoint"])
        elif kind == "snapshot":
            self._keep_snapshot(message["snapshot"])
        elif kind == "started":
            with self._lock:
                self._message = "Training."
                self.worker_pid = message.get("pid")
        elif kind == "ended":
            if message["status"] == "lost":
                raise WorkerLost(f"The worker training this run {message['message']}.")
            self._ended(message)
            return True
        return False

    def _write(self, checkpoint) -> None:
        """Write a worker's checkpoint into the run store (this process owns it)."""
        store, run_dir = self.training.store, self.training.run_dir
        if store is None or run_dir is None:
            return
        try:
            store.write_checkpoint(run_dir, checkpoint)
        except (OSError, RunError) as err:
            traceback.print_exc()
            with self._lock:
                self._message = f"Training, but its last checkpoint could not be saved: {err}"

    def _first_snapshot(self) -> None:
        """The gates as the training starts (or resumes), traced here while a worker starts or the queue
        waits, so that a page shows them at once; the worker goes on from there."""
        training = self.training
        if not training.snapshots_on() or training.last_snapshot_step == training.step_count:
            return
        try:
            snapshot = training.snapshot()  # written into the run store, which this process owns
        except Exception:  # noqa: BLE001 - the worker takes the first snapshot instead
            traceback.print_exc()
            return
        self._remember(snapshot)

    def _remember(self, snapshot: Snapshot) -> None:
        """Keep a gate snapshot for the live panel: the newest, and its summary in the series."""
        with self._lock:
            self._gate_latest = snapshot
            self._gate_series = [row for row in self._gate_series if row["step"] < snapshot.step]
            self._gate_series.append({"step": snapshot.step, "seconds": snapshot.seconds, "summary": snapshot.summary})

    def _keep_snapshot(self, snapshot: Snapshot) -> None:
        """Write a worker's gate snapshot into the run store and keep it for the live panel."""
        self._remember(snapshot)
        store, run_dir = self.training.store, self.training.run_dir
        if store is None or run_dir is None:
            return
        try:
            store.write_snapshot(run_dir, snapshot)
        except (OSError, RunError):
            traceback.print_exc()  # the movie misses a frame; the training goes on

    def _ended(self, message: dict) -> None:
        status = message["status"]
        with self._lock:
            if message.get("training") is not None:  # paused: the training comes back as the worker left it
                returned = message["training"]
                returned.store = self.training.store
                self.training = returned
            if message.get("last_row") and self._rows:
                self._rows[-1].update(message["last_row"])  # the final, full evaluation lands on the last row
            self._samples = list(message.get("samples") or self._samples)
            self._step, self._seconds, self._progress = message["step"], message["seconds"], message["progress"]
            self._status, self._message = status, message["message"]
        if status in ENDED:
            self._let_go()

    def _lost(self, why: str) -> None:
        """The worker died: back to the run's last checkpoint, paused, saying what happened."""
        with self._lock:
            training, reached = self.training, self._step
        try:
            if training.run_dir is not None:
                training.restore()
        except (OSError, RunError) as err:
            self._fail(f"{why} Its last checkpoint cannot be read either: {err}")
            return
        if training.run_dir is not None:
            self._gate_from_disk()  # restore() dropped the snapshots of the lost steps
        lost_steps = max(0, reached - training.step_count)
        where = (f"its last checkpoint (step {training.step_count:,}); the {lost_steps:,} steps since then are lost"
                 if training.step_count else "the start: no checkpoint had been saved yet")
        if training.store is not None and training.run_dir is not None:  # on disk first: whoever reads the
            try:  # snapshot's "paused" finds the run paused in the store too
                training.store.update(training.run_dir, status="paused")
            except (OSError, RunError):
                traceback.print_exc()
        with self._lock:
            self._rows, self._samples = list(training.rows), list(training.samples)
            self._step, self._seconds, self._progress = training.step_count, training.train_seconds, training.progress()
            self._restarts += 1
            self._status = "paused"
            self._message = f"{why} The run is paused at {where}. Resume continues from there."

    def _fail(self, message: str) -> None:
        with self._lock:
            self._status, self._message = "failed", message
        self._let_go()

    def _finish(self, status: str, message: str) -> None:
        """Save the run with its final status (caller holds the lock). A paused training is here, not
        in a worker: its final evaluation runs in this process."""
        self._status, self._message = status, message
        if self.training.step_count:
            self.training.finish(status)  # the full evaluation, as a stop while training does
            if self.training.rows and self._rows:
                self._rows[-1].update(self.training.rows[-1])
            self._samples = list(self.training.samples)  # with the final model's sample
        else:
            self.training.save(status=status)
        self._let_go()
