"""The Sentiment page (AppTest): a saved classifier's evaluation, baseline, verdict and word-by-word reading."""

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
import lstm_core.tasks
from lstm_core import lesson
from lstm_core.tasks import LabelledTexts
from lstm_core.training.tasks import ClassifierTraining, classifier_preset
from tests.page_helpers import html_bodies, svg_chart, unescaped

PAGE = "../pages/7_sentiment.py"


@pytest.fixture(autouse=True)
def one_torch_thread(monkeypatch):
    """Keep the tests' single torch thread (page_setup would otherwise claim every core)."""
    monkeypatch.setattr("lstm_core.execution.background._threads_configured", True)


def small_run(root) -> None:
    rng = np.random.default_rng(0)
    neutral = "the film story plot actor scene music".split()
    texts, labels = [], []
    for _ in range(200):
        label = int(rng.integers(2))
        texts.append(" ".join(list(rng.choice(neutral, 5)) + [["awful", "wonderful"][label]]))
        labels.append(label)
    data = LabelledTexts(texts, labels, ["negative", "positive"])
    config = classifier_preset("strong", max_seconds=None, epochs=4, batch_size=16, eval_every_seconds=1000)
    ClassifierTraining(config, store=lstm_core.RunStore(root), train=data.subset(0, 160), held_out=data.subset(160),
                       data_name="synthetic reviews").run()


def test_page_without_runs_explains_limits_and_offers_training():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    assert any(e.label == "Why can the LSTM lose to the bag of words here?" for e in at.expander), \
        "the reason is offered (computed when opened)"
    assert any("No classifier has been trained yet" in info.value for info in at.info)


def test_upload_without_a_file_refuses_to_start():
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio(key="sentiment_source").set_value("upload").run()
    at.button(key="sentiment_start").click().run()
    assert any("upload a CSV" in e.value for e in at.error)


def test_saved_classifier_shows_evaluation_baseline_and_reads_a_review(isolated_run_store):
    small_run(isolated_run_store)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Accuracy"].endswith("%") and metrics["Bag-of-words baseline"].endswith("%")
    assert all(len(value) <= 8 for value in metrics.values()), f"a metric cuts a long value: {metrics}"
    at.text_area(key="sentiment_review").set_value("the music was wonderful").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Verdict"] == "positive"
    assert float(metrics["P(positive)"].rstrip("%")) > 50
    evaluation = [svg_chart(at, kind) for kind in ("per-class-accuracy", "confusion-matrix")]
    assert all(evaluation) and list(evaluation[1]["values"]["rows"]) == ["negative", "positive"]
    prefixes = svg_chart(at, "token-line")  # P(positive) after each word of the review
    assert prefixes["ticks"] == ["the", "music", "was", "wonderful"] and len(prefixes["hover"]) == 4
    assert float(prefixes["hover"][-1].rsplit(" ", 1)[1]) == pytest.approx(float(metrics["P(positive)"].rstrip("%")) / 100,
                                                                           abs=0.006)  # the last prefix is the review
    assert any('class="gate-heatmap"' in h for h in html_bodies(at))  # the gates, word by word
    at.text_area(key="sentiment_review").set_value("<br /> ...").run()
    assert any("nothing to classify" in w.value for w in at.warning)


def test_a_shared_server_limits_the_csv_before_reading_it_and_splits_within_each_label(monkeypatch):
    """On a shared server the uploader offers the shared limit (not Streamlit's 200 MB), and a larger CSV is
    refused before it is parsed; a CSV sorted by label is split within each label (both parts hold both)."""
    monkeypatch.setenv("LSTM_LAB_SHARED", "1")
    monkeypatch.setattr("lab_ui.sharing.SHARED_UPLOAD_MB", 1)
    parsed = []
    real = lstm_core.tasks.read_labelled_csv
    monkeypatch.setattr("lstm_core.tasks.read_labelled_csv", lambda *args, **kw: parsed.append(1) or real(*args, **kw))
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.radio(key="sentiment_source").set_value("upload").run()
    assert at.file_uploader(key="sentiment_upload").proto.max_upload_size_mb == 1
    big = b"".join(b"a long review of a film %d,positive\n" % k for k in range(40_000))  # about 1.5 MB
    at.file_uploader(key="sentiment_upload").set_value(("big.csv", big, "text/csv")).run()
    assert not at.exception and not parsed
    assert any("files up to 1 MB are accepted" in unescaped(e.value) for e in at.error)
    ordered = "\n".join([f"dull film {k},negative" for k in range(40)] + [f"fine film {k},positive" for k in range(10)])
    at.file_uploader(key="sentiment_upload").set_value(("sorted.csv", ordered.encode(), "text/csv")).run()
    assert "40 texts to train on, 10 held out" in unescaped(at.success[0].value)


@pytest.mark.slow
def test_why_the_lstm_can_lose_shows_the_numbers_the_lesson_quotes():
    reveal = lesson.task()
    at = AppTest.from_file(PAGE, default_timeout=300)
    at.query_params.update(preset="class", why_lstm_loses="true")  # the lesson's link
    at.run()
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["In < 10 reviews"] == f"{reveal.numbers['rare_share']:.1%}"
    assert metrics["Words to learn"] == f"{reveal.numbers['words']:,}"
    assert metrics["Vector numbers"] == f"{reveal.numbers['embedding_numbers']:,}"
    if reveal.numbers["lstm_measured"] is not None:  # the measured LSTM the reveal quotes, in the preset's caption
        assert any(f"Measured: {reveal.numbers['lstm_measured']:.1%}" in c.value for c in at.caption)
    curve = at.table[0].value
    assert list(curve["bag-of-words accuracy"]) == [reveal.numbers[f"bag_of_words_{n}"] for n in (200, 400, 800, 1600)]
