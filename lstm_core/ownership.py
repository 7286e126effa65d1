"""Who owns a run, kept so that it cannot be copied: a keyed hash of the browser's token, never the token.

A browser's token (its ``lstm_lab_owner`` cookie) is a secret that never leaves the server. A run
records ``hmac-sha256:<hex>``, the HMAC-SHA256 of that token under a key kept in the store's root
(``owner.key``, outside every run folder, so no export carries it). Knowing a run's recorded owner
does not give the token, and a zip's owner field is dropped on export and ignored on import.

Runs saved before this recorded the raw token; :func:`recorded_owner` hashes such a legacy value
the first time the store reads it (the store then rewrites it), so its browser still owns it.
Comparisons are in constant time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "owner.key"
PREFIX = "hmac-sha256:"
_keys: dict[str, bytes] = {}  # store root -> its key, read once


def store_key(root) -> bytes:
    """The store's secret key, made (once, race-free) when the store first needs it."""
    root = Path(root)
    cached = _keys.get(str(root))
    if cached is not None:
        return cached
    path = root / KEY_FILE
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    else:
        key = secrets.token_bytes(32)
        with os.fdopen(descriptor, "w", encoding="ascii") as file:
            file.write(key.hex())
    if len(key) < 16:
        raise ValueError(f"{path} is not a usable owner key")
    _keys[str(root)] = key
    return key


def is_digest(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def owner_digest(token: str, root) -> str:
    """What a run records for the browser holding ``token``."""
    return PREFIX + hmac.new(store_key(root), token.encode("utf-8"), hashlib.sha256).hexdigest()


def recorded_owner(value, root) -> str | None:
    """A run's recorded owner as a digest: a digest is kept, a legacy raw token is hashed, anything
    else (None, a number, an empty string) is no one."""
    if is_digest(value):
        return value
    if isinstance(value, str) and value:
        return owner_digest(value, root)
    return None


def owns(recorded, token: str | None, root) -> bool:
    """Whether the browser holding ``token`` owns a run that records ``recorded`` (constant time)."""
    recorded = recorded_owner(recorded, root) if isinstance(recorded, str) else None
    if recorded is None or not token:
        return False
    return hmac.compare_digest(recorded.encode("ascii", "replace"), owner_digest(token, root).encode("ascii"))
