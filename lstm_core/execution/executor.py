"""Executors: where trainings run, out of the web process, behind one interface.

- :class:`LocalExecutor`, the default: a pool of worker processes on this machine
  (:func:`lstm_core.execution.worker.serve`, forked by :mod:`lstm_core.execution.starter`), as many as the
  cores allow (cores ÷ threads per training), started when the first training needs one, at a lower
  priority than the web process. Nothing to install or start.
- :class:`lstm_core.execution.ray_executor.RayExecutor` (optional, ``requirements-ray.txt``): each training is
  a Ray actor, on a running cluster (``LSTM_LAB_RAY_ADDRESS``) or on a local Ray instance. A class
  that outgrows one machine adds Ray worker machines, not code.

Both run the same worker loop (:func:`lstm_core.execution.worker.drive`) and speak the same messages, so a
training behaves the same in either. An executor gives out :class:`Link`\\ s, one per training: the
owner sends commands down it and receives the worker's messages; a worker that dies (killed, out
of memory, its machine lost) makes :meth:`Link.receive` raise :class:`WorkerLost` with what happened.

Trainings beyond the executor's capacity wait in its queue (:class:`Slots`), first come first served.
:mod:`lstm_core.execution.factory` picks the executor (local or Ray) from the settings.

    executor = default_executor()        # factory: LSTM_LAB_EXECUTOR=local|ray, or LSTM_LAB_RAY_ADDRESS=host:port
    link = executor.launch(training)      # once the queue grants a slot
    link.send(("lr", 1e-3)); messages = link.receive(timeout=0.5)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from ..training.loop import Training
from .own_process import child_environment
from .starter import start_process
from .worker import NICE, collect, post

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # the lstm_core package (Ray ships it to its workers)
IDLE_SECONDS = 60.0  # an idle local worker exits after this long (its memory goes back to the machine)


class WorkerLost(RuntimeError):
    """The worker running a training is gone; the message says what happened, for the user."""


def training_threads() -> int:
    """Torch threads per training (``LSTM_LAB_TRAINING_THREADS``, default 1). On a 2-core server two
    threads beside a busy browser or a second training spin against each other and measured up to
    30x slower; small models gain little from more."""
    return max(1, int(os.environ.get("LSTM_LAB_TRAINING_THREADS", "1")))


def local_pool_size(threads: int | None = None) -> int:
    """How many trainings this machine runs at once (``LSTM_LAB_WORKERS``, else cores ÷ threads per training)."""
    if os.environ.get("LSTM_LAB_WORKERS"):
        return max(1, int(os.environ["LSTM_LAB_WORKERS"]))
    return max(1, (os.cpu_count() or 1) // (threads or training_threads()))


class Slots:
    """An executor's queue: trainings wait here, first come first served, until fewer than its
    capacity run."""

    def __init__(self):
        self._condition = threading.Condition()
        self._waiting: list[object] = []
        self.running = 0

    def wait_turn(self, who, capacity, cancelled) -> bool:
        """Block until ``who`` may run (True) or ``cancelled()`` says it no longer wants to (False)."""
        with self._condition:
            self._waiting.append(who)
            try:
                while not cancelled():
                    if self._waiting[0] is who and self.running < capacity():
                        self.running += 1
                        return True
                    self._condition.wait(0.2)
                return False
            finally:
                self._waiting.remove(who)
                self._condition.notify_all()

    def done(self) -> None:
        with self._condition:
            self.running -= 1
            self._condition.notify_all()

    def position(self, who) -> int | None:
        """1 for the next in line; None when ``who`` is not waiting."""
        with self._condition:
            return self._waiting.index(who) + 1 if who in self._waiting else None


class Link:
    """One training's line to its worker."""

    def send(self, command: tuple) -> None:
        """A command for the worker (never blocks long); dropped when the worker is gone."""
        raise NotImplementedError

    def receive(self, timeout: float) -> list[dict]:
        """Messages from the worker, waiting up to ``timeout`` for the first; WorkerLost if it died."""
        raise NotImplementedError

    def close(self, healthy: bool) -> None:
        """The training ended (``healthy``: normally); free the worker."""
        raise NotImplementedError


class Executor:
    """Runs trainings somewhere other than the calling process."""

    name = "executor"

    def __init__(self):
        self.slots = Slots()

    def capacity(self) -> int:
        """How many trainings may run at once."""
        raise NotImplementedError

    def launch(self, training: Training, ui_interval: float = 0.25) -> Link:
        """Start ``training`` in a worker now (the caller holds a slot); its messages come through the link."""
        raise NotImplementedError

    def describe(self) -> str:
        return f"{self.name} executor, {self.capacity()} trainings at once"

    def shutdown(self) -> None:
        """Let go of every worker."""


def describe_exit(code: int | None) -> str:
    """A worker's exit status in words."""
    if code is None:
        return "stopped answering"
    if code < 0:
        number = -code
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"
        if number == signal.SIGKILL:
            return f"was killed ({name}: by hand, or by the system when memory ran out)"
        return f"was ended by {name}"
    return f"exited unexpectedly (status {code})"


class LocalWorker:
    """One worker process of the local pool and its socket."""

    def __init__(self, threads: int, nice: int):
        ours, theirs = socket.socketpair()
        try:
            self.process = start_process("worker", (threads, nice), [theirs.fileno()], child_environment(threads))
        finally:
            theirs.close()
        self.connection = Connection(ours.detach())
        self.idle_since = time.monotonic()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def fate(self) -> str:
        """What became of a worker whose socket closed."""
        try:
            code = self.process.wait(5)
        except subprocess.TimeoutExpired:
            code = None
        return describe_exit(code)

    def close(self) -> None:
        self.connection.close()
        try:
            self.process.wait(5)  # it exits when its socket closes
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class LocalLink(Link):
    def __init__(self, executor: "LocalExecutor", worker: LocalWorker):
        self.executor, self.worker = executor, worker
        self._send_lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self.worker.pid

    def send(self, command: tuple) -> None:
        with self._send_lock:
            try:
                post(self.worker.connection, command)
            except OSError:
                pass  # the worker is gone; receive() says so

    def receive(self, timeout: float) -> list[dict]:
        connection = self.worker.connection
        try:
            if not connection.poll(timeout):
                return []
            messages = [collect(connection)]
            while connection.poll():
                messages.append(collect(connection))
        except (EOFError, OSError):
            raise WorkerLost(f"The worker process training this run (pid {self.worker.pid}) "
                             f"{self.worker.fate()}.") from None
        return messages

    def close(self, healthy: bool) -> None:
        self.executor.give_back(self.worker, healthy)


class LocalExecutor(Executor):
    """A pool of worker processes on this machine, sized by its cores."""

    name = "local"

    def __init__(self, workers: int | None = None, threads: int | None = None, nice: int = NICE,
                 idle_seconds: float = IDLE_SECONDS):
        super().__init__()
        self.threads = threads or training_threads()
        self.size = workers or local_pool_size(self.threads)
        self.nice, self.idle_seconds = nice, idle_seconds
        self._idle: list[LocalWorker] = []
        self._lock = threading.Lock()
        self._reaper: threading.Thread | None = None

    def capacity(self) -> int:
        return self.size

    def launch(self, training: Training, ui_interval: float = 0.25) -> Link:
        with self._lock:
            worker = None
            while self._idle and worker is None:
                candidate = self._idle.pop()
                if candidate.alive():
                    worker = candidate
                else:
                    candidate.close()
        worker = worker or LocalWorker(self.threads, self.nice)
        try:
            post(worker.connection, {"training": training, "ui_interval": ui_interval})
        except OSError:
            raise WorkerLost(f"The worker process (pid {worker.pid}) {worker.fate()} before it started.") from None
        return LocalLink(self, worker)

    def give_back(self, worker: LocalWorker, healthy: bool) -> None:
        """A training ended: keep its worker for the next one (it exits after a while unused)."""
        if not healthy or not worker.alive():
            worker.close()
            return
        worker.idle_since = time.monotonic()
        with self._lock:
            self._idle.append(worker)
            if self._reaper is None or not self._reaper.is_alive():
                self._reaper = threading.Thread(target=self._reap, name="lstm-lab-worker-reaper", daemon=True)
                self._reaper.start()

    def _reap(self) -> None:
        """Close workers idle for longer than ``idle_seconds``; ends when none is idle."""
        while True:
            time.sleep(min(5.0, self.idle_seconds))
            with self._lock:
                now = time.monotonic()
                expired = [w for w in self._idle if now - w.idle_since >= self.idle_seconds]
                self._idle = [w for w in self._idle if w not in expired]
                empty = not self._idle
            for worker in expired:
                worker.close()
            if empty:
                return

    def idle_workers(self) -> list[int]:
        """Process ids of the workers waiting for a training."""
        with self._lock:
            return [w.pid for w in self._idle]

    def shutdown(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.close()

