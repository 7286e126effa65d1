"""AppTest of the nn.LSTM explorer (/explorer): settings, PyTorch's complaints, the seed-002 tabs on the same LSTM."""

import base64
import json
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from lab_ui.render.heatmaps import tensor_heatmap_svg
from lstm_core import explorer
from lstm_core.explorer import LSTMSettings

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "5_explorer.py")
FLOAT_NOISE = re.compile(r"\d\.\d{7,}")  # 0.04780000075697899, 0.15000000000000002


def page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


def open_tab(at: AppTest, tabs: str, label: str) -> AppTest:
    at.session_state[tabs] = label
    return at.run()


def shown_text(at: AppTest) -> str:
    """Every text and table cell on the page, as the user reads it."""
    parts = [e.value for e in (*at.markdown, *at.caption, *at.warning, *at.error, *at.info)]
    parts += [frame.value.to_string() for frame in (*at.table, *at.dataframe)]
    return "\n".join(parts)


def svg_of(element) -> str | None:
    """The SVG of a heatmap drawn by ``st.html`` as an image, or None for other HTML."""
    found = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', element.proto.body)
    return base64.b64decode(found.group(1)).decode() if found else None


def pixels(svg: str) -> np.ndarray:
    """The heatmap's cells, one RGBA pixel each, decoded from the PNG inside its SVG."""
    data = base64.b64decode(re.search(r'href="data:image/png;base64,([^"]+)"', svg).group(1))
    width, height = struct.unpack(">II", data[16:24])
    chunks, at = b"", 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunks += data[at + 8:at + 8 + length] if kind == b"IDAT" else b""
        at += 12 + length
    rows = np.frombuffer(zlib.decompress(chunks), dtype=np.uint8).reshape(height, 1 + 4 * width)
    assert (rows[:, 0] == 0).all()  # no PNG filters: the bytes are the colours
    return rows[:, 1:].reshape(height, width, 4)


def test_heatmaps_paint_the_values_they_are_given():
    values = np.array([[-2.0, 0.0, 1.0], [2.0, np.nan, -1.0]])
    svg = base64.b64decode(re.search(r"base64,([^\"]+)\"", tensor_heatmap_svg(
        values, ["a", "b", "c"], alt="test", row_title="row", column_title="column", key_title="value",
        row_groups=[("i", 0, 0), ("f", 1, 1)])).group(1)).decode()
    cells = pixels(svg)
    assert cells.shape == (2, 3, 4)
    red, white, blue = cells[1, 0, :3], cells[0, 1, :3], cells[0, 0, :3]
    assert red[0] > 90 and red[2] < 40 and blue[2] > 90 and blue[0] < 10 and (white > 240).all()
    assert cells[1, 1, 3] == 0 and (np.delete(cells[..., 3].ravel(), 4) == 255).all()  # NaN: an empty cell
    assert cells[0, 2, 0] > cells[0, 2, 2] and cells[1, 2, 2] > cells[1, 2, 0]  # +1 reddish, -1 bluish
    for label in (">2<", ">0<", ">-2<", ">i<", ">f<", ">a<", ">column<", ">value<"):
        assert label in svg  # the key's ends and middle, the groups, the column labels and the titles


def test_settings_change_the_reported_shapes():
    at = page()
    assert not at.exception
    at.sidebar.checkbox(key="explorer_bidirectional").check().run()
    at.sidebar.number_input(key="explorer_proj_size").set_value(2).run()
    at.sidebar.checkbox(key="explorer_batch_first").check().run()
    assert not at.exception
    shapes = dict(zip(at.table[0].value["tensor"], at.table[0].value["shape"]))
    output, (h_n, _) = torch.nn.LSTM(4, 6, bidirectional=True, proj_size=2, batch_first=True)(torch.randn(3, 5, 4))
    assert shapes["output"] == str(tuple(output.shape)) and shapes["h_n"] == str(tuple(h_n.shape))
    assert "weight_hr_l0_reverse" in list(at.table[1].value["name"])
    assert at.query_params["bidirectional"] == "True"
    open_tab(at, "view", "Code")
    assert "proj_size=2" in at.code[0].value


def test_invalid_combinations_show_pytorchs_message():
    at = page()
    at.sidebar.slider(key="explorer_dropout").set_value(0.3).run()
    assert "non-zero dropout expects num_layers greater than 1" in at.warning[0].value
    at.sidebar.number_input(key="explorer_proj_size").set_value(6).run()
    assert not at.exception
    assert "proj_size has to be smaller than hidden_size" in at.error[0].value
    demo_error = at.error[-1].value  # the demo runs the same configuration: it says why it cannot
    assert demo_error.startswith("No demonstration") and "proj_size has to be smaller than hidden_size" in demo_error


def test_link_reproduces_the_view_and_bad_sentences_get_a_message():
    at = page(num_layers="3", hidden_size="9999", view="Draw a tensor", tensor="bias_hh_l1", demo="Truncated BPTT",
              chunk="12", sentences="Tartuffe ment\nDorine rit de lui")
    assert not at.exception
    assert at.sidebar.number_input(key="explorer_num_layers").value == 3
    assert "weight_ih_l2" in at.selectbox(key="explorer_tensor").options
    assert at.sidebar.number_input(key="explorer_hidden_size").value == explorer.LIMITS["hidden_size"]
    assert "hidden_size = 9999" in at.warning[0].value  # the link's value was clamped, and the page says so
    assert at.selectbox(key="explorer_tensor").value == "bias_hh_l1"
    assert at.slider(key="explorer_chunk").value == 12 and "A random sequence of 24 steps" in shown_text(at)
    assert "(N = 2)" in shown_text(at)
    at.text_area(key="explorer_sentences").input("only one sentence").run()
    assert "two to four" in at.error[0].value and not at.exception


def test_the_forward_demo_runs_the_sidebars_lstm():
    at = page()
    at.sidebar.number_input(key="explorer_num_layers").set_value(2).run()
    at.sidebar.checkbox(key="explorer_bidirectional").check().run()
    assert not at.exception
    text = shown_text(at)
    assert "nn.LSTM(4, 6, num_layers=2, bidirectional=True)" in text
    assert "fed as (L, N, H_in) = (7, 3, 4)" in text and "(7, 3, 12)" in text
    assert "`h_n` has shape (4, 3, 6)" in text and "rows 2 (layer 1, forward) and 3 (layer 1, reverse)" in text
    table = at.table[-1].value
    batch = explorer.sentence_batch(settings=LSTMSettings(num_layers=2, bidirectional=True))
    reference = torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True).eval()
    reference.load_state_dict(batch.lstm.state_dict())  # the same weights, called directly
    with torch.no_grad():
        _, (h_n, _) = reference(batch.embedding(torch.nn.utils.rnn.pad_sequence(batch.ids)))
    for row in (2, 3):
        shown = [[float(v) for v in cell.strip("[]").split(", ")] for cell in table[next(
            c for c in table.columns if c.startswith(f"h_n[{row}, b]"))]]
        np.testing.assert_allclose(shown, h_n[row].numpy(), rtol=1e-3, atol=1e-4)
    at.sidebar.checkbox(key="explorer_batch_first").check().run()
    assert "fed as (N, L, H_in) = (3, 7, 4)" in shown_text(at)


def test_numbers_are_shown_at_the_precision_they_mean():
    at = page(dropout="0.15000000000000002", num_layers="2")
    for tab in ("A batch of sentences", "Carry or reset", "Padding and packing", "Truncated BPTT"):
        open_tab(at, "demo", tab)
        assert not at.exception
        assert not FLOAT_NOISE.search(shown_text(at)), tab
    assert at.query_params["dropout"] == "0.15"
    open_tab(at, "demo", "A batch of sentences")
    states = (at.table or at.dataframe)[-1].value
    cells = [cell for column in states.columns if column.startswith("h_n") for cell in states[column]]
    assert cells and all(isinstance(cell, str) for cell in cells)  # formatted here, not by the browser's float64
    numbers = re.findall(r"-?[\d.]+(?:e[+-]\d+)?", " ".join(cells))
    assert all(len(re.sub(r"e.*|\D|^0\.0*", "", n.lstrip("-0."))) <= 4 for n in numbers)  # 4 significant digits
    open_tab(at, "view", "Code")
    assert "dropout=0.15," in at.code[0].value
    assert re.search(r"\|h_n padded − alone\|", shown_text(open_tab(at, "demo", "Padding and packing")))
    errors = at.table[-1].value["|h_n packed − alone|"]
    assert all(re.fullmatch(r"\d\.\de[+-]\d\d", e) for e in errors)  # errors as 1.2e-07


def test_every_chart_says_how_to_read_it_and_every_setting_has_help():
    at = page(bidirectional="True", view="Draw a tensor")
    for tab in ("A batch of sentences", "Carry or reset", "Padding and packing", "Truncated BPTT"):
        open_tab(at, "demo", tab)
        charts, heatmaps = at.get("plotly_chart"), [svg_of(h) for h in at.get("html") if svg_of(h)]
        readings = [c for c in at.caption if c.value.startswith("How to read")]
        assert len(readings) == len(charts) + len(heatmaps) == (1 if tab == "Padding and packing" else 2), tab
        for chart in charts:
            spec = json.loads(chart.proto.spec)
            assert [t for t in spec["data"] if "name" in t] and spec["layout"].get("legend"), tab  # a legend
        for svg in heatmaps:
            assert 'fill="url(#explorer-key)"' in svg, tab  # a colour bar
    for widget in (*at.sidebar.number_input, *at.sidebar.checkbox, *at.sidebar.slider):
        assert widget.help, widget.key


def test_the_page_says_which_input_drives_which_view():
    """The sidebar's random batch and the typed sentences are two inputs: each view says which one it reads."""
    at = page()
    assert any("Random input" in c.value and "Shapes and Code tabs only" in c.value for c in at.sidebar.caption)
    assert any("Input: the sentences typed here" in c.value for c in at.caption)
    assert "seq_len and batch_size" in at.caption[0].value and "sentences you type" in at.caption[0].value
