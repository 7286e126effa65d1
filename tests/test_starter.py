"""The process starter: the processes it forks run their role in the caller's environment, report their exit
status as subprocess does, and a starter that died is replaced; the starter leaves when its web process goes."""

from __future__ import annotations

import os
import random
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from lstm_core.execution import starter
from lstm_core.execution.own_process import ChildProcessFailed, in_own_process


def _whoami():
    return os.getpid(), os.getppid(), Path("/proc/self/comm").read_text().strip(), random.random()


def _environment_variable(name):
    return os.environ.get(name)


def test_a_call_runs_in_a_forked_process_named_for_its_role_with_a_fresh_random_generator():
    first, second = in_own_process(_whoami), in_own_process(_whoami)
    assert first[0] != os.getpid() and first[0] != second[0]
    assert first[1] == second[1] == starter._starter.process.pid, "both forked by this process's starter"
    assert first[2] == starter.PROCESS_NAMES["call"]
    assert first[3] != second[3], "each child seeds Python's generator afresh"


def test_the_callers_environment_at_the_time_of_the_call_reaches_the_child(monkeypatch):
    in_own_process(os.getpid)  # the starter runs already
    monkeypatch.setenv("LSTM_LAB_STARTER_PROBE", "set after the starter started")
    assert in_own_process(_environment_variable, "LSTM_LAB_STARTER_PROBE") == "set after the starter started"


def test_an_exit_status_comes_back_as_subprocess_gives_it():
    with pytest.raises(ChildProcessFailed, match=r"status 3\)"):
        in_own_process(sys.exit, 3)
    ours, theirs = socket.socketpair()
    try:  # a worker waiting for a training on its socket: killed, it reports the signal
        process = starter.start_process("worker", (1, 0), [theirs.fileno()], dict(os.environ))
    finally:
        theirs.close()
    assert process.poll() is None
    process.kill()
    assert process.wait(10) == -signal.SIGKILL
    ours.close()


def test_a_dead_starter_is_replaced_and_a_starter_leaves_with_its_web_process():
    in_own_process(os.getpid)
    dead = starter._starter
    dead.process.kill()
    dead.process.wait()
    assert in_own_process(os.getpid) != os.getpid(), "a new starter forked it"
    assert starter._starter is not dead

    starter._starter.socket.shutdown(socket.SHUT_RDWR)  # as if the web process had gone
    deadline = time.monotonic() + 10
    while starter._starter.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert starter._starter.process.poll() == 0, "the starter exits when its web process's socket closes"
