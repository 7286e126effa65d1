"""in_own_process: a call computed in a fresh child, its result or its exception handed back, and the
child never re-runs the caller's __main__ script (under Streamlit, the page)."""

import os
import sys

import pytest

from lstm_core.execution.own_process import in_own_process


def _child_pid_main_file_and_sum(a, b):
    return os.getpid(), getattr(sys.modules["__main__"], "__file__", None), a + b


def _fails(message):
    raise ValueError(message)


def test_the_result_comes_from_another_process_that_did_not_run_the_callers_main_script():
    pid, main_file, total = in_own_process(_child_pid_main_file_and_sum, 2, 3)
    assert total == 5 and pid != os.getpid()
    assert main_file.endswith(os.path.join("execution", "starter.py")), "forked from the starter, not the caller"


def test_an_exception_in_the_child_is_raised_here():
    with pytest.raises(ValueError, match="no such layer"):
        in_own_process(_fails, "no such layer")

