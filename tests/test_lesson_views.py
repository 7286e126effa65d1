"""The lesson's rule: every number a reveal quotes is shown on the view its link opens. Each step's view is
opened (AppTest) with the link the lesson gives after the answer, and each quoted number is looked for in what
the page shows: its text, tables, captions and charts' data."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lab_ui.navigation import PAGES
from lstm_core import lesson
from tests.page_helpers import shown_text

ROOT = Path(__file__).resolve().parent.parent
STEP = {step.slug: step for step in lesson.STEPS}
CHECKED = [step.slug for step in lesson.STEPS]  # every step's view shows every number its reveal quotes


@pytest.fixture(scope="module")
def reveals():
    return {}


def reveal_of(slug: str, cache: dict):
    if slug not in cache:
        cache[slug] = STEP[slug].reveal()
    return cache[slug]


def open_view(view: str, query: dict) -> AppTest:
    script = next(script for script, path, _ in PAGES if path == view)
    at = AppTest.from_file(str(ROOT / script), default_timeout=600)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def missing(slug: str, reveal, **changed) -> list[str]:
    """The numbers ``reveal`` quotes that its step's view does not show, opened with its link (``changed``)."""
    step = STEP[slug]
    query = {key: value for key, value in {**step.settings, **reveal.settings, **changed}.items() if value is not None}
    at = open_view(step.view, query)
    shown = shown_text(at)
    if step.view == "train":
        at.button(key="char_stop").click().run()  # the step's link starts a training: stop it once the page is read
    return [number for number in reveal.quoted if number not in shown]


@pytest.mark.parametrize("slug", [pytest.param(slug, marks=pytest.mark.slow) if slug == "task" else slug
                                  for slug in CHECKED])  # the task's view fits a bag of words four times
def test_every_number_a_reveal_quotes_is_on_the_view_its_link_opens(slug, reveals):
    reveal = reveal_of(slug, reveals)
    assert reveal.quoted and all(number in reveal.text for number in reveal.quoted)  # the text quotes each one
    assert missing(slug, reveal) == []


def test_the_check_fails_when_the_view_ranks_units_on_another_span(reveals):
    reveal = reveal_of("units", reveals)
    assert missing("units", reveal, rank_on=None) != []  # the 300 characters shown name other units


def test_the_check_fails_when_the_view_draws_from_another_prime(reveals):
    reveal = reveal_of("sampling", reveals)
    assert missing("sampling", reveal, prime="HARPAGON.\n\n") != []


def test_the_check_fails_when_the_explorer_builds_another_module(reveals):
    reveal = reveal_of("api", reveals)
    assert missing("api", reveal, hidden_size="30") != []  # (120, 30), 4 × 30 = 120: not the quoted numbers
