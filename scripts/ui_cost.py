"""What the live UI costs training: throughput headless vs the same training driven by the real app.

Runs one preset three times with the same time budget: headless (in a worker of the executor, as the
app runs it, but with no page and no web server), then through ``streamlit run app.py`` with the Train
page open in Chromium (started by the link ``/train?preset=...&autostart=1``), then headless again.
Throughput is the characters trained per second of training time, read from each run's saved
metrics. It also counts how often the page's Step figure changed while training (the live panel's
refresh rate).

    python scripts/ui_cost.py --preset default --seconds 20 [--executor local|ray]

The bar (docs: PRODUCT.md) is a UI cost below 5% of headless throughput once training runs in workers.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import lstm_core  # noqa: E402
from lstm_core.background import BackgroundTrainer, configure_torch_threads  # noqa: E402
from lstm_core.executor import make_executor  # noqa: E402
from scripts.app_server import start_app_server, stop_app_server  # noqa: E402
from scripts.browser import launch  # noqa: E402


def throughput(run_dir: Path) -> tuple[float, int, float]:
    """(characters per training second, steps, training seconds) of a saved run."""
    run = lstm_core.runs.read_config(run_dir)["train"]
    metrics = lstm_core.runs.read_metrics(run_dir)
    steps, seconds = int(metrics["step"].iloc[-1]), float(metrics["seconds"].iloc[-1])
    return steps * run["batch_size"] * run["seq_len"] / seconds, steps, seconds


def headless(preset: str, seconds: float, root: Path, executor) -> Path:
    store = lstm_core.RunStore(root)
    trainer = BackgroundTrainer(lstm_core.CharTraining(lstm_core.preset_config(preset, max_seconds=seconds),
                                                       store=store, name="headless"), executor=executor)
    trainer.start()
    while trainer.snapshot(since=1 << 62).active:
        time.sleep(0.2)
    return Path(trainer.snapshot(since=1 << 62).run_dir)


WATCH_STEP = """() => {
  window.stepChanges = [];
  let last = null;
  setInterval(() => {
    const figure = document.querySelector('[data-testid=stMetricValue]');
    const text = figure ? figure.textContent : null;
    if (text !== null && text !== last) { window.stepChanges.push(performance.now()); last = text; }
  }, 50);
}"""


def in_app(preset: str, seconds: float, root: Path, executor: str) -> tuple[Path, float]:
    """Train through the app with the page open; returns the run folder and the page's refreshes per second."""
    from playwright.sync_api import sync_playwright

    server, url = start_app_server(root, env={"LSTM_LAB_EXECUTOR": executor})
    try:
        with sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(f"{url}/train?preset={preset}&seconds={seconds:g}&autostart=1")
            page.evaluate(WATCH_STEP)  # the browser notes each change of the Step figure, every 50 ms
            deadline = time.monotonic() + seconds * 4 + 120
            while time.monotonic() < deadline and not page.get_by_text("the run is saved").count():
                time.sleep(0.5)
            changes = page.evaluate("window.stepChanges")
            refresh_rate = (len(changes) - 1) / ((changes[-1] - changes[0]) / 1000) if len(changes) > 2 else 0.0
            browser.close()
    finally:
        stop_app_server(server)
    runs = lstm_core.RunStore(root).list()
    if runs.empty:
        raise SystemExit("the app did not save a run; is the Train page broken?")
    return root / runs.iloc[0]["id"], refresh_rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default", choices=list(lstm_core.PRESETS))
    parser.add_argument("--seconds", type=float, default=20.0, help="training-time budget of each run")
    parser.add_argument("--executor", choices=["local", "ray"], default="local")
    args = parser.parse_args()
    configure_torch_threads()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        executor = make_executor(args.executor)
        before = throughput(headless(args.preset, args.seconds, folder / "headless-1", executor))
        executor.shutdown()  # the app server has its own executor: no idle worker of ours beside it
        app_run, refresh_rate = in_app(args.preset, args.seconds, folder / "app", args.executor)
        app = throughput(app_run)
        executor = make_executor(args.executor)
        after = throughput(headless(args.preset, args.seconds, folder / "headless-2", executor))
        executor.shutdown()
    base = (before[0] + after[0]) / 2
    print(f"preset {args.preset}, {args.seconds:g} s budget, {os.cpu_count()} CPUs, {args.executor} executor")
    for label, (speed, steps, secs) in (("headless (before)", before), ("app + Chromium", app),
                                        ("headless (after)", after)):
        print(f"  {label:18s} {speed:12,.0f} chars/s  ({steps:,} steps in {secs:.1f} s of training)")
    print(f"  UI cost: {1 - app[0] / base:.1%} of headless throughput (app/headless ratio {app[0] / base:.3f})")
    print(f"  live panel: the Step figure changed {refresh_rate:.2f} times a second in the browser")


if __name__ == "__main__":
    main()
