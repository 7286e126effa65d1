"""In a real browser: the page opens on the shipped comparison, already drawn; one click starts LSTM vs GRU vs
plain RNN on the memory task, their curves appear and grow on their own, when they end the gradients and the
states are drawn, and a reload of the page's link shows the same comparison again."""

from __future__ import annotations

import json
import time

import pytest

from conftest import keep_screenshot, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]


LOSS_CHART = ".compare-loss"  # the losses overlaid: an SVG image, its points in data-values


def loss_curves(page) -> str:
    """The points of the loss chart's lines, as drawn."""
    chart = page.locator(LOSS_CHART).first
    return (chart.get_attribute("data-values") or "") if chart.count() else ""


def test_one_click_trains_three_architectures_and_their_curves_appear(app_server, page):
    page.goto(f"{app_server}/compare?task=memory&delay=10&steps=100&budget=5000")
    wait_for_app(page)
    shipped = page.get_by_text("A finished comparison, shipped with the app")
    assert shipped.is_visible() and page.locator(f"{LOSS_CHART} img").is_visible()
    page.locator("[data-testid=stPlotlyChart]").nth(1).wait_for(timeout=60_000)  # its gradients and states
    page.get_by_role("button", name="Train LSTM vs GRU vs plain RNN").click()
    shipped.wait_for(state="detached", timeout=60_000)  # the live comparison replaces it
    page.wait_for_selector(f"{LOSS_CHART} img", timeout=120_000)
    seen = [loss_curves(page)]
    deadline = time.monotonic() + 90
    while len(set(seen)) < 3 and time.monotonic() < deadline:  # no clicks: only the polling fragment redraws
        time.sleep(0.5)
        seen.append(loss_curves(page))
    assert len(set(seen)) >= 3, "the loss curves should grow without any interaction"
    names = ("LSTM · validation", "GRU · validation", "n-gram (order 6)", "chance (1 in 8)")
    legend = ""
    while not all(name in legend for name in names) and time.monotonic() < deadline + 60:
        legend = " | ".join(json.loads(loss_curves(page) or "{}"))  # each line by its legend name
        time.sleep(0.5)
    assert all(name in legend for name in names), legend  # each model in its colour, and the reference lines
    page.get_by_text("Trained (latest checkpoints)", exact=True).wait_for(timeout=300_000)  # as each model ends
    page.get_by_text("finished · step 100 of 100").nth(2).wait_for(timeout=300_000)
    wait_for_app(page)
    charts = page.locator("[data-testid=stPlotlyChart]")
    charts.nth(1).wait_for(timeout=60_000)  # the page's first Plotly charts: drawn once Plotly's code has loaded
    assert charts.count() == 2  # gradients and states; the losses are SVG
    assert page.locator(f"{LOSS_CHART} img").is_visible()
    keep_screenshot(page, "browser-compare", height=2600)
    assert "runs=" in page.url
    drawn = loss_curves(page)
    page.goto(page.url)  # a reload: a new session, which reads the comparison from its runs
    wait_for_app(page)
    page.get_by_text("A saved comparison, read from its runs").wait_for(timeout=60_000)
    assert page.get_by_text("finished · step 100 of 100").count() == 3
    page.wait_for_selector(f"{LOSS_CHART} img", timeout=60_000)  # drawn after the text on a busy machine
    assert set(json.loads(loss_curves(page))) == set(json.loads(drawn))  # the same lines, from the saved metrics
