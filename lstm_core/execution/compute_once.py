"""Results computed once per key, kept in a bounded store, in the caller's thread or in the background.

A server's sessions often ask for the same slow result (a sample with the same settings, a layer's
unit ablation, an n-gram's loss). :class:`ComputeOnce` computes it once, however many ask at once,
and keeps the newest ``capacity`` results (the least recently used dropped first):

    store = ComputeOnce(capacity=16)
    store.get_or_compute(key, make)   # here, now; a second caller of the same key waits for the first
    store.start(key, make)            # in the background, one at a time; a page polls store.get(key)
    store.waiting()                   # how many are on their way

A failure keeps nothing. In the caller's thread it is raised (the next caller computes again); in
the background its message is kept (bounded too) for :meth:`ComputeOnce.error` until the key is
started again. (:mod:`lstm_core.execution.own_process` runs a CPU-bound piece in a fresh
process.)
Nothing here imports Streamlit.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor


class ComputeOnce:
    """A bounded map key -> result, each result computed once even when asked for at once."""

    def __init__(self, capacity: int, thread_name: str = "lstm-lab-compute"):
        self.capacity = capacity
        self.thread_name = thread_name
        self._results: OrderedDict[Hashable, object] = OrderedDict()
        self._pending: dict[Hashable, Future] = {}  # key -> its result on the way
        self._failed: OrderedDict[Hashable, str] = OrderedDict()  # key -> what went wrong in the background
        self._lock = threading.Lock()
        self._background: ThreadPoolExecutor | None = None  # one thread, started by the first start()

    def get(self, key: Hashable):
        """The result kept for ``key``, or None (nothing is computed)."""
        with self._lock:
            if key not in self._results:
                return None
            self._results.move_to_end(key)
            return self._results[key]

    def running(self, key: Hashable) -> bool:
        """Whether ``key``'s result is being computed."""
        with self._lock:
            return key in self._pending

    def waiting(self) -> int:
        """How many results are on their way (here or in the background)."""
        with self._lock:
            return len(self._pending)

    def error(self, key: Hashable) -> str | None:
        """What went wrong when ``key`` was last computed in the background, until it is started again."""
        with self._lock:
            return self._failed.get(key)

    def get_or_compute(self, key: Hashable, make: Callable[[], object]):
        """The result kept for ``key``, or ``make()``'s, computed here and kept; a second caller waits for
        the first. ``make()`` may raise: nothing is kept, and a caller that waited computes it again."""
        while True:
            with self._lock:
                if key in self._results:
                    self._results.move_to_end(key)
                    return self._results[key]
                pending = self._pending.get(key)
                if pending is None:
                    pending = self._pending[key] = Future()
                    break
            try:
                return pending.result()
            except BaseException:
                if not pending.done():
                    raise  # this caller was interrupted while it waited
                # the first caller failed, or its page stopped it: nothing is kept, compute it here
        try:
            made = make()
        except BaseException as err:
            with self._lock:
                self._pending.pop(key, None)
            pending.set_exception(err)
            raise
        self._keep(key, made)
        pending.set_result(made)
        return made

    def start(self, key: Hashable, make: Callable[[], object]) -> Future | None:
        """Compute ``make()`` for ``key`` in the background (one at a time), unless it is there already
        (None) or on its way (its future)."""
        with self._lock:
            if key in self._results:
                return None
            if key not in self._pending:
                self._failed.pop(key, None)
                if self._background is None:
                    self._background = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.thread_name)
                self._pending[key] = self._background.submit(self._make_in_background, key, make)
            return self._pending[key]

    def _make_in_background(self, key: Hashable, make: Callable[[], object]):
        try:
            made = make()
        except Exception as err:  # noqa: BLE001 - kept for error(), not lost in a thread
            with self._lock:
                self._failed[key] = f"{type(err).__name__}: {err}"
                while len(self._failed) > self.capacity:
                    self._failed.popitem(last=False)
                self._pending.pop(key, None)
            return None
        self._keep(key, made)
        return made

    def _keep(self, key: Hashable, made) -> None:
        with self._lock:
            self._results[key] = made
            self._results.move_to_end(key)
            while len(self._results) > self.capacity:
                self._results.popitem(last=False)
            self._pending.pop(key, None)
