"""Command line: everything the app does, scriptable (``python -m lstm_core --help``).

    python -m lstm_core train --preset seed|seed-exact|default [--arch lstm|gru|rnn] [--param-budget N] [...] --out DIR
                              [--executor local|ray] [--tensorboard LOGDIR]
    python -m lstm_core train-memory --arch lstm|gru|rnn --delay N [--max-seconds S]   # last line: accuracy=0.XXXX
    python -m lstm_core gradient-flow --run DIR [--text TEXT] --out FILE.csv          # one row per lag (and layer)
    python -m lstm_core ngram [--corpus full] [--order 6]                              # the n-gram baseline
    python -m lstm_core sample --run DIR --prime TEXT --temperature X --length N
    python -m lstm_core trace --run DIR --text TEXT --out FILE.npz|FILE.csv
    python -m lstm_core snapshots --run DIR --out FILE.npz    # a run's gate snapshots: arrays, steps, seconds
    python -m lstm_core pretrain            # rebuilds the shipped model in data/pretrained/moliere
    python -m lstm_core compare [--task memory --delay 50] [--out DIR]  # rebuilds the comparison /compare opens with
    python -m lstm_core bench [--quick]
    python -m lstm_core train-tagger / train-classifier [--max-seconds S]
    python -m lstm_core import-model --weights FILE.pt --vocab FILE.json --out STORE   # lstm_core.cli_import

Bad input prints a clear message and exits with status 2.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import replace
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .analysis import trace_csv
from .architectures import ARCHITECTURES, DEFAULT, VARIANTS, architecture
from .execution.background import TRAINING_THREADS, BackgroundTrainer, configure_torch_threads
from .bench import run_bench
from .cli_import import add_commands as add_import_commands
from .execution.factory import make_executor
from .corpus import CorpusError, load_corpus
from .runs import (OPTIMIZER_FILE, PRETRAINED_DIR, RESUME_FILE, RunError, RunStore, default_store_root, load_run,
                   read_config, read_metrics)
from .snapshots import SnapshotStore, export_npz, probe_passage
from .tensorboard_log import LiveLog
from .gates import QUANTITIES
from .gradients import gradient_flow
from .compare import COMPARISONS, TASK_DEFAULTS, TASKS, CompareSetup
from .compare_runs import SHIPPED_COMPARISON_DIR, SHIPPED_DELAY, build_comparison
from .training.memory import MemoryConfig, MemoryTraining, memory_probe
from .ngram import corpus_baseline
from .sampling import sample
from .tasks.cli import add_task_commands
from .cli_why import add_commands as add_why_commands
from .cli_arena import add_commands as add_arena_commands
from .trace import trace
from .training.loop import TrainingDiverged
from .training.char import PRESETS, CharTraining, preset_config

ARCH_CHOICES = list(ARCHITECTURES)
PRETRAIN_PRESET = "bigger"
PRETRAIN_SECONDS = 300.0
# The shipped model's training movie: a 200-character probe and at most 12 snapshots in 14 MB. Each snapshot of
# the bigger preset (2 layers of 256 units) holds 6 quantities x 2 layers x 200 steps x 256 units in float16:
# 1,228,800 bytes of arrays (plus a header of a few kB), so 11 are kept, about 13.5 MB.
PRETRAIN_PROBE_CHARS = 200
PRETRAIN_SNAPSHOTS = 12
PRETRAIN_SNAPSHOT_BYTES = 14_000_000


def train_command(args) -> int:
    overrides = {k: v for k, v in {
        "hidden_size": args.hidden, "num_layers": args.layers, "seq_len": args.seq_len,
        "batch_size": args.batch_size, "lr": args.lr, "epochs": args.epochs, "max_seconds": args.max_seconds,
        "seed": args.seed, "corpus": args.corpus, "device": args.device, "architecture": args.arch,
        "variant": args.variant, "param_budget": args.param_budget, "forget_bias": args.forget_bias,
        "update_bias": args.update_bias}.items() if v is not None}
    if args.epochs is not None and args.max_seconds is None:
        overrides["max_seconds"] = None
    config = preset_config(args.preset, **overrides)
    store = RunStore(args.out)
    arch = architecture(config.architecture, config.variant)
    kind = " ".join(filter(None, [arch.short_name if arch.name != DEFAULT.name else None,
                                  arch.variant_words if arch.ablated else None]))
    training = CharTraining(config, store=store, name=args.name or f"{args.preset}{f' ({kind})' if kind else ''}")
    live_log = LiveLog(training.run_dir, args.tensorboard) if args.tensorboard else None  # TensorBoard, as it goes
    model = training.model.config
    print(f"training {model.arch.short_name} ({model.arch.variant_words}), hidden {model.hidden_size} x "
          f"{model.num_layers}, {training.describe()['parameters']:,} parameters, on {training.corpus.describe()}; "
          f"run folder {training.run_dir}", flush=True)

    def report(row, metrics):
        print(f"step {row['step']:6d}  {row['seconds']:7.1f}s  train {row['train_loss']:.3f}  "
              f"valid {metrics['valid_loss']:.3f}  {row['chars_per_sec']:,.0f} chars/s", flush=True)

    if args.executor is None:
        training.run(on_eval=report)  # here, in this process
    else:
        status, message = run_in_executor(training, args.executor, report)
        if status != "finished":
            raise TrainingDiverged(message) if status == "diverged" else RunError(message)
    if live_log is not None:
        live_log.finish()
    metrics = read_metrics(training.run_dir)  # what was saved, wherever it trained
    train_loss = float(metrics["train_loss"].tail(training.steps_per_epoch).mean())
    print(f"final train_loss={train_loss:.4f} valid_loss={metrics['full_valid_loss'].iloc[-1]:.4f} "
          f"seconds={metrics['seconds'].iloc[-1]:.1f}")
    print(f"run saved in {training.run_dir}")
    return 0


def run_in_executor(training, kind: str, on_eval) -> tuple[str, str]:
    """Train in a worker of the ``local`` pool or as a Ray actor, reporting each evaluation here;
    returns the final (status, message)."""
    executor = make_executor(kind)
    print(f"running on the {executor.describe()}", flush=True)
    trainer = BackgroundTrainer(training, executor=executor, on_eval=on_eval)
    trainer.start()
    try:
        while trainer.snapshot(since=1 << 62).active:
            time.sleep(0.2)
    except KeyboardInterrupt:
        trainer.stop(wait=True)
    finally:
        executor.shutdown()
    snapshot = trainer.snapshot(since=1 << 62)
    return snapshot.status, snapshot.message


def train_memory_command(args) -> int:
    """Train on the memory task and print the recall accuracy on the validation sequences last."""
    settings = {k: v for k, v in {
        "architecture": args.arch, "delay": args.delay, "variant": args.variant, "max_seconds": args.max_seconds,
        "epochs": args.epochs, "seed": args.seed, "forget_bias": args.forget_bias, "update_bias": args.update_bias,
        "chrono": args.chrono, "lr": args.lr}.items() if v is not None}
    if args.epochs is not None and args.max_seconds is None:
        settings["max_seconds"] = None
    if args.hidden is not None:
        settings.update(hidden_size=args.hidden, param_budget=None)
    elif args.param_budget is not None:
        settings["param_budget"] = args.param_budget
    training = MemoryTraining(MemoryConfig(**settings), store=RunStore(args.out or default_store_root()))
    model = training.model.config
    print(f"memory task: recall 1 of 8 symbols after {args.delay} distractors; {model.arch.short_name} "
          f"({model.arch.variant_words}), hidden {model.hidden_size}, "
          f"{training.describe()['parameters']:,} parameters; run folder {training.run_dir}", flush=True)

    def report(row, metrics):
        print(f"step {row['step']:6d}  {row['seconds']:6.1f}s  train {row['train_loss']:.3f}  "
              f"valid {metrics['valid_loss']:.3f}  recall {metrics['valid_accuracy']:.3f}", flush=True)

    training.run(on_eval=report)
    print(f"trained {training.train_seconds:.1f}s, {training.step_count} steps; run saved in {training.run_dir}")
    print(f"accuracy={training.final_accuracy:.4f}")
    return 0


def gradient_flow_command(args) -> int:
    """Write the mean gradient norm against the lag for a run (on a validation passage unless --text)."""
    run = load_run(args.run)
    if run.config.get("kind", "char") not in ("char", "memory"):
        raise RunError(f"{run.path.name} is a {run.config['kind']} run; gradient flow is measured on character models.")
    text, positions = args.text, args.positions
    if text is None and run.config.get("kind") == "memory":  # the answers' loss, over sequences long enough
        text, positions = memory_probe(max(run.config["memory"]["delay"], args.max_lag), args.positions, seed=7)
    elif text is None:
        text = validation_text(run.config.get("train", {}).get("corpus", "full"), args.max_lag)
    flow = gradient_flow(run.model, run.vocab, text, args.max_lag, positions)
    frame = flow.frame()
    frame.to_csv(args.out, index=False, float_format="%.6g")
    lag = min(50, args.max_lag)
    print(f"{run.model.arch.short_name}: mean gradient norm over {len(flow.positions)} positions, lags 0..{args.max_lag}, "
          f"{flow.hidden.shape[0]} layer(s); at lag {lag} the first layer's is {flow.ratio_at(lag):.3g} of lag 0's")
    print(f"wrote {len(frame):,} rows to {args.out}")
    return 0


def validation_text(corpus: str, max_lag: int) -> str:
    """A stretch of a bundled corpus's validation split long enough for lags up to ``max_lag``."""
    from_corpus = load_corpus(corpus if corpus in ("full", "seed") else "full").valid_text
    return from_corpus[:max(2_000, 4 * max_lag)]


def ngram_command(args) -> int:
    loss = corpus_baseline(args.corpus, args.order)
    print(f"order-{args.order} Witten-Bell n-gram on the {args.corpus} split: validation loss {loss:.4f} nats/char "
          f"({loss / np.log(2):.4f} bits/char)")
    return 0


def sample_command(args) -> int:
    run = load_run(args.run)
    print(args.prime + sample(run.model, run.vocab, args.prime, args.length, args.temperature,
                              args.top_k, args.top_p, args.seed))
    return 0


def trace_command(args) -> int:
    run = load_run(args.run)
    tr = trace(run.model, run.vocab, args.text)
    for unknown, used in tr.replacements.items():
        print(f"note: {unknown!r} is not in the vocabulary; traced as {used!r}", file=sys.stderr)
    if str(args.out).endswith(".csv"):  # long form: layer, time, character, unit, quantity, value
        Path(args.out).write_bytes(trace_csv(tr))
    else:
        np.savez_compressed(args.out, chars=np.array(tr.chars), probs=tr.probs,
                            **{name: tr[name] for name in QUANTITIES})
    print(f"traced {len(tr.chars)} characters through {tr.hidden_state.shape[0]} layer(s) of "
          f"{tr.hidden_state.shape[2]} units into {args.out}")
    return 0


def snapshots_command(args) -> int:
    """Export a run's gate snapshots to one .npz: per quantity (snapshot, slots, time, units), and their steps
    and seconds."""
    run_dir = Path(args.run)
    if not run_dir.is_dir():
        raise RunError(f"No run folder at {run_dir}.")
    read_config(run_dir)  # refuses a folder that is not a run
    if not str(args.out).endswith(".npz"):
        raise ValueError(f"--out must name a .npz file, got {args.out!r}")
    store = SnapshotStore(run_dir)
    files = store.files()
    snapshots = store.load()
    try:
        export_npz(snapshots, args.out)
    except OSError as err:
        raise RunError(f"{args.out} cannot be written: {err.strerror or err}") from None
    first = snapshots[0]
    unreadable = f"; {len(files) - len(snapshots)} unreadable file(s) passed over" if len(files) > len(snapshots) else ""
    print(f"{len(snapshots)} snapshots (steps {first.step:,} to {snapshots[-1].step:,}, "
          f"{snapshots[-1].seconds:,.1f} s of training) of {', '.join(first.quantities)} on a "
          f"{len(first.tokens)}-{first.token} probe, {len(first.slots)} slot(s){unreadable}, into {args.out}")
    return 0


def pretrain_command(args) -> int:
    """Rebuild the shipped pretrained model with the project's own trainer, with its training movie."""
    config = preset_config(args.preset, max_seconds=args.max_seconds, eval_every_seconds=20.0, device=args.device)
    corpus = load_corpus(config.corpus)
    config = replace(config, probe=probe_passage(corpus.valid_text, PRETRAIN_PROBE_CHARS))  # the movie's probe
    staging = Path(args.out) if args.out else PRETRAINED_DIR.parent / ".staging"
    shutil.rmtree(staging, ignore_errors=True)
    training = CharTraining(config, corpus=corpus, store=RunStore(staging), name="Pretrained Molière model")
    training.run(on_eval=lambda row, metrics: print(f"{row['seconds']:6.1f}s valid {metrics['valid_loss']:.3f}",
                                                    flush=True))
    valid = training.full_valid_loss
    movie = SnapshotStore(training.run_dir, PRETRAIN_SNAPSHOTS, PRETRAIN_SNAPSHOT_BYTES)
    movie.thin()  # the shipped folder stays small
    print(f"snapshots: {len(movie.files())} kept, {movie.bytes_used() / 1e6:.1f} MB")
    if args.out:
        print(f"valid_loss={valid:.4f}; run in {training.run_dir}")
        return 0
    for left_behind in (OPTIMIZER_FILE, RESUME_FILE):  # what only a continued training needs
        (training.run_dir / left_behind).unlink(missing_ok=True)
    shutil.rmtree(PRETRAINED_DIR, ignore_errors=True)
    shutil.move(str(training.run_dir), PRETRAINED_DIR)
    shutil.rmtree(staging, ignore_errors=True)
    print(f"valid_loss={valid:.4f}; shipped model rebuilt in {PRETRAINED_DIR}")
    return 0


def compare_command(args) -> int:
    """Train a comparison to its end, one contender after the other, and keep its runs in --out (by default,
    rebuild the comparison /compare opens with)."""
    defaults = TASK_DEFAULTS[args.task]
    setup = CompareSetup(args.comparison, args.task, delay=args.delay,
                         param_budget=args.param_budget or defaults["param_budget"],
                         steps=args.steps or defaults["steps"],
                         forget_bias=defaults["forget_bias"] if args.forget_bias is None else args.forget_bias,
                         update_bias=defaults["update_bias"] if args.update_bias is None else args.update_bias,
                         seed=args.seed)
    torch.set_num_threads(TRAINING_THREADS)  # as the app's workers train each contender (two spin on 2 cores)
    started = time.monotonic()

    def report(label, row, metrics):
        recall = f"  recall {metrics['valid_accuracy']:.3f}" if "valid_accuracy" in metrics else ""
        print(f"{label:10s} step {row['step']:6d}  valid {metrics['valid_loss']:.3f}{recall}", flush=True)

    saved = build_comparison(setup, Path(args.out), on_eval=report)
    size = sum(f.stat().st_size for f in Path(args.out).rglob("*") if f.is_file())
    print(f"{len(saved.runs)} runs in {args.out} ({size / 1e6:.1f} MB), {time.monotonic() - started:.0f} s: "
          f"{', '.join(saved.ids)}")
    return 0


def bench_command(args) -> int:
    return run_bench(quick=args.quick)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m lstm_core", description="LSTM Lab from the command line.")
    sub = top.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a character model and save it as a run")
    p.add_argument("--preset", choices=sorted(PRESETS), default="default")
    p.add_argument("--hidden", type=int)
    p.add_argument("--layers", type=int)
    p.add_argument("--seq-len", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--epochs", type=float)
    p.add_argument("--max-seconds", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--corpus", help="full, seed, or the path of a UTF-8 text file")
    p.add_argument("--device", choices=["cpu", "cuda", "auto"])
    p.add_argument("--arch", choices=ARCH_CHOICES, help="lstm (default), gru or rnn (a plain tanh RNN)")
    p.add_argument("--variant", choices=sorted(VARIANTS), help="an ablated LSTM (Greff et al. 2017)")
    p.add_argument("--param-budget", type=int, help="choose the hidden size to reach about this many parameters")
    p.add_argument("--forget-bias", type=float, help="the LSTM's initial forget-gate bias")
    p.add_argument("--update-bias", type=float, help="the GRU's initial update-gate bias")
    p.add_argument("--name")
    p.add_argument("--out", required=True, help="run store folder")
    p.add_argument("--executor", choices=["local", "ray"],
                   help="train in a local worker process or as a Ray actor (LSTM_LAB_RAY_ADDRESS names a cluster; "
                        "without it a local Ray instance starts); default: in this process")
    p.add_argument("--tensorboard", metavar="LOGDIR", help="log the training to TensorBoard as it goes")
    p.set_defaults(func=train_command)

    p = sub.add_parser("train-memory", help="recall a character after a delay; prints accuracy=0.XXXX last")
    p.add_argument("--arch", choices=ARCH_CHOICES, required=True)
    p.add_argument("--delay", type=int, required=True, help="distractor characters between the symbol and the cue")
    p.add_argument("--variant", choices=sorted(VARIANTS))
    p.add_argument("--max-seconds", type=float, help="training time (default 60)")
    p.add_argument("--epochs", type=float, help="epochs of 100 batches (instead of, or with, a time budget)")
    p.add_argument("--hidden", type=int, help="hidden size (default: chosen for about 20,000 parameters)")
    p.add_argument("--param-budget", type=int)
    p.add_argument("--forget-bias", type=float, help="the LSTM's initial forget-gate bias (default 5)")
    p.add_argument("--update-bias", type=float, help="the GRU's initial update-gate bias (default 5)")
    p.add_argument("--chrono", type=int, help="chrono initialisation for delays up to this many steps")
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--out", help="run store folder (default: the app's)")
    p.set_defaults(func=train_memory_command)

    p = sub.add_parser("gradient-flow", help="gradient norm against the lag, as CSV")
    p.add_argument("--run", required=True)
    p.add_argument("--text", help="the text (default: a validation passage; for a memory run, sequences, measured "
                                  "at the answers)")
    p.add_argument("--max-lag", type=int, default=200)
    p.add_argument("--positions", type=int, default=32, help="positions t averaged over")
    p.add_argument("--out", required=True, help="FILE.csv: lag, layer, hidden_norm (and cell_norm)")
    p.set_defaults(func=gradient_flow_command)

    p = sub.add_parser("ngram", help="the n-gram baseline's validation loss on a bundled corpus")
    p.add_argument("--corpus", choices=["full", "seed"], default="full")
    p.add_argument("--order", type=int, default=6)
    p.set_defaults(func=ngram_command)

    p = sub.add_parser("sample", help="generate text from a run")
    p.add_argument("--run", required=True)
    p.add_argument("--prime", default="\n")
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--length", type=int, default=500)
    p.add_argument("--top-k", type=int)
    p.add_argument("--top-p", type=float)
    p.add_argument("--seed", type=int)
    p.set_defaults(func=sample_command)

    p = sub.add_parser("trace", help="record every gate and state of a run on a text")
    p.add_argument("--run", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("--out", required=True, help="FILE.npz (arrays) or FILE.csv (long form)")
    p.set_defaults(func=trace_command)

    p = sub.add_parser("snapshots", help="export a run's gate snapshots (the training movie) to .npz")
    p.add_argument("--run", required=True, help="the run folder")
    p.add_argument("--out", required=True, help="FILE.npz: per quantity (snapshot, slots, time, units), steps, "
                                               "seconds, tokens, slots and the gates' summary series")
    p.set_defaults(func=snapshots_command)

    p = sub.add_parser("pretrain", help="rebuild the shipped pretrained Molière model")
    p.add_argument("--preset", choices=sorted(PRESETS), default=PRETRAIN_PRESET)
    p.add_argument("--max-seconds", type=float, default=PRETRAIN_SECONDS)
    p.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
    p.add_argument("--out", help="store the run here instead of replacing the shipped model")
    p.set_defaults(func=pretrain_command)

    p = sub.add_parser("compare", help="train a comparison side by side and keep its runs (by default, rebuild "
                                       "the one /compare opens with)")
    p.add_argument("--comparison", choices=sorted(COMPARISONS), default="architectures")
    p.add_argument("--task", choices=sorted(TASKS), default="memory")
    p.add_argument("--delay", type=int, default=SHIPPED_DELAY, help="memory task: distractors to bridge")
    p.add_argument("--param-budget", type=int, help="parameters per model (default: the task's)")
    p.add_argument("--steps", type=int, help="training steps per model (default: the task's)")
    p.add_argument("--forget-bias", type=float, help="the LSTMs' initial forget-gate bias (default: the task's)")
    p.add_argument("--update-bias", type=float, help="the GRU's initial update-gate bias (default: the task's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=str(SHIPPED_COMPARISON_DIR), help="the folder for its runs (replaced)")
    p.set_defaults(func=compare_command)

    p = sub.add_parser("bench", help="benchmark against the seed notebook's loop")
    p.add_argument("--quick", action="store_true")
    p.set_defaults(func=bench_command)

    add_task_commands(sub)
    add_why_commands(sub)
    add_arena_commands(sub)
    add_import_commands(sub)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    configure_torch_threads()
    try:
        return args.func(args)
    except (CorpusError, RunError, ValueError, TrainingDiverged, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
