"""The surprisal line and the saturation scatter as SVG images (lab_ui.svg_charts): every point is
drawn where its value puts it and carries a hover label with its numbers."""

import base64
import html
import re

import numpy as np
import pandas as pd

from lab_ui.svg_charts import line_svg, saturation_svg


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
    svg = image_of(drawn)
    points = [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="3.5"', svg)]
    assert points[0][0] < points[2][0] and points[0][1] < points[2][1]  # (0, 1) top left, (1, 0) bottom right
    assert len(re.findall(r'class="legend"', svg)) == 2
