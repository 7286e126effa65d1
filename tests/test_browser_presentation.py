"""Presentation mode in a real browser: at 1280 x 720 with ``?present=1`` every page shows no sidebar and no
text under 14 px, the labels drawn inside the SVG images included, and keeps its main controls in the page, those
of the hidden sidebar in the folded panel at its top; screenshots of each page for a person to see."""

from __future__ import annotations


import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import keep_screenshot, wait_for_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PAGES = ["", "lesson", "train", "gates", "gates?section=heatmaps", "generate", "cell", "explorer", "tagger", "sentiment",
         "runs", "compare", "why", "gates?section=inspect"]
MIN_PIXELS = 14
PAGES_PANEL = "[data-testid=stMain] [data-testid=stExpander] [data-testid=stPageLink]"  # the sidebar's pages, folded
DRAWN_LATER = {"cell": ".cell-lab .cl-figures"}  # what a page draws in the browser once its script has run
# Each page's main controls (their widget keys): in presentation mode each is in the page, not in the hidden sidebar.
CONTROLS = {"": [], "lesson": ["lesson_reveal_why-gates"], "train": ["train_preset", "char_start"],
            "gates": ["selected_run", "gates_section", "gates_passage"],
            "gates?section=heatmaps": ["selected_run", "gates_layer", "gates_sort", "gates_top"],
            "generate": ["selected_run", "generate_sampling", "generate_prime"],
            "cell": ["cell_mode", "cell_scenario", "cell_units"],
            "explorer": ["explorer_input_size", "explorer_hidden_size", "explorer_num_layers"],
            "tagger": ["tagger_preset", "tagger_start"], "sentiment": ["sentiment_source", "sentiment_preset"],
            "runs": ["import_run"], "compare": ["compare_comparison", "compare_task"],
            "why": ["selected_run", "why_text"], "gates?section=inspect": ["selected_run", "gates_section"]}

# Every visible text of the page, with the size it is drawn at on the screen: DOM text by its computed font size;
# text inside an inline SVG by its font size times the SVG's scale (viewBox to screen); text inside an SVG image
# (<img src="data:image/svg+xml...">) by its font-size attribute times the image's scale. Returns those under
# ``minimum``, each as [where, text, pixels].
SMALL_TEXT = """(minimum) => {
  const small = [];
  const shown = (el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
    && el.getClientRects().length > 0 && el.getBoundingClientRect().width > 0;
  const where = (el) => {
    const parts = [];
    for (let node = el; node && parts.length < 4; node = node.parentElement) {
      const id = node.getAttribute && (node.getAttribute("data-testid") || node.getAttribute("class"));
      parts.push(node.tagName.toLowerCase() + (id ? `[${String(id).slice(0, 40)}]` : ""));
    }
    return parts.join(" < ");
  };
  const svgScale = (svg) => {
    const box = svg.viewBox && svg.viewBox.baseVal;
    return box && box.width ? svg.getBoundingClientRect().width / box.width : 1;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || ["SCRIPT", "STYLE", "NOSCRIPT"].includes(el.tagName) || !shown(el)) continue;
    const svg = el.closest("svg");
    const size = parseFloat(getComputedStyle(el).fontSize) * (svg ? svgScale(svg) : 1);
    if (size < minimum - 0.01) small.push([where(el), node.textContent.trim().slice(0, 40), size]);
  }
  const prefix = "data:image/svg+xml;base64,";
  for (const img of document.querySelectorAll(`img[src^="${prefix}"]`)) {
    if (!shown(img)) continue;
    const bytes = Uint8Array.from(atob(img.getAttribute("src").slice(prefix.length)), (c) => c.charCodeAt(0));
    const svg = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "image/svg+xml").documentElement;
    const box = (svg.getAttribute("viewBox") || "").split(/[\\s,]+/).map(Number);
    const scale = img.getBoundingClientRect().width / (box[2] || parseFloat(svg.getAttribute("width")));
    for (const text of svg.querySelectorAll("text")) {
      if (!text.textContent.trim()) continue;
      let size = 16;
      for (let node = text; node && node.getAttribute; node = node.parentNode) {
        if (node.getAttribute("font-size")) { size = parseFloat(node.getAttribute("font-size")); break; }
      }
      if (size * scale < minimum - 0.01)
        small.push([`image ${img.alt.slice(0, 40)}`, text.textContent.slice(0, 40), size * scale]);
    }
  }
  return small;
}"""


def controls_missing(tab, keys: list[str]) -> list[str]:
    """The controls of ``keys`` that are not in the page's main area (absent, or only in the sidebar), and the
    panel of the sidebar's pages if it is missing."""
    missing = tab.evaluate("""(keys) => keys.filter((key) => {
        const el = document.querySelector(`[data-testid=stMain] .st-key-${CSS.escape(key)}`);
        return !el;
    })""", keys)
    links = tab.locator(PAGES_PANEL).count()
    return [f"control {key} not in the page" for key in missing] + ([] if links else ["no panel of the pages"])


def sidebar_shown(tab) -> bool:
    return tab.evaluate("""() => [...document.querySelectorAll('[data-testid=stSidebar]')].some(
        (el) => el.checkVisibility() && el.getBoundingClientRect().right > 0)""")


def test_every_page_in_presentation_mode_has_no_sidebar_no_text_under_14_px_and_its_controls(app_server, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    tab = context.new_page()
    problems = {}
    try:
        for path in PAGES:
            tab.goto(f"{app_server}/{path}{'&' if '?' in path else '?'}present=1")
            wait_for_app(tab)
            if path in DRAWN_LATER:  # a component that draws itself after the script ends: its text is measured too
                tab.wait_for_selector(DRAWN_LATER[path], timeout=60_000)
            try:  # the folded panel of pages, drawn by the browser a moment after the script's end at times
                tab.locator(PAGES_PANEL).first.wait_for(state="attached", timeout=15_000)
            except PlaywrightTimeout:
                pass  # no panel: controls_missing says so
            tab.wait_for_timeout(500)  # the images' labels are raised once each image is laid out
            name = "present-" + (path.replace("?", "-").replace("=", "-") or "home")
            keep_screenshot(tab, name, full_page=False)  # LSTM_LAB_SCREENS keeps them for a person
            found = ["sidebar shown"] if sidebar_shown(tab) else []
            found += ["header shown"] if tab.locator("[data-testid=stHeader]").evaluate_all(
                "els => els.filter(e => e.checkVisibility())") else []
            found += ["an exception"] if tab.locator("[data-testid=stException]").count() else []
            found += tab.evaluate(SMALL_TEXT, MIN_PIXELS)
            found += controls_missing(tab, CONTROLS[path])
            if found:
                problems[f"/{path}"] = found
    finally:
        context.close()
    assert not problems, "\n".join(f"{page}: {len(found)} problems (texts under {MIN_PIXELS} px...), e.g. {found[:8]}"
                                   for page, found in problems.items())
