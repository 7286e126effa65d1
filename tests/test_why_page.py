"""The /why page (AppTest, the pretrained model, short texts): each part draws, and bad input gets one sentence."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.page_helpers import shown_text
from tests.test_gates_page import save_tiny_run

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "10_why.py")


def opened(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def test_attribution_paints_the_text_and_draws_its_deletion_curve():
    at = opened(part="attribution", text="Je ne vous\n\nHARPAGON", method="ig", steps="16")
    shown = shown_text(at)
    assert "Completeness" in shown and "random's" in shown
    assert not at.error


def test_the_memory_diff_shows_the_three_architectures():
    at = opened(part="memory", text="HARPAGON.\n\nJe", p="1", char="E")
    shown = shown_text(at)
    for label in ("LSTM", "GRU", "plain RNN"):
        assert label in shown
    assert not at.error


@pytest.mark.parametrize("query, words", [
    ({"part": "attribution", "text": "abc", "target": "€"}, "not in this model's vocabulary"),
    ({"part": "memory", "text": "abc", "p": "1", "char": "b"}, "already holds"),
    ({"part": "patch", "source": "abc", "text": "abc", "units": "9999"}, "out of range"),
])
def test_bad_input_gets_one_sentence(query, words):
    at = opened(**query)
    assert len(at.error) == 1 and words in at.error[0].value


def test_patching_shows_both_runs():
    at = opened(part="patch", source="HARPAGON.\n", text="VALÈRE.\n")
    shown = shown_text(at)
    assert "Without the patch" in shown and "With the patch" in shown and not at.error


def test_another_run_with_the_same_text_gets_its_own_attribution():
    """The page's cache is keyed by the run too: the same text on another model is attributed anew."""
    query = dict(part="attribution", text="Je ne vous\n\nHARPAGON", method="grad_x_input")
    shipped = opened(run="pretrained", **query)
    run_id, _ = save_tiny_run()
    tiny = opened(run=run_id, **query)
    line = [m.value for m in shipped.markdown if "log p =" in m.value]
    assert line and line != [m.value for m in tiny.markdown if "log p =" in m.value]
