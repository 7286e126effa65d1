"""The Compare page: its settings in the link, each comparison's commentary, and a tiny comparison trained
to its end, whose every figure comes from the saved models.

AppTest cannot tick ``run_every`` fragments, so the test sleeps and reruns the page instead.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from lstm_core.compare import COMPARISONS, GRU, LSTM, RNN, CompareSetup
from lstm_core.gradients import gradient_flow
from lstm_core.readable import norm
from tests.page_helpers import figures, html_tables, open_app, svg_chart
from tests.training_helpers import stop_leftover_trainers

PAGE = "../pages/9_compare.py"


@pytest.fixture(autouse=True)
def store(isolated_run_store):
    yield lstm_core.RunStore(isolated_run_store)
    stop_leftover_trainers()


def open_page(**query) -> AppTest:
    return open_app(PAGE, **query)


def test_defaults_go_into_the_link_and_each_comparison_says_what_was_found():
    at = open_page()
    assert at.query_params["comparison"] == "architectures" and at.query_params["task"] == "memory"
    assert at.query_params["delay"] == "100" and at.query_params["budget"] == "20000"
    assert at.button[0].label == "Train LSTM vs GRU vs plain RNN"
    assert any(COMPARISONS["architectures"].commentary == c.value for c in at.caption)
    at.selectbox[0].set_value("no_forget_gate").run()
    assert at.button[0].label == "Train LSTM vs LSTM, no forget gate (f = 1)"
    assert any("Greff et al. (2017) found the forget gate the most critical" in c.value for c in at.caption)
    assert at.query_params["comparison"] == "no_forget_gate"
    assert any(c.value.startswith("The LSTMs start with a forget-gate bias of 5, not PyTorch's default") for c in at.caption)
    at.checkbox(key="compare_pytorch_start").check().run()  # the fourth contender: the LSTM as PyTorch starts it
    assert at.button[0].label.endswith(" vs LSTM with PyTorch's default start")
    assert at.query_params["pytorch_start"] == "1"


def test_a_text_task_brings_its_own_defaults_and_bad_links_fall_back():
    at = open_page(task="full")
    assert at.query_params["budget"] == "100000" and at.query_params["fbias"] == "1"
    assert at.slider[0].disabled  # the delay is the memory task's
    at = open_page(task="bogus", steps="999", comparison="nope", fbias="80")
    assert at.query_params["task"] == "memory" and at.query_params["steps"] == "800"
    assert at.query_params["comparison"] == "architectures" and at.query_params["fbias"] == "10"


def test_a_tiny_comparison_trains_to_its_end_and_every_number_comes_from_the_models(store):
    at = open_page(task="memory", delay="5", steps="100", budget="5000", seed="3")
    at.button[0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        time.sleep(1)
        at.run()
        cards = [c.value for c in at.caption if " parameters · " in c.value]
        if len(cards) == 3 and all("finished" in c for c in cards):
            break
    assert len(cards) == 3 and all("finished · step 100 of 100" in c for c in cards), cards
    assert [h.value for h in at.header] == ["Gradients through time", "States on the same text"]
    assert len(at.get("plotly_chart")) == 2  # gradients, states
    losses, recall = svg_chart(at, "compare-loss"), svg_chart(at, "compare-accuracy")
    assert {"LSTM · validation", "GRU · validation", "plain RNN · validation", "chance (1 in 8) · 2.079"} <= set(losses["legend"])
    assert losses["hover"] and recall["hover"], "once every training has ended, the charts have their hover labels"
    runs = store.list()
    assert len(runs) == 3 and set(runs["kind"]) == {"memory"}
    loaded = {lstm_core.load_run(store.path(i)).model.architecture: lstm_core.load_run(store.path(i)) for i in runs["id"]}
    counts = {arch: run.config["parameters"] for arch, run in loaded.items()}
    for card, arch in zip(cards, ("lstm", "gru", "rnn")):
        assert f"{counts[arch]:,} parameters" in card  # matched budgets, as the models have them
    assert max(counts.values()) / min(counts.values()) < 1.05
    recalls = {m.value for m in at.metric if m.label == "recall"}
    for contender in (LSTM, GRU, RNN):
        final = loaded[contender.architecture].metrics["valid_accuracy"].dropna().iloc[-1]
        assert f"{final:.1%}" in recalls
        assert recall["values"][contender.label][-1][1] == pytest.approx(final, rel=1e-6)  # the chart's own numbers
    setup = CompareSetup(task="memory", delay=5, seed=3, param_budget=5000, steps=100)  # as the link set it
    text, positions, max_lag = setup.flow_probe(200)
    untrained, trained = (table.set_index("model") for table in html_tables(at)[-2:])  # before and after training
    flow = gradient_flow(loaded["rnn"].model, loaded["rnn"].vocab, text, max_lag, positions)
    assert trained.loc["plain RNN", "‖∂L/∂h‖ 5 steps back"] == norm(flow.hidden[0, 5])  # at the delay
    lstm = gradient_flow(loaded["lstm"].model, loaded["lstm"].vocab, text, max_lag, positions)
    assert trained.loc["LSTM", "‖∂L/∂c‖ 5 steps back"] == norm(lstm.cell[0, 5])
    assert trained.loc["LSTM", "parameters"] == f"{counts['lstm']:,}"
    model, vocab = setup.untrained_model(LSTM)
    start = gradient_flow(model, vocab, text, max_lag, positions)
    assert untrained.loc["LSTM", "‖∂L/∂h‖ 5 steps back"] == norm(start.hidden[0, 5])  # where its training began
    names = {trace["name"] for trace in figures(at)[0]["data"]}
    assert {"LSTM · ∂L/∂h", "LSTM · untrained · ∂L/∂h", "plain RNN · untrained · ∂L/∂h"} <= names  # one chart, both
    assert np.isfinite(flow.hidden).all()


def test_gru_and_rnn_runs_stay_out_of_the_lstm_pages_pickers(store):
    """/gates, /generate and /cell read an LSTM's gates: until they read the others, they are offered LSTMs only."""
    from lab_ui.run_picker import run_choices

    made = {}
    for arch in ("lstm", "gru"):
        training = lstm_core.CharTraining(lstm_core.preset_config("seed", architecture=arch, hidden_size=8, epochs=0.01,
                                                                  max_seconds=None, eval_chars=500), store=store)
        training.run()
        made[arch] = training.run_dir.name
    offered = run_choices("char")
    assert made["lstm"] in offered and made["gru"] not in offered and "pretrained" in offered
    assert made["gru"] in run_choices("char", ("lstm", "gru", "rnn"))
