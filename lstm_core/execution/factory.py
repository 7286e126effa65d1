"""Which executor runs this process's trainings: the local pool, or Ray.

``LSTM_LAB_EXECUTOR`` (``local`` or ``ray``) chooses; without it, Ray is chosen when
``LSTM_LAB_RAY_ADDRESS`` names a cluster (``host:port`` of its head), else the local pool. The command
line's ``--executor`` asks :func:`make_executor` directly.

This module sits above both executors (:mod:`.executor`, :mod:`.ray_executor`), so neither imports the
other's chooser. Ray is optional (``requirements-ray.txt``) and costs 1 to 2 s and about 35 MB to
import, so :mod:`.ray_executor` (which imports Ray) is loaded by name only when Ray is asked for:
a server or a command that trains locally never imports Ray, and one without Ray installed works.
"""

from __future__ import annotations

import importlib
import os
import threading

from .executor import Executor, LocalExecutor

RAY_EXECUTOR_MODULE = f"{__package__}.ray_executor"  # the optional dependency: imported when asked for

_default: Executor | None = None
_default_lock = threading.Lock()


def ray_executor_class() -> type[Executor]:
    """:class:`lstm_core.execution.ray_executor.RayExecutor`; ImportError (saying how to install Ray)
    when Ray is not installed."""
    try:
        module = importlib.import_module(RAY_EXECUTOR_MODULE)
    except ImportError as err:
        if err.name != "ray" and not (err.name or "").startswith("ray."):
            raise
        raise ImportError("The Ray executor needs Ray: pip install -r requirements-ray.txt") from err
    return module.RayExecutor


def make_executor(kind: str | None = None, address: str | None = None) -> Executor:
    """``local`` or ``ray`` (default: ``LSTM_LAB_EXECUTOR``, else ray when ``LSTM_LAB_RAY_ADDRESS`` is set).

    Ray without an address starts a Ray instance of its own on 127.0.0.1; it never joins a cluster
    that was not named (see :class:`~lstm_core.execution.ray_executor.RayExecutor`)."""
    address = address or os.environ.get("LSTM_LAB_RAY_ADDRESS") or None
    kind = kind or os.environ.get("LSTM_LAB_EXECUTOR") or ("ray" if address else "local")
    if kind == "local":
        return LocalExecutor()
    if kind == "ray":
        return ray_executor_class()(address)
    raise ValueError(f"unknown executor {kind!r}: choose local or ray")


def default_executor() -> Executor:
    """This process's executor, made on first use (see :func:`make_executor`)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = make_executor()
        return _default
