"""The guided lesson: every reveal's sentence holds for the numbers the models give, recomputed here
independently (the gradient ratio by plain autograd through the models' own forward)."""

import math
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from lab_ui.navigation import view_url
from lstm_core import analysis, lesson, load_corpus, trace
from lstm_core.cell import cell_step
from lstm_core.cell_lab import SCENARIOS
from lstm_core.compare import GRU, LSTM, LSTM_PYTORCH_START, RNN, CompareSetup
from lstm_core.readable import norm, scientific, share
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
                          int(settings["steps"]), float(settings["fbias"]), float(settings["ubias"]), int(settings["seed"]),
                          settings["pytorch_start"] == "1")
    assert linked == lesson.WHY_GATES_SETUP  # what /compare builds from the link (its page test reads the link)
    assert linked.contenders == (LSTM, GRU, RNN, LSTM_PYTORCH_START)
    trained = {c.label: MemoryTraining(linked.config(c)).model for c in linked.contenders}  # what it trains
    for label, model in lesson.why_gates_models().items():
        for name, value in model.state_dict().items():
            assert torch.equal(value, trained[label].state_dict()[name]), (label, name)
    start = trained["LSTM with PyTorch's default start"].recurrent
    forget = slice(start.hidden_size, 2 * start.hidden_size)  # PyTorch's row order i, f, g, o
    assert abs(float((start.bias_ih_l0 + start.bias_hh_l0)[forget].detach().mean())) < 0.1  # PyTorch's own start: near 0


def mean_gradient_norm_back(model, ids: torch.Tensor, positions: list[int], lag: int) -> float:
    """Mean over ``positions`` t of ||dL_t/dh_(t-lag)|| of a one-layer model in float64, by autograd through
    its own forward (the fused torch kernel): read ids[..t-lag] without gradients, make the hidden state
    there a leaf, read on to t and differentiate the loss of predicting ids[t+1]. It shares no code with
    lstm_core.gradients."""
    model = model.double().eval()
    states, state, done = {}, None, 0
    with torch.no_grad():  # the state after reading ids[:end], for every end needed, in one pass
        for end in sorted({t - lag + 1 for t in positions}):
            _, state = model(ids[done:end].unsqueeze(0), state)
            states[end], done = state, end
    norms = []
    for t in positions:
        state = states[t - lag + 1]
        lstm = isinstance(state, tuple)
        hidden = (state[0] if lstm else state).clone().requires_grad_()  # (layers, 1, hidden)
        if lag:
            logits, _ = model(ids[t - lag + 1:t + 1].unsqueeze(0), (hidden, state[1]) if lstm else hidden)
            logits = logits[0, -1]
        else:
            logits = model.head(hidden[-1, 0])
        loss = torch.nn.functional.cross_entropy(logits.unsqueeze(0), ids[t + 1:t + 2])
        (grad,) = torch.autograd.grad(loss, hidden)
        norms.append(float(grad[0, 0].norm()))
    return sum(norms) / len(norms)


def test_why_gates_reveal_is_the_models_own_gradient_ratio():
    reveal = lesson.why_gates()
    setup, lag = lesson.WHY_GATES_SETUP, lesson.WHY_GATES_DELAY
    text, positions, max_lag = setup.flow_probe(lag)
    ids = torch.tensor(VOCAB.encode(text))
    models = lesson.why_gates_models()  # /compare's own models, untrained, measured by plain autograd
    at_lag, kept, counts = {}, {}, {}
    for label, model in models.items():
        assert model.recurrent.num_layers == 1
        counts[label] = sum(p.numel() for p in model.parameters())
        at_lag[label] = mean_gradient_norm_back(model, ids, positions, lag)
        kept[label] = at_lag[label] / mean_gradient_norm_back(model, ids, positions, 0)
    assert max(counts.values()) / min(counts.values()) < 1.01  # "the same 20,000 parameters"
    assert all(abs(n - 20_000) < 200 for n in counts.values())
    lstm, rnn = at_lag["LSTM"], at_lag["plain RNN"]
    ratio = lstm / rnn
    assert reveal.numbers["ratio"] == pytest.approx(ratio, rel=1e-6)
    for label in models:  # each model's own figures, as plain autograd measures them
        assert reveal.numbers[label]["at_lag"] == pytest.approx(at_lag[label], rel=1e-6)
        assert reveal.numbers[label]["share"] == pytest.approx(kept[label], rel=1e-6)
    assert ratio > 1e6 and lesson.STEPS[0].choices[reveal.answer] == "more than a million times more"
    assert f"The LSTM's is {scientific(ratio)} times larger" in reveal.text
    assert f"is still {norm(lstm)}, {share(kept['LSTM'])} of its size" in reveal.text
    assert f"RNN's has shrunk to {norm(rnn)}, {share(kept['plain RNN'])} of its size" in reveal.text
    assert f"the GRU's keeps {share(kept['GRU'])} of its size" in reveal.text
    assert f"{counts['LSTM']:,} and {counts['plain RNN']:,} parameters" in reveal.text
    keeps = 1 / (1 + math.exp(-setup.forget_bias))
    assert f"bias of {setup.forget_bias:g}, not PyTorch's default" in reveal.text and keeps > 0.99  # "almost open"
    assert f"σ({setup.forget_bias:g}) keeps {share(keeps)} of its cell per step" in reveal.text
    started = at_lag["LSTM with PyTorch's default start"]
    assert 10 < started / rnn < 1e6  # PyTorch's start changes the answer: "between 10 and a million"
    assert f"is {norm(started)}, only {scientific(started / rnn)} times the RNN's" in reveal.text
    flow = gradient_flow(models["LSTM"], VOCAB, text, max_lag=max_lag, positions=positions)
    cell = flow.cell[0]  # why h falls while the forget gate holds: the cell carries the gradient
    assert cell[lag] / cell[0] > 0.5 > kept["LSTM"]
    assert f"‖∂L/∂c‖ is {norm(cell[0])} at the answer and {norm(cell[lag])} {lag} steps back" in reveal.text


def test_the_why_gates_link_opens_compare_with_its_settings_kept():
    query = dict(part.split("=") for part in view_url(lesson.STEPS[0].view, lesson.STEPS[0].settings)
                 .partition("?")[2].split("&"))
    at = AppTest.from_file(str(Path(PAGE).parent / "9_compare.py"), default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception
    assert {name: at.query_params[name] for name in query} == query  # none replaced by a default
    assert at.button[0].label == "Train LSTM vs GRU vs plain RNN vs LSTM with PyTorch's default start"


def test_large_and_small_numbers_read_as_powers_of_ten():
    assert scientific(6.48e10) == "6.5 × 10¹⁰" and scientific(2.302e-13) == "2.3 × 10⁻¹³"
    assert scientific(4.08e-13, 1) == "4 × 10⁻¹³" and scientific(9.96e-5, 2) == "1 × 10⁻⁴"
    assert scientific(9.96e-5, 1) == "1 × 10⁻⁴" and scientific(-3.4e6) == "-3.4 × 10⁶"
    assert scientific(12.0) == "12" and scientific(0.35) == "0.35"


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
    assert reveal.answer == 1 and f"r = {r:+.3f}" in reveal.text
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
    assert reveal.quoted == [f"{low['entropy']:.2f} bits", f"{low['distinct']:.0%}", f"{high['entropy']:.2f} bits",
                             f"{high['distinct']:.0%}"]


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
    link = next(i for i, text in enumerate(texts)
                if "](/generate?run=pretrained&prime=HARPAGON.%0A&temperature=0.2&seed=0&length=400)" in text)
    assert link > next(i for i, text in enumerate(texts) if "Now look for yourself" in text), "predict, then look"
    assert at.session_state["lesson_step"] == [s.slug for s in lesson.STEPS].index("sampling")

    home = str(Path(PAGE).parent.parent / "home.py")  # run from the app, pages know each other
    def links(at):
        return [(e.proto.label, e.proto.page) for e in at.sidebar.get("page_link")]
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
