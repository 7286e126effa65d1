"""Page setup, the run store, the sidebar's run picker and query-string helpers."""

from __future__ import annotations

import math
import os
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

import lstm_core
from lstm_core.background import configure_torch_threads

REPO_ROOT = Path(__file__).resolve().parent.parent
PRETRAINED_ID = "pretrained"
PAGES = [  # (script, url path, label)
    ("app.py", "", "Home"),
    ("pages/1_train.py", "train", "Train"),
    ("pages/2_gates.py", "gates", "Gates & states"),
    ("pages/3_generate.py", "generate", "Generate"),
    ("pages/4_cell.py", "cell", "Cell lab"),
    ("pages/5_explorer.py", "explorer", "nn.LSTM explorer"),
    ("pages/6_tagger.py", "tagger", "Tagger"),
    ("pages/7_sentiment.py", "sentiment", "Sentiment"),
    ("pages/8_runs.py", "runs", "Runs"),
]


def page_setup(title: str, icon: str = "🧠") -> None:
    """Page config and the shared sidebar; call first on every page."""
    st.set_page_config(page_title=f"{title} · LSTM Lab", page_icon=icon, layout="wide")
    configure_torch_threads()
    with st.sidebar:
        try:
            for script, _path, label in PAGES:
                st.page_link(script, label=label)
        except StreamlitPageNotFoundError:
            pass  # a page run on its own (AppTest.from_file) knows no other pages
        st.divider()


@st.cache_resource
def run_store() -> lstm_core.RunStore:
    """The server's run store (``LSTM_LAB_RUNS`` or ``runs/`` beside the app)."""
    return lstm_core.RunStore(os.environ.get("LSTM_LAB_RUNS", REPO_ROOT / "runs"))


def run_path(run_id: str) -> Path:
    if run_id == PRETRAINED_ID:
        return lstm_core.PRETRAINED_DIR
    return run_store().path(run_id)


@st.cache_resource(max_entries=8)
def _load(path: str, stamp: float) -> lstm_core.Run:
    return lstm_core.load_run(path)


def cached_run(run_id: str) -> lstm_core.Run:
    """A loaded run, reloaded when its weights change on disk."""
    path = run_path(run_id)
    weights = path / "model.safetensors"
    return _load(str(path), weights.stat().st_mtime if weights.exists() else 0.0)


def char_run_choices() -> dict[str, str]:
    """{run id: label} of every character model: the shipped one first, then saved runs."""
    choices = {PRETRAINED_ID: "Pretrained Molière model (shipped)"}
    runs = run_store().list()
    for row in runs[runs["kind"] == "char"].itertuples():
        if (run_store().root / row.id / "model.safetensors").exists():
            loss = f", valid {row.best_valid_loss:.2f}" if row.best_valid_loss == row.best_valid_loss and row.best_valid_loss is not None else ""
            choices[row.id] = f"{row.name} ({row.status}{loss})"
    return choices


def selected_run(label: str = "Model") -> tuple[str, lstm_core.Run]:
    """Sidebar picker of character models, kept in the query string as ``run``; returns (id, run)."""
    choices = char_run_choices()
    ids = list(choices)
    last = st.session_state.get("last_selected_run", PRETRAINED_ID)  # the choice follows across pages
    index = query_index("run", ids, last if last in ids else PRETRAINED_ID)
    run_id = st.sidebar.selectbox(label, ids, index=index, format_func=choices.get, key="selected_run")
    st.session_state["last_selected_run"] = run_id
    set_query(run=run_id)
    try:
        return run_id, cached_run(run_id)
    except lstm_core.RunError as err:
        st.error(f"This run cannot be opened: {err}")
        st.stop()


def query_value(name: str, default=None, cast=str):
    """A setting from the URL's query string, or ``default`` when absent or malformed."""
    raw = st.query_params.get(name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except (TypeError, ValueError, OverflowError):
        return default
    if isinstance(value, float) and not math.isfinite(value):
        return default  # "nan" and "inf" parse as floats but mean nothing here
    return value


def query_number(name: str, default, low, high, cast=int, warn: bool = False):
    """A number from the query string brought into [low, high]; ``default`` when absent or malformed.

    With ``warn``, a value outside the range gets a warning that says which value is used instead.
    """
    value = query_value(name, default, cast)
    if value is None:
        return None
    clamped = min(max(value, low), high)
    if warn and clamped != value:
        st.warning(f"The link asks for {name} = {value:g}, but it must be between {low:g} and {high:g}: "
                   f"{clamped:g} is used instead.")
    return clamped


def query_index(name: str, options, default) -> int:
    """Index among ``options`` of the link's choice for ``name`` (of ``default`` when absent or unknown)."""
    options = list(options)
    value = query_value(name, default)
    return options.index(value) if value in options else options.index(default)


def set_query(**values) -> None:
    """Write view settings into the query string so that a copied link reproduces the view."""
    for name, value in values.items():
        text = None if value is None else str(value)
        if st.query_params.get(name) != text:
            if text is None:
                del st.query_params[name]
            else:
                st.query_params[name] = text
