"""A class's burst, measured at the server: many sessions open /gates within a second while trainings run.

    python scripts/class_burst.py                          # 30 sessions within 1 s, 2 trainings beside them
    python scripts/class_burst.py --sessions 8 --trainings 1 --train-seconds 3   # the suite's size (it runs inside
                                                                  # tests/test_load.py's class: load_test.py --burst 8)
    python scripts/class_burst.py --sessions 120 --within 0 --trainings 0        # views a second one process sustains

Starts ``streamlit run app.py`` on 127.0.0.1 through scripts/timed_server.py (which logs every script run's
request, start and end on the server's clock), opens /gates once as a lecturer would before the class (the
trace and the units found are computed then, and that session stays open), starts ``--trainings`` trainings of
``--preset`` at a lower priority (scripts/background_trainings.py), then sends ``--sessions`` sessions, spread
evenly over ``--within`` seconds, each asking for /gates on the pretrained model through Streamlit's own
websocket protocol (scripts/protocol_client.py: nothing is rendered, so the figures are the server's, not
thirty browsers'). The bar: every session's script run ends within ``--limit`` seconds of its request, at the
server; and every training's run is whole on disk afterwards. Everything ends by itself.

    report = run_burst(sessions=30, trainings=2)            # {"times": [...], "worst": s, "runs_whole": {...}, ...}
"""

from __future__ import annotations

import argparse
import asyncio
from concurrent.futures import ThreadPoolExecutor
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from scripts.app_server import start_app_server, stop_app_server  # noqa: E402
from scripts.background_trainings import start_trainings, stop_trainings  # noqa: E402
from scripts.protocol_client import ProtocolSession  # noqa: E402

PAGE, QUERY = "gates", "run=pretrained"
LIMIT_SECONDS = 3.0


async def one_session(url: str, delay: float, timeout: float) -> dict:
    await asyncio.sleep(delay)
    async with ProtocolSession(url, timeout) as session:
        seconds = await session.open(PAGE, QUERY)
        return {"client_seconds": seconds, "exceptions": session.exceptions}


async def burst(url: str, sessions: int, within: float, timeout: float) -> list[dict]:
    async with ProtocolSession(url, timeout) as lecturer:  # opened before the class; stays open through it
        await lecturer.open(PAGE, QUERY)
        started = time.time()
        results = await asyncio.gather(*(one_session(url, within * i / max(1, sessions - 1) if sessions > 1 else 0.0,
                                                     timeout) for i in range(sessions)), return_exceptions=True)
        return [{"error": f"{type(r).__name__}: {r}"} if isinstance(r, BaseException) else r for r in results], started


def burst_errors(results: list[dict]) -> list[str]:
    """What went wrong in a burst's sessions (:func:`burst`'s results): a session that failed, and every exception
    a page drew."""
    return [r["error"] for r in results if "error" in r] + [e for r in results for e in r.get("exceptions", [])]


def server_runs(log: Path, since: float) -> list[dict]:
    """The script runs of /gates the server logged since ``since`` (its clock), each with its seconds from request
    to end."""
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [{**row, "seconds": row["ended"] - row["requested"]} for row in rows
            if row["page"] == "/" + PAGE and row["requested"] >= since - 0.05]


def run_burst(sessions: int = 30, trainings: int = 2, within: float = 1.0, train_seconds: float = 30.0,
              preset: str = "default", timeout: float = 120.0, app_root: Path = REPO_ROOT) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        log = scratch / "runs.jsonl"
        server, url = start_app_server(scratch / "store", scratch / "server.log", timing_log=log, app_root=app_root)
        beside = None
        try:
            if trainings:
                beside = start_trainings(trainings, train_seconds, scratch / "trainings", preset, app_root)
            # in a thread of its own: a caller may already run an event loop in this one (Playwright's sync API)
            with ThreadPoolExecutor(1) as loop_thread:
                results, started = loop_thread.submit(asyncio.run, burst(url, sessions, within, timeout)).result()
            time.sleep(0.3)  # the log's last lines
            runs = server_runs(log, started)
        finally:
            problems = stop_trainings(beside) if beside else {}
            stop_app_server(server)
    times = sorted(r["seconds"] for r in runs)
    span = max((r["ended"] for r in runs), default=0.0) - min((r["requested"] for r in runs), default=0.0)
    errors = burst_errors(results)
    return {"sessions": sessions, "trainings": trainings, "within": within, "server_runs": len(runs),
            "times": times, "median": statistics.median(times) if times else None, "worst": max(times, default=None),
            "views_per_second": len(runs) / span if span > 0 else None,
            "client_worst": max((r.get("client_seconds", 0) for r in results), default=None),
            "errors": errors[:5], "runs_whole": problems, "training_runs": trainings,
            "cores": os.cpu_count(), "load_average": os.getloadavg()}


def verdict(report: dict, limit: float = LIMIT_SECONDS) -> list[str]:
    """What fails the bar (an empty list: it holds)."""
    failed = []
    if report["server_runs"] < report["sessions"]:
        failed.append(f"only {report['server_runs']} of {report['sessions']} sessions' script runs ended")
    if report["worst"] is not None and report["worst"] > limit:
        failed.append(f"the slowest script run ended {report['worst']:.2f} s after its request (bar: {limit:g} s)")
    if report["errors"]:
        failed.append(f"errors: {report['errors'][0]}")
    if report["runs_whole"]:
        failed.append(f"runs not whole on disk: {report['runs_whole']}")
    return failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--trainings", type=int, default=2)
    parser.add_argument("--within", type=float, default=1.0, help="seconds over which the sessions arrive")
    parser.add_argument("--train-seconds", type=float, default=30.0,
                        help="each training's budget: they end by themselves, then their runs are checked")
    parser.add_argument("--preset", default="default")
    parser.add_argument("--limit", type=float, default=LIMIT_SECONDS)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    report = run_burst(args.sessions, args.trainings, args.within, args.train_seconds, args.preset)
    times = report["times"]
    print(f"{report['sessions']} sessions opened /gates within {report['within']:g} s, {report['trainings']} trainings "
          f"beside them ({report['cores']} cores, load average {report['load_average'][0]:.1f}):")
    if times:
        print(f"  server, request to end of script run: median {report['median']:.2f} s, "
              f"90th percentile {times[int(0.9 * (len(times) - 1))]:.2f} s, worst {report['worst']:.2f} s "
              f"({report['server_runs']} runs)")
    if report["views_per_second"]:
        print(f"  throughput: {report['views_per_second']:.1f} views a second, from the first request to the last end")
    print(f"  runs on disk: {'all whole' if not report['runs_whole'] else report['runs_whole']}")
    failed = verdict(report, args.limit)
    print("  " + ("holds the bar" if not failed else "FAILS: " + "; ".join(failed)))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
