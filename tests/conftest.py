"""Shared test fixtures: an isolated run store, a live app server, and a real browser page."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"

from lstm_core.background import configure_torch_threads  # noqa: E402

configure_torch_threads(1)  # tests share two cores with each other and with the app server


@pytest.fixture(autouse=True)
def isolated_run_store(tmp_path_factory, monkeypatch):
    """Every test writes runs into its own folder, never into the developer's ``runs/``."""
    root = tmp_path_factory.mktemp("runs")
    monkeypatch.setenv("LSTM_LAB_RUNS", str(root))
    return root


@pytest.fixture(autouse=True)
def fresh_run_store_cache():
    """The app caches its run store per process; each test must see its own isolated store."""
    from lab_ui.common import run_store

    run_store.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    """``streamlit run app.py`` on a free loopback port; yields its base URL."""
    port = free_port()
    runs = tmp_path_factory.mktemp("server-runs")
    env = {**os.environ, "LSTM_LAB_RUNS": str(runs), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log = open(tmp_path_factory.mktemp("server-log") / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
        cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("the app server did not start within 60 s")
    yield url
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's Chromium is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    tab = context.new_page()
    yield tab
    context.close()


def wait_for_app(tab, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished running the page's script."""
    tab.wait_for_selector("[data-testid=stApp][data-test-script-state=notRunning]", timeout=timeout)
