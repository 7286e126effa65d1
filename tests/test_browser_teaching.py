"""The Cell lab and the nn.LSTM explorer in a real browser (Chromium through Playwright)."""

import shutil
from pathlib import Path

import pytest
import torch

from conftest import wait_for_app

SCREENS = Path("/work/notes/screens")
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def keep(tmp_path, tab, name, element=None):
    """Screenshot into the test's folder, and a copy where the team looks at screens."""
    shot = tmp_path / f"{name}.png"
    (element or tab).screenshot(path=str(shot))
    if SCREENS.parent.is_dir():
        SCREENS.mkdir(exist_ok=True)
        shutil.copy(shot, SCREENS / shot.name)


def test_cell_lab_in_a_browser(app_server, page, tmp_path):
    page.goto(f"{app_server}/cell?scenario=count")
    wait_for_app(page)
    assert page.locator("[data-testid=stException]").count() == 0
    assert page.get_by_text("Count.", exact=False).count() > 0
    page.locator(".stPlotlyChart").first.wait_for()
    assert page.locator(".stPlotlyChart").count() == 2
    assert page.locator(".katex").filter(has_text="0.4993").count() > 0  # c_t = 0.4993 in the equations
    keep(tmp_path, page, "browser_cell")
    diagram = page.locator(".stPlotlyChart").first
    diagram.scroll_into_view_if_needed()
    keep(tmp_path, page, "browser_cell_diagram", diagram)


def test_explorer_in_a_browser(app_server, page, tmp_path):
    page.goto(f"{app_server}/explorer?bidirectional=True&num_layers=2&proj_size=2")
    wait_for_app(page)
    assert page.locator("[data-testid=stException]").count() == 0
    count = sum(p.numel() for p in torch.nn.LSTM(4, 6, num_layers=2, bidirectional=True, proj_size=2).parameters())
    assert page.get_by_text(f"Parameters: {count:,} in 20 tensors").count() == 1
    keep(tmp_path, page, "browser_explorer")
    page.get_by_role("tab", name="Padding and packing").click()
    page.get_by_text("pack_padded_sequence", exact=False).first.wait_for()
    page.get_by_role("tab", name="Truncated BPTT").click()
    chart = page.locator(".stPlotlyChart").last
    chart.scroll_into_view_if_needed()
    keep(tmp_path, page, "browser_explorer_detach", chart)
