"""Gate and state heatmaps as an SVG image with a hover label on every cell.

A Plotly heatmap of a few units over 100 characters costs the browser tens of thousands of DOM
changes (its ticks, its hover layer, its relayouts), which kept /gates busy long after its script had
finished (README, "Measuring speed"). The same map as an SVG image is one insertion: the cells as
a PNG (one pixel per cell, scaled up unsmoothed), the units on the left, the characters below, a
colour key; over the cells lies a row of transparent boxes, one per column, whose ``title`` the
browser shows on hover: the step, its character and each unit's value there ("step 12 · a", "unit 5:
0.731", ...), the values left out when more than ``LISTED_UNITS`` units are shown.

    heatmap_svg(values, tokens, units, quantity, title)    HTML for st.html (an <img> and its hover grid)
    colours(values, quantity, low, high)                   the RGBA of each cell, one scale for all (tests read them)
    unit_colours(values, quantity)                         the RGBA of each cell, each row on a scale of its own
    painted_rows_svg(values, tokens, labels, quantity, ...) HTML: rows of the same text, each painted by its values
    tensor_heatmap_svg(values, column_labels, ...)         an <img>: a tensor of the nn.LSTM explorer, no hover

Painted rows are the training movie's "this unit across training": the probe once per snapshot, each
character on the painted-text colours (lab_ui.gate_views.painted_text's: a gate green, a state red or
blue, stronger the further from its centre). As spans that was 2,200 elements and 200 kB on /gates;
as one image it is a PNG of a pixel per character under a line of text per row.
"""

from __future__ import annotations

import html
import math

import numpy as np

from lab_ui.render.palette import INK, LABEL_GREY, MARK, PAINT_GATE, PAINT_NEGATIVE, PAINT_POSITIVE
from lab_ui.render.svg import (hover_grid, hover_span, plot_area, png_image, scale_gradient, scale_stops, svg_image,
                               svg_open)
from lstm_core import gates
from lstm_core.analysis import show_char
from lstm_core.gates import LABELS

GATE_SCALE = "PuOr_r"  # a gate: purple shut (0), white half open (0.5), orange open (1)
STATE_SCALE = "RdBu_r"  # a state or candidate: blue negative, white 0, red positive
MAX_TICKS = 100  # characters labelled on the axis one by one; beyond that, positions (see position_ticks)
POSITION_TICKS = 20  # at most this many "step:character" labels when the characters do not all fit
MAX_ROW_LABELS = 40  # units named on the left; beyond that every k-th
LISTED_UNITS = 32  # a column's hover label lists every unit's value up to this many units shown
SCALES = {"quantity": "per quantity", "unit": "per unit"}  # a heatmap's colour scale: one for all rows, or one each


def colour_scale(quantity: str) -> str:
    return GATE_SCALE if is_gate(quantity) else STATE_SCALE


def colours(values: np.ndarray, quantity: str, low: float, high: float) -> np.ndarray:
    """RGBA bytes of ``values`` on the quantity's scale from ``low`` to ``high``, its centre (0.5 for a
    gate, 0 otherwise) white in the middle, as Plotly's zmid placed it; NaN is transparent."""
    centre = gates.quantity(quantity).centre
    return centred_rgba(values, colour_scale(quantity), centre, max(high - centre, centre - low))


def unit_colours(values: np.ndarray, quantity: str) -> np.ndarray:
    """RGBA bytes of ``values`` (units, time), each row on a scale of its own, so that a unit moving between ±1
    and ±3 shows beside one at ±39: a gate's row from its lowest value (the scale's shut end) to its highest
    (its open end); any other row centred on the quantity's centre (white), as far as the row reaches."""
    values = np.asarray(values, dtype=float)
    if not is_gate(quantity):
        return centred_rgba(values, colour_scale(quantity), gates.quantity(quantity).centre,
                            row_reach(values, quantity)[:, None])
    low, high = np.nanmin(values, axis=1, keepdims=True), np.nanmax(values, axis=1, keepdims=True)
    spread = np.where(high - low > 0, high - low, 1.0)
    where = np.where(high - low > 0, (np.nan_to_num(values, nan=0.5) - low) / spread, 0.5)  # a flat row: white
    return scale_rgba(where, colour_scale(quantity), np.isnan(values))


def row_reach(values: np.ndarray, quantity: str) -> np.ndarray:
    """How far each row (a unit) of ``values`` reaches from the quantity's centre (at least 1e-6)."""
    centre = gates.quantity(quantity).centre
    reach = np.nanmax(np.abs(np.asarray(values, dtype=float) - centre), axis=1) if np.size(values) else np.zeros(0)
    return np.maximum(np.nan_to_num(reach), 1e-6)


def centred_rgba(values: np.ndarray, scale: str, centre: float, reach) -> np.ndarray:
    """RGBA bytes of ``values`` on a diverging colour ``scale``: ``centre`` in its middle, ``centre`` ± ``reach``
    at its ends (beyond them, the end colours); NaN is transparent. ``reach`` may be one per row ((rows, 1))."""
    values = np.asarray(values, dtype=float)
    reach = np.where(np.asarray(reach, dtype=float) == 0, 1.0, reach)
    where = 0.5 + 0.5 * np.clip((np.nan_to_num(values, nan=centre) - centre) / reach, -1.0, 1.0)
    return scale_rgba(where, scale, np.isnan(values))


def scale_rgba(where: np.ndarray, scale: str, missing: np.ndarray) -> np.ndarray:
    """RGBA bytes of positions ``where`` (0 to 1) along a colour ``scale``; ``missing`` cells transparent."""
    positions, rgb = scale_stops(scale)
    values = where
    rgba = np.empty(values.shape + (4,), dtype=np.uint8)
    for channel in range(3):
        rgba[..., channel] = np.rint(np.interp(where, positions, rgb[:, channel]))
    rgba[..., 3] = np.where(missing, 0, 255)
    return rgba


def is_gate(quantity: str) -> bool:
    """A sigmoid gate of any architecture (an LSTM's i, f, o; a GRU's r, z): shut at 0, open at 1."""
    return gates.quantity(quantity).kind == "gate"


def key_ticks(quantity: str, low: float, high: float, scale: str = "quantity") -> list[tuple[float, str]]:
    """The colour key's ticks (value, text), in words where the quantity's values mean something; on a scale
    per unit, in words of the row (its lowest, its highest)."""
    if scale == "unit" and is_gate(quantity):
        return [(0.0, "row's min"), (1.0, "row's max")]
    if scale == "unit":
        centre = gates.quantity(quantity).centre
        return [(centre - 1, "−row's max"), (centre, f"{centre:g}"), (centre + 1, "+row's max")]
    if is_gate(quantity):
        return [(0.0, "0 shut"), (0.5, "0.5"), (1.0, "1 open")]
    return [(low, f"{low:+.2g}"), (gates.quantity(quantity).centre, "0"), (high, f"{high:+.2g}")]


def position_ticks(columns: int, first_step: int = 0) -> list[int]:
    """The columns labelled when the characters do not all fit: those whose step is a multiple of a round stride
    (10, 20, 25, 50, 100...), at most POSITION_TICKS of them. Every k-th character alone ("HPO↵ue-␣iaee")
    reads as nothing; a position with its character can be found in the text."""
    stride = next(n for n in (5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10_000, columns)
                  if columns / n <= POSITION_TICKS)
    return [t for t in range(columns) if (first_step + t) % stride == 0]


def heatmap_svg(values, tokens, units, quantity: str, title: str | None = None, first_step: int = 0,
                width: int = 1200, scale: str = "quantity") -> str:
    """``values`` (units shown, time) as HTML for ``st.html``: an SVG image (rows labelled by unit index, columns
    by token, a colour key) under a row of transparent boxes, one per column, whose titles are the hover labels.

    ``scale`` "quantity": one colour scale for every row; "unit": each row on its own (:func:`unit_colours`),
    its range written beside its unit's number and the key saying so.

    ``first_step`` numbers the columns when the tokens are a window of a longer text. (``st.html`` keeps no
    inline SVG, hence the image; its cells and the grid above them share the same place in percent.)
    """
    values = np.asarray(values, dtype=np.float32)
    rows, columns = values.shape
    per_unit = scale == "unit"
    low, high = (0.0, 1.0) if per_unit and is_gate(quantity) else \
        (gates.quantity(quantity).centre - 1, gates.quantity(quantity).centre + 1) if per_unit else \
        gates.colour_range(quantity, values)  # on a scale per unit, the key's ends are each row's own
    label = LABELS.get(quantity, quantity)
    left, right, top, bottom = 128 if per_unit else 64, 110, 26, 30
    height = int(min(860, max(120, 18 * rows)))
    full = top + height + bottom
    inner = width - left - right
    cell_w, cell_h = inner / max(columns, 1), height / max(rows, 1)
    text = f'fill="{INK}" font-size="12"'
    parts = [svg_open(width, full),
             f'<text x="{left}" y="16" font-size="14" font-weight="600" fill="{INK}">{html.escape(title or label)}</text>',
             png_image(unit_colours(values, quantity) if per_unit else colours(values, quantity, low, high),
                       left, top, inner, height)]
    every_row = max(1, int(np.ceil(rows / MAX_ROW_LABELS)))
    parts += [f'<text x="{left - 5}" y="{top + (r + 0.5) * cell_h + 4:.1f}" text-anchor="end" {text} '
              f'class="unit">unit {int(units[r])}{row_range(values[r], quantity) if per_unit else ""}</text>'
              for r in range(0, rows, every_row)]
    ticks = [(t, show_char(tokens[t])) for t in range(columns)] if columns <= MAX_TICKS else \
        [(t, f"{first_step + t}:{show_char(tokens[t])}") for t in position_ticks(columns, first_step)]
    parts += [f'<text x="{left + (t + 0.5) * cell_w:.1f}" y="{top + height + 16}" text-anchor="middle" '
              f'font-family="monospace" {text} class="tick">{html.escape(tick)}</text>' for t, tick in ticks]
    key_x, key_height = width - right + 14, min(height, 160)
    parts += [scale_gradient(colour_scale(quantity), "key"),
              f'<rect x="{key_x}" y="{top}" width="10" height="{key_height}" fill="url(#key)"/>']
    centre = gates.quantity(quantity).centre
    reach = max(high - centre, centre - low) or 1.0
    if per_unit:
        parts.append(f'<text x="{key_x - 2}" y="{top + key_height + 16}" {text} class="key-note">each row its own'
                     '</text>')
    for value, tick in key_ticks(quantity, low, high, scale):
        fraction = 0.5 + 0.5 * np.clip((value - centre) / reach, -1, 1)  # where the scale puts the value
        parts.append(f'<text x="{key_x + 14}" y="{top + (1 - fraction) * key_height + 4:.1f}" {text} '
                     f'class="key">{html.escape(tick)}</text>')
    parts.append("</svg>")
    # one hover box per column (a box per cell was 7,200 elements on /gates, which the browser sanitises and lays
    # out on every load): its label gives the step, its token and, when the map is small enough, every unit's value
    cells = [f"step {first_step + t} · {show_char(tokens[t])}"
             + "".join(f"\nunit {int(units[r])}: {values[r, t]:.3f}" for r in range(rows if rows <= LISTED_UNITS else 0))
             for t in range(columns)]
    grid = hover_grid(plot_area(left, top, inner, height, width, full), [hover_span(cell) for cell in cells], columns)
    return (f'<div class="gate-heatmap" data-quantity="{quantity}" data-scale="{scale}" '
            f'data-units="{",".join(str(int(u)) for u in units)}" style="position:relative;max-width:{width}px">'
            + svg_image(parts, f"{title or label}: heatmap of {rows} units over {columns} steps") + f"{grid}</div>")


def row_range(row: np.ndarray, quantity: str) -> str:
    """A row's own range, written after its unit's number on a scale per unit: " 0.12–0.97" for a gate,
    " ±3.1" for anything centred on 0."""
    if not np.isfinite(row).any():
        return ""
    if is_gate(quantity):
        return f" {np.nanmin(row):.2f}–{np.nanmax(row):.2f}"
    reach = float(row_reach(row[None, :], quantity)[0])
    return f" ±{reach:.2g}" if reach < 100 else f" ±{reach:.0f}"  # ±3.1, ±39, ±102


def tensor_heatmap_svg(values, column_labels, *, alt: str, row_title: str, column_title: str, key_title: str,
                       row_groups=(), column_groups=(), rotate_labels: bool = False, width: int = 900) -> str:
    """A tensor (the nn.LSTM explorer's weights and outputs) as one SVG image (an ``<img>`` for ``st.html``):
    cells as a pixel image, whole-number row ticks, column labels, and a colour key.

    ``row_groups`` [(label, first row, last row)] are split by black lines and named on the right (gate
    blocks, directions); ``column_groups`` [(title, first column, last column)] are named above (sentences).
    NaN cells are left empty. The colour scale (blue negative, white 0, red positive) is symmetric around 0,
    as far as the values reach. It has no hover: the numbers that matter are in the tables beside it.
    """
    values = np.asarray(values, dtype=float)
    rows, columns = values.shape
    reach = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 0.0
    reach = reach or 1.0
    left, right, top = 58, 124, 24 if column_groups else 10
    label_room = 8 + 6.2 * max((len(str(c)) for c in column_labels), default=1) * (0.72 if rotate_labels else 0)
    bottom = int(label_room) + 34
    height = int(min(420, max(110, 14 * rows)))
    cell_w, cell_h = (width - left - right) / columns, height / rows
    text = f'fill="{INK}" font-size="11"'
    parts = [svg_open(width, top + height + bottom),
             png_image(centred_rgba(values, STATE_SCALE, 0.0, reach), left, top, width - left - right, height)]
    step = max(1, math.ceil(rows / 16))
    parts += [f'<text x="{left - 5}" y="{top + (r + 0.5) * cell_h + 4:.1f}" text-anchor="end" {text}>{r}</text>'
              for r in range(0, rows, step)]
    parts.append(f'<text transform="translate(14 {top + height / 2:.1f}) rotate(-90)" text-anchor="middle" {text}>'
                 f'{html.escape(row_title)}</text>')
    for index, label in enumerate(column_labels):
        x, y = left + (index + 0.5) * cell_w, top + height + 14
        turn = f' transform="rotate(-45 {x:.1f} {y - 4})" text-anchor="end"' if rotate_labels else ' text-anchor="middle"'
        parts.append(f'<text x="{x:.1f}" y="{y}"{turn} {text}>{html.escape(str(label))}</text>')
    parts.append(f'<text x="{left + (width - left - right) / 2:.1f}" y="{top + height + bottom - 6}" '
                 f'text-anchor="middle" {text}>{html.escape(column_title)}</text>')
    spans = [(first, last + 1) for _, first, last in column_groups] or [(0, columns)]
    for label, first, last in row_groups:
        if last < rows - 1:
            y = top + (last + 1) * cell_h
            parts += [f'<line x1="{left + a * cell_w:.1f}" x2="{left + b * cell_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                      'stroke="black" stroke-width="2"/>' for a, b in spans]
        parts.append(f'<text x="{width - right + 6}" y="{top + (first + last + 1) / 2 * cell_h + 5:.1f}" '
                     f'font-weight="bold" {text.replace("11", "14")}>{html.escape(label)}</text>')
    for title, first, last in column_groups:
        parts.append(f'<text x="{left + (first + last + 1) / 2 * cell_w:.1f}" y="{top - 8}" text-anchor="middle" '
                     f'{text}>{html.escape(title)}</text>')
    key_x, key_top, key_height = width - right + 44, top + 24, min(height - 24, 160)
    parts += [scale_gradient(STATE_SCALE, "explorer-key", digits=2),
              f'<text x="{key_x}" y="{key_top - 12}" {text}>{html.escape(key_title)}</text>',
              f'<rect x="{key_x}" y="{key_top}" width="12" height="{key_height}" fill="url(#explorer-key)"/>']
    for fraction, value in ((0.0, reach), (0.5, 0.0), (1.0, -reach)):
        parts.append(f'<text x="{key_x + 16}" y="{key_top + fraction * key_height + 4:.1f}" {text}>{value:.4g}</text>')
    parts.append("</svg>")
    return svg_image(parts, alt, "width:100%")


CHAR_WIDTH, ROW_HEIGHT, ROW_LABEL_WIDTH = 8.4, 22, 84  # pixels: a character, a row, the rows' labels


def paint_css(rgb, alpha: float) -> str:
    """A painted colour as CSS."""
    return f"rgba({int(rgb[0])},{int(rgb[1])},{int(rgb[2])},{alpha:.2f})"


def paint_rgba(values: np.ndarray, quantity: str, low: float, high: float) -> np.ndarray:
    """RGBA bytes of painted text (lab_ui.gate_views.painted_text, the movie's painted rows): a gate green, more
    opaque the more open; anything else red above 0 and blue below, more opaque the further from 0; the
    opacity in hundredths. NaN is transparent."""
    values = np.asarray(values, dtype=float)
    rgba = np.zeros(values.shape + (4,), dtype=np.uint8)
    finite = np.isfinite(values)
    if is_gate(quantity):
        share = np.clip((np.nan_to_num(values) - low) / ((high - low) or 1.0), 0, 1)
        rgba[..., :3] = PAINT_GATE
    else:
        share = np.clip(np.nan_to_num(values) / (max(abs(low), abs(high)) or 1.0), -1, 1)
        rgba[..., :3] = np.where((share >= 0)[..., None], PAINT_POSITIVE, PAINT_NEGATIVE)
        share = np.abs(share)
    rgba[..., 3] = np.where(finite, np.rint(np.round(share, 2) * 255), 0)
    return rgba


def painted_rows_svg(values, tokens, labels: list[str], quantity: str, low: float, high: float,
                     current: int | None = None) -> str:
    """``values`` (rows, time): the same ``tokens`` once per row, each on its value's painted colour, the row
    named by ``labels`` on the left and ``current`` outlined in bold. Hovering a character's column lists its
    value in every row. Drawn at reading size: wider than the page,
    it scrolls sideways."""
    values = np.asarray(values, dtype=np.float32)
    rows, columns = values.shape
    inner = CHAR_WIDTH * columns
    width, height = int(np.ceil(ROW_LABEL_WIDTH + inner)), ROW_HEIGHT * rows
    line = "".join(show_char(t) if t in ("\n", "\t") else t for t in tokens)
    parts = [svg_open(width, height),
             png_image(paint_rgba(values, quantity, low, high), ROW_LABEL_WIDTH, 0, f"{inner:.1f}", height)]
    for r, label in enumerate(labels):
        bold = ' font-weight="bold"' if r == current else ""
        y = ROW_HEIGHT * r + 15.5
        parts += [f'<text x="2" y="{y}" font-family="monospace" font-size="12" fill="{LABEL_GREY}" class="row">'
                  f'{html.escape(label)}</text>',
                  f'<text x="{ROW_LABEL_WIDTH}" y="{y}" font-family="monospace" font-size="13" fill="{INK}"{bold} '
                  f'textLength="{inner:.1f}" lengthAdjust="spacing" style="white-space:pre">{html.escape(line)}</text>']
    if current is not None:
        parts.append(f'<rect class="current" x="1" y="{ROW_HEIGHT * current + 1}" width="{width - 2}" '
                     f'height="{ROW_HEIGHT - 2}" fill="none" stroke="{MARK}" stroke-width="2"/>')
    parts.append("</svg>")
    cells = [f"position {t} · {show_char(tokens[t])}" + "".join(f"\n{labels[r]}: {values[r, t]:.3f}" for r in range(rows))
             for t in range(columns)]
    grid = hover_grid(plot_area(ROW_LABEL_WIDTH, 0, inner, height, width, height), [hover_span(c) for c in cells],
                      columns)
    return (f'<div class="painted-rows" data-rows="{rows}" data-current="{"" if current is None else current}" '
            f'style="overflow:auto;max-height:{min(height + 20, 560)}px"><div style="position:relative;width:{width}px">'
            + svg_image(parts, f"{rows} rows of {columns} painted characters", f"width:{width}px;display:block")
            + f"{grid}</div></div>")
