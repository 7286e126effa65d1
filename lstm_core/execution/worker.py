"""Where a training runs once it leaves the web process: the loop every worker drives, and the life of a
worker process of the local pool (:func:`serve`; :mod:`lstm_core.execution.starter` forks it for
:mod:`lstm_core.execution.executor`).

A worker receives a pickled :class:`~lstm_core.training.loop.Training` and drives it with the one training
loop, :meth:`Training.run`. It never touches the run store: the training's store is replaced by a
:class:`Relay` that sends each checkpoint (its files, in memory) to the process that owns the store,
which writes them. So a worker needs no shared folder, and a Ray actor on another machine behaves
exactly like a local process. Messages to the owner, each a dict with a ``type``::

    started                                        the worker has the training and starts its loop
    rows      rows, step, seconds, progress        new metric rows (at most every ``ui_interval``)
    eval      index, metrics                       validation metrics measured after row ``index``
    sample    sample                               a preview sample ({"step", "seconds", "text"})
    checkpoint checkpoint                          a :class:`~lstm_core.runs.Checkpoint` to write
    snapshot  snapshot                             a gate snapshot (:class:`~lstm_core.snapshots.Snapshot`)
                                                   to keep with the run (and show live)
    ended     status, message, training, ...       the loop ended: finished, stopped, paused (then the
                                                   training comes back, to be resumed), diverged,
                                                   failed, or lost (out of memory: as if killed)

Commands from the owner: ``("lr", value)``, ``("temperature", value)``, ``("pause",)``, ``("stop",)``.
"""

from __future__ import annotations

import importlib
import os
import pickle
import time
import traceback
from multiprocessing.connection import Connection
from typing import Protocol

import torch

from ..training.loop import Training, TrainingDiverged

NICE = int(os.environ.get("LSTM_LAB_WORKER_NICE", "10"))  # workers yield the CPU to the web process


class OwnerGone(Exception):
    """The process that sent the training is gone: nobody is left to report to."""


class Channel(Protocol):
    """A worker's line to the process that owns the training."""

    def commands(self) -> list[tuple]:
        """Commands received since the last call (never blocks); OwnerGone when the owner is gone."""

    def send(self, message: dict) -> None:
        """Send one message; OwnerGone when the owner is gone."""


class Relay:
    """Stands in for the run store inside a worker: a checkpoint is sent to the store's owner."""

    def __init__(self, channel: Channel):
        self.channel = channel

    def write_checkpoint(self, run_dir, checkpoint) -> None:
        self.channel.send({"type": "checkpoint", "checkpoint": checkpoint})

    def write_snapshot(self, run_dir, snapshot) -> None:
        self.channel.send({"type": "snapshot", "snapshot": snapshot})


def preload() -> None:
    """Load ``torch._dynamo`` now: PyTorch's optimizers import it on their first step, which took 2 to 6 s of
    a fresh worker's first step, counted on the training clock (and before the first metrics)."""
    try:
        importlib.import_module("torch._dynamo")
    except Exception:  # noqa: BLE001 - a torch without it: the first step loads what it needs
        pass


def settle(threads: int, nice: int = NICE, for_training: bool = True) -> None:
    """A worker's process settings: its share of the cores, and a lower priority than the web process; a
    process that will train has what a first step loads (:func:`preload`) loaded now."""
    torch.set_num_threads(max(1, threads))
    if nice:
        try:
            os.nice(nice)
        except OSError:
            pass  # not allowed here: run at the same priority
    if for_training:
        preload()


def drive(training: Training, channel: Channel, ui_interval: float = 0.25) -> str:
    """Run ``training`` until its budget ends or the owner pauses or stops it, reporting through ``channel``;
    returns how it ended (the ``status`` of the ``ended`` message)."""
    training.store = Relay(channel)
    pending: list[dict] = []
    last_flush = 0.0
    request: str | None = None  # "pause" or "stop", once asked

    def take_commands() -> None:
        nonlocal request, last_flush
        for command, *args in channel.commands():
            if command == "lr":
                training.set_lr(float(args[0]))
                last_flush = float("-inf")  # the next step's row goes out at once: the page shows the new rate
            elif command == "temperature":
                training.preview_temperature = float(args[0])
            elif command in ("pause", "stop") and request != "stop":
                request = command

    def should_stop() -> bool:
        take_commands()  # a learning rate changed on the page applies before the next step
        return request is not None

    def flush() -> None:
        nonlocal last_flush
        if pending:
            channel.send({"type": "rows", "rows": list(pending), "step": training.step_count,
                          "seconds": training.train_seconds, "progress": training.progress()})
            pending.clear()
        last_flush = time.monotonic()

    def on_step(row: dict) -> None:
        pending.append(row)
        if time.monotonic() - last_flush >= ui_interval:
            flush()

    def on_eval(row: dict, metrics: dict) -> None:
        flush()
        channel.send({"type": "eval", "index": len(training.rows) - 1, "metrics": metrics})

    def on_preview(sample: dict) -> None:
        channel.send({"type": "sample", "sample": sample})

    def ended(status: str, message: str, returned: Training | None = None) -> str:
        channel.send({"type": "ended", "status": status, "message": message, "training": returned,
                      "last_row": training.rows[-1] if training.rows else None, "samples": list(training.samples),
                      "step": training.step_count, "seconds": training.train_seconds,
                      "progress": training.progress()})
        return status

    channel.send({"type": "started", "pid": os.getpid()})
    try:
        finished = training.run(should_stop, on_step=on_step, on_eval=on_eval, on_preview=on_preview)
        flush()
        if finished or request == "stop":
            if not finished:
                training.finish("stopped")
            word = "Finished" if finished else "Stopped"
            return ended("finished" if finished else "stopped", f"{word} after {training.step_count:,} steps; the run is saved.")
        else:
            training.save(status="paused")
            return ended("paused", "Paused. Resume continues from the same step.", returned=training)
    except OwnerGone:
        raise
    except TrainingDiverged as err:  # the loop saved the last good weights as "diverged"
        flush()
        return ended("diverged", str(err))
    except MemoryError:  # the owner treats it as a dead worker: back to the last checkpoint
        pending.clear()
        return ended("lost", "ran out of memory")
    except Exception as err:  # noqa: BLE001 - report any failure to the user instead of dying silently
        traceback.print_exc()
        return ended("failed", f"Training failed: {type(err).__name__}: {err}")


def post(connection: Connection, message) -> None:
    """Send ``message`` pickled by the standard pickler (multiprocessing's own would share torch tensors
    through file descriptors, which a worker of another process tree cannot open)."""
    connection.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def collect(connection: Connection):
    """Receive one message sent by :func:`post`."""
    return pickle.loads(connection.recv_bytes())


class PipeChannel:
    """The local pool's channel: a socket to the web process (multiprocessing's Connection)."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def commands(self) -> list[tuple]:
        received = []
        try:
            while self.connection.poll():
                received.append(collect(self.connection))
        except (EOFError, OSError):
            raise OwnerGone from None
        return received

    def send(self, message: dict) -> None:
        try:
            post(self.connection, message)
        except OSError:
            raise OwnerGone from None


def serve(connection: Connection) -> None:
    """A local worker's life: train whatever arrives, one training at a time, until the owner goes."""
    channel = PipeChannel(connection)
    while True:
        try:
            job = collect(connection)
        except (EOFError, OSError):
            return
        except Exception as err:  # noqa: BLE001 - a training this worker cannot unpickle is refused, not fatal
            traceback.print_exc()
            channel.send({"type": "ended", "status": "failed", "message": f"The worker cannot read this training "
                          f"({type(err).__name__}: {err}).", "training": None, "last_row": None, "samples": [],
                          "step": 0, "seconds": 0.0, "progress": 0.0})
            continue
        if not isinstance(job, dict):
            continue  # a command that arrived after its training ended
        try:
            if drive(job["training"], channel, job.get("ui_interval", 0.25)) == "lost":
                return  # out of memory: a fresh process serves the next training
        except OwnerGone:
            return
