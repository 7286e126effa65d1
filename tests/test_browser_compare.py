"""In a real browser: one click starts LSTM vs GRU vs plain RNN on the memory task, their curves appear
and grow on their own, and when they end the gradients and the states are drawn."""

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


def test_one_click_trains_three_architectures_and_their_curves_appear(app_server, page, tmp_path):
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{app_server}/compare?task=memory&delay=10&steps=200&budget=5000")
    wait_for_app(page)
    page.get_by_role("button", name="Train LSTM vs GRU vs plain RNN").click()
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
    page.get_by_text("Trained (latest checkpoints)", exact=True).wait_for(timeout=300_000)  # beside the untrained
    wait_for_app(page)
    charts = page.locator("[data-testid=stPlotlyChart]")
    charts.nth(1).wait_for(timeout=60_000)  # the page's first Plotly charts: drawn once Plotly's code has loaded
    assert charts.count() == 2  # gradients and states; the losses are SVG
    assert page.locator(f"{LOSS_CHART} img").is_visible()
    keep_screenshot(page, tmp_path, "browser-compare")
