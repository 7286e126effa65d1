"""Trainings running beside a measurement, as a class's would: each its own process, one torch thread, at a
lower priority than the web server (``nice``, as the app's local workers run: LSTM_LAB_WORKER_NICE, 10).

They train from the command line (``python -m lstm_core train``) into a run store of their own, so the
server's store keeps one owner; afterwards :func:`runs_whole` says whether every run is whole on disk.

    trainings = start_trainings(2, seconds=60, store=Path("..."))   # returns once each is under way
    ...measure...
    problems = stop_trainings(trainings)    # waits for their budgets to end; {run folder: what is wrong}
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
import lstm_core  # noqa: E402
from lstm_core.runs import read_metrics, read_status  # noqa: E402

NICE = int(os.environ.get("LSTM_LAB_WORKER_NICE", "10"))


@dataclass
class Trainings:
    processes: list[subprocess.Popen]
    store: Path
    seconds: float


def start_trainings(count: int, seconds: float, store: Path, preset: str = "default", app_root: Path = REPO_ROOT,
                    wait: float = 120.0) -> Trainings:
    """``count`` trainings of ``preset`` for ``seconds`` each; returns once each has made its run's folder (it has
    loaded its data and is training)."""
    store.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "LSTM_LAB_TRAINING_THREADS": "1"}
    processes = [subprocess.Popen(
        ["nice", "-n", str(NICE), sys.executable, "-m", "lstm_core", "train", "--preset", preset, "--max-seconds",
         str(seconds), "--seed", str(index), "--name", f"beside {index}", "--out", str(store)],
        cwd=app_root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for index in range(count)]
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and count:
        begun = list(store.glob("*/config.json"))
        if len(begun) >= count or any(p.poll() is not None for p in processes):
            break
        time.sleep(0.5)
    return Trainings(processes, store, seconds)


def stop_trainings(trainings: Trainings, timeout: float | None = None) -> dict[str, str]:
    """Wait for the trainings' budgets to run out (``timeout``: at most this long, then they are stopped);
    returns {run folder: what is wrong} for every run that is not whole on disk (empty: all whole)."""
    deadline = time.monotonic() + (timeout if timeout is not None else trainings.seconds + 600)
    for process in trainings.processes:
        try:
            process.wait(max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.terminate()
            process.wait(30)
    return runs_whole(trainings.store)


def runs_whole(store: Path) -> dict[str, str]:
    """{run folder: what is wrong} for the runs under ``store`` that are not whole: ended, every step's metrics
    row there, the weights loadable."""
    problems = {}
    for run in sorted(p for p in store.iterdir() if (p / "config.json").is_file()):
        status = read_status(run)
        if status not in ("finished", "stopped", "paused"):
            problems[run.name] = f"status {status}"
            continue
        metrics = read_metrics(run)
        if list(metrics["step"]) != list(range(1, len(metrics) + 1)):
            problems[run.name] = "metrics rows missing"
            continue
        try:
            lstm_core.load_run(run)
        except lstm_core.RunError as err:
            problems[run.name] = str(err)
    return problems
