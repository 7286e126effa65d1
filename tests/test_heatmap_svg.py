"""Gate and state heatmaps as SVG (lab_ui.render.heatmaps): every cell painted with its value's colour,
centred where the quantity's meaning changes, each column with a hover label giving its values."""

import base64
import html
import re
import struct
import zlib

import numpy as np

from lab_ui.render.heatmaps import LISTED_UNITS, colours, heatmap_svg


def image_of(heatmap: str) -> str:
    """The SVG image of a heatmap's HTML."""
    return base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', heatmap).group(1)).decode()


def hover_labels(heatmap: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<span title="([^"]*)"', heatmap)]


def pixels(svg: str) -> np.ndarray:
    """The cells, one RGBA pixel each, decoded from the PNG inside the SVG."""
    data = base64.b64decode(re.search(r'href="data:image/png;base64,([^"]+)"', svg).group(1))
    width, height = struct.unpack(">II", data[16:24])
    raw = zlib.decompress(data[data.index(b"IDAT") + 4:data.index(b"IEND") - 8])
    rows = [raw[y * (4 * width + 1) + 1:(y + 1) * (4 * width + 1)] for y in range(height)]
    return np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, 4)


def test_each_cell_has_its_values_colour_and_hover_label():
    values = np.array([[0.0, 0.5, 1.0], [0.25, 0.75, 0.9]])
    drawn = heatmap_svg(values, "ab\n", [7, 3], "forget_gate", title="Forget gate · layer 0")
    svg = image_of(drawn)
    image = pixels(svg)
    assert image.shape == (2, 3, 4)
    np.testing.assert_array_equal(image, colours(values, "forget_gate", 0.0, 1.0))
    assert tuple(image[0, 1, :3]) == (247, 247, 247)  # half open is the scale's white middle
    assert image[0, 0, 2] > image[0, 0, 0] and image[0, 2, 0] > image[0, 2, 2]  # purple shut, orange open
    assert "grid-template-columns:repeat(3,1fr)" in drawn  # a hover box per column, over the cells
    assert hover_labels(drawn) == ["step 0 · a\nunit 7: 0.000\nunit 3: 0.250", "step 1 · b\nunit 7: 0.500\nunit 3: 0.750",
                                   "step 2 · ↵\nunit 7: 1.000\nunit 3: 0.900"]
    assert re.findall(r'class="tick">([^<]*)<', svg) == ["a", "b", "↵"]
    assert re.findall(r'class="unit">([^<]*)<', svg) == ["unit 7", "unit 3"]


def test_states_are_centred_on_zero_and_symmetric():
    values = np.array([[-2.0, 0.0, 1.0]])
    drawn = heatmap_svg(values, "xyz", [0], "cell_state", first_step=40)
    svg = image_of(drawn)
    image = pixels(svg)
    assert tuple(image[0, 1, :3]) == (247, 247, 247)  # 0 is white
    assert image[0, 0, 2] > image[0, 0, 0]  # negative blue
    assert image[0, 2, 0] > image[0, 2, 2]  # positive red
    assert re.findall(r'class="key">([^<]*)<', svg) == ["-2", "0", "+2"]
    assert hover_labels(drawn)[0] == "step 40 · x\nunit 0: -2.000"  # a window of a longer text is numbered from its start


def test_a_map_of_many_units_labels_the_columns_only():
    rows = LISTED_UNITS + 1
    drawn = heatmap_svg(np.zeros((rows, 4)), "abcd", list(range(rows)), "hidden_state")
    assert hover_labels(drawn) == ["step 0 · a", "step 1 · b", "step 2 · c", "step 3 · d"]


def test_a_scale_per_unit_stretches_each_row_over_the_whole_scale():
    """With one scale, a unit moving within ±1 beside one at ±39 looks blank; with a scale per unit, each row's
    extremes take the scale's end colours (the key and the row labels say so)."""
    values = np.array([[1.0, -0.5, 0.0], [39.0, -20.0, 0.0]])
    one = pixels(image_of(heatmap_svg(values, "abc", [4, 9], "cell_state")))
    drawn = heatmap_svg(values, "abc", [4, 9], "cell_state", scale="unit")
    svg = image_of(drawn)
    each = pixels(svg)
    red_end, blue_end = tuple(each[1, 0, :3]), tuple(colours(np.array([[-1.0]]), "cell_state", -1, 1)[0, 0, :3])
    assert tuple(each[0, 0, :3]) == red_end == tuple(one[1, 0, :3])  # the small unit's +1 as red as the big one's +39
    assert int(np.abs(one[0, 0, :3].astype(int) - 247).max()) < 40  # on one scale it was close to white
    assert tuple(each[0, 2, :3]) == (247, 247, 247)  # 0 stays white
    np.testing.assert_array_equal(each[0, 1], colours(np.array([[-0.5]]), "cell_state", -1.0, 1.0)[0, 0])
    assert blue_end != red_end
    assert re.findall(r'class="unit">([^<]*)<', svg) == ["unit 4 ±1", "unit 9 ±39"]
    assert [html.unescape(k) for k in re.findall(r'class="key">([^<]*)<', svg)] == ["−row's max", "0", "+row's max"]
    assert 'data-scale="unit"' in drawn and "each row its own" in svg
    assert hover_labels(drawn)[0] == "step 0 · a\nunit 4: 1.000\nunit 9: 39.000"  # the values themselves unchanged


def test_a_gates_scale_per_unit_runs_from_its_lowest_to_its_highest_value():
    values = np.array([[0.40, 0.45, 0.50], [0.0, 0.5, 1.0]])
    svg = image_of(heatmap_svg(values, "abc", [0, 1], "forget_gate", scale="unit"))
    each = pixels(svg)
    np.testing.assert_array_equal(each[0], each[1])  # 0.40 to 0.50 spans the scale as 0 to 1 does
    assert re.findall(r'class="unit">([^<]*)<', svg) == ["unit 0 0.40–0.50", "unit 1 0.00–1.00"]
    assert [html.unescape(k) for k in re.findall(r'class="key">([^<]*)<', svg)] == ["row's min", "row's max"]


def test_a_long_text_is_labelled_by_positions_with_their_characters_not_every_kth_character():
    text = "HARPAGON.\nAu voleur! au voleur! à l'assassin! au meurtrier! " * 6  # 300 characters
    svg = image_of(heatmap_svg(np.zeros((2, len(text))), text, [0, 1], "hidden_state", first_step=40))
    ticks = re.findall(r'class="tick">([^<]*)<', svg)
    assert 1 < len(ticks) <= 20
    steps = [int(tick.split(":")[0]) for tick in ticks]
    stride = steps[1] - steps[0]
    assert stride in (10, 20, 25, 50) and all(step % stride == 0 for step in steps), "positions at a round stride"
    assert steps[0] - 40 < stride and steps == list(range(steps[0], steps[-1] + 1, stride))
    assert all(html.unescape(tick.split(":", 1)[1]) == {"\n": "↵", " ": "␣"}.get(text[s - 40], text[s - 40])
               for tick, s in zip(ticks, steps)), "each label is its step's character"
    short = image_of(heatmap_svg(np.zeros((1, 100)), "ab" * 50, [0], "hidden_state"))
    assert re.findall(r'class="tick">([^<]*)<', short) == list("ab" * 50), "a character per column while they fit"
