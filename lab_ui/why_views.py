"""How /why draws what lstm_core.why computes: characters painted by their score, deletion curves, the memory
diff's lines and heatmap, and the comparison of the three architectures on the memory task.

Colours never carry meaning alone: a painted character says its score on hover and the table beside it lists
the strongest; a positive score is also underlined, a negative one struck through with a dotted line; every
line of a chart has its own marker.
"""

from __future__ import annotations

import html

import numpy as np

from lab_ui.render.charts import Curve, curves_svg
from lab_ui.render.heatmaps import tensor_heatmap_svg
from lab_ui.render.palette import BLUE, GREY, VERMILLION, rgb, series_colour, series_marker
from lstm_core.analysis import show_char


def painted_scores(chars: list[str], scores: np.ndarray, target: str) -> str:
    """The text, each character's background orange (raised the log-probability) or blue (lowered it), the
    stronger the further from 0; hovering a character shows its position and score."""
    reach = float(np.max(np.abs(scores))) or 1.0
    spans = []
    for t, (ch, score) in enumerate(zip(chars, scores)):
        colour = rgb(VERMILLION if score > 0 else BLUE)
        alpha = min(1.0, abs(float(score)) / reach)
        cue = "underline" if score > 0 else "line-through dotted"
        shown = "↵<br>" if ch == "\n" else html.escape(" " if ch == " " else ch).replace(" ", "&nbsp;")
        spans.append(f'<span title="position {t}, {html.escape(show_char(ch))}: {score:+.3f}" style="background:'
                     f'rgba({colour[0]},{colour[1]},{colour[2]},{0.85 * alpha:.2f});text-decoration:'
                     f'{cue if alpha > 0.3 else "none"};padding:1px 0">{shown}</span>')
    key = (f'<div style="font-size:14px;margin-top:6px">Orange, underlined: raised log p({html.escape(show_char(target))});'
           ' blue, struck through: lowered it; the stronger the colour, the larger the score. Hover a character '
           'for its score.</div>')
    return (f'<div style="font-family:monospace;font-size:18px;line-height:1.9;white-space:normal">{"".join(spans)}'
            f'</div>{key}')


def deletion_chart(curves, name: str) -> str:
    """The target's probability as the best-scored characters are replaced, beside random's mean."""
    lines = [Curve(name, list(curves.k), list(curves.method), series_colour(0), marker=series_marker(0)),
             Curve(f"random (mean of {curves.draws} draws)", list(curves.k), list(curves.random), GREY, dashed=True,
                   marker=series_marker(1))]
    return curves_svg(lines, "characters replaced (k)", "probability of the target", kind="why-deletion",
                      height=300, title="Deletion curve: lower sooner is more faithful")


def norms_chart(diff, log_y: bool = False) -> str:
    """‖Δ‖ per step for each layer and state, and the next-character change (total variation)."""
    lines = []
    for quantity in diff.quantities:
        for layer in range(diff.layers):
            index = len(lines)
            lines.append(Curve(f"‖Δ {quantity.replace('_', ' ')}‖, layer {layer}", list(range(len(diff.chars_a))),
                               list(diff.norms(quantity, layer)), series_colour(index), marker=series_marker(index)))
    return curves_svg(lines, "step (the change is at step %d)" % diff.position, "‖Δ‖ over units", kind="why-norms",
                      height=300, log_y=log_y)


def change_chart(diff) -> str:
    tv = Curve("next-character change (total variation)", list(range(len(diff.chars_a))),
               list(diff.total_variation), series_colour(0), marker=series_marker(0))
    return curves_svg([tv], "step", "total variation", kind="why-tv", height=220, y_range=(0.0, 1.0),
                      title="How far the next-character distribution moved")


def delta_heatmap(diff, quantity: str, layer: int, top: int = 24) -> str:
    """Δ per unit and step: the ``top`` units whose Δ reaches furthest, in rows."""
    values = diff.delta[quantity][layer]  # (time, units)
    units = np.argsort(-np.abs(values).max(axis=0))[:top]
    return tensor_heatmap_svg(values[:, units].T, [show_char(c) for c in diff.chars_b],
                              alt=f"Δ {quantity} per unit, layer {layer}", row_title=f"unit (top {len(units)})",
                              column_title="character of the changed text", key_title="Δ",
                              row_groups=[(f"unit {u}", i, i) for i, u in enumerate(units)][:0])


def architectures_chart(diffs) -> str:
    """‖Δ memory state‖ per step of each architecture on the memory task, on a log scale."""
    lines = []
    for index, item in enumerate(diffs):
        norms = item.diff.norms(item.memory_state, 0)
        lines.append(Curve(f"{item.label}: ‖Δ {'c' if item.memory_state == 'cell_state' else 'h'}‖",
                           list(range(len(norms))), list(np.maximum(norms, 1e-12)), series_colour(index),
                           marker=series_marker(index)))
    return curves_svg(lines, "step (symbol changed at 0, cue at the end)", "‖Δ memory state‖ (log)", log_y=True,
                      kind="why-architectures", height=320)
