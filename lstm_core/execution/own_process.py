"""One CPU-bound call in a process of its own, at a worker's lower priority.

    in_own_process(function, *args, threads=1)   function(*args), computed in another process

The process is forked by :mod:`lstm_core.execution.starter` from a plain interpreter that has imported
PyTorch and lstm_core only, never the caller's ``__main__`` file. (multiprocessing's "spawn" re-runs that
file in the child, and under Streamlit it is the page script: a unit ablation of 0.8 s took 27 to 40 s
because the child ran the whole Gates page first.) The call travels pickled through one pipe and its result
comes back through another; both ends are this process and a child of its own starter, never a file from
outside. The child runs at a worker's priority with ``threads`` torch threads, so it neither holds the web
server's interpreter lock nor slows its pages.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path

from .starter import start_process

PROJECT_DIR = Path(__file__).resolve().parents[2]  # the folder that holds the lstm_core package


class ChildProcessFailed(RuntimeError):
    """The child ended without a result (killed, or out of memory)."""


def import_path() -> str:
    """``PYTHONPATH`` for a process of this machine that imports lstm_core wherever it was started from: this
    checkout first, then the caller's own."""
    return os.pathsep.join([str(PROJECT_DIR), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)


def child_environment(threads: int) -> dict:
    """The environment of a child that runs lstm_core: ``threads`` for its maths libraries, and the package
    importable (``import_path``)."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
            "PYTHONPATH": import_path()}


def in_own_process(function: Callable, *args, threads: int = 1):
    """``function(*args)`` in a process of its own; its result, or the exception it raised, raised here.
    ``function`` must be importable by name (a module's top-level function)."""
    call = pickle.dumps((sys.path, pickle.dumps((function, args))))  # a call that cannot travel fails here
    call_read, call_write = os.pipe()
    result_read, result_write = os.pipe()
    try:
        child = start_process("call", (threads,), [call_read, result_write], child_environment(threads),
                              str(PROJECT_DIR))
    except BaseException:
        for fd in (call_write, result_read):
            os.close(fd)
        raise
    finally:
        os.close(call_read)
        os.close(result_write)
    with os.fdopen(call_write, "wb") as sending:  # the child reads it whole before it answers
        sending.write(call)
    with os.fdopen(result_read, "rb") as results:
        answer = results.read()
    code = child.wait()
    if not answer:
        raise ChildProcessFailed(f"the computation's process ended without a result (status {code})")
    ok, value = pickle.loads(answer)  # written by our own child, just above
    if ok:
        return value
    raise value
