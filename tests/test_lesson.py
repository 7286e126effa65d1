"""The guided lesson: every reveal's sentence holds for the numbers the models give, recomputed here."""

import math
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from lstm_core import analysis, lesson, load_corpus, trace
from lstm_core.cell import cell_step
from lstm_core.cell_lab import SCENARIOS

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "0_lesson.py")


def test_every_step_has_its_parts_and_a_page_to_open():
    slugs = [s.slug for s in lesson.STEPS]
    assert len(set(slugs)) == len(slugs) >= 6
    for step in lesson.STEPS:
        assert step.view.startswith("/") and step.question.endswith("?") and len(step.choices) >= 2
        assert 1 <= step.text.count(". ") + 1 <= 4  # two or three sentences


def test_one_cell_reveal_is_the_cells_own_arithmetic():
    scenario = SCENARIOS["remember"]
    values = scenario.values()
    step = cell_step(values.weights, values.x, values.h, values.c)
    reveal = lesson.one_cell()
    f, i, c = float(step.forget_gate[0]), float(step.input_gate[0]), float(step.cell_state[0])
    assert f > 0.99 and i < 0.01 and abs(c - float(values.c[0])) < 0.01  # what the sentence says
    assert reveal.answer == 1 and f"f = {f:.3f}" in reveal.text and f"= {c:.3f}" in reveal.text


def test_units_reveal_names_the_models_own_line_counter():
    reveal = lesson.units()
    run = lesson.pretrained()
    tr = trace(run.model, run.vocab, analysis.reference_text("full"))
    marks = analysis.text_features(tr.text)["position_in_line"]
    r = analysis.correlations(tr.cell_state[reveal.numbers["layer"]], marks)[reveal.numbers["unit"]]
    assert reveal.numbers["r"] == pytest.approx(r, abs=1e-6) and abs(r) >= 0.5
    assert reveal.answer == 1 and f"r = {r:+.2f}" in reveal.text
    assert ("falls" in reveal.text) == (r < 0)


def test_train_live_reveal_quotes_the_uniform_loss():
    reveal = lesson.train_live()
    size = len(load_corpus("full").vocab)
    assert f"ln {size} = {math.log(size):.2f}" in reveal.text


def test_sampling_reveal_matches_its_numbers():
    reveal = lesson.sampling(length=200)
    low, high = reveal.numbers["low"], reveal.numbers["high"]
    assert low["entropy"] < high["entropy"]  # "keeps to the likeliest characters ... spreads the draws"
    assert reveal.answer == (0 if low["distinct"] < high["distinct"] else 1)
    assert f"{low['entropy']:.2f} bits" in reveal.text and f"{high['distinct']:.0%}" in reveal.text


def test_api_reveal_reads_a_real_module():
    module = torch.nn.LSTM(10, 20, num_layers=2)
    reveal = lesson.api()
    assert reveal.numbers["shape"] == tuple(module.weight_hh_l0.shape) == (80, 20)
    assert reveal.numbers["parameters"] == sum(p.numel() for p in module.parameters())
    assert lesson.STEPS[[s.slug for s in lesson.STEPS].index("api")].choices[reveal.answer] == "(80, 20)"


@pytest.mark.slow
def test_task_reveal_buckets_the_baselines_accuracy():
    reveal = lesson.task()
    accuracy = reveal.numbers["accuracy"]
    assert reveal.answer == (0 if accuracy < 0.6 else 1 if accuracy < 0.75 else 2)
    assert f"{accuracy:.1%}" in reveal.text


def test_the_page_asks_before_it_answers_and_walks_the_steps():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception and at.query_params["step"] in ("one-cell", ["one-cell"])
    assert at.button(key="lesson_reveal_one-cell").disabled  # predict first
    at.radio(key="lesson_guess_one-cell").set_value(0).run()
    at.button(key="lesson_reveal_one-cell").click().run()
    assert any("Not quite" in w.value and "about 0.8" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Next step →").click().run()
    assert at.query_params["step"] in ("units", ["units"])
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["step"] = "api"
    at.run()
    at.radio(key="lesson_guess_api").set_value(1).run()
    at.button(key="lesson_reveal_api").click().run()
    assert any(s.value.startswith("Right.") and "(80, 20)" in s.value for s in at.success)


def test_each_step_asks_before_it_offers_its_view_and_other_pages_lead_back():
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.query_params["step"] = "sampling"
    at.run()
    texts = [m.value for m in at.markdown]
    link = next(i for i, text in enumerate(texts) if "](/generate?run=pretrained&temperature=0.2)" in text)
    assert link > next(i for i, text in enumerate(texts) if "Now look for yourself" in text), "predict, then look"
    assert at.session_state["lesson_step"] == [s.slug for s in lesson.STEPS].index("sampling")

    home = str(Path(PAGE).parent.parent / "app.py")  # run from the app, pages know each other
    links = lambda at: [(e.proto.label, e.proto.page) for e in at.sidebar.get("page_link")]  # noqa: E731
    fresh = AppTest.from_file(home, default_timeout=60).run()
    assert not any(label.startswith("Back to the lesson") for label, _ in links(fresh)), "no lesson, no way back"
    followed = AppTest.from_file(home, default_timeout=60)
    followed.session_state["lesson_step"] = 3
    followed.run()
    assert not followed.exception
    assert ("Back to the lesson, step 4", "lesson") in links(followed)


def test_after_the_answer_the_gates_open_on_the_unit_it_names():
    at = AppTest.from_file(PAGE, default_timeout=180)
    at.query_params["step"] = "units"
    at.run()
    at.radio(key="lesson_guess_units").set_value(1).run()
    at.button(key="lesson_reveal_units").click().run()
    numbers = lesson.units().numbers
    wanted = f"&layer={numbers['layer']}&unit={numbers['unit']})"
    assert any(wanted in m.value and m.value.count("](/gates?run=pretrained") == 1 for m in at.markdown), \
        [m.value for m in at.markdown]
