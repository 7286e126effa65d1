"""Measure the task presets and store what they reach in data/measured/task_presets.json (what the app quotes).

    python scripts/measure_presets.py tagger/class sentiment/class            # seed 0
    python scripts/measure_presets.py sentiment/strong --seeds 0 1 2 --threads 1 --keep runs/measured

Each preset trains with the app's own training loop (lstm_core.training.tasks), exactly as the page or
``python -m lstm_core train-tagger/train-classifier`` trains it, in a throwaway run store; the held-out
accuracy, the task's baseline on the same split, the steps, epochs and training seconds of each seed are
written with the machine (CPU cores, torch threads, load average) and this command. A preset with a time
budget reaches fewer steps on a slower or busier machine: read its steps, not only its accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core.runs import RunStore  # noqa: E402
from lstm_core.tasks.measured import MEASURED_FILE, measured_presets  # noqa: E402
from lstm_core.training.tasks import (ClassifierTraining, TaggerTraining, classifier_preset,  # noqa: E402
                                      tagger_preset)

TASKS = {"tagger": (TaggerTraining, tagger_preset), "sentiment": (ClassifierTraining, classifier_preset)}


def measure(task: str, preset: str, seed: int, store: RunStore) -> dict:
    training_class, make_config = TASKS[task]
    training = training_class(make_config(preset, seed=seed), store=store, name=f"{task} ({preset}) measured")
    training.run()
    evaluation = training.evaluation
    return {"seed": seed, "accuracy": evaluation["accuracy"], "steps": training.step_count,
            "epochs": round(training.step_count / training.steps_per_epoch, 2),
            "seconds": round(training.train_seconds, 1), "baseline_accuracy": training.baseline_accuracy}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("presets", nargs="+", help="task/preset: tagger/class, sentiment/strong, ...")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's; on a shared machine, 1)")
    parser.add_argument("--keep", help="a run store folder to keep the trained runs in (default: thrown away)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    results = measured_presets()
    for key in args.presets:
        task, preset = key.split("/")
        with tempfile.TemporaryDirectory() as folder:
            runs = [measure(task, preset, seed, RunStore(args.keep or folder)) for seed in args.seeds]
        load, threads = os.getloadavg()[0], torch.get_num_threads()
        results[key] = {
            "runs": [{k: v for k, v in r.items() if k != "baseline_accuracy"} for r in runs],
            "baseline_accuracy": runs[0]["baseline_accuracy"],
            "machine": f"{os.cpu_count()} CPU cores, {threads} torch thread{'' if threads == 1 else 's'}, "
                       f"load {load:.1f}",
            "date": date.today().isoformat(),
            "command": f"python scripts/measure_presets.py {key} --seeds {' '.join(map(str, args.seeds))}"
                       + (f" --threads {args.threads}" if args.threads else "")}
        print(key, json.dumps(results[key]), flush=True)
        MEASURED_FILE.parent.mkdir(parents=True, exist_ok=True)
        MEASURED_FILE.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
