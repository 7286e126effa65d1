"""What the live UI costs training: throughput headless vs the same training driven by the real app.

Runs one preset three times with the same time budget: headless (in a worker of the executor, as the
app runs it, but with no page and no web server), then through ``streamlit run app.py`` with the Train
page open in Chromium (started by the link ``/train?preset=...&autostart=1``), then headless again.
Throughput is the characters trained per second of training time, read from each run's saved
metrics. It also counts how often the page's Step figure changed while training (the live panel's
refresh rate). For the local executor it also reads the worker process's CPU time between the run's
first checkpoint and its end: the characters trained per CPU-second the worker got (what the
training does with its CPU, whatever else the machine runs) and the share of a core it got (what
the machine's other work, the web server and the browser included, left it).

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
from lstm_core.execution.background import BackgroundTrainer, configure_torch_threads  # noqa: E402
from lstm_core.execution.factory import make_executor  # noqa: E402
from scripts.app_server import start_app_server, stop_app_server  # noqa: E402
from scripts.browser import launch  # noqa: E402
from scripts.processes import cpu_seconds, training_workers  # noqa: E402


def throughput(run_dir: Path) -> tuple[float, int, float]:
    """(characters per training second, steps, training seconds) of a saved run."""
    run = lstm_core.runs.read_config(run_dir)["train"]
    metrics = lstm_core.runs.read_metrics(run_dir)
    steps, seconds = int(metrics["step"].iloc[-1]), float(metrics["seconds"].iloc[-1])
    return steps * run["batch_size"] * run["seq_len"] / seconds, steps, seconds


def chromium_pids() -> list[int]:
    """The processes of the Chromium the script drives (browser, renderers, GPU and utility processes)."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"chrom" in cmdline.read_bytes().split(b"\0")[0].lower():
                pids.append(int(cmdline.parent.name))
        except (OSError, ValueError):
            continue
    return pids


def worker_of(server_pid: int) -> int | None:
    """The app server's training worker process (local executor)."""
    workers = training_workers(server_pid)
    return workers[0] if workers else None


class CpuWatch:
    """The worker's CPU time and the run's steps, from its first checkpoint to its end."""

    def __init__(self, root: Path):
        self.root, self.first, self.last = root, None, None
        self.others_first, self.others_last = {}, {}

    def sample(self, pid: int | None, others: dict[str, list[int]] | None = None) -> None:
        """Note the worker's CPU time and the run's steps now; ``others`` names more processes (the web
        server, the browser) whose CPU time to note at the same moments."""
        runs = [d for d in self.root.iterdir() if (d / "metrics.csv").is_file()] if self.root.is_dir() else []
        cpu = cpu_seconds(pid) if pid else None
        if len(runs) != 1 or cpu is None:
            return
        point = (len(lstm_core.runs.read_metrics(runs[0])), cpu, time.monotonic())
        others_now = {name: sum(filter(None, map(cpu_seconds, pids))) for name, pids in (others or {}).items()}
        if not self.first:
            self.first, self.others_first = point, others_now
        self.last, self.others_last = point, others_now

    def other_shares(self) -> dict[str, float]:
        """Each other process group's share of a core over the same window as the worker's."""
        if not self.first or not self.last or self.last[2] <= self.first[2]:
            return {}
        wall = self.last[2] - self.first[2]
        return {name: (self.others_last[name] - self.others_first.get(name, 0.0)) / wall for name in self.others_last}

    def figures(self, chars_per_step: int) -> tuple[float, float] | None:
        """(characters per CPU-second of the worker, share of a core it got), or None unmeasured."""
        if not self.first or not self.last or self.last[1] <= self.first[1]:
            return None
        steps, cpu, wall = (b - a for a, b in zip(self.first, self.last))
        return steps * chars_per_step / cpu, cpu / wall


def headless(preset: str, seconds: float, root: Path, executor, watch: CpuWatch) -> Path:
    store = lstm_core.RunStore(root)
    trainer = BackgroundTrainer(lstm_core.CharTraining(lstm_core.preset_config(preset, max_seconds=seconds),
                                                       store=store, name="headless"), executor=executor)
    trainer.start()
    while trainer.snapshot(since=1 << 62).active:
        watch.sample(trainer.worker_pid)
        time.sleep(0.2)
    return Path(trainer.snapshot(since=1 << 62).run_dir)


WATCH_STEP = """() => {
  window.stepChanges = [];
  let last = null;
  setInterval(() => {
    const figure = document.querySelector('.live-panel [data-label="Step"] .lp-value');
    const text = figure ? figure.textContent : null;
    if (text !== null && text !== last) { window.stepChanges.push(performance.now()); last = text; }
  }, 50);
}"""


def in_app(preset: str, seconds: float, root: Path, executor: str, watch: CpuWatch) -> tuple[Path, float]:
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
                watch.sample(worker_of(server.pid), {"web server": [server.pid], "Chromium": chromium_pids()})
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
        watches = [CpuWatch(folder / name) for name in ("headless-1", "app", "headless-2")]
        executor = make_executor(args.executor)
        before = throughput(headless(args.preset, args.seconds, folder / "headless-1", executor, watches[0]))
        executor.shutdown()  # the app server has its own executor: no idle worker of ours beside it
        app_run, refresh_rate = in_app(args.preset, args.seconds, folder / "app", args.executor, watches[1])
        app = throughput(app_run)
        chars_per_step = lstm_core.preset_config(args.preset).batch_size * lstm_core.preset_config(args.preset).seq_len
        executor = make_executor(args.executor)
        after = throughput(headless(args.preset, args.seconds, folder / "headless-2", executor, watches[2]))
        executor.shutdown()
    base = (before[0] + after[0]) / 2
    print(f"preset {args.preset}, {args.seconds:g} s budget, {os.cpu_count()} CPUs, {args.executor} executor")
    for (label, (speed, steps, secs)), watch in zip((("headless (before)", before), ("app + Chromium", app),
                                                     ("headless (after)", after)), watches):
        cpu = watch.figures(chars_per_step)
        per_cpu = f"; {cpu[0]:,.0f} chars per worker CPU-second, {cpu[1]:.0%} of a core" if cpu else ""
        print(f"  {label:18s} {speed:12,.0f} chars/s  ({steps:,} steps in {secs:.1f} s of training{per_cpu})")
    print(f"  UI cost: {1 - app[0] / base:.1%} of headless throughput (app/headless ratio {app[0] / base:.3f})")
    cpus = [w.figures(chars_per_step) for w in watches]
    if all(cpus):
        per_cpu_base = (cpus[0][0] + cpus[2][0]) / 2
        print(f"  per CPU-second of the worker: {1 - cpus[1][0] / per_cpu_base:.1%} lower with the page open "
              f"(what the live panel costs the training itself, apart from the CPU the machine's other work takes)")
    shares = watches[1].other_shares()
    if shares:
        print("  beside the training, with the page open: " +
              ", ".join(f"{name} {share:.0%} of a core" for name, share in shares.items()))
    print(f"  live panel: the Step figure changed {refresh_rate:.2f} times a second in the browser")


if __name__ == "__main__":
    main()
