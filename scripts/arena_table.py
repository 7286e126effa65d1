"""The arena on Molière: every architecture trained with its shipped settings, for the same time and the same steps.

    python scripts/arena_table.py                      # LSTM, GRU, RNN and the ablated LSTMs, at 50k and 200k
                                                       # parameters, 90 s each and 3,000 steps each
    python scripts/arena_table.py --seconds 30 --steps 500     # shorter budgets
    python scripts/arena_table.py --only-decisive      # LSTM, GRU, RNN at 200k parameters for 90 s: the issue's bar

Each training runs alone, one after the other (one torch thread, as the app's workers), with the settings
``python -m lstm_core sweep`` kept in data/measured/arch_settings.json, and is scored on the whole validation
split. The order-6 n-gram's loss is computed by the project's n-gram code, and the seed notebook's loop is timed
first, so the figures can be scaled to another machine. The table is printed and kept in
data/measured/arena_table.json (``--only-decisive``: arena_decisive.json), which /compare shows on Molière.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core.arena import (ABLATED, DECISIVE_FILE, MAIN, SIZES, TABLE_FILE, arena_rows, machine,  # noqa: E402
                             ngram_line, record_table, seed_loop_speed, table_markdown)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=90.0, help="training seconds per model (0: skip)")
    parser.add_argument("--steps", type=int, default=3_000, help="training steps per model (0: skip)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--no-ablated", action="store_true", help="LSTM, GRU and RNN only")
    parser.add_argument("--only-decisive", action="store_true",
                        help="LSTM, GRU and RNN at 200k parameters for 90 s (or --seconds), no step budget")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="where the table is kept (default: data/measured/...)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    contenders = MAIN if args.no_ablated or args.only_decisive else MAIN + ABLATED
    sizes = [200_000] if args.only_decisive else args.sizes
    steps = None if args.only_decisive else (args.steps or None)
    seconds = args.seconds or None
    out = args.out or (DECISIVE_FILE if args.only_decisive else TABLE_FILE)
    speed = seed_loop_speed()
    print(f"seed loop on this machine now: {speed:,.0f} chars/s", flush=True)
    ngram = ngram_line()
    print(f"order-6 n-gram: validation loss {ngram:.4f} nats/char", flush=True)

    def report(row):
        loss = "diverged" if row.valid_loss is None else f"{row.valid_loss:.4f}"
        print(f"{row.label:40s} {row.parameters:>8,} params  {row.budget:5s} {row.steps:>6,} steps {row.seconds:6.1f} s "
              f"lr {row.lr:<7g} valid {loss}  ({row.chars_per_sec:,.0f} chars/s)", flush=True)

    rows = arena_rows(contenders, sizes, seconds, steps, seed=args.seed, on_row=report)
    command = "python scripts/arena_table.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    data = record_table(rows, ngram, command.strip(), machine(speed), seconds, steps, out)
    print()
    print(table_markdown(data))
    print(f"\nseed loop: {speed:,.0f} chars/s; kept in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
