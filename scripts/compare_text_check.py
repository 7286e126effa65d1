"""Does /compare on Molière, at its defaults, show the literature's order? Train one contender at a chosen rate.

    python scripts/compare_text_check.py rnn --lr 0.005                 # at /compare's Molière defaults
    python scripts/compare_text_check.py lstm --param-budget 100000 --seed 1

Each call trains one contender exactly as /compare on the full corpus would (its budget, steps, gate biases and
seed; the learning rate from ``--lr`` or the shipped settings), on one torch thread, scores it on the whole
validation split, and adds a row to data/measured/compare_text_check.json, which /compare quotes on Molière.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core.arena import CHECK_FILE, record_check_row  # noqa: E402
from lstm_core.compare import TASK_DEFAULTS, CompareSetup, Contender  # noqa: E402
from lstm_core.runs import RunStore  # noqa: E402


def main(argv=None) -> int:
    defaults = TASK_DEFAULTS["full"]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("arch", choices=["lstm", "gru", "rnn"])
    parser.add_argument("--lr", type=float, help="default: the architecture's shipped rate")
    parser.add_argument("--param-budget", type=int, default=defaults["param_budget"])
    parser.add_argument("--steps", type=int, default=defaults["steps"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=CHECK_FILE)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    setup = CompareSetup("architectures", "full", param_budget=args.param_budget, steps=args.steps,
                         forget_bias=defaults["forget_bias"], update_bias=defaults["update_bias"], seed=args.seed,
                         extra={} if args.lr is None else {"lr": args.lr})
    with tempfile.TemporaryDirectory() as folder:
        training = setup.training(Contender(args.arch), RunStore(Path(folder)))
        started = time.monotonic()
        training.run()
        seconds = time.monotonic() - started
    command = "python scripts/compare_text_check.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    row = record_check_row(args.arch, training.config.lr, args.param_budget, args.steps, args.seed,
                           training.full_valid_loss, seconds, command.strip(), args.out)
    print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
