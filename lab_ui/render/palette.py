"""Every colour LSTM Lab draws with, in one place: the ink of text and axes, the greys of captions and
grids, the series colours (Plotly's first ten, by name) and the order each kind of chart takes them in,
and the colour of each architecture on /compare.

Text and axes have one ink (:data:`INK`, Streamlit's text colour); captions and table headers a lighter
one (:data:`CAPTION_INK`, Streamlit's caption grey: the ink at 60%).
"""

from __future__ import annotations

INK = "#31333f"  # text, ticks and axis titles of every chart and table: Streamlit's text colour
CAPTION_INK = "rgba(49,51,63,0.6)"  # captions and table headers in HTML the app draws itself: Streamlit's grey
HAIRLINE = "rgba(49,51,63,0.1)"  # a table's cell borders
GRID = "#e6e6e6"  # a chart's grid lines
LIGHT_GRID = "#eee"  # the grid lines of the explorer's Plotly charts
TEXT_BOX_BACKGROUND = "#f0f2f6"  # the grey box of text a model wrote, as st.code draws it
SHARE_BAR = "#cfe0f5"  # a share's bar under its number in a table: the app's light blue
FAINT = "#888"  # what stands aside: a dotted level line (a probability's 0.5), the prompt before generated text
MARK = "#444"  # a line to read against: the movie's current frame, an outlined row, the n-gram's level, zero
CHANCE_LINE = "#999"  # the level of guessing on /compare
LABEL_GREY = "#555"  # small labels beside a drawing: the painted rows' names, a colour key's line
SWATCH_EDGE = "#ccc"  # the border of a colour key's swatch
ON_DARK = "#fff"  # text written on a dark cell or bar

# Plotly's (and D3's) first ten series colours, by name
BLUE, ORANGE, GREEN, RED, PURPLE = "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"
BROWN, PINK, GREY, OLIVE, CYAN = "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"

LINE = BLUE  # a chart's single line or bar
PLOTLY_ORDER = [BLUE, ORANGE, GREEN, RED, PURPLE]  # series in Plotly's own order (the saturation scatter's gates)
PALETTE = [BLUE, RED, GREEN, PURPLE, ORANGE, CYAN, BROWN, PINK]  # training curves, snapshots, sentences: in turn

ARCHITECTURE_COLOURS = {  # (architecture, LSTM variant) -> its colour on /compare
    ("lstm", "standard"): BLUE, ("gru", "standard"): GREEN, ("rnn", "standard"): RED,
    ("lstm", "no_forget_gate"): ORANGE, ("lstm", "coupled_gates"): PURPLE, ("lstm", "no_output_gate"): BROWN,
}
PYTORCH_START_COLOUR = CYAN  # the LSTM started as PyTorch starts it (lstm_core.compare.LSTM_PYTORCH_START)


def contender_colour(contender) -> str:
    """The colour of a model of a comparison (:class:`lstm_core.compare.Contender`), by its architecture."""
    if contender.pytorch_start:
        return PYTORCH_START_COLOUR
    return ARCHITECTURE_COLOURS[(contender.architecture, contender.variant)]


def rgb(colour: str) -> tuple[int, int, int]:
    """A "#rrggbb" colour as its three channels."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


# painted text (a text's characters on their values' colours): a gate green, a state red above 0, blue below
PAINT_GATE, PAINT_POSITIVE, PAINT_NEGATIVE = rgb("#228b22"), rgb(RED), rgb(BLUE)
