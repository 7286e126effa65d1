"""The Compare page: its settings in the link, each comparison's commentary, the finished comparison it opens
with, and a tiny comparison trained to its end, whose every figure comes from the saved models and whose link
shows it again.

AppTest cannot tick ``run_every`` fragments, so the test sleeps and reruns the page instead.
"""

from __future__ import annotations

import time

import numpy as np
import pytest

import lstm_core
from lstm_core.compare import COMPARISONS, GRU, LSTM, RNN, TASK_DEFAULTS, CompareSetup
from lstm_core.compare_runs import SHIPPED_SETUP, load_comparison, shipped_comparison
from lstm_core.gradients import gradient_flow
from lstm_core.readable import norm
from tests.page_helpers import figures, html_tables, open_app, svg_chart
from tests.training_helpers import stop_leftover_trainers, wait_until

PAGE = "../pages/9_compare.py"


@pytest.fixture(autouse=True)
def store(isolated_run_store):
    yield lstm_core.RunStore(isolated_run_store)
    stop_leftover_trainers()


def test_defaults_go_into_the_link_and_each_comparison_says_what_was_found():
    at = open_app(PAGE)
    assert at.query_params["comparison"] == "architectures" and at.query_params["task"] == "memory"
    assert at.query_params["delay"] == "50" and at.query_params["budget"] == "20000"
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


def test_first_load_shows_the_shipped_comparison_drawn_from_its_runs(store):
    """Before anything is trained, /compare shows the finished comparison shipped with the app: losses, recall,
    gradients and states, every figure read from (or measured on) its runs, none written in."""
    at = open_app(PAGE)
    assert store.list().empty  # nothing trained
    losses, recall = svg_chart(at, "compare-loss"), svg_chart(at, "compare-accuracy")
    assert losses is not None and recall is not None
    assert len(at.get("plotly_chart")) == 2  # gradients and states: four charts in all
    assert [h.value for h in at.header] == ["Gradients through time", "States on the same text"]
    assert "runs" not in at.query_params  # the shipped comparison needs no ids in the link
    shipped = shipped_comparison()
    assert shipped.setup == SHIPPED_SETUP  # what the page's defaults train: "Train" reruns it live
    assert [at.query_params[name] for name in ("comparison", "task", "delay", "budget", "steps", "seed")] == [
        "architectures", "memory", str(SHIPPED_SETUP.delay), str(SHIPPED_SETUP.param_budget),
        str(SHIPPED_SETUP.steps), str(SHIPPED_SETUP.seed)]
    loaded = {label: lstm_core.load_run(folder) for label, folder in shipped.runs.items()}
    cards = [c.value for c in at.caption if " parameters · " in c.value]
    recalls = {m.value for m in at.metric if m.label == "recall"}
    for card, (label, run) in zip(cards, loaded.items()):
        assert f"{run.config['parameters']:,} parameters · finished · step 800 of 800" in card
        final = run.metrics["valid_accuracy"].dropna().iloc[-1]
        assert f"{final:.1%}" in recalls
        assert recall["values"][label][-1][1] == pytest.approx(final, rel=1e-6)
    seconds = sum(run.metrics["seconds"].max() for run in loaded.values())
    assert any(f"in {seconds:,.0f} s of training" in i.value for i in at.info)
    text, positions, max_lag = SHIPPED_SETUP.flow_probe(200)
    rnn = gradient_flow(loaded["plain RNN"].model, loaded["plain RNN"].vocab, text, max_lag, positions)
    trained = html_tables(at)[-1].set_index("model")  # the trained models' table, under the chart
    assert trained.loc["plain RNN", "‖∂L/∂h‖ 50 steps back"] == norm(rnn.hidden[0, 50])


def test_the_shipped_comparison_is_small_and_its_runs_are_one_comparison():
    shipped = shipped_comparison()
    size = sum(f.stat().st_size for folder in shipped.runs.values() for f in folder.rglob("*") if f.is_file())
    assert size < 3_000_000, size
    assert load_comparison(list(reversed(shipped.runs.values()))) == shipped  # any order: the record orders them


def test_a_comparison_is_known_by_its_runs_and_refuses_runs_of_another(store):
    """Each contender's run records its comparison: its runs, in any order, load it back; a run of another
    comparison, a missing one or a run of no comparison is refused with a reason."""
    from lstm_core.compare_runs import comparison_of_ids, mark_comparison
    from lstm_core.runs import RunError

    setup = CompareSetup(task="memory", delay=7, steps=50, seed=2)
    ours = [store.create(f"run {i}", {"kind": "memory"}) for i in range(3)]
    theirs = [store.create(f"other {i}", {"kind": "memory"}) for i in range(3)]
    mark_comparison(setup, ours)
    mark_comparison(CompareSetup(task="memory", delay=9), theirs)
    saved = comparison_of_ids(store, [ours[2].name, ours[0].name, ours[1].name])
    assert saved.setup == setup and saved.ids == [path.name for path in ours]
    assert list(saved.runs) == ["LSTM", "GRU", "plain RNN"]
    for ids, reason in (([ours[0].name, ours[1].name, theirs[2].name], "not the runs of one comparison"),
                        ([ours[0].name, ours[1].name], "not the runs of one comparison"),
                        ([store.create("alone", {"kind": "memory"}).name], "not part of a comparison"),
                        (["../outside"], "No run")):
        with pytest.raises(RunError, match=reason):
            comparison_of_ids(store, ids)


def test_a_link_to_runs_that_are_not_a_comparison_says_so_and_shows_the_shipped_one(store):
    at = open_app(PAGE, runs="nope-1,nope-2")
    assert any("The comparison in this link cannot be shown" in w.value for w in at.warning)
    assert svg_chart(at, "compare-loss") is not None


def test_a_text_task_brings_its_own_defaults_and_bad_links_fall_back():
    at = open_app(PAGE, task="full")
    assert at.query_params["budget"] == str(TASK_DEFAULTS["full"]["param_budget"]) and at.query_params["fbias"] == "1"
    assert at.slider[0].disabled  # the delay is the memory task's
    rates = next(c.value for c in at.caption if c.value.startswith("Each model trains at its own best learning rate"))
    for contender in (LSTM, GRU, RNN):  # each one's rate as its training will use it
        assert f"{contender.label} {CompareSetup('architectures', 'full').config(contender).lr:g}" in rates
    assert "the order is" in rates  # what the shipped check measured at these defaults
    assert "The arena on Molière, measured" in [h.value for h in at.header]
    assert any(c.value.startswith("Measured by `python scripts/arena_table.py") for c in at.caption)
    at = open_app(PAGE, task="bogus", steps="999", comparison="nope", fbias="80")
    assert at.query_params["task"] == "memory" and at.query_params["steps"] == "800"
    assert at.query_params["comparison"] == "architectures" and at.query_params["fbias"] == "10"


def test_a_tiny_comparison_trains_to_its_end_and_every_number_comes_from_the_models(store):
    at = open_app(PAGE, task="memory", delay="5", steps="100", budget="5000", seed="3")
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
    ids = at.query_params["runs"].split(",")  # the link names the comparison's runs, in the contenders' order
    assert sorted(ids) == sorted(runs["id"]) and [i.split("-")[-2] for i in ids] == ["lstm", "gru", "rnn"]

    stop_leftover_trainers()  # a new browser session: no trainer of this one is left
    again = open_app(PAGE, **{name: at.query_params[name] for name in ("task", "delay", "steps", "budget", "seed", "runs")})
    assert any("A saved comparison, read from its runs" in c.value for c in again.caption)
    assert [c.value for c in again.caption if " parameters · " in c.value] == cards
    assert {m.value for m in again.metric if m.label == "recall"} == recalls
    assert svg_chart(again, "compare-accuracy")["values"].keys() == recall["values"].keys()
    assert html_tables(again)[-1].equals(html_tables(at)[-1])  # the trained models' gradient table, again
    assert len(again.get("plotly_chart")) == 2


def test_closing_the_tab_mid_comparison_stops_every_contender_alike(store):
    """A closed tab ends every contender of a comparison the same way, stopped and saved (never one left paused
    while the others finish), whether it was training or still waiting for a core."""
    from lab_ui import live_training
    from lstm_core.execution.background import BackgroundTrainer

    trainings = CompareSetup(task="memory", delay=5, steps=20_000, param_budget=2_000).trainings(store)
    slots = {f"compare_{i}": live_training.LiveSlot(BackgroundTrainer(training), on_close="stop")
             for i, training in enumerate(trainings)}
    for live in slots.values():
        live.trainer.start()
    def status(live):
        return live.trainer.snapshot(since=1 << 62)
    wait_until(lambda: any(status(live).step > 0 for live in slots.values()), what="a contender's first steps")
    live_training._end_released(slots)  # what Streamlit calls when the tab's session ends
    wait_until(lambda: not any(status(live).status in ("queued", "running") for live in slots.values()),
               what="every contender to end")
    assert {status(live).status for live in slots.values()} == {"stopped"}
    assert set(store.list()["status"]) == {"stopped"}


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
