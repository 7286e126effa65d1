"""The Ray executor: each training is a Ray actor, on a running cluster or on a local Ray instance.

Optional (``pip install -r requirements-ray.txt``). :func:`lstm_core.execution.factory.make_executor`
picks it when ``LSTM_LAB_RAY_ADDRESS`` names a cluster (``host:port`` of its head, as ``ray start --head``
prints) or ``LSTM_LAB_EXECUTOR=ray`` / ``--executor ray`` asks for it. With no address it starts a
local Ray instance of its own, bound to 127.0.0.1, with no dashboard: it never joins a cluster it was
not given, not even the one an earlier head started by hand recorded on this machine (Ray's
``ray_current_cluster`` file) or ``RAY_ADDRESS`` names. A class that outgrows one machine adds Ray
worker machines to a cluster (the README says how), not code.

Each actor reserves the CPUs of one training (``LSTM_LAB_TRAINING_THREADS``) and runs the same
worker loop as a local worker (:func:`lstm_core.execution.worker.drive`). On a cluster Ray ships the
``lstm_core`` package to the workers with the job (``py_modules``), so a worker machine needs only the
requirements installed (a local instance's workers import it from this checkout); the training's data
travel pickled with it, and its checkpoints come back to the web process through
:meth:`TrainingActor.drain`, so no folder needs to be shared. The actor is threaded:
``train`` runs the loop while ``command`` and ``drain`` answer beside it.
"""

from __future__ import annotations

import os
import queue
import threading
import time

os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports: the app runs offline

import ray  # noqa: E402
from ray.exceptions import GetTimeoutError, RayActorError, RayError  # noqa: E402

from .executor import PACKAGE_DIR, Executor, Link, WorkerLost, training_threads  # noqa: E402
from .own_process import import_path  # noqa: E402
from ..training.loop import Training  # noqa: E402
from .worker import NICE, drive, settle  # noqa: E402

LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024  # a local instance's object store: checkpoints are small
CAPACITY_REFRESH_SECONDS = 5.0  # the cluster's size is asked again this often (machines join and leave)


class QueueChannel:
    """An actor's channel: commands arrive in a queue, messages wait in a list until drained."""

    def __init__(self):
        self.inbox: queue.Queue = queue.Queue()
        self.outbox: list[dict] = []
        self.lock = threading.Lock()

    def commands(self) -> list[tuple]:
        received = []
        while True:
            try:
                received.append(self.inbox.get_nowait())
            except queue.Empty:
                return received

    def send(self, message: dict) -> None:
        with self.lock:
            self.outbox.append(message)


class TrainingActor:
    """One training in a Ray worker process."""

    def __init__(self, threads: int, nice: int):
        settle(threads, nice)
        self.channel = QueueChannel()

    def train(self, training: Training, ui_interval: float) -> str:
        return drive(training, self.channel, ui_interval)

    def command(self, command: tuple) -> None:
        self.channel.inbox.put(command)

    def drain(self) -> list[dict]:
        with self.channel.lock:
            messages, self.channel.outbox = self.channel.outbox, []
        return messages

    def pid(self) -> int:
        return os.getpid()


def start_local_ray(num_cpus: int | None = None) -> None:
    """A Ray instance on this machine for this process, bound to the loopback address only."""
    # Ray swaps 127.0.0.1 for the machine's outward address unless it believes it runs a
    # single-machine instance; this setting (read at start, inherited by Ray's processes) says so.
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    # Its workers are processes of this machine: they import lstm_core from this checkout (PYTHONPATH, inherited
    # as the setting above is), so no runtime environment is packed for the job and set up for each worker.
    os.environ["PYTHONPATH"] = import_path()
    ray._private.ray_constants.ENABLE_RAY_CLUSTER = False
    # address="local": a new instance, never the cluster that Ray would otherwise look up (RAY_ADDRESS, or
    # the one an earlier head started by hand recorded in its temporary folder), which refuses num_cpus anyway.
    ray.init(address="local", _node_ip_address="127.0.0.1", include_dashboard=False,
             num_cpus=num_cpus or os.cpu_count(),
             object_store_memory=LOCAL_OBJECT_STORE_BYTES, log_to_driver=False)


def ray_address() -> str:
    """The address (``host:port``) of the Ray this process is connected to, as Ray reports it."""
    return ray.get_runtime_context().gcs_address


class RayLink(Link):
    def __init__(self, actor, ui_interval: float):
        self.actor, self.ui_interval = actor, ui_interval
        self.result = None

    def send(self, command: tuple) -> None:
        self.actor.command.remote(command)

    def receive(self, timeout: float) -> list[dict]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                messages = ray.get(self.actor.drain.remote(), timeout=max(timeout, 30.0))
            except GetTimeoutError:
                return []  # the actor is still being placed (the cluster is busy)
            except RayActorError as err:
                raise WorkerLost(f"The Ray actor training this run died ({_first_line(err)}).") from None
            except RayError as err:
                raise WorkerLost(f"Ray lost the actor training this run ({_first_line(err)}).") from None
            if messages:
                return messages
            messages = self._check_task()
            if messages or time.monotonic() >= deadline:
                return messages
            time.sleep(min(self.ui_interval, max(0.0, deadline - time.monotonic())))

    def _check_task(self) -> list[dict]:
        """Once the ``train`` task has ended: the messages it left (its ``ended`` among them), or
        WorkerLost saying why it failed before its loop began (the training could not be unpickled
        there, say), rather than waiting for ever."""
        ready, _ = ray.wait([self.result], timeout=0)
        if not ready:
            return []
        try:
            ray.get(self.result)
        except RayActorError as err:
            raise WorkerLost(f"The Ray actor training this run died ({_first_line(err)}).") from None
        except RayError as err:
            raise WorkerLost(f"The Ray actor could not run this training ({_first_line(err)}).") from None
        messages = ray.get(self.actor.drain.remote())
        if not messages:
            raise WorkerLost("The Ray actor training this run ended without a word.")
        return messages

    def close(self, healthy: bool) -> None:
        try:
            ray.kill(self.actor)
        except RayError:
            pass


def _first_line(err: Exception) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[0][:300] if lines else type(err).__name__


class RayExecutor(Executor):
    """Trainings as Ray actors, on the cluster at ``address`` or on a local instance."""

    name = "ray"

    def __init__(self, address: str | None = None, threads: int | None = None, nice: int = NICE):
        super().__init__()
        self.threads = threads or training_threads()
        self.address = address
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False, runtime_env={"py_modules": [str(PACKAGE_DIR)]})
            else:
                start_local_ray()
        self.actor_class = ray.remote(TrainingActor).options(num_cpus=self.threads, max_concurrency=3,
                                                             max_restarts=0)
        self.nice = nice
        self._capacity, self._capacity_at = 1, -float("inf")
        self._capacity_lock = threading.Lock()

    def capacity(self) -> int:
        """The cluster's CPUs ÷ threads per training, asked again every few seconds."""
        with self._capacity_lock:
            if time.monotonic() - self._capacity_at >= CAPACITY_REFRESH_SECONDS:
                cpus = ray.cluster_resources().get("CPU", 0)
                self._capacity = max(1, int(cpus // self.threads))
                self._capacity_at = time.monotonic()
            return self._capacity

    def launch(self, training: Training, ui_interval: float = 0.25) -> Link:
        actor = self.actor_class.remote(self.threads, self.nice)
        link = RayLink(actor, ui_interval)
        link.result = actor.train.remote(training, ui_interval)
        return link

    def describe(self) -> str:
        where = f"cluster at {self.address}" if self.address else f"local Ray instance at {ray_address()}"
        return f"ray executor ({where}), {self.capacity()} trainings at once"

    def shutdown(self) -> None:
        if not self.address and ray.is_initialized():
            ray.shutdown()
