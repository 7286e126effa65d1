"""The memory task's table: recall accuracy of each architecture against the delay, with equal parameter counts.

    python scripts/memory_table.py                      # delays 20, 50, 100, then doubled until each breaks
    python scripts/memory_table.py --jobs 2             # two trainings at once, one torch thread each
    python scripts/memory_table.py --max-seconds 3 --delays 20 --max-delay 20    # a quick try

Each model trains on :mod:`lstm_core.training.memory` (one of 8 capitals, ``delay`` distractors, a cue; only the
answer is scored, chance is 12.5 %) for ``--max-seconds`` of training time (evaluations are not counted),
with about ``--budget`` parameters (20,000: the hidden size follows from it, as on /compare):

    LSTM, the app's setting    forget-gate bias 5 (what /compare starts the memory task with)
    LSTM, forget-gate bias 1   the usual text-model setting
    GRU                        update-gate bias 5 (the app's setting)
    plain RNN                  tanh (Elman)

Printed: a markdown table model x delay -> recall accuracy on 1,000 held-out sequences (and the training
seconds it took to first reach 95 %), the delay up to which each recalls and from which it breaks, and the
ratio of the trained LSTM's gradient norm ||dL/dh_(t-50)|| to the trained RNN's at the answer (lag 50,
:func:`lstm_core.gradients.gradient_flow`, on the models trained at delay 50), beside the same ratio
before training. A model that still recalls at the largest delay is tried at twice it (up to
``--max-delay``), to find where it breaks.

``--jobs N`` trains N models at once, each in a process of its own with one torch thread (forked by
:mod:`lstm_core.execution.starter`, which has imported PyTorch once for all of them). Seconds are
training seconds, so they stay comparable only while every job has a core of its own: keep N at or below
the machine's free cores.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from lstm_core.execution.own_process import in_own_process  # noqa: E402

RECALLS = 0.95  # recall at or above this: the task is solved (the target)
BREAKS = 0.5  # recall below this: the model has broken down (the bar for a plain RNN)


@dataclass(frozen=True)
class Model:
    label: str
    architecture: str
    forget_bias: float | None = None
    update_bias: float | None = None


def models() -> list[Model]:
    from lstm_core.compare import TASK_DEFAULTS

    app = TASK_DEFAULTS["memory"]
    return [Model(f"LSTM, forget bias {app['forget_bias']:g} (the app's setting)", "lstm", forget_bias=app["forget_bias"]),
            Model("LSTM, forget bias 1", "lstm", forget_bias=1.0),
            Model(f"GRU, update bias {app['update_bias']:g}", "gru", update_bias=app["update_bias"]),
            Model("plain RNN", "rnn")]


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


def train_one(model: Model, delay: int, max_seconds: float, budget: int, seed: int, lag: int) -> dict:
    """Train one model at one delay (in a worker process); its accuracy, seconds, and gradient norms
    ||dL/dh_(t-k)|| at the answer for k = 0..delay + 1, before and after training."""
    import torch

    from lstm_core.compare import CompareSetup
    from lstm_core.gradients import gradient_flow
    from lstm_core.training.memory import VOCAB, MemoryConfig, MemoryTraining

    torch.set_num_threads(1)
    config = MemoryConfig(delay=delay, architecture=model.architecture, forget_bias=model.forget_bias,
                          update_bias=model.update_bias, param_budget=budget, max_seconds=max_seconds, seed=seed)
    training = MemoryTraining(config)
    text, positions, max_lag = CompareSetup(task="memory", delay=delay, seed=seed).flow_probe(lag)
    before = gradient_flow(training.model, VOCAB, text, max_lag=max_lag, positions=positions).hidden[0]
    started = time.perf_counter()
    training.run()
    wall = time.perf_counter() - started
    after = gradient_flow(training.model, VOCAB, text, max_lag=max_lag, positions=positions).hidden[0]
    solved = [row["seconds"] for row in training.rows if row.get("valid_accuracy", 0.0) >= RECALLS]
    return {"model": model.label, "delay": delay, "accuracy": training.final_accuracy,
            "seconds": training.train_seconds, "wall_seconds": wall, "steps": training.step_count,
            "solved_at": solved[0] if solved else None, "hidden": training.model.config.hidden_size,
            "parameters": sum(p.numel() for p in training.model.parameters()),
            "flow_before": before.tolist(), "flow_after": after.tolist()}


def importable(name: str):
    """This file's ``name`` as a process forked by lstm_core's starter finds it: through the ``scripts`` package (run
    as a script, this file is ``__main__``, and that process's ``__main__`` is the starter)."""
    return getattr(importlib.import_module(f"scripts.{Path(__file__).stem}"), name)


def in_its_own_process(model: Model, delay: int, *call) -> dict:
    """``train_one`` in a process of its own, with one torch thread."""
    travelling = importable("Model")(**asdict(model))
    return in_own_process(importable("train_one"), travelling, delay, *call, threads=1)


def run_all(jobs: list[tuple[Model, int]], args, pool) -> list[dict]:
    """Train ``jobs`` (model, delay) in the pool (or here, with one job at a time), printing each as it ends."""
    call = (args.max_seconds, args.budget, args.seed, args.lag)
    if pool is None:
        futures = [None] * len(jobs)
    else:
        futures = [pool.submit(in_its_own_process, model, delay, *call) for model, delay in jobs]
    results = []
    for (model, delay), future in zip(jobs, futures):
        result = train_one(model, delay, *call) if future is None else future.result()
        solved = f", 95% at {result['solved_at']:.1f} s" if result["solved_at"] is not None else ""
        print(f"  {model.label}, delay {delay}: recall {result['accuracy']:.3f} after {result['seconds']:.1f} s "
              f"({result['steps']:,} steps{solved})", file=sys.stderr, flush=True)
        results.append(result)
    return results


def table(results: list[dict], order: list[Model]) -> str:
    """Model x delay -> accuracy (seconds to 95 %), as markdown."""
    delays = sorted({r["delay"] for r in results})
    found = {(r["model"], r["delay"]): r for r in results}
    lines = ["| model | parameters | " + " | ".join(f"delay {d}" for d in delays)
             + " | recalls (≥ 95%) up to | breaks (< 50%) at |",
             "| --- | --- | " + " | ".join("---" for _ in delays) + " | --- | --- |"]
    for model in order:
        mine = [found[(model.label, d)] for d in delays if (model.label, d) in found]
        if not mine:
            continue
        cells = []
        for d in delays:
            r = found.get((model.label, d))
            if r is None:
                cells.append("")
            else:
                solved = f"{r['solved_at']:.0f} s" if r["solved_at"] is not None else "never"
                cells.append(f"{r['accuracy']:.3f} ({solved})")
        holds = [r["delay"] for r in mine if r["accuracy"] >= RECALLS]
        broken = [r["delay"] for r in mine if r["accuracy"] < BREAKS]
        holds_text = str(max(holds)) if holds else "none tried"
        broken_text = str(min(broken)) if broken else f"not by {mine[-1]['delay']}"
        lines.append(f"| {model.label} (hidden {mine[0]['hidden']}) | {mine[0]['parameters']:,} | " + " | ".join(cells)
                     + f" | {holds_text} | {broken_text} |")
    return "\n".join(lines)


def gradient_ratio(results: list[dict], lag: int, lstm: str, rnn: str) -> str:
    """The trained LSTM's ||dL/dh_(t-lag)|| over the trained RNN's, on the models of the smallest delay
    that reaches back ``lag`` steps, and the same before training."""
    delays = sorted(r["delay"] for r in results if r["model"] == lstm and r["delay"] + 1 >= lag
                    and any(o["model"] == rnn and o["delay"] == r["delay"] for o in results))
    if not delays:
        return (f"Gradient ratio at lag {lag}: not measured (it needs an LSTM and an RNN trained at a delay of "
                f"at least {lag - 1}).")
    delay = delays[0]
    pair = {r["model"]: r for r in results if r["delay"] == delay and r["model"] in (lstm, rnn)}

    def ratio(key: str) -> float:
        return pair[lstm][key][lag] / pair[rnn][key][lag]

    return (f"Gradient ratio at lag {lag}, ||dL/dh_(t-{lag})|| of the LSTM over the RNN's at the answer (models "
            f"trained at delay {delay}): {ratio('flow_after'):.3g} after training "
            f"(LSTM {pair[lstm]['flow_after'][lag]:.3g}, RNN {pair[rnn]['flow_after'][lag]:.3g}); "
            f"{ratio('flow_before'):.3g} before training.")


def parse(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--delays", type=int, nargs="+", default=[20, 50, 100], help="delays every model trains at")
    parser.add_argument("--max-delay", type=int, default=400,
                        help="a model that still recalls at least 50%% at its largest delay is tried at twice it, "
                             "up to this (default 400; set it to the largest of --delays to skip the search)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="training seconds per model (default 60)")
    parser.add_argument("--jobs", type=int, default=1, help="trainings at once, each a process with one torch thread")
    parser.add_argument("--budget", type=int, default=20_000, help="parameters per model (default 20,000)")
    parser.add_argument("--lag", type=int, default=50, help="the lag of the gradient ratio (default 50)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if not args.max_seconds > 0:
        parser.error("--max-seconds must be positive")
    if min(args.delays) < 1 or args.max_delay < 1:
        parser.error("delays must be at least 1")
    if args.lag < 1:
        parser.error("--lag must be at least 1")
    return args


def main(argv=None) -> int:
    args = parse(argv)
    order = models()
    cores = os.cpu_count() or 1
    if args.jobs > cores:
        print(f"warning: {args.jobs} jobs on {cores} cores: trainings share cores, so each does less in its "
              f"{args.max_seconds:g} s", file=sys.stderr)
    pool = None
    if args.jobs > 1:  # each job's thread waits on a process of its own
        pool = ThreadPoolExecutor(args.jobs, thread_name_prefix="memory-table-job")
    else:
        _one_thread()
    started = time.perf_counter()
    try:
        print(f"Training {len(order)} models x {len(args.delays)} delays, {args.max_seconds:g} s each, "
              f"{args.jobs} at a time...", file=sys.stderr, flush=True)
        results = run_all([(m, d) for m in order for d in sorted(set(args.delays))], args, pool)
        while True:  # double the delay of every model that has not broken yet, until it breaks
            further = []
            for model in order:
                mine = sorted((r for r in results if r["model"] == model.label), key=lambda r: r["delay"])
                largest = mine[-1]
                if largest["accuracy"] >= BREAKS and largest["delay"] * 2 <= args.max_delay:
                    further.append((model, largest["delay"] * 2))
            if not further:
                break
            print(f"Still recalling: trying {', '.join(f'{m.label} at {d}' for m, d in further)}...",
                  file=sys.stderr, flush=True)
            results += run_all(further, args, pool)
    finally:
        if pool is not None:
            pool.shutdown()
    print(f"Memory task: recall of 1 of 8 capitals after `delay` distractors (chance 12.5%), "
          f"{args.max_seconds:g} training seconds per model, about {args.budget:,} parameters each, seed {args.seed}, "
          f"{args.jobs} job(s) at a time on {cores} cores. In brackets: the training seconds at which recall on the "
          f"held-out sequences first reached 95%.\n")
    print(table(results, order))
    print()
    print(gradient_ratio(results, args.lag, order[0].label, order[-1].label))
    print(f"\n(all trainings: {time.perf_counter() - started:.0f} s of wall time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
