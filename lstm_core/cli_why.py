"""The command line of "why this character" (lstm_core.why): one subcommand per part.

    python -m lstm_core attribute --run DIR --text TEXT --method ig|grad_x_input|occlusion [--target CHAR] --out FILE.csv
    python -m lstm_core memory-diff --run DIR --text TEXT --position P --char X --out FILE.csv
    python -m lstm_core patch --run DIR --source TEXT --source-step S --text TEXT --step T [--layer L]
                              [--state whole|hidden_state|cell_state] [--units 3,7] [--length N] [--seed S]
    python -m lstm_core probe --run DIR [--layer L] [--state hidden_state|cell_state] [--out FILE.csv]
                              [--steer FEATURE --alpha A --prime TEXT]

Each prints what it found last; bad input prints one sentence and exits with status 2 (lstm_core.cli.main).
"""

from __future__ import annotations

from .analysis import FEATURES, parse_units, show_char
from .corpus import load_corpus
from .runs import load_run
from .why.attribution import IG_STEPS, METHODS, attribute, deletion_curves
from .why.common import WhyError, character_model
from .why.memory_diff import memory_diff
from .why.patching import WHOLE, patch
from .why.probes import PROBE_TEXT, probe_frame, steered_sample, train_probes


def attribute_command(args) -> int:
    run = load_run(args.run)
    model = character_model(run)
    result = attribute(model, run.vocab, args.text, args.method, args.target, args.steps)
    result.frame().to_csv(args.out, index=False, float_format="%.6g")
    curves = deletion_curves(model, run.vocab, result)
    print(f"wrote {len(result.chars)} scores ({METHODS[args.method]}) to {args.out}")
    if result.completeness_gap is not None:
        print(f"completeness: scores sum to {result.scores.sum():.4f}, f(text) - f(zero embeddings) = "
              f"{result.log_prob - result.baseline_log_prob:.4f}, gap {result.completeness_gap:.1%}")
    print(curves.verdict(METHODS[args.method]))
    print(f"target {show_char(result.target)!r} log_prob={result.log_prob:.4f}")
    return 0


def memory_diff_command(args) -> int:
    run = load_run(args.run)
    diff = memory_diff(character_model(run), run.vocab, args.text, args.position, args.char)
    frame = diff.frame()
    frame.to_csv(args.out, index=False, float_format="%.6g")
    last = len(diff.chars_a) - 1
    for quantity in diff.quantities:
        print(f"{quantity}, last layer: ‖Δ‖ {diff.norms(quantity, diff.layers - 1)[diff.position]:.4g} at step "
              f"{diff.position}, {diff.norms(quantity, diff.layers - 1)[last]:.4g} at step {last}")
    print(f"wrote {len(frame):,} rows to {args.out}; next-character change at the last step: total variation "
          f"{diff.total_variation[-1]:.4f}")
    return 0


def patch_command(args) -> int:
    run = load_run(args.run)
    model = character_model(run)
    units = parse_units(args.units, model.config.hidden_size) if args.units else None
    result = patch(model, run.vocab, args.source, args.text, args.source_step, args.step, args.layer, args.state,
                   units, args.length, args.temperature, args.seed)
    shown = ", ".join(q.replace("_", " ") for q in result.quantities)
    print(f"patched the {shown} of layer {result.layer} ({'all units' if units is None else f'units {units}'}) "
          f"after {''.join(result.source_chars[:result.source_step + 1])!r} into the text at step {result.target_step}")
    for name, patched in (("without", False), ("with", True)):
        best = "  ".join(f"{show_char(c)} {p:.3f}" for c, p in result.top(patched))
        sample = result.sample_patched if patched else result.sample_plain
        print(f"{name} the patch: next {best}\n  sample: {sample!r}")
    print(f"total variation after the whole text: {result.total_variation[-1]:.4f}")
    return 0


def probe_command(args) -> int:
    run = load_run(args.run)
    model = character_model(run)
    text = load_corpus(run.config.get("train", {}).get("corpus", "full")).valid_text[:args.chars]
    probes = train_probes(model, run.vocab, text, args.layer, args.state)
    frame = probe_frame(probes)
    if args.out:
        frame.to_csv(args.out, index=False, float_format="%.6g")
    print(frame.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.steer:
        chosen = next((p for p in probes if p.feature == args.steer), None)
        if chosen is None:
            raise WhyError(f"No probe of {args.steer!r} could be trained on this text.")
        for alpha in (0.0, args.alpha):
            written = steered_sample(model, run.vocab, args.prime, chosen, alpha, args.length, args.temperature, args.seed)
            print(f"alpha={alpha:g}: {written!r}")
    return 0


def add_commands(sub) -> None:
    """Add attribute, memory-diff, patch and probe to the command line's subcommands."""
    p = sub.add_parser("attribute", help="score each character of a text by its part in the next character's "
                                         "log-probability, as CSV (position,char,score)")
    p.add_argument("--run", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("--method", choices=list(METHODS), default="ig")
    p.add_argument("--target", help="the next character to explain (default: the one the model predicts)")
    p.add_argument("--steps", type=int, default=IG_STEPS, help="integration steps of integrated gradients")
    p.add_argument("--out", required=True)
    p.set_defaults(func=attribute_command)

    p = sub.add_parser("memory-diff", help="two texts one character apart: the state's change per step, as CSV "
                                           "(step,layer,quantity,norm)")
    p.add_argument("--run", required=True)
    p.add_argument("--text", required=True)
    p.add_argument("--position", type=int, required=True)
    p.add_argument("--char", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=memory_diff_command)

    p = sub.add_parser("patch", help="copy one text's state at a step into another text's run, and read on")
    p.add_argument("--run", required=True)
    p.add_argument("--source", required=True, help="the text whose state is copied")
    p.add_argument("--source-step", type=int, required=True)
    p.add_argument("--text", required=True, help="the text whose run receives it")
    p.add_argument("--step", type=int, required=True)
    p.add_argument("--layer", type=int, default=0)
    p.add_argument("--state", choices=[WHOLE, "hidden_state", "cell_state"], default=WHOLE)
    p.add_argument("--units", help="units to patch, e.g. 3,7 or 10-12 (default: all)")
    p.add_argument("--length", type=int, default=120)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=patch_command)

    p = sub.add_parser("probe", help="linear probes of a layer's state for the text features, scored on held-out "
                                     "validation text; optionally steer a sample along one")
    p.add_argument("--run", required=True)
    p.add_argument("--layer", type=int, default=0)
    p.add_argument("--state", choices=["hidden_state", "cell_state"], default="hidden_state")
    p.add_argument("--chars", type=int, default=PROBE_TEXT, help="characters of validation text read")
    p.add_argument("--out")
    p.add_argument("--steer", choices=list(FEATURES))
    p.add_argument("--alpha", type=float, default=5.0)
    p.add_argument("--prime", default="\n")
    p.add_argument("--length", type=int, default=200)
    p.add_argument("--temperature", type=float, default=0.8)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=probe_command)

