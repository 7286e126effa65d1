"""One CPU-bound call in a fresh Python process, at a worker's lower priority.

    in_own_process(function, *args, threads=1)   function(*args), computed in a child process

The child is started as ``python -m lstm_core.execution.own_process``: a plain interpreter that imports
only the function's module. (multiprocessing's "spawn" re-runs the parent's ``__main__`` file in the
child, and under Streamlit that file is the page script: a unit ablation of 0.8 s took 27 to 40 s
because the child ran the whole Gates page first.) The call travels pickled through the child's
standard input and its result comes back through a pipe of its own; both ends are this process and its
own child, never a file from outside. The child runs at a worker's priority with ``threads`` torch
threads, so it neither holds the web server's interpreter lock nor slows its pages.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from lstm_core.execution.worker import settle

PROJECT_DIR = Path(__file__).resolve().parents[2]  # the folder that holds the lstm_core package


class ChildProcessFailed(RuntimeError):
    """The child ended without a result (killed, or out of memory)."""


def child_environment(threads: int) -> dict:
    """The environment of a child that runs lstm_core: ``threads`` for its maths libraries, and the package
    importable wherever the server was started from."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "PYTHONPATH": os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def in_own_process(function: Callable, *args, threads: int = 1):
    """``function(*args)`` in a fresh process; its result, or the exception it raised, raised here.
    ``function`` must be importable by name (a module's top-level function)."""
    read_end, write_end = os.pipe()
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", "lstm_core.execution.own_process", str(write_end), str(threads)],
            stdin=subprocess.PIPE, pass_fds=(write_end,), env=child_environment(threads), cwd=PROJECT_DIR)
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as results:
        child.stdin.write(pickle.dumps((sys.path, pickle.dumps((function, args)))))
        child.stdin.close()
        answer = results.read()
    code = child.wait()
    if not answer:
        raise ChildProcessFailed(f"the computation's process ended without a result (status {code})")
    ok, value = pickle.loads(answer)  # written by our own child, just above
    if ok:
        return value
    raise value


def _serve(result_fd: int, threads: int) -> None:
    """The child's side: read the call, run it, write (ok, value) to ``result_fd``."""
    settle(threads, for_training=False)
    parent_path, call = pickle.loads(sys.stdin.buffer.read())  # sent by the parent that started this process
    sys.path[:] = list(dict.fromkeys([*sys.path, *parent_path]))  # the function's module is found as there
    function, args = pickle.loads(call)
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


if __name__ == "__main__":
    _serve(int(sys.argv[1]), int(sys.argv[2]))
