"""Accuracies the task presets reached when the project's own code measured them, kept as data.

A preset's text never promises a number. What the app quotes is read from
``data/measured/task_presets.json``, written by ``python scripts/measure_presets.py`` (which trains each
preset with the app's training loop and records the accuracy, the baseline on the same split, the steps,
epochs and seconds it took, and the machine it ran on). A preset not measured there is quoted with no number.
"""

from __future__ import annotations

import json
from pathlib import Path

MEASURED_FILE = Path(__file__).resolve().parent.parent.parent / "data" / "measured" / "task_presets.json"


def measured_presets(path: Path = MEASURED_FILE) -> dict[str, dict]:
    """Every measured preset, keyed ``task/preset`` (``tagger/class``); {} when nothing was measured."""
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def measured_accuracy(task: str, preset: str, path: Path = MEASURED_FILE) -> float | None:
    """The mean accuracy ``task/preset`` reached over its measured seeds, or None when it was not measured."""
    result = measured_presets(path).get(f"{task}/{preset}")
    if not result:
        return None
    return sum(r["accuracy"] for r in result["runs"]) / len(result["runs"])


def measured_line(task: str, preset: str, baseline_name: str, path: Path = MEASURED_FILE) -> str:
    """One sentence quoting what ``task/preset`` reached when measured (mean over its seeds), with the
    command that measured it; empty when it was not measured."""
    result = measured_presets(path).get(f"{task}/{preset}")
    if not result:
        return ""
    runs = result["runs"]
    accuracies = [r["accuracy"] for r in runs]
    mean = measured_accuracy(task, preset, path)
    spread = f" (seeds {', '.join(str(r['seed']) for r in runs)}: {min(accuracies):.1%} to {max(accuracies):.1%})" \
        if len(runs) > 1 else f" (seed {runs[0]['seed']})"
    steps = sum(r["steps"] for r in runs) / len(runs)
    epochs = sum(r["epochs"] for r in runs) / len(runs)
    seconds = sum(r["seconds"] for r in runs) / len(runs)
    return (f"Measured: {mean:.1%}{spread} against the {baseline_name} {result['baseline_accuracy']:.1%} on the "
            f"same split, after {steps:,.0f} steps ({epochs:.1f} epochs, {seconds:.0f} s of training) on "
            f"{result['machine']}, by `{result['command']}`.")
