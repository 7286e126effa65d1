"""AppTest of the nn.LSTM explorer (/explorer): settings, PyTorch's complaints, the seed-002 tabs on the same LSTM."""

import re
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

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
    parts += [frame.value.to_string() for frame in at.table]
    return "\n".join(parts)


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
    at = page(num_layers="3", hidden_size="9999", tensor="bias_hh_l1", demo="Truncated BPTT", chunk="12",
              sentences="Tartuffe ment\nDorine rit de lui")
    assert not at.exception
    assert at.sidebar.number_input(key="explorer_num_layers").value == 3
    assert at.sidebar.number_input(key="explorer_hidden_size").value == explorer.LIMITS["hidden_size"]
    assert "hidden_size = 9999" in at.warning[0].value  # the link's value was clamped, and the page says so
    assert "weight_ih_l2" in list(at.table[1].value["name"])
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
    open_tab(at, "view", "Code")
    assert "dropout=0.15," in at.code[0].value
    assert re.search(r"\|h_n padded − alone\|", shown_text(open_tab(at, "demo", "Padding and packing")))
    errors = at.table[-1].value["|h_n packed − alone|"]
    assert all(re.fullmatch(r"\d\.\de[+-]\d\d", e) for e in errors)  # errors as 1.2e-07


def test_every_chart_says_how_to_read_it_and_every_setting_has_help():
    at = page(bidirectional="True")
    for tab in ("A batch of sentences", "Carry or reset", "Padding and packing", "Truncated BPTT"):
        open_tab(at, "demo", tab)
        charts = at.get("plotly_chart")
        readings = [c for c in at.caption if c.value.startswith("How to read")]
        assert len(readings) == len(charts) >= 1 or tab == "Padding and packing", tab
        for chart in charts:
            spec = chart.proto.spec
            assert "colorbar" in spec or '"name"' in spec, tab  # a colour key: a colour bar or a legend
    for widget in (*at.sidebar.number_input, *at.sidebar.checkbox, *at.sidebar.slider):
        assert widget.help, widget.key
