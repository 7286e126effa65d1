"""The Generate page: greedy is deterministic, sampling follows the seed, every draw is shown (AppTest)."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from test_gates_page import save_tiny_run
from tests.page_helpers import html_bodies, svg_chart, text_boxes

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "3_generate.py")
PRIME = "HARPAGON.\n\n"


@pytest.fixture
def tiny():
    return save_tiny_run(hidden=16, layers=1)


def generate(run_id: str, **query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"run": run_id, "prime": PRIME, "length": "60", **query})
    at.run()
    assert not at.exception and not at.error
    return at


def written(at) -> str:
    """The generated text, from the page's plain-text block (prime + continuation)."""
    return text_boxes(at.expander[0])[0]


def test_temperature_zero_is_deterministic_whatever_the_seed(tiny):
    run_id, run = tiny
    first = written(generate(run_id, temperature="0", seed="1"))
    assert first == written(generate(run_id, temperature="0", seed="2"))
    assert first == PRIME + lstm_core.sample(run.model, run.vocab, PRIME, 60, temperature=0)


def test_higher_temperature_varies_with_the_seed_and_reproduces_with_it(tiny):
    run_id, run = tiny
    one = written(generate(run_id, temperature="1.5", seed="1"))
    assert one != written(generate(run_id, temperature="1.5", seed="2"))
    assert one == written(generate(run_id, temperature="1.5", seed="1"))
    assert one == PRIME + lstm_core.sample(run.model, run.vocab, PRIME, 60, temperature=1.5, seed=1)


def test_moving_the_temperature_slider_regenerates_and_shows_the_distributions(tiny):
    run_id, _ = tiny
    at = generate(run_id, temperature="0", seed="3")
    greedy = written(at)
    at.slider(key="temperature").set_value(1.8).run()
    assert written(at) != greedy and at.query_params["temperature"] == "1.8"
    bars = svg_chart(at, "probability-bars")
    model_probs, sampled = bars["values"]["model (temperature 1)"], bars["values"]["after temperature, top-k, top-p"]
    assert not np.allclose(model_probs, sampled)  # temperature 1.8 flattens the distribution
    assert sampled.max() > 0 and len(bars["ticks"]) == len(sampled) == 15  # the 15 likeliest characters
    entropy = svg_chart(at, "entropy-line")
    assert entropy["legend"][0] == "model (temperature 1)" and len(entropy["hover"]) == 60  # a label per step
    coloured = next(h for h in html_bodies(at) if "HARPAGON." in h and "title=\"p = " in h)  # the coloured text
    assert coloured.count("title=\"p = ") == 60 and "HARPAGON." in coloured
    sides = text_boxes(at)[1:]  # one block per temperature compared
    assert len(sides) == 3 and len(set(sides)) > 1


def test_bad_settings_in_the_link_are_brought_into_range(tiny):
    run_id, _ = tiny
    at = generate(run_id, temperature="-3", top_p="7", length="5")
    assert at.slider(key="temperature").value == 0.0
    assert next(s for s in at.slider if s.label.startswith("Length")).value == 10
    assert any("closest known form" in i.value for i in generate(run_id, prime="Ñon.").info)


def test_a_prime_longer_than_the_box_is_cut_with_a_word(tiny):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"run": tiny, "prime": "A" * 2500, "length": "20"})
    at.run()
    assert not at.exception
    assert any("2,500 characters" in w.value and "first 2,000" in w.value for w in at.warning)
    assert at.text_area[0].value == "A" * 2000
