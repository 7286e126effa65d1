"""What the measuring scripts read about processes from /proc: CPU time, memory, and the processes a server
started (its training workers are forked by its process starter, so they are its grandchildren)."""

from __future__ import annotations

import os
from pathlib import Path

from lstm_core.execution.starter import PROCESS_NAMES


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int, field: str = "Rss") -> float:
    """A process's resident memory (``Rss``), or its proportional share of it (``Pss``: pages it shares with
    other processes count once among them all), in MB; 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def descendants(pid: int) -> list[int]:
    """Every process started by ``pid``, by its children, and so on."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents.setdefault(parent, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def training_workers(server_pid: int) -> list[int]:
    """The server's training workers (local executor), by the name its starter gives them."""
    workers = []
    for pid in descendants(server_pid):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == PROCESS_NAMES["worker"]:
                workers.append(pid)
        except OSError:
            continue
    return workers
