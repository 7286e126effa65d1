"""Charts of training metrics, shared by the live-training panel and the Runs page.

Every builder takes metric frames as :class:`lstm_core.CharTraining` (and the task trainings) write
them: one row per step with ``step`` and ``seconds``, and whichever of ``train_loss``,
``valid_loss``, ``train_bpc``, ``valid_bpc``, ``valid_accuracy``, ``chars_per_sec`` /
``items_per_sec``, ``grad_norm`` and ``lr`` the training reports. Validation columns are NaN
between evaluations. A loss is labelled with what it is averaged over (``per``: a character, a word,
a review); bits exist for characters only. Long runs are thinned to a few hundred points by averaging
neighbouring steps, so that a chart redrawn twice a second stays cheap for the server and the browser.

The builders return figures as plain Plotly-style dicts (``{"data": [...], "layout": {...}}``): what is drawn
(lines, colours, axes, panels) is decided once, here. :func:`figure_svg` draws them as SVG images. As Plotly
charts, the live panel's redraws cost the browser most of a core and slowed the training beside it; as images
each redraw is one insertion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lab_ui.render.charts import Curve, curves_svg
from lab_ui.render.palette import series_colour, series_marker

MAX_POINTS = 300
X_AXES = {"step": "Step", "seconds": "Training seconds"}
LOSS_UNITS = {"nats": "loss", "bits": "bpc"}  # unit -> the metric columns' suffix
LOG_AXES = {"lr"}  # signals that span decades (a decaying rate): a log axis ranged on the values
SIGNALS = [  # (column, title)
    ("chars_per_sec", "Throughput (characters/s)"),
    ("items_per_sec", "Throughput (items/s)"),
    ("grad_norm", "Gradient norm (before clipping)"),
    ("lr", "Learning rate"),
]


def thin(frame: pd.DataFrame, columns: list[str], x: str, max_points: int = MAX_POINTS) -> pd.DataFrame:
    """At most ``max_points`` rows: consecutive steps averaged together (x is the bucket's last value)."""
    columns = [c for c in columns if c in frame]
    if len(frame) <= max_points:
        return frame[[x, *columns]]
    bucket = np.arange(len(frame)) * max_points // len(frame)
    grouped = frame[[x, *columns]].groupby(bucket)
    thinned = grouped[columns].mean()
    thinned[x] = grouped[x].last()
    return thinned


def evaluations(frame: pd.DataFrame, column: str, x: str) -> pd.DataFrame:
    """The rows where ``column`` (a validation metric) was measured."""
    if column not in frame:
        return frame.iloc[0:0]
    return frame.loc[frame[column].notna(), [x, column]]


def _layout(x: str, y_title: str, height: int) -> dict:
    return dict(height=height, margin=dict(l=10, r=10, t=30, b=10), hovermode="x unified", uirevision="keep",
                legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0),
                xaxis=dict(title=dict(text=X_AXES.get(x, x))), yaxis=dict(title=dict(text=y_title)))


def _line(x, y, name: str, colour: str, **extra) -> dict:
    """One scatter trace as a plain dict (plotly's figure objects cost more than the chart itself)."""
    return dict(type="scatter", x=np.asarray(x), y=np.asarray(y), name=name, mode=extra.pop("mode", "lines"),
                line=dict(color=colour, width=extra.pop("width", 1.5), dash=extra.pop("dash", None)), **extra)


def marked(symbol: str, every_point: bool = False, size: int = 6) -> dict:
    """A trace's marker, its second cue beside its colour: at ``every_point`` (a validation's few points), else
    at a few points along the line (Plotly's ``maxdisplayed``; :func:`figure_svg` draws it the same way)."""
    return dict(mode="lines+markers", marker=dict(symbol=symbol, size=size, **({} if every_point else
                                                                                 {"maxdisplayed": 8})))


def loss_title(unit: str = "nats", per: str = "character") -> str:
    """The loss axis's title: its unit and what it is averaged over ("Loss (nats per word)")."""
    return f"Loss ({unit} per {per})"


def log_range(values, least_decades: float = 0.3) -> list[float]:
    """A log axis's range (in decades) that holds ``values`` (positive), at least ``least_decades`` wide,
    so that a constant rate is a level line in the middle instead of an axis of identical ticks."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return [-4.0, 0.0]
    low, high = np.log10(values.min()), np.log10(values.max())
    margin = max((least_decades - (high - low)) / 2, 0.0) + 0.05 * (high - low)
    return [float(low - margin), float(high + margin)]


def log_ticks(values, count: int = 3) -> list[float]:
    """Up to ``count`` ticks spread evenly (in log) from the smallest positive value to the largest, each
    rounded to two significant digits: a small panel's axis stays legible."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values) & (values > 0)]
    if not len(values):
        return []
    spread = np.logspace(np.log10(values.min()), np.log10(values.max()), count)
    return sorted({float(f"{tick:.2g}") for tick in spread})


def loss_figure(runs: dict[str, pd.DataFrame], x: str = "step", unit: str = "nats", height: int = 360,
                per: str = "character") -> dict:
    """Training (thin line) and validation (markers) loss of one or several runs against steps or seconds;
    ``per`` says what the loss is averaged over (bits are for characters only)."""
    if unit == "bits" and per != "character":
        raise ValueError("bits per character only mean something for a character model's loss")
    suffix, y_title = LOSS_UNITS[unit], loss_title(unit, per)
    traces = []
    for index, (label, frame) in enumerate(runs.items()):
        if frame is None or frame.empty or x not in frame:
            continue
        several = len(runs) > 1
        prefix = f"{label} · " if several else ""
        train_style = index if several else 0  # several runs: a colour and a marker per run; one: per curve
        valid_style = index if several else 1
        train, valid = f"train_{suffix}", f"valid_{suffix}"
        if train in frame:
            thinned = thin(frame, [train], x)
            traces.append(_line(thinned[x], thinned[train], f"{prefix}train", series_colour(train_style), opacity=0.75,
                                **marked(series_marker(train_style))))
        measured = evaluations(frame, valid, x)
        if len(measured):
            traces.append(_line(measured[x], measured[valid], f"{prefix}validation", series_colour(valid_style),
                                width=2.5, dash="dot" if several else None, **marked(series_marker(valid_style), True)))
    return dict(data=traces, layout=_layout(x, y_title, height))


def accuracy_figure(runs: dict[str, pd.DataFrame], x: str = "step", height: int = 300) -> dict:
    """Training and validation accuracy (columns ``train_accuracy`` / ``valid_accuracy``), as fractions."""
    traces = []
    for index, (label, frame) in enumerate(runs.items()):
        prefix = f"{label} · " if len(runs) > 1 else ""
        if "train_accuracy" in frame:
            thinned = thin(frame, ["train_accuracy"], x)
            traces.append(_line(thinned[x], thinned["train_accuracy"], f"{prefix}train", series_colour(2 * index),
                                **marked(series_marker(2 * index))))
        measured = evaluations(frame, "valid_accuracy", x)
        if len(measured):
            traces.append(_line(measured[x], measured["valid_accuracy"], f"{prefix}validation",
                                series_colour(2 * index + 1), width=2.5, **marked(series_marker(2 * index + 1), True)))
    layout = _layout(x, "Accuracy", height)
    layout["yaxis"].update(tickformat=".0%", range=[0, 1.02])  # a fraction: 0 to 100%, whatever was measured
    return dict(data=traces, layout=layout)


def has_accuracy(frame: pd.DataFrame) -> bool:
    return any(c in frame and frame[c].notna().any() for c in ("train_accuracy", "valid_accuracy"))


def signals_figure(frame: pd.DataFrame, x: str = "step", height: int = 360, item_name: str = "items") -> dict | None:
    """Throughput (of ``item_name`` per second), gradient norm and learning rate, one small panel each (those
    the frame has)."""
    present = [(column, f"Throughput ({item_name}/s)" if column == "items_per_sec" else title)
               for column, title in SIGNALS if column in frame and frame[column].notna().any()]
    if not present or frame.empty:
        return None
    thinned = thin(frame, [column for column, _ in present], x)
    gap, count = 0.12, len(present)
    size = (1 - gap * (count - 1)) / count
    layout = dict(height=height, margin=dict(l=10, r=10, t=30, b=10), uirevision="keep", showlegend=False,
                  xaxis=dict(title=dict(text=X_AXES.get(x, x)), anchor="y" if count == 1 else f"y{count}"),
                  annotations=[])
    traces = []
    for index, (column, title) in enumerate(present):
        top = 1 - index * (size + gap)
        axis = "" if index == 0 else str(index + 1)
        layout[f"yaxis{axis}"] = dict(domain=[max(0.0, top - size), min(1.0, top)], anchor="x")
        if column in LOG_AXES:  # a log axis over the range the values take, three ticks at most
            ticks = log_ticks(thinned[column])
            layout[f"yaxis{axis}"].update(type="log", range=log_range(thinned[column]), tickvals=ticks,
                                          ticktext=[f"{tick:.2g}" for tick in ticks])
        layout["annotations"].append(dict(text=title, x=0.5, y=top, xref="paper", yref="paper", showarrow=False,
                                          xanchor="center", yanchor="bottom", font=dict(size=12)))
        traces.append(_line(thinned[x], thinned[column], title, series_colour(index + 2), yaxis=f"y{axis}"))
    return dict(data=traces, layout=layout)


def figure_svg(figure: dict, kind: str = "curves", width: int = 900, hover: bool = True) -> str:
    """HTML (SVG charts, :func:`lab_ui.render.charts.curves_svg`) of a line figure made here: its lines, their
    colours and dashes, its axis titles and its fixed y range, share or log axis, if it has one. A figure of
    stacked panels (:func:`signals_figure`: one y axis and title each) gives one small chart per panel, the
    x axis's title under the last. ``hover``: hover labels (see :func:`lab_ui.render.charts.curves_svg`)."""
    layout = figure["layout"]
    axes = sorted((name for name in layout if name.startswith("yaxis")), key=lambda name: int(name[5:] or 1))
    panels = [[trace for trace in figure["data"] if trace.get("yaxis", "y") == "y" + name[5:]] for name in axes]
    titles = [note["text"] for note in layout.get("annotations", [])] if len(axes) > 1 else [""]
    height = layout["height"] if len(axes) == 1 else max(130, layout["height"] // len(axes) + 40)
    charts = []
    for index, (name, traces, title) in enumerate(zip(axes, panels, titles)):
        y_axis = layout[name]
        log_y = y_axis.get("type") == "log"
        curves = [Curve(trace["name"], trace["x"], trace["y"], trace["line"]["color"],
                        dashed=bool(trace["line"].get("dash")),
                        markers="markers" in trace["mode"] and not trace.get("marker", {}).get("maxdisplayed"),
                        width=trace["line"]["width"], opacity=trace.get("opacity", 1.0),
                        marker=trace.get("marker", {}).get("symbol", "") if "markers" in trace["mode"] else "")
                  for trace in traces]
        y_range = tuple(10 ** v for v in y_axis["range"]) if log_y and "range" in y_axis else \
            tuple(y_axis["range"]) if "range" in y_axis else None
        charts.append(curves_svg(
            curves, layout["xaxis"]["title"]["text"] if index == len(axes) - 1 else "",
            y_axis.get("title", {}).get("text", ""), percent=y_axis.get("tickformat") == ".0%", y_range=y_range,
            kind=kind, width=width, height=int(height), title=title, legend=len(axes) == 1, log_y=log_y,
            y_ticks=y_axis.get("tickvals"), hover=hover))
    return "".join(charts)
