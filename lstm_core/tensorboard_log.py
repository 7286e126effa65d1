"""A run's history in TensorBoard, written with ``torch.utils.tensorboard`` (optional, as Ray is).

    python -m lstm_core export-tensorboard --run DIR --out LOGDIR     # a saved run, whole
    python -m lstm_core train ... --tensorboard LOGDIR                # a training, as it goes
    tensorboard --logdir LOGDIR

What is written, from the run folder alone (so it is the same wherever the training ran):

    scalars     every column of ``metrics.csv`` (train_loss, valid_loss, lr, grad_norm, chars_per_sec, the bits
                per character, seconds...), tagged by the column's name, at each row's step
    text        each preview sample (``samples.json``), tagged ``samples``, at its step
    histograms  every gate and state of every gate snapshot (``snapshots/``), tagged ``forget_gate/layer 0``,
                at the snapshot's step

:class:`TensorBoardLog` writes what is new each time :meth:`~TensorBoardLog.catch_up` is called: an export
calls it once, a live log (:func:`follow`) every few seconds while the run is training (a run's files are
rewritten at each checkpoint, so a live log is as fresh as the last checkpoint). TensorBoard is loaded only
when a log is opened: without it the message says how to install it (``requirements-tensorboard.txt``).
"""

from __future__ import annotations

import importlib
import json
import math
import threading
from pathlib import Path

import numpy as np

from .runs import SAMPLES_FILE, UNFINISHED, RunError, is_held, read_config, read_metrics, read_status, snapshot_files
from .snapshots import Snapshot

INSTALL = "TensorBoard is not installed: pip install -r requirements-tensorboard.txt (or pip install tensorboard)"
FOLLOW_SECONDS = 2.0  # how often a live log looks for a newer checkpoint
LOG_FOLDER = "tensorboard"  # the app's logs: <run store>/tensorboard/<run id> (tensorboard --logdir <store>/tensorboard)


class TensorBoardMissing(RunError):
    """The optional tensorboard package is not installed; the message says how to install it."""


def tensorboard_module():
    """``torch.utils.tensorboard``, loaded now (importing it takes over a second); TensorBoardMissing without it."""
    try:
        return importlib.import_module("torch.utils.tensorboard")
    except ImportError:
        raise TensorBoardMissing(INSTALL) from None


def summary_writer(logdir):
    """A ``torch.utils.tensorboard.SummaryWriter`` on ``logdir``."""
    return tensorboard_module().SummaryWriter(log_dir=str(logdir))


class TensorBoardLog:
    """Writes a run folder's metrics, samples and snapshots to a TensorBoard log, each once."""

    def __init__(self, run_dir, logdir):
        self.run_dir = Path(run_dir)
        read_config(self.run_dir)  # refuses a folder that is not a run
        self.writer = summary_writer(logdir)
        self.last_step = -1  # the last metrics step written, and its tags written (a value may come later:
        self.last_tags: set[str] = set()  # the whole validation loss is added to the last row at the end)
        self.samples_seen: set[tuple] = set()
        self.snapshots_seen: set[str] = set()

    def catch_up(self) -> dict[str, int]:
        """Write what the run folder holds that is not written yet; returns what was written, by kind."""
        written = {"scalars": self._metrics(), "samples": self._samples(), "histograms": self._snapshots()}
        self.writer.flush()
        return written

    def _metrics(self) -> int:
        metrics = read_metrics(self.run_dir)
        if metrics.empty or "step" not in metrics:
            return 0
        count = 0
        for row in metrics[metrics["step"] >= self.last_step].itertuples(index=False):  # the last row may have grown
            values = row._asdict()
            step = int(values.pop("step"))
            if step > self.last_step:
                self.last_step, self.last_tags = step, set()
            for tag, value in values.items():
                if tag not in self.last_tags and value is not None and math.isfinite(value):
                    self.writer.add_scalar(tag, float(value), step)
                    self.last_tags.add(tag)
                    count += 1
        return count

    def _samples(self) -> int:
        try:
            samples = json.loads((self.run_dir / SAMPLES_FILE).read_text(encoding="utf-8"))
        except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError):
            return 0
        count = 0
        for sample in samples if isinstance(samples, list) else []:
            if not isinstance(sample, dict) or not isinstance(sample.get("step"), int):
                continue
            key = (sample["step"], sample.get("prime", ""), sample.get("text", ""))
            if key in self.samples_seen:
                continue
            self.samples_seen.add(key)
            text = str(sample.get("prime", "")) + str(sample.get("text", ""))
            self.writer.add_text("samples", "    " + text.replace("\n", "\n    "), sample["step"])  # verbatim
            count += 1
        return count

    def _snapshots(self) -> int:
        count = 0
        for file in snapshot_files(self.run_dir):
            if file.name in self.snapshots_seen:
                continue
            try:
                snapshot = Snapshot.from_bytes(file.read_bytes(), file.name)
            except (OSError, ValueError):  # thinned away while read, or damaged: passed over
                continue
            self.snapshots_seen.add(file.name)
            for quantity, values in snapshot.values.items():
                for slot, name in enumerate(snapshot.slots or [f"layer {k}" for k in range(len(values))]):
                    self.writer.add_histogram(f"{quantity}/{name}", np.asarray(values[slot], np.float32),
                                              snapshot.step)
                    count += 1
        return count

    def close(self) -> None:
        self.writer.close()


def app_logdir(run_dir) -> Path:
    """Where the app logs a run for TensorBoard: ``tensorboard/<run id>`` beside the run folders (never a path a
    browser chooses)."""
    run_dir = Path(run_dir)
    return run_dir.parent / LOG_FOLDER / run_dir.name


def export_tensorboard(run_dir, logdir) -> dict[str, int]:
    """Write a saved run's whole history to a TensorBoard log; returns what was written, by kind."""
    log = TensorBoardLog(run_dir, logdir)
    try:
        return log.catch_up()
    finally:
        log.close()


class LiveLog:
    """Logs a training to TensorBoard as it goes: a thread that catches up every ``every`` seconds while the run
    is training (or held by a trainer), then once more at its end, and closes the log. The log is opened here,
    so a missing tensorboard is refused before the training starts."""

    def __init__(self, run_dir, logdir, every: float = FOLLOW_SECONDS):
        self.log = TensorBoardLog(run_dir, logdir)
        self.every = every
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._watch, name=f"tensorboard-{Path(run_dir).name}", daemon=True)
        self.thread.start()

    def _watch(self) -> None:
        try:
            while not self._stop.wait(self.every):
                self.log.catch_up()
                status = read_status(self.log.run_dir)
                if status not in UNFINISHED and (status != "paused" or not is_held(self.log.run_dir)):
                    break  # ended (a run paused in a tab may be resumed there: it is followed on)
            self.log.catch_up()
        except (OSError, ValueError):  # the run folder went away: what was written stays
            pass
        finally:
            self.log.close()

    def finish(self, timeout: float = 60.0) -> None:
        """Catch up once more now, close the log, and wait for it (the training has ended)."""
        self._stop.set()
        self.thread.join(timeout)
