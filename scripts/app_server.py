"""Start ``streamlit run app.py`` on a free loopback port, for the browser tests and the measuring scripts.

    server, url = start_app_server(store_root, log_path)   # waits until the server answers
    server, url = start_app_server(store_root, log_path, script="scripts/latency_floor_app.py")  # another app
    ...
    stop_app_server(server)

``timing_log`` runs it through scripts/timed_server.py, which logs every script run's times;
``env`` adds environment variables (``LSTM_LAB_SHARED``, ``LSTM_LAB_EXECUTOR``...).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_app_server(store_root: Path, log_path: Path | None = None, timeout: float = 60.0,
                     timing_log: Path | None = None, env: dict | None = None, script: str = "app.py",
                     app_root: Path = REPO_ROOT):
    """(process, base url) of a server of ``script`` (relative to ``app_root``, this repository or another
    checkout of it) whose run store is ``store_root``; RuntimeError if it never answers."""
    port = free_port()
    env = {**os.environ, "LSTM_LAB_RUNS": str(store_root), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
           **(env or {})}
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    launcher = ["-m", "streamlit"] if timing_log is None else [str(REPO_ROOT / "scripts" / "timed_server.py"),
                                                                 str(timing_log)]
    server = subprocess.Popen(
        [sys.executable, *launcher, "run", script, "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none"],
        cwd=app_root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            return server, url
        except OSError:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError(f"the app server did not start within {timeout:.0f} s (log: {log_path})")


def stop_app_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(10)
    except subprocess.TimeoutExpired:
        server.kill()
