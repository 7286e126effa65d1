"""What a warm page view costs the server: CPU seconds of the web process per view, page by page.

A class opens the same pages on the same run: after the first visitor, every view should come from
the server-wide caches. This opens each page ``--views`` times, each time as a new session (a new
student: Streamlit's websocket protocol, scripts/protocol_client.py, nothing rendered), while one
idle session stays connected as on a server in use, and reads the server process's CPU time
(user + system, /proc/PID/stat) around them; the server's idle CPU over the same wait is taken off.
CPU time is what a busy machine changes least, so the figure holds on a shared machine too. The
minimal Streamlit page (scripts/latency_floor_app.py) is measured the same way, for scale.

    python scripts/view_cost.py [--views 20] [--pages gates,generate] [--app-root CHECKOUT] [--json FILE]
    measure(pages, views) -> {"/gates": 0.031, ...}     what ``python -m lstm_core bench`` calls

Targets (issue "Thirty students on one server"): at most 0.05 CPU-s per warm /gates and /generate view.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from scripts.app_server import start_app_server, stop_app_server  # noqa: E402
from scripts.protocol_client import ProtocolSession, open_once  # noqa: E402
from scripts.processes import cpu_seconds  # noqa: E402

TARGET_CPU_SECONDS = 0.05
PAGES = {"/gates": ("gates", "run=pretrained"),
         "/gates heatmaps": ("gates", "run=pretrained&section=heatmaps"),
         "/gates unit": ("gates", "run=pretrained&section=unit"),
         "/gates inspect": ("gates", "run=pretrained&section=inspect"),
         "/generate": ("generate", "run=pretrained"),
         "/": ("", ""), "/lesson": ("lesson", ""), "/train": ("train", ""), "/cell": ("cell", ""),
         "/explorer": ("explorer", ""), "/runs": ("runs", ""), "/compare": ("compare", "")}
DEFAULT_PAGES = ("/gates", "/gates inspect", "/gates heatmaps", "/gates unit", "/generate")


async def views_cost(url: str, pid: int, page: str, query: str, views: int, warmup: int = 2) -> dict:
    """CPU seconds per view of ``views`` fresh sessions opening ``page``, after ``warmup`` that fill the caches."""
    for _ in range(warmup):
        await open_once(url, page, query)
    await asyncio.sleep(0.5)
    idle0 = cpu_seconds(pid)
    await asyncio.sleep(1.0)
    idle = cpu_seconds(pid) - idle0
    started, walls, errors = cpu_seconds(pid), [], []
    for _ in range(views):
        seconds, exceptions = await open_once(url, page, query)
        walls.append(seconds)
        errors += exceptions
    await asyncio.sleep(1.0)  # the last session's close, then the same idle wait as above
    spent = cpu_seconds(pid) - started - idle
    walls.sort()
    return {"cpu_per_view": max(spent, 0.0) / views, "median_wall": walls[len(walls) // 2], "errors": errors[:3]}


async def measure_server(url: str, pid: int, pages: dict[str, tuple[str, str]], views: int) -> dict:
    async with ProtocolSession(url) as anchor:  # a server in use: with no session left, Streamlit drops its
        await anchor.open("", "")               # compiled scripts, which a class never sees
        return {name: await views_cost(url, pid, page, query, views) for name, (page, query) in pages.items()}


def measure(pages: tuple[str, ...] = DEFAULT_PAGES, views: int = 20, app_root: Path = REPO_ROOT,
            floor: bool = True) -> dict:
    """{page: {"cpu_per_view", "median_wall", "errors"}} for the app in ``app_root`` (and the floor page)."""
    results = {}
    with tempfile.TemporaryDirectory() as store:
        server, url = start_app_server(Path(store), Path(store) / "server.log", app_root=app_root)
        try:
            results.update(asyncio.run(measure_server(url, server.pid, {p: PAGES[p] for p in pages}, views)))
        finally:
            stop_app_server(server)
        if floor:
            server, url = start_app_server(Path(store), script="scripts/latency_floor_app.py")
            try:
                results["minimal page"] = asyncio.run(measure_server(url, server.pid, {"floor": ("", "")},
                                                                     views))["floor"]
            finally:
                stop_app_server(server)
    return results


def format_table(results: dict, before: dict | None = None) -> str:
    lines = [f"{'page':<18}" + (f"{'before CPU-s':>14}" if before else "") + f"{'CPU-s/view':>12}{'wall (s)':>10}  verdict"]
    for name, r in results.items():
        cost = r["cpu_per_view"]
        judged = name.split(" ")[0] in ("/gates", "/generate")
        verdict = ("ok" if cost <= TARGET_CPU_SECONDS else "OVER") if judged else ""
        if r["errors"]:
            verdict += f" errors: {r['errors'][0][:60]}"
        was = f"{before[name]['cpu_per_view']:>14.3f}" if before and name in before else (" " * 14 if before else "")
        lines.append(f"{name:<18}{was}{cost:>12.3f}{r['median_wall']:>10.3f}  {verdict}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=20, help="warm views per page")
    parser.add_argument("--pages", default=",".join(DEFAULT_PAGES),
                        help=f"comma-separated, of: {', '.join(PAGES)}; 'all' for every one")
    parser.add_argument("--app-root", type=Path, default=REPO_ROOT, help="measure another checkout of the app")
    parser.add_argument("--before", type=Path, help="also measure this checkout (an earlier commit), in the same run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    pages = tuple(PAGES) if args.pages == "all" else tuple(p.strip() for p in args.pages.split(","))
    unknown = [p for p in pages if p not in PAGES]
    if unknown:
        parser.error(f"unknown page {unknown[0]!r}: choose among {', '.join(PAGES)}")
    started = time.time()
    before = measure(pages, args.views, args.before, floor=False) if args.before else None
    results = measure(pages, args.views, args.app_root)
    print(f"Server CPU per warm view ({args.views} fresh sessions a page, protocol clients on 127.0.0.1, "
          f"{os.cpu_count()} cores, {time.time() - started:.0f} s):")
    print(format_table(results, before))
    if args.json:
        args.json.write_text(json.dumps({"after": results, "before": before}, indent=1))
    return 0  # the verdict is printed: a slow machine is no failure of the script


if __name__ == "__main__":
    sys.exit(main())
