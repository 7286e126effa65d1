"""Routes of LSTM Lab's server that answer one session each: what a session publishes under a random token, and
the route's URL for it once app.py mounts the route.

    feeds = TokenFeeds("/api/x/{token}")   one route's board (a module keeps it)
    feeds.publish(token, answer)           the session's callable, replacing the one it published before
    feeds.get(token)                       that callable, or None (never published, withdrawn, or forgotten)
    feeds.withdraw(token)
    feeds.url(token)                       where the browser asks; None until ``served()`` (a page run by AppTest)

A token (``new_token``) is 32 random characters made per session: knowing it is the only way to use what the
session published, as a session's id is for its page. A board given a capacity forgets its oldest tokens beyond it
(a session that ended never withdraws; the next run of a live session publishes again).
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable


def new_token() -> str:
    return secrets.token_urlsafe(24)


class TokenFeeds:
    """One route's callables, each under the token of the session that published it."""

    def __init__(self, path: str, capacity: int | None = None):
        self.path, self.capacity = path, capacity
        self._feeds: OrderedDict[str, Callable] = OrderedDict()
        self._lock = threading.Lock()
        self.is_served = False

    def served(self) -> None:
        """Say that app.py mounts this board's route: from now on ``url`` gives its address."""
        self.is_served = True

    def publish(self, token: str, answer: Callable) -> None:
        with self._lock:
            self._feeds[token] = answer
            self._feeds.move_to_end(token)
            while self.capacity is not None and len(self._feeds) > self.capacity:
                self._feeds.popitem(last=False)

    def withdraw(self, token: str) -> None:
        with self._lock:
            self._feeds.pop(token, None)

    def get(self, token: str) -> Callable | None:
        with self._lock:
            return self._feeds.get(token)

    def published(self, token: str) -> bool:
        return self.get(token) is not None

    def url(self, token: str) -> str | None:
        """The path the browser asks ``token``'s feed at, or None when no route serves this board."""
        return self.path.format(token=token) if self.is_served else None
