"""The command line's way in and out (added to ``python -m lstm_core`` by :mod:`lstm_core.cli`).

    python -m lstm_core import-model --weights FILE.pt|FILE.safetensors --vocab FILE.json --out STORE
                                     [--name NAME] [--map FILE.json]
    python -m lstm_core export-tensorboard --run DIR --out LOGDIR    # scalars, samples, gate histograms
    python -m lstm_core export-notebook --run DIR --view gates|generate|cell|compare|why|training [--text TEXT]
                                        [--setting NAME=VALUE ...] --out FILE.ipynb
"""

from __future__ import annotations

from pathlib import Path

from .model_import import MAX_VOCAB_BYTES, MAX_WEIGHTS_BYTES, import_model
from .runs import RunError, RunStore, load_run
from .compare_runs import COMPARISON_KEY
from .notebooks import VIEWS, Source, notebook_bytes
from .runs import PRETRAINED_DIR, read_config
from .tensorboard_log import export_tensorboard


def read_bounded(path: str, limit: int, what: str) -> bytes:
    """A file's bytes, refused past ``limit`` (before reading it) with a sentence naming it."""
    file = Path(path)
    if not file.is_file():
        raise RunError(f"No {what} file at {path}.")
    if file.stat().st_size > limit:
        raise RunError(f"The {what} file {file.name} is larger than {limit // 1_000_000} MB.")
    return file.read_bytes()


def import_model_command(args) -> int:
    """Open a character model trained elsewhere and save it as a run."""
    mapping = read_bounded(args.map, MAX_VOCAB_BYTES, "key map") if args.map else None
    path = import_model(RunStore(args.out), read_bounded(args.weights, MAX_WEIGHTS_BYTES, "weights"),
                        Path(args.weights).name, read_bounded(args.vocab, MAX_VOCAB_BYTES, "vocabulary"),
                        Path(args.vocab).name, name=args.name, mapping=mapping)
    run = load_run(path)
    config, keys = run.model.config, run.config["imported"]["keys"]
    print(f"imported {run.model.arch.display_name}: {config.num_layers} layer(s) of {config.hidden_size} units, "
          f"embedding {config.embedding_dim}, {config.vocab_size} characters (keys: "
          + ", ".join(f"{role} {prefix!r}" for role, prefix in keys.items()) + ")")
    print(f"run saved in {path}")
    return 0


def export_tensorboard_command(args) -> int:
    """Write a saved run's scalars, preview samples and gate histograms to a TensorBoard log."""
    if not Path(args.run).is_dir():
        raise RunError(f"No run folder at {args.run}.")
    written = export_tensorboard(args.run, args.out)
    print(f"wrote {written['scalars']:,} scalars, {written['samples']} samples and {written['histograms']} histograms "
          f"of {Path(args.run).name} to {args.out}; view them with: tensorboard --logdir {args.out}")
    return 0


TEXT_SETTING = {"gates": "text", "generate": "prime", "cell": "text", "why": "text"}  # what --text sets in each view


def export_notebook_command(args) -> int:
    """Write a view of a run as a runnable notebook, with the settings its page's link would carry."""
    settings = {}
    for pair in args.setting or []:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ValueError(f"--setting takes NAME=VALUE, got {pair!r}")
        settings[name] = value
    if args.text is not None:
        if args.view not in TEXT_SETTING:
            raise ValueError(f"the {args.view} view takes no --text")
        settings[TEXT_SETTING[args.view]] = args.text
        if args.view == "gates":
            settings["source"] = "typed"
    run_dir = Path(args.run) if args.run else (None if args.view == "compare" else PRETRAINED_DIR)
    if run_dir is not None and not run_dir.is_dir():
        raise RunError(f"No run folder at {run_dir}.")
    if args.view == "compare" and run_dir is not None:  # the comparison this run is part of
        record = read_config(run_dir).get(COMPARISON_KEY)
        if not isinstance(record, dict) or not record.get("runs"):
            raise RunError(f"{run_dir.name} is not part of a comparison.")
        settings["runs"] = ",".join(map(str, record["runs"]))
    if run_dir is not None and args.view != "compare":
        settings.setdefault("run", "pretrained" if run_dir.resolve() == PRETRAINED_DIR.resolve() else run_dir.name)
    if not str(args.out).endswith(".ipynb"):
        raise ValueError(f"--out must name a .ipynb file, got {args.out!r}")
    data = notebook_bytes(args.view, settings, Source(run_dir=run_dir, store_root=run_dir.parent if run_dir else None))
    Path(args.out).write_bytes(data)
    print(f"wrote the {args.view} view of {run_dir.name if run_dir else 'the shipped comparison'} as a notebook to "
          f"{args.out}; run it with: jupyter nbconvert --to notebook --execute {args.out}")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("import-model", help="open a character model trained elsewhere (a state dict) as a run")
    p.add_argument("--weights", required=True, help="FILE.safetensors, or FILE.pt/.pth saved with "
                                                    "torch.save(model.state_dict(), ...)")
    p.add_argument("--vocab", required=True, help="FILE.json: the characters in index order, or char -> index")
    p.add_argument("--out", required=True, help="run store folder")
    p.add_argument("--name", help="the run's name (default: the weights file's)")
    p.add_argument("--map", help="FILE.json naming the key prefix of any of embedding, recurrent, head")
    p.set_defaults(func=import_model_command)

    p = sub.add_parser("export-tensorboard", help="write a run's metrics, samples and gate snapshots to TensorBoard")
    p.add_argument("--run", required=True, help="the run folder")
    p.add_argument("--out", required=True, help="the TensorBoard log folder")
    p.set_defaults(func=export_tensorboard_command)

    p = sub.add_parser("export-notebook", help="write a view of a run as a runnable Jupyter notebook")
    p.add_argument("--run", help="the run folder (default: the shipped model; for compare: the shipped comparison)")
    p.add_argument("--view", required=True, choices=sorted(VIEWS))
    p.add_argument("--text", help="the text traced (gates, cell), explained (why) or the prime (generate)")
    p.add_argument("--setting", action="append", metavar="NAME=VALUE",
                   help="any other setting of the view's link, e.g. temperature=0.5 or layer=1 (repeatable)")
    p.add_argument("--out", required=True, help="FILE.ipynb")
    p.set_defaults(func=export_notebook_command)
