"""Shared test fixtures: an isolated run store, a live app server, and a real browser page."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
from lstm_core.execution.background import configure_torch_threads  # noqa: E402
from scripts.app_server import start_app_server, stop_app_server  # noqa: E402
from scripts.browser import find_chromium, launch  # noqa: E402

configure_torch_threads(1)  # tests share two cores with each other and with the app server


def scan_installed_components_once() -> None:
    """Streamlit's AppTest scans the metadata of every installed package for components at each new AppTest's first
    run (0.35 CPU-s each here, and the suite opens hundreds of them); the installed packages do not change while the
    tests run, so each test process scans once."""
    from streamlit.components.v2 import manifest_scanner

    manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)


scan_installed_components_once()


ONE_PROCESS = {"test_load", "test_ray_executor", "test_cli", "test_executor"}


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own, which reads the groups
def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (scripts/test.sh runs two processes), the tests that drive the app in a browser run in
    one process, one after another, so that one app server and one browser serve them all (each warms its caches
    once); the load test (its own server and browser), the Ray test (its own Ray instance), and the modules whose
    module-wide fixture is a training or a worker each run in one process too (``ONE_PROCESS``), so that what they
    share is made once.

    In each xdist process the slow tests come first: the scheduler hands out the longest work first and the
    short tests fill the gaps at the end, so both processes finish together."""
    for item in items:
        module = Path(item.nodeid.split("::")[0]).stem
        if module in ONE_PROCESS:
            item.add_marker(pytest.mark.xdist_group(module))
        elif item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.xdist_group("browser"))
    if hasattr(config, "workerinput"):  # an xdist process: each collects the same tests, in the same order
        items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def isolated_run_store(tmp_path_factory, monkeypatch):
    """Every test writes runs into its own folder, never into the developer's ``runs/``."""
    root = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("LSTM_LAB_RUNS", str(root))
    return root


@pytest.fixture(autouse=True)
def torch_kernels_put_back():
    """A page run in the test process (AppTest) switches the web process to PyTorch's plain kernels;
    the tests after it get the kernels they started with."""
    import torch

    enabled = torch.backends.mkldnn.enabled
    yield
    torch.backends.mkldnn.enabled = enabled


@pytest.fixture(autouse=True)
def main_module_put_back():
    """A page run in the test process (AppTest) can leave its script as ``__main__``; a process pool started
    later ("spawn", scripts/memory_table.py) would run that script again in each child, outside Streamlit."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main


@pytest.fixture(autouse=True)
def fresh_run_store_cache():
    """The app caches its run store per process; each test must see its own isolated store."""
    from lab_ui.run_picker import run_store

    run_store.clear()


@pytest.fixture
def trainers():
    """Background trainers made by a test; every one is stopped afterwards so that no slot stays taken."""
    made = []
    yield made
    for trainer in made:
        trainer.stop(wait=True)


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """``streamlit run app.py`` on a free loopback port; yields its base URL."""
    try:
        server, url = start_app_server(tmp_path_factory.mktemp("server-runs"),
                                       tmp_path_factory.mktemp("server-log") / "streamlit.log")
    except RuntimeError as err:
        pytest.fail(str(err))
    yield url
    stop_app_server(server)


@pytest.fixture(scope="session")
def browser():
    if find_chromium() is None:
        pytest.fail("No Chromium to drive: bash scripts/test.sh installs one (Debian's, or Playwright's own)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = launch(playwright)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture(scope="module")
def blank_tab(browser):
    """An empty page in a context of its own, where a test loads a component's script as a module."""
    context = browser.new_context()
    tab = context.new_page()
    tab.set_content("<html><body></body></html>")
    yield tab
    context.close()


def component_prelude(root_class: str) -> str:
    """The first lines of a JS test of a component's script (evaluated with its source as ``source``): import
    the script as a module (``mount``, its default export) and give it an empty root (``root``)."""
    return f"""
  const url = URL.createObjectURL(new Blob([source], {{type: "text/javascript"}}));
  const mount = (await import(url)).default;
  document.body.innerHTML = '<div class="{root_class}"></div>';
  const root = document.body.querySelector(".{root_class}");"""


def wait_for_app(tab, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the page's script."""
    tab.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)


def keep_screenshot(target, name: str, full_page: bool = True, height: int | None = None) -> Path | None:
    """Screenshot a page (whole, by default) or one element into the folder ``LSTM_LAB_SCREENS`` names, where a
    developer looks at what the browser tests saw; without that folder, nothing (a screenshot nobody sees costs the
    suite a second or two of the browser's time). ``height``: the page's window is made that tall for the shot
    (Streamlit scrolls inside the page, so a whole page needs a tall window), then given back its size; only then,
    as every redraw of a tall window costs the browser."""
    if not os.environ.get("LSTM_LAB_SCREENS"):
        return None
    screens = Path(os.environ["LSTM_LAB_SCREENS"])
    screens.mkdir(parents=True, exist_ok=True)
    shot = screens / f"{name}.png"
    size = target.viewport_size if height else None
    if size:
        target.set_viewport_size({"width": size["width"], "height": height})
        wait_for_app(target)
    target.screenshot(path=str(shot), **({"full_page": True} if full_page else {}))
    if size:
        target.set_viewport_size(size)
    return shot


def steady_box(element, scroll: bool = False, tries: int = 50) -> dict | None:
    """An element's box on the screen once it has stopped moving (two reads 0.1 s apart agree; a redrawn element
    has no box in between). ``scroll``: brought into view first (otherwise where it is, above the fold or not)."""
    box = None
    for _ in range(tries):
        if scroll:
            element.scroll_into_view_if_needed()
        again = element.bounding_box()
        if again and again == box:
            return box
        box = again
        element.page.wait_for_timeout(100)
    return box
