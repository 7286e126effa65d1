"""In a real browser: the Train page's live chart and gate heatmap move on their own (fetched from the server's
feed), pause holds the run, a visit to the Runs page and back finds the run and its charts intact, and /gates
replays the run's snapshots as a movie; on a 1366x768 screen a quick start shows its loss chart and sample first,
and a stopped run opens its gates in one click."""

from __future__ import annotations

import re
import time

import pytest

from conftest import keep_screenshot, steady_box, wait_for_app



def metric(page, label: str) -> str | None:
    """A figure of the live panel (lab_ui/components/live_panel.js) as shown, None while it has none."""
    figure = page.locator(f'.live-panel [data-label="{label}"] .lp-value')
    return figure.first.inner_text().strip() if figure.count() else None


LOSS_CHART = ".live-loss"  # the live panel's loss chart: an SVG image, its points in data-values


def loss_chart_paths(page) -> str:
    """The points of the loss chart's lines, as drawn."""
    chart = page.locator(LOSS_CHART).first
    return (chart.get_attribute("data-values") or "") if chart.count() else ""


def sidebar_link(page, label: str):
    """The sidebar's link to a page (a click keeps the browser session, unlike opening a URL)."""
    return page.locator("[data-testid=stSidebar] a").filter(
        has_text=re.compile(rf"^\s*{label}\s*$", re.IGNORECASE)).first


def set_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    wait_for_app(page)


def snapshot_heatmap(page):
    """The gate heatmap of a snapshot: an SVG image whose title (in its alt text) ends with the step."""
    return page.locator("div.gate-heatmap img[alt*='· step']").first


def shown_snapshot(page) -> tuple[int, str]:
    """(the step in the snapshot heatmap's title, the drawn image of its cells)."""
    image = snapshot_heatmap(page)
    title = image.get_attribute("alt").split(": heatmap of")[0]
    return int(re.search(r"step ([\d,]+)$", title).group(1).replace(",", "")), image.get_attribute("src") or ""


def watch(page, read, enough, seconds: float = 60) -> list:
    """What ``read(page)`` shows every half second, with no clicks, until ``enough(seen)`` or ``seconds`` pass."""
    seen = [read(page)]
    deadline = time.monotonic() + seconds
    while not enough(seen) and time.monotonic() < deadline:
        time.sleep(0.5)
        seen.append(read(page))
    return seen


@pytest.mark.browser
@pytest.mark.slow
def test_live_chart_and_gates_move_alone_the_run_survives_navigation_and_replays_as_a_movie(app_server, page):
    """One training serves the Train page's live checks: its loss chart and its gate heatmap (within 10 s of
    Start) redraw with no clicks, fed by the server's route or, without it, polled; pause holds the run through a
    visit to Runs and back; once stopped, /gates replays its snapshots as a movie when Play is pressed."""
    page.goto(f"{app_server}/train?preset=seed&seconds=60")
    wait_for_app(page)
    set_number(page, "Hidden size (units per layer)", 32)
    set_number(page, "Batch size (parallel streams)", 8)
    fed = []  # the live panel's fetches from the server's feed (lab_ui.live_feed), by status
    page.on("response", lambda response: fed.append(response.status) if "/api/live/" in response.url else None)
    started = time.monotonic()
    page.get_by_role("button", name="Start training").click()
    snapshot_heatmap(page).wait_for(state="visible", timeout=10_000)
    within = time.monotonic() - started
    assert within < 10, f"the first gate heatmap took {within:.1f} s"
    print(f"first gate heatmap on the page {within:.1f} s after Start")
    page.wait_for_selector(f"{LOSS_CHART} img", timeout=60_000)

    # no clicks: only the panel's feed redraws the chart; watch until six snapshots have come, so that the run has
    # a movie to replay below (four frames of it at least: one every 0.8 s while it plays)
    seen = watch(page, lambda tab: (loss_chart_paths(tab), shown_snapshot(tab)),
                 lambda seen: len({chart for chart, _ in seen}) >= 3 and len({step for _, (step, _) in seen}) >= 6)
    assert len({chart for chart, _ in seen}) >= 3, "the loss chart should change at least twice without any interaction"
    assert fed.count(200) >= 2 and set(fed) == {200}, f"the panel is fed by the server's route: {fed}"
    steps = [step for _, (step, _) in seen]
    assert len(set(steps)) >= 3 and steps == sorted(steps), steps
    assert len({image for _, (_, image) in seen}) >= 3, "the heatmap's cells change as the model learns"
    assert page.locator("div.saturation-over-training img[alt^='Gate saturation over training']").count()
    keep_screenshot(page, "browser-train-gates", height=2400)

    page.route("**/api/live/**", lambda route: route.fulfill(status=503))  # the feed unreachable (a proxy in between)
    seen = watch(page, loss_chart_paths, lambda seen: len(set(seen)) >= 3)
    assert len(set(seen)) >= 3, "without its feed the panel still moves, polled by its fragment"
    assert 503 in fed
    page.unroute("**/api/live/**")
    keep_screenshot(page, "browser-train-live", height=2000)

    page.get_by_role("button", name="Pause").click()
    page.get_by_text("Paused. Resume continues from the same step.").wait_for(timeout=30_000)
    wait_for_app(page)
    paused_step = metric(page, "Step")
    assert paused_step and int(paused_step.replace(",", "")) > 0
    paused_chart = loss_chart_paths(page)

    sidebar_link(page, "Runs").click()
    page.get_by_role("heading", name="Runs").wait_for(timeout=30_000)
    wait_for_app(page)
    assert page.get_by_text("seed · seed · h32x1").first.is_visible(), "the run is saved as it trains"

    sidebar_link(page, "Train").click()
    page.get_by_role("heading", name="Train a character model").wait_for(timeout=30_000)
    wait_for_app(page)
    page.get_by_text("Paused. Resume continues from the same step.").wait_for(timeout=30_000)
    assert metric(page, "Step") == paused_step, "the paused run comes back exactly where it was"
    assert loss_chart_paths(page) == paused_chart
    assert page.get_by_role("button", name="Resume").is_enabled()
    assert "preset=seed" in page.url, "the view's settings come back with it"
    page.get_by_text("Settings").first.click()
    assert page.get_by_label("Hidden size (units per layer)", exact=True).input_value() == "32"
    keep_screenshot(page, "browser-train-after-navigation", height=2000)
    caption = page.get_by_text(re.compile(r"Saved as it trains: run")).first.inner_text()
    run_id = re.search(r"run (\S+) \(see", caption).group(1).strip("`")
    page.get_by_role("button", name="Stop and save").click()
    page.get_by_text("the run is saved").first.wait_for(timeout=30_000)

    page.goto(f"{app_server}/gates?run={run_id}")
    wait_for_app(page)
    assert page.get_by_text(re.compile(r"^Snapshot \(\d+ kept\)$")).count() == 0, "drawn only when picked"
    page.get_by_text("Training movie", exact=True).click()  # its section is drawn (and the link keeps it)
    page.get_by_text(re.compile(r"^Snapshot \(\d+ kept\)$")).wait_for(timeout=30_000)
    assert "section=movie" in page.url
    slider = page.get_by_text(re.compile(r"^Snapshot \(\d+ kept\)$"))
    kept = int(re.search(r"\((\d+) kept\)", slider.inner_text()).group(1))
    assert kept >= 6, f"the movie replays {kept} snapshots"
    last_step, _ = shown_snapshot(page)
    play = page.locator(".st-key-movie_play button")
    assert "Play" in play.inner_text()
    play.click()
    page.locator(".st-key-movie_play button", has_text="Pause").wait_for(timeout=30_000)
    # the movie plays by itself, from its first snapshot (the last one may still be shown for a moment after Play)
    frames = watch(page, lambda tab: shown_snapshot(tab)[0], lambda frames: len(set(frames) - {last_step}) >= 4,
                   seconds=30)
    frames = frames[next((i for i, step in enumerate(frames) if step != last_step), len(frames)):]
    assert len(set(frames)) >= 4 and frames == sorted(frames) and frames[0] < last_step, frames
    keep_screenshot(page, "browser-gates-movie", height=2400)
    play.click()
    page.locator(".st-key-movie_play button", has_text="Play").wait_for(timeout=30_000)


@pytest.mark.browser
@pytest.mark.slow
def test_a_quick_start_fits_a_class_screen_and_a_stopped_run_links_to_its_gates_and_its_writing(app_server, page):
    page.set_viewport_size({"width": 1366, "height": 768})  # a classroom projector's laptop
    page.goto(f"{app_server}/train?preset=seed&autostart=1&seconds=120")
    wait_for_app(page)
    chart = page.locator(LOSS_CHART).first
    chart.locator("img").wait_for(timeout=60_000)
    sample = page.get_by_text("Sample from the model at step").first
    sample.wait_for(timeout=60_000)
    keep_screenshot(page, "browser-train-quick-start-1366x768")
    assert not page.get_by_label("Hidden size (units per layer)", exact=True).is_visible(), "settings folded"
    for element in (chart, page.locator(".text-box").first):
        box = steady_box(element)
        assert box and box["y"] >= 0 and box["y"] + min(box["height"], 250) <= 768, f"below the fold: {box}"

    assert page.get_by_text("Open its gates and states").count() == 0, "no links while it trains"
    page.get_by_role("button", name="Stop and save").click()
    gates = page.get_by_text("Open its gates and states")
    gates.wait_for(timeout=60_000)
    assert page.get_by_text("Make it write (Generate)").is_visible()
    wait_for_app(page)  # the rerun after the stop has drawn everything (a stale copy may linger until then)
    run_id = re.search(r"run (\S+) \(see", page.get_by_text("Saved as it trains").first.inner_text()).group(1)
    gates.click()
    page.get_by_role("heading", name="Gates & states").wait_for(timeout=60_000)
    wait_for_app(page)
    assert f"run={run_id}" in page.url, page.url
    picker = page.locator("[data-testid=stSidebar] [data-testid=stSelectbox]").first
    shown = picker.inner_html()  # the chosen option sits in the picker's markup (an input's value or a div)
    assert "seed · seed · h128x1" in shown, "the sidebar's model is the run just trained"
