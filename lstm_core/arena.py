"""A fair arena on text: each architecture's settings found by a sweep, then all of them trained side by side.

Karpathy et al. (2015), Jozefowicz et al. (2015) and Greff et al. (2017) found the GRU about as good as the LSTM
once each is tuned, and a plain RNN behind; trained at one shared learning rate, a comparison can say otherwise.
So each architecture gets its own:

    points = sweep("gru", param_budget=200_000, max_steps=600)     # one SweepPoint per (lr, clip) tried
    best = choose(points)                                          # the lowest validation loss that trained
    record_sweep("gru", "standard", points, best, command, machine)  # data/measured/arch_settings.json

and :func:`~lstm_core.training.char.preset_config` trains it at those settings from then on. The sweep scores on
the first ``eval_chars`` characters of the validation split (the corpus has no test split; nothing is chosen on
the text the table reports alone). :func:`arena_rows` trains every architecture with its shipped settings for
the same time and for the same steps and reports the whole validation split's loss; ``scripts/arena_table.py``
prints it beside the order-6 n-gram and keeps it in ``data/measured/arena_table.json``, which /compare shows.
Every figure carries the machine's speed: the seed notebook's loop's characters per second, measured in the
same process (:func:`seed_loop_speed`), since these machines differ by 1.6x and are often shared.
"""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import torch

from .architectures import architecture
from .corpus import Corpus, load_corpus
from .limits import CHAR_LIMITS
from .ngram import DEFAULT_ORDER, corpus_baseline
from .runs import write_json
from .seed_loop import seed_loop
from .training.char import CharTraining, evaluate_loss, preset_config, steps_per_epoch
from .training.loop import TrainingDiverged
from .training import tuned
from .training.tuned import SETTINGS_FILE, SWEPT_PRESET, arch_key, read_settings

TABLE_FILE = SETTINGS_FILE.parent / "arena_table.json"
DECISIVE_FILE = SETTINGS_FILE.parent / "arena_decisive.json"
SWEEP_LRS = (1e-3, 2e-3, 5e-3, 1e-2, 2e-2)  # a factor of 2 to 2.5 apart, around the default preset's 2e-2
SWEEP_CLIPS = (0.25, 5.0)  # tried at the best learning rate, beside the preset's 1.0
MAIN = (("lstm", "standard"), ("gru", "standard"), ("rnn", "standard"))
ABLATED = (("lstm", "no_forget_gate"), ("lstm", "coupled_gates"), ("lstm", "no_output_gate"))
SIZES = (50_000, 200_000)
QUIET = dict(eval_every_seconds=1e9, preview_every_seconds=1e9, snapshot_every_seconds=None)  # no mid-run work


@dataclass
class SweepPoint:
    """One training of the sweep: its settings, what it reached on the validation slice, and its cost."""

    lr: float
    grad_clip: float | None
    valid_loss: float | None  # None: it diverged
    train_loss: float | None
    steps: int
    seconds: float
    parameters: int


def budget_config(arch: str, variant: str, param_budget: int, corpus: str = "full", max_seconds: float | None = None,
                  max_steps: int | None = None, tuned: bool = True, **settings):
    """The default preset's settings for one architecture and size, with a budget of seconds or steps (or both:
    whichever ends first) and no evaluations, previews or snapshots on the way."""
    if max_seconds is None and max_steps is None:
        raise ValueError("give the sweep a budget: --max-seconds, --max-steps or both")
    shape = preset_config(SWEPT_PRESET, tuned=False)
    epoch = steps_per_epoch(len(load_corpus(corpus).train_text), shape.batch_size, shape.seq_len)
    fewest = math.ceil(CHAR_LIMITS["epochs"][0] * epoch)
    if max_steps is not None and max_steps < fewest:
        raise ValueError(f"a step budget must be at least {fewest} steps on this corpus, got {max_steps}")
    return preset_config(SWEPT_PRESET, tuned=tuned, corpus=corpus, architecture=arch, variant=variant,
                         param_budget=param_budget, max_seconds=max_seconds,
                         epochs=None if max_steps is None else max_steps / epoch, **QUIET, **settings)


def train_quietly(config, corpus: Corpus) -> tuple[CharTraining, bool]:
    """Train ``config`` to its budget with the one training loop's steps, off any run store; (training,
    diverged)."""
    training = CharTraining(config, corpus=corpus)
    torch.set_flush_denormal(True)  # as Training.run: vanishing gradients never crawl through denormals
    try:
        while not training.finished():
            training.step()
    except TrainingDiverged:
        return training, True
    return training, False


def sweep_point(arch: str, variant: str, param_budget: int, lr: float, grad_clip: float | None, corpus: Corpus,
                corpus_name: str = "full", max_seconds: float | None = None, max_steps: int | None = None,
                seed: int = 0) -> SweepPoint:
    """Train one (lr, clip) and score it on the validation slice every evaluation reads (``eval_chars``)."""
    config = budget_config(arch, variant, param_budget, corpus_name, max_seconds, max_steps, tuned=False, lr=lr,
                           grad_clip=grad_clip, seed=seed)
    training, diverged = train_quietly(config, corpus)
    loss = None if diverged else evaluate_loss(training.model, training.valid_ids[:config.eval_chars])
    if loss is not None and not math.isfinite(loss):
        loss = None
    recent = [row["train_loss"] for row in training.rows[-50:]]
    return SweepPoint(lr, grad_clip, loss, sum(recent) / len(recent) if recent and not diverged else None,
                      training.step_count, round(training.train_seconds, 2),
                      sum(p.numel() for p in training.model.parameters()))


def choose(points: list[SweepPoint]) -> SweepPoint:
    """The point with the lowest validation loss among those that trained; a ValueError when all diverged."""
    trained = [point for point in points if point.valid_loss is not None]
    if not trained:
        raise ValueError("every setting tried diverged; try lower learning rates (--lrs)")
    return min(trained, key=lambda point: point.valid_loss)


def sweep(arch: str, variant: str = "standard", param_budget: int = 200_000, lrs=SWEEP_LRS, clips=SWEEP_CLIPS,
          corpus_name: str = "full", max_seconds: float | None = None, max_steps: int | None = None, seed: int = 0,
          on_point: Callable[[SweepPoint], None] | None = None) -> list[SweepPoint]:
    """Every learning rate at the preset's clip, then every other clip at the best learning rate."""
    architecture(arch, variant)  # an unknown one is refused before anything trains
    corpus = load_corpus(corpus_name)
    base_clip = preset_config(SWEPT_PRESET, tuned=False).grad_clip
    points: list[SweepPoint] = []

    def run(lr, clip):
        point = sweep_point(arch, variant, param_budget, lr, clip, corpus, corpus_name, max_seconds, max_steps, seed)
        points.append(point)
        if on_point is not None:
            on_point(point)

    for lr in lrs:
        run(lr, base_clip)
    best_lr = choose(points).lr
    for clip in clips:
        if clip != base_clip:
            run(best_lr, clip)
    return points


def seed_loop_speed(seconds: float = 10.0) -> float:
    """Characters per second of the seed notebook's own loop (batch 1, hidden 128) on this machine, now."""
    corpus = load_corpus("full")
    train_ids, valid_ids = corpus.ids("train"), corpus.ids("valid")
    _, result = seed_loop(train_ids, valid_ids, len(corpus.vocab), max_seconds=seconds, epochs=100)
    return result["chars"] / result["seconds"]


def machine(seed_chars_per_sec: float) -> dict:
    """What the figures were measured on: cores, torch threads, load, and the seed loop's speed for scale."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "processor": platform.processor() or platform.machine(),
            "load_average": None if load is None else round(load, 2),
            "seed_loop_chars_per_sec": round(seed_chars_per_sec)}


def record_sweep(arch: str, variant: str, points: list[SweepPoint], best: SweepPoint, budget: dict, command: str,
                 measured_on: dict, path: Path | None = None) -> dict:
    """Keep the chosen settings (and every point tried) in the settings file, beside the other architectures'."""
    record = {"chosen": {"lr": best.lr, "grad_clip": best.grad_clip, "valid_loss": round(best.valid_loss, 4)},
              "points": [asdict(point) for point in points], "budget": budget, "preset": SWEPT_PRESET,
              "scored_on": "the first eval_chars (60,000) characters of the validation split",
              "command": command, "date": date.today().isoformat(), "machine": measured_on}
    settings = read_settings(path)
    settings[arch_key(arch, variant)] = record
    write_json(path or tuned.SETTINGS_FILE, dict(sorted(settings.items())), make_folder=True)
    return record


# -- the arena's table ---------------------------------------------------------------------------------------
@dataclass
class ArenaRow:
    """One architecture and size trained with its shipped settings for one budget: what it reached."""

    arch: str
    variant: str
    label: str
    param_budget: int
    parameters: int
    budget: str  # "time" or "steps"
    steps: int
    seconds: float
    lr: float
    valid_loss: float | None  # the whole validation split; None: it diverged
    chars_per_sec: float


def arena_row(arch: str, variant: str, param_budget: int, corpus: Corpus, max_seconds: float | None = None,
              max_steps: int | None = None, seed: int = 0) -> ArenaRow:
    """Train one contender with its shipped settings for the budget, and measure the whole validation split."""
    config = budget_config(arch, variant, param_budget, "full", max_seconds, max_steps, seed=seed)
    training, diverged = train_quietly(config, corpus)
    loss = None if diverged else evaluate_loss(training.model, training.valid_ids)
    chars = training.step_count * config.batch_size * config.seq_len
    return ArenaRow(arch, variant, architecture(arch, variant).label, param_budget,
                    sum(p.numel() for p in training.model.parameters()), "steps" if max_seconds is None else "time",
                    training.step_count, round(training.train_seconds, 1), config.lr,
                    None if loss is None or not math.isfinite(loss) else round(loss, 4),
                    round(chars / max(training.train_seconds, 1e-9)))


def arena_rows(contenders, sizes, seconds: float | None, steps: int | None, seed: int = 0,
               on_row: Callable[[ArenaRow], None] | None = None) -> list[ArenaRow]:
    """Every contender at every size, one after the other: for ``seconds`` of training, then for ``steps``."""
    corpus = load_corpus("full")
    rows = []
    budgets = [dict(max_seconds=seconds)] if seconds else []
    budgets += [dict(max_steps=steps)] if steps else []
    for budget in budgets:
        for size in sizes:
            for arch, variant in contenders:
                row = arena_row(arch, variant, size, corpus, seed=seed, **budget)
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


def ngram_line() -> float:
    """The order-6 n-gram's validation loss on the full corpus's split, computed (not written in)."""
    return corpus_baseline("full", DEFAULT_ORDER)


def record_table(rows: list[ArenaRow], ngram: float, command: str, measured_on: dict, seconds: float | None,
                 steps: int | None, path: Path = TABLE_FILE) -> dict:
    data = {"rows": [asdict(row) for row in rows], "ngram": {"order": DEFAULT_ORDER, "valid_loss": round(ngram, 4)},
            "budgets": {"seconds": seconds, "steps": steps}, "command": command, "date": date.today().isoformat(),
            "machine": measured_on,
            "scored_on": "the whole validation split of the full corpus (its last 10%)"}
    write_json(path, data, make_folder=True)
    return data


def read_table(path: Path = TABLE_FILE) -> dict | None:
    """The shipped table ({rows, ngram, command, date, machine...}), or None when it was never measured."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("rows"), list) else None


def table_markdown(data: dict) -> str:
    """The table as markdown: one line per architecture, a column per (size, budget), the n-gram's line last."""
    records = table_records(data)
    headings = list(records[0])
    lines = ["| " + " | ".join(headings) + " |", "|" + " --- |" * len(headings)]
    for record in records:
        cells = [record["architecture"]] + ["diverged" if record[h] is None else f"{record[h]:.3f}" for h in headings[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table_columns(data: dict) -> list[tuple[int, str]]:
    """The table's (size, budget) columns, in the order they were trained."""
    return list(dict.fromkeys((row["param_budget"], row["budget"]) for row in data["rows"]))


def column_heading(data: dict, column: tuple[int, str]) -> str:
    size, budget = column
    budgets = data.get("budgets", {})
    amount = f"{budgets.get('seconds'):g} s" if budget == "time" else f"{budgets.get('steps'):,} steps"
    return f"{size // 1000}k params, {amount}"


def table_records(data: dict) -> list[dict]:
    """The table as records: one per architecture (its label, then a loss per column; None where it diverged),
    the n-gram's line last."""
    columns = table_columns(data)
    records = []
    for label in dict.fromkeys(row["label"] for row in data["rows"]):
        record = {"architecture": label}
        for column in columns:
            found = [row for row in data["rows"] if row["label"] == label and (row["param_budget"], row["budget"]) == column]
            record[column_heading(data, column)] = found[0]["valid_loss"] if found else None
        records.append(record)
    ngram = data["ngram"]
    records.append({"architecture": f"order-{ngram['order']} n-gram",
                    **{column_heading(data, column): ngram["valid_loss"] for column in columns}})
    return records


def table_how(data: dict) -> str:
    """How the table was made, in one sentence: command, date, machine and the seed loop's speed for scale."""
    made = data.get("machine", {})
    load = f", load average {made['load_average']:g}" if made.get("load_average") is not None else ""
    return (f"Measured by `{data.get('command', 'python scripts/arena_table.py')}` on {data.get('date', '?')}: "
            f"{made.get('cores', '?')} cores, {made.get('torch_threads', '?')} torch thread(s) per training{load}; the "
            f"seed notebook's loop ran at {made.get('seed_loop_chars_per_sec', 0):,} characters per second there. "
            f"Each model trained alone with its own shipped settings; loss in nats per character on "
            f"{data.get('scored_on', 'the validation split')}.")


# /compare on Molière at its defaults: each contender at its shipped rate and at others, to see whether the order holds
CHECK_FILE = SETTINGS_FILE.parent / "compare_text_check.json"
ARCH_LABELS = {"lstm": "LSTM", "gru": "GRU", "rnn": "plain RNN"}


def record_check_row(arch: str, lr: float, param_budget: int, steps: int, seed: int, valid_loss: float | None,
                     seconds: float, command: str, path: Path = CHECK_FILE) -> dict:
    """Add (or replace) one training of ``scripts/compare_text_check.py`` in the shipped check file."""
    data = read_check(path) or {"rows": [], "scored_on": "the whole validation split of the full corpus"}
    row = {"arch": arch, "lr": lr, "param_budget": param_budget, "steps": steps, "seed": seed,
           "valid_loss": None if valid_loss is None else round(valid_loss, 4), "seconds": round(seconds, 1),
           "command": command, "date": date.today().isoformat(), "load_average": machine(0)["load_average"]}
    same = (arch, lr, param_budget, steps, seed)
    data["rows"] = [r for r in data["rows"] if (r["arch"], r["lr"], r["param_budget"], r["steps"], r["seed"]) != same]
    data["rows"].append(row)
    write_json(path, data, make_folder=True)
    return row


def read_check(path: Path = CHECK_FILE) -> dict | None:
    return read_table(path)


def check_note(data: dict, param_budget: int, steps: int, seed: int = 0) -> str:
    """What the shipped check measured at these settings, in two sentences; empty when it has no such rows."""
    rows = [r for r in data.get("rows", []) if (r["param_budget"], r["steps"], r["seed"]) == (param_budget, steps, seed)
            and r.get("valid_loss") is not None]
    if {r["arch"] for r in rows} != set(ARCH_LABELS):
        return ""
    best = {arch: min((r for r in rows if r["arch"] == arch), key=lambda r: r["valid_loss"]) for arch in ARCH_LABELS}
    shipped = {arch: next((r for r in rows if r["arch"] == arch and r["lr"] == tuned.tuned_settings(arch).get("lr")),
                          None) for arch in ARCH_LABELS}
    tried = ", ".join(f"{ARCH_LABELS[a]} {best[a]['valid_loss']:.3f} at {best[a]['lr']:g}" for a in ARCH_LABELS)
    counts = sorted({len({r["lr"] for r in rows if r["arch"] == a}) for a in ARCH_LABELS})
    order = sorted(ARCH_LABELS, key=lambda a: best[a]["valid_loss"])
    text = f"Measured at these settings (seed {seed}, whole validation split, nats per character): "
    if all(shipped.values()) and any(shipped[a] is not best[a] for a in ARCH_LABELS):
        text += ("at the shipped rates " + ", ".join(f"{ARCH_LABELS[a]} {shipped[a]['valid_loss']:.3f}"
                                                     for a in ARCH_LABELS) + ", but ")
    text += (f"at each one's best rate for a training this long ({tried}; "
             f"{' to '.join(str(c) for c in counts)} rates tried each) the order is "
             f"{' < '.join(ARCH_LABELS[a] for a in order)}. ")
    if order[-1] == "rnn":
        return text + "The plain RNN is behind both gated cells, as the literature found."
    return text + ("So these settings do not show the literature's order (LSTM about equal to GRU, both ahead of a "
                   "plain RNN), which was measured on far longer trainings of bigger models.")
