"""The process that starts the local pool's workers and the own-process calls, by forking itself.

A fresh Python process spends 4–5 CPU-seconds importing PyTorch and the training code before it can train;
on a class's two cores that is a training's first seconds, and a unit ablation's. The starter imports them
once, then forks a ready process whenever one is asked for:

    process = start_process("worker", (threads, nice), fds=[socket_end])    # behaves as a subprocess.Popen:
    process.pid, process.poll(), process.wait(timeout), process.kill()

One starter per web process, started on first use (``python -m lstm_core.execution.starter FD``) and spoken
to over a Unix socket pair (its own child, never an outside socket): a request names a role and hands over the
file descriptors the new process needs; the starter forks, the child runs the role and exits, and the starter
reports the child's pid at once and its exit status when it ends (as subprocess reports it: negative for a
signal). The starter exits when the web process goes (its socket closes); the processes it started end when
their own sockets close, as they always did. Roles (``ROLES``): ``worker`` serves trainings
(:func:`lstm_core.execution.worker.serve`), ``call`` computes one call (:mod:`lstm_core.execution.own_process`).

A forked child starts from the starter's state: the environment and working folder of the request are set
in it, and Python's random generator is seeded afresh (PyTorch's is untouched, as in a fresh process: the
starter never draws from it).
"""

from __future__ import annotations

import os
import pickle
import random
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from pathlib import Path

from .worker import preload, serve, settle

PROJECT_DIR = Path(__file__).resolve().parents[2]  # the folder that holds the lstm_core package
MESSAGE_BYTES = 1 << 16
MAX_FDS = 8
UNKNOWN_EXIT = 255  # the exit code of a process that ended after its starter died
PROCESS_NAMES = {"worker": "lstm-lab-worker", "call": "lstm-lab-call"}  # what ps and top show for each role


class StarterGone(RuntimeError):
    """The starter process is gone (killed); a new one is started for the next request."""


# -- the web process's side --------------------------------------------------------------------------------
class StartedProcess:
    """A process the starter forked, seen from the web process, with subprocess.Popen's few methods."""

    def __init__(self, starter: "Starter", pid: int):
        self.starter, self.pid = starter, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.starter.exit_code(self.pid, timeout=0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            self.returncode = self.starter.exit_code(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f"process {self.pid}", timeout)
        return self.returncode

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Starter:
    """The web process's handle on its starter: sends requests, and keeps the pids and exit codes it reports."""

    def __init__(self, environment: dict):
        """Start the starter process with ``environment`` (its maths libraries' threads are set there)."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen([sys.executable, "-m", "lstm_core.execution.starter", str(theirs.fileno())],
                                        pass_fds=(theirs.fileno(),), env=environment, stdin=subprocess.DEVNULL,
                                        cwd=PROJECT_DIR)
        theirs.close()
        self.socket = ours
        self._changed = threading.Condition()
        self._started: dict[int, int] = {}  # request number -> pid
        self._exits: dict[int, int] = {}  # pid -> exit code
        self._requests = 0
        self.gone = False
        threading.Thread(target=self._listen, name="lstm-lab-starter", daemon=True).start()

    def start(self, role: str, args: tuple, fds: list[int], environment: dict, folder: str,
              timeout: float = 120) -> StartedProcess:
        """Fork a process that runs ``role`` with ``args`` and the descriptors ``fds`` (copies of them: the
        caller still closes its own), in ``environment`` and the working folder ``folder``."""
        with self._changed:
            self._requests += 1
            number = self._requests
            request = pickle.dumps((number, role, args, environment, folder))
            try:  # sent under the lock: requests never interleave
                socket.send_fds(self.socket, [request], fds)
            except OSError:
                self.gone = True
            if not self._changed.wait_for(lambda: number in self._started or self.gone, timeout):
                raise StarterGone("the process starter did not answer")
            if self.gone and number not in self._started:
                raise StarterGone("the process starter is gone")
            return StartedProcess(self, self._started.pop(number))

    def exit_code(self, pid: int, timeout: float | None) -> int | None:
        """The exit code of a process this starter forked, once it has ended (None while it runs, up to
        ``timeout`` seconds); a process whose starter died is seen through /proc only."""
        with self._changed:
            self._changed.wait_for(lambda: pid in self._exits or self.gone, timeout)
            if pid in self._exits:
                return self._exits[pid]
        deadline = None if timeout is None else time.monotonic() + timeout
        while not ended(pid):  # its starter is gone: only /proc can tell when it ends
            if deadline is not None and time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
        return UNKNOWN_EXIT  # a process that ended while nobody could see how

    def _listen(self) -> None:
        while True:
            try:
                message = self.socket.recv(MESSAGE_BYTES)
            except OSError:
                message = b""
            with self._changed:
                if not message:
                    self.gone = True
                    self._changed.notify_all()
                    return
                kind, key, value = pickle.loads(message)  # from our own child, over our own socket pair
                if kind == "started":
                    self._started[key] = value
                    self._exits.pop(value, None)  # a reused pid: the exit kept is an earlier process's
                else:
                    self._exits[key] = value
                self._changed.notify_all()


def ended(pid: int) -> bool:
    """Whether process ``pid`` is gone or a zombie (its starter died before it: nobody reaps it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


_starter: Starter | None = None
_starter_lock = threading.Lock()


def start_process(role: str, args: tuple, fds: list[int], environment: dict,
                  folder: str | None = None) -> StartedProcess:
    """A new process running ``role`` (see ``ROLES``) in ``environment`` and ``folder`` (default: this process's
    working folder), forked by this process's starter (started on first use, with ``environment``, and again if
    it died)."""
    global _starter
    for attempt in (1, 2):
        with _starter_lock:
            if _starter is None or _starter.gone or _starter.process.poll() is not None:
                _starter = Starter(environment)
            starter = _starter
        try:
            return starter.start(role, args, fds, environment, folder or os.getcwd())
        except StarterGone:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


# -- the starter's side ------------------------------------------------------------------------------------
def run_worker(threads: int, nice: int, connection_fd: int) -> None:
    """A training worker of the local pool, on the socket ``connection_fd`` to the web process."""
    settle(threads, nice)
    serve(Connection(connection_fd))


def run_call(threads: int, call_fd: int, result_fd: int) -> None:
    """One call of :func:`lstm_core.execution.own_process.in_own_process`: read it from ``call_fd``, run it,
    write ``(ok, value)`` to ``result_fd``."""
    settle(threads, for_training=False)
    with os.fdopen(call_fd, "rb") as call:
        parent_path, pickled = pickle.loads(call.read())  # sent by the web process that asked for this child
    sys.path[:] = list(dict.fromkeys([*sys.path, *parent_path]))  # the function's module is found as there
    function, args = pickle.loads(pickled)
    try:
        answer = (True, function(*args))
    except Exception as error:  # noqa: BLE001 - handed back to the caller, who raises it
        answer = (False, error)
    try:
        payload = pickle.dumps(answer)
    except Exception:  # noqa: BLE001 - an exception that does not pickle
        payload = pickle.dumps((False, RuntimeError(f"{type(answer[1]).__name__}: {answer[1]}")))
    with os.fdopen(result_fd, "wb") as out:
        out.write(payload)


ROLES = {"worker": run_worker, "call": run_call}


def reply(control: socket.socket, kind: str, key: int, value: int) -> None:
    try:
        control.send(pickle.dumps((kind, key, value)))
    except OSError:
        pass  # the web process is gone; the main loop sees it next


def reap(control: socket.socket) -> None:
    """Collect every ended child and report its exit code."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        reply(control, "exited", pid, os.waitstatus_to_exitcode(status))


def become(role: str, args: tuple, fds: list[int], environment: dict, folder: str, closing: list[int]) -> None:
    """The forked child: leave the starter behind, run ``role``, and exit with its status."""
    code = 0
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C reaches a worker as it always did
        for fd in closing:
            os.close(fd)
        os.environ.clear()
        os.environ.update(environment)
        os.chdir(folder)
        random.seed()
        try:
            Path("/proc/self/comm").write_text(PROCESS_NAMES[role])
        except OSError:
            pass
        ROLES[role](*args, *fds)
    except SystemExit as ended:
        code = ended.code if isinstance(ended.code, int) else 1
    except BaseException:  # noqa: BLE001 - the child must never return into the starter's loop
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve_requests(control: socket.socket) -> None:
    """The starter's loop: fork a process per request, report pids and exit codes, until the web process goes."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # a child's end wakes the loop through wake_read
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the server's terminal: the starter leaves with the server
    while True:
        ready, _, _ = select.select([control, wake_read], [], [])
        if wake_read in ready:
            os.read(wake_read, 4096)
        reap(control)
        if control not in ready:
            continue
        try:
            message, fds, _, _ = socket.recv_fds(control, MESSAGE_BYTES, MAX_FDS)
        except OSError:
            return
        if not message:
            return  # the web process is gone
        number, role, args, environment, folder = pickle.loads(message)  # from the process that started us
        pid = os.fork()
        if pid == 0:
            become(role, args, fds, environment, folder, [control.fileno(), wake_read, wake_write])
        for fd in fds:
            os.close(fd)
        reply(control, "started", number, pid)


def main(argv: list[str] | None = None) -> None:
    (fd,) = argv if argv is not None else sys.argv[1:]
    control = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET, fileno=int(fd))
    preload()  # PyTorch and the training code are imported with this module; what a first step loads, now
    serve_requests(control)


if __name__ == "__main__":
    main()
