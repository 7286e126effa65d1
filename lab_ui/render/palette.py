"""Every colour LSTM Lab draws with, in one place: the ink of text and axes, the greys of captions and
grids, the series colours and the order each kind of chart takes them in, the colour of each gate and state,
and the colour of each architecture on /compare.

Series are told apart by colour and by a second cue, a marker shape (:data:`MARKERS`, Plotly's symbol names;
lab_ui.render.charts draws them in SVG), so that a chart stays readable without colour. The series colours are
Okabe & Ito's palette for colour-blind readers (Okabe & Ito 2008, "Color Universal Design",
https://jfly.uni-koeln.de/color/): under a simulated protanopia or deuteranopia (Machado et al. 2009) every two
of them stay at least 10 CIEDE2000 apart (tests/test_colour_vision.py). Its yellow is left out of the series:
a thin yellow line on white is hard to see for anyone.

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

# Okabe & Ito's colours, by name (the old names, BLUE, RED..., are the nearest of them)
BLACK, ORANGE, SKY_BLUE, BLUISH_GREEN = "#000000", "#e69f00", "#56b4e9", "#009e73"
YELLOW, BLUE, VERMILLION, REDDISH_PURPLE = "#f0e442", "#0072b2", "#d55e00", "#cc79a7"
GREEN, RED, PURPLE, CYAN = BLUISH_GREEN, VERMILLION, REDDISH_PURPLE, SKY_BLUE
GREY = "#7f7f7f"  # what a chart does not single out (an ablation that changed nothing)

LINE = BLUE  # a chart's single line or bar
PALETTE = [BLUE, VERMILLION, BLUISH_GREEN, REDDISH_PURPLE, ORANGE, SKY_BLUE, BLACK]  # series in turn
MARKERS = ["circle", "square", "triangle-up", "diamond", "triangle-down", "cross", "x"]  # each series' second cue


def series_colour(index: int) -> str:
    """The colour of a chart's ``index``-th series (the palette's colours in turn)."""
    return PALETTE[index % len(PALETTE)]


def series_marker(index: int) -> str:
    """The marker of a chart's ``index``-th series: one shape per colour, so that the pair never repeats
    before the palette does."""
    return MARKERS[index % len(MARKERS)]


MARKER_GLYPHS = {"circle": "●", "square": "■", "triangle-up": "▲", "diamond": "◆", "triangle-down": "▼",
                 "cross": "✚", "x": "✖"}  # a marker as a character, for a key written in text


GATE_COLOURS = {  # each gate and state, the same in every chart that tells them apart (a gate's saturation...)
    "input_gate": BLUE, "forget_gate": VERMILLION, "cell_candidate": BLUISH_GREEN, "output_gate": REDDISH_PURPLE,
    "cell_state": ORANGE, "hidden_state": SKY_BLUE,
    "reset_gate": BLUE, "update_gate": VERMILLION, "new_gate": BLUISH_GREEN,  # a GRU's r, z and n
}
GATE_MARKERS = {"input_gate": "circle", "forget_gate": "square", "cell_candidate": "triangle-up",
                "output_gate": "diamond", "cell_state": "triangle-down", "hidden_state": "cross",
                "reset_gate": "circle", "update_gate": "square", "new_gate": "triangle-up"}
PLOTLY_ORDER = [GATE_COLOURS[g] for g in ("input_gate", "forget_gate", "cell_candidate", "output_gate")]  # old name

ARCHITECTURE_COLOURS = {  # (architecture, LSTM variant) -> its colour on /compare
    ("lstm", "standard"): BLUE, ("gru", "standard"): BLUISH_GREEN, ("rnn", "standard"): VERMILLION,
    ("lstm", "no_forget_gate"): ORANGE, ("lstm", "coupled_gates"): REDDISH_PURPLE, ("lstm", "no_output_gate"): BLACK,
}
PYTORCH_START_COLOUR = SKY_BLUE  # the LSTM started as PyTorch starts it (lstm_core.compare.LSTM_PYTORCH_START)
PYTORCH_START_MARKER = "cross"
ARCHITECTURE_MARKERS = {  # (architecture, LSTM variant) -> its marker on /compare
    ("lstm", "standard"): "circle", ("gru", "standard"): "triangle-up", ("rnn", "standard"): "square",
    ("lstm", "no_forget_gate"): "diamond", ("lstm", "coupled_gates"): "triangle-down", ("lstm", "no_output_gate"): "x",
}


def gate_colour(quantity: str) -> str:
    """The colour of a gate or state (an LSTM's or a GRU's quantity), the palette's first for anything else."""
    return GATE_COLOURS.get(quantity, PALETTE[0])


def gate_marker(quantity: str) -> str:
    return GATE_MARKERS.get(quantity, MARKERS[0])


def contender_colour(contender) -> str:
    """The colour of a model of a comparison (:class:`lstm_core.compare.Contender`), by its architecture."""
    if contender.pytorch_start:
        return PYTORCH_START_COLOUR
    return ARCHITECTURE_COLOURS[(contender.architecture, contender.variant)]


def contender_marker(contender) -> str:
    """The marker of a model of a comparison, by its architecture: its second cue beside its colour."""
    if contender.pytorch_start:
        return PYTORCH_START_MARKER
    return ARCHITECTURE_MARKERS[(contender.architecture, contender.variant)]


def rgb(colour: str) -> tuple[int, int, int]:
    """A "#rrggbb" colour as its three channels."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


# painted text (a text's characters on their values' colours): a gate green, a state red above 0, blue below
PAINT_GATE, PAINT_POSITIVE, PAINT_NEGATIVE = rgb("#228b22"), rgb("#d62728"), rgb("#1f77b4")
