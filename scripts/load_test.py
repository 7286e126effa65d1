"""A class on one server, measured: many real browser sessions at once against one app server.

    python scripts/load_test.py --sessions 30 --trainings 8
    python scripts/load_test.py --sessions 18 --trainings 2 --train-seconds 60   # 16 arrive while 2 train

Starts ``streamlit run app.py`` on a loopback port (through scripts/timed_server.py, which logs every script run on
the server's side) with an empty run store, and drives it with Playwright: one Chromium, one browser context per
session (each its own user, as in a class). First a session that renders nothing (Streamlit's protocol,
scripts/protocol_client.py) visits every page once (``--warm``) and one training of ``--preset`` runs alone, for
its throughput (the server's memory at start is read then: everything has run once; ``--no-alone`` skips that
training). Then ``--trainings`` sessions start that training on /train (link autostart), and once they run, the
other sessions arrive all at once and each opens ``--pages`` in turn; ``--burst N`` sends, at the same moment, N
sessions that render nothing (scripts/class_burst.py: Streamlit's protocol, spoken from Python) to open /gates
within a second.

It reports, per page, the server's time from a session's request to the end of that page's script run (median, 90th
percentile, worst) and the browser's time to a drawn page; the throughput of each training against the same
training alone; the server's memory (the web process, and its training workers apart) at start, at the peak, and
after every session has closed; and whether every run is complete on disk (finished, every step's metrics, loadable
weights). Everything talks to 127.0.0.1 only, and everything ends by itself (``--timeout`` bounds the whole test).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import lstm_core  # noqa: E402
from lstm_core.execution.executor import local_pool_size  # noqa: E402
from lstm_core.runs import read_config, read_metrics, read_status  # noqa: E402
from scripts.app_server import start_app_server, stop_app_server  # noqa: E402
from scripts.browser import LAUNCH_ARGS, find_chromium  # noqa: E402
from scripts.class_burst import burst as protocol_burst, burst_errors  # noqa: E402
from scripts.processes import descendants, memory_mb  # noqa: E402
from scripts.protocol_client import open_once  # noqa: E402

try:
    from playwright.async_api import TimeoutError as PlaywrightTimeout
except ImportError:  # pragma: no cover - requirements-test.txt installs Playwright
    PlaywrightTimeout = TimeoutError

READY = "[data-testid=stApp][data-test-script-state=notRunning]"
PAGES = ["/gates?run=pretrained", "/generate?run=pretrained"]
BURST_WITHIN = 1.0  # seconds over which --burst's sessions arrive
WARM_PAGES = ["/", "/train", "/gates?run=pretrained", "/generate?run=pretrained", "/runs"]


# -- the server's memory -----------------------------------------------------------------------
def memory(pid: int) -> tuple[float, float]:
    """(web process MB, its training workers' MB: what the processes it started hold, each page they share
    with each other counted once)."""
    return memory_mb(pid), sum(memory_mb(child, "Pss") for child in descendants(pid))


# -- one session in the browser ----------------------------------------------------------------
async def open_page(context, url: str, timeout: float) -> tuple[object, float]:
    """Open ``url`` in a new tab; returns (tab, seconds until the page was drawn and its script done)."""
    tab = await context.new_page()
    started = time.monotonic()
    await tab.goto(url, wait_until="commit", timeout=timeout * 1000)
    await tab.wait_for_selector("h1", timeout=timeout * 1000)
    await tab.wait_for_selector(READY, timeout=timeout * 1000)
    return tab, time.monotonic() - started


async def browse(browser, base: str, pages: list[str], timeout: float, times: dict) -> None:
    """A session that opens ``pages`` in turn; a page not drawn within ``timeout`` is counted as such."""
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    try:
        for page in pages:
            try:
                tab, seconds = await open_page(context, base + page, timeout)
            except PlaywrightTimeout:
                times.setdefault("not drawn in time", []).append(page)
                continue
            times.setdefault(page.split("?")[0], []).append(seconds)
            await tab.close()
    finally:
        await context.close()


async def train(browser, base: str, link: str, timeout: float, times: dict, started: asyncio.Event,
                done: asyncio.Event):
    """A session that starts a training and keeps its tab open until the training has ended."""
    context = await browser.new_context(viewport={"width": 1300, "height": 900})
    tab, seconds = await open_page(context, base + link, timeout)
    times.setdefault("/train", []).append(seconds)
    started.set()
    await done.wait()
    await context.close()


# -- the runs ----------------------------------------------------------------------------------
def throughput(run_dir: Path) -> float:
    """Characters trained per second of training time."""
    train = read_config(run_dir)["train"]
    metrics = read_metrics(run_dir)
    return len(metrics) * train["batch_size"] * train["seq_len"] / float(metrics["seconds"].iloc[-1])


def complete(run_dir: Path) -> str | None:
    """None when the run is whole on disk; otherwise what is wrong. A run paused because the server lost its
    tab's session (seen on a 2-core machine under a full test suite) counts as whole when it is: the app
    saves such a run paused, to be continued; the report lists it apart."""
    status = read_status(run_dir)
    if status not in ("finished", "paused"):
        return f"status {status}"
    metrics = read_metrics(run_dir)
    if list(metrics["step"]) != list(range(1, len(metrics) + 1)):
        return "metrics rows missing"
    try:
        lstm_core.load_run(run_dir)
    except lstm_core.RunError as err:
        return str(err)
    return None


ENDED = ["finished", "stopped", "diverged", "failed", "paused"]  # paused: its tab's session went away (see complete)


def wait_for_runs(store: lstm_core.RunStore, count: int, deadline: float) -> list[Path]:
    while time.monotonic() < deadline:
        runs = store.list()
        done = runs[runs["status"].isin(ENDED)]
        if len(runs) >= count and len(done) >= count:
            return [store.root / run_id for run_id in runs["id"]]
        time.sleep(0.5)
    raise TimeoutError(f"{count} runs did not end in time")


def wait_for_running(store: lstm_core.RunStore, count: int, deadline: float) -> None:
    """Until ``count`` trainings have saved a first checkpoint (or already ended: a short budget)."""
    while time.monotonic() < deadline:
        runs = store.list()
        if not runs.empty and (~runs["status"].isin(["created", "queued"])).sum() >= count:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{count} trainings never started")


async def warm(base: str, pages: list[str], timeout: float) -> None:
    """Open every page once, as a session that renders nothing (the server's caches warm, no browser's time spent);
    a page whose script fails stops the test."""
    for page in pages:
        path, _, query = page.lstrip("/").partition("?")
        _, exceptions = await open_once(base, path, query, timeout)
        if exceptions:
            raise SystemExit(f"warming {page} failed: {exceptions[0]}")


# -- the server's own times --------------------------------------------------------------------
def server_times(log: Path, since: float) -> dict[str, list[tuple[float, float, float]]]:
    """{page script: [(request to end, script run, burst start to end)]} of each session's first full run."""
    first: dict[str, dict] = {}
    earlier = set()  # sessions that arrived before the burst (the trainings' own)
    for line in log.read_text().splitlines():
        run = json.loads(line)
        if run["requested"] < since:
            earlier.add(run["session"])
        if run["fragment"] or run["session"] in earlier or run["session"] in first:
            continue
        if run["how"] == "success":
            first[run["session"]] = run
    pages: dict[str, list] = {}
    for run in first.values():
        pages.setdefault(run["page"], []).append((run["ended"] - run["requested"], run["ended"] - run["started"],
                                                   run["ended"] - since))
    return pages


def percentiles(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
    return f"{statistics.median(values):6.2f} {p90:6.2f} {values[-1]:6.2f}"


# -- the test ----------------------------------------------------------------------------------
async def run(args) -> dict:
    from playwright.async_api import async_playwright

    folder = Path(tempfile.mkdtemp(prefix="lstm-lab-load-"))
    store_root, timing = folder / "runs", folder / "timing.jsonl"
    env = {"LSTM_LAB_SHARED": "1"}
    if args.executor:
        env["LSTM_LAB_EXECUTOR"] = args.executor
    server, base = start_app_server(store_root, folder / "server.log", timing_log=timing, env=env)
    deadline = time.monotonic() + args.timeout
    report: dict = {"sessions": args.sessions, "trainings": args.trainings, "cpus": os.cpu_count()}
    link = f"/train?preset={args.preset}&seconds={args.train_seconds:g}&autostart=1"
    try:
        report["memory_cold"] = memory(server.pid)
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=find_chromium(), args=LAUNCH_ARGS)
            await warm(base, args.warm, args.page_timeout)
            store = lstm_core.RunStore(store_root)
            alone_run = None
            if args.alone:
                alone_done = asyncio.Event()
                alone = asyncio.create_task(train(browser, base, link, args.page_timeout, {}, asyncio.Event(),
                                                  alone_done))
                (alone_run,) = await asyncio.to_thread(wait_for_runs, store, 1, deadline)
                alone_done.set()
                await alone
            report["alone"] = throughput(alone_run) if alone_run else None
            await asyncio.sleep(args.settle)
            report["memory_start"] = memory(server.pid)  # every page visited and one training run: all warm

            times: dict[str, list[float]] = {}
            done = asyncio.Event()
            starts = [asyncio.Event() for _ in range(args.trainings)]
            trainers = [asyncio.create_task(train(browser, base, link, args.page_timeout, times, started, done))
                        for started in starts]
            for started in starts:
                await started.wait()
            capacity = local_pool_size() if args.executor != "ray" else args.trainings
            if args.trainings:
                await asyncio.to_thread(wait_for_running, store, min(args.trainings, capacity) + bool(alone_run),
                                        deadline)
            burst = time.time()
            peak = [memory(server.pid)]

            async def watch():
                while True:
                    peak.append(memory(server.pid))
                    await asyncio.sleep(1.0)

            watcher = asyncio.create_task(watch())
            browsing = args.sessions - args.trainings
            sessions = [browse(browser, base, args.pages, args.page_timeout, times) for _ in range(browsing)]
            if args.burst:  # the protocol sessions arrive with the browsing ones
                sessions.append(protocol_burst(base, args.burst, BURST_WITHIN, args.page_timeout))
            arrived = await asyncio.gather(*sessions)
            burst_results = arrived[-1][0] if args.burst else []
            report["browsing_done_after"] = time.time() - burst
            report["burst"] = {"sessions": args.burst, "errors": burst_errors(burst_results)}
            runs = await asyncio.to_thread(wait_for_runs, store, args.trainings + bool(alone_run), deadline)
            done.set()
            await asyncio.gather(*trainers)
            watcher.cancel()
            await browser.close()
        closed = time.time()
        report["memory_peak"] = (max(m[0] for m in peak), max(m[1] for m in peak))
        report["memory_after"] = []
        for wait in args.after:
            await asyncio.sleep(max(0.0, closed + wait - time.time()))
            report["memory_after"].append((wait, *memory(server.pid)))
        report["browser"] = times
        report["server"] = server_times(timing, burst)
        under_load = [run for run in runs if run != alone_run]
        report["throughputs"] = sorted(throughput(run) for run in under_load)
        report["incomplete"] = {run.name: why for run in runs if (why := complete(run))}
        report["paused"] = [run.name for run in runs if read_status(run) == "paused"]
        report["runs"] = len(runs)
    finally:
        stop_app_server(server)
    return report


def print_report(report: dict) -> None:
    print(f"{report['sessions']} sessions ({report['trainings']} training, "
          f"{report['sessions'] - report['trainings']} browsing at once), {report['cpus']} CPUs")
    print("\npage       server: request->end (s)   browser: page drawn (s)   sessions")
    print("           median    p90  worst        median    p90  worst")
    for page, runs in sorted(report["server"].items()):
        print(f"{page:10s} {percentiles([r[0] for r in runs])}        {percentiles(report['browser'].get(page, []))}"
              f"   {len(runs)}")
    every = [r[0] for runs in report["server"].values() for r in runs]
    if every:
        def within(s):
            return sum(v <= s for v in every) / len(every)
        print(f"all pages: {within(2):.0%} within 2 s, {within(5):.0%} within 5 s of their request (server side); "
              f"every browsing session done {report['browsing_done_after']:.1f} s after the burst")
    runs_only = [r[1] for runs in report["server"].values() for r in runs]
    if runs_only:
        print(f"script runs alone (start->end): median {statistics.median(runs_only):.2f} s, worst {max(runs_only):.2f} s")
    if report["burst"]["sessions"]:
        errors = report["burst"]["errors"]
        print(f"burst: {report['burst']['sessions']} protocol sessions opened /gates within {BURST_WITHIN:g} s "
              f"({'no errors' if not errors else f'ERRORS: {errors[:3]}'})")
    alone = report["alone"]
    speeds = report["throughputs"]
    if speeds and alone is None:
        print(f"\nthroughput under load per training: median {statistics.median(speeds):,.0f} chars/s, "
              f"worst {speeds[0]:,.0f} (no training alone to compare with: --no-alone)")
    elif speeds:
        print(f"\nthroughput: alone {alone:,.0f} chars/s; under load per training median "
              f"{statistics.median(speeds):,.0f} ({statistics.median(speeds) / alone:.0%}), "
              f"worst {speeds[0]:,.0f} ({speeds[0] / alone:.0%})")
    def mb(m):
        return f"{m[0]:.0f} MB (+ workers {m[1]:.0f} MB)"
    print(f"\nserver memory: cold {mb(report['memory_cold'])}, start (caches warm) {mb(report['memory_start'])}, "
          f"peak {mb(report['memory_peak'])}")
    for wait, web, workers in report["memory_after"]:
        change = web / report["memory_start"][0] - 1
        print(f"  {wait:4.0f} s after every session closed: {web:.0f} MB ({change:+.0%} of start), "
              f"workers {workers:.0f} MB")
    if report["browser"].get("not drawn in time"):
        print(f"pages the browsers did not draw within the page timeout: {report['browser']['not drawn in time']}")
    bad = report["incomplete"]
    print(f"\nruns on disk: {report['runs']} ({'all complete' if not bad else f'INCOMPLETE: {bad}'})")
    if report["paused"]:
        print(f"runs paused when the server lost their tab's session (whole on disk): {report['paused']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--trainings", type=int, default=8)
    parser.add_argument("--pages", default=",".join(PAGES), help="pages each browsing session opens, in turn")
    parser.add_argument("--warm", default=",".join(WARM_PAGES),
                        help="pages one session that renders nothing opens first, to warm the server's caches (empty: none)")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--no-alone", dest="alone", action="store_false",
                        help="skip the training alone (its throughput is the reference for those under load)")
    parser.add_argument("--burst", type=int, default=0,
                        help=f"protocol sessions (rendering nothing) that open /gates within {BURST_WITHIN:g} s as the "
                        "browsing sessions arrive")
    parser.add_argument("--train-seconds", type=float, default=15.0)
    parser.add_argument("--executor", choices=["local", "ray"])
    parser.add_argument("--after", default="5,30,60", help="seconds after the last session closed to read memory")
    parser.add_argument("--settle", type=float, default=5.0)
    parser.add_argument("--page-timeout", type=float, default=180.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="the whole test ends by then")
    parser.add_argument("--json", help="also write the report here")
    args = parser.parse_args()
    args.pages = [p for p in args.pages.split(",") if p]
    args.warm = [p for p in args.warm.split(",") if p]
    args.after = [float(s) for s in args.after.split(",")]
    if not 0 <= args.trainings <= args.sessions:
        parser.error("--trainings must be between 0 and --sessions")
    report = asyncio.run(asyncio.wait_for(run(args), args.timeout + 120))
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 1 if report["incomplete"] or report["burst"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
