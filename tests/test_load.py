"""A small class against one server (scripts/load_test.py): 4 browser sessions, 2 of them training,
the other 2 arriving at once while they train (sessions that browse at once, and trainings that run at
once, the least that shows both). Every page is computed and drawn, every run ends whole on disk, and
the report has every figure. (Its times are reported, not asserted: they depend
on the machine.) The smallest such class: warm-up visits to the two pages the sessions open only, the seed's
small model (its evaluations are short), two seconds of training per run; the script's defaults measure a class
at full size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WARM = "/gates?run=pretrained,/generate?run=pretrained"  # the pages the sessions open (cold, they took 30 s more)


@pytest.mark.slow
@pytest.mark.browser
def test_a_small_class_gets_every_page_and_every_run(tmp_path):
    report_file = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "scripts/load_test.py", "--sessions", "4", "--trainings", "2",
                           "--warm", WARM, "--preset", "seed", "--train-seconds", "2", "--after", "1", "--settle", "1",
                           "--timeout", "420",
                           "--json", str(report_file)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert report["incomplete"] == {} and report["runs"] == 3  # the training alone, and the two at once
    assert sorted(report["server"]) == ["/gates", "/generate"]
    assert all(len(report["server"][page]) == 2 for page in ("/gates", "/generate")), "one per browsing session"
    assert len(report["browser"]["/gates"]) == 2 and len(report["browser"]["/train"]) == 2
    assert len(report["throughputs"]) == 2 and report["alone"] > 0
    assert report["memory_start"][0] > 0 and report["memory_after"][0][1] > 0
    assert "server: request->end" in done.stdout and "runs on disk: 3 (all complete)" in done.stdout
