"""Regressions found by trying the app as a new and as a hostile user: links with out-of-range or
meaningless numbers, the model choice across pages, the time left of a training that has ended, and
Home's quick start clicked a second time."""

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab_ui.run_picker import run_store
from lab_ui.live_training import _eta
from lstm_core import PRETRAINED_DIR
from lstm_core.execution.background import TrainingStatus
from tests.page_helpers import open_app
from tests.training_helpers import stop_leftover_trainers

PAGES = Path(__file__).resolve().parent.parent / "pages"


def warning_text(at) -> str:
    return " ".join(w.value for w in at.warning)


def test_train_link_with_a_negative_budget_is_brought_into_range_and_said():
    at = open_app(PAGES / "1_train.py", seconds="-5")
    assert not at.exception, at.exception
    assert at.number_input(key="train:default:seconds").value == 1.0
    assert "seconds = -5" in warning_text(at) and "1 is used instead" in warning_text(at)


def test_train_link_with_an_infinite_budget_falls_back_to_the_preset():
    at = open_app(PAGES / "1_train.py", seconds="inf")
    assert not at.exception, at.exception
    assert at.number_input(key="train:default:seconds").value == 60.0  # the default preset's budget


def test_sentiment_link_with_nan_seconds_uses_the_default():
    at = open_app(PAGES / "7_sentiment.py", preset="class", seconds="nan")
    assert not at.exception, at.exception
    assert at.slider(key="sentiment_seconds").value == 30  # the class preset's own budget


def test_sentiment_link_with_too_many_seconds_is_capped_and_said():
    at = open_app(PAGES / "7_sentiment.py", preset="class", seconds="5000")
    assert not at.exception, at.exception
    assert at.slider(key="sentiment_seconds").value == 900
    assert "seconds = 5000" in warning_text(at)


def test_tagger_link_with_too_many_seconds_is_capped_and_said():
    at = open_app(PAGES / "6_tagger.py", preset="seed", seconds="99999")
    assert not at.exception, at.exception
    assert at.slider(key="tagger_seconds").value == 900
    assert "seconds = 99999" in warning_text(at)


def test_generate_link_with_a_negative_temperature_says_greedy_is_used():
    at = open_app(PAGES / "3_generate.py", temperature="-1", length="3", prime="HARPAGON.\n")
    assert not at.exception, at.exception
    assert at.slider(key="temperature").value == 0.0
    assert "temperature = -1" in warning_text(at) and "length = 3" in warning_text(at)
    assert at.query_params["temperature"] == "0.0" and at.query_params["length"] == "10"


def test_the_chosen_model_follows_the_user_to_the_next_page(isolated_run_store):
    shutil.copytree(PRETRAINED_DIR, isolated_run_store / "copy")
    run_store.clear()  # this test's store
    at = AppTest.from_file(str(PAGES / "4_cell.py"), default_timeout=60)
    at.query_params["mode"] = "trained"
    at.session_state["last_run_char"] = "copy"  # chosen on another page of this session; no run in the link
    at.run()
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="selected_run").value == "copy"
    assert at.query_params["run"] == "copy"


def test_no_time_left_is_promised_once_a_training_has_ended():
    running = TrainingStatus(status="running", message="", progress=0.25, step=10, seconds=5.0)
    assert "about 15 s left" in _eta(running)
    for status in ("diverged", "paused", "stopped", "queued"):
        ended = TrainingStatus(status=status, message="", progress=0.08, step=11, seconds=1.7)
        assert _eta(ended) == "", status


@pytest.fixture
def no_leftover_trainings():
    """Stop this test's trainings and forget the session's trainers (AppTests share one session id)."""
    yield
    stop_leftover_trainers()


def test_the_quick_start_link_starts_again_once_the_last_training_ended(isolated_run_store, no_leftover_trainings):
    at = open_app(PAGES / "1_train.py", preset="seed", autostart="1", seconds="20")
    assert not at.exception, at.exception
    assert len(run_store().list()) == 1
    at.button(key="char_stop").click().run()
    at.query_params["autostart"] = "1"  # Home's "Start a 30-second training", clicked again
    at.run()
    assert not at.exception, at.exception
    assert len(run_store().list()) == 2, "a second quick start after a stopped training starts a new one"
    at.query_params["autostart"] = "1"  # ... and a third while that one still runs
    at.run()
    assert len(run_store().list()) == 2, "a running training is not replaced"
    assert any("already under way" in info.value for info in at.info)


def test_a_preset_that_trains_by_epochs_says_when_it_stops_instead_of_a_clock():
    at = open_app(PAGES / "7_sentiment.py", preset="strong", seconds="60")
    assert not at.exception, at.exception
    assert not at.slider and any("Trains by epochs" in c.value and "5 epochs" in c.value for c in at.caption)
