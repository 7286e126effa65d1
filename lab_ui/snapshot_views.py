"""The gates while they learn: the Train page's live gate panel and the training movie on /gates.

Both read gate snapshots (:mod:`lstm_core.snapshots`): a fixed probe traced through the weights of
one moment of a training, every few seconds of it.

    live_gate_panel(trainer, slot)     # in the live panel's fragment: the newest snapshot of a training
    snapshot_settings(key, initial)    # the Train page's settings: snapshots on or off, a typed probe
    snapshot_choice(key)               # ... read back as training settings
    training_movie(run_id)             # /gates: a slider with a play button over a saved run's snapshots

Each shows one heatmap (a quantity of one layer, units sorted as on /gates: by correlation of the memory (an
LSTM's cell state, the others' hidden state) with the probe's most telling text feature, or by variance for a
probe without one; one order whatever the quantity shown, on a colour scale per quantity or per unit), one unit
painted on the probe, and the gates' saturation (the share of values below 0.1 and above 0.9) over the training.
The movie adds "this unit across training": one unit on the probe at every snapshot, a row each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import streamlit as st

from lab_ui import gate_views as views
from lab_ui.heatmap_scale import scale_control
from lab_ui.html_view import show_html
from lab_ui.query import set_query
from lab_ui.render.charts import Series, lines_svg
from lab_ui.render.heatmaps import heatmap_svg, painted_rows_svg
from lab_ui.render.palette import gate_colour, gate_marker
from lab_ui.run_picker import PRETRAINED_ID, run_path, run_store
from lab_ui.safe_text import markdown_text
from lstm_core import analysis, gates
from lstm_core.snapshots import EVERY_SECONDS, MAX_PROBE_CHARS, Snapshot, SnapshotStore
from lstm_core.model_import import imported_note
from lstm_core.runs import read_config

TOP_UNITS = 16  # units a heatmap shows, in the sorted order
PLAY_SECONDS = 0.8  # a frame of the movie while it plays


# -- what both views share -------------------------------------------------------------------------
def sort_feature(snapshot: Snapshot) -> str | None:
    """The text feature units are sorted by (as /gates does), or None: a probe whose units were not ranked
    against text features (words, the memory task) is sorted by variance."""
    if snapshot.token != "char" or not snapshot.summary.get("units"):
        return None
    return analysis.default_feature(analysis.text_features(snapshot.text))


def order_quantity(snapshot: Snapshot) -> str:
    """The quantity units are sorted by, whichever is shown: the memory (an LSTM's cell state, else the hidden
    state), so that a row is the same unit in every quantity's heatmap."""
    return "cell_state" if "cell_state" in snapshot.values else "hidden_state"


def unit_order(snapshot: Snapshot, slot: int) -> np.ndarray:
    """Units in ``slot`` in display order (one for every quantity): the memory's |correlation| with the sort
    feature, else its variance."""
    values = snapshot.values[order_quantity(snapshot)][slot].astype(np.float32)
    feature = sort_feature(snapshot)
    if feature is None:
        return analysis.unit_order(values, "variance")
    return analysis.unit_order(values, "correlation", analysis.text_features(snapshot.text)[feature])


def order_caption(snapshot: Snapshot) -> str:
    """How the units of a heatmap are chosen and sorted, in words ("the 16 units that...")."""
    feature = sort_feature(snapshot)
    memory = views.LABELS[order_quantity(snapshot)]
    if feature is None:
        return f"units whose {memory} varies most over the probe"
    return f"units whose {memory} follows {analysis.FEATURES[feature]} most closely (sorted as on /gates)"


def heatmap_of(snapshot: Snapshot, quantity: str, slot: int, units, scale: str = "quantity") -> str:
    """HTML: the snapshot's heatmap of ``units`` (an SVG image, as on /gates; its title ends with the step), on a
    colour ``scale`` per quantity or per unit."""
    values = snapshot.values[quantity][slot][:, units].astype(np.float32).T  # (units shown, time)
    return heatmap_svg(values, snapshot.tokens, list(units), quantity,
                       title=f"{views.LABELS[quantity]} · {snapshot.slots[slot]} · step {snapshot.step:,}", scale=scale)


def painted_unit(snapshot: Snapshot, quantity: str, slot: int, unit: int, colour_range=None) -> str:
    values = snapshot.values[quantity][slot][:, unit].astype(np.float32)
    return views.painted_text(snapshot.tokens, values, quantity, separator=" " if snapshot.token == "word" else "",
                              colour_range=colour_range, max_height=220)


def saturation_over_training(series: list[dict], slot: int, x: str = "step", at: float | None = None,
                             height: int = 300) -> str | None:
    """HTML (an SVG chart): each sigmoid gate's share of values above 0.9 (open, solid) and below 0.1 (shut,
    dashed) on the probe, in one slot, at every snapshot; ``at`` marks the movie's frame. None for a model
    without gates."""
    names = list(series[-1]["summary"].get("gates", {})) if series else []
    if not names:
        return None
    lines = []
    for gate in names:  # each gate its colour and its marker, as in the saturation scatter on /gates
        for figure, dashed in (("open", False), ("shut", True)):
            ys = [row["summary"]["gates"].get(gate, {}).get(figure, [None] * (slot + 1))[slot] for row in series]
            lines.append(Series(f"{views.LABELS[gate]} {figure}", ys, gate_colour(gate), dashed, marker=gate_marker(gate)))
    return lines_svg([row[x] for row in series], lines, "Gate saturation over training",
                     "step" if x == "step" else "training seconds", "share of the probe's values", percent=True,
                     y_range=(0.0, 1.0), mark_x=at, kind="saturation-over-training", width=440, height=height + 80)


def never_saturated(series: list[dict], slot: int) -> bool:
    """No gate value on the probe has left (0.1, 0.9) at any snapshot: the saturation chart is flat at 0%."""
    gates = series[-1]["summary"].get("gates", {}) if series else {}
    return bool(gates) and all(not row["summary"]["gates"].get(gate, {}).get(figure, [0] * (slot + 1))[slot]
                               for row in series for gate in gates for figure in ("open", "shut"))


def gate_means_over_training(series: list[dict], slot: int, x: str = "step", at: float | None = None,
                             height: int = 300) -> str:
    """HTML (an SVG chart): each sigmoid gate's mean on the probe, in one slot, at every snapshot: what moves
    while no gate saturates."""
    names = list(series[-1]["summary"]["gates"])
    lines = [Series(views.LABELS[gate], [row["summary"]["gates"][gate]["mean"][slot] for row in series],
                    gate_colour(gate), False, marker=gate_marker(gate)) for gate in names]
    return lines_svg([row[x] for row in series], lines, "Gate means over training",
                     "step" if x == "step" else "training seconds", "mean over the probe", y_range=(0.0, 1.0),
                     mark_x=at, kind="gate-means-over-training", width=440, height=height + 80)


NEVER_SATURATED = ("Flat at 0%: no value of these gates on the probe has gone below 0.1 or above 0.9 yet. The gates "
                   "still sit in between, as they start (a small model trained briefly from scratch rarely pushes "
                   "them to the ends; a character model trained longer does, see /gates). What moves is their mean:")


def show_saturation(chart: str | None, series: list[dict], slot: int, key: str, container,
                    at: float | None = None) -> None:
    """The saturation chart (``saturation_over_training``'s); while it is flat at 0%, a line saying why and the
    gates' means, which do move."""
    if chart is None:
        container.caption("A plain RNN has no gates to saturate: its state is rewritten whole at every step.")
        return
    show_html(chart, key=key, container=container)
    if never_saturated(series, slot):
        container.caption(NEVER_SATURATED)
        show_html(gate_means_over_training(series, slot, at=at), key=f"{key}_means", container=container)


def choose_view(snapshot: Snapshot, prefix: str, columns) -> tuple[str, int]:
    """A quantity and a slot (layer, or layer and direction) of ``snapshot``, remembered under ``prefix``."""
    quantities = list(snapshot.quantities)
    slots = list(range(len(snapshot.slots)))
    for name, options in (("quantity", quantities), ("slot", slots)):  # another model than the last one shown
        if f"{prefix}_{name}" in st.session_state and st.session_state[f"{prefix}_{name}"] not in options:
            del st.session_state[f"{prefix}_{name}"]
    wanted = st.session_state.get(f"{prefix}_quantity")
    default = wanted if wanted in quantities else ("cell_state" if "cell_state" in quantities else "hidden_state")
    quantity = columns[0].selectbox("Quantity", quantities, index=quantities.index(default),
                                    format_func=views.LABELS.get, key=f"{prefix}_quantity")
    chosen = st.session_state.get(f"{prefix}_slot")
    forward = [k for k in slots if not snapshot.slots[k].endswith("right to left")] or slots
    slot = columns[1].selectbox("Layer", slots, index=chosen if chosen in slots else forward[-1],
                                format_func=snapshot.slots.__getitem__, key=f"{prefix}_slot")
    return quantity, slot


def choose_unit(order: np.ndarray, units: int, prefix: str, column) -> int:
    """A unit: "the best" (the first in the sorted order, which may change as the model learns) or a number."""
    options = ["best", *range(units)]
    if st.session_state.get(f"{prefix}_unit") not in options:
        st.session_state[f"{prefix}_unit"] = "best"
    chosen = column.selectbox("Unit to paint", options, key=f"{prefix}_unit",
                              format_func=lambda u: f"the first in the order (unit {order[0]})" if u == "best"
                              else f"unit {u}")
    return int(order[0]) if chosen == "best" else int(chosen)


# -- the Train page: the newest snapshot of a training -------------------------------------------
def _cached(store_key: str, key: tuple, build):
    """A chart rebuilt only when ``key`` changes (the live gate panel redraws every two seconds;
    snapshots arrive every few seconds)."""
    cache = st.session_state.setdefault("snapshot_views_cache", {})
    if store_key not in cache or cache[store_key][0] != key:
        cache[store_key] = (key, build())
    return cache[store_key][1]


def live_gate_panel(trainer, slot: str) -> None:
    """The live gate panel of ``slot``'s training: the newest snapshot's heatmap, one unit painted on the
    probe, and gate saturation over the training so far. Call it inside the live panel's fragment."""
    if trainer is None or not getattr(trainer.training, "snapshots_on", lambda: False)():
        return
    latest, series = trainer.gate_snapshots()
    st.markdown("**The gates as they learn**")
    if latest is None:
        st.caption("The first gate snapshot (the weights as they start) appears as soon as the training does.")
        return
    prefix = f"{slot}_gates"
    controls = st.columns(4)
    quantity, layer = choose_view(latest, prefix, controls)
    moment = (str(trainer.training.run_dir), latest.step, latest.seconds)  # another run's step 0 is another moment
    order = _cached(f"{prefix}_order", (*moment, layer), lambda: unit_order(latest, layer))
    unit = choose_unit(order, latest.values[quantity].shape[2], prefix, controls[2])
    scale = scale_control(controls[3], f"{prefix}_scale", from_link=False)
    shown = order[:TOP_UNITS]
    show_html(_cached(f"{prefix}_heatmap", (*moment, quantity, layer, tuple(shown), scale),
                      lambda: heatmap_of(latest, quantity, layer, shown, scale)), key=f"{prefix}_heatmap_view")
    st.caption(f"Step {latest.step:,} · {latest.seconds:,.1f} s of training: the probe ({len(latest.tokens)} "
               f"{'words' if latest.token == 'word' else 'characters'}) traced through the weights of that moment; "
               f"the {len(shown)} {order_caption(latest)}.")
    left, right = st.columns([3, 2])
    with left:
        st.markdown(f"**{views.LABELS[quantity]} of unit {unit}** ({latest.slots[layer]}) on the probe, "
                    f"step {latest.step:,}")
        show_html(_cached(f"{prefix}_painted", (*moment, quantity, layer, unit),
                          lambda: painted_unit(latest, quantity, layer, unit)), key=f"{prefix}_painted_view")
    chart = _cached(f"{prefix}_saturation", (*moment, len(series), layer),
                    lambda: saturation_over_training(series, layer, height=300))
    show_saturation(chart, series, layer, f"{prefix}_saturation_view", right)


def snapshot_settings(key, initial) -> None:
    """The Train page's snapshot settings (widgets keyed by ``key(name)``, starting from ``initial(name, default)``)."""
    st.checkbox("Gate snapshots (the live gate panel and the run's training movie)",
                initial("snapshots", True), key=key("snapshots"),
                help=f"Every {EVERY_SECONDS:g} s of training and at every evaluation, the probe is traced through "
                     "the weights of that moment (off the training clock) and kept with the run, thinned to at most "
                     "40 snapshots.")
    st.text_area("Probe (the text the snapshots trace; empty: a passage of the validation text)",
                 initial("probe", ""), max_chars=MAX_PROBE_CHARS, height=80, key=key("probe"),
                 disabled=not st.session_state.get(key("snapshots"), initial("snapshots", True)))


def snapshot_choice(key) -> dict:
    """The snapshot settings on screen, as a training's settings."""
    on = st.session_state.get(key("snapshots"), True)
    probe = st.session_state.get(key("probe")) or ""
    return {"snapshot_every_seconds": EVERY_SECONDS if on else None, "probe": probe if on and probe else None}


# -- /gates: the training movie ---------------------------------------------------------------------
@dataclass
class Movie:
    """A saved run's snapshots, oldest first, and their summaries."""

    frames: list[Snapshot]

    @property
    def series(self) -> list[dict]:
        return [{"step": s.step, "seconds": s.seconds, "summary": s.summary} for s in self.frames]


def snapshot_stamp(path: Path) -> tuple:
    """What a cached movie depends on: the names of the snapshot files and when the newest changed."""
    files = SnapshotStore(path).files()
    return tuple(f.name for f in files) + ((files[-1].stat().st_mtime,) if files else ())


@st.cache_resource(max_entries=4, show_spinner="Reading the training movie...")
def movie_of(path: str, stamp: tuple) -> Movie:
    """A run's snapshots, shared by every session (read-only); ``stamp`` follows a run still training."""
    frames = SnapshotStore(path).load()
    if frames:  # a probe or model that changed (it never does within a run) would not line up
        frames = [f for f in frames if f.tokens == frames[-1].tokens and
                  {n: a.shape for n, a in f.values.items()} == {n: a.shape for n, a in frames[-1].values.items()}]
    return Movie(frames)


@st.cache_resource(max_entries=64, show_spinner=False)
def movie_order(path: str, stamp: tuple, slot: int) -> np.ndarray:
    """The movie's unit order, fixed across its frames and quantities: the last frame's (the model as it ended)."""
    return unit_order(movie_of(path, stamp).frames[-1], slot)


@st.cache_resource(max_entries=96, show_spinner=False)
def movie_heatmap(path: str, stamp: tuple, frame: int, quantity: str, slot: int, scale: str = "quantity"):
    units = movie_order(path, stamp, slot)[:TOP_UNITS]
    return heatmap_of(movie_of(path, stamp).frames[frame], quantity, slot, units, scale)


@st.cache_resource(max_entries=96, show_spinner=False)
def movie_saturation(path: str, stamp: tuple, slot: int, at: int) -> str | None:
    return saturation_over_training(movie_of(path, stamp).series, slot, at=at)


def unit_range(frames: list[Snapshot], quantity: str, slot: int, unit: int) -> tuple[float, float]:
    """One colour scale for every frame: the quantity's bounds, or as far as the unit ever reaches."""
    return gates.colour_range(quantity, np.stack([f.values[quantity][slot][:, unit] for f in frames]).astype(np.float32))


@st.cache_resource(max_entries=32, show_spinner=False)
def unit_across_training(path: str, stamp: tuple, quantity: str, slot: int, unit: int, current: int) -> str:
    """HTML: one row per snapshot, the probe painted by ``unit``'s value at that moment (one colour scale for
    all rows; a character per column, so a unit that starts following a feature shows as a band appearing)."""
    frames = movie_of(path, stamp).frames
    low, high = unit_range(frames, quantity, slot, unit)
    values = np.stack([frame.values[quantity][slot][:, unit] for frame in frames])
    tokens = frames[0].tokens if frames[0].token == "char" else [f"{word} " for word in frames[0].tokens]
    if frames[0].token == "word":  # a word per column would not line up: a character per column, the word's value
        values = np.concatenate([np.repeat(values[:, [t]], len(word), axis=1) for t, word in enumerate(tokens)], axis=1)
        tokens = list("".join(tokens))
    return (views.painted_legend(quantity, low, high)
            + painted_rows_svg(values, tokens, [f"step {frame.step:,}" for frame in frames], quantity, low, high,
                               current))


def runs_with_snapshots(current: str) -> dict[str, str]:
    """{run id: label}: ``current`` first, then every saved run (of any kind) that has snapshots."""
    choices = {current: "this page's model"}
    frame = run_store().list()
    for row in frame.itertuples():
        if row.id != current and SnapshotStore(run_store().root / row.id).files():
            choices[row.id] = f"{row.name} ({row.kind}, {row.status})"
    return choices


def _toggle_play(playing_key: str, frame_key: str, last: int) -> None:
    playing = not st.session_state.get(playing_key, False)
    st.session_state[playing_key] = playing
    st.session_state["movie_toggled"] = True  # the whole page reruns, so that the movie's timer starts or stops
    if playing:
        if st.session_state.get(frame_key) == last:
            st.session_state[frame_key] = 0  # play again from the first frame
        st.session_state["movie_advanced_at"] = time.monotonic()


def training_movie(run_id: str) -> None:
    """The training movie of a saved run (this page's model by default, or any run with snapshots): a
    slider with a play button replaying the heatmap, one painted unit and the saturation chart, and one
    unit across the whole training. Runs without snapshots get a line saying why."""
    choices = runs_with_snapshots(run_id)
    if len(choices) > 1:
        chosen = st.selectbox("Run", list(choices), format_func=choices.get, key="movie_run",
                              help="This page's model, or any saved run that kept gate snapshots (GRUs, plain "
                                   "RNNs, the tagger, the classifier and the memory task too).")
    else:
        chosen = run_id
    path = run_path(chosen)
    stamp = snapshot_stamp(path)
    if not stamp:
        imported = imported_note(read_config(path)) if (path / "config.json").is_file() else None
        if imported:
            st.caption(markdown_text(imported))  # a file's name is text, never Markdown
            return
        shipped = (" The shipped model gets one when it is rebuilt (`python -m lstm_core pretrain`)."
                   if chosen == PRETRAINED_ID else " Runs trained now keep one: train one on the Train page.")
        st.caption(f"This run has no training movie: it was trained before gate snapshots were kept, or with them "
                   f"off.{shipped}")
        return
    playing = st.session_state.get("movie_playing", False)
    movie_frames = st.fragment(run_every=PLAY_SECONDS if playing else None, key="training_movie")(_movie_body)
    movie_frames(str(path), stamp)


def _movie_body(path: str, stamp: tuple) -> None:
    if st.session_state.pop("movie_toggled", False):
        st.rerun()  # Play or Pause was pressed: the fragment comes back with (or without) its timer
    movie = movie_of(path, stamp)
    frames = movie.frames
    if not frames:
        st.caption("This run's snapshots cannot be read.")
        return
    last = len(frames) - 1
    frame_key, playing_key = f"movie_frame:{path}", "movie_playing"
    if st.session_state.get(frame_key) not in range(len(frames)):
        st.session_state[frame_key] = last
    playing = st.session_state.get(playing_key, False)
    if playing and time.monotonic() - st.session_state.get("movie_advanced_at", 0.0) >= 0.8 * PLAY_SECONDS:
        st.session_state["movie_advanced_at"] = time.monotonic()
        if st.session_state[frame_key] >= last:
            st.session_state[playing_key] = False
            st.rerun()  # the end: the whole page again, so that the timer stops
        st.session_state[frame_key] += 1
    left, right = st.columns([1, 6])
    left.button("Pause" if playing else "Play", icon=":material/pause:" if playing else ":material/play_arrow:",
                key="movie_play", on_click=_toggle_play, args=(playing_key, frame_key, last), width="stretch")
    index = right.select_slider(f"Snapshot ({len(frames)} kept)", options=list(range(len(frames))), key=frame_key,
                                format_func=lambda i: f"step {frames[i].step:,} · {frames[i].seconds:,.0f} s")
    frame = frames[index]
    controls = st.columns(4)
    quantity, slot = choose_view(frame, "movie", controls)
    order = movie_order(path, stamp, slot)
    unit = choose_unit(order, frame.values[quantity].shape[2], "movie", controls[2])
    scale = scale_control(controls[3], "movie_scale")
    set_query(scale=scale)
    show_html(movie_heatmap(path, stamp, index, quantity, slot, scale), key="movie_heatmap")
    st.caption(f"The probe traced through the weights at step {frame.step:,} ({frame.seconds:,.1f} s of training); "
               f"the {TOP_UNITS} {order_caption(frames[-1])} at the end of the training, in the same order in "
               "every frame.")
    left, right = st.columns([3, 2])
    left.markdown(f"**{views.LABELS[quantity]} of unit {unit}** ({frame.slots[slot]}) at step {frame.step:,}")
    show_html(painted_unit(frame, quantity, slot, unit, unit_range(frames, quantity, slot, unit)), key="movie_painted",
              container=left)
    show_saturation(movie_saturation(path, stamp, slot, frame.step), movie_of(path, stamp).series, slot,
                    "movie_saturation", right, at=frame.step)
    st.markdown(f"**This unit across training**: unit {unit}'s {views.LABELS[quantity]} on the probe at every "
                "snapshot, one row each (oldest first; the frame shown is outlined)")
    show_html(unit_across_training(path, stamp, quantity, slot, unit, index), key="movie_across")
