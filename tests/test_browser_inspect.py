"""Real browser: /gates draws heatmaps labelled by characters with a hover label; /generate writes text."""

import base64
import html
import re

import pytest

from conftest import keep_screenshot, steady_box, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]




def check_gates(tab, base_url: str) -> None:
    text = "HARPAGON.\n\nAu voleur!"
    tab.goto(f"{base_url}/gates?source=typed&text=HARPAGON.%0A%0AAu%20voleur!&top=12&section=heatmaps")
    wait_for_app(tab)
    expected = [{"\n": "↵", " ": "␣"}.get(ch, ch) for ch in text]
    heatmap = tab.locator(".gate-heatmap").first
    heatmap.wait_for(timeout=60_000)
    source = heatmap.locator("img").get_attribute("src")
    svg = base64.b64decode(source.removeprefix("data:image/svg+xml;base64,")).decode()
    ticks = [html.unescape(t) for t in re.findall(r'class="tick">([^<]*)<', svg)]
    assert ticks == expected
    labels = []
    for fraction in (0.3, 0.5, 0.7):  # what the browser shows on hover over a cell: the title of what is there
        cells = steady_box(heatmap.locator("img"), scroll=True)  # the page below may still be growing: where it is now
        x, y = cells["x"] + cells["width"] * (0.1 + 0.7 * fraction), cells["y"] + cells["height"] * (1 - fraction)
        tab.mouse.move(x, y, steps=4)
        labels.append(tab.evaluate("([x, y]) => document.elementFromPoint(x, y)?.getAttribute('title')", [x, y]))
    assert all(labels), f"a cell without a hover label: {labels}"
    for label in labels:
        assert "step" in label and "unit" in label and re.search(r": -?\d\.\d{3}$", label)  # the units' values
        assert any(f"{t} · " in label for t in range(len(text)))  # timestep and its character
    keep_screenshot(tab, "gates")


def check_generate(tab, base_url: str) -> None:
    """The temperature moved with the keyboard: the component asks the server's feed for the sample at the new
    temperature, the box under the slider shows it (the prime first), and the page's rerun draws the same sample,
    kept by the server (asked again, the feed gives it whole)."""
    tab.goto(f"{base_url}/generate?length=120&temperature=0.8&seed=5")
    wait_for_app(tab)
    slider = tab.locator(".sample-control").get_by_role("slider", name=re.compile("^Temperature"))
    slider.focus()
    for _ in range(3):
        tab.keyboard.press("ArrowRight")
    with tab.expect_response(lambda answer: "/api/sample/" in answer.url and "temperature=1&" in answer.url,
                             timeout=30_000) as fed:
        tab.keyboard.press("ArrowRight")
    assert fed.value.status == 200
    tab.wait_for_function("() => new URL(location.href).searchParams.get('temperature') === '1.0'",
                          timeout=30_000)
    wait_for_app(tab)
    coloured = tab.locator("span[title^='p = ']")
    coloured.first.wait_for(timeout=60_000)
    streamed = tab.evaluate("(url) => fetch(url).then((answer) => answer.text())", fed.value.url)  # kept: whole
    assert coloured.count() == 120 and len(streamed) == 120
    assert tab.locator(".sample-control .sc-text").text_content() == "HARPAGON.\n\n" + streamed
    assert slider.input_value() == "1" and slider.evaluate("(el) => el === document.activeElement"), "still in hand"
    keep_screenshot(tab, "generate")


def test_gates_heatmaps_have_character_ticks_and_hover_labels(app_server, page):
    check_gates(page, app_server)


def test_generate_writes_text_after_moving_the_temperature_slider(app_server, page):
    check_generate(page, app_server)
