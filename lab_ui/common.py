"""Page setup, the run store, the sidebar's run picker and query-string helpers."""

from __future__ import annotations

import html
import importlib
import json
import math
import numbers
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pandas as pd
import streamlit as st
import torch
from streamlit.errors import StreamlitPageNotFoundError

import lstm_core
from lab_ui.sharing import remember_owner
from lstm_core.execution.background import configure_torch_threads
from lstm_core.gates import ARCHITECTURE_NAMES
from lstm_core.runs import WEIGHTS_FILE, default_store_root

PRETRAINED_ID = "pretrained"
PAGES = [  # (script, url path, label)
    ("home.py", "", "Home"),
    ("pages/0_lesson.py", "lesson", "Lesson"),
    ("pages/1_train.py", "train", "Train"),
    ("pages/2_gates.py", "gates", "Gates & states"),
    ("pages/3_generate.py", "generate", "Generate"),
    ("pages/4_cell.py", "cell", "Cell lab"),
    ("pages/5_explorer.py", "explorer", "nn.LSTM explorer"),
    ("pages/6_tagger.py", "tagger", "Tagger"),
    ("pages/7_sentiment.py", "sentiment", "Sentiment"),
    ("pages/8_runs.py", "runs", "Runs"),
    ("pages/9_compare.py", "compare", "Compare"),
]


def page_setup(title: str, icon: str = "🧠") -> None:
    """Page config and the shared sidebar; call first on every page."""
    st.set_page_config(page_title=f"{title} · LSTM Lab", page_icon=icon, layout="wide")
    configure_torch_threads()
    # The web process runs small models a step at a time (sampling, demos, traces); trainings run in
    # workers. oneDNN's RNN primitive opens a parallel region per call, which costs more than such a
    # step: plain kernels sample the pretrained model about 1.4x as fast here, with the same numbers.
    torch.backends.mkldnn.enabled = False
    _warm_torch()
    with st.sidebar:
        try:
            for script, _path, label in PAGES:
                st.page_link(script, label=label)
            if "lesson_step" in st.session_state and title != "Lesson":  # a student left the lesson for a view
                step = st.session_state["lesson_step"] + 1
                st.page_link("pages/0_lesson.py", label=f"Back to the lesson, step {step}", icon=":material/school:")
        except StreamlitPageNotFoundError:
            pass  # a page run on its own (AppTest.from_file) knows no other pages
        st.divider()
        remember_owner()  # a shared server knows this browser's runs after a reload


COMPONENT_DIR = Path(__file__).resolve().parent / "components"


def component_file(name: str, suffix: str) -> str:
    """A component's own file, ``lab_ui/components/<name>.<suffix>`` (its "js", "css" or "html")."""
    return (COMPONENT_DIR / f"{name}.{suffix}").read_text(encoding="utf-8")


TEXT_BOX_STYLE = ("white-space:pre-wrap;word-break:break-word;font-family:'Source Code Pro',monospace;font-size:14px;"
                  "line-height:1.6;color:#31333f;background:#f0f2f6;border-radius:0.5rem;padding:0.8rem 1rem;margin:0")


def folded(label: str, key: str, draw, *args) -> None:
    """A section drawn only while its expander is open: a page load sends none of it (on /gates the saturation
    scatter, the training movie and the interventions together were a fifth of what the page cost the
    browser to open), opening it reruns this section alone, and the link keeps it open (``?key=true``)."""
    st.fragment(_folded_body, key=f"folded_{key}")(label, key, draw, *args)


def _folded_body(label: str, key: str, draw, *args) -> None:
    box = st.expander(label, key=key, on_change="rerun", bind="query-params")
    if box.open:
        with box:
            draw(*args)


def show_text(text: str, container=None) -> None:
    """Text a model wrote, in a grey monospace box as ``st.code`` draws it, without ``st.code``'s cost: its
    syntax highlighter takes the browser 0.4 s to set up on every page load that shows one (most of what
    /generate's load cost beyond a minimal page's)."""
    (container or st).html(text_box_html(text))


def text_box_html(text: str) -> str:
    """HTML of :func:`show_text`'s box (the text escaped)."""
    return f'<pre class="text-box" style="{TEXT_BOX_STYLE}">{html.escape(text)}</pre>'


TABLE_ROW_PX = 35  # st.table's row height, header included, at the app's font size
BAR_COLOUR = "#cfe0f5"  # a share's bar under its number: the app's light blue


def show_table(frame: pd.DataFrame, formats: dict[str, str] | None = None, bars: tuple[str, ...] = (),
               rows_shown: int = 15, container=None) -> None:
    """``frame`` as a static table (``st.table``): a data grid (``st.dataframe``) costs the browser 0.3–0.5 s more on
    every page load, most of a page's budget. ``formats`` maps a column to its format ("{:.3f}"; a missing value
    shows as –); each column in ``bars`` (shares from 0 to 1) gets a bar under its number, as a progress column
    draws it. Past ``rows_shown`` rows the table scrolls."""
    styler = frame.style.format(formats or {}, na_rep="–").hide(axis="index")
    for column in bars:
        styler = styler.bar(subset=[column], vmin=0.0, vmax=1.0, color=BAR_COLOUR, height=70, width=100)
    height = TABLE_ROW_PX * (rows_shown + 1) if len(frame) > rows_shown else "content"
    (container or st).table(styler, hide_index=True, height=height)


CAPTION_INK = "rgba(49,51,63,0.6)"  # Streamlit's caption and table-header grey, for HTML the app draws itself
TABLE_CSS = ("<style>.lab-table{border-collapse:collapse;width:100%;font-size:14px;color:#31333f;margin-bottom:1rem}"
             ".lab-table th,.lab-table td{border:1px solid rgba(49,51,63,0.1);padding:0.25rem 0.375rem;"
             f"text-align:left;line-height:1.6}}.lab-table th{{color:{CAPTION_INK};font-weight:400}}"
             ".lab-table td.number{text-align:right}</style>")


def table_html(frame: pd.DataFrame) -> str:
    """``frame`` as a plain HTML table (``st.table``'s look, its index left out), for ``show_html``: one element,
    where ``st.table`` draws every cell as Markdown (a 9-row ranking was 36 of /gates' 108 Markdown renders).
    :func:`show_table` stays ``st.table`` for the tables that need its number formats, bars and scrolling."""
    def cell(value) -> str:
        number = isinstance(value, numbers.Number) and not isinstance(value, bool)
        return f'<td class="number">{value}</td>' if number else f"<td>{html.escape(str(value))}</td>"
    head = "".join(f"<th>{html.escape(str(column))}</th>" for column in frame.columns)
    rows = "".join("<tr>" + "".join(cell(value) for value in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f'{TABLE_CSS}<table class="lab-table"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def page_link(view: str, label: str, icon: str | None = None, container=None) -> None:
    """A link to one of the app's pages with its settings, written as the page's URL
    ("/gates?run=pretrained"); a plain link where the page runs on its own (AppTest knows no other pages)."""
    target = urlsplit(view)
    script = next(script for script, path, _ in PAGES if path == target.path.strip("/"))
    where = container or st
    try:
        where.page_link(script, label=label, icon=icon, query_params=dict(parse_qsl(target.query)))
    except StreamlitPageNotFoundError:
        where.markdown(f"[{label}]({view})")


@st.cache_resource(show_spinner=False)
def _warm_torch() -> threading.Thread:
    """Load ``torch._dynamo`` once per server, in the background: PyTorch's optimizers import it when the
    first training is built (2 to 6 s), which the first Start click would otherwise wait for."""
    thread = threading.Thread(target=importlib.import_module, args=("torch._dynamo",), name="lstm-lab-warm-torch",
                              daemon=True)
    thread.start()
    return thread


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


@st.cache_resource(max_entries=8, show_spinner=False)
def load_run_cached(path: str, stamp: float) -> lstm_core.Run:
    """A run loaded once per server (and again when its weights change: ``stamp``); shared, read-only."""
    return lstm_core.load_run(path)


def cached_run(run_id: str) -> lstm_core.Run:
    """A loaded run, reloaded when its weights change on disk."""
    path = run_path(run_id)
    return load_run_cached(str(path), weights_stamp(path))


def weights_stamp(path: Path) -> float:
    """When a run's weights last changed (0 when it has none yet): a cache key that follows training."""
    weights = path / WEIGHTS_FILE
    return weights.stat().st_mtime if weights.exists() else 0.0


def run_choices(kind: str = "char", architectures: tuple[str, ...] = ("lstm",)) -> dict[str, str]:
    """{run id: label} of the saved runs of ``kind`` that have weights, newest first; for character
    models the shipped pretrained model comes first. Character runs are limited to ``architectures``
    (LSTMs by default: the pages that open a model's gates read an LSTM's; a page that reads a GRU's or
    an RNN's too passes ("lstm", "gru", "rnn"))."""
    choices = {PRETRAINED_ID: "Pretrained Molière model (shipped)"} if kind == "char" else {}
    store = run_store()
    runs = store.list()
    for row in runs[runs["kind"] == kind].itertuples():
        if (store.root / row.id / WEIGHTS_FILE).exists():
            if kind == "char":
                architecture = run_architecture(store.root / row.id)
                if architecture not in architectures:
                    continue
                detail = f", valid {row.best_valid_loss:.2f}" if pd.notna(row.best_valid_loss) else ""
                if len(architectures) > 1:  # a picker of several architectures says which each run is
                    detail = f", {ARCHITECTURE_NAMES.get(architecture, architecture)}{detail}"
            else:
                detail = f", {row.summary}" if row.summary else ""
            choices[row.id] = f"{row.name} ({row.status}{detail})"
    return choices


_architectures: dict[str, str] = {}  # run folder -> its architecture (it never changes)


def run_architecture(path: Path) -> str:
    """A run's architecture from its config.json ("lstm" for runs saved before there was a choice)."""
    key = str(path)
    if key not in _architectures:
        try:
            model = json.loads((path / "config.json").read_text(encoding="utf-8")).get("model", {})
            _architectures[key] = model.get("architecture", "lstm")
        except (OSError, ValueError, AttributeError):
            return "lstm"
    return _architectures[key]


def pick_run(kind: str = "char", label: str = "Model", key: str = "selected_run", container=None,
             follow: str | None = None, architectures: tuple[str, ...] = ("lstm",)) -> tuple[str, lstm_core.Run] | None:
    """A picker of the saved runs of ``kind``, kept in the link as ``run``; returns (id, loaded run),
    or None when there is none yet.

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
            st.warning(f"The link's run {linked!r} {_not_offered(linked, kind, architectures)}: "
                       f"{choices[st.session_state[key]]} is shown instead.")
    run_id = (container or st).selectbox(label, ids, format_func=choices.get, key=key)
    st.session_state[remembered] = run_id
    set_query(run=run_id)
    try:
        return run_id, cached_run(run_id)
    except lstm_core.RunError as err:
        st.error(f"This run cannot be opened: {err}")
        st.stop()


def _not_offered(run_id: str, kind: str, architectures: tuple[str, ...]) -> str:
    """Why a run named by a link is not among a picker's choices, in words."""
    path = run_store().root / run_id
    if not run_id or "/" in run_id or run_id.startswith(".") or not (path / WEIGHTS_FILE).exists():
        return "has no saved model on this server"
    if kind == "char":
        architecture = run_architecture(path)
        if architecture not in architectures:
            readable = " or ".join(ARCHITECTURE_NAMES.get(a, a) for a in architectures)
            return (f"is a {ARCHITECTURE_NAMES.get(architecture, architecture)}, and this page reads {readable} models "
                    "only (the Gates & states page shows every architecture)")
    return "is not a model this page can open"


def selected_run(label: str = "Model", architectures: tuple[str, ...] = ("lstm",)) -> tuple[str, lstm_core.Run]:
    """The sidebar's picker of character models (the shipped one is always there), LSTMs unless
    ``architectures`` names more."""
    return pick_run("char", label, container=st.sidebar, architectures=architectures)


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
    """Write view settings into the query string so that a copied link reproduces the view.

    The settings one call sets go to the browser as one message: each message is a history update there,
    and a page that set its dozen settings one by one spent 40 ms of its first load on them."""
    changed = {}
    for name, value in values.items():
        text = None if value is None else str(value)
        if st.query_params.get(name) == text:
            continue
        if text is None:
            del st.query_params[name]  # rare: a view that drops a setting (one message each)
        else:
            changed[name] = text
    if changed:
        st.query_params.update(changed)
