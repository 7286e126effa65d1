"""Small charts as SVG images with hover labels: a line over the text's characters (surprisal), the
gate-saturation scatter, lines over steps (entropy on /generate, saturation over training) and grouped
bars (next-character distributions).

As Plotly charts these cost the browser tens of thousands of DOM changes for ticks and hover layers on
each load of /gates and most of a /generate redraw; as an SVG image
each is one insertion. Hover labels come from a layer of transparent boxes above the image whose
``title`` the browser shows: one per character on the line, one per occupied cell of a grid over the
scatter, one per step (or run of steps) on the lines, one per group of bars.

    line_svg(values, tokens, name, hover_text)                HTML for st.html
    saturation_svg(frame, title)                              HTML for st.html
    lines_svg(x, series, title, x_label, y_label, ...)        HTML for st.html
    bars_svg(categories, series, title, y_label)              HTML for st.html
    curves_svg(curves, x_label, y_label)                      HTML for st.html: lines each over its own x
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass

import numpy as np

from lab_ui.render.palette import FAINT, GRID, INK, LINE, MARK, gate_colour, gate_marker
from lab_ui.render.svg import chart_html, chart_title, hover_box, hover_grid, hover_span, plot_area, svg_open, ticks
from lstm_core.analysis import show_char
from lstm_core.gates import LABELS

MAX_TICKS = 100
MAX_HOVER_BOXES = 400  # a longer line groups its steps, a few to a box
HOVER_GRID = 48  # the scatter's hover cells per side: each lists the points inside it
HOVER_LINES = 12  # points a scatter cell's label lists by name
MARKS_PER_LINE = 8  # a line's markers (its second cue beside its colour) when it has more points than that


def marker_svg(shape: str, x: float, y: float, size: float, colour: str, extra: str = "") -> str:
    """One marker of Plotly's ``shape`` (circle, square, diamond, triangle-up, triangle-down, cross, x) centred
    at (x, y), ``size`` pixels across: the second cue that tells a series apart beside its colour."""
    r = size / 2
    if shape == "square":
        return f'<rect x="{x - r * 0.85:.1f}" y="{y - r * 0.85:.1f}" width="{1.7 * r:.1f}" height="{1.7 * r:.1f}" ' \
               f'fill="{colour}"{extra}/>'
    polygons = {"diamond": [(0, -1.2), (1.2, 0), (0, 1.2), (-1.2, 0)],
                "triangle-up": [(0, -1.15), (1.1, 0.8), (-1.1, 0.8)],
                "triangle-down": [(0, 1.15), (1.1, -0.8), (-1.1, -0.8)]}
    if shape in polygons:
        points = " ".join(f"{x + r * dx:.1f},{y + r * dy:.1f}" for dx, dy in polygons[shape])
        return f'<polygon points="{points}" fill="{colour}"{extra}/>'
    if shape in ("cross", "x"):
        arms = [(0, -1, 0, 1), (-1, 0, 1, 0)] if shape == "cross" else [(-0.8, -0.8, 0.8, 0.8), (-0.8, 0.8, 0.8, -0.8)]
        return "".join(f'<line x1="{x + r * a:.1f}" y1="{y + r * b:.1f}" x2="{x + r * c:.1f}" y2="{y + r * d:.1f}" '
                       f'stroke="{colour}" stroke-width="2"{extra}/>' for a, b, c, d in arms)
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"{extra}/>'


def marked_points(count: int, series_index: int, every_point: bool) -> range:
    """Which of a line's ``count`` points carry its marker: all of them (``every_point``, or few points), else
    MARKS_PER_LINE spread along it, shifted a little per series so that two lines' markers do not sit on top
    of each other."""
    if every_point or count <= MARKS_PER_LINE * 2:
        return range(count)
    every = count // MARKS_PER_LINE
    return range((series_index * every // 3) % every, count, every)


def line_svg(values, tokens, name: str, hover_text=None, first_step: int = 0, width: int = 1200,
             height: int = 220, high: float | None = None, guide: float | None = None) -> str:
    """One value per token (a character, or a word; NaN: a gap), x labelled by the tokens; hovering a token's
    column shows its step, its token, its value and ``hover_text``. The y axis runs from 0 to ``high`` (by
    default a little above the largest value); ``guide`` draws a dotted level line there (a probability's 0.5)."""
    values = np.asarray(values, dtype=float)
    count = len(values)
    left, right, top, bottom = 56, 20, 10, 26
    inner_w, inner_h = width - left - right, height - top - bottom
    finite = values[np.isfinite(values)]
    if high is None:
        high = (float(finite.max()) if finite.size else 1.0) * 1.05 or 1.0
    def x(t):
        return left + (t + 0.5) * inner_w / max(count, 1)
    def y(v):
        return top + inner_h * (1 - v / high)
    text = f'fill="{INK}" font-size="12"'
    parts = [svg_open(width, height)]
    for tick in ticks(0.0, high):
        parts += [f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>',
                  f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" {text}>{tick:g}</text>']
    parts.append(f'<text transform="translate(14 {top + inner_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
                 f'{text}>{html.escape(name)}</text>')
    if guide is not None:
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(guide):.1f}" y2="{y(guide):.1f}" stroke="{FAINT}" '
                     'stroke-dasharray="2,3" class="guide"/>')
    path, pen = [], "M"
    for t, value in enumerate(values):
        if not np.isfinite(value):
            pen = "M"
            continue
        path.append(f"{pen}{x(t):.1f},{y(value):.1f}")
        pen = "L"
    parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{LINE}" stroke-width="2"/>')
    parts += [f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2" fill="{LINE}"/>' for t, v in enumerate(values)
              if np.isfinite(v)]
    room = sum(6.5 * len(show_char(token)) + 3 for token in tokens) / inner_w  # words need more room than characters
    every = max(1, int(np.ceil(count / MAX_TICKS)), int(np.ceil(room)))
    parts += [f'<text x="{x(t):.1f}" y="{height - 8}" text-anchor="middle" font-family="monospace" font-size="10" '
              f'fill="{INK}" class="tick">{html.escape(show_char(tokens[t]))}</text>' for t in range(0, count, every)]
    parts.append("</svg>")
    boxes = []
    for t, value in enumerate(values):
        label = f"step {first_step + t} · {show_char(tokens[t])}: " + (f"{name} {value:.2f}" if np.isfinite(value)
                                                                       else "no next character")
        if hover_text is not None and np.isfinite(value):
            label += f"; {hover_text[t]}"
        boxes.append(hover_box(x(t) - inner_w / max(count, 1) / 2, top, inner_w / max(count, 1), inner_h, width, height,
                          label))
    return chart_html(parts, width, height, f"{name} over {count} steps", boxes, "token-line")


def saturation_svg(frame, title: str = "Gate saturation", width: int = 900, height: int = 380) -> str:
    """One point per unit and gate: share of steps below 0.1 (x) against above 0.9 (y); hovering a
    point shows its unit, gate and both shares (with the other points that close to it: the hover layer is
    a grid of HOVER_GRID x HOVER_GRID cells, one element per cell that holds a point, not one per point)."""
    left, right, top, bottom = 60, 170, 34, 44
    inner_w, inner_h = width - left - right, height - top - bottom
    def x(v):
        return left + inner_w * (v + 0.02) / 1.04
    def y(v):
        return top + inner_h * (1 - (v + 0.02) / 1.04)
    text = f'fill="{INK}" font-size="12"'
    parts = [svg_open(width, height),
             f'<text x="{left}" y="20" font-size="15" font-weight="600" fill="{INK}">{html.escape(title)}</text>']
    for tick in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        parts += [f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{top + inner_h}" stroke="{GRID}"/>',
                  f'<line x1="{left}" x2="{left + inner_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>',
                  f'<text x="{x(tick):.1f}" y="{top + inner_h + 16}" text-anchor="middle" {text}>{tick:.0%}</text>',
                  f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" {text}>{tick:.0%}</text>']
    parts += [f'<line x1="{x(0):.1f}" y1="{y(1):.1f}" x2="{x(1):.1f}" y2="{y(0):.1f}" stroke="grey" '
              'stroke-dasharray="3,3"/>',
              f'<text x="{left + inner_w / 2:.1f}" y="{height - 8}" text-anchor="middle" {text}>share of steps below 0.1 '
              '(left-saturated)</text>',
              f'<text transform="translate(16 {top + inner_h / 2:.1f}) rotate(-90)" text-anchor="middle" {text}>'
              'share of steps above 0.9 (right-saturated)</text>']
    cells: dict[tuple[int, int], list[str]] = {}  # hover cells of a grid over the plot: the points in each
    for index, (gate, part) in enumerate(frame.groupby("gate", sort=False)):
        colour, shape = gate_colour(gate), gate_marker(gate)  # each gate its colour and its shape
        parts.append(marker_svg(shape, width - right + 20, top + 10 + 20 * index, 9, colour)
                     + f'<text x="{width - right + 30}" y="{top + 14 + 20 * index}" {text} class="legend">'
                     f'{html.escape(LABELS.get(gate, gate))}</text><g fill-opacity="0.7" stroke-opacity="0.7">')
        for row in part.itertuples():
            cx, cy = x(row.left_saturated), y(row.right_saturated)
            parts.append(marker_svg(shape, cx, cy, 7, colour))
            cell = (int((cy - top) / inner_h * HOVER_GRID), int((cx - left) / inner_w * HOVER_GRID))
            cells.setdefault(cell, []).append(f"unit {row.unit}, {LABELS.get(gate, gate)}: below 0.1 "
                                              f"{row.left_saturated:.0%}, above 0.9 {row.right_saturated:.0%}")
        parts.append("</g>")
    parts.append("</svg>")
    spans = []
    for (r, c), points in sorted(cells.items()):
        label = "\n".join(points[:HOVER_LINES]) + (f"\n... and {len(points) - HOVER_LINES} more here"
                                                     if len(points) > HOVER_LINES else "")
        spans.append(hover_span(label, f"grid-area:{min(r, HOVER_GRID - 1) + 1}/{min(c, HOVER_GRID - 1) + 1}"))
    boxes = [hover_grid(plot_area(left, top, inner_w, inner_h, width, height), spans, HOVER_GRID, HOVER_GRID)]
    return chart_html(parts, width, height, f"{title}: {len(frame)} points", boxes, "saturation-scatter")


@dataclass
class Series:
    """One line (or one bar per category) of a chart."""

    name: str
    values: list
    colour: str = LINE
    dashed: bool = False
    short: str = ""  # the name in hover labels, where the legend's is long
    marker: str = ""  # its marker's shape (lab_ui.render.palette.MARKERS), the second cue beside its colour
    hatched: bool = False  # bars striped white (bars_svg): a bar's second cue beside its colour

    @property
    def hover_name(self) -> str:
        return self.short or self.name


def _legend_room(name: str) -> float:
    """Pixels an entry of the legend takes: its swatch, its name at 12 px (capitals are wider) and a gap."""
    return 36 + sum(8.2 if letter.isupper() else 6.5 for letter in name)


def _legend(series: list, x0: float, y0: float, width: float, text: str) -> list[str]:
    """One row of swatches (the line, its dash and its marker) and names, wrapped to ``width``."""
    parts, x, y = [], x0, y0
    for line in series:
        room = _legend_room(line.name)
        if x > x0 and x + room > x0 + width:
            x, y = x0, y + 18
        dash = ' stroke-dasharray="4,3"' if line.dashed else ""
        if getattr(line, "hatched", False):  # a bar's swatch, striped like its bars
            parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="22" height="12" fill="{line.colour}"/>'
                         f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="22" height="12" fill="url(#hatch)"/>')
        else:
            parts.append(f'<line x1="{x:.1f}" x2="{x + 22:.1f}" y1="{y - 4:.1f}" y2="{y - 4:.1f}" '
                         f'stroke="{line.colour}" stroke-width="2.5"{dash}/>')
        parts += [marker_svg(line.marker, x + 11, y - 4, 8, line.colour) if line.marker else "",
                  f'<text x="{x + 28:.1f}" y="{y:.1f}" {text} class="legend">{html.escape(line.name)}</text>']
        x += room
    return parts


def _legend_rows(series: list[Series], width: float) -> int:
    rows, x = 1, 0.0
    for line in series:
        room = _legend_room(line.name)
        if x > 0 and x + room > width:
            rows, x = rows + 1, 0.0
        x += room
    return rows


def _frame(x_ticks, y_ticks, x, y, left: float, top: float, inner_w: float, inner_h: float, text: str,
           x_span: float, y_format, x_label: str, y_label: str) -> list[str]:
    """Grid lines and y ticks, x ticks (whole numbers with separators over a span of 10 or more) and both axis
    titles, for the charts over a numeric x (:func:`lines_svg`, :func:`curves_svg`)."""
    x_format = (lambda v: f"{v:,.0f}") if x_span >= 10 else (lambda v: f"{v:g}")
    parts = []
    for tick in y_ticks:
        parts += [f'<line x1="{left}" x2="{left + inner_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>',
                  f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" {text}>{y_format(tick)}</text>']
    for tick in x_ticks:
        parts.append(f'<text x="{x(tick):.1f}" y="{top + inner_h + 16:.1f}" text-anchor="middle" {text}>'
                     f'{x_format(tick)}</text>')
    parts += [f'<text x="{left + inner_w / 2:.1f}" y="{top + inner_h + 34:.1f}" text-anchor="middle" {text}>'
              f'{html.escape(x_label)}</text>',
              f'<text transform="translate(14 {top + inner_h / 2:.1f}) rotate(-90)" text-anchor="middle" {text}>'
              f'{html.escape(y_label)}</text>']
    return parts


def lines_svg(x, series: list[Series], title: str = "", x_label: str = "", y_label: str = "",
              percent: bool = False, y_range: tuple[float, float] | None = None, mark_x: float | None = None,
              hover_text=None, kind: str = "line-chart", width: int = 900, height: int = 300) -> str:
    """Lines over a numeric x (a step, seconds); ``percent`` shows y as shares, ``mark_x`` draws a dashed
    upright line there (the movie's frame), ``hover_text`` adds a line per x to its hover label. Hovering shows
    each x's values (a few x's to a box beyond MAX_HOVER_BOXES of them). None values are gaps."""
    xs = np.asarray(x, dtype=float)
    count = len(xs)
    columns = {line.hover_name: np.array([np.nan if v is None else v for v in line.values], dtype=float)
               for line in series}
    finite = np.concatenate([v[np.isfinite(v)] for v in columns.values()] + [np.zeros(0)])
    low, high = y_range or (min(0.0, float(finite.min())) if finite.size else 0.0,
                            float(finite.max()) * 1.05 if finite.size and finite.max() > 0 else 1.0)
    x_low, x_high = (float(xs.min()), float(xs.max())) if count else (0.0, 1.0)
    x_high = x_high if x_high > x_low else x_low + 1.0
    text = f'fill="{INK}" font-size="12"'
    legend_rows = _legend_rows(series, width - 80)
    left, right, top = 62, 16, 30 if title else 12
    bottom = 44 + 18 * legend_rows
    inner_w, inner_h = width - left - right, height - top - bottom
    def px(v):
        return left + inner_w * (v - x_low) / (x_high - x_low)
    def py(v):
        return top + inner_h * (1 - (v - low) / ((high - low) or 1.0))
    y_format = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:g}")
    x_ticks = [t for t in ticks(x_low, x_high, 6) if x_low <= t <= x_high]
    parts = [svg_open(width, height)]
    parts += chart_title(title, left)
    parts += _frame(x_ticks, ticks(low, high), px, py, left, top, inner_w, inner_h, text, x_high - x_low,
                    y_format, x_label, y_label)
    if mark_x is not None:
        parts.append(f'<line class="mark" x1="{px(mark_x):.1f}" x2="{px(mark_x):.1f}" y1="{top}" '
                     f'y2="{top + inner_h}" stroke="{MARK}" stroke-width="1.5" stroke-dasharray="5,4"/>')
    dots = count <= 60
    for index, line in enumerate(series):
        values, path, pen = columns[line.hover_name], [], "M"
        for at, value in zip(xs, values):
            if not np.isfinite(value):
                pen = "M"
                continue
            path.append(f"{pen}{px(at):.1f},{py(value):.1f}")
            pen = "L"
        dash = ' stroke-dasharray="4,3"' if line.dashed else ""
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{line.colour}" stroke-width="2"{dash}/>')
        if dots or line.marker:  # a dot at each of a few points; a line's marker along it
            parts += [marker_svg(line.marker or "circle", px(xs[i]), py(values[i]), 7 if line.marker else 5,
                                 line.colour) for i in marked_points(count, index, dots) if np.isfinite(values[i])]
    parts += _legend(series, left, top + inner_h + 56, inner_w, text)
    parts.append("</svg>")
    show = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.2f}")
    labels = []
    for i in range(count):
        label = f"{x_label or 'x'} {xs[i]:g}: " + ", ".join(
            f"{name} {show(values[i])}" for name, values in columns.items() if np.isfinite(values[i]))
        labels.append(label + (f"; {hover_text[i]}" if hover_text is not None else ""))
    per_box = max(1, int(np.ceil(count / MAX_HOVER_BOXES)))  # a few steps to a box on a long line
    groups = [(first, min(count, first + per_box)) for first in range(0, count, per_box)]
    if count > 2 and np.allclose(np.diff(xs), xs[1] - xs[0]):  # evenly spaced: one grid, a column per step
        step_w = inner_w / (count - 1)
        spans = [hover_span("\n".join(labels[a:b]), f"grid-column:span {b - a}" if per_box > 1 else "")
                 for a, b in groups]
        boxes = [hover_grid(plot_area(px(xs[0]) - step_w / 2, top, step_w * count, inner_h, width, height), spans,
                            count)]
    else:  # a few points at uneven steps (snapshots): each box reaches halfway to its neighbours
        edges = [left] + [px((xs[i - 1] + xs[i]) / 2) for i in range(1, count)] + [left + inner_w]
        boxes = [hover_box(edges[a], top, max(edges[b] - edges[a], 1.0), inner_h, width, height, "\n".join(labels[a:b]))
                 for a, b in groups]
    mark = f'data-mark="{mark_x:g}"' if mark_x is not None else ""
    return chart_html(parts, width, height, f"{title or y_label}: {len(series)} lines over {count} points", boxes,
                  kind, mark)


HATCH = ('<defs><pattern id="hatch" patternUnits="userSpaceOnUse" width="6" height="6">'
         '<path d="M-1,7 L7,-1" stroke="#fff" stroke-width="1.6"/></pattern></defs>')  # white stripes over a bar


def bars_svg(categories, series: list[Series], title: str = "", y_label: str = "probability",
             kind: str = "bar-chart", width: int = 900, height: int = 300) -> str:
    """Grouped bars: one group per category (a character, shown in monospace), one bar per series in it;
    hovering a group shows every series' value there. The values, to 7 digits, are kept in ``data-values``
    (JSON: series name -> a value per category) for whoever reads the page."""
    count = len(categories)
    values = np.array([[float(v) for v in line.values] for line in series]).reshape(len(series), count)
    high = float(values.max()) * 1.08 if values.size and values.max() > 0 else 1.0
    text = f'fill="{INK}" font-size="12"'
    left, right, top, bottom = 62, 16, 52 if title else 34, 30
    inner_w, inner_h = width - left - right, height - top - bottom
    group = inner_w / max(count, 1)
    bar = group * 0.8 / max(len(series), 1)
    def py(v):
        return top + inner_h * (1 - v / high)
    parts = [svg_open(width, height), HATCH]
    parts += chart_title(title, left)
    for tick in ticks(0.0, high):
        parts += [f'<line x1="{left}" x2="{left + inner_w}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" stroke="{GRID}"/>',
                  f'<text x="{left - 6}" y="{py(tick) + 4:.1f}" text-anchor="end" {text}>{tick:g}</text>']
    parts.append(f'<text transform="translate(14 {top + inner_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
                 f'{text}>{html.escape(y_label)}</text>')
    for index, line in enumerate(series):
        x0 = left + group * 0.1 + bar * index
        fills = [line.colour] + (["url(#hatch)"] if line.hatched else [])
        parts += [f'<rect x="{x0 + group * c:.1f}" y="{py(v):.1f}" width="{bar:.1f}" height="{py(0) - py(v):.1f}" '
                  f'fill="{fill}"/>' for c, v in enumerate(values[index]) for fill in fills]
    parts += [f'<text x="{left + group * (c + 0.5):.1f}" y="{top + inner_h + 18}" text-anchor="middle" '
              f'font-family="monospace" font-size="13" fill="{INK}" class="tick">{html.escape(str(name))}</text>'
              for c, name in enumerate(categories)]
    parts += _legend(series, left, (34 if title else 16), inner_w, text)
    parts.append("</svg>")
    boxes = [hover_box(left + group * c, top, group, inner_h, width, height,
                  f"{name}: " + ", ".join(f"{line.name} {values[i, c]:.3f}" for i, line in enumerate(series)))
             for c, name in enumerate(categories)]
    data = html.escape(json.dumps({line.name: [float(f"{v:.7g}") for v in values[i]] for i, line in enumerate(series)}))
    return chart_html(parts, width, height, f"{title or y_label}: {len(series)} bars for each of {count} categories",
                  boxes, kind, f'data-values="{data}"')


HOVER_COLUMNS = 150  # hover boxes across a curves chart: each lists every curve's point nearest its middle


@dataclass
class Curve:
    """One line over its own x values (a run's training loss, its validation loss...)."""

    name: str
    x: list
    y: list
    colour: str = LINE
    dashed: bool = False
    markers: bool = False
    width: float = 2.0
    opacity: float = 1.0  # a faint line (each batch's loss) under a bold one (validation)
    marker: str = ""  # its marker's shape (lab_ui.render.palette.MARKERS): at every point with ``markers``, else a few


def curves_svg(curves: list[Curve], x_label: str, y_label: str, percent: bool = False,
               y_range: tuple[float, float] | None = None, kind: str = "curves", width: int = 900,
               height: int = 360, title: str = "", legend: bool = True, log_y: bool = False,
               y_ticks: list[float] | None = None, hover: bool = True) -> str:
    """Lines each over its own x (several runs' losses against steps or seconds), the y axis fitted to them
    unless ``y_range`` is given; ``percent`` shows y as shares, ``log_y`` draws y on a log scale (positive
    values only), ``y_ticks`` fixes its ticks. ``title`` goes above the plot, the legend (unless ``legend`` is
    False: a single line its title names) above that. The plot is cut into HOVER_COLUMNS columns, each a
    hover box listing every curve's point nearest its middle (none without ``hover``: a chart redrawn twice a
    second loses its hover label at each redraw). The points drawn are kept in ``data-values`` (JSON: curve
    name -> [[x, y], ...])."""
    points = []
    for curve in curves:
        x, y = np.asarray(curve.x, dtype=float), np.asarray(curve.y, dtype=float)
        kept = np.isfinite(x) & np.isfinite(y) & ((y > 0) if log_y else True)
        order = np.argsort(x[kept], kind="stable")
        points.append((x[kept][order], y[kept][order]))
    every_x = np.concatenate([x for x, _ in points] + [np.zeros(0)])
    every_y = np.concatenate([y for _, y in points] + [np.zeros(0)])
    x_low, x_high = (float(every_x.min()), float(every_x.max())) if every_x.size else (0.0, 1.0)
    x_high = x_high if x_high > x_low else x_low + 1.0
    scale = np.log10 if log_y else (lambda v: v)
    if y_range is None:
        low, high = (float(scale(every_y.min())), float(scale(every_y.max()))) if every_y.size else (0.0, 1.0)
        pad = 0.05 * (high - low) or 0.05 * abs(high) or 1.0
        y_range = (low - pad, high + pad)
    elif log_y:
        y_range = (float(np.log10(y_range[0])), float(np.log10(y_range[1])))
    low, high = y_range  # in log10 units on a log axis
    text = f'fill="{INK}" font-size="12"'
    legend_rows = _legend_rows(curves, width - 80) if legend else 0
    left, right = 62, 16
    top = 12 + 18 * legend_rows + (18 if title else 0)
    bottom = 44 if x_label else 26
    inner_w, inner_h = width - left - right, height - top - bottom
    def px(v):
        return left + inner_w * (v - x_low) / (x_high - x_low)
    def plot_y(v):
        return top + inner_h * (1 - (v - low) / ((high - low) or 1.0))
    py = (lambda v: plot_y(np.log10(v))) if log_y else plot_y
    y_format = (lambda v: f"{v:.0%}") if percent else (lambda v: f"{v:.2g}") if log_y else (lambda v: f"{v:,g}")
    x_ticks = [t for t in ticks(x_low, x_high, 6) if x_low <= t <= x_high]
    if np.array_equal(every_x, np.round(every_x)):  # steps: no tick between two of them
        x_ticks = [t for t in x_ticks if float(t).is_integer()]
    if y_ticks is None:
        y_ticks = [10 ** t for t in ticks(low, high, 3)] if log_y else ticks(low, high)
    y_ticks = [t for t in y_ticks if low - 1e-9 <= scale(t) <= high + 1e-9]
    parts = [svg_open(width, height)]
    parts += chart_title(title, left)
    if legend:
        parts += _legend(curves, left, 16 + (18 if title else 0), inner_w, text)
    parts += _frame(x_ticks, y_ticks, px, py, left, top, inner_w, inner_h, text, x_high - x_low,
                    y_format, x_label, y_label)
    for index, (curve, (x, y)) in enumerate(zip(curves, points)):
        path = " ".join(f"{'L' if i else 'M'}{px(a):.1f},{py(b):.1f}" for i, (a, b) in enumerate(zip(x, y)))
        dash = ' stroke-dasharray="4,3"' if curve.dashed else ""
        faint = f' stroke-opacity="{curve.opacity:g}"' if curve.opacity < 1 else ""
        parts.append(f'<path d="{path}" fill="none" stroke="{curve.colour}" stroke-width="{curve.width}"{dash}{faint}/>')
        if curve.markers or curve.marker:  # the marker at every point, or a few along the line
            see_through = f' opacity="{curve.opacity:g}"' if curve.opacity < 1 else ""
            parts += [marker_svg(curve.marker or "circle", px(x[i]), py(y[i]), 7 if curve.marker else 6, curve.colour,
                                 see_through) for i in marked_points(len(x), index, curve.markers)]
    parts.append("</svg>")
    show = (lambda v: f"{v:.1%}") if percent else (lambda v: f"{v:.4g}")
    spans = []
    for column in range(HOVER_COLUMNS if hover else 0):
        middle = x_low + (column + 0.5) * (x_high - x_low) / HOVER_COLUMNS
        lines = []
        for curve, (x, y) in zip(curves, points):
            if not x.size:
                continue
            nearest = int(np.argmin(np.abs(x - middle)))
            lines.append(f"{curve.name}: {show(y[nearest])} at {x[nearest]:,.6g}")
        spans.append(hover_span(f"{x_label} ≈ {middle:,.4g}\n" + "\n".join(lines)))
    boxes = [hover_grid(plot_area(left, top, inner_w, inner_h, width, height), spans, HOVER_COLUMNS)] if hover else []
    data = html.escape(json.dumps({curve.name: [[float(f"{a:.7g}"), float(f"{b:.7g}")] for a, b in zip(x, y)]
                                   for curve, (x, y) in zip(curves, points)}))
    alt = f"{y_label or title}" + (f" against {x_label}" if x_label else "") + f": {len(curves)} lines"
    return chart_html(parts, width, height, alt, boxes, kind, f'data-values="{data}"')
