"""Views of gates and states, shared by the Gates & states, Generate, Tagger and Sentiment pages.

Every view takes tokens (characters, or words at word level) and numbers the model computed:

    painted_text(tokens, values, quantity)          HTML: each token's background coloured by a value
    probability_bars(frame, columns)                HTML: grouped bars of distributions (SVG)
    entropy_chart(model_bits, sampled_bits, tokens) HTML: entropy at every generated step (SVG)
    probability_text(chars, probs)                  HTML: generated text coloured by probability

The cell update at one step is drawn by the Cell lab's own diagram (``cell_views.show_cell_update``).

Gate and state heatmaps are SVG images (``lab_ui/render/heatmaps.py``), and the saturation scatter, the
surprisal and entropy lines and the distributions' bars too (``lab_ui/render/charts.py``): a page of
Plotly charts took the browser seconds to draw.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from lstm_core.analysis import show_char
from lstm_core import gates
from lstm_core.gates import LABELS, TABLE

from lab_ui.render.charts import Series, bars_svg, lines_svg
from lab_ui.render.heatmaps import paint_css, paint_rgba
from lab_ui.render.palette import (CAPTION_INK, FAINT, GREY, LABEL_GREY, MARK, PAINT_GATE, PAINT_NEGATIVE,
                                   PAINT_POSITIVE, RED, SWATCH_EDGE, rgb, series_colour, series_marker)

SEQUENTIAL = tuple(q.name for q in TABLE.values() if q.kind == "gate")  # values in [0, 1]: an LSTM's i, f, o, a GRU's r, z
MAX_TICKS = 100  # characters labelled on an axis; beyond that every k-th (labels stay readable)


show_token = show_char  # a visible form of tokens that print as nothing (newline, space, tab)




def token_axis(tokens, first_step: int = 0) -> tuple[list[str], list[str], list[str]]:
    """Categorical x values ("t · token", unique), and the tick values/texts to show (at most MAX_TICKS)."""
    categories = [f"{first_step + t} · {show_token(tok)}" for t, tok in enumerate(tokens)]
    every = max(1, int(np.ceil(len(tokens) / MAX_TICKS)))
    shown = range(0, len(tokens), every)
    return categories, [categories[t] for t in shown], [show_token(tokens[t]) for t in shown]


def painted_text(tokens, values, quantity: str = "hidden_state", separator: str = "",
                 colour_range: tuple[float, float] | None = None, max_height: int = 640, first_step: int = 0,
                 legend: bool = True) -> str:
    """HTML of the tokens, each on a background coloured by its value (Karpathy's view), under a
    one-line colour key (``legend``).

    Hovering a token shows its step and value. Newlines break the line (shown as ↵); a long text
    scrolls inside ``max_height`` pixels. ``first_step`` numbers the tokens of a window of a longer text.
    """
    values = np.asarray(values, np.float64)
    low, high = colour_range or gates.colour_range(quantity, values)
    rgba = paint_rgba(values, quantity, low, high)  # the painted colours, one source for every painted view
    spans = []
    for t, (token, value) in enumerate(zip(tokens, values)):
        shown = "↵" if token == "\n" else html.escape(token)
        background = paint_css(rgba[t, :3], rgba[t, 3] / 255) if np.isfinite(value) else "transparent"
        spans.append(f'<span title="step {first_step + t}: {value:.3f}" style="background:{background};'
                     f'padding:1px 0">{shown}</span>' + ("<br>" if token == "\n" else ""))
    key = painted_legend(quantity, low, high) if legend else ""
    return (key + '<div style="font-family:monospace;font-size:14px;line-height:1.7;white-space:pre-wrap;'
            f'word-break:break-all;max-height:{max_height}px;overflow-y:auto">{separator.join(spans)}</div>')


def side_by_side(panes: list[tuple[str, str]]) -> str:
    """HTML: (caption, HTML) panes side by side in equal columns, each under its caption, as one body (the
    browser draws one element far faster than a row of Streamlit columns)."""
    cells = "".join(f'<div style="min-width:0"><div style="font-size:14px;color:{CAPTION_INK};margin-bottom:0.5rem">'
                    f'{html.escape(caption)}</div>{body}</div>' for caption, body in panes)
    return f'<div style="display:grid;grid-template-columns:repeat({len(panes) or 1},minmax(0,1fr));gap:1rem">{cells}</div>'


def painted_legend(quantity: str, low: float, high: float) -> str:
    """One line saying what the painted colours mean, with swatches."""
    def swatch(colour: str, words: str) -> str:
        return (f'<span style="background:{colour};padding:0 0.6em;margin:0 0.3em 0 0.8em;border:1px solid {SWATCH_EDGE}">'
                f'&nbsp;</span>{words}')
    if quantity in SEQUENTIAL:
        parts = (swatch(paint_css(PAINT_GATE, 0.05), f"near {low:g} (shut)")
                 + swatch(paint_css(PAINT_GATE, 0.9), f"near {high:g} (open)"))
    else:
        parts = (swatch(paint_css(PAINT_NEGATIVE, 0.9), f"negative (down to {low:+.2g})") + swatch("transparent", "0")
                 + swatch(paint_css(PAINT_POSITIVE, 0.9), f"positive (up to {high:+.2g})"))
    name = html.escape(LABELS.get(quantity, quantity))
    return (f'<div style="font-size:12px;color:{LABEL_GREY};margin-bottom:4px">Colour key, {name}:'
            f'{parts} · hover a character for its step and value</div>')


def probability_text(chars, probs, prime: str = "") -> str:
    """HTML of generated text, each character's background redder the less likely it was drawn.

    The ``prime`` (what the model read first) is shown before it in grey.
    """
    spans = [f'<span style="color:{FAINT}">{html.escape(prime)}</span>'] if prime else []
    for ch, p in zip(chars, probs):
        shown = "↵" if ch == "\n" else html.escape(ch)
        unlikely = 1.0 - float(p)
        spans.append(f'<span title="p = {p:.3f}" style="background:{paint_css(rgb(RED), 0.75 * unlikely)}">{shown}</span>'
                     + ("<br>" if ch == "\n" else ""))
    return ('<div style="font-family:monospace;font-size:14px;line-height:1.7;white-space:pre-wrap">'
            + "".join(spans) + "</div>")


def probability_bars(frame, columns, labels=None, title: str = "") -> str:
    """HTML (an SVG chart): grouped bars, one group per ``frame["character"]``, one bar per column of ``frame``."""
    series = [Series((labels or {}).get(column, column), list(frame[column]), series_colour(i), hatched=i % 2 == 1)
              for i, column in enumerate(columns)]  # every second series hatched: told apart without colour
    return bars_svg(list(frame["character"]), series, title, "probability", kind="probability-bars")


def entropy_chart(model_bits, sampled_bits, tokens) -> str:
    """HTML (an SVG chart): entropy (bits) at every generated step; hovering shows the character drawn there."""
    series = [Series("model (temperature 1)", np.round(model_bits, 3).tolist(), series_colour(0), short="model",
                     marker=series_marker(0)),
              Series("drawn from (after temperature, top-k, top-p)", np.round(sampled_bits, 3).tolist(), series_colour(1),
                     short="drawn from", marker=series_marker(1))]
    return lines_svg(np.arange(len(tokens)), series, "", "step", "entropy (bits)",
                     hover_text=[f"drew {show_token(t)!r}" for t in tokens], kind="entropy-line", width=1200,
                     height=260)


def ablation_bars(frame, layer: int, height: int | None = None) -> go.Figure:
    """Ranked horizontal bars: the rise in loss (nats per character) when each unit of ``frame`` (rank, unit,
    loss, delta: :meth:`lstm_core.ablation.UnitAblation.frame`) is silenced, the costliest at the top."""
    rows = [f"unit {u}" for u in frame["unit"]]
    colours = [RED if d > 0 else GREY for d in frame["delta"]]
    figure = go.Figure(go.Bar(x=np.round(frame["delta"], 4), y=rows, orientation="h", marker={"color": colours},
                              customdata=np.stack([frame["rank"], frame["loss"]], axis=-1),
                              hovertemplate="%{y} (rank %{customdata[0]})<br>loss rises by %{x:+.4f} nats/char"
                                            "<br>to %{customdata[1]:.3f}<extra></extra>"))
    figure.update_yaxes(type="category", autorange="reversed", tickfont={"size": 12})
    figure.update_xaxes(title="rise in validation loss when silenced (nats per character)", zeroline=True,
                        zerolinecolor=MARK)
    figure.update_layout(title=f"Units the model cannot do without · layer {layer}",
                         height=height or int(min(700, 80 + 22 * len(rows))),
                         margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure
