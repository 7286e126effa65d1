"""The Tagger and Sentiment pages in a real browser: train live, then tag and classify; screenshots."""


import pytest

from conftest import keep_screenshot, wait_for_app



def start_and_wait_for_the_end(page, seconds: float) -> None:
    page.get_by_role("button", name="Start training").click()
    page.get_by_text("Finished after").first.wait_for(timeout=seconds * 1000)
    wait_for_app(page)


@pytest.mark.browser
@pytest.mark.slow
def test_tagger_trains_the_seed_example_and_tags_a_sentence(app_server, page):
    page.goto(f"{app_server}/tagger?preset=seed-toy")
    wait_for_app(page)
    assert page.get_by_text("No tagger has been trained yet").count() == 1
    start_and_wait_for_the_end(page, 180)
    for chart in (".per-class-accuracy img", ".confusion-matrix img"):  # its evaluation, drawn as images
        page.locator(chart).first.wait_for(timeout=30_000)
    page.get_by_text("Gates and states, word by word").wait_for(timeout=30_000)
    assert page.locator("[data-testid=stException]").count() == 0
    assert "run=" in page.url and "sentence=" in page.url
    keep_screenshot(page, "tagger", height=3400)


@pytest.mark.browser
@pytest.mark.slow
def test_sentiment_trains_briefly_and_reads_a_review(app_server, page):
    page.goto(f"{app_server}/sentiment?preset=class&seconds=5")
    wait_for_app(page)
    assert page.get_by_text("Why can the LSTM lose to the bag of words here?").count() == 1
    start_and_wait_for_the_end(page, 300)
    page.get_by_text("Bag-of-words baseline").first.wait_for(timeout=30_000)
    page.get_by_text("after each word").first.wait_for(timeout=30_000)
    page.locator(".token-line img").first.wait_for(timeout=30_000)  # P(positive) over the review's words
    verdict = page.locator("[data-testid=stMetric]", has_text="Verdict")
    verdict.first.wait_for(timeout=30_000)  # drawn with the rest of the run that drew the line above
    wait_for_app(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert verdict.count() == 1
    keep_screenshot(page, "sentiment", height=3400)
