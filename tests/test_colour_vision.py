"""Every chart that tells series apart by colour stays readable under protanopia and deuteranopia.

Each pair of colours that one chart shows together must stay at least :data:`THRESHOLD` apart in CIEDE2000
after a simulation of each deficiency (Machado, Oliveira & Fernandes 2009, severity 1.0: tests/colour_vision.py),
and with normal vision. Why 10: a CIEDE2000 difference of about 1 to 2.3 is just noticeable between two large
patches seen side by side (Sharma, Wu & Dalal 2005; Mahy, Van Eycken & Oosterlinck 1994); the marks of a chart
are thin lines and small dots, seen apart and matched against a legend, and Szafir (2017, "Modeling Color
Difference for Visualization Design", IEEE TVCG 24(1)) measured that such small marks need differences several
times larger to be told apart reliably. 10, four times the just-noticeable 2.3, is the round figure palette
tools use for colours "distinct at a glance". Okabe & Ito's colours meet it: their closest pair (orange and
yellow under deuteranopia) is 11.6 apart; Plotly's green and red, which /compare used for GRU and RNN, are 4.6.

The colours are taken from the palettes (lab_ui.render.palette) and, chart by chart, out of what the chart
builders draw: a new chart, or a new series, with clashing colours fails here. Each series also carries a
second cue (a marker, a dash or a hatch), checked where the chart draws one.
"""

from __future__ import annotations

import base64
import html
import itertools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from colour_vision import ciede2000, difference
from lab_ui import compare_views, gate_views
from lab_ui.render import palette
from lab_ui.render.charts import saturation_svg
from lab_ui.render.training_figures import figure_svg, loss_figure
from lab_ui.snapshot_views import saturation_over_training
from lstm_core import GradientFlow
from lstm_core.architectures import ENTRIES, REGISTRY
from lstm_core.compare import Contender

THRESHOLD = 10.0  # CIEDE2000 after simulation (see above)
DEFICIENCIES = (None, "protanopia", "deuteranopia")
NEUTRALS = {c.lower() for c in (palette.INK, palette.GRID, palette.FAINT, palette.MARK, palette.CHANCE_LINE,
                                palette.LABEL_GREY, palette.SWATCH_EDGE, palette.ON_DARK, palette.LIGHT_GRID, "#fff",
                                "#ffffff", "grey")}  # ink, grids and reference lines: not series


def clashes(colours) -> list[str]:
    """The pairs of ``colours`` closer than THRESHOLD under some vision, in words (empty: none)."""
    found = []
    for one, other in itertools.combinations(sorted(set(c.lower() for c in colours)), 2):
        for deficiency in DEFICIENCIES:
            gap = difference(one, other, deficiency)
            if gap < THRESHOLD:
                found.append(f"{one} and {other}: {gap:.1f} ({deficiency or 'normal vision'})")
    return found


def svg_colours(drawn: str) -> set[str]:
    """The series colours an SVG chart (HTML with base64 <img>s) draws: every stroke and fill but the neutrals."""
    found = set()
    for image in re.findall(r'src="data:image/svg\+xml;base64,([^"]+)"', drawn):
        svg = base64.b64decode(image).decode()
        found |= {c.lower() for c in re.findall(r'(?:stroke|fill)="(#[0-9a-fA-F]{3,6})"', svg)}
    return found - NEUTRALS


def figure_colours(figure) -> set[str]:
    """The line and marker colours of a Plotly figure's traces."""
    data = figure["data"] if isinstance(figure, dict) else figure.to_dict()["data"]
    found = {trace.get("line", {}).get("color") for trace in data} | {trace.get("marker", {}).get("color")
                                                                      for trace in data}
    return {c.lower() for c in found if isinstance(c, str)} - NEUTRALS


# -- the simulation and the difference themselves ------------------------------------------------------
@pytest.mark.parametrize("lab1, lab2, expected", [  # Sharma, Wu & Dalal (2005), table 1: pairs 1, 7, 14 and 34
    ((50, 2.6772, -79.7751), (50, 0, -82.7485), 2.0425), ((50, 0, 0), (50, -1, 2), 2.3669),
    ((50, 2.5, 0), (73, 25, -18), 27.1492), ((90.8027, -2.0831, 1.4410), (91.1528, -1.6435, 0.0447), 1.4441)])
def test_ciede2000_matches_the_published_test_data(lab1, lab2, expected):
    assert ciede2000(lab1, lab2) == pytest.approx(expected, abs=1e-4)


def test_the_simulation_merges_what_it_should():
    """Plotly's green and red (GRU and RNN on /compare before) merge under deuteranopia, and a grey stays a grey."""
    assert difference("#2ca02c", "#d62728") > 50
    assert difference("#2ca02c", "#d62728", "deuteranopia") < THRESHOLD
    assert clashes(["#2ca02c", "#d62728"])
    assert difference("#777777", "#777777", "protanopia") == pytest.approx(0, abs=1e-6)
    assert difference("#777777", "#888888", "protanopia") == pytest.approx(difference("#777777", "#888888"), abs=0.2)


# -- the palettes ---------------------------------------------------------------------------------------
def test_the_series_palette_keeps_every_pair_apart():
    assert clashes(palette.PALETTE) == []
    assert len(set(palette.MARKERS)) == len(palette.MARKERS) == len(palette.PALETTE)


def test_every_architecture_on_compare_has_its_own_colour_and_marker():
    keys = [entry.key for entry in ENTRIES]
    assert set(palette.ARCHITECTURE_COLOURS) == set(keys) == set(palette.ARCHITECTURE_MARKERS)
    assert clashes(palette.ARCHITECTURE_COLOURS.values()) == []  # /compare may show every one of them at once
    assert len(set(palette.ARCHITECTURE_MARKERS.values())) == len(keys)


@pytest.mark.parametrize("key", list(REGISTRY))
def test_each_architectures_gates_and_states_keep_apart(key):
    quantities = REGISTRY[key].quantities
    assert clashes([palette.gate_colour(q) for q in quantities]) == []
    assert len({palette.gate_marker(q) for q in quantities}) == len(quantities)


def test_the_cell_labs_series_colours_keep_apart():
    source = (Path(__file__).parents[1] / "lab_ui/components/cell_lab.js").read_text()
    colours = re.findall(r"#[0-9a-fA-F]{6}", re.search(r"const SERIES_COLOURS = \[([^\]]*)\]", source).group(1))
    assert len(colours) >= 3 and clashes(colours) == []


# -- the charts as drawn --------------------------------------------------------------------------------
def saturation_frame(gates_: list[str]) -> pd.DataFrame:
    rows = [{"gate": gate, "unit": unit, "left_saturated": 0.1 * unit, "right_saturated": 0.3}
            for gate in gates_ for unit in range(3)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("key", list(REGISTRY))
def test_the_saturation_scatter_of_every_architecture(key):
    """/gates' scatter: forget and output gate (red and green before) apart, and a shape per gate."""
    sigmoid = list(REGISTRY[key].sigmoid_gates)
    if not sigmoid:
        pytest.skip("no gates to saturate")
    drawn = saturation_svg(saturation_frame(sigmoid))
    colours = svg_colours(drawn)
    assert len(colours) == len(sigmoid) and clashes(colours) == []
    assert len({palette.gate_marker(g) for g in sigmoid}) == len(sigmoid)


@pytest.mark.parametrize("key", list(REGISTRY))
def test_the_train_pages_saturation_over_training(key):
    sigmoid = list(REGISTRY[key].sigmoid_gates)
    if not sigmoid:
        pytest.skip("no gates to saturate")
    summary = {"gates": {g: {"open": [0.2 + 0.1 * i], "shut": [0.1]} for i, g in enumerate(sigmoid)}}
    series = [{"step": step, "seconds": step / 10, "summary": summary} for step in range(0, 200, 10)]
    drawn = saturation_over_training(series, 0)
    colours = svg_colours(drawn)
    assert len(colours) == len(sigmoid) and clashes(colours) == []
    svg = base64.b64decode(re.search(r'base64,([^"]+)"', drawn).group(1)).decode()
    assert "<polygon" in svg or "<rect" in svg  # markers beyond the circle: the gates' shapes


def test_the_loss_charts_of_one_and_of_several_runs():
    frame = pd.DataFrame({"step": np.arange(50), "seconds": np.arange(50) / 5.0, "train_loss": np.linspace(3, 1, 50),
                          "valid_loss": [2.0 if s % 10 == 0 else np.nan for s in range(50)]})
    for runs in ({"run": frame}, {f"run {i}": frame for i in range(len(palette.PALETTE))}):
        figure = loss_figure(runs)
        assert clashes(figure_colours(figure)) == [] and clashes(svg_colours(figure_svg(figure))) == []
        styles = {(t["line"]["color"], t["marker"]["symbol"]) for t in figure["data"] if "validation" in t["name"]}
        assert len(styles) == len(runs)  # each run's validation line: a colour and a marker of its own


def test_compares_charts_with_every_contender():
    contenders = {entry.label: Contender(entry.name, entry.variant) for entry in ENTRIES}
    frame = pd.DataFrame({"step": np.arange(40), "train_loss": np.linspace(2, 1, 40),
                          "valid_loss": [1.5 if s % 10 == 0 else np.nan for s in range(40)],
                          "valid_accuracy": [0.5 if s % 10 == 0 else np.nan for s in range(40)]})
    frames = {label: frame for label in contenders}
    loss = compare_views.loss_overlay(frames, contenders, 1.2, 2.08, "Loss")
    accuracy = compare_views.accuracy_overlay(frames, contenders, 1 / 8)
    flows = {label: GradientFlow(np.ones((1, 20)), np.ones((1, 20)) if c.architecture == "lstm" else None, [0],
                                 c.architecture) for label, c in contenders.items()}
    gradients = compare_views.gradient_figure(flows, contenders)
    for figure in (loss, accuracy, gradients):
        colours = figure_colours(figure)
        assert len(colours) == len(contenders) and clashes(colours) == []
    assert clashes(svg_colours(figure_svg(loss))) == [] and clashes(svg_colours(figure_svg(accuracy))) == []
    symbols = {t["name"].split(" · ")[0]: t["marker"]["symbol"] for t in gradients.to_dict()["data"]}
    assert len(set(symbols.values())) == len(contenders)


def test_generates_and_gates_two_series_charts():
    bars = gate_views.probability_bars(pd.DataFrame({"character": list("abc"), "p": [0.2, 0.3, 0.5],
                                                     "q": [0.5, 0.3, 0.2]}), ["p", "q"])
    entropy = gate_views.entropy_chart(np.linspace(1, 2, 30), np.linspace(2, 1, 30), list("ab" * 15))
    for drawn in (bars, entropy):
        colours = svg_colours(drawn)
        assert len(colours) == 2 and clashes(colours) == []
    assert "url(#hatch)" in html.unescape(base64.b64decode(re.search(r'base64,([^"]+)"', bars).group(1)).decode())
