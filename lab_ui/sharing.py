"""A server shared by a class: who owns which run, the instructor's key, and upload limits.

Every run records who started it: the browser that did (a random token kept in a cookie, so a
reload or a second tab is still the same user; until the cookie is set, the browser session). The
token is a secret: runs record only its keyed hash (lstm_core.ownership), so a downloaded run tells
no one the cookie that owns it.
On a server started with ``LSTM_LAB_SHARED=1`` a user may rename, delete or continue only their own
runs; everyone else's are read-only (they can still be inspected, compared and downloaded). The
instructor password in ``.streamlit/secrets.toml`` (``instructor_password = "..."``) unlocks
everything for the session that enters it. Uploads and imports are limited there in size, and in
number per owner (the cookie's keyed hash, server-wide, so a reload or a new tab gives no fresh allowance).
A fair share of the workers: each owner may have ``LSTM_LAB_MAX_TRAININGS_PER_USER`` trainings (2 by
default; a comparison counts once) running or queued, and a training lasts at most
:data:`SHARED_MAX_SECONDS`. Without ``LSTM_LAB_SHARED`` everything is allowed, as on a laptop.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import threading
import time

import streamlit as st

from lstm_core.ownership import owner_digest, owns
from lstm_core.runs import default_store_root

OWNER_COOKIE = "lstm_lab_owner"
TOKEN = re.compile(r"^[0-9a-f]{32}$")
SHARED_UPLOADS = 10  # uploads and imports per owner (browser cookie) on a shared server
SHARED_IMPORT_MB = 50  # the largest run zip a shared server imports (the laptop limit is 200 MB)
SHARED_UPLOAD_MB = 50  # the largest text or CSV a shared server takes for a training


FREE_PASSWORD_TRIES = 3  # wrong instructor passwords a session may type before each try is made to wait
FIRST_WAIT_S, LONGEST_WAIT_S = 5.0, 300.0  # the wait after the 4th wrong try; it doubles after each, up to this
clock = time.monotonic  # what the password's waits are measured with (a test puts its own clock here)
MAX_TRAININGS_PER_USER = 2  # trainings an owner may have running or queued (LSTM_LAB_MAX_TRAININGS_PER_USER)
SHARED_MAX_SECONDS = 1800.0  # the longest training time a shared server gives one training (a link's included)
ACTIVE = ("queued", "running")
_allowance_lock = threading.Lock()
_trainings: dict[str, list[list]] = {}  # (store root, owner digest) -> that owner's trainings, a group per start
_uploads_used: dict[str, list] = {}  # (store root, owner digest) -> what that owner uploaded or imported


def shared() -> bool:
    """Whether this server is shared by a class (``LSTM_LAB_SHARED=1``)."""
    return os.environ.get("LSTM_LAB_SHARED", "") == "1"


def _cookie() -> str | None:
    """This browser's token from its cookie, if it sent a well-formed one."""
    cookie = st.context.cookies.get(OWNER_COOKIE)
    return cookie if isinstance(cookie, str) and TOKEN.match(cookie) else None


def owner_id() -> str:
    """Who this browser is: its cookie's token, or a new one that :func:`remember_owner` stores."""
    if "owner_id" not in st.session_state:
        st.session_state["owner_id"] = _cookie() or secrets.token_hex(16)
    return st.session_state["owner_id"]


def redact_errors() -> None:
    """On a shared server, an error the app did not foresee shows one generic sentence in the browser, and its
    message and traceback (which may name the server's paths) go to the server's log only."""
    if shared() and st.get_option("client.showErrorDetails") != "none":
        st.set_option("client.showErrorDetails", "none")


def remember_owner() -> None:
    """On a shared server, keep this browser's token in a cookie so that its runs stay its own after a reload
    (and redact unforeseen errors: :func:`redact_errors`)."""
    if not shared():
        return
    redact_errors()
    owner = owner_id()
    if _cookie() != owner and not st.session_state.get("owner_cookie_sent"):
        st.session_state["owner_cookie_sent"] = True
        st.html(f"<script>document.cookie = '{OWNER_COOKIE}={owner}; path=/; max-age=31536000; SameSite=Strict';"
                "</script>", unsafe_allow_javascript=True)


def instructor_password() -> str | None:
    """The instructor password from ``.streamlit/secrets.toml``, or None when there is none."""
    try:
        password = st.secrets.get("instructor_password")
    except Exception:  # noqa: BLE001 - no secrets file at all: no instructor
        return None
    return str(password) if password else None


def is_instructor() -> bool:
    return bool(st.session_state.get("instructor"))


def is_mine(owner: str | None) -> bool:
    """Whether a run that records ``owner`` (the index's hash) was started by this browser."""
    return owns(owner, owner_id(), default_store_root())


def may_change(owner: str | None) -> bool:
    """Whether this session may rename, delete or continue a run that records ``owner``."""
    if not shared() or is_instructor():
        return True
    return is_mine(owner)


def whose(owner: str | None) -> str:
    """'you', 'another user' or 'no one' (a run from the command line or an older store)."""
    if owner is None or owner != owner:  # None or NaN from the index
        return "no one"
    return "you" if is_mine(owner) else "another user"


def password_wait(failures: int) -> float:
    """Seconds a session waits before its next try, after ``failures`` wrong passwords (0 for the first few)."""
    if failures < FREE_PASSWORD_TRIES:
        return 0.0
    return min(LONGEST_WAIT_S, FIRST_WAIT_S * 2 ** (failures - FREE_PASSWORD_TRIES))


def _try_password() -> None:
    """The password box's callback: one try, refused unread while this session must wait; the box is emptied."""
    state = st.session_state
    entered, state["instructor_password_entry"] = state.get("instructor_password_entry", ""), ""
    if not entered:
        return
    wait = state.get("instructor_next_try", 0.0) - clock()
    if wait > 0:
        state["instructor_message"] = (f"Too many wrong passwords: wait {wait:.0f} s before trying again "
                                       "(this try was not checked).")
        return
    password = instructor_password() or ""
    if password and hmac.compare_digest(entered.encode(), password.encode()):
        state["instructor"] = True
        state.pop("instructor_message", None)
        return
    failures = state["instructor_failures"] = state.get("instructor_failures", 0) + 1
    state["instructor_next_try"] = clock() + password_wait(failures)
    state["instructor_message"] = "That is not the instructor password." + (
        f" Wait {password_wait(failures):.0f} s before the next try." if password_wait(failures) else "")


def instructor_unlock() -> None:
    """On a shared server with an instructor password: a box that unlocks every run for this session. After
    :data:`FREE_PASSWORD_TRIES` wrong passwords, each further try waits (5 s, doubling, up to 5 minutes)."""
    password = instructor_password()
    if not shared() or password is None:
        return
    if is_instructor():
        st.caption("Instructor: every run can be renamed and deleted in this session.")
        return
    with st.expander("Instructor"):
        st.text_input("Instructor password", type="password", key="instructor_password_entry",
                      on_change=_try_password)
        if "instructor_message" in st.session_state:
            st.error(st.session_state["instructor_message"])


def _owner_key() -> str:
    """This browser's owner, server-wide: its store and its token's keyed hash (never the token)."""
    root = default_store_root()
    return f"{root}|{owner_digest(owner_id(), root)}"


def max_trainings_per_user() -> int:
    """How many trainings an owner may have running or queued on a shared server (at least 1)."""
    try:
        return max(1, int(os.environ.get("LSTM_LAB_MAX_TRAININGS_PER_USER", MAX_TRAININGS_PER_USER)))
    except ValueError:
        return MAX_TRAININGS_PER_USER


def _active(trainer) -> bool:
    return trainer.snapshot(since=1 << 62).status in ACTIVE


def check_training_allowance(replacing=()) -> None:
    """ValueError when this owner (in any tab) already has as many trainings running or queued as a shared
    server allows; ``replacing``: this session's trainers that the new start stops first (not counted)."""
    if not shared() or is_instructor():
        return
    with _allowance_lock:
        groups = _trainings.get(_owner_key(), [])
        busy = sum(any(_active(t) for t in group if t not in replacing) for group in groups)
    if busy >= max_trainings_per_user():
        raise ValueError(f"this server is shared: each user may have {max_trainings_per_user()} trainings running "
                         "or queued, and you have that many (in this tab or another); pause or stop one first")


def count_training(trainers) -> None:
    """Count ``trainers`` (started together: a comparison's contenders count once) as this owner's; trainings
    that ended are forgotten."""
    if not shared():
        return
    with _allowance_lock:
        kept = [group for group in _trainings.get(_owner_key(), [])
                if any(t.snapshot(since=1 << 62).status in ACTIVE + ("idle", "paused") for t in group)]
        _trainings[_owner_key()] = kept + [list(trainers)]


def training_seconds_cap(high: float) -> float:
    """The longest training time offered: ``high``, or :data:`SHARED_MAX_SECONDS` on a shared server."""
    return min(high, SHARED_MAX_SECONDS) if shared() else high


def upload_limit_mb(kind: str = "upload") -> int | None:
    """The largest file a shared server takes (``import``: a run zip); None: Streamlit's own limit."""
    if not shared():
        return None
    return SHARED_IMPORT_MB if kind == "import" else SHARED_UPLOAD_MB


def check_upload_size(file, what: str = "upload") -> None:
    """ValueError when ``file`` is larger than a shared server takes (call it before reading the file)."""
    if not shared() or is_instructor():
        return
    size = file.size if hasattr(file, "size") else len(file.getvalue())
    limit = upload_limit_mb(what) * 1_000_000
    if size > limit:
        raise ValueError(f"this server is shared: files up to {limit // 1_000_000} MB are accepted "
                         f"(this one is {size / 1e6:.1f} MB)")


def use_upload(file, what: str = "upload") -> None:
    """Count an uploaded file (``what``: ``upload`` for a training's text or CSV, ``import`` for a run zip)
    against this owner's allowance, kept server-wide by the cookie's keyed hash (a reload or a new tab
    shares it); ValueError past the shared server's limits. Every import counts (clicking Import again on
    the same upload writes another run); the same text used for a second training is not counted twice."""
    if not shared() or is_instructor():
        return
    check_upload_size(file, what)
    size = file.size if hasattr(file, "size") else len(file.getvalue())
    root = default_store_root()
    key = (what, getattr(file, "file_id", None) or getattr(file, "name", ""), size)
    with _allowance_lock:
        used = _uploads_used.setdefault(f"{root}|{owner_digest(owner_id(), root)}", [])
        if what != "import" and key in used:
            return
        if len(used) >= SHARED_UPLOADS:
            raise ValueError(f"this server is shared: each user may upload or import {SHARED_UPLOADS} files, "
                             "and you have used them all")
        used.append(key)
