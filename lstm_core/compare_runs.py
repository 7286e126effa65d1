"""A comparison saved and loaded back: its runs in the run store, its setup in each run, and the shipped one.

Each contender's run records the comparison it belongs to in its ``config.json`` (``"comparison"``: the
setup and the ids of every contender's run, in the contenders' order), so its ids alone (the /compare
page's link, ``?runs=id1,id2,id3``) show it again, in any session::

    mark_comparison(setup, run_dirs)              # once the contenders' runs are created
    saved = load_comparison(run_dirs)             # SavedComparison: the setup and {label: run folder}
    shipped_comparison()                          # the finished one shipped in data/pretrained/compare-memory-50
    build_comparison(SHIPPED_SETUP, out)          # trains one with the project's own trainer (the command line)

The shipped comparison is the lesson's first step, as /compare trains it by default: LSTM vs GRU vs plain
RNN on the memory task at delay 50, with the memory task's default budget, steps and gate biases.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from .compare import TASK_DEFAULTS, CompareSetup, Contender
from .runs import CONFIG_FILE, OPTIMIZER_FILE, REPO_ROOT, RESUME_FILE, RunError, RunStore, read_config, write_json
from .snapshots import SnapshotStore

COMPARISON_KEY = "comparison"  # where a contender's run keeps its comparison, in its config.json
SHIPPED_COMPARISON_DIR = REPO_ROOT / "data" / "pretrained" / "compare-memory-50"
SHIPPED_DELAY = 50
SHIPPED_SETUP = CompareSetup("architectures", "memory", delay=SHIPPED_DELAY, **TASK_DEFAULTS["memory"])
SETUP_FIELDS = {f.name for f in fields(CompareSetup)}
KEPT_SNAPSHOTS = 6  # each run's training movie, thinned: the shipped folder stays about 1 MB


@dataclass(frozen=True)
class SavedComparison:
    """A comparison on disk: its setup, its contenders as trained (a comparison's list may have grown since)
    and each contender's run folder, in the contenders' order."""

    setup: CompareSetup
    contenders: tuple  # of Contender
    runs: dict  # {contender label: run folder (Path)}

    @property
    def ids(self) -> list[str]:
        return [path.name for path in self.runs.values()]


def mark_comparison(setup: CompareSetup, run_dirs: list[Path]) -> None:
    """Record in each contender's run the comparison it belongs to (its setup and every contender's run id)."""
    record = {"setup": setup.to_dict(), "contenders": [asdict(contender) for contender in setup.contenders],
              "runs": [Path(path).name for path in run_dirs]}
    for path in run_dirs:
        write_json(Path(path) / CONFIG_FILE, {**read_config(Path(path)), COMPARISON_KEY: record})


def _record(path: Path) -> dict:
    record = read_config(path).get(COMPARISON_KEY)
    if not isinstance(record, dict) or not isinstance(record.get("setup"), dict) or not isinstance(record.get("runs"), list):
        raise RunError(f"The run {path.name} is not part of a comparison.")
    return record


def load_comparison(run_dirs: list[Path]) -> SavedComparison:
    """The comparison these run folders (one per contender, any order) were trained for; a RunError when they
    are not exactly the runs of one comparison."""
    paths = [Path(path) for path in run_dirs]
    if not paths:
        raise RunError("A comparison needs its runs.")
    record = _record(paths[0])
    setup_dict = record["setup"]
    unknown = set(setup_dict) - SETUP_FIELDS
    if unknown:
        raise RunError(f"The comparison recorded in {paths[0].name} has unknown settings: {', '.join(sorted(unknown))}.")
    try:
        setup = CompareSetup(**setup_dict)
    except (TypeError, ValueError) as err:
        raise RunError(f"The comparison recorded in {paths[0].name} is not usable: {err}") from None
    try:
        contenders = tuple(Contender(**contender) for contender in record.get("contenders") or [])
        labels = [contender.label for contender in contenders]
    except (TypeError, KeyError, ValueError) as err:
        raise RunError(f"The contenders recorded in {paths[0].name} are not usable: {err}") from None
    by_id = {path.name: path for path in paths}
    if sorted(by_id) != sorted(record["runs"]) or len(record["runs"]) != len(contenders):
        raise RunError(f"The runs {', '.join(by_id)} are not the runs of one comparison "
                       f"(it has {', '.join(map(str, record['runs']))}).")
    for path in paths[1:]:
        if _record(path) != record:
            raise RunError(f"The run {path.name} belongs to another comparison than {paths[0].name}.")
    return SavedComparison(setup, contenders, {label: by_id[run_id] for label, run_id in zip(labels, record["runs"])})


def comparison_of_ids(store: RunStore, ids: list[str]) -> SavedComparison:
    """The comparison whose runs in ``store`` have these ids (a link's ``runs``); a RunError when it cannot be."""
    return load_comparison([store.path(run_id) for run_id in ids])


def comparison_runs_in(folder: Path) -> list[Path]:
    """The run folders directly under ``folder`` (a shipped comparison's)."""
    return sorted(path for path in Path(folder).iterdir() if (path / CONFIG_FILE).is_file())


def shipped_comparison(folder: Path = SHIPPED_COMPARISON_DIR) -> SavedComparison:
    """The finished comparison shipped with the app (``python -m lstm_core compare`` rebuilds it)."""
    if not Path(folder).is_dir():
        raise RunError(f"No comparison at {folder}: python -m lstm_core compare rebuilds it.")
    return load_comparison(comparison_runs_in(folder))


def build_comparison(setup: CompareSetup, out: Path,
                     on_eval: Callable[[str, dict, dict], None] | None = None) -> SavedComparison:
    """Train every contender of ``setup`` to its end in this process, one after the other, and leave their runs
    (weights, metrics, gate snapshots thinned to KEPT_SNAPSHOTS; not what only a continued training needs) in
    ``out``, replacing what was there. ``on_eval(label, row, metrics)`` follows each evaluation."""
    out = Path(out)
    staging = out.parent / f".staging-{out.name}"
    shutil.rmtree(staging, ignore_errors=True)
    store = RunStore(staging)
    trainings = setup.trainings(store)
    mark_comparison(setup, [training.run_dir for training in trainings])
    for contender, training in zip(setup.contenders, trainings):
        report = None if on_eval is None else (lambda row, metrics, label=contender.label: on_eval(label, row, metrics))
        training.run(on_eval=report)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    for training in trainings:
        for left_behind in (OPTIMIZER_FILE, RESUME_FILE):
            (training.run_dir / left_behind).unlink(missing_ok=True)
        SnapshotStore(training.run_dir, KEPT_SNAPSHOTS).thin()
        shutil.move(str(training.run_dir), out / training.run_dir.name)
    shutil.rmtree(staging, ignore_errors=True)
    return shipped_comparison(out)
