"""Live training in a page: one trainer per browser session and slot, its controls and its live panel.

Any page that trains something uses the same four calls (the Train, Tagger and Sentiment pages do)::

    from lab_ui.live_training import live_adjustments, live_panel, session_trainer, training_controls

    def make_training():                 # builds the training object; a ValueError is shown to the user
        return lstm_core.CharTraining(config, store=run_store())

    training_controls("char", make_training)   # Start / Pause / Resume / Stop / Reset buttons
    live_panel("char", when_ended=links)        # status, progress + ETA, loss chart beside the latest sample,
                                                # figures, other charts; links(run id) once it has ended
    live_adjustments("char")                    # learning rate (and preview temperature) while it runs
    trainer = session_trainer("char")           # the BackgroundTrainer, or None
    ended_run("char")                           # its run id once finished or stopped with weights, else None

``slot`` names the training within a session ("char", "tagger", "sentiment"); each browser session
has its own trainers. ``set_session_trainer(slot, trainer)`` installs a trainer built elsewhere and
``clear_session_trainer(slot)`` forgets one (stopping it first); ``set_session_trainer(slot, trainer,
on_close="stop")`` ends it for good when the tab closes, instead of pausing it (the contenders of a comparison:
they all end the same way, saved as they stand). The training object is any object
:class:`lstm_core.execution.background.BackgroundTrainer` drives; the panel plots whichever metric columns its
rows have (train/valid loss and bits per character, valid_accuracy, chars_per_sec or items_per_sec,
grad_norm, lr), labels losses with what the training averages them over (its ``loss_per``: nats per
character, per word, per review), and shows its preview samples when it makes some.

The training itself runs out of this process, in a worker of the server's executor (a local worker
process, or a Ray actor: lstm_core.execution). While the training is queued or running, the panel's own script
fetches it twice a second from the app server's feed (lab_ui.live_feed), and the page reruns only when it must
follow (the training ended or paused, its first metrics came); where no feed is served, the panel polls the
trainer's snapshot in a fragment that reruns every half second instead. The gate panel reruns in a fragment of
its own every two seconds. The run started belongs to
this browser (lab_ui.sharing): on a shared server only its owner may continue it. Trainers live in a session-scoped
resource cache: navigating between pages keeps them, and when the browser tab closes the session's
trainers are paused (or stopped, where their slot asks: a comparison's), so a closed tab stops using the CPU; every run
is on disk through the run store.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import streamlit as st

from lab_ui import live_feed
from lab_ui.live_view import (FIGURES, POLL_SECONDS, caption_html, panel_data, progress_html, sample_html,
                               show_live_panel)
from lab_ui.render.text_box import show_text
from lab_ui.render.training_figures import accuracy_figure, figure_svg, has_accuracy, loss_figure, signals_figure
from lab_ui.run_picker import run_store
from lab_ui.safe_text import markdown_text
from lab_ui.sharing import check_training_allowance, count_training, may_change, owner_id
from lab_ui.snapshot_views import live_gate_panel
from lstm_core.execution.background import BackgroundTrainer, TrainingStatus
from lstm_core.limits import TRAINING_LIMITS
from lstm_core.runs import RECENT_STEPS, WEIGHTS_FILE, is_held, recent_train_loss
from lstm_core.training.loop import LOG2E

DETAILS_POLL_SECONDS = 2.0  # a gate snapshot comes every 2 s of training at most (lstm_core.snapshots)
STATUS_LABELS = {
    "idle": "Ready.", "queued": "Queued", "running": "Training", "paused": "Paused", "finished": "Finished",
    "stopped": "Stopped", "diverged": "Diverged", "failed": "Failed",
}


@dataclass
class LiveSlot:
    """A session's trainer and the metric rows the page has already fetched from it."""

    trainer: BackgroundTrainer
    on_close: str = "pause"  # what a closed tab does to it: "pause" (continue it later) or "stop" (saved, ended)
    rows: list = field(default_factory=list)
    settled: pd.DataFrame = field(default_factory=pd.DataFrame)  # rows[:-1]: never written again
    settled_count: int = 0
    restarts: int = 0  # the trainer's count of returns to a checkpoint that these rows reflect
    token: str = field(default_factory=live_feed.new_token)  # its panel's feed (lab_ui.live_feed)
    feed_lost: bool = False  # the browser could not reach the feed: the panel polls in its fragment instead
    shown_status: str | None = None  # the status its panel last drew (what the page under the panel follows)
    lock: threading.Lock = field(default_factory=threading.Lock)  # the page and the feed both read the rows

    def read(self) -> tuple[TrainingStatus, pd.DataFrame]:
        """The trainer's snapshot with the rows not fetched yet, and all metric rows so far."""
        with self.lock:
            snapshot = self.fetch()
            return snapshot, self.frame(snapshot)

    def fetch(self) -> TrainingStatus:
        """The trainer's snapshot with the rows not fetched yet; all of them again after the rows went
        back to a checkpoint (a worker died)."""
        snapshot = self.trainer.snapshot(since=len(self.rows))
        if snapshot.restarts != self.restarts:
            self.rows, self.settled, self.settled_count, self.restarts = [], pd.DataFrame(), 0, snapshot.restarts
            snapshot = self.trainer.snapshot(since=0)
        return snapshot

    def frame(self, snapshot: TrainingStatus) -> pd.DataFrame:
        """All metric rows so far; only the newest row is re-read (an evaluation may still fill it)."""
        self.rows.extend(snapshot.metrics)
        if not self.rows:
            return pd.DataFrame()
        done = len(self.rows) - 1
        if done > self.settled_count:
            fresh = pd.DataFrame([dict(row) for row in self.rows[self.settled_count:done]])
            self.settled = fresh if self.settled.empty else pd.concat([self.settled, fresh], ignore_index=True)
            self.settled_count = done
        newest = pd.DataFrame([dict(self.rows[-1])])
        return newest if self.settled.empty else pd.concat([self.settled, newest], ignore_index=True)


def _end_released(slots: dict) -> None:
    """The tab closed: pause its trainings (the thread saves the run as paused and ends), or stop those whose
    slot asks for it (each saved as it stands, with its final evaluation; one that never started, without weights)."""
    for live in list(slots.values()):
        live_feed.withdraw(live.token)
        if live.on_close == "stop":
            live.trainer.stop(wait=False)
        else:
            live.trainer.release()


@st.cache_resource(scope="session", on_release=_end_released, show_spinner=False)
def _session_slots() -> dict[str, LiveSlot]:
    return {}


def session_trainer(slot: str) -> BackgroundTrainer | None:
    """This browser session's trainer for ``slot``, or None."""
    live = _session_slots().get(slot)
    return live.trainer if live else None


def set_session_trainer(slot: str, trainer: BackgroundTrainer, on_close: str = "pause") -> None:
    """Install ``trainer`` in ``slot``; a previous trainer there is stopped (and saved) first. ``on_close``: what
    the tab's closing does to it, "pause" or "stop"."""
    if on_close not in ("pause", "stop"):
        raise ValueError(f"on_close must be 'pause' or 'stop', got {on_close!r}")
    clear_session_trainer(slot)
    _session_slots()[slot] = LiveSlot(trainer, on_close)


def clear_session_trainer(slot: str) -> None:
    """Forget the trainer in ``slot``, stopping it first if it has not ended (its run stays on disk)."""
    live = _session_slots().pop(slot, None)
    if live is not None:
        live_feed.withdraw(live.token)
    if live is not None and live.trainer.snapshot(since=1 << 62).status in ("queued", "running", "paused"):
        live.trainer.stop(wait=True)
    if live is not None:
        live.trainer.release()


def training_under_way(slot: str) -> bool:
    """Whether this session's ``slot`` has a training queued, running or paused (one not yet ended)."""
    return _status(session_trainer(slot)) in ("queued", "running", "paused")


def status_shown(slot: str) -> str:
    """The status of ``slot``'s training as its live panel drew it last (the trainer's own where no panel has): the
    page under the panel follows it, so that one script run never says "running" above an evaluation of the ended
    run (a training that ends after the panel's read shows at the next run, which the panel asks for)."""
    live = _session_slots().get(slot)
    if live is None or live.shown_status is None:
        return _status(session_trainer(slot))
    return live.shown_status


def _status(trainer: BackgroundTrainer | None) -> str:
    return trainer.snapshot(since=1 << 62).status if trainer else "none"


def _error_key(slot: str) -> str:
    return f"live_training_error_{slot}"


def _start(slot: str, make_training: Callable[[], object]) -> None:
    try:
        replaced = session_trainer(slot)
        check_training_allowance(replacing=(replaced,) if replaced else ())  # before any run folder is made
        training = make_training()
    except ValueError as err:  # CorpusError, RunError and the settings' range checks are ValueErrors
        st.session_state[_error_key(slot)] = str(err)
        return
    if training.run_dir is not None and training.store is not None:
        training.store.claim(training.run_dir, owner_id())  # a continued run keeps its owner
    trainer = BackgroundTrainer(training)
    set_session_trainer(slot, trainer)
    trainer.start()
    count_training([trainer])


def start_training(slot: str, make_training: Callable[[], object]) -> bool:
    """Build a training and start it in ``slot`` now (e.g. from a link's autostart); False on bad settings."""
    _start(slot, make_training)
    return _error_key(slot) not in st.session_state


def continue_paused_run(slot: str, kind: str, resume: Callable[[Path], object]) -> None:
    """Offer the store's paused runs of ``kind`` (a closed tab or a restarted server leaves them so) to
    continue here, when this session is not training in ``slot``; ``resume(run folder)`` rebuilds one."""
    if training_under_way(slot):
        return
    paused = run_store().list()
    if not paused.empty:
        paused = paused[(paused["kind"] == kind) & (paused["status"] == "paused")]
    if not paused.empty:  # not held by a trainer in another tab, and this user's (on a shared server)
        paused = paused[[not is_held(run_store().path(row.id)) and may_change(row.owner)
                         for row in paused.itertuples()]]
    if paused.empty:
        return
    with st.expander(f"Continue a paused run ({len(paused)})"):
        choice = st.selectbox("Paused run", list(paused["id"]), key=f"{slot}_continue_choice",
                              format_func=dict(zip(paused["id"], paused["name"] + " · " + paused["id"])).get)
        st.button("Continue it", key=f"{slot}_continue", on_click=_start,
                  args=(slot, lambda: resume(run_store().path(choice))))


def _act(slot: str, action: str) -> None:
    trainer = session_trainer(slot)
    if trainer is None:
        return
    if action == "pause":
        trainer.pause(wait=True)
    elif action == "resume":
        try:
            check_training_allowance()  # a paused training is not counted: resuming it may be one too many
        except ValueError as err:
            st.session_state[_error_key(slot)] = str(err)
            return
        trainer.resume()
    elif action == "stop":
        trainer.stop(wait=True)
    elif action == "reset":
        clear_session_trainer(slot)


def training_controls(slot: str, make_training: Callable[[], object], start_label: str = "Start training") -> None:
    """Start, pause, resume, stop and reset buttons for ``slot``; a refused start shows its reason."""
    status = _status(session_trainer(slot))
    running = status in ("queued", "running")
    columns = st.columns(5)
    columns[0].button(start_label, type="primary", disabled=running or status == "paused", key=f"{slot}_start",
                      on_click=_start, args=(slot, make_training), width="stretch")
    columns[1].button("Pause", disabled=not running, key=f"{slot}_pause", on_click=_act, args=(slot, "pause"),
                      width="stretch")
    columns[2].button("Resume", disabled=status != "paused", key=f"{slot}_resume", on_click=_act,
                      args=(slot, "resume"), width="stretch")
    columns[3].button("Stop and save", disabled=not (running or status == "paused"), key=f"{slot}_stop",
                      on_click=_act, args=(slot, "stop"), width="stretch")
    columns[4].button("Reset", disabled=status == "none", key=f"{slot}_reset", on_click=_act, args=(slot, "reset"),
                      help="Forget this training here (a run that started is kept on the Runs page).",
                      width="stretch")
    error = st.session_state.pop(_error_key(slot), None)
    if error:
        st.error(f"Cannot start: {markdown_text(error)}")


def _apply_lr(slot: str) -> None:
    trainer = session_trainer(slot)
    if trainer is not None:
        trainer.set_lr(st.session_state[f"{slot}_live_lr"])


def _apply_temperature(slot: str) -> None:
    trainer = session_trainer(slot)
    if trainer is not None:
        trainer.set_preview_temperature(st.session_state[f"{slot}_live_temperature"])


def lr_step(lr: float) -> float:
    """The learning rate's +/- step: the power of ten below half the rate (2e-3 moves by 1e-3, 5e-4 by 1e-4). The
    rate stays on a short decimal grid that its box shows exactly, and a click never takes it to 0; a step of
    half the rate itself drifted to values the box rounded (1.125e-3 shown as 0.00113), so a click seemed undone."""
    return 10.0 ** math.floor(math.log10(max(float(lr), TRAINING_LIMITS["lr"][0]) / 2))


@st.fragment
def live_adjustments(slot: str) -> None:
    """While a training exists: change its learning rate, and its preview temperature if it samples. A fragment:
    a change reruns these two controls alone (the live panel shows its effect at its next poll), not the page."""
    trainer = session_trainer(slot)
    if trainer is None or _status(trainer) not in ("queued", "running", "paused"):
        return
    training = trainer.training
    left, right = st.columns(2)
    left.number_input("Learning rate (applies at the next step)", *TRAINING_LIMITS["lr"],
                      value=float(training.base_lr), format="%.2e", step=lr_step(training.base_lr),
                      key=f"{slot}_live_lr", on_change=_apply_lr, args=(slot,))
    if training.previews:
        right.slider("Preview temperature", 0.1, 2.0, float(training.preview_temperature), 0.05,
                     key=f"{slot}_live_temperature", on_change=_apply_temperature, args=(slot,))


def _eta(snapshot: TrainingStatus) -> str:
    """The time left, only while the training runs (a diverged or paused run has none)."""
    if snapshot.status != "running" or snapshot.progress <= 0 or snapshot.progress >= 1:
        return ""
    remaining = snapshot.seconds * (1 - snapshot.progress) / snapshot.progress
    return f" · about {remaining:,.0f} s left" if remaining >= 1 else " · under a second left"


def _status_line(snapshot: TrainingStatus) -> None:
    """The status in a coloured box; a training running as it should says so in its progress bar instead."""
    if snapshot.status == "running" and snapshot.message == STATUS_LABELS["running"] + ".":
        return
    label = STATUS_LABELS.get(snapshot.status, snapshot.status)
    text = f"**{label}.** {snapshot.message}" if label.rstrip(".") not in snapshot.message else snapshot.message
    if snapshot.status == "queued":
        where = f"number {snapshot.queue_position} in the queue" if snapshot.queue_position else "in the queue"
        running = f"{snapshot.slots} trainings are" if snapshot.slots and snapshot.slots > 1 else "A training is"
        st.info(f"{running} already running on this server's workers; yours is {where} and "
                "starts as soon as one of them ends.")
    elif snapshot.status in ("diverged", "failed"):
        st.error(text)
    elif snapshot.status == "finished":
        st.success(text)
    elif snapshot.status in ("paused", "stopped"):
        st.warning(text)
    else:
        st.info(text)


def _loss_label(label: str, unit: str, per: str) -> str:
    """A loss figure's label with its unit: "Train loss (nats/word)"."""
    return f"{label} ({unit}/{'char' if per == 'character' else per})"


RECENT_HELP = f"Mean over the last {RECENT_STEPS} training steps."
FIGURE_HELP = {"Throughput": f"Median over the last {RECENT_STEPS} training steps."}
LOSS_HEIGHT = 330  # the loss chart and the latest sample side by side fit a 1366x768 screen under the controls
LOSS_WIDTH, SIDE_WIDTH = 560, 380  # the two columns' widths on a wide screen (charts shrink with a narrower one)


def _latest(frame: pd.DataFrame, column: str) -> float | None:
    if column not in frame:
        return None
    values = frame[column].dropna()
    return float(values.iloc[-1]) if len(values) else None


def _figures(frame: pd.DataFrame, snapshot: TrainingStatus, item_name: str,
             per: str) -> list[tuple[str, str, str | None]]:
    """The headline numbers as (label, value, help): losses (nats per ``per``, and bits per character), speed,
    gradient norm, rate."""
    train = recent_train_loss(frame)
    valid = _latest(frame, "valid_loss")
    speed_column = "chars_per_sec" if "chars_per_sec" in frame else "items_per_sec"
    speed = frame[speed_column].tail(RECENT_STEPS).median() if speed_column in frame else None
    figures = [("Step", f"{snapshot.step:,}"), ("Training time", f"{snapshot.seconds:,.1f} s")]
    if speed is not None:
        figures.append(("Throughput", f"{speed:,.0f} {'chars' if speed_column == 'chars_per_sec' else item_name}/s"))
    grad = _latest(frame, "grad_norm")
    if grad is not None:
        figures.append(("Gradient norm", f"{grad:.3g}"))
    for label, value, bits in (("Train loss", train, "train_bpc"), ("Validation loss", valid, "valid_bpc")):
        if value is not None:
            figures.append((_loss_label(label, "nats", per), f"{value:.3f}"))
            if bits in frame:
                figures.append((_loss_label(label, "bits", per), f"{value * LOG2E:.3f}"))
    accuracy = _latest(frame, "valid_accuracy")
    if accuracy is not None:
        figures.append(("Validation accuracy", f"{accuracy:.1%}"))
    lr = _latest(frame, "lr")
    if lr is not None:
        figures.append(("Learning rate", f"{lr:.2e}"))
    return [(label, value, RECENT_HELP if label.startswith("Train loss") else FIGURE_HELP.get(label))
            for label, value in figures]


def _axis_choices(slot: str, per: str) -> tuple[str, str]:
    """The loss chart's x axis and unit, chosen above the panel (they redraw the panel alone)."""
    left, right, _ = st.columns([2, 3, 3])
    x = left.radio("x axis", ["step", "seconds"], horizontal=True, key=f"{slot}_x_axis",
                   format_func={"step": "Steps", "seconds": "Seconds"}.get)
    if per != "character":  # bits per character only mean something for characters
        return x, "nats"
    unit = right.radio("Loss unit", ["nats", "bits"], horizontal=True, key=f"{slot}_unit",
                       format_func={"nats": "Nats per character", "bits": "Bits per character"}.get)
    return x, unit


def _earlier_samples(snapshot: TrainingStatus) -> None:
    if len(snapshot.samples) > 1:
        with st.expander(f"Earlier samples ({len(snapshot.samples) - 1})"):
            for earlier in reversed(snapshot.samples[:-1]):
                st.caption(f"Step {earlier['step']:,} · {earlier['seconds']:.0f} s")
                show_text(earlier.get("prime", "") + earlier["text"])


def ended_run(slot: str) -> str | None:
    """The run id of ``slot``'s training once it has finished or was stopped with weights saved, else None."""
    trainer = session_trainer(slot)
    if trainer is None:
        return None
    snapshot = trainer.snapshot(since=1 << 62)
    if snapshot.status not in ("finished", "stopped") or not snapshot.run_dir:
        return None
    return Path(snapshot.run_dir).name if (Path(snapshot.run_dir) / WEIGHTS_FILE).exists() else None


def _panel_parts(live: LiveSlot, snapshot: TrainingStatus, frame: pd.DataFrame, x: str, unit: str,
                 hover: bool) -> tuple[list, list]:
    """The panel's parts (lab_ui.live_view): progress, the loss chart beside the latest sample (or the signals,
    for a training that writes none), the figures and the other charts; and the figures."""
    parts = []
    if snapshot.status != "finished":  # a finished training used its whole budget: its status says so
        parts.append(("progress", progress_html(snapshot.progress, f"{snapshot.progress:.0%} of the budget"
                                                f"{_eta(snapshot)}", "Training" if snapshot.status == "running" else "")))
    if frame.empty:
        parts.append(("waiting", caption_html("Waiting for the first training step...")))
        return parts, []
    training = live.trainer.training
    per = getattr(training, "loss_per", "character")
    signals = signals_figure(frame, x=x, item_name=training.item_name)
    parts.append(("loss", figure_svg(loss_figure({"run": frame}, x=x, unit=unit, height=LOSS_HEIGHT, per=per),
                                     "live-loss", width=LOSS_WIDTH, hover=hover)))
    if snapshot.samples:
        latest = snapshot.samples[-1]
        parts.append(("side", sample_html(latest["step"], latest.get("prime", "") + latest["text"])))
    elif signals is not None:
        parts.append(("side", figure_svg(signals, "live-signals", width=SIDE_WIDTH, hover=hover)))
        signals = None  # drawn
    parts.append((FIGURES, None))
    if signals is not None:
        parts.append(("signals", figure_svg(signals, "live-signals", hover=hover)))
    if has_accuracy(frame):
        parts.append(("accuracy", figure_svg(accuracy_figure({"run": frame}, x=x), "live-accuracy", hover=hover)))
    return parts, _figures(frame, snapshot, training.item_name, per)


def _page_state(snapshot: TrainingStatus, frame: pd.DataFrame) -> str:
    """What the page around the panel is drawn from (the status line, the buttons, the chart's choices): when the
    feed's answer brings another, the page must rerun to follow."""
    return f"{snapshot.status}|{snapshot.message}|{snapshot.queue_position}|{'rows' if len(frame) else 'none'}"


def _feed_answer(live: LiveSlot, x: str, unit: str) -> Callable[[], dict]:
    """The feed's answer for ``live``'s panel (lab_ui.live_feed), as the page last drew it (its x axis and unit)."""
    def answer() -> dict:
        snapshot, frame = live.read()
        parts, figures = _panel_parts(live, snapshot, frame, x, unit, hover=False)
        return {**panel_data(parts, figures), "state": _page_state(snapshot, frame)}
    return answer


def _feed_lost(live: LiveSlot) -> None:
    """The browser could not fetch the panel (a proxy in between?): poll in the fragment from now on."""
    live.feed_lost = True


def _panel_body(slot: str, polling: bool, when_ended: Callable[[str], None] | None) -> None:
    """Status, then the panel: fed through lab_ui.live_feed while the training runs (its script fetches the
    parts), or drawn by this fragment's polling where no feed is served."""
    live = _session_slots().get(slot)
    if live is None:
        return
    snapshot, frame = live.read()
    if polling and not snapshot.active:
        st.rerun()  # the training ended or paused: redraw the whole page so the buttons follow
    live.shown_status = snapshot.status
    _status_line(snapshot)
    run_id = ended_run(slot)
    if run_id and when_ended is not None:
        when_ended(run_id)
    training = live.trainer.training
    per = getattr(training, "loss_per", "character")
    x, unit = _axis_choices(slot, per) if len(frame) else ("step", "nats")
    # While polling, no hover labels: a chart redrawn twice a second would drop its label at each redraw.
    parts, figures = _panel_parts(live, snapshot, frame, x, unit, hover=not polling)
    feed = _feed_of(live) if polling else None
    if feed is not None:
        live_feed.publish(live.token, _feed_answer(live, x, unit))
    else:  # the training ended or paused (or the browser cannot reach the feed): nobody fetches it
        live_feed.withdraw(live.token)
    shown = show_live_panel(f"{slot}_live_view", parts, figures, feed=feed, state=_page_state(snapshot, frame),
                            on_lost=lambda: _feed_lost(live))
    if shown is not None and shown.lost and polling:  # (on_lost has marked the feed lost already)
        st.rerun()  # the whole page: its fragment polls from now on


def _feed_of(live: LiveSlot) -> str | None:
    """Where the browser fetches ``live``'s panel, or None: no feed route here, or the browser lost it."""
    return None if live.feed_lost else live_feed.feed_url(live.token)


def _details_body(slot: str) -> None:
    """What changes every few seconds at most: the gates as they learn (lab_ui.snapshot_views), the earlier
    samples and where the run is saved."""
    trainer = session_trainer(slot)
    if trainer is None:
        return
    live_gate_panel(trainer, slot)
    snapshot = trainer.snapshot(since=1 << 62)
    _earlier_samples(snapshot)
    if snapshot.run_dir:
        st.caption(f"Saved as it trains: run `{Path(snapshot.run_dir).name}` (see the Runs page).")


def live_panel(slot: str, when_ended: Callable[[str], None] | None = None) -> None:
    """The live view of ``slot``'s training, while it is queued or running: its figures and charts redrawn
    every POLL_SECONDS (fed, or polled by their fragment), the gates, earlier samples and run under them every
    DETAILS_POLL_SECONDS (a fragment of their own, so the slow part is not sent again at each poll).
    ``when_ended(run id)`` draws what follows a training
    that finished or was stopped, under its status."""
    trainer = session_trainer(slot)
    if trainer is None:
        st.caption("No training in this session yet.")
        return
    polling = _status(trainer) in ("queued", "running")
    fed = _feed_of(_session_slots()[slot]) is not None
    body = st.fragment(run_every=POLL_SECONDS if polling and not fed else None, key=f"{slot}_live_panel")(_panel_body)
    body(slot, polling, when_ended)
    details = st.fragment(run_every=DETAILS_POLL_SECONDS if polling else None, key=f"{slot}_live_details")(
        _details_body)
    details(slot)
