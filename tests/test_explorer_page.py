"""AppTest of the nn.LSTM explorer (/explorer): settings, PyTorch's complaints, the seed-002 tabs."""

from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "5_explorer.py")


def test_settings_change_the_reported_shapes():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    at.sidebar.checkbox(key="explorer_bidirectional").check().run()
    at.sidebar.number_input(key="explorer_proj_size").set_value(2).run()
    at.sidebar.checkbox(key="explorer_batch_first").check().run()
    assert not at.exception
    shapes = dict(zip(at.dataframe[0].value["tensor"], at.dataframe[0].value["shape"]))
    output, (h_n, _) = torch.nn.LSTM(4, 6, bidirectional=True, proj_size=2, batch_first=True)(torch.randn(3, 5, 4))
    assert shapes["output"] == str(tuple(output.shape)) and shapes["h_n"] == str(tuple(h_n.shape))
    assert "weight_hr_l0_reverse" in list(at.dataframe[1].value["name"])
    assert at.query_params["bidirectional"] == "True"
    assert "proj_size=2" in at.code[0].value


def test_invalid_combinations_show_pytorchs_message():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.sidebar.slider(key="explorer_dropout").set_value(0.3).run()
    assert "non-zero dropout expects num_layers greater than 1" in at.warning[0].value
    at.sidebar.number_input(key="explorer_proj_size").set_value(6).run()
    assert not at.exception
    assert "proj_size has to be smaller than hidden_size" in at.error[0].value


def test_link_reproduces_the_view_and_bad_sentences_get_a_message():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["num_layers"] = "3"
    at.query_params["hidden_size"] = "9999"
    at.run()
    assert not at.exception
    assert at.sidebar.number_input(key="explorer_num_layers").value == 3
    assert "weight_ih_l2" in list(at.dataframe[1].value["name"])
    at.text_area(key="explorer_sentences").input("only one sentence").run()
    assert "two to four" in at.error[0].value and not at.exception
