"""The lesson's memory-diff step: its reveal is computed from the shipped memory-task models, and every number it
quotes is on the /why view its link opens (the rule of tests/test_lesson_views.py)."""

from lstm_core import lesson
from tests.test_lesson_views import missing


def test_the_memory_diff_reveal_quotes_numbers_its_view_shows():
    reveal = lesson.memory_diff()
    step = next(s for s in lesson.STEPS if s.slug == "memory-diff")
    assert lesson.STEPS[-1] is step and step.choices[reveal.answer].startswith("the LSTM's cell still holds it")
    assert reveal.quoted and all(number in reveal.text for number in reveal.quoted)
    assert reveal.numbers["lstm"] > 0.1 > 0.01 > reveal.numbers["rnn"]
    assert missing("memory-diff", reveal) == []
