"""The /compare page's views: several trainings side by side, live, and what they learnt, overlaid.

    shown_comparison(store, link ids)  what the page shows: this session's live comparison, the saved one a link
                                       names (``?runs=id1,id2,id3``), or the finished one shipped with the app
    start_comparison(setup)            one BackgroundTrainer per contender, in slots compare_0, compare_1...;
                                       their runs record the comparison (lstm_core.compare_runs), the link their ids
    stop_comparison()                  stop them all (each run is saved)
    live_comparison(shown)             the polling fragment: a column per model (status, figures, sample),
                                       the losses overlaid with the n-gram's line, recall on the memory task
    gradient_section(), states_section()   drawn on demand from each model's checkpoint, as each training ends

The trainings run through the Train page's machinery (:mod:`lab_ui.live_training`, one slot per model); a
closed tab stops every contender (each saved as it stands), so they all end the same way. This module only
reads their snapshots and run folders. Every number comes from the models: the curves from their metrics
(live, or their runs' metrics.csv), the reference line from :meth:`lstm_core.compare.CompareSetup.reference`,
the gradients from :func:`lstm_core.gradients.gradient_flow`, the states from :func:`lstm_core.trace`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lab_ui.gate_views import token_axis
from lab_ui.live_training import clear_session_trainer, session_trainer, set_session_trainer
from lab_ui.query import set_query
from lab_ui.render.downloads import plotly_config
from lab_ui.render.palette import CHANCE_LINE, MARK, MARKER_GLYPHS, contender_colour, contender_marker
from lab_ui.html_view import show_html
from lab_ui.render.tables import table_html
from lab_ui.render.text_box import show_text
from lab_ui.render.training_figures import evaluations, figure_svg, marked, thin
from lab_ui.run_picker import folder_key, load_run_cached
from lab_ui.sharing import check_training_allowance, count_training
from lstm_core.analysis import unit_order
from lstm_core.compare import CompareSetup, Contender
from lstm_core.compare_runs import comparison_of_ids, mark_comparison, shipped_comparison
from lstm_core.execution.background import BackgroundTrainer
from lstm_core.execution.compute_once import ComputeOnce
from lstm_core.gates import LABELS, colour_range
from lstm_core.gradients import flow_table, gradient_flow
from lstm_core.readable import share
from lstm_core.runs import METRICS_FILE, RunError, read_config, read_metrics, read_status
from lstm_core.trace import trace

SLOTS = ("compare_0", "compare_1", "compare_2", "compare_3")
POLL_SECONDS = 0.5
STARTED = "compare_started"  # session key: the setup (as a dict) of the comparison now in the slots
SHOWN = "compare_shown"  # session key: the comparison the page shows (a Shown)
ACTIVE = ("queued", "running")


@dataclass(frozen=True)
class Shown:
    """The comparison the page shows: trained in this session's slots ("live"), or read from its runs on disk
    ("saved": a link's ``runs``; "shipped": the one the app ships, data/pretrained/compare-memory-50)."""

    setup: CompareSetup
    contenders: tuple  # of Contender, in the slots' order
    runs: dict  # {label: run folder}
    source: str

    @property
    def live(self) -> bool:
        return self.source == "live"

    @property
    def ids(self) -> list[str]:
        return [Path(path).name for path in self.runs.values()]


# -- starting and stopping ------------------------------------------------------------------
def start_comparison(setup: CompareSetup, store) -> str | None:
    """Train every contender of ``setup`` in its own slot; returns an error message for bad settings. Each run
    records the comparison, and the link gets their ids (a reload, or the link sent on, shows it again)."""
    try:
        check_training_allowance(replacing=tuple(filter(None, map(session_trainer, SLOTS))))  # counts once
        trainings = setup.trainings(store)
    except ValueError as err:
        return str(err)
    mark_comparison(setup, [training.run_dir for training in trainings])
    stop_comparison()
    for slot, training in zip(SLOTS, trainings):
        trainer = BackgroundTrainer(training)
        set_session_trainer(slot, trainer, on_close="stop")  # a previous trainer in the slot is stopped first
        trainer.start()
    for slot in SLOTS[len(trainings):]:
        clear_session_trainer(slot)  # a larger comparison's last contenders
    count_training([session_trainer(slot) for slot in SLOTS[:len(trainings)]])
    st.session_state[STARTED] = setup.to_dict()
    for slot in SLOTS:
        st.session_state.pop(f"{slot}_rows", None)
    set_query(runs=",".join(training.run_dir.name for training in trainings))
    return None


def stop_comparison() -> None:
    for slot in SLOTS:
        trainer = session_trainer(slot)
        if trainer is not None and trainer.snapshot(since=1 << 62).status in ("queued", "running", "paused"):
            trainer.stop(wait=True)


def started_setup() -> CompareSetup | None:
    """The comparison this session started (its settings when it started), or None."""
    saved = st.session_state.get(STARTED)
    return CompareSetup(**saved) if saved else None


def running() -> bool:
    return any(_status(slot) in ACTIVE for slot in SLOTS)


def _status(slot: str) -> str:
    trainer = session_trainer(slot)
    return trainer.snapshot(since=1 << 62).status if trainer is not None else "none"


def _live_runs(setup: CompareSetup) -> dict:
    """{label: run folder} of this session's contenders of ``setup``; empty when its slots hold none."""
    runs = {}
    for slot, contender in zip(SLOTS, setup.contenders):
        trainer = session_trainer(slot)
        if trainer is None or trainer.training.run_dir is None:
            return {}
        runs[contender.label] = Path(trainer.training.run_dir)
    return runs


# -- what the page shows ------------------------------------------------------------------------
def shown_comparison(store, link_ids: list[str]) -> tuple[Shown | None, str | None]:
    """The comparison to show, and why the link's could not be shown (or None): this session's own, while the
    link names its runs (or none); else the saved one the link names; else the one shipped with the app."""
    started, problem, shown = started_setup(), None, None
    live = _live_runs(started) if started is not None else {}
    if live and (not link_ids or link_ids == [path.name for path in live.values()]):
        shown = Shown(started, started.contenders, live, "live")
    elif link_ids:
        try:
            saved = comparison_of_ids(store, link_ids)
            shown = Shown(saved.setup, saved.contenders, saved.runs, "saved")
        except RunError as err:
            problem = f"The comparison in this link cannot be shown: {err}"
    if shown is None:
        try:
            saved = shipped_comparison()
            shown = Shown(saved.setup, saved.contenders, saved.runs, "shipped")
        except RunError as err:
            problem = problem or str(err)
    st.session_state[SHOWN] = shown
    return shown, problem


def _ended_labels(shown: Shown) -> frozenset:
    """The contenders whose training has ended (all of them, for a comparison read from disk)."""
    if not shown.live:
        return frozenset(shown.runs)
    return frozenset(c.label for slot, c in zip(SLOTS, shown.contenders) if _status(slot) not in ACTIVE)


def _frame(slot: str) -> pd.DataFrame:
    """The slot's metric rows so far; the newest one is re-read (an evaluation may still fill it)."""
    rows = st.session_state.setdefault(f"{slot}_rows", [])
    trainer = session_trainer(slot)
    fresh = trainer.snapshot(since=max(0, len(rows) - 1)).metrics
    if fresh:
        del rows[max(0, len(rows) - 1):]
        rows.extend(dict(row) for row in fresh)
    return pd.DataFrame(rows)


@st.cache_data(max_entries=32, show_spinner=False)
def _saved_frame(folder: str, stamp: float) -> pd.DataFrame:
    """A saved run's metric rows (``stamp``: its metrics file's time, so a rewritten file is read again)."""
    return read_metrics(Path(folder))


def _metrics_stamp(folder: Path) -> float:
    file = folder / METRICS_FILE
    return file.stat().st_mtime if file.is_file() else 0.0


@dataclass(frozen=True)
class Card:
    """What a model's column says: its size, and where its training stands."""

    hidden_size: int
    parameters: int
    status: str
    step: int
    total_steps: int
    message: str = ""
    sample: str | None = None


def _live_card(slot: str) -> Card:
    trainer = session_trainer(slot)
    snapshot, training = trainer.snapshot(since=1 << 62), trainer.training
    return Card(training.model.config.hidden_size, sum(p.numel() for p in training.model.parameters()),
                snapshot.status, snapshot.step, training.total_steps, snapshot.message,
                snapshot.samples[-1]["text"] if snapshot.samples else None)


def _saved_card(folder: Path, frame: pd.DataFrame, setup: CompareSetup) -> Card:
    config = read_config(folder)
    step = int(frame["step"].max()) if "step" in frame and frame["step"].notna().any() else 0
    return Card(int(config["model"]["hidden_size"]), int(config["parameters"]), read_status(folder), step, setup.steps)


# -- the n-gram lines, computed in the background so a page never waits for one ----------------
@st.cache_resource
def _references() -> ComputeOnce:
    """The n-gram's loss per (task, delay), computed once per server."""
    return ComputeOnce(16, thread_name="lstm-lab-ngram")


def reference_value(setup: CompareSetup) -> float | None:
    """The n-gram's loss for ``setup``'s task once computed, else None (its computing starts; one that
    failed is not tried again)."""
    references, delay = _references(), setup.delay if setup.task == "memory" else 0
    key = (setup.task, delay)
    if references.error(key) is None:
        references.start(key, CompareSetup(task=setup.task, delay=delay).reference)
    return references.get(key)


def reference_pending(setup: CompareSetup) -> bool:
    """Whether ``setup``'s n-gram line is still being computed (not ready, and not failed)."""
    key = (setup.task, setup.delay if setup.task == "memory" else 0)
    return reference_value(setup) is None and _references().error(key) is None


# -- figures ----------------------------------------------------------------------------------
def _level(value: float, x_max: float, name: str, colour: str, dash: str) -> dict:
    return dict(type="scatter", x=[0, max(x_max, 1)], y=[value, value], mode="lines", name=name,
                line=dict(color=colour, dash=dash, width=1.5), hoverinfo="name+y")


def loss_overlay(frames: dict, contenders: dict, reference: float | None, chance: float | None,
                 y_title: str, height: int = 380) -> dict:
    """Training loss (thin) and validation loss (markers) of each model against the step, with the
    n-gram's loss and chance as flat reference lines."""
    traces, x_max = [], 1
    for label, frame in frames.items():
        if frame.empty or "step" not in frame:
            continue
        colour, marker = contender_colour(contenders[label]), contender_marker(contenders[label])
        x_max = max(x_max, float(frame["step"].max()))
        thinned = thin(frame, ["train_loss"], "step")
        traces.append(dict(type="scatter", x=np.asarray(thinned["step"]), y=np.asarray(thinned["train_loss"]),
                           name=f"{label} · train", opacity=0.45, line=dict(color=colour, width=1), **marked(marker)))
        measured = evaluations(frame, "valid_loss", "step")
        if len(measured):
            traces.append(dict(type="scatter", x=np.asarray(measured["step"]), y=np.asarray(measured["valid_loss"]),
                               name=f"{label} · validation", line=dict(color=colour, width=2.5),
                               **marked(marker, every_point=True)))
    if reference is not None:
        traces.append(_level(reference, x_max, f"n-gram (order 6) · {reference:.3f}", MARK, "dash"))
    if chance is not None:
        traces.append(_level(chance, x_max, f"chance (1 in 8) · {chance:.3f}", CHANCE_LINE, "dot"))
    return dict(data=traces, layout=_layout("Step", y_title, height))


def accuracy_overlay(frames: dict, contenders: dict, chance: float, height: int = 300) -> dict:
    """Recall accuracy on the validation sequences against the step; chance is 1 in 8."""
    traces, x_max = [], 1
    for label, frame in frames.items():
        measured = evaluations(frame, "valid_accuracy", "step")
        if len(measured):
            x_max = max(x_max, float(measured["step"].max()))
            traces.append(dict(type="scatter", x=np.asarray(measured["step"]), y=np.asarray(measured["valid_accuracy"]),
                               name=label, line=dict(color=contender_colour(contenders[label]), width=2.5),
                               **marked(contender_marker(contenders[label]), every_point=True)))
    traces.append(_level(chance, x_max, "chance (1 in 8)", CHANCE_LINE, "dot"))
    layout = _layout("Step", "Recall accuracy", height)
    layout["yaxis"].update(tickformat=".0%", range=[0, 1.02])
    return dict(data=traces, layout=layout)


def _layout(x_title: str, y_title: str, height: int) -> dict:
    return dict(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified", uirevision="keep",
                legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                xaxis=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text=y_title)))


def gradient_figure(flows: dict, contenders: dict, height: int = 380, untrained: dict | None = None) -> go.Figure:
    """Mean ||dL_t/dh_(t-k)|| (solid) and, for LSTMs, ||dL_t/dc_(t-k)|| (dashed) against the lag, log scale;
    with ``untrained``, the same models before training as thinner dotted (h) and dash-dotted (c) lines."""
    figure = go.Figure()
    for flows_of, start, dashes, width, size in ((untrained or {}, " · untrained", ("dot", "dashdot"), 1.5, 6),
                                                 (flows, "", (None, "dash"), 2, 8)):
        for label, flow in flows_of.items():
            colour, marker = contender_colour(contenders[label]), contender_marker(contenders[label])
            cell = None if flow.cell is None else flow.cell[0]
            for values, what, dash in ((flow.hidden[0], "h", dashes[0]), (cell, "c", dashes[1])):
                if values is None:
                    continue
                shown = np.where(values > 0, values, np.nan)  # 0 (nothing reaches back) has no place on a log scale
                figure.add_trace(go.Scatter(x=flow.lags, y=shown, name=f"{label}{start} · ∂L/∂{what}",
                                            line=dict(color=colour, dash=dash, width=width), **marked(marker, size=size),
                                            hovertemplate="lag %{x}: %{y:.2e}<extra>" + f"{label}{start} · {what}</extra>"))
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                         legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                         xaxis_title="Lag k (steps back from t)", yaxis_title="Mean gradient norm",
                         yaxis=dict(type="log", exponentformat="e"))
    return figure


def state_heatmaps(traces: dict, contenders: dict, memory: bool, top: int = 16) -> go.Figure:
    """Each model's memory on the same text, one row per model, time shared (zoom one, all follow):
    an LSTM's cell state c, a GRU's or an RNN's hidden state h (or every model's h when ``memory`` is False).
    The ``top`` units with the largest variance over the text are shown."""
    labels = list(traces)
    first = traces[labels[0]]
    categories, tick_values, tick_texts = token_axis(first.chars)
    titles = []
    for label in labels:
        quantity = _shown_quantity(traces[label], memory)
        titles.append(f"{label} · {LABELS[quantity]}")
    figure = make_subplots(rows=len(labels), cols=1, shared_xaxes=True, vertical_spacing=0.08, subplot_titles=titles)
    for row, label in enumerate(labels, start=1):
        tr = traces[label]
        quantity = _shown_quantity(tr, memory)
        values = tr[quantity][0]  # (time, units), the first layer
        units = unit_order(values, "variance")[:top]
        low, high = colour_range(quantity, values[:, units])
        figure.add_trace(go.Heatmap(
            z=np.round(values[:, units].T, 3), x=categories, y=[f"unit {u}" for u in units], zmin=low, zmax=high,
            colorscale="RdBu_r", coloraxis=f"coloraxis{row}",
            hovertemplate="step %{x}<br>%{y}<br>%{z:.3f}<extra>" + label + "</extra>"), row=row, col=1)
        figure.update_layout(**{f"coloraxis{row}": dict(
            colorscale="RdBu_r", cmin=low, cmax=high,
            colorbar=dict(title=dict(text=LABELS[quantity].split()[-1], side="right"), thickness=10,
                          len=0.9 / len(labels), y=1 - (row - 0.5) / len(labels), yanchor="middle"))})
        figure.update_yaxes(type="category", autorange="reversed", tickfont={"size": 8}, row=row, col=1)
    figure.update_xaxes(type="category", tickmode="array", tickvals=tick_values, ticktext=tick_texts, tickangle=0,
                        tickfont={"size": 10, "family": "monospace"})
    figure.update_layout(height=60 + 14 * top * len(labels), margin=dict(l=10, r=10, t=40, b=10))
    return figure


def _shown_quantity(tr, memory: bool) -> str:
    return tr.arch.memory_state if memory else "hidden_state"


# -- the live view ------------------------------------------------------------------------------
def live_comparison(shown: Shown | None) -> None:
    """A column per model (status, figures, latest sample) and the losses overlaid: redrawn every half second
    while any of them trains (each model's curves as it goes), drawn once from its runs for a saved comparison."""
    if shown is None:
        st.caption("No comparison in this session yet: choose one above and start it.")
        return
    if shown.source == "shipped":
        seconds = sum(float(_saved_frame(str(p), _metrics_stamp(p))["seconds"].max()) for p in shown.runs.values())
        st.info(f"**A finished comparison, shipped with the app:** {' vs '.join(c.label for c in shown.contenders)} "
                f"on the memory task at delay {shown.setup.delay}, {shown.setup.steps:,} steps each, trained by this "
                f"project's own code in {seconds:,.0f} s of training (`python -m lstm_core compare` rebuilds it). "
                "Press the button above to train it yourself and watch it learn.")
    elif shown.source == "saved":
        st.caption(f"A saved comparison, read from its runs ({', '.join(shown.ids)}): its link shows it again.")
    polling = shown.live and running()
    ended, pending = _ended_labels(shown), reference_pending(shown.setup)
    st.fragment(run_every=POLL_SECONDS if polling or pending else None)(_live_body)(shown, polling, ended, pending)


def _live_body(shown: Shown, polling: bool, ended: frozenset, pending: bool = False) -> None:
    if polling and (not running() or _ended_labels(shown) != ended):
        st.rerun()  # a training ended: redraw the page, so that the sections below use its final weights
    if pending and not polling and not reference_pending(shown.setup):
        st.rerun()  # the n-gram's line is ready: draw it once, and stop polling
    setup = shown.setup
    contenders = {c.label: c for c in shown.contenders}
    frames = {}
    for column, (slot, contender) in zip(st.columns(len(contenders)), zip(SLOTS, shown.contenders)):
        if shown.live:
            frame = _frame(slot)
            card = _live_card(slot)
        else:
            folder = Path(shown.runs[contender.label])
            frame = _saved_frame(str(folder), _metrics_stamp(folder))
            card = _saved_card(folder, frame, setup)
        frames[contender.label] = frame
        with column:
            _model_card(contender, card, frame)
    memory = setup.task == "memory"
    reference = reference_value(setup)
    chance = setup.chance()
    st.markdown("**Loss on the same data**" + (" (at the answer after the cue)" if memory else ""))
    if memory:
        st.caption("How to read this: lower is better; thin lines are training batches, dots are validation. Dotted: "
                   "guessing one of 8 symbols (2.08 nats). Dashed: an order-6 n-gram counted on the same kind of "
                   "sequences; it sees only the last 5 characters, so it cannot bridge the delay (it scores worse than "
                   "guessing, as it trusts contexts it saw once).")
    else:
        st.caption("How to read this: lower is better; thin lines are training batches, dots are validation. Dashed: an "
                   "order-6 n-gram on the same split; a model above it has not yet learnt more than local spelling.")
    if reference is None:
        st.caption("The n-gram's line is being computed…")
    hover = not polling  # a chart redrawn twice a second would drop its hover label at each redraw
    st.html(figure_svg(loss_overlay(frames, contenders, reference, chance,
                                    "Loss at the answer (nats)" if memory else "Loss (nats per character)"),
                       "compare-loss", hover=hover))
    if memory:
        st.markdown("**Recall on 1,000 validation sequences**")
        st.caption(f"How to read this: the share of sequences where the model's likeliest answer after the cue is the "
                   f"symbol it saw {setup.delay + 1} steps earlier; 12.5 % is guessing.")
        st.html(figure_svg(accuracy_overlay(frames, contenders, 1 / 8), "compare-accuracy", hover=hover))


def _model_card(contender: Contender, card: Card, frame: pd.DataFrame) -> None:
    """One model's column: its name in its colour, status, size, progress and latest figures, and sample."""
    glyph = MARKER_GLYPHS[contender_marker(contender)]  # its colour and its shape, as in the charts
    st.markdown(f'<span style="color:{contender_colour(contender)};font-size:1.15em">{glyph}</span> **{contender.label}**',
                unsafe_allow_html=True)
    words = {"queued": "waiting for a free core", "running": "training", "finished": "finished",
             "stopped": "stopped", "paused": "paused", "diverged": "diverged", "failed": "failed"}
    st.caption(f"{card.hidden_size} units · {card.parameters:,} parameters · {words.get(card.status, card.status)}"
               f" · step {card.step:,} of {card.total_steps:,}")
    if card.status in ("diverged", "failed") and card.message:
        st.error(card.message)
    valid = evaluations(frame, "valid_loss", "step")
    figures = []
    if len(valid):
        figures.append(("validation loss", f"{valid['valid_loss'].iloc[-1]:.3f}"))
    accuracy = evaluations(frame, "valid_accuracy", "step")
    if len(accuracy):
        figures.append(("recall", f"{accuracy['valid_accuracy'].iloc[-1]:.1%}"))
    for column, (label, value) in zip(st.columns(max(1, len(figures))), figures):
        column.metric(label, value)
    if card.sample:
        show_text(card.sample[:240])


# -- measured on demand from the latest checkpoints -------------------------------------------
def checkpoints(setup: CompareSetup) -> dict:
    """{label: run key (folder, weights stamp)} of the shown comparison's contenders of ``setup`` that have saved
    weights and whose training has ended (while the others train, each model appears as it ends)."""
    shown, found = st.session_state.get(SHOWN), {}
    if shown is None:
        return found
    ended, labels = _ended_labels(shown), {c.label for c in setup.contenders}
    for label, folder in shown.runs.items():
        key = folder_key(Path(folder))
        if label in ended and label in labels and key[1] > 0:
            found[label] = key
    return found


@st.cache_data(max_entries=24, show_spinner=False)
def _flow(key: tuple[str, float], text: str, max_lag: int, positions):
    run = load_run_cached(*key)
    return gradient_flow(run.model, run.vocab, text, max_lag=max_lag, positions=positions)


@st.cache_data(max_entries=24, show_spinner=False)
def _trace(key: tuple[str, float], text: str):
    run = load_run_cached(*key)
    return trace(run.model, run.vocab, text)


@st.cache_data(max_entries=16, show_spinner=False)
def _flow_probe(task: str, delay: int, seed: int, max_lag: int, positions: int):
    return CompareSetup(task=task, delay=delay, seed=seed).flow_probe(max_lag, positions)


@st.cache_data(max_entries=16, show_spinner=False)
def _probe_text(task: str, delay: int, seed: int) -> str:
    return CompareSetup(task=task, delay=delay, seed=seed).probe_text()


@st.cache_data(max_entries=16, show_spinner=False)
def _untrained_flows(setup: dict, text: str, max_lag: int, positions) -> dict:
    """{label: GradientFlow} of the models ``setup`` (a CompareSetup as a dict) starts training from."""
    built = CompareSetup(**setup)
    flows = {}
    for contender in built.contenders:
        model, vocab = built.untrained_model(contender)
        flows[contender.label] = gradient_flow(model, vocab, text, max_lag=max_lag, positions=positions)
    return flows


def gradient_section(setup: CompareSetup, max_lag: int, positions: int = 16, trained: bool = True,
                     prefix: str = "compare") -> None:
    """The gradient flow of the models before training (always) and of the shown comparison's latest checkpoints
    (once saved; ``trained``: the comparison shown is ``setup``'s): one chart with both, and each as a table of the
    figures the lesson quotes (lstm_core.gradients.flow_table)."""
    found = checkpoints(setup) if trained else {}
    contenders = {c.label: c for c in setup.contenders}
    text, where, max_lag = _flow_probe(setup.task, setup.delay, setup.seed, max_lag, positions)
    with st.spinner("Backpropagating through time…"):
        untrained = _untrained_flows(setup.to_dict(), text, max_lag, where)
        flows = {label: _flow(key, text, max_lag, where) for label, key in found.items()}
    at_what = ("the answer after each cue, back to the symbol" if setup.task == "memory" else "the next character")
    st.caption(f"How to read this: how strongly the loss at step t ({at_what}) still reacts to the state k steps "
               f"earlier, averaged over {positions} positions (log scale: each grid line is 10× less). A line that "
               "falls steeply means the model cannot learn from what lies that far back: the vanishing gradient. "
               "Thin dotted lines: the same models untrained, as every training starts"
               + ("; solid: their latest checkpoints." if flows else "; train them to see where they end."))
    st.plotly_chart(gradient_figure(flows, contenders, untrained=untrained), key=f"{prefix}_gradients",
                    config=plotly_config("gradient-flow"))
    gradient_tables(setup, untrained, flows, setup.delay if setup.task == "memory" else min(50, max_lag), prefix)


def gradient_tables(setup: CompareSetup, untrained: dict, trained: dict, lag: int, prefix: str = "compare") -> None:
    """The chart's figures at the answer, 2 and ``lag`` steps back (on the memory task, its delay), before and
    after training."""
    against = next((label for label, flow in untrained.items() if flow.architecture == "rnn"), None)
    sizes = _parameter_counts(setup.to_dict())
    for flows, name, title in ((untrained, "untrained", "Untrained, as every training starts"),
                               (trained, "trained", "Trained (latest checkpoints)")):
        if flows:
            table = flow_table(flows, lag, against=against if against in flows else None)
            table.insert(1, "parameters", [f"{sizes[label]:,}" for label in table["model"]])
            st.markdown(f"**{title}**")
            show_html(table_html(table), key=f"{prefix}_gradient_table_{name}")


@st.cache_data(max_entries=16, show_spinner=False)
def _parameter_counts(setup: dict) -> dict:
    built = CompareSetup(**setup)
    return {c.label: sum(p.numel() for p in built.untrained_model(c)[0].parameters()) for c in built.contenders}


def forget_bias_note(forget_bias: float) -> str:
    """What the LSTM's starting forget-gate bias means, computed: it is this lab's choice, not PyTorch's."""
    keeps = 1 / (1 + np.exp(-forget_bias))
    return (f"The LSTMs start with a forget-gate bias of {forget_bias:g}, not PyTorch's default (biases drawn near 0, "
            f"which keeps about half of the cell per step): σ({forget_bias:g}) keeps {share(keeps)} of the cell per step.")


def states_section(setup: CompareSetup, memory_view: bool, top: int) -> None:
    found = checkpoints(setup)
    if not found:
        st.caption("The states appear once the models have saved their first checkpoint.")
        return
    contenders = {c.label: c for c in setup.contenders}
    text = _probe_text(setup.task, setup.delay, setup.seed)
    traces = {label: _trace(key, text) for label, key in found.items()}
    st.caption("How to read this: time runs left to right over the same text for every model (zoom one row and all "
               "follow); each row is a unit, red positive, blue negative, white 0. "
               + ("A unit that keeps one colour from the first symbol to the cue is holding it in memory."
                  if setup.task == "memory" else "Units that change colour at spaces, line ends or names track them."))
    st.plotly_chart(state_heatmaps(traces, contenders, memory_view, top), key="compare_states",
                    config=plotly_config("compare-states"))

