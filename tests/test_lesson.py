"""The guided lesson: every reveal's sentence holds for the numbers the models give, recomputed here."""

import math
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from lab_ui.navigation import view_url
from lstm_core import analysis, lesson, load_corpus, trace
from lstm_core.cell import cell_step
from lstm_core.cell_lab import SCENARIOS
from lstm_core.compare import GRU, LSTM, RNN, CompareSetup
from lstm_core.gradients import gradient_flow
from lstm_core.tasks.baseline import shipped_baseline_accuracy
from lstm_core.training.memory import VOCAB, MemoryTraining

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "0_lesson.py")


def test_every_step_has_its_parts_and_a_page_to_open():
    slugs = [s.slug for s in lesson.STEPS]
    assert len(set(slugs)) == len(slugs) >= 6
    for step in lesson.STEPS:
        assert view_url(step.view, step.settings).startswith(f"/{step.view}")  # a page of the app shows it
        assert step.question.endswith("?") and len(step.choices) >= 2
        assert 1 <= step.text.count(". ") + 1 <= 4  # two or three sentences


def test_why_gates_comes_first_and_links_compare_with_the_models_the_reveal_measures():
    step = lesson.STEPS[0]
    assert step.slug == "why-gates" and lesson.STEPS[1].slug == "one-cell"
    settings = step.settings
    assert step.view == "compare"
    linked = CompareSetup(settings["comparison"], settings["task"], int(settings["delay"]), int(settings["budget"]),
                          int(settings["steps"]), float(settings["fbias"]), float(settings["ubias"]), int(settings["seed"]))
    assert linked == lesson.WHY_GATES_SETUP  # what /compare builds from the link (its page test reads the link)
    trained = {c.architecture: MemoryTraining(linked.config(c)).model for c in (LSTM, GRU, RNN)}  # what it trains
    for architecture, model in lesson.why_gates_models().items():
        for name, value in model.state_dict().items():
            assert torch.equal(value, trained[architecture].state_dict()[name]), (architecture, name)


def test_why_gates_reveal_is_the_models_own_gradient_ratio():
    reveal = lesson.why_gates()
    setup, lag = lesson.WHY_GATES_SETUP, lesson.WHY_GATES_DELAY
    text, positions, max_lag = setup.flow_probe(lag)
    flows, counts = {}, {}
    for contender in (LSTM, GRU, RNN):  # recomputed from /compare's own trainings, untrained
        model = MemoryTraining(setup.config(contender)).model
        counts[contender.architecture] = sum(p.numel() for p in model.parameters())
        flows[contender.architecture] = gradient_flow(model, VOCAB, text, max_lag=max_lag, positions=positions)
    assert max(counts.values()) / min(counts.values()) < 1.01  # "the same 20,000 parameters"
    assert all(abs(n - 20_000) < 200 for n in counts.values())
    lstm, rnn = flows["lstm"].hidden[0, lag], flows["rnn"].hidden[0, lag]
    ratio = lstm / rnn
    assert reveal.numbers["ratio"] == pytest.approx(ratio, rel=1e-9)
    assert ratio > 1e6 and lesson.STEPS[0].choices[reveal.answer] == "more than a million times more"
    assert f"The LSTM's is {lesson.scientific(ratio)} times larger" in reveal.text
    assert f"is still {lstm:.3g}, {flows['lstm'].ratio_at(lag):.1%} of its size" in reveal.text
    assert (f"RNN's has shrunk to {lesson.scientific(rnn)}, {lesson.scientific(flows['rnn'].ratio_at(lag), 1)} of its "
            "size") in reveal.text
    assert f"the GRU's keeps {flows['gru'].ratio_at(lag):.0%} of its size" in reveal.text
    assert f"{counts['lstm']:,} and {counts['rnn']:,} parameters" in reveal.text
    keeps = 1 / (1 + math.exp(-setup.forget_bias))
    assert f"bias {setup.forget_bias:g}: it keeps {keeps:.1%}" in reveal.text and keeps > 0.99  # "almost open"


def test_the_why_gates_link_opens_compare_with_its_settings_kept():
    query = dict(part.split("=") for part in view_url(lesson.STEPS[0].view, lesson.STEPS[0].settings)
                 .partition("?")[2].split("&"))
    at = AppTest.from_file(str(Path(PAGE).parent / "9_compare.py"), default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    assert {name: at.query_params[name] for name in query} == query  # none replaced by a default
    assert at.button[0].label == "Train LSTM vs GRU vs plain RNN"


def test_large_and_small_numbers_read_as_powers_of_ten():
    assert lesson.scientific(6.48e10) == "6.5 × 10¹⁰" and lesson.scientific(2.302e-13) == "2.3 × 10⁻¹³"
    assert lesson.scientific(4.08e-13, 1) == "4 × 10⁻¹³" and lesson.scientific(9.96e-5, 2) == "1 × 10⁻⁴"
    assert lesson.scientific(9.96e-5, 1) == "1 × 10⁻⁴" and lesson.scientific(-3.4e6) == "-3.4 × 10⁶"
    assert lesson.scientific(12.0) == "12" and lesson.scientific(0.35) == "0.35"


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
def test_task_reveal_asks_why_the_lstm_loses_and_computes_the_answer():
    reveal = lesson.task()
    share = reveal.numbers["rare_share"]
    assert reveal.answer == (0 if share < 1 / 3 else 1 if share <= 2 / 3 else 2)
    assert f"{share:.1%}" in reveal.text and f"{reveal.numbers['words']:,}" in reveal.text
    assert reveal.numbers["bag_of_words_1600"] == shipped_baseline_accuracy(), "the page's baseline, not another"
    assert reveal.numbers["bag_of_words_200"] < reveal.numbers["bag_of_words_1600"], "still climbing with data"


def test_the_page_asks_before_it_answers_and_walks_the_steps():
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    assert not at.exception and at.query_params["step"] in ("why-gates", ["why-gates"])
    assert f"Step 1 of {len(lesson.STEPS)}: Why gates" in at.get("progress")[0].proto.text
    at.radio(key="lesson_guess_why-gates").set_value(2).run()
    at.button(key="lesson_reveal_why-gates").click().run()
    assert any(s.value.startswith("Right.") and "times larger" in s.value for s in at.success)
    next(b for b in at.button if b.label == "Next step →").click().run()
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

    home = str(Path(PAGE).parent.parent / "home.py")  # run from the app, pages know each other
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
