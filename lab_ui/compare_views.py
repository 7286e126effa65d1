"""The /compare page's views: several trainings side by side, live, and what they learnt, overlaid.

    start_comparison(setup)            one BackgroundTrainer per contender, in slots compare_0, compare_1...
    stop_comparison()                  stop them all (each run is saved)
    live_comparison()                  the polling fragment: a column per model (status, figures, sample),
                                       the losses overlaid with the n-gram's line, recall on the memory task
    gradient_section(), states_section()   drawn on demand from each model's latest checkpoint

The trainings run through the Train page's machinery (:mod:`lab_ui.live_training`, one slot per model);
this module only reads their snapshots and run folders. Every number comes from the models: the curves
from their metrics, the reference line from :meth:`lstm_core.compare.CompareSetup.reference`, the
gradients from :func:`lstm_core.gradients.gradient_flow`, the states from :func:`lstm_core.trace`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lab_ui.gate_views import token_axis
from lab_ui.live_training import session_trainer, set_session_trainer
from lab_ui.render.palette import CHANCE_LINE, MARK, contender_colour
from lab_ui.render.text_box import show_text
from lab_ui.render.training_figures import evaluations, figure_svg, thin
from lab_ui.run_picker import folder_key, load_run_cached
from lab_ui.sharing import check_training_allowance, count_training
from lstm_core.analysis import unit_order
from lstm_core.compare import CompareSetup, Contender
from lstm_core.execution.background import BackgroundTrainer
from lstm_core.execution.compute_once import ComputeOnce
from lstm_core.gates import LABELS, colour_range
from lstm_core.gradients import gradient_flow
from lstm_core.trace import trace

SLOTS = ("compare_0", "compare_1", "compare_2", "compare_3")
POLL_SECONDS = 0.5
STARTED = "compare_started"  # session key: the setup (as a dict) of the comparison now in the slots
PLAIN = {"displayModeBar": False}


# -- starting and stopping ------------------------------------------------------------------
def start_comparison(setup: CompareSetup, store) -> str | None:
    """Train every contender of ``setup`` in its own slot; returns an error message for bad settings."""
    try:
        check_training_allowance(replacing=tuple(filter(None, map(session_trainer, SLOTS))))  # counts once
        trainings = setup.trainings(store)
    except ValueError as err:
        return str(err)
    stop_comparison()
    for slot, training in zip(SLOTS, trainings):
        trainer = BackgroundTrainer(training)
        set_session_trainer(slot, trainer)  # a previous trainer in the slot is stopped and saved first
        trainer.start()
    count_training([session_trainer(slot) for slot in SLOTS[:len(trainings)]])
    st.session_state[STARTED] = setup.to_dict()
    for slot in SLOTS:
        st.session_state.pop(f"{slot}_rows", None)
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
    return any(_status(slot) in ("queued", "running") for slot in SLOTS)


def _status(slot: str) -> str:
    trainer = session_trainer(slot)
    return trainer.snapshot(since=1 << 62).status if trainer is not None else "none"


def _frame(slot: str) -> pd.DataFrame:
    """The slot's metric rows so far; the newest one is re-read (an evaluation may still fill it)."""
    rows = st.session_state.setdefault(f"{slot}_rows", [])
    trainer = session_trainer(slot)
    fresh = trainer.snapshot(since=max(0, len(rows) - 1)).metrics
    if fresh:
        del rows[max(0, len(rows) - 1):]
        rows.extend(dict(row) for row in fresh)
    return pd.DataFrame(rows)


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
        colour = contender_colour(contenders[label])
        x_max = max(x_max, float(frame["step"].max()))
        thinned = thin(frame, ["train_loss"], "step")
        traces.append(dict(type="scatter", x=np.asarray(thinned["step"]), y=np.asarray(thinned["train_loss"]),
                           name=f"{label} · train", mode="lines", opacity=0.45, line=dict(color=colour, width=1)))
        measured = evaluations(frame, "valid_loss", "step")
        if len(measured):
            traces.append(dict(type="scatter", x=np.asarray(measured["step"]), y=np.asarray(measured["valid_loss"]),
                               name=f"{label} · validation", mode="lines+markers", marker=dict(size=6),
                               line=dict(color=colour, width=2.5)))
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
                               name=label, mode="lines+markers", marker=dict(size=6),
                               line=dict(color=contender_colour(contenders[label]), width=2.5)))
    traces.append(_level(chance, x_max, "chance (1 in 8)", CHANCE_LINE, "dot"))
    layout = _layout("Step", "Recall accuracy", height)
    layout["yaxis"].update(tickformat=".0%", range=[0, 1.02])
    return dict(data=traces, layout=layout)


def _layout(x_title: str, y_title: str, height: int) -> dict:
    return dict(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified", uirevision="keep",
                legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                xaxis=dict(title=dict(text=x_title)), yaxis=dict(title=dict(text=y_title)))


def gradient_figure(flows: dict, contenders: dict, height: int = 380) -> go.Figure:
    """Mean ||dL_t/dh_(t-k)|| (solid) and, for LSTMs, ||dL_t/dc_(t-k)|| (dashed) against the lag, log scale."""
    figure = go.Figure()
    for label, flow in flows.items():
        colour = contender_colour(contenders[label])
        for values, what, dash in ((flow.hidden[0], "h", None), (None if flow.cell is None else flow.cell[0], "c", "dash")):
            if values is None:
                continue
            shown = np.where(values > 0, values, np.nan)  # 0 (nothing reaches back) has no place on a log scale
            figure.add_trace(go.Scatter(x=flow.lags, y=shown, mode="lines", name=f"{label} · ∂L/∂{what}",
                                        line=dict(color=colour, dash=dash, width=2),
                                        hovertemplate="lag %{x}: %{y:.2e}<extra>" + f"{label} · {what}</extra>"))
    figure.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified",
                         legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                         xaxis_title="Lag k (steps back from t)", yaxis_title="Mean gradient norm",
                         yaxis=dict(type="log", exponentformat="power"))
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
def live_comparison() -> None:
    """A column per model (status, figures, latest sample) and the losses overlaid, redrawn every half
    second while any of them trains."""
    setup = started_setup()
    if setup is None or session_trainer(SLOTS[0]) is None:
        st.caption("No comparison in this session yet: choose one above and start it.")
        return
    polling = running()
    st.fragment(run_every=POLL_SECONDS if polling else None)(_live_body)(setup, polling)


def _live_body(setup: CompareSetup, polling: bool) -> None:
    if polling and not running():
        st.rerun()  # every training ended: redraw the page, so that the sections below use the final weights
    contenders = {c.label: c for c in setup.contenders}
    frames = {}
    for column, (slot, contender) in zip(st.columns(len(contenders)), zip(SLOTS, setup.contenders)):
        snapshot = session_trainer(slot).snapshot(since=1 << 62)
        frame = frames[contender.label] = _frame(slot)
        with column:
            _model_card(session_trainer(slot).training, contender, snapshot, frame)
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


def _model_card(training, contender: Contender, snapshot, frame: pd.DataFrame) -> None:
    """One model's column: its name in its colour, status, size, progress and latest figures, and sample."""
    st.markdown(f'<span style="color:{contender_colour(contender)};font-size:1.15em">■</span> **{contender.label}**',
                unsafe_allow_html=True)
    model = training.model.config
    parameters = sum(p.numel() for p in training.model.parameters())
    words = {"queued": "waiting for a free core", "running": "training", "finished": "finished",
             "stopped": "stopped", "paused": "paused", "diverged": "diverged", "failed": "failed"}
    st.caption(f"{model.hidden_size} units · {parameters:,} parameters · {words.get(snapshot.status, snapshot.status)}"
               f" · step {snapshot.step:,} of {training.total_steps:,}")
    if snapshot.status in ("diverged", "failed"):
        st.error(snapshot.message)
    valid = evaluations(frame, "valid_loss", "step")
    figures = []
    if len(valid):
        figures.append(("validation loss", f"{valid['valid_loss'].iloc[-1]:.3f}"))
    accuracy = evaluations(frame, "valid_accuracy", "step")
    if len(accuracy):
        figures.append(("recall", f"{accuracy['valid_accuracy'].iloc[-1]:.1%}"))
    for column, (label, value) in zip(st.columns(max(1, len(figures))), figures):
        column.metric(label, value)
    if snapshot.samples:
        show_text(snapshot.samples[-1]["text"][:240])


# -- measured on demand from the latest checkpoints -------------------------------------------
def checkpoints(setup: CompareSetup) -> dict:
    """{label: run key (folder, weights stamp)} of the contenders that have saved weights."""
    found = {}
    for slot, contender in zip(SLOTS, setup.contenders):
        trainer = session_trainer(slot)
        run_dir = trainer.training.run_dir if trainer is not None else None
        key = folder_key(Path(run_dir)) if run_dir is not None else None
        if key is not None and key[1] > 0:
            found[contender.label] = key
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


def gradient_section(setup: CompareSetup, max_lag: int, positions: int = 16) -> None:
    found = checkpoints(setup)
    if not found:
        st.caption("The gradients appear once the models have saved their first checkpoint.")
        return
    contenders = {c.label: c for c in setup.contenders}
    text, where, max_lag = _flow_probe(setup.task, setup.delay, setup.seed, max_lag, positions)
    with st.spinner("Backpropagating through time…"):
        flows = {label: _flow(key, text, max_lag, where) for label, key in found.items()}
    at_what = ("the answer after each cue, back to the symbol" if setup.task == "memory" else "the next character")
    st.caption(f"How to read this: how strongly the loss at step t ({at_what}) still reacts to the state k steps "
               f"earlier, averaged over {positions} positions (log scale: each grid line is 10× less). A line that "
               "falls steeply means the model cannot learn from what lies that far back: the vanishing gradient.")
    st.plotly_chart(gradient_figure(flows, contenders), key="compare_gradients", config=PLAIN)
    at = min(50, max_lag)
    parts = []
    for label, flow in flows.items():
        cell = f", c {flow.cell[0, at]:.1e}" if flow.cell is not None else ""
        parts.append(f"{label} h {flow.hidden[0, at]:.1e}{cell}")
    st.caption(f"Mean gradient norm at lag {at}: " + "; ".join(parts) + " (each model's latest checkpoint).")


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
    st.plotly_chart(state_heatmaps(traces, contenders, memory_view, top), key="compare_states")

