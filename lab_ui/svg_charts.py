"""Small charts of the Gates & states page as SVG images with hover labels: a line over the text's
characters (surprisal) and the gate-saturation scatter.

As Plotly charts these two cost the browser about 3 s of main-thread work on each load of /gates
(tens of thousands of DOM changes for ticks and hover layers); as an SVG image they are one
insertion. Hover labels come from a layer of transparent boxes above the image whose ``title`` the
browser shows: one per character on the line, one per point on the scatter.

    line_svg(values, tokens, name, hover_text)    HTML for st.html
    saturation_svg(frame, title)                  HTML for st.html
"""

from __future__ import annotations

import base64
import html

import numpy as np

from lstm_core.analysis import show_char
from lstm_core.gates import LABELS

INK, GRID, LINE = "#31333f", "#e6e6e6", "#1f77b4"
GATE_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]  # Plotly's first colours, in trace order
MAX_TICKS = 100


def _image(svg_parts: list[str], width: int, height: int, alt: str, boxes: list[str], kind: str, data: str = "") -> str:
    """The SVG as an image, the hover boxes (absolutely placed spans, in percent) above it."""
    svg = base64.b64encode("".join(svg_parts).encode()).decode()
    return (f'<div class="{kind}" {data} style="position:relative;max-width:{width}px">'
            f'<img src="data:image/svg+xml;base64,{svg}" alt="{html.escape(alt)}" style="width:100%;display:block">'
            + "".join(boxes) + "</div>")


def _box(x: float, y: float, w: float, h: float, width: int, height: int, title: str) -> str:
    return (f'<span title="{html.escape(title)}" style="position:absolute;left:{100 * x / width:.3f}%;'
            f'top:{100 * y / height:.3f}%;width:{100 * w / width:.3f}%;height:{100 * h / height:.3f}%"></span>')


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values spanning [low, high]."""
    span = high - low or 1.0
    step = 10 ** np.floor(np.log10(span / count))
    step *= next(m for m in (1, 2, 5, 10) if span / (step * m) <= count)
    return list(np.arange(np.ceil(low / step) * step, high + step / 2, step))


def line_svg(values, tokens, name: str, hover_text=None, first_step: int = 0, width: int = 1200,
             height: int = 220) -> str:
    """One value per token (NaN: a gap), x labelled by the tokens; hovering a token's column shows its
    step, its token, its value and ``hover_text``."""
    values = np.asarray(values, dtype=float)
    count = len(values)
    left, right, top, bottom = 56, 20, 10, 26
    inner_w, inner_h = width - left - right, height - top - bottom
    finite = values[np.isfinite(values)]
    high = float(finite.max()) if finite.size else 1.0
    high = high * 1.05 or 1.0
    x = lambda t: left + (t + 0.5) * inner_w / max(count, 1)  # noqa: E731
    y = lambda v: top + inner_h * (1 - v / high)  # noqa: E731
    text = f'fill="{INK}" font-size="12"'
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             'font-family="Source Sans Pro, sans-serif">']
    for tick in _ticks(0.0, high):
        parts += [f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="{GRID}"/>',
                  f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" {text}>{tick:g}</text>']
    parts.append(f'<text transform="translate(14 {top + inner_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
                 f'{text}>{html.escape(name)}</text>')
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
    every = max(1, int(np.ceil(count / MAX_TICKS)))
    parts += [f'<text x="{x(t):.1f}" y="{height - 8}" text-anchor="middle" font-family="monospace" font-size="10" '
              f'fill="{INK}" class="tick">{html.escape(show_char(tokens[t]))}</text>' for t in range(0, count, every)]
    parts.append("</svg>")
    boxes = []
    for t, value in enumerate(values):
        label = f"step {first_step + t} · {show_char(tokens[t])}: " + (f"{name} {value:.2f}" if np.isfinite(value)
                                                                       else "no next character")
        if hover_text is not None and np.isfinite(value):
            label += f"; {hover_text[t]}"
        boxes.append(_box(x(t) - inner_w / max(count, 1) / 2, top, inner_w / max(count, 1), inner_h, width, height,
                          label))
    return _image(parts, width, height, f"{name} over {count} steps", boxes, "token-line")


def saturation_svg(frame, title: str = "Gate saturation", width: int = 900, height: int = 380) -> str:
    """One point per unit and gate: share of steps below 0.1 (x) against above 0.9 (y); hovering a
    point shows its unit, gate and both shares."""
    left, right, top, bottom = 60, 170, 34, 44
    inner_w, inner_h = width - left - right, height - top - bottom
    x = lambda v: left + inner_w * (v + 0.02) / 1.04  # noqa: E731
    y = lambda v: top + inner_h * (1 - (v + 0.02) / 1.04)  # noqa: E731
    text = f'fill="{INK}" font-size="12"'
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             'font-family="Source Sans Pro, sans-serif">',
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
    boxes = []
    for index, (gate, part) in enumerate(frame.groupby("gate", sort=False)):
        colour = GATE_COLOURS[index % len(GATE_COLOURS)]
        parts.append(f'<circle cx="{width - right + 20}" cy="{top + 10 + 20 * index}" r="4" fill="{colour}"/>'
                     f'<text x="{width - right + 30}" y="{top + 14 + 20 * index}" {text} class="legend">'
                     f'{html.escape(LABELS.get(gate, gate))}</text>')
        for row in part.itertuples():
            cx, cy = x(row.left_saturated), y(row.right_saturated)
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3.5" fill="{colour}" fill-opacity="0.7"/>')
            boxes.append(_box(cx - 4, cy - 4, 8, 8, width, height,
                              f"unit {row.unit}, {LABELS.get(gate, gate)}: below 0.1 {row.left_saturated:.0%}, "
                              f"above 0.9 {row.right_saturated:.0%}"))
    parts.append("</svg>")
    return _image(parts, width, height, f"{title}: {len(frame)} points", boxes, "saturation-scatter")
