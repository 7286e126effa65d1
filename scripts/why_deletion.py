"""Is integrated gradients faithful on the shipped model? Its deletion curve against random's, averaged over
positions of the validation text (the model's predicted next character at each), with both areas printed.

    python scripts/why_deletion.py [--positions 24] [--context 40] [--steps 128] [--method ig]

A smaller area means the target's probability falls sooner as the best-scored characters are replaced.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lstm_core.corpus import load_corpus  # noqa: E402
from lstm_core.runs import PRETRAINED_DIR, load_run  # noqa: E402
from lstm_core.why.attribution import attribute, deletion_curves  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--positions", type=int, default=24)
    parser.add_argument("--context", type=int, default=40)
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--method", default="ig")
    args = parser.parse_args()
    run = load_run(PRETRAINED_DIR)
    text = load_corpus("full").valid_text
    ends = np.linspace(args.context, len(text) - 1, args.positions).astype(int)
    methods, randoms, gaps = [], [], []
    for end in ends:
        result = attribute(run.model, run.vocab, text[end - args.context:end], args.method, n_steps=args.steps)
        curves = deletion_curves(run.model, run.vocab, result)
        methods.append(curves.method)
        randoms.append(curves.random)
        if result.completeness_gap is not None:
            gaps.append(result.completeness_gap)
    method, random = np.mean(methods, axis=0), np.mean(randoms, axis=0)
    print(f"{args.method} over {len(ends)} positions, {args.context} characters of context each"
          + (f", {args.steps} steps (median completeness gap {np.median(gaps):.1%})" if gaps else ""))
    print("k       " + " ".join(f"{k:6d}" for k in range(0, len(method), 5)))
    print("method  " + " ".join(f"{v:6.3f}" for v in method[::5]))
    print("random  " + " ".join(f"{v:6.3f}" for v in random[::5]))
    print(f"area (mean probability over k = 0..{len(method) - 1}): {args.method} {method.mean():.4f}, "
          f"random {random.mean():.4f}; {'faster' if method.mean() < random.mean() else 'NOT faster'} than random")


if __name__ == "__main__":
    main()
