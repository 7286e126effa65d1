"""A classifier's charts as SVG images (lab_ui.render.matrices, drawn by lab_ui.task_views): the confusion matrix,
the accuracy per class and the per-word class probabilities show the evaluation's and the model's own
numbers, each cell with its hover label."""

import html
import json
import re

import numpy as np

from lab_ui.render.charts import line_svg
from lab_ui.task_views import confusion_chart, per_class_chart, probability_grid
from tests.page_helpers import hover_labels, svg_of

EVALUATION = {"labels": ["negative", "positive"], "confusion": [[7, 3], [0, 10]],
              "per_class": {"negative": {"accuracy": 0.7, "total": 10}, "positive": {"accuracy": 1.0, "total": 10},
                            "neutral": {"accuracy": 0.0, "total": 0}}}


def chart_values(drawn: str) -> dict:
    return json.loads(html.unescape(re.search(r'data-values="([^"]*)"', drawn).group(1)))


def test_the_confusion_matrix_colours_each_row_by_its_shares_and_writes_the_counts():
    drawn = confusion_chart(EVALUATION)
    assert 'class="confusion-matrix"' in drawn
    values = chart_values(drawn)
    assert np.allclose(values["values"], [[0.7, 0.3], [0.0, 1.0]])
    assert values["rows"] == values["columns"] == ["negative", "positive"]
    assert hover_labels(drawn) == ["true negative, predicted negative: 7 items (70.0% of the row)",
                                   "true negative, predicted positive: 3 items (30.0% of the row)",
                                   "true positive, predicted negative: 0 items (0.0% of the row)",
                                   "true positive, predicted positive: 10 items (100.0% of the row)"]
    svg = svg_of(drawn)
    assert re.findall(r'class="cell">([^<]*)<', svg) == ["7", "3", "10"]  # 0 left blank
    fills = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="([^"]+)"', svg)
    assert fills[3] != fills[2]  # a full row's cell is darker than an empty one


def test_accuracy_per_class_runs_from_the_worst_class_and_leaves_out_empty_ones():
    drawn = per_class_chart(EVALUATION)
    values = chart_values(drawn)
    assert values["names"] == ["negative", "positive"] and values["values"] == [0.7, 1.0]
    assert hover_labels(drawn) == ["negative: 70.0% of its 10 test items right",
                                   "positive: 100.0% of its 10 test items right"]
    bars = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg_of(drawn))]
    assert bars[1] > bars[0] > 0


def test_the_probability_grid_has_a_row_per_class_and_a_column_per_word():
    probs = np.array([[0.9, 0.1], [0.25, 0.75], [0.5, 0.5]])
    drawn = probability_grid(probs, ["the", "dog", "barks"], ["DET", "NOUN"])
    values = chart_values(drawn)
    assert np.allclose(values["values"], probs.T) and values["columns"] == ["the", "dog", "barks"]
    labels = hover_labels(drawn)
    assert len(labels) == 6 and labels[0] == "word 0 · the → DET: 90.0%" and labels[4] == "word 1 · dog → NOUN: 75.0%"


def test_a_line_over_words_can_hold_its_axis_to_one_and_draw_a_guide():
    drawn = line_svg([0.2, 0.8], ["good", "film"], "P(positive)", high=1.0, guide=0.5)
    svg = svg_of(drawn)
    guide = float(re.search(r'y1="([\d.]+)"[^>]*class="guide"', svg).group(1))
    circles = [float(y) for y in re.findall(r'<circle cx="[\d.]+" cy="([\d.]+)"', svg)]
    assert circles[0] > guide > circles[1]  # 0.2 below the 0.5 line, 0.8 above it
    assert re.findall(r'class="tick">([^<]*)<', svg) == ["good", "film"]
