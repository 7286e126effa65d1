"""The Cell lab and the nn.LSTM explorer in a real browser (Chromium through Playwright)."""


import pytest
import torch
from playwright.sync_api import expect

from conftest import keep_screenshot, wait_for_app
from lstm_core import cell
from lstm_core.cell_lab import SCENARIOS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def equation(tab, quantity):
    return tab.locator(f".cell-lab .cl-eq[data-quantity={quantity}]")


def test_cell_lab_in_a_browser(app_server, page):
    """A slider moves the numbers at once (computed in the browser), and the move reaches the link."""
    page.goto(f"{app_server}/cell?scenario=count")
    wait_for_app(page)
    assert page.locator("[data-testid=stException]").count() == 0
    expect(page.locator(".cell-lab .cl-sentence").filter(has_text="Count.")).to_have_count(1)
    expect(equation(page, "cell_state")).to_contain_text("= 0.4993")  # c_t with x = 1
    assert page.locator(".cell-lab .cl-fails").count() == 0
    keep_screenshot(page, "browser_cell", full_page=False)
    page.locator(".cell-lab input[data-name=x_0]").focus()
    page.keyboard.press("ArrowLeft")  # x_t: 1.00 -> 0.95
    count = SCENARIOS["count"]
    moved = cell.cell_step(count.weights(), [0.95], [count.h_prev], [count.c_prev])
    expect(equation(page, "cell_state")).to_contain_text(f"= {moved.cell_state[0]:.4f}")
    expect(equation(page, "hidden_state")).to_contain_text(f"= {moved.hidden_state[0]:.4f}")
    expect(page.locator(".cell-lab .cl-slider:has(input[data-name=x_0]) output")).to_have_text("0.95")
    page.wait_for_function("() => new URLSearchParams(location.search).get('x') === '0.95'")  # reported back
    diagram = page.locator(".cell-lab .cl-figures")
    diagram.scroll_into_view_if_needed()
    keep_screenshot(diagram, "browser_cell_diagram", full_page=False)


def test_cell_lab_sentence_is_checked_live(app_server, page):
    """Gates mode: the forget preset's claims hold; push z_f up and the sentence is marked as no longer holding."""
    page.goto(f"{app_server}/cell?mode=gates&scenario=forget")
    wait_for_app(page)
    expect(page.locator(".cell-lab .cl-holds")).to_have_count(2)
    keep_screenshot(page, "browser_cell_gates", full_page=False)
    page.locator(".cell-lab input[data-name=z_1_0]").focus()
    page.keyboard.press("End")  # z_f = +8: the forget gate opens
    expect(page.locator(".cell-lab .cl-fails")).to_have_count(2)
    expect(page.locator(".cell-lab .cl-note")).to_contain_text("no longer hold")
    expect(equation(page, "forget_gate")).to_contain_text("σ(8.00) = 0.9997")


def test_cell_lab_steps_through_a_sequence_and_a_trained_unit(app_server, page):
    page.goto(f"{app_server}/cell?mode=sequence&scenario=count")
    wait_for_app(page)
    forward = page.locator(".cell-lab button.cl-step-forward")
    forward.click()
    forward.click()
    expect(page.locator(".cell-lab .cl-caption")).to_contain_text("Step 2 of 7")
    expect(equation(page, "cell_state")).to_contain_text("= 0.9949")  # two ones seen: about 2 × 0.5
    expect(forward).to_have_text("step forward ▶")
    assert forward.evaluate("b => b.scrollWidth <= b.clientWidth"), "the button's label is cut"
    keep_screenshot(page, "browser_cell_sequence", full_page=False)
    page.goto(f"{app_server}/cell?mode=trained&unit=7")
    wait_for_app(page)
    page.locator(".cell-lab input[data-name=step]").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".cell-lab .cl-caption")).to_contain_text("Unit 7 of layer 0, reading 'R' (step 1 of")
    page.wait_for_function("() => new URLSearchParams(location.search).get('step') === '1'")
    keep_screenshot(page, "browser_cell_trained", full_page=False)


def test_explorer_in_a_browser(app_server, page):
    page.goto(f"{app_server}/explorer?bidirectional=True&num_layers=2&proj_size=2")
    wait_for_app(page)
    assert page.locator("[data-testid=stException]").count() == 0
    count = sum(p.numel() for p in torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=2).parameters())
    assert page.get_by_text(f"Parameters: {count:,} in 20 tensors").count() == 1
    keep_screenshot(page, "browser_explorer", full_page=False)
    page.get_by_role("tab", name="Padding and packing").click()
    page.get_by_text("pack_padded_sequence", exact=False).first.wait_for()
    wait_for_app(page)  # the tab's run has ended before the next tab is asked for
    page.get_by_role("tab", name="Truncated BPTT").click()
    wait_for_app(page)
    chart = page.locator(".stPlotlyChart").last
    chart.scroll_into_view_if_needed()
    keep_screenshot(chart, "browser_explorer_detach", full_page=False)
