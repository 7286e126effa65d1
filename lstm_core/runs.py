"""The run store: every training is a folder on disk, indexed in SQLite.

A run folder holds
    config.json             what was trained, how, and on which vocabulary (plain JSON)
    model.safetensors       the weights (safetensors: plain tensors, nothing is ever unpickled)
    metrics.csv             one row per training step (and the validation losses)
    samples.json            text sampled from the model as it trained (optional)
    snapshots/              the gates on a fixed probe at moments of the training, a file per step
                            (what they hold is :mod:`lstm_core.snapshots`' business; the store moves files)
    status.json             the run's status (running, paused, finished...), so a lost index is rebuilt whole
    optimizer.safetensors   the optimizer's state and
    resume.json             the step, clock and learning rate, so that a paused run can be continued

The process that owns the store (the web server, or the command line) is the only one that writes
it. A training that runs elsewhere (a worker process, a Ray actor on another machine) sends its
checkpoints here as a :class:`Checkpoint`, files held in memory, and :meth:`RunStore.write_checkpoint`
writes them. Every file is written under a unique temporary name and then put in place in one
step, so a reader never sees half a file. Each run records who started it (``owner``, a keyed hash of
the browser's token: lstm_core.ownership), so that a shared server can let users change only their own runs.

Loading validates everything: a corrupt, foreign or hostile file is refused with
:class:`RunError`, whose message says what is wrong. Runs are exported and imported as zip files
holding exactly those files; the modules that own a file's contents register checks of an
imported zip (:func:`register_import_check`).

The store knows files, not models: the model a run holds is built by its kind, which its training
registers in :mod:`lstm_core.run_kinds`.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import threading
import time
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import save as safetensors_bytes

from .corpus import Vocab
from .import_checks import (ImportRefused, bounded_read, check_config, check_file_sizes, check_metrics, check_model_size,
                            check_samples)
from .ownership import is_digest, recorded_owner
from .run_kinds import build_model

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
METRICS_FILE = "metrics.csv"
SAMPLES_FILE = "samples.json"
STATUS_FILE = "status.json"
OPTIMIZER_FILE = "optimizer.safetensors"
RESUME_FILE = "resume.json"
RUN_FILES = (CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE, SAMPLES_FILE)  # what an exported zip holds
SNAPSHOT_DIR = "snapshots"  # and its gate snapshots, one file per step (lstm_core.snapshots)
SNAPSHOT_FILE = re.compile(rf"^{SNAPSHOT_DIR}/\d{{9}}\.safetensors$")  # a snapshot's file: its zero-padded step
FORMAT = "lstm-lab-run/1"
MAX_IMPORT_BYTES = 200_000_000
REPO_ROOT = Path(__file__).resolve().parent.parent
PRETRAINED_DIR = REPO_ROOT / "data" / "pretrained" / "moliere"
FULL_READ_BYTES = 2_000_000  # a metrics file up to this size is read whole for drawing; a larger one is thinned
MAX_SAMPLED_ROWS = 2_000  # about how many rows of a large metrics file a drawing keeps
METRICS_CHUNK_ROWS = 50_000  # rows of a large metrics file held in memory at once while it is thinned
RECENT_STEPS = 20  # the window of "recent" training figures (loss averaged, throughput's median)
UNFINISHED = ("created", "queued", "running")  # statuses only a live trainer may hold
_held: set[str] = set()  # run folders a live trainer of this process holds (training, or paused in a tab)
_held_lock = threading.Lock()


def default_store_root() -> Path:
    """Where runs are kept: ``LSTM_LAB_RUNS``, or ``runs/`` beside the app."""
    return Path(os.environ.get("LSTM_LAB_RUNS", REPO_ROOT / "runs"))


def _held_key(run_dir) -> str:
    return str(Path(run_dir).resolve())


def hold(run_dir) -> None:
    """A trainer now holds this run: no one may delete it or continue it elsewhere."""
    with _held_lock:
        _held.add(_held_key(run_dir))


def release(run_dir) -> None:
    with _held_lock:
        _held.discard(_held_key(run_dir))


def is_held(run_dir) -> bool:
    """Whether a live trainer (in any session of this server) holds this run."""
    return _held_key(run_dir) in _held


class RunError(ValueError):
    """A run that cannot be loaded or stored; the message says why, for the user."""


ImportCheck = Callable[[dict, dict], None]  # (an imported run's settings, its snapshot files: name -> bytes)
IMPORT_CHECKS: list[ImportCheck] = []  # run by import_zip, in memory, before anything is written; each raises to refuse


def register_import_check(check: ImportCheck) -> ImportCheck:
    """Have :meth:`RunStore.import_zip` run ``check`` on every imported zip (the module that owns a
    file's contents registers it at import: :mod:`lstm_core.snapshots` checks the snapshots)."""
    if check not in IMPORT_CHECKS:
        IMPORT_CHECKS.append(check)
    return check


@dataclass
class Run:
    """A loaded run: the model ready for inference, its vocabulary, settings and metrics."""

    path: Path
    model: torch.nn.Module
    vocab: Vocab | None
    config: dict
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def name(self) -> str:
        return self.config.get("name") or self.path.name


def temporary_twin(path: Path) -> Path:
    """A unique temporary name beside ``path``: write there, then replace ``path`` in one step, so a
    reader never sees half a file and two writers never share a temporary file."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a unique temporary twin, then one replace."""
    tmp = temporary_twin(path)
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def weights_bytes(model: torch.nn.Module) -> bytes:
    """The model's tensors as a safetensors file, in memory."""
    return safetensors_bytes({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()})


def save_weights(model: torch.nn.Module, path: Path) -> None:
    """Write the model's tensors atomically (a reader never sees half a file)."""
    write_atomic(path, weights_bytes(model))


def json_bytes(data) -> bytes:
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


def write_json(path: Path, data, make_folder: bool = False) -> None:
    """Write ``data`` as JSON atomically (into a new folder too, with ``make_folder``)."""
    if make_folder:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json_bytes(data))


@dataclass
class Checkpoint:
    """One save of a training, held in memory until the store's owner writes it.

    ``files`` maps a run file's name to its bytes, in the order they are written (the weights
    before the metrics: a page reloads a model when its weights change); ``config_updates`` are
    merged into ``config.json`` first; ``figures`` are the index's headline numbers
    (:func:`run_figures` of the metrics).
    """

    status: str
    files: dict[str, bytes]
    figures: dict
    config_updates: dict = field(default_factory=dict)


def read_config(path: Path) -> dict:
    try:
        return parse_config((path / CONFIG_FILE).read_bytes(), path.name)
    except FileNotFoundError:
        raise RunError(f"{path.name} has no {CONFIG_FILE}: it is not an LSTM Lab run.") from None


def parse_config(data: bytes, label: str = "the uploaded zip") -> dict:
    """A run's settings from its config.json's bytes; RunError unless it is one of ours."""
    try:
        config = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunError(f"{CONFIG_FILE} of {label} is not valid JSON ({err}).") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise RunError(f"{label} is not an LSTM Lab run (its {CONFIG_FILE} lacks format {FORMAT!r}).")
    return config


def load_run(path, map_location: str = "cpu") -> Run:
    """Load and validate a run folder; refuse anything that is not exactly what we wrote."""
    path = Path(path)
    if not path.is_dir():
        raise RunError(f"No run folder at {path}.")
    config = read_config(path)
    try:
        check_model_size(config, build_model)  # its size, then its types and vocabulary, before building it
        check_config(config)
        model = build_model(config)
    except (KeyError, TypeError, ValueError) as err:
        raise RunError(f"The settings in {path.name}/{CONFIG_FILE} are not usable: {err}") from None
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        raise RunError(f"{path.name} has no saved weights yet ({WEIGHTS_FILE} is missing).")
    model.load_state_dict(read_weights(weights.read_bytes(), model, path.name))
    model.to(map_location).eval()
    vocab = Vocab(config["vocab"]) if "vocab" in config else None
    return Run(path, model, vocab, config, read_metrics(path))


def read_weights(data: bytes, model: torch.nn.Module, label: str) -> dict:
    """Parse safetensors bytes and check every tensor's name and shape against ``model``."""
    try:
        tensors = load_safetensors_bytes(data)
    except (SafetensorError, ValueError, RuntimeError, Exception) as err:  # noqa: BLE001 - any parse failure
        raise RunError(f"The weights of {label} are corrupt or not a safetensors file ({type(err).__name__}).") from None
    expected = {k: v.shape for k, v in model.state_dict().items()}
    if set(tensors) != set(expected):
        missing = sorted(set(expected) - set(tensors))[:3]
        extra = sorted(set(tensors) - set(expected))[:3]
        raise RunError(f"The weights of {label} do not match its settings (missing {missing}, unexpected {extra}).")
    for key, shape in expected.items():
        if tensors[key].shape != shape:
            raise RunError(f"The weights of {label} do not match its settings: {key} is "
                           f"{tuple(tensors[key].shape)}, expected {tuple(shape)}.")
        if not torch.isfinite(tensors[key]).all():
            raise RunError(f"The weights of {label} contain NaN or infinite values ({key}).")
    return tensors


def read_status(path: Path) -> str:
    """A run's status as its folder records it ("saved" for a folder that records none)."""
    try:
        status = json.loads((path / STATUS_FILE).read_text(encoding="utf-8")).get("status")
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return "saved"
    return status if isinstance(status, str) else "saved"


def read_metrics(path: Path) -> pd.DataFrame:
    file = path / METRICS_FILE
    if not file.is_file() or file.stat().st_size == 0:
        return pd.DataFrame()
    try:
        frame = pd.read_csv(file)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        return pd.DataFrame()
    return frame.apply(pd.to_numeric, errors="coerce")  # a damaged value is a gap, never a crash downstream


def read_metrics_sample(path: Path, max_rows: int = MAX_SAMPLED_ROWS) -> pd.DataFrame:
    """A run's metrics thinned to about ``max_rows`` rows for drawing, never the whole file in memory: a file
    up to :data:`FULL_READ_BYTES` is read whole; a larger one is streamed in chunks, keeping every k-th row
    (k from the file's row count), every evaluation row (validation loss or accuracy: they are sparse) thinned the
    same way if they alone are too many, and always the last row (the run's final values)."""
    file = path / METRICS_FILE
    if not file.is_file() or file.stat().st_size <= FULL_READ_BYTES:
        return read_metrics(path)
    kept, last, seen = [], None, 0
    try:
        with open(file, "rb") as raw:  # count the rows a megabyte at a time
            rows = sum(block.count(b"\n") for block in iter(lambda: raw.read(1 << 20), b"")) - 1
        every = max(1, -(-rows // max_rows))
        for chunk in pd.read_csv(file, chunksize=METRICS_CHUNK_ROWS):
            chunk = chunk.apply(pd.to_numeric, errors="coerce")
            positions = np.arange(seen, seen + len(chunk))
            evaluated = chunk.filter(regex=r"^valid_").notna().any(axis=1).to_numpy()
            kept.append(chunk[(positions % every == 0) | evaluated])
            last, seen = chunk.iloc[[-1]], seen + len(chunk)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError):
        return pd.DataFrame()
    if last is None:
        return pd.DataFrame()
    frame = pd.concat(kept + [last])
    frame = frame[~frame.index.duplicated(keep="last")]
    if len(frame) > 2 * max_rows:  # evaluations alone are too many: thin them all evenly
        frame = pd.concat([frame.iloc[:-1:-(-len(frame) // max_rows)], frame.iloc[[-1]]])
    return frame.reset_index(drop=True)


def snapshot_files(path) -> list[Path]:
    """A run's snapshot files, oldest first (each is named by its zero-padded step)."""
    folder = Path(path) / SNAPSHOT_DIR
    if not folder.is_dir():
        return []
    return sorted(file for file in folder.iterdir() if SNAPSHOT_FILE.match(f"{SNAPSHOT_DIR}/{file.name}"))


def recent_train_loss(metrics: pd.DataFrame, window: int = RECENT_STEPS) -> float | None:
    """The training loss of the last ``window`` steps, averaged (one batch's loss is noisy)."""
    if "train_loss" not in metrics or metrics.empty:
        return None
    return float(metrics["train_loss"].tail(window).mean())


def run_figures(metrics: pd.DataFrame) -> dict:
    """The index's headline figures of a run's metrics: seconds, steps, recent train loss, best validation loss."""
    figures = {"seconds": None, "steps": None, "train_loss": None, "best_valid_loss": None}
    if len(metrics):
        figures["seconds"] = float(metrics["seconds"].iloc[-1]) if "seconds" in metrics else None
        figures["steps"] = int(metrics["step"].iloc[-1]) if "step" in metrics else None
        if "train_loss" in metrics:
            figures["train_loss"] = recent_train_loss(metrics)
        if "valid_loss" in metrics and metrics["valid_loss"].notna().any():
            figures["best_valid_loss"] = float(metrics["valid_loss"].min())
    return figures


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "run"


class RunStore:
    """All runs under one folder, indexed in ``index.sqlite`` (rebuilt from the folders if lost)."""

    COLUMNS = ("id", "name", "kind", "status", "created", "updated", "seconds", "steps", "train_loss",
               "best_valid_loss", "summary", "owner")

    def __init__(self, root):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db_path = self.root / "index.sqlite"
        with self._connect() as db:
            db.execute("""CREATE TABLE IF NOT EXISTS runs (
                id TEXT PRIMARY KEY, name TEXT, kind TEXT, status TEXT, created REAL, updated REAL,
                seconds REAL, steps INTEGER, train_loss REAL, best_valid_loss REAL, summary TEXT, owner TEXT)""")
            if "owner" not in {column[1] for column in db.execute("PRAGMA table_info(runs)")}:
                db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")  # an index made before runs had owners
            legacy = [row[0] for row in db.execute("SELECT id, owner FROM runs") if row[1] and not is_digest(row[1])]
        for run_id in legacy:  # runs that recorded a raw token: hashed now (update rewrites them)
            if (self.root / run_id / CONFIG_FILE).is_file():
                self.update(self.root / run_id)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self._db_path, timeout=10)

    def create(self, name: str, config: dict, owner: str | None = None) -> Path:
        """A new, empty run folder with its config written; returns its path. ``owner`` is who started
        it (a browser session's id on the app; None from the command line)."""
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{slugify(name)}-{uuid.uuid4().hex[:4]}"
        path = self.root / run_id
        path.mkdir()
        config = {**config, "format": FORMAT, "name": name, "id": run_id, "created": time.time(),
                  "owner": recorded_owner(owner, self.root)}
        write_json(path / CONFIG_FILE, config)
        self.update(path, status="created")
        return path

    def update(self, path: Path, status: str | None = None, metrics: pd.DataFrame | None = None,
               figures: dict | None = None) -> None:
        """Refresh the index row of a run from its folder, with a new status and metrics (or their
        :func:`run_figures`) if given.

        What is not given is kept: the status (from ``status.json``) and the figures (re-read from
        ``metrics.csv``), so renaming a run or marking it diverged loses nothing.
        """
        config = read_config(path)
        owner = recorded_owner(config.get("owner"), self.root)
        if owner != config.get("owner"):  # a legacy raw token (or junk): the token never stays on disk
            config["owner"] = owner
            write_json(path / CONFIG_FILE, config)
        if status is None:
            status = read_status(path)
        else:
            write_json(path / STATUS_FILE, {"status": status, "updated": time.time()})
        if figures is None:
            figures = run_figures(read_metrics(path) if metrics is None else metrics)
        row = {"id": path.name, "name": config.get("name", path.name), "kind": config.get("kind", "char"),
               "status": status, "created": config.get("created", 0.0), "updated": time.time(),
               "summary": config.get("summary", ""), "owner": owner, **figures}
        with self._lock, self._connect() as db:
            db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(self.COLUMNS)}) "
                       f"VALUES ({', '.join(':' + name for name in self.COLUMNS)})", row)

    def write_checkpoint(self, path: Path, checkpoint: Checkpoint) -> None:
        """Write a training's checkpoint into its run folder (each file atomically), then index it."""
        path = Path(path)
        if not path.is_dir():
            raise RunError(f"The run {path.name} is gone (deleted while it trained?); its checkpoint is dropped.")
        if checkpoint.config_updates:
            write_json(path / CONFIG_FILE, {**read_config(path), **checkpoint.config_updates})
        for name, data in checkpoint.files.items():
            write_atomic(path / name, data)
        self.update(path, status=checkpoint.status, figures=checkpoint.figures)

    def write_snapshot(self, path: Path, snapshot) -> int:
        """Write a training's gate snapshot into its run folder; returns the bytes written. The snapshot
        writes its own file and keeps the folder in its bounds (:meth:`lstm_core.snapshots.Snapshot.write_into`);
        the store refuses a run that is gone."""
        path = Path(path)
        if not path.is_dir():
            raise RunError(f"The run {path.name} is gone (deleted while it trained?); its snapshot is dropped.")
        return snapshot.write_into(path)

    def discard_snapshots_after(self, path: Path, step: int) -> None:
        """Forget a run's snapshots taken after ``step``: the training went back to its checkpoint there."""
        for file in snapshot_files(path):
            if int(file.stem) > step:
                file.unlink(missing_ok=True)

    def claim(self, path: Path, owner: str | None) -> None:
        """Record ``owner`` (a browser's token; its keyed hash is kept) as who started a run, unless it has an
        owner already."""
        config = read_config(path)
        if config.get("owner") is None and owner is not None:
            write_json(path / CONFIG_FILE, {**config, "owner": recorded_owner(owner, self.root)})
            self.update(path)

    def list(self) -> pd.DataFrame:
        """Every run, newest first, with its headline figures; folders not yet indexed are added."""
        with self._connect() as db:
            known = {r[0] for r in db.execute("SELECT id FROM runs")}
        for folder in self.root.iterdir():
            if folder.is_dir() and folder.name not in known and (folder / CONFIG_FILE).is_file():
                try:
                    self.update(folder)
                except RunError:
                    continue
        with self._connect() as db:
            frame = pd.read_sql_query("SELECT * FROM runs ORDER BY created DESC", db)
        present = frame["id"].map(lambda run_id: (self.root / run_id).is_dir()).astype(bool)
        return frame[present].reset_index(drop=True)

    def recover_interrupted(self) -> list[str]:
        """Runs left running, queued or created by a process that is gone (killed, or the machine lost
        power) are marked paused, so that they are offered to be continued; returns their ids.

        Call it when a server starts, before its trainers start: no live trainer holds them then.
        """
        recovered = []
        for row in self.list().itertuples():
            path = self.root / row.id
            if row.status in UNFINISHED and not is_held(path):
                self.update(path, status="paused")
                recovered.append(row.id)
        return recovered

    def path(self, run_id: str) -> Path:
        path = (self.root / run_id).resolve()
        if path.parent != self.root.resolve() or not path.is_dir():
            raise RunError(f"No run {run_id!r} in the store.")
        return path

    def rename(self, run_id: str, name: str) -> None:
        name = name.strip()
        if not name:
            raise RunError("A run's name cannot be empty.")
        path = self.path(run_id)
        config = read_config(path)
        config["name"] = name[:80]
        write_json(path / CONFIG_FILE, config)
        self.update(path)

    def delete(self, run_id: str) -> None:
        """Delete a run for good; refused while a trainer holds it (training, or paused in a tab)."""
        path = self.path(run_id)
        if is_held(path):
            raise RunError("This run is still held by a training (running, or paused in a browser tab); "
                           "stop it there first, then delete it.")
        shutil.rmtree(path)
        self.forget(run_id)

    def forget(self, run_id: str) -> None:
        """Drop a run's row from the index (its folder is gone, or was never finished)."""
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM runs WHERE id = ?", (run_id,))

    def import_zip(self, data: bytes, owner: str | None = None) -> Path:
        """Add a run from an exported zip, after validating every file in it; ``owner`` imported it."""
        if not data:
            raise RunError("The uploaded file is empty.")
        if len(data) > MAX_IMPORT_BYTES:
            raise RunError(f"The uploaded file is larger than {MAX_IMPORT_BYTES // 1_000_000} MB.")
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            raise RunError("The uploaded file is not a zip exported from LSTM Lab's Runs page.") from None
        unexpected = [n for n in names if n not in RUN_FILES and not SNAPSHOT_FILE.match(n)]
        if unexpected or CONFIG_FILE not in names or WEIGHTS_FILE not in names:
            raise RunError(f"The zip must hold {CONFIG_FILE} and {WEIGHTS_FILE} (and optionally "
                           f"{METRICS_FILE}, {SAMPLES_FILE} and snapshots/) at its top level; found {names[:6]}.")
        if sum(info.file_size for info in archive.infolist()) > MAX_IMPORT_BYTES:
            raise RunError("The zip unpacks to more than the size limit.")
        try:
            check_file_sizes({info.filename: info.file_size for info in archive.infolist()}, MAX_IMPORT_BYTES)
            files = {info.filename: bounded_read(archive, info) for info in archive.infolist()}
        except ImportRefused as err:
            raise RunError(f"The uploaded zip is not a usable run: {err}") from None
        snapshots = [name for name in names if SNAPSHOT_FILE.match(name)]
        try:  # every file is checked in memory; nothing is written before all pass
            config = parse_config(files[CONFIG_FILE])
            check_model_size(config, build_model)
            check_config(config)
            read_weights(files[WEIGHTS_FILE], build_model(config), "the uploaded zip")
            check_metrics(files.get(METRICS_FILE, b""))
            if SAMPLES_FILE in files:
                check_samples(files[SAMPLES_FILE])
            for check in IMPORT_CHECKS:  # the checks the modules owning a file's contents registered
                check(config, {name: files[name] for name in snapshots})
        except ImportRefused as err:
            raise RunError(f"The uploaded zip is not a usable run: {err}") from None
        except RunError:  # already says which file and why
            raise
        except (KeyError, TypeError, ValueError) as err:
            raise RunError(f"The settings in the uploaded zip are not usable: {err}") from None
        name = config.get("name") or "imported"
        path = self.create(f"{name[:69]} (imported)", {k: v for k, v in config.items()
                                                       if k not in ("id", "created", "name", "owner")}, owner=owner)
        try:
            for name in names:
                if name != CONFIG_FILE:
                    (path / name).parent.mkdir(exist_ok=True)
                    write_atomic(path / name, files[name])
            self.update(path, status="imported")
        except BaseException:  # a refused or failed import leaves nothing behind
            shutil.rmtree(path, ignore_errors=True)
            self.forget(path.name)
            raise
        return path


def export_zip(path) -> bytes:
    """A run folder as a zip (the files :meth:`RunStore.import_zip` accepts), its gate snapshots included;
    its config.json leaves out who owns it."""
    path = Path(path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in RUN_FILES:
            if name == CONFIG_FILE:  # who owns it stays on this server
                archive.writestr(name, json_bytes({k: v for k, v in read_config(path).items() if k != "owner"}))
            elif (path / name).is_file():
                archive.write(path / name, name)
        for file in snapshot_files(path):
            archive.write(file, f"{SNAPSHOT_DIR}/{file.name}")
    return buffer.getvalue()
