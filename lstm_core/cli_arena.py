"""The arena's command line: ``python -m lstm_core sweep``, which finds an architecture's own settings on text.

    python -m lstm_core sweep --arch gru --param-budget 200000 --max-steps 600 [--max-seconds S] [--lrs ...]
    python -m lstm_core sweep --arch lstm --variant coupled_gates --max-steps 600

Each (learning rate, clip) trains the default preset's model for the budget, one after the other, and is scored
on validation text; the best is kept in ``data/measured/arch_settings.json`` (with every point tried, this
command, the date and the seed loop's speed on this machine), which ``train --arch`` (with the default preset),
the Train page and /compare on text then use. ``--dry-run`` prints without keeping anything.
"""

from __future__ import annotations

import shlex
import sys

import torch

from .arena import SWEEP_CLIPS, SWEEP_LRS, choose, machine, record_sweep, seed_loop_speed, sweep
from .architectures import ARCHITECTURES, VARIANTS


def sweep_command(args) -> int:
    torch.set_num_threads(args.threads)  # as the app's workers train (one thread each by default)
    budget = {"param_budget": args.param_budget, "max_steps": args.max_steps, "max_seconds": args.max_seconds,
              "used": "steps" if args.max_seconds is None else ("seconds" if args.max_steps is None else "both"),
              "threads": args.threads}
    print(f"sweep {args.arch} ({args.variant}), about {args.param_budget:,} parameters; budget per point: "
          f"{args.max_steps or '-'} steps, {args.max_seconds or '-'} s", flush=True)

    def report(point):
        loss = "diverged" if point.valid_loss is None else f"{point.valid_loss:.4f}"
        print(f"lr {point.lr:<8g} clip {point.grad_clip!s:<6} valid {loss:>9}  ({point.steps} steps, "
              f"{point.seconds:.1f} s, {point.parameters:,} parameters)", flush=True)

    points = sweep(args.arch, args.variant, args.param_budget, args.lrs, args.clips, max_seconds=args.max_seconds,
                   max_steps=args.max_steps, seed=args.seed, on_point=report)
    best = choose(points)
    print(f"chosen: lr {best.lr:g}, clip {best.grad_clip}, validation loss {best.valid_loss:.4f}", flush=True)
    if args.dry_run:
        return 0
    speed = seed_loop_speed(args.seed_loop_seconds)
    print(f"seed loop on this machine: {speed:,.0f} chars/s", flush=True)
    command = "python -m lstm_core " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["sweep"] \
        else "python -m lstm_core sweep " + f"--arch {args.arch} --variant {args.variant} ..."
    record_sweep(args.arch, args.variant, points, best, budget, command, machine(speed))
    print("kept in data/measured/arch_settings.json")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("sweep", help="find an architecture's learning rate and clip on text, and keep them")
    p.add_argument("--arch", choices=list(ARCHITECTURES), required=True)
    p.add_argument("--variant", choices=sorted(VARIANTS), default="standard", help="an ablated LSTM")
    p.add_argument("--param-budget", type=int, default=200_000)
    p.add_argument("--max-steps", type=int, help="steps per point (fairer than seconds on a shared machine)")
    p.add_argument("--max-seconds", type=float, help="seconds of training per point")
    p.add_argument("--lrs", type=float, nargs="+", default=list(SWEEP_LRS))
    p.add_argument("--clips", type=float, nargs="*", default=list(SWEEP_CLIPS),
                   help="gradient clips tried at the best learning rate, beside the preset's")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as the app's workers)")
    p.add_argument("--seed-loop-seconds", type=float, default=10.0, help="how long the seed loop is timed for scale")
    p.add_argument("--dry-run", action="store_true", help="print the points, keep nothing")
    p.set_defaults(func=sweep_command)
