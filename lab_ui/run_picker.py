"""The server's run store, saved runs loaded once and shared, and the picker that chooses one.

Every cache of a run's results is keyed the same way: by :func:`run_key`, the run's folder and when its
weights last changed, so that a result follows a training and a cached result is never of stale weights.

    run_store()                      the server's run store
    run_key(run_id)                  (folder, weights stamp): what a cached result of this run depends on
    cached_run(run_id)               the run, loaded once per key and shared (read-only)
    pick_run(kind, label, ...)       a picker of saved runs, kept in the link as ``run``
    selected_run(label, ...)         the sidebar's picker of character models
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

import lstm_core
from lab_ui import presentation
from lab_ui.query import query_index, query_value, set_query
from lab_ui.safe_text import markdown_text
from lstm_core.architectures import display_name
from lstm_core.runs import WEIGHTS_FILE, default_store_root, read_config

PRETRAINED_ID = "pretrained"
MAX_SHOWN_ID = 60  # characters of a link's run id repeated in a message


@st.cache_resource
def run_store() -> lstm_core.RunStore:
    """The server's run store (``LSTM_LAB_RUNS`` or ``runs/`` beside the app).

    Made once per server: runs that a killed server left running or queued are marked paused
    then, so that they are offered to be continued.
    """
    store = lstm_core.RunStore(default_store_root())
    store.recover_interrupted()
    return store


def run_path(run_id: str) -> Path:
    if run_id == PRETRAINED_ID:
        return lstm_core.PRETRAINED_DIR
    return run_store().path(run_id)


def weights_stamp(path: Path) -> float:
    """When a run's weights last changed (0 when it has none yet): a cache key that follows training."""
    weights = path / WEIGHTS_FILE
    return weights.stat().st_mtime if weights.exists() else 0.0


def folder_key(path: Path) -> tuple[str, float]:
    """(folder, weights stamp) of the run in ``path``: what a cached result of it depends on."""
    return str(path), weights_stamp(path)


def run_key(run_id: str) -> tuple[str, float]:
    """(folder, weights stamp) of the run ``run_id``: what a cached result of it depends on."""
    return folder_key(run_path(run_id))


@st.cache_resource(max_entries=8, show_spinner=False)
def load_run_cached(path: str, stamp: float) -> lstm_core.Run:
    """A run loaded once per server (and again when its weights change: ``stamp``); shared, read-only."""
    return lstm_core.load_run(path)


def cached_run(run_id: str) -> lstm_core.Run:
    """A loaded run, reloaded when its weights change on disk."""
    return load_run_cached(*run_key(run_id))


def index_stamp(store: lstm_core.RunStore) -> tuple:
    """What the run index's content depends on: its file's and the store folder's change times and sizes (a
    training's row written, a run added or deleted). Read on every view, far cheaper than the index itself."""
    stamp = []
    for path in (store.root, store.root / "index.sqlite"):
        try:
            info = path.stat()
            stamp.append((info.st_mtime_ns, info.st_size))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


@st.cache_resource(max_entries=4, show_spinner=False)
def indexed_runs(root: str, stamp: tuple) -> tuple[tuple, ...]:
    """The index's rows (id, kind, name, status, best valid loss, summary), newest first, read once per
    change of the index (``stamp``: :func:`index_stamp`) for every session of the server."""
    runs = run_store().list()
    return tuple(zip(runs["id"], runs["kind"], runs["name"], runs["status"], runs["best_valid_loss"], runs["summary"],
                     strict=True))


def run_choices(kind: str = "char", architectures: tuple[str, ...] = ("lstm",)) -> dict[str, str]:
    """{run id: label} of the saved runs of ``kind`` that have weights, newest first; for character
    models the shipped pretrained model comes first. Character runs are limited to ``architectures``
    (LSTMs by default: the pages that open a model's gates read an LSTM's; a page that reads a GRU's or
    an RNN's too passes ("lstm", "gru", "rnn"))."""
    choices = {PRETRAINED_ID: "Pretrained Molière model (shipped)"} if kind == "char" else {}
    store = run_store()
    for run_id, run_kind, name, status, best_valid_loss, summary in indexed_runs(str(store.root), index_stamp(store)):
        if run_kind == kind and (store.root / run_id / WEIGHTS_FILE).exists():  # weights come with the first checkpoint
            if kind == "char":
                architecture = run_architecture(store.root / run_id)
                if architecture not in architectures:
                    continue
                detail = f", valid {best_valid_loss:.2f}" if pd.notna(best_valid_loss) else ""
                if len(architectures) > 1:  # a picker of several architectures says which each run is
                    detail = f", {display_name(architecture)}{detail}"
            else:
                detail = f", {summary}" if summary else ""
            choices[run_id] = f"{name} ({status}{detail})"
    return choices


_architectures: dict[str, str] = {}  # run folder -> its architecture (it never changes)


def run_architecture(path: Path) -> str:
    """A run's architecture, as its config says ("lstm" for runs saved before there was a choice)."""
    key = str(path)
    if key not in _architectures:
        try:
            model = read_config(path).get("model", {})
            _architectures[key] = model.get("architecture", "lstm")
        except (OSError, ValueError, AttributeError):  # no run, or not one (RunError is a ValueError)
            return "lstm"
    return _architectures[key]


def pick_run(kind: str = "char", label: str = "Model", key: str = "selected_run", container=None,
             follow: str | None = None, architectures: tuple[str, ...] = ("lstm",),
             full_name: bool = False) -> tuple[str, lstm_core.Run] | None:
    """A picker of the saved runs of ``kind``, kept in the link as ``run``; returns (id, loaded run),
    or None when there is none yet. With ``full_name`` the chosen run's name is also written under the box.

    The choice follows the user across pages (the link wins when it names a run). ``follow`` is a
    run this session has just started training: it is chosen once, when it first appears.
    """
    choices = run_choices(kind, architectures)
    if not choices:
        return None
    ids = list(choices)
    remembered = f"last_run_{kind}"
    if follow in ids and st.session_state.get(f"{key}_followed") != follow:
        st.session_state[f"{key}_followed"] = follow
        st.session_state[key] = follow
    elif st.session_state.get(key) not in ids:
        last = st.session_state.get(remembered)
        st.session_state[key] = ids[query_index("run", ids, last if last in ids else ids[0])]
        linked = query_value("run")
        if linked is not None and linked not in ids:  # say so, rather than open another model in silence
            st.warning(f"The link's run {markdown_text(shown_id(linked))} {_not_offered(linked, kind, architectures)}: "
                       f"{markdown_text(choices[st.session_state[key]])} is shown instead.")
    run_id = (container or st).selectbox(label, ids, format_func=choices.get, key=key)
    if full_name:  # a narrow box (the sidebar's) cuts a long name: written in full under it
        (container or st).caption(choices[run_id])
    st.session_state[remembered] = run_id
    set_query(run=run_id)
    try:
        return run_id, cached_run(run_id)
    except lstm_core.RunError as err:
        st.error(f"This run cannot be opened: {markdown_text(err)}")
        st.stop()


def shown_id(run_id: str) -> str:
    """A run id from a link, quoted and cut to a readable length (a link may carry thousands of characters)."""
    return repr(run_id if len(run_id) <= MAX_SHOWN_ID else run_id[:MAX_SHOWN_ID] + "…")


def _has_weights(path: Path) -> bool:
    """Whether ``path`` holds a model; False for a name the file system refuses (too long, a bad byte)."""
    try:
        return (path / WEIGHTS_FILE).exists()
    except (OSError, ValueError):  # e.g. ENAMETOOLONG: a sentence for the user, never a path
        return False


def _not_offered(run_id: str, kind: str, architectures: tuple[str, ...]) -> str:
    """Why a run named by a link is not among a picker's choices, in words."""
    path = run_store().root / run_id
    if not run_id or "/" in run_id or run_id.startswith(".") or not _has_weights(path):
        return "has no saved model on this server"
    if kind == "char":
        architecture = run_architecture(path)
        if architecture not in architectures:
            readable = " or ".join(display_name(a) for a in architectures)
            return (f"is a {display_name(architecture)}, and this page reads {readable} models "
                    "only (the Gates & states page shows every architecture)")
    return "is not a model this page can open"


def selected_run(label: str = "Model", architectures: tuple[str, ...] = ("lstm",)) -> tuple[str, lstm_core.Run]:
    """The sidebar's picker of character models (the shipped one is always there), LSTMs unless
    ``architectures`` names more. The full name is written under it: the sidebar's box cuts a long one."""
    return pick_run("char", label, container=presentation.sidebar(), architectures=architectures, full_name=True)
