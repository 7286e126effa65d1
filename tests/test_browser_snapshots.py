"""In a real browser: a training started on /train shows a gate heatmap within 10 s that changes as
steps pass, and /gates replays the run's snapshots as a movie when Play is pressed."""

from __future__ import annotations

import re
import time

import pytest

from conftest import keep_screenshot, wait_for_app

def snapshot_heatmap(page):
    """The gate heatmap of a snapshot: an SVG image whose title (in its alt text) ends with the step."""
    return page.locator("div.gate-heatmap img[alt*='· step']").first


def shown(page) -> tuple[int, str]:
    """(the step in the snapshot heatmap's title, the drawn image of its cells)."""
    image = snapshot_heatmap(page)
    title = image.get_attribute("alt").split(": heatmap of")[0]
    return int(re.search(r"step ([\d,]+)$", title).group(1).replace(",", "")), image.get_attribute("src") or ""




@pytest.mark.browser
@pytest.mark.slow
def test_a_gate_heatmap_is_on_the_train_page_within_10_s_and_changes_then_replays_on_gates(app_server, page):
    page.goto(f"{app_server}/train?preset=seed&seconds=40")
    wait_for_app(page)
    started = time.monotonic()
    page.get_by_role("button", name="Start training").click()
    snapshot_heatmap(page).wait_for(state="visible", timeout=10_000)
    within = time.monotonic() - started
    assert within < 10, f"the first gate heatmap took {within:.1f} s"
    print(f"first gate heatmap on the page {within:.1f} s after Start")

    seen = [shown(page)]
    deadline = time.monotonic() + 60
    # no clicks: the panel polls; watch until six snapshots have come, so that the run has a movie to replay below
    # (four frames of it at least: one every 0.8 s while it plays)
    while len({step for step, _ in seen}) < 6 and time.monotonic() < deadline:
        time.sleep(0.5)
        seen.append(shown(page))
    steps = [step for step, _ in seen]
    assert len(set(steps)) >= 3 and steps == sorted(steps), steps
    assert len({image for _, image in seen}) >= 3, "the heatmap's cells change as the model learns"
    assert page.locator("div.saturation-over-training img[alt^='Gate saturation over training']").count()
    keep_screenshot(page, "browser-train-gates", height=2400)

    caption = page.get_by_text(re.compile(r"Saved as it trains: run")).first.inner_text()
    run_id = re.search(r"run (\S+) \(see", caption).group(1).strip("`")
    page.get_by_role("button", name="Stop and save").click()
    page.get_by_text("the run is saved").first.wait_for(timeout=60_000)

    page.goto(f"{app_server}/gates?run={run_id}")
    wait_for_app(page)
    assert page.get_by_text(re.compile(r"^Snapshot \(\d+ kept\)$")).count() == 0, "drawn only when picked"
    page.get_by_text("Training movie", exact=True).click()  # its section is drawn (and the link keeps it)
    page.get_by_text(re.compile(r"^Snapshot \(\d+ kept\)$")).wait_for(timeout=30_000)
    assert "section=movie" in page.url
    slider = page.get_by_text(re.compile(r"^Snapshot \(\d+ kept\)$"))
    kept = int(re.search(r"\((\d+) kept\)", slider.inner_text()).group(1))
    assert kept >= 6, f"the movie replays {kept} snapshots"
    last_step, _ = shown(page)
    play = page.locator(".st-key-movie_play button")
    assert "Play" in play.inner_text()
    play.click()
    page.locator(".st-key-movie_play button", has_text="Pause").wait_for(timeout=30_000)
    frames = []
    deadline = time.monotonic() + 30
    while len(set(frames)) < 4 and time.monotonic() < deadline:  # the movie plays by itself
        time.sleep(0.4)
        frames.append(shown(page)[0])
    assert len(set(frames)) >= 4 and frames == sorted(frames) and frames[0] < last_step, frames
    keep_screenshot(page, "browser-gates-movie", height=2400)
    play.click()
    page.locator(".st-key-movie_play button", has_text="Play").wait_for(timeout=30_000)
