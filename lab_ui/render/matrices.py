"""A classifier's charts as SVG images with hover labels: its confusion matrix, its accuracy per class,
and every class's probability at every word of a sentence (the Tagger and Sentiment pages).

As Plotly charts these made /tagger slow to open (README, "Measuring speed"): each Plotly chart builds its
axes, text and hover layer in the page. As an SVG image each is one insertion, like the gate heatmaps
(lab_ui.render.heatmaps). Hover labels come from a grid of transparent boxes above the image, one per
cell or bar, whose ``title`` the browser shows; the numbers drawn are kept in ``data-values`` (JSON)
for whoever reads the page.

    matrix_svg(values, rows, columns, scale, title, ...)         HTML for st.html
    ranked_bars_svg(names, values, labels, title, x_label, ...)  HTML for st.html
"""

from __future__ import annotations

import html
import json

import numpy as np

from lab_ui.render.palette import GRID, INK, LINE, ON_DARK
from lab_ui.render.svg import chart_html, chart_title, hover_grid, hover_span, plot_area, scale_stops, svg_open

LABEL_CHARS = 14  # a longer row or column name is cut, with an ellipsis (its hover label has it whole)
KEY_STEPS = 20  # bands of the colour key


def shown_name(name: str) -> str:
    name = str(name)
    return name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "…"


def scale_colours(values: np.ndarray, scale: str) -> list[str]:
    """CSS colours of ``values`` (0 to 1) on a Plotly colour scale ("Blues", "Greens"...)."""
    positions, rgb = scale_stops(scale)
    where = np.clip(np.nan_to_num(np.asarray(values, dtype=float)), 0.0, 1.0).ravel()
    channels = np.rint(np.stack([np.interp(where, positions, rgb[:, c]) for c in range(3)], axis=1)).astype(int)
    return [f"rgb({r},{g},{b})" for r, g, b in channels]


def _text_width(names) -> float:
    return 7.0 * max((len(shown_name(n)) for n in names), default=1)


def matrix_svg(values, rows, columns, scale: str, title: str = "", cell_text=None, hover=None,
               key_title: str = "", kind: str = "matrix-chart", width: int = 640, row_height: float | None = None) -> str:
    """A grid of cells, ``values`` (rows x columns, 0 to 1) coloured on ``scale``, row names on the left and
    column names above, slanted; ``cell_text`` (same shape, "" for none) is written in the cells and
    ``hover`` (same shape) is each cell's hover label (by default "row · column: value"). Cells are square
    unless ``row_height`` caps their height."""
    values = np.asarray(values, dtype=float).reshape(len(rows), len(columns))
    n_rows, n_cols = values.shape
    text = f'fill="{INK}" font-size="12"'
    left = 16 + _text_width(rows)
    top = (30 if title else 8) + 0.72 * _text_width(columns) + 14
    key_w = 70
    cell = max(10.0, min(34.0, (width - left - key_w - 10) / max(n_cols, 1)))
    tall = min(cell, row_height or cell)
    inner_w, inner_h = cell * n_cols, tall * n_rows
    width = int(np.ceil(max(left + inner_w + key_w + 10, 16 + 7.5 * len(title))))  # room for the title too
    height = int(np.ceil(top + inner_h + 12))
    parts = [svg_open(width, height)]
    parts += chart_title(title, 8)
    colours = scale_colours(values, scale)
    for r in range(n_rows):
        for c in range(n_cols):
            x, y = left + c * cell, top + r * tall
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell:.1f}" height="{tall:.1f}" '
                         f'fill="{colours[r * n_cols + c]}" stroke="#fff" stroke-width="0.5"/>')
            written = "" if cell_text is None else str(cell_text[r][c])
            if written:
                ink = ON_DARK if values[r, c] > 0.6 else INK
                parts.append(f'<text x="{x + cell / 2:.1f}" y="{y + tall / 2 + 4:.1f}" text-anchor="middle" '
                             f'font-size="{min(12, cell * 0.38, tall * 0.6):.0f}" fill="{ink}" class="cell">'
                             f'{html.escape(written)}</text>')
    parts += [f'<text x="{left - 6:.1f}" y="{top + (r + 0.5) * tall + 4:.1f}" text-anchor="end" {text} class="row">'
              f'{html.escape(shown_name(name))}</text>' for r, name in enumerate(rows)]
    parts += [f'<text transform="translate({left + (c + 0.5) * cell:.1f} {top - 6:.1f}) rotate(-45)" {text} '
              f'class="tick">{html.escape(shown_name(name))}</text>' for c, name in enumerate(columns)]
    parts += _key(left + inner_w + 18, top, min(inner_h, 200.0), scale, key_title, text)
    parts.append("</svg>")
    labels = hover if hover is not None else [[f"{rows[r]} · {columns[c]}: {values[r, c]:.3f}"
                                               for c in range(n_cols)] for r in range(n_rows)]
    spans = [hover_span(str(labels[r][c])) for r in range(n_rows) for c in range(n_cols)]
    boxes = [hover_grid(plot_area(left, top, inner_w, inner_h, width, height), spans, n_cols, n_rows)]
    data = html.escape(json.dumps({"values": np.round(values, 6).tolist(), "rows": [str(r) for r in rows],
                                   "columns": [str(c) for c in columns]}))
    return chart_html(parts, width, height, f"{title or key_title}: {n_rows} rows by {n_cols} columns", boxes, kind,
                  f'data-values="{data}"')


def _key(x: float, top: float, height: float, scale: str, title: str, text: str) -> list[str]:
    """A vertical colour key from 0 (bottom) to 1 (top), its title above it."""
    band = height / KEY_STEPS
    shades = scale_colours((np.arange(KEY_STEPS) + 0.5) / KEY_STEPS, scale)
    parts = [f'<rect x="{x:.1f}" y="{top + height - (i + 1) * band:.1f}" width="12" height="{band + 0.5:.1f}" '
             f'fill="{shade}"/>' for i, shade in enumerate(shades)]
    parts += [f'<text x="{x + 16:.1f}" y="{top + height * (1 - v) + 4:.1f}" {text} class="key">{v:g}</text>'
              for v in (0, 0.5, 1)]
    if title:
        parts.append(f'<text x="{x:.1f}" y="{top - 8:.1f}" font-size="11" fill="{INK}" class="key-title">'
                     f'{html.escape(title)}</text>')
    return parts


def ranked_bars_svg(names, values, labels, title: str = "", x_label: str = "", hover=None,
                    kind: str = "ranked-bars", width: int = 520) -> str:
    """Horizontal bars of ``values`` (shares, 0 to 1), one row per name, top to bottom in the order given;
    ``labels`` are written at the bars' ends, ``hover`` (by default "name: label") is each row's hover label."""
    values = np.clip(np.nan_to_num(np.asarray(values, dtype=float)), 0.0, 1.0)
    count = len(values)
    text = f'fill="{INK}" font-size="12"'
    left, right, top, bottom = 16 + _text_width(names), 20, 34 if title else 10, 38
    row = 24
    inner_w, inner_h = width - left - right, row * max(count, 1)
    height = int(top + inner_h + bottom)
    def px(v):
        return left + inner_w * v
    parts = [svg_open(width, height)]
    parts += chart_title(title, 8)
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        parts += [f'<line x1="{px(tick):.1f}" x2="{px(tick):.1f}" y1="{top}" y2="{top + inner_h}" stroke="{GRID}"/>',
                  f'<text x="{px(tick):.1f}" y="{top + inner_h + 16}" text-anchor="middle" {text}>{tick:.0%}</text>']
    parts.append(f'<text x="{left + inner_w / 2:.1f}" y="{top + inner_h + 32}" text-anchor="middle" {text}>'
                 f'{html.escape(x_label)}</text>')
    for i, (name, value, label) in enumerate(zip(names, values, labels)):
        y = top + i * row
        parts += [f'<rect x="{left}" y="{y + 3:.1f}" width="{inner_w * value:.1f}" height="{row - 6}" fill="{LINE}"/>',
                  f'<text x="{left - 6:.1f}" y="{y + row / 2 + 4:.1f}" text-anchor="end" {text} class="tick">'
                  f'{html.escape(shown_name(name))}</text>']
        inside = value > 0.6
        parts.append(f'<text x="{px(value) + (-6 if inside else 6):.1f}" y="{y + row / 2 + 4:.1f}" '
                     f'text-anchor="{"end" if inside else "start"}" font-size="11" '
                     f'fill="{ON_DARK if inside else INK}" class="bar-label">{html.escape(str(label))}</text>')
    parts.append("</svg>")
    hover = hover if hover is not None else [f"{name}: {label}" for name, label in zip(names, labels)]
    spans = [hover_span(str(h)) for h in hover]
    boxes = [hover_grid(plot_area(left, top, inner_w, inner_h, width, height), spans, 1, max(count, 1))]
    data = html.escape(json.dumps({"values": [float(f"{v:.7g}") for v in values], "names": [str(n) for n in names]}))
    return chart_html(parts, width, height, f"{title or x_label}: {count} bars", boxes, kind, f'data-values="{data}"')
