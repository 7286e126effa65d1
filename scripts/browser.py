"""Find and launch a Chromium that Playwright can drive, wherever it is installed.

Debian's ``chromium`` (``apt-get install chromium``) is what CI installs; any other Chromium on the
PATH, one named by ``LSTM_LAB_CHROMIUM``, or Playwright's own download (``playwright install
chromium``) works too. The tests, ``scripts/test.sh`` and the measuring scripts all look here.

    python scripts/browser.py          prints the browser's path, or exits 1 when there is none
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]


def find_chromium() -> str | None:
    """The path of a Chromium executable, or None when none is installed."""
    named = os.environ.get("LSTM_LAB_CHROMIUM")
    candidates = [named] if named else []
    candidates += ["/usr/bin/chromium", *(shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome"))]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return playwright_chromium()


def playwright_chromium() -> str | None:
    """The Chromium that ``playwright install chromium`` downloaded, if any."""
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            path = playwright.chromium.executable_path
    except Exception:  # noqa: BLE001 - no Playwright, or no browser of its own: there is none
        return None
    return path if path and Path(path).is_file() else None


def launch(playwright, **options):
    """Launch the found Chromium headless through a running Playwright; RuntimeError when there is none."""
    path = find_chromium()
    if path is None:
        raise RuntimeError("No Chromium found: install Debian's (apt-get install -y chromium) or Playwright's "
                           "(python -m playwright install chromium), or name one in LSTM_LAB_CHROMIUM.")
    return playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS, **options)


if __name__ == "__main__":
    found = find_chromium()
    print(found or "no Chromium found")
    sys.exit(0 if found else 1)
