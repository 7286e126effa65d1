"""The surprisal line, the saturation scatter and the curves of runs as SVG images (lab_ui.render.charts): every point is
drawn where its value puts it and carries a hover label with its numbers."""

import base64
import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from lab_ui.render.training_figures import accuracy_figure, figure_svg, signals_figure
from lab_ui.render.charts import Curve, Series, bars_svg, curves_svg, line_svg, lines_svg, saturation_svg


def image_of(drawn: str) -> str:
    return base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', drawn).group(1)).decode()


def hover_labels(drawn: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<span title="([^"]*)"', drawn)]


def test_a_line_over_the_characters_labels_each_one_and_leaves_a_gap_for_nan():
    drawn = line_svg([1.0, 3.0, np.nan], "a\nb", "surprisal (bits)", hover_text=["next: x 0.50", "next: y 0.25", ""],
                     first_step=10)
    assert hover_labels(drawn) == ["step 10 · a: surprisal (bits) 1.00; next: x 0.50",
                                   "step 11 · ↵: surprisal (bits) 3.00; next: y 0.25", "step 12 · b: no next character"]
    svg = image_of(drawn)
    assert re.findall(r'class="tick">([^<]*)<', svg) == ["a", "↵", "b"]
    points = [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)"', svg)]
    assert len(points) == 2 and points[1][1] < points[0][1]  # two values drawn, the larger one higher


def test_the_saturation_scatter_has_a_point_and_a_label_per_unit_and_gate():
    frame = pd.DataFrame({"gate": ["input_gate", "input_gate", "forget_gate"], "unit": [0, 1, 0],
                          "left_saturated": [0.0, 0.5, 1.0], "right_saturated": [1.0, 0.25, 0.0]})
    drawn = saturation_svg(frame, "Gate saturation · layer 0")
    labels = hover_labels(drawn)
    assert len(labels) == 3 and labels[1].startswith("unit 1, input gate") and "below 0.1 50%, above 0.9 25%" in labels[1]
    assert [re.search(r'grid-area:(\d+)/(\d+)', span).groups() for span in re.findall(r"<span [^>]*>", drawn)] == \
        [("1", "1"), ("36", "25"), ("48", "48")]  # rows from the top: (0, 1) top left, (1, 0) bottom right
    svg = image_of(drawn)
    points = [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="3.5"', svg)]
    squares = [(float(x) + float(w) / 2, float(y) + float(w) / 2)  # the forget gate's points: squares, not circles
               for x, y, w in re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" fill', svg)]
    assert len(points) == 2 and len(squares) == 2  # a point per unit and gate, and a marker per gate in the legend
    assert points[0][0] < squares[1][0] and points[0][1] < squares[1][1]  # (0, 1) top left, (1, 0) bottom right
    assert len(re.findall(r'class="legend"', svg)) == 2


def test_scatter_points_close_together_share_one_hover_label():
    frame = pd.DataFrame({"gate": ["output_gate"] * 30, "unit": range(30), "left_saturated": [1.0] * 30,
                          "right_saturated": [0.0] * 30})
    labels = hover_labels(saturation_svg(frame))
    assert len(labels) == 1 and labels[0].count("\n") == 12 and labels[0].endswith("... and 18 more here")


def test_lines_over_steps_leave_gaps_mark_a_step_and_label_each_point():
    drawn = lines_svg([0, 100, 200], [Series("forget gate f open", [0.2, None, 0.8]),
                                      Series("forget gate f shut", [0.5, 0.4, 0.1], "#d62728", dashed=True)],
                      "Gate saturation over training", "step", "share", percent=True, y_range=(0.0, 1.0), mark_x=100,
                      kind="saturation-over-training")
    assert 'class="saturation-over-training"' in drawn and 'data-mark="100"' in drawn
    assert hover_labels(drawn) == ["step 0: forget gate f open 20%, forget gate f shut 50%",
                                   "step 100: forget gate f shut 40%",  # the gap has no value to show
                                   "step 200: forget gate f open 80%, forget gate f shut 10%"]
    svg = image_of(drawn)
    assert re.findall(r'class="legend">([^<]*)<', svg) == ["forget gate f open", "forget gate f shut"]
    paths = re.findall(r'<path d="([^"]*)"', svg)
    assert paths[0].count("M") == 2 and "L" not in paths[0]  # two points either side of the gap, not joined
    assert 'stroke-dasharray="4,3"' in svg and 'class="mark"' in svg
    solid = [float(y) for y in re.findall(r"[ML][\d.]+,([\d.]+)", paths[0])]
    assert solid[1] < solid[0]  # 80% drawn above 20%


def test_a_long_line_groups_its_steps_into_a_bounded_number_of_hover_boxes():
    values = np.linspace(0.0, 3.0, 1000)
    drawn = lines_svg(np.arange(1000), [Series("model", values)], x_label="step", hover_text=[f"drew {i}" for i in
                                                                                             range(1000)])
    labels = hover_labels(drawn)
    assert len(labels) <= 400 and sum(label.count("\n") + 1 for label in labels) == 1000  # every step, once
    assert labels[0].startswith("step 0: model 0.00; drew 0\nstep 1: model 0.00; drew 1")


def test_grouped_bars_keep_their_values_and_label_each_group():
    drawn = bars_svg(["e", "␣"], [Series("before", [0.5, 0.25]), Series("after", [0.125, 0.75], "#ff7f0e")],
                     "Next character")
    assert hover_labels(drawn) == ["e: before 0.500, after 0.125", "␣: before 0.250, after 0.750"]
    values = json.loads(html.unescape(re.search(r'data-values="([^"]*)"', drawn).group(1)))
    assert values == {"before": [0.5, 0.25], "after": [0.125, 0.75]}
    svg = image_of(drawn)
    heights = [float(h) for h in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)"', svg)]
    assert heights[3] == max(heights) and heights[3] == pytest.approx(6 * heights[2], abs=0.5)  # 0.75 is 6 x 0.125
    assert re.findall(r'class="tick">([^<]*)<', svg) == ["e", "␣"]


def test_curves_over_their_own_steps_share_one_axis_and_hover_each_nearest_point():
    drawn = curves_svg([Curve("train", [0, 10, 20, 30], [4.0, 3.0, 2.5, 2.0]),
                        Curve("validation", [15, 30], [2.8, 2.2], "#d62728", markers=True)], "Step", "Loss")
    values = json.loads(html.unescape(re.search(r'data-values="([^"]*)"', drawn).group(1)))
    assert values == {"train": [[0, 4.0], [10, 3.0], [20, 2.5], [30, 2.0]], "validation": [[15, 2.8], [30, 2.2]]}
    labels = hover_labels(drawn)
    assert len(labels) == 150
    assert labels[0].splitlines()[1:] == ["train: 4 at 0", "validation: 2.8 at 15"]  # each curve's nearest point
    assert labels[-1].splitlines()[1:] == ["train: 2 at 30", "validation: 2.2 at 30"]
    svg = image_of(drawn)
    assert len(re.findall(r"<circle", svg)) == 2 and re.findall(r'class="legend">([^<]*)<', svg) == ["train", "validation"]


def test_a_line_figure_made_for_plotly_is_drawn_the_same_as_svg():
    frame = pd.DataFrame({"step": [1, 2, 3], "seconds": [0.1, 0.2, 0.3], "train_accuracy": [0.5, 0.6, 0.7],
                          "valid_accuracy": [np.nan, np.nan, 0.65]})
    figure = accuracy_figure({"run": frame})
    drawn = figure_svg(figure, "accuracy-curves")
    svg = image_of(drawn)
    assert 'class="accuracy-curves"' in drawn and "Accuracy" in svg and ">100%<" in svg  # the figure's fixed 0 to 1.02
    values = json.loads(html.unescape(re.search(r'data-values="([^"]*)"', drawn).group(1)))
    assert values == {"train": [[1, 0.5], [2, 0.6], [3, 0.7]], "validation": [[3, 0.65]]}
    single = image_of(figure_svg(accuracy_figure({"run": frame.tail(1)}), "accuracy-curves"))  # one step only
    assert re.findall(r'text-anchor="middle" fill="#31333f" font-size="12">([\d,.]+)<', single)[0] == "3"
    assert "3.2" not in single  # no tick between two steps


def test_a_figure_of_stacked_panels_is_drawn_as_one_chart_a_panel_with_its_own_title_and_log_axis():
    steps = np.arange(1, 101)
    frame = pd.DataFrame({"step": steps, "seconds": steps * 0.1, "chars_per_sec": 30_000 + 10 * steps,
                          "grad_norm": 1.0 / steps, "lr": 1e-3 * 1.03 ** steps})
    drawn = figure_svg(signals_figure(frame, item_name="chars"), "live-signals", width=600)
    images = [base64.b64decode(found).decode() for found in re.findall(r'base64,([^"]+)"', drawn)]
    assert len(images) == 3 and drawn.count('class="live-signals"') == 3
    titles = [re.search(r'font-weight="600"[^>]*>([^<]*)<', svg).group(1) for svg in images]
    assert titles == ["Throughput (characters/s)", "Gradient norm (before clipping)", "Learning rate"]
    assert ">Step<" in images[2] and ">Step<" not in images[0], "the x axis is named under the last panel only"
    values = [json.loads(html.unescape(v))["Learning rate"] for v in re.findall(r'data-values="([^"]*)"', drawn)[2:]]
    assert values[0][0] == [1, pytest.approx(1.03e-3, rel=1e-3)] and len(values[0]) == 100
    rate_ticks = [float(t) for t in re.findall(r'text-anchor="end" fill="#31333f" font-size="12">([^<]*)<', images[2])]
    assert rate_ticks and all(1e-3 <= t <= 2.1e-2 for t in rate_ticks)  # the figure's own log ticks, in range
    heights = {}
    for tick in rate_ticks:  # equal ratios are equal distances on a log axis
        y = re.search(rf'y="([\d.]+)" text-anchor="end" fill="#31333f" font-size="12">{tick:.2g}<', images[2])
        heights[tick] = float(y.group(1))
    (a, ya), (b, yb), (c, yc) = sorted(heights.items())  # three ticks: 0.001, 0.0044, 0.019
    assert (ya - yb) / (yb - yc) == pytest.approx(np.log(b / a) / np.log(c / b), rel=0.05)
    assert not hover_labels(figure_svg(signals_figure(frame), "live-signals", hover=False))
