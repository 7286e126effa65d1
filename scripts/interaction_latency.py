"""Interaction latency of LSTM Lab in Chromium: from a control's change to the last change on screen.

The bar (docs: PRODUCT.md): the median is at most 0.3 s, and never more than twice the floor, a
minimal Streamlit page (``scripts/latency_floor_app.py``: a slider, a formula, a small Plotly chart)
whose slider is timed the same way in the same run. Page loads are timed too (/gates within 1.5 s,
every other page within 1 s, each on a warm server). The floor stays open in a second tab and is
timed again right before every row, so that other work on the machine weighs on both alike.

How one interaction is timed: a MutationObserver on the document notes ``performance.now()`` of
every change to the page's content (Streamlit's status widget, its top decoration and the document
title excluded); a capture listener notes t0 at the user's key press or click; the control is changed
the way a user does (arrow keys on a focused slider, a number input's +/- buttons, an option picked
in a select box, a tag removed and added back, a click on a radio or check box; in the Cell lab's
component, which draws its own controls in the page, an arrow key on its slider or a click on its
step and unit buttons, found by their accessible names; an earlier checkout that drew these as
Streamlit sliders has them timed there, by their labels); the interaction is
over when the app's script has run and finished (``data-test-script-state``) and the page has been
quiet for 400 ms. Latency = last change − t0. On /train, whose live panel redraws twice a second,
the page is never quiet: there the latency is the time until the change the control asks for is
drawn (an axis title, the learning rate shown). On /generate, "first text" is the time until the
text on screen first changes (the stream starts).

/tagger and /sentiment inspect runs trained for a few seconds from the command line into the
server's store before it starts. ``--quick`` times one or two controls a page, 3 times each, and
skips /sentiment (its classifier takes half a minute to train).

    python scripts/interaction_latency.py [--quick] [--repeats 5] [--json FILE] [--app-root CHECKOUT] [--only REGEX]
                                          [--trainings N]   # N trainings running beside it, at a lower priority
    measure(quick=False) -> dict          what ``python -m lstm_core bench`` can call
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from scripts.app_server import start_app_server, stop_app_server  # noqa: E402
from scripts.background_trainings import start_trainings, stop_trainings  # noqa: E402
from scripts.browser import launch  # noqa: E402

FLOOR_SCRIPT = "scripts/latency_floor_app.py"
TARGET_SECONDS, FLOOR_RATIO = 0.3, 2.0
LOAD_TARGETS = {"/gates": 1.5}  # every other page: 1 s
QUIET_MS = 400  # the page must stay unchanged this long after the script has finished
TIMEOUT_MS = 30_000  # one interaction (a page load: twice that)
NO_RERUN_MS = 10_000  # a change that starts no script run within this long is counted apart (seen on a busy machine)

# Installed before every page's own scripts: notes content changes, script runs and the user's input.
OBSERVER = """(() => {
  const lat = window.__lat = {t0: 0, armed: false, last: 0, ran: false, ended: 0, watch: null, changed: null,
                              base: null, watched: null};
  const noise = 'head, [data-testid=stStatusWidget], [data-testid=stDecoration]';
  const scriptState = () => {
    const app = document.querySelector('[data-testid=stApp]');
    return app ? app.getAttribute('data-test-script-state') : null;
  };
  new MutationObserver(records => {
    const now = performance.now();
    for (const record of records) {
      if (record.attributeName === 'data-test-script-state') {
        if (record.oldValue === 'running' || scriptState() === 'running') lat.ran = true;
        if (scriptState() === 'notRunning') lat.ended = now;
        continue;
      }
      const element = record.target.nodeType === 1 ? record.target : record.target.parentElement;
      if (element && element.closest && element.closest(noise)) continue;
      lat.last = now;
    }
    if (lat.watch && lat.watched === null && lat.t0 !== null) {
      const value = lat.watch();
      if (lat.changed(lat.base, value)) lat.watched = now;
    }
  }).observe(document, {subtree: true, childList: true, attributes: true,
                         characterData: true, attributeOldValue: true});
  const mark = () => { if (lat.armed && lat.t0 === null) lat.t0 = performance.now(); };
  for (const kind of ['keydown', 'pointerdown', 'mousedown']) document.addEventListener(kind, mark, true);
})();"""

ARM = """([watch, changed]) => {
  const lat = window.__lat;
  lat.watch = watch ? new Function('return (' + watch + ');') : null;
  lat.changed = new Function('base', 'now', 'return (' + changed + ');');
  lat.base = lat.watch ? lat.watch() : null;
  Object.assign(lat, {armed: true, t0: null, last: 0, ran: false, ended: 0, watched: null});
}"""

# Over: the script has run (a state seen before the run starts does not count) and finished, no element
# waits for its lazily loaded code (Streamlit shows a skeleton meanwhile, for seconds on a busy machine), then quiet.
DONE = """([quiet, untilWatched]) => {
  const lat = window.__lat, now = performance.now();
  if (lat.t0 === null) return false;
  if (untilWatched) return lat.watched !== null;
  const app = document.querySelector('[data-testid=stApp]');
  const idle = app !== null && app.getAttribute('data-test-script-state') === 'notRunning';
  const drawn = document.querySelector('[data-testid=stSkeleton]') === null;
  return idle && lat.ran && drawn && now - Math.max(lat.last, lat.t0) >= quiet;
}"""

# Why an interaction timed out, kept in the JSON.
STATE = """(() => { const lat = window.__lat, app = document.querySelector('[data-testid=stApp]');
  return {state: app && app.getAttribute('data-test-script-state'), ran: lat.ran, armed_at: lat.t0,
          quiet_for: performance.now() - lat.last, skeletons: document.querySelectorAll('[data-testid=stSkeleton]').length};
})()"""

# What a page shows, for the controls timed until a given change is drawn.
TEXT_BOXES = ("Array.from(document.querySelectorAll('[data-testid=stMain] [data-testid=stCode], "
              "[data-testid=stMain] [data-testid=stHtml], [data-testid=stMain] .html-view, "
              "[data-testid=stMain] .sample-control .sc-text')).map(e => e.textContent).join('|')")
LOSS_AXES = "(document.querySelector('.live-loss img')?.alt ?? '')"  # the loss chart's description names both axes
RATE_SHOWN = ("parseFloat(document.querySelector('.live-panel [data-label=\"Learning rate\"] .lp-value')"
              "?.textContent)")  # the live panel's figure (lab_ui/components/live_panel.js); NaN until it is shown
RATE_MOVED = "now > base * 1.25 || now < base / 1.25"  # the cosine schedule moves it by < 3% a second


@dataclass
class Control:
    """One row of the table: a control on a page, found by its visible label (a regular expression)."""

    page: str  # path and query of the page, e.g. "/cell?mode=gates"
    name: str
    kind: str  # slider, number, select, multiselect, radio, checkbox
    label: str
    quick: bool = False  # also timed by --quick
    watch: str | None = None  # JS expression of what the control changes on screen: its first change is noted
    changed: str = "base !== now"  # JS test, over the watched value before (base) and now, that it has changed
    until_watched: bool = False  # a page that never goes quiet (live training): stop at the watched change
    back: str | None = None  # a button pair (the Cell lab's step and unit buttons): the button that goes back
    widget_label: str | None = None  # a component's control an earlier checkout drew as a Streamlit widget: its label
    component: str = ".cell-lab"  # the component whose control it is (a "component ..." kind)
    in_browser: bool = False  # the component answers in the browser (no script run): timed until the watched change


GATES, GENERATE = "/gates?run=pretrained", "/generate?run=pretrained"
TRAIN = "/train?preset=default&autostart=1&seconds={seconds}"
TRAIN_SECONDS = 120  # long enough for every /train control
CELL_TRAINED = "/cell?mode=trained&run=pretrained"
GATE_SYMBOLS = "ifgo"  # the gate table's order (lstm_core.gates)
INSPECT, HEATMAPS, ONE_UNIT = (GATES + f"&section={name}" for name in ("inspect", "heatmaps", "unit"))
INSPECTOR = ".gates-inspector"  # /gates' inspector (lab_ui/components/gates_inspector.js): it draws in the browser
INSPECTOR_SHOWN = ("['.gi-caption', '.gi-key', '.gi-step', '.gi-maps'].map((c) => document.querySelector("
                   "'.gates-inspector ' + c)?.textContent ?? '').join('|') + document.querySelectorAll("
                   "'.gates-inspector canvas').length")
CONTROLS = [
    *(Control(INSPECT, f"Inspector: {name}", kind, label, quick=quick, watch=INSPECTOR_SHOWN, until_watched=True,
              component=INSPECTOR, in_browser=True)
      for name, kind, label, quick in (("unit", "component number", r"^Unit", True),
                                       ("step", "component slider", r"^Step", True),
                                       ("sort", "component select", r"^Sort units by", False),
                                       ("feature", "component select", r"^Feature", False),
                                       ("top-k", "component slider", r"^Top-k units", False),
                                       ("quantity (one off / on)", "component checkbox", r"^forget gate", False),
                                       ("quantity to paint", "component select", r"^Quantity to paint", False))),
    # the Cell lab's component: every slider and button of every mode, by its accessible name
    Control("/cell", "input x_t[0]", "component slider", r"^input xt\[0\]$", quick=True,
            widget_label=r"^input x_t\[0\]$"),
    Control("/cell", "previous hidden h_(t-1)[0]", "component slider", r"^previous hidden state ht−1\[0\]$",
            widget_label=r"^previous hidden state h_\(t−1\)\[0\]$"),
    Control("/cell", "previous cell c_(t-1)[0]", "component slider", r"^previous cell state ct−1\[0\]$",
            widget_label=r"^previous cell state c_\(t−1\)\[0\]$"),
    *(Control("/cell", f"{name}_{gate}[0{index}]", "component slider", rf"^{pattern}{gate}\[0{index}\]$",
              widget_label=rf"^{name}_{gate}\[0{index}\]$" if name == "b" else rf"^{name}{gate}\[0{index}\]$")
      for gate in GATE_SYMBOLS
      for name, pattern, index in (("W_x", "Wx", ",0"), ("W_h", "Wh", ",0"), ("b", "b", ""))),
    Control("/cell?units=2", "unit shown (unit 1 / unit 0)", "component button", r"^unit 1$", back=r"^unit 0$"),
    Control("/cell", "Units (sidebar)", "number", r"^Units$"),
    Control("/cell", "Inputs per step (sidebar)", "number", r"^Inputs per step$"),
    *(Control("/cell?mode=gates", f"z_{gate}[0]", "component slider", rf"^z{gate}\[0\]$", widget_label=rf"^z_{gate} ")
      for gate in GATE_SYMBOLS),
    Control("/cell?mode=gates", "previous cell c_(t-1)[0]", "component slider", r"^previous cell state ct−1\[0\]$",
            widget_label=r"^previous cell state c_\(t−1\)\[0\]$"),
    Control("/cell?mode=sequence", "step slider", "component slider", r"^step$", widget_label=r"^Step$"),
    Control("/cell?mode=sequence", "step forward / back", "component button", r"^step forward", back=r"step back$"),
    Control("/cell?mode=sequence", "Units (sidebar)", "number", r"^Units$"),
    Control(CELL_TRAINED, "step slider", "component slider", r"^step$", widget_label=r"^Step$"),
    Control(CELL_TRAINED, "step forward / back", "component button", r"^step forward", back=r"step back$"),
    Control(CELL_TRAINED, "Unit", "number", r"^Unit \(0 to"),
    Control(CELL_TRAINED, "Layer", "select", r"^Layer$"),
    # /gates' sections drawn by the server (the inspector's own controls are timed above)
    Control(ONE_UNIT, "Unit +/-1", "number", r"^Unit$", quick=True),
    Control(ONE_UNIT, "Step", "slider", r"^Step$", quick=True),
    Control(HEATMAPS, "Layer", "select", r"^Layer$"),
    Control(HEATMAPS, "Quantities (one off / on)", "multiselect", r"^Quantities$"),
    Control(HEATMAPS, "Sort units by", "select", r"^Sort units by$"),
    Control(HEATMAPS, "Feature", "select", r"^Feature"),
    Control(HEATMAPS, "Top-k units", "slider", r"^Top-k units$"),
    *(Control(GENERATE, name, f"component {kind}", f"^{name}", quick=name == "Temperature", watch=TEXT_BOXES,
              widget_label=f"^{name}", component=".sample-control")  # /generate's sampling component
      for name, kind in (("Temperature", "slider"), ("Top-k", "number"), ("Top-p", "slider"))),
    Control(GENERATE, "Length", "slider", r"^Length$", watch=TEXT_BOXES),
    Control(GENERATE, "Seed", "number", r"^Seed$", watch=TEXT_BOXES),
    *(Control("/explorer", name, "checkbox" if name in ("bias", "batch_first", "bidirectional") else
              "slider" if name == "dropout" else "number", f"^{name}$", quick=name == "hidden_size")
      for name in ("input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout", "bidirectional",
                   "proj_size", "seq_len", "batch_size")),
    *(Control(page, name, kind, label, quick=quick)
      for page in ("/tagger", "/sentiment")
      for name, kind, label, quick in (("Gate or state", "select", r"^Gate or state$", page == "/tagger"),
                                       ("Layer and direction", "select", r"^Layer and direction$", False),
                                       ("Units shown", "slider", r"^Units shown", False),
                                       ("Paint one unit", "select", r"^Paint one unit", False))),
    Control(TRAIN, "x axis (while training)", "radio", r"^x axis$", quick=True,
            watch=LOSS_AXES, until_watched=True),
    Control(TRAIN, "Loss unit (while training)", "radio", r"^Loss unit$",
            watch=LOSS_AXES, until_watched=True),
    Control(TRAIN, "Learning rate (while training)", "number", r"^Learning rate \(applies",
            watch=RATE_SHOWN, changed=RATE_MOVED, until_watched=True),
]
PAGE_LOADS = [GATES, "/", "/lesson", "/train", GENERATE, "/cell", "/cell?mode=sequence", CELL_TRAINED, "/explorer",
              "/tagger", "/sentiment", "/runs", "/compare"]
WIDGETS = {"slider": "stSlider", "number": "stNumberInput", "select": "stSelectbox", "multiselect": "stMultiSelect",
           "radio": "stRadio", "checkbox": "stCheckbox"}


class NotFound(Exception):
    """The control is not on the page (or cannot be changed there)."""


def train_task_runs(store: Path, sentiment: bool, app_root: Path = REPO_ROOT) -> None:
    """Quick task runs in the store (trained by the checkout that serves it), so that /tagger and
    /sentiment have a model to inspect."""
    commands = [["train-tagger", "--preset", "seed", "--max-seconds", "3"]]
    if sentiment:
        commands.append(["train-classifier", "--preset", "strong", "--max-seconds", "2"])
    for command in commands:
        subprocess.run([sys.executable, "-m", "lstm_core", *command, "--out", str(store)], cwd=app_root,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


# ----------------------------------------------------------------------------- one interaction


def widget(page, control: Control, label: str | None = None):
    """The control's widget, found by its visible label (a component's control: by its accessible name,
    ``label`` where given); NotFound if it is not on the page."""
    if control.kind.startswith("component"):
        role = {"component slider": "slider", "component number": "spinbutton", "component select": "combobox",
                "component checkbox": "checkbox"}.get(control.kind, "button")
        found = page.locator(control.component).get_by_role(role, name=re.compile(label or control.label)).first
    else:
        label = page.locator("[data-testid=stWidgetLabel]").filter(has_text=re.compile(control.label))
        found = page.locator(f"[data-testid={WIDGETS[control.kind]}]").filter(has=label).first
    try:
        found.wait_for(timeout=5000)
    except PlaywrightTimeout:
        raise NotFound(f"no {control.kind} labelled /{control.label}/") from None
    return found


def arm(page, control: Control) -> None:
    page.evaluate(ARM, [control.watch, control.changed])


def open_list(page, element) -> None:
    """Open a select box's list (scrolled there first: react-aria closes a list when the page scrolls)."""
    element.scroll_into_view_if_needed()
    page.wait_for_timeout(150)
    element.get_by_role("button", name="Open").click()


def direction(current: float, start: float, low: float, high: float, forward: bool) -> int:
    """+1 or -1: away from the start on a forward move, back towards it otherwise, never past an end."""
    if not forward and current != start:
        return -1 if current > start else 1
    return 1 if current < high else -1


def change(page, control: Control, forward: bool, state: dict):
    """Change the control as a user does, arming the timer just before the decisive key press or click.

    ``forward`` moves it away from where it started, otherwise back; ``state`` keeps where it started.
    Returns the value the control should show once the app has answered (None where not checked).
    """
    if control.kind == "component button":  # forward, then back
        button = widget(page, control, control.label if forward else control.back)
        if button.is_disabled():
            raise NotFound("the button is disabled")
        arm(page, control)
        button.click()
        return None
    element = widget(page, control)
    if control.kind == "component select":
        names = element.evaluate("(box) => [...box.options].map((o) => o.value)")
        current = element.input_value()
        start = state.setdefault("start", current)
        index = names.index(current)
        target = start if not forward and current != start else names[index + 1 if index + 1 < len(names) else index - 1]
        element.focus()
        arm(page, control)
        page.evaluate("window.__lat.t0 = performance.now()")  # choosing an option by script presses no key
        element.select_option(target)
        return target
    if control.kind == "component checkbox":
        arm(page, control)
        element.click()
        return None
    if control.kind == "component number":
        current = float(element.input_value())
        low, high = float(element.get_attribute("min")), float(element.get_attribute("max"))
        sign = direction(current, state.setdefault("start", current), low, high, forward)
        element.focus()
        arm(page, control)
        page.keyboard.press("ArrowUp" if sign > 0 else "ArrowDown")
        return current + sign
    if control.kind == "component slider":
        current, step = float(element.input_value()), float(element.get_attribute("step") or 1)
        low, high = float(element.get_attribute("min")), float(element.get_attribute("max"))
        sign = direction(current, state.setdefault("start", current), low, high, forward)
        element.focus()
        arm(page, control)
        page.keyboard.press("ArrowRight" if sign > 0 else "ArrowLeft")
        return current + sign * step
    if control.kind in ("slider", "number"):
        field = element.locator("input[type=range]" if control.kind == "slider" else "input[type=number]")
        current, step = float(field.input_value()), float(field.get_attribute("step") or 1)
        low, high = float(field.get_attribute("min")), float(field.get_attribute("max"))
        sign = direction(current, state.setdefault("start", current), low, high, forward)
        if control.kind == "slider":
            field.focus()
            arm(page, control)
            page.keyboard.press("ArrowRight" if sign > 0 else "ArrowLeft")
        else:
            button = element.get_by_test_id("stNumberInputStepUp" if sign > 0 else "stNumberInputStepDown")
            arm(page, control)
            button.click()
        return current + sign * step
    if control.kind == "select":
        box = element.get_by_role("combobox")
        current = box.input_value()
        open_list(page, element)
        listbox = page.locator(f"[role=listbox][aria-label={json.dumps(box.get_attribute('aria-label'))}]")
        options = listbox.get_by_role("option")
        options.first.wait_for(timeout=5000)
        names = [name.strip() for name in options.all_inner_texts()]
        if len(names) < 2:
            page.keyboard.press("Escape")
            raise NotFound(f"only {len(names)} option")
        start, index = state.setdefault("start", current), names.index(current) if current in names else 0
        neighbour = names[index + 1 if index + 1 < len(names) else index - 1]
        target = start if not forward and current != start else neighbour
        arm(page, control)
        options.filter(has_text=re.compile(f"^{re.escape(target)}$")).first.click()
        return target
    if control.kind == "multiselect":
        if forward:
            tag = element.get_by_role("button", name=re.compile("^Remove ")).first  # the last may be scrolled away
            state["removed"] = tag.get_attribute("aria-label").removeprefix("Remove ")
            arm(page, control)
            tag.click()
        else:
            open_list(page, element)
            option = page.get_by_role("option", name=state["removed"], exact=True)
            arm(page, control)
            option.click()
    elif control.kind == "radio":
        options = element.get_by_test_id("stRadioOption")
        if options.count() < 2:
            raise NotFound("only one option")
        arm(page, control)
        options.locator("xpath=self::*[not(@data-selected)]").first.click()
    elif control.kind == "checkbox":
        arm(page, control)
        element.locator("label").click()
    return None


def shown_value(page, control: Control):
    """What the control shows now (for the kinds whose value ``change`` returns)."""
    element = widget(page, control)
    if control.kind == "select":
        return element.get_by_role("combobox").input_value()
    if control.kind in ("component slider", "component number"):
        return float(element.input_value())
    if control.kind == "component select":
        return element.input_value()
    field = element.locator("input[type=range]" if control.kind == "slider" else "input[type=number]")
    return float(field.input_value())


def kept(expected, shown) -> bool:
    if isinstance(expected, float):
        return abs(expected - shown) <= 1e-6 * max(1.0, abs(expected))
    return expected == shown


def wait_done(page, control: Control) -> dict:
    """Seconds from t0 to the last change on screen, to the end of the script run, and to the watched change."""
    if not control.until_watched:
        page.wait_for_function("() => window.__lat.ran", polling=20, timeout=NO_RERUN_MS)
    page.wait_for_function(DONE, arg=[QUIET_MS, control.until_watched], polling=20, timeout=TIMEOUT_MS)
    lat = page.evaluate("window.__lat")
    end = lat["watched"] if control.until_watched else lat["last"]
    seconds = max(end - lat["t0"], 0.0) / 1000
    first = (lat["watched"] - lat["t0"]) / 1000 if lat["watched"] is not None and not control.until_watched else None
    finished = lat["ran"] and lat["ended"] > lat["t0"] and not control.until_watched  # not a polling fragment's run
    script = (lat["ended"] - lat["t0"]) / 1000 if finished else None
    return {"seconds": seconds, "script": script, "first_change": first}


def open_page(page, url: str) -> None:
    """Navigate and wait until the page has run and gone quiet."""
    page.goto(url)
    page.wait_for_function(DONE, arg=[QUIET_MS, False], polling=50, timeout=2 * TIMEOUT_MS)


def open_live_page(page, url: str, control: Control) -> None:
    """Open a page that never goes quiet (/train as it trains), once, and wait until it draws what ``control`` changes."""
    if urlsplit(page.url).path != urlsplit(url).path:
        page.goto(url)  # one training serves every control of the page
    page.wait_for_function(f"() => {{ const v = ({control.watch}); return v === v && v !== ''; }}",
                           polling=100, timeout=120_000)


def time_control(page, base: str, control: Control, repeats: int, state: dict | None = None) -> list[dict]:
    """``repeats`` interactions with one control, alternately away from its start and back.

    A fresh page each time, unless ``state`` (kept between calls) says the control was used before.
    """
    url = base + control.page.format(seconds=TRAIN_SECONDS)
    if control.until_watched and not control.in_browser:
        open_live_page(page, url, control)
    elif state is None:
        open_page(page, url)
    if control.widget_label and page.locator(control.component).count() == 0:  # an earlier checkout: Streamlit's widget
        control = replace(control, kind=control.kind.removeprefix("component "), label=control.widget_label)
    state = {} if state is None else state
    samples = []
    for _ in range(repeats):
        state["count"] = state.get("count", -1) + 1
        expected = change(page, control, forward=state["count"] % 2 == 0, state=state)
        try:
            sample = wait_done(page, control)
        except PlaywrightTimeout:  # no rerun (the thumb moved, the app never heard), or no end: noted, and go on
            sample = {"seconds": None, "script": None, "first_change": None, "timed_out": page.evaluate(STATE)}
        sample["reverted"] = expected is not None and not kept(expected, shown_value(page, control))
        samples.append(sample)
        if control.kind in ("select", "multiselect"):
            page.keyboard.press("Escape")  # close a list left open
    return samples


def time_load(page, url: str, repeats: int, warm: bool = True) -> list[dict]:
    """From navigation to the last change on screen, once the script has finished; the first load warms the server."""
    if warm:
        open_page(page, url)  # imports and caches: not counted
    samples = []
    for _ in range(repeats):
        open_page(page, url)
        lat = page.evaluate("window.__lat")
        samples.append({"seconds": lat["last"] / 1000, "script": lat["ended"] / 1000, "first_change": None})
    return samples


class Floor:
    """The minimal page, in a tab of its own, timed right before each row so that load on the machine hits both alike."""

    CONTROL = Control("/", "slider", "slider", r"^Value$")

    def __init__(self, tab, url: str, samples: int):
        self.tab, self.url, self.samples = tab, url, samples
        self.interactions, self.loads, self.state = [], [], None

    def local(self, kind: str) -> list[float]:
        """Fresh floor timings of an interaction (or of a page load, for ``kind`` load), also kept for the floor rows."""
        self.tab.bring_to_front()
        if kind == "load":
            timed = time_load(self.tab, self.url + "/", self.samples, warm=not self.loads)
            self.loads += timed
        else:
            if self.state is None:
                open_page(self.tab, self.url + "/")
                self.state = {}
            timed = time_control(self.tab, self.url, self.CONTROL, self.samples, self.state)
            self.interactions += timed
            if any(t["seconds"] is None for t in timed):
                self.state = None  # a fresh floor page next time
        return [t["seconds"] for t in timed if t["seconds"] is not None]


# ----------------------------------------------------------------------------- the run and its table


def row(page: str, control: str, kind: str, samples: list[dict], floor: list[float], error: str = "") -> dict:
    """A table row: median and max of the samples, and the ratio to the floor timed right before them."""
    def median(values):
        return statistics.median(values) if values else None
    runs = [s["seconds"] for s in samples if s["seconds"] is not None]
    failed = [s["timed_out"] for s in samples if s["seconds"] is None]
    no_rerun = sum(not f["ran"] and f["armed_at"] is not None for f in failed)
    notes = [f"{no_rerun} of {len(samples)} started no rerun"] * (no_rerun > 0)
    notes += [f"{len(failed) - no_rerun} of {len(samples)} timed out"] * (len(failed) > no_rerun)
    reverted = sum(s.get("reverted", False) for s in samples)
    if reverted:  # the app put the old value back (a cheaper rerun): the kept changes are timed apart too
        kept_runs = [s["seconds"] for s in samples if not s.get("reverted") and s["seconds"] is not None]
        notes.append(f"{reverted} of {len(samples)} changes undone by the app"
                     + (f", median of the kept ones {statistics.median(kept_runs):.3f} s" if kept_runs else ""))
    result = {"page": page, "control": control, "kind": kind, "runs": runs, "error": error,
              "notes": "; ".join(notes), "timed_out": [s["timed_out"] for s in samples if "timed_out" in s],
              "median": median(runs), "max": max(runs) if runs else None,
              "script_median": median([s["script"] for s in samples if s["script"] is not None]),
              "first_change_median": median([s["first_change"] for s in samples if s["first_change"] is not None]),
              "floor_runs": floor, "floor_median": median(floor), "load_average": os.getloadavg()[0]}
    result["ratio"] = result["median"] / result["floor_median"] if runs and floor else None
    result["verdict"] = verdict(result)
    return result


def attempt(app_tab, floor: Floor, page: str, name: str, kind: str, timing, log) -> dict:
    """One row, measured by ``timing()``; a control that is missing or fails gets a row saying so."""
    try:
        local_floor = floor.local(kind)
    except PlaywrightError:
        local_floor = []  # no floor beside this row: it gets no ratio
    app_tab.bring_to_front()
    try:
        result = row(page, name, kind, timing(), local_floor)
    except NotFound as err:
        result = row(page, name, kind, [], local_floor, f"not found ({err})")
    except PlaywrightError as err:
        result = row(page, name, kind, [], local_floor, f"failed ({str(err).splitlines()[0][:80]})")
    log(format_row(result))
    return result


def measure(quick: bool = False, repeats: int | None = None, quiet: bool = True, app_root: Path = REPO_ROOT,
            only: str | None = None, trainings: int = 0) -> dict:
    """Latency of every control (or the --quick few) and of page loads, each beside the floor, all in one run.
    ``app_root`` serves another checkout of the app (an earlier commit, for a before-and-after table);
    ``only`` (a regular expression) keeps the rows whose page and control match it; ``trainings`` trainings of the
    default preset run beside the whole measurement, at a lower priority (scripts/background_trainings.py), as a
    class's would."""
    repeats = repeats or (3 if quick else 5)
    started = time.monotonic()
    log = (lambda line: None) if quiet else (lambda line: print(f"[{time.monotonic() - started:4.0f} s] {line}", flush=True))
    wanted = (lambda page, name: re.search(only, f"{page} {name}") is not None) if only else (lambda page, name: True)
    controls = [c for c in CONTROLS if (c.quick or not quick) and wanted(c.page, c.name)]
    loads = [url for url in ([GATES] if quick else PAGE_LOADS) if wanted(url, "page load")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="lstm-lab-latency-") as folder:
        root = Path(folder)
        train_task_runs(root / "runs", any(c.page == "/sentiment" for c in controls), app_root)
        floor_server, floor_url = start_app_server(root / "floor-runs", root / "floor.log", script=FLOOR_SCRIPT)
        server = beside = None
        try:
            server, base = start_app_server(root / "runs", root / "app.log", app_root=app_root)
            if trainings:
                beside = start_trainings(trainings, 3600, root / "trainings", app_root=app_root)
                log(f"{trainings} trainings running beside the measurement")
            with sync_playwright() as playwright:
                browser = launch(playwright, headless=True)
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_init_script(OBSERVER)
                app_tab, floor = context.new_page(), Floor(context.new_page(), floor_url, 2 if quick else 3)
                for url in loads:
                    rows.append(attempt(app_tab, floor, url, "page load", "load",
                                        lambda url=url: time_load(app_tab, base + url, repeats), log))
                for control in controls:
                    rows.append(attempt(app_tab, floor, control.page.split("&autostart")[0], control.name, control.kind,
                                        lambda control=control: time_control(app_tab, base, control, repeats), log))
                browser.close()
        finally:
            if beside is not None:
                stop_trainings(beside, timeout=0)
            stop_app_server(floor_server)
            if server is not None:
                stop_app_server(server)
    def seconds(samples):
        return [s["seconds"] for s in samples if s["seconds"] is not None]
    floor_rows = [row("floor", "slider", "slider", floor.interactions, seconds(floor.interactions)),
                  row("floor", "page load", "load", floor.loads, seconds(floor.loads))]
    return {"floor_seconds": floor_rows[0]["median"], "floor_load_seconds": floor_rows[1]["median"],
            "rows": [*floor_rows, *rows], "repeats": repeats, "quick": quick,
            "trainings": trainings, "target_seconds": TARGET_SECONDS, "floor_ratio": FLOOR_RATIO, "load_targets": LOAD_TARGETS}


def verdict(r: dict) -> str:
    if r["median"] is None:
        return r["error"] or "no data"
    if r["page"] == "floor":
        return ""
    if r["kind"] == "load":
        target = LOAD_TARGETS.get(r["page"].split("?")[0], 1.0)
        return "ok" if r["median"] <= target else f"SLOW (> {target:g} s)"
    misses = [f"> {TARGET_SECONDS:g} s"] * (r["median"] > TARGET_SECONDS)
    misses += [f"> {FLOOR_RATIO:g}x floor"] * (r["ratio"] is not None and r["ratio"] > FLOOR_RATIO)
    return "SLOW (" + ", ".join(misses) + ")" if misses else "ok"


HEADER = (f"{'page':<26} {'control':<32} {'median s':>8} {'max s':>6} {'script s':>8} {'floor s':>7} "
          f"{'x floor':>7} {'load':>4}  verdict")


def format_row(r: dict) -> str:
    def number(v, f="{:.3f}"):
        return "-" if v is None else f.format(v)
    first = f"; first text {r['first_change_median']:.3f} s" if r.get("first_change_median") is not None else ""
    first += f"; {r['notes']}" if r.get("notes") else ""
    return (f"{r['page'][:26]:<26} {r['control'][:32]:<32} {number(r['median']):>8} {number(r['max'], '{:.2f}'):>6} "
            f"{number(r['script_median']):>8} {number(r['floor_median']):>7} {number(r['ratio'], '{:.2f}'):>7} "
            f"{r['load_average']:>4.1f}  {r['verdict']}{first}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few controls, 3 repeats each")
    parser.add_argument("--repeats", type=int, default=None, help="interactions per control (default 5, quick 3)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--only", help="time only the rows whose page and control match this regular expression")
    parser.add_argument("--app-root", type=Path, default=REPO_ROOT,
                        help="serve the app from another checkout (e.g. a worktree of an earlier commit)")
    parser.add_argument("--trainings", type=int, default=0,
                        help="trainings of the default preset running beside the measurement, at a lower priority")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out
    result = measure(args.quick, args.repeats, quiet=False, app_root=args.app_root.resolve(),
                     only=args.only, trainings=args.trainings)
    beside = f", {result['trainings']} trainings running beside it" if result["trainings"] else ""
    print(f"\nInteraction latency in Chromium{beside}, median and max of {result['repeats']}; 'script s': until the script "
          f"finished; 'floor s': the minimal page timed just before the row; 'load': load average then")
    print(HEADER)
    for r in result["rows"]:
        print(format_row(r))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
