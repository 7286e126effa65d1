"""A small class against one server (scripts/load_test.py): 3 browser sessions, 2 of them training, the third
arriving while they train together with a class's burst (scripts/class_burst.py): 8 sessions that render nothing
open /gates on the pretrained model within a second (sessions that browse at once, and trainings that run at once,
the least that shows both). Every page is computed and drawn, every burst session's script run ends without an
error and the server logs each, every run ends whole on disk, and the report has every figure. (Its times are
reported, not asserted: they depend on the machine; the burst's bar, 3 s at the server, is that script's at full
size.) The smallest such class: warm-up visits to the two pages the sessions open only (by a session that renders
nothing), the seed's small model (its evaluations are short), two seconds of training per run, and no training
alone (its throughput is the reference for a full-size report only); the scripts' defaults measure a class at full
size."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
WARM = "/gates?run=pretrained,/generate?run=pretrained"  # the pages the sessions open (cold, they took 30 s more)
BURST = 8


@pytest.mark.slow
@pytest.mark.browser
def test_a_small_class_and_its_burst_get_every_page_and_every_run(tmp_path):
    report_file = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "scripts/load_test.py", "--sessions", "3", "--trainings", "2",
                           "--warm", WARM, "--preset", "seed", "--train-seconds", "2", "--no-alone",
                           "--burst", str(BURST), "--after", "1", "--settle", "1", "--timeout", "420",
                           "--json", str(report_file)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(report_file.read_text())
    assert report["incomplete"] == {} and report["runs"] == 2  # the two trainings at once
    assert sorted(report["server"]) == ["/gates", "/generate"]
    assert len(report["server"]["/generate"]) == 1, "the browsing session's"
    # the browsing session's, one per session of the burst, and the burst's lecturer (opened just before it)
    assert len(report["server"]["/gates"]) == 1 + BURST + 1
    assert report["burst"] == {"sessions": BURST, "errors": []}
    assert len(report["browser"]["/gates"]) == 1 and len(report["browser"]["/train"]) == 2
    assert len(report["throughputs"]) == 2 and all(speed > 0 for speed in report["throughputs"])
    assert report["alone"] is None
    assert report["memory_start"][0] > 0 and report["memory_after"][0][1] > 0
    assert "server: request->end" in done.stdout and "runs on disk: 2 (all complete)" in done.stdout
    assert f"burst: {BURST} protocol sessions opened /gates within 1 s (no errors)" in done.stdout
