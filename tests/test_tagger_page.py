"""The Tagger page (AppTest): train the seed's toy tagger live, then tag a sentence and see its gates; while a
tagger trains its loss reads per word and it is not evaluated before it ends."""

import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from lstm_core.runs import hold, release
from lstm_core.training.tasks import TaggerTraining, tagger_preset
from tests.page_helpers import html_bodies, live_figures, svg_chart, svg_heatmaps, svg_of

PAGE = "../pages/6_tagger.py"


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    """Keep the tests' single torch thread (page_setup would otherwise claim every core)."""
    monkeypatch.setattr("lstm_core.execution.background._threads_configured", True)


def test_page_without_runs_offers_training():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any("No tagger has been trained yet" in info.value for info in at.info)
    assert at.radio(key="tagger_preset").value == "strong"


def test_start_the_seed_preset_and_tag_its_sentence():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = "seed-toy"
    at.run()
    at.button(key="tagger_start").click().run()
    deadline = time.time() + 120
    while time.time() < deadline and not at.success:
        time.sleep(0.5)
        at.run()
    assert not at.exception
    assert any("Finished after 600 steps" in s.value for s in at.success)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"] == "100.0%"
    assert metrics["Most-frequent-tag baseline"] == "100.0%", "shown beside the model (each toy word has one tag)"
    table = at.table[0].value
    assert list(table["word"]) == ["The", "dog", "ate", "the", "apple"]
    assert list(table["tag"]) == ["DET", "NN", "V", "DET", "NN"]
    assert "seed-toy" in at.query_params["run"]


def test_typed_sentence_is_tagged_and_an_empty_one_is_refused(isolated_run_store):
    training = TaggerTraining(tagger_preset("seed-toy"), store=lstm_core.RunStore(isolated_run_store))
    training.run()
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert svg_chart(at, "tag-probabilities") is None, "every tag's probability is drawn once its section is opened"
    at.query_params["tag_probabilities"] = "true"  # opened (as the section's link keeps it)
    at.text_input(key="tagger_sentence").set_value("Everybody read that book").run()
    assert not at.exception
    assert list(at.table[0].value["tag"]) == ["NN", "V", "DET", "NN"]
    assert at.query_params["sentence"] == "Everybody read that book"
    grid = svg_chart(at, "tag-probabilities")["values"]  # every tag's probability at every word
    assert list(grid["columns"]) == ["Everybody", "read", "that", "book"]
    assert np.allclose(np.sum(grid["values"], axis=0), 1, atol=1e-4)
    assert [grid["rows"][i] for i in np.argmax(grid["values"], axis=0)] == ["NN", "V", "DET", "NN"]
    assert svg_chart(at, "per-class-accuracy") and svg_chart(at, "confusion-matrix")  # its evaluation
    at.selectbox(key="tagger_quantity").set_value("forget_gate").run()
    assert not at.exception
    heatmap = next(h for h in svg_heatmaps(at) if "· step" not in h["title"])  # the word gates', not the live panel's
    assert heatmap["quantity"] == "forget_gate" and heatmap["values"].shape[1] == 4  # a column per word
    at.text_input(key="tagger_sentence").set_value("   ").run()
    assert any("at least one word" in w.value for w in at.warning)


def test_the_run_in_the_link_is_the_one_shown(isolated_run_store):
    store = lstm_core.RunStore(isolated_run_store)
    first = TaggerTraining(tagger_preset("seed-toy"), store=store, name="first tagger")
    first.run()
    TaggerTraining(tagger_preset("seed-toy", seed=1), store=store, name="second tagger").run()
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["run"] = first.run_dir.name
    at.run()
    assert not at.exception
    assert at.selectbox(key="tagger_run").value == first.run_dir.name


def half_trained_tagger(store: lstm_core.RunStore, status: str) -> TaggerTraining:
    """A seed-toy tagger checkpointed mid-training with ``status``, as a trainer leaves it on disk."""
    training = TaggerTraining(tagger_preset("seed-toy"), store=store, name="half trained")
    for _ in range(5):
        training.step()
    training.evaluate()
    training.save(status=status)
    return training


@pytest.mark.parametrize("status, why", [("running", "still training in another session"),
                                         ("paused", "Its training is paused")])
def test_a_half_trained_tagger_is_not_evaluated_as_if_done(isolated_run_store, status, why):
    store = lstm_core.RunStore(isolated_run_store)
    training = half_trained_tagger(store, status)
    hold(training.run_dir)  # a trainer holds it: a fresh server does not mark it paused
    try:
        at = AppTest.from_file(PAGE, default_timeout=60)
        at.query_params["run"] = training.run_dir.name
        at.run()
    finally:
        release(training.run_dir)
    assert not at.exception
    assert at.selectbox(key="tagger_run").value == training.run_dir.name, "the run can still be chosen"
    assert any("Not evaluated yet" in i.value and why in i.value for i in at.info), [i.value for i in at.info]
    assert not at.table and not [m for m in at.metric if m.label == "Accuracy"], \
        "no tags, no accuracy from a half-trained model"


def test_while_the_tagger_trains_its_loss_is_per_word_and_evaluate_waits():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params["preset"] = "class"
    at.query_params["seconds"] = "5"
    at.run()
    at.button(key="tagger_start").click().run()
    assert any("Still training" in i.value for i in at.info), "no run saved yet: the Evaluate area says it trains"
    deadline = time.time() + 300  # a 5-s budget, but a loaded machine is slow to load the treebank
    labels = []
    while time.time() < deadline and not at.success:
        time.sleep(0.5)
        at.run()
        assert not at.exception
        labels = labels or [label for label in live_figures(at) if "loss" in label]
        if not at.success:  # still training: nothing is evaluated or tagged
            assert not at.table and any("Still training" in i.value for i in at.info)
    assert any("Finished" in s.value for s in at.success), "the training ends within its budget"
    labels = labels or [label for label in live_figures(at) if "loss" in label]
    assert labels and set(labels) <= {"Train loss (nats/word)", "Validation loss (nats/word)"}, labels
    assert "Loss (nats per word)" in svg_of(next(body for body in html_bodies(at) if 'class="live-loss"' in body))
    assert at.table, "once it has ended the tagger is evaluated and tried"
