"""The one training loop that every training shares: character models and the seed tasks alike.

After minGPT's ``Trainer.run``: :class:`Training` owns the budget (seconds or epochs), the learning
rate (warm-up, cosine decay, changed while it runs), the step template around a model-specific
loss, divergence checks, evaluation at intervals, previews, checkpoints in the run store, and
resumption from a checkpoint. It reports through callbacks and never imports the app::

    training = CharTraining(config, store=store)      # or TaggerTraining, ClassifierTraining
    finished = training.run(should_stop=lambda: False, on_step=print_row, on_eval=report, on_preview=show)

The command line, the benchmark and the app's trainers all drive :meth:`Training.run`, in this
process or in a worker (:mod:`lstm_core.execution.worker`): a training pickles (without its run store) and
saves itself through whatever stands in for the store, so a worker's checkpoints reach the process
that owns the run store. A subclass provides the model-specific parts:

    training_loss() -> (loss tensor, items in the batch)    one batch of the training data
    evaluate(full=False) -> {"valid_loss": ..., ...}       validation metrics (recorded on the last row)
    describe() -> dict                                      what the run's config.json holds
    from_saved(config) -> Training                          the same training rebuilt from config.json
    probe_trace() -> (tokens, {quantity: array})            the probe traced through the weights now
                                                            (each array (slots, time, units)), for snapshots
and may override ``row_extras`` (more columns per step), ``loss_ceiling`` (a loss that means the
training diverged), ``preview`` (a sample of what the model does now) and ``config_updates`` (what
a checkpoint adds to the run's config.json).

Gate snapshots (:mod:`lstm_core.snapshots`): when the config's ``snapshot_every_seconds`` is set, the
loop traces the probe when it starts, at every evaluation, at least every ``snapshot_every_seconds`` of
training and at the end, off the training clock, and hands each snapshot to the run store (a worker's
stand-in for it sends it to the store's owner), which keeps it in the run folder, thinned.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
import torch.nn as nn
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes

from ..limits import TRAINING_LIMITS, check_range
from ..runs import (METRICS_FILE, OPTIMIZER_FILE, RESUME_FILE, SAMPLES_FILE, WEIGHTS_FILE, Checkpoint, RunError,
                   RunStore, json_bytes, read_config, read_metrics, read_weights, run_figures, weights_bytes)
from ..snapshots import Snapshot

LOG2E = 1 / math.log(2)  # nats -> bits
LR_RANGE = TRAINING_LIMITS["lr"]
PROGRESS_FIELDS = ("step_count", "epoch", "train_seconds", "base_lr", "last_eval_at", "best_valid")


class TrainingDiverged(RuntimeError):
    """The loss became NaN or exploded; the message explains it in plain words."""


def optimizer_bytes(optimizer: torch.optim.Optimizer) -> tuple[bytes, list[dict]]:
    """The optimizer's moment tensors as safetensors bytes (nothing pickled), and its param groups."""
    state = optimizer.state_dict()
    tensors = {f"{index}.{name}": torch.as_tensor(value).detach().cpu().contiguous()
               for index, slots in state["state"].items() for name, value in slots.items()}
    return safetensors_bytes(tensors), state["param_groups"]


def load_optimizer(optimizer: torch.optim.Optimizer, folder: Path, param_groups: list[dict]) -> None:
    """Restore what :func:`save_optimizer` wrote; a corrupt or foreign file raises RunError."""
    try:
        tensors = load_file(str(folder / OPTIMIZER_FILE))
        state: dict[int, dict] = {}
        for key, value in tensors.items():
            index, name = key.split(".", 1)
            state.setdefault(int(index), {})[name] = value
        optimizer.load_state_dict({"state": state, "param_groups": param_groups})
    except Exception as err:  # noqa: BLE001 - any malformed file is refused the same way
        raise RunError(f"The optimizer state of this run cannot be read ({type(err).__name__}); "
                       "it cannot be continued, but it can still be inspected.") from None


def make_optimizer(model: nn.Module, name: str, lr: float, weight_decay: float) -> torch.optim.Optimizer:
    """AdamW (decoupled weight decay) or plain SGD, as a training's settings ask."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)


class Training:
    """One training, advanced by :meth:`step` or driven to its end by :meth:`run`; saves itself as a run.

    A subclass's ``__init__`` sets ``config`` (a :class:`~lstm_core.training.settings.TrainingSettings`:
    ``lr``, ``grad_clip``, ``schedule``, ``warmup_steps``, ``max_seconds``, ``epochs``,
    ``eval_every_seconds``...), ``model``, ``optimizer`` and ``steps_per_epoch``, then calls
    :meth:`start_bookkeeping`.
    """

    kind = "training"
    item_name = "items"  # what one trained item is, for throughput figures
    loss_per = "item"  # what the loss is averaged over: the unit it is reported in is nats per loss_per
    throughput_column = "items_per_sec"
    previews = False  # whether it samples what the model does now (preview, preview_temperature)
    probe_token = "char"  # what one step of the snapshots' probe is ("char" or "word")
    probe_features = False  # whether snapshots rank units against the probe's text features (Molière)

    def start_bookkeeping(self, store: RunStore | None, name: str) -> None:
        """The counters every training keeps, and its run folder (created now when there is a store)."""
        self.base_lr = self.config.lr
        self.step_count = 0
        self.epoch = 0
        self.train_seconds = 0.0
        self.rows: list[dict] = []
        self.samples: list[dict] = []  # {"step", "seconds", "text"}, for trainings that preview
        self.last_eval_at = 0.0
        self.last_preview_at = -math.inf
        self.best_valid = math.inf
        self.last_snapshot_at = -math.inf  # training seconds of the last gate snapshot
        self.last_snapshot_step: int | None = None
        self.store = store
        self.run_dir = store.create(name, self.describe()) if store is not None else None

    # -- what a subclass provides ---------------------------------------------------------
    def training_loss(self) -> tuple[torch.Tensor, int]:
        raise NotImplementedError

    def evaluate(self, full: bool = False) -> dict[str, float]:
        raise NotImplementedError

    def describe(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_saved(cls, config: dict) -> "Training":
        raise NotImplementedError

    def row_extras(self, loss_value: float) -> dict:
        """More columns for a step's metrics row (bits per character, say)."""
        return {}

    def loss_ceiling(self) -> float | None:
        """A training loss above which the training has diverged (None: only NaN or infinity)."""
        return None

    def preview_due(self) -> bool:
        return False

    def preview(self) -> dict:
        raise NotImplementedError

    def config_updates(self) -> dict:
        """What a checkpoint adds to the run's config.json (a summary line, a final evaluation)."""
        return {}

    def probe_trace(self) -> tuple[list[str], dict]:
        """The probe's tokens and every quantity traced on it through the current weights, each
        (slots, time, units); a training without one takes no snapshots."""
        raise NotImplementedError

    def probe_slots(self) -> list[str] | None:
        """Names of the traced arrays' first axis (None: "layer 0", "layer 1"...)."""
        return None

    def end_of_epoch(self, row: dict) -> None:
        """Called after the last step of every epoch (with its row), off the training clock."""

    # -- the budget and the learning rate --------------------------------------------------
    @property
    def total_steps(self) -> int | None:
        if self.config.epochs is None:
            return None
        return max(1, round(self.config.epochs * self.steps_per_epoch))

    def progress(self) -> float:
        """Fraction of the budget used, 0..1 (time or epochs, whichever ends first)."""
        done = []
        if self.config.max_seconds is not None:
            done.append(self.train_seconds / self.config.max_seconds)
        if self.total_steps is not None:
            done.append(self.step_count / self.total_steps)
        return min(1.0, max(done))

    def finished(self) -> bool:
        return self.progress() >= 1.0

    def set_lr(self, lr: float) -> None:
        check_range("learning rate", lr, *LR_RANGE)
        self.base_lr = lr

    def current_lr(self) -> float:
        """The base rate, warmed up linearly over the first steps, then cosine-decayed to 10% if asked."""
        lr = self.base_lr
        warmup = self.config.warmup_steps
        if warmup and self.step_count < warmup:
            lr *= (self.step_count + 1) / warmup
        if self.config.schedule == "cosine":
            lr *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * self.progress()))
        return lr

    # -- one step --------------------------------------------------------------------------
    def step(self) -> dict:
        """One optimisation step on the next batch; returns its metrics row."""
        started = time.perf_counter()
        self.model.train()
        lr = self.current_lr()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        loss, items = self.training_loss()
        loss_value = loss.item()
        self.check_loss(loss_value)
        grad_norm = self.apply_gradients(loss)
        elapsed = time.perf_counter() - started
        self.train_seconds += elapsed
        self.step_count += 1
        row = {"step": self.step_count, "epoch": self.step_count / self.steps_per_epoch,
               "seconds": self.train_seconds, "train_loss": loss_value, "valid_loss": math.nan,
               "grad_norm": grad_norm, "lr": lr, self.throughput_column: items / elapsed,
               **self.row_extras(loss_value)}
        self.rows.append(row)
        if self.step_count % self.steps_per_epoch == 0:
            self.end_of_epoch(row)
        return row

    def check_loss(self, loss_value: float) -> None:
        if not math.isfinite(loss_value):
            raise TrainingDiverged(self.divergence_message(f"the loss became {loss_value}"))
        ceiling = self.loss_ceiling()
        if ceiling is not None and self.step_count > 10 and loss_value > ceiling:
            raise TrainingDiverged(self.divergence_message(
                f"the loss reached {loss_value:.2f} nats, twice what uniform guessing costs ({ceiling / 2:.2f})"))

    def apply_gradients(self, loss: torch.Tensor) -> float:
        """Backpropagate ``loss``, clip, and update; returns the gradient norm before clipping."""
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip = self.config.grad_clip if self.config.grad_clip is not None else math.inf
        grad_norm = float(nn.utils.clip_grad_norm_(self.model.parameters(), clip))
        if not math.isfinite(grad_norm):
            raise TrainingDiverged(self.divergence_message(f"the gradient norm became {grad_norm}"))
        self.optimizer.step()
        return grad_norm

    def divergence_message(self, what: str) -> str:
        return (f"Training diverged at step {self.step_count}: {what}. The learning rate ({self.base_lr:g}) is too "
                "high for this model, so each update overshoots and the weights blow up. Lower the learning rate "
                f"(try {self.base_lr / 10:g}) or turn on gradient clipping. The last good checkpoint is kept.")

    # -- the loop --------------------------------------------------------------------------
    def evaluation_due(self) -> bool:
        return self.train_seconds - self.last_eval_at >= self.config.eval_every_seconds

    # -- gate snapshots --------------------------------------------------------------------
    def snapshots_on(self) -> bool:
        """Whether the loop takes snapshots: they are asked for, and there is a run to keep them in (a
        training without a store, the benchmark's, traces nothing)."""
        return getattr(self.config, "snapshot_every_seconds", None) is not None and self.store is not None

    def snapshot_due(self) -> bool:
        return self.snapshots_on() and self.train_seconds - self.last_snapshot_at >= self.config.snapshot_every_seconds

    def snapshot(self):
        """Trace the probe through the weights of this moment and hand the snapshot to the run store, if
        any (off the training clock); returns it (None when the settings turn snapshots off)."""
        if getattr(self.config, "snapshot_every_seconds", None) is None:
            return None
        tokens, values = self.probe_trace()
        snapshot = Snapshot.capture(self.step_count, self.train_seconds, tokens, values,
                                    text_units=self.probe_features, token=self.probe_token, slots=self.probe_slots())
        self.last_snapshot_at, self.last_snapshot_step = self.train_seconds, self.step_count
        if self.run_dir is not None and self.store is not None:
            self.store.write_snapshot(self.run_dir, snapshot)
        return snapshot

    def record_evaluation(self, metrics: dict[str, float]) -> dict[str, float]:
        """Put validation metrics on the newest row (they were measured after its step)."""
        self.last_eval_at = self.train_seconds
        if self.rows:
            self.rows[-1].update(metrics)
        self.best_valid = min(self.best_valid, metrics["valid_loss"])
        return metrics

    def run(self, should_stop: Callable[[], bool] | None = None, on_step: Callable[[dict], None] | None = None,
            on_eval: Callable[[dict, dict], None] | None = None,
            on_preview: Callable[[dict], None] | None = None) -> bool:
        """Train until the budget is used (True: then evaluated in full and saved as finished) or until
        ``should_stop()`` says so (False: the caller decides between :meth:`finish` and a paused save).

        Checkpoints are written at every evaluation; a diverging loss saves the last good weights
        with the status ``diverged`` and raises :class:`TrainingDiverged`.
        """
        # Vanishing gradients reach float32's denormal range, where a CPU computes 10-100x slower (a
        # plain RNN on the memory task trained 3x slower per step); flush them to zero in this thread.
        torch.set_flush_denormal(True)
        if self.snapshots_on() and self.last_snapshot_step != self.step_count:
            self.snapshot()  # the movie's first frame: the weights as this run (or this leg of it) starts
        while not self.finished():
            if should_stop is not None and should_stop():
                return False
            try:
                row = self.step()
            except TrainingDiverged:
                self.save(status="diverged")
                raise
            if on_step is not None:
                on_step(row)
            if self.evaluation_due():
                metrics = self.evaluate()
                self.save()
                if self.snapshots_on():
                    self.snapshot()
                if on_eval is not None:
                    on_eval(row, metrics)
            elif self.snapshot_due():
                self.snapshot()
            if self.preview_due():
                sample = self.preview()
                if on_preview is not None:
                    on_preview(sample)
        self.finish("finished")
        return True

    def finish(self, status: str) -> dict[str, float]:
        """The final, full evaluation and (for a training that previews) a sample of the final model, then
        the run saved with ``status`` (finished or stopped)."""
        metrics = self.evaluate(full=True)
        if self.previews and (not self.samples or self.samples[-1]["step"] != self.step_count):
            self.preview()  # the last sample shown is the final model's, not the one of the last preview step
        self.save(status=status)
        if self.snapshots_on():
            self.snapshot()  # the last frame: the weights saved with the run
        return metrics

    # -- saving and continuing -------------------------------------------------------------
    def metrics(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def checkpoint(self, status: str = "running") -> Checkpoint:
        """Everything a later :meth:`resume` needs, as files in memory (only ever taken of finite weights):
        samples, optimizer, progress and metrics, then the weights, in the order they are written (a run whose
        weights a page can read has its metrics, even on its first checkpoint)."""
        optimizer, groups = optimizer_bytes(self.optimizer)
        progress = {**{name: getattr(self, name) for name in PROGRESS_FIELDS}, "param_groups": groups}
        metrics = self.metrics()
        files = {SAMPLES_FILE: json_bytes(self.samples[-50:]), OPTIMIZER_FILE: optimizer,
                 RESUME_FILE: json_bytes(progress), METRICS_FILE: metrics.to_csv(index=False).encode("utf-8"),
                 WEIGHTS_FILE: weights_bytes(self.model)}
        return Checkpoint(status, files, run_figures(metrics), self.config_updates())

    def save(self, status: str = "running") -> None:
        """Checkpoint the training into its run: the store writes it (in a worker, the store's stand-in
        sends it to the process that owns the store)."""
        if self.run_dir is None or self.store is None:
            return
        self.store.write_checkpoint(self.run_dir, self.checkpoint(status))

    def __getstate__(self) -> dict:
        """What travels to a worker and back: everything but the run store, which stays with its owner."""
        state = dict(self.__dict__)
        state["store"] = None
        return state

    @classmethod
    def resume(cls, run_dir, store: RunStore) -> "Training":
        """Continue a saved run where it stopped: weights, optimizer, step, clock, metrics and samples.

        The run keeps its folder and budget. A run that never reached its first checkpoint (queued
        when the server stopped) starts from the beginning in the same folder.
        """
        run_dir = Path(run_dir)
        saved = read_config(run_dir)
        if saved.get("kind") != cls.kind:
            raise RunError(f"This run is a {saved.get('kind')} run, not a {cls.kind} run.")
        training = cls.from_saved(saved)
        training.run_dir, training.store = run_dir, store
        training.restore()
        return training

    def restore(self) -> None:
        """Bring this training back to its run's last checkpoint: weights, optimizer, step, clock,
        metrics and samples (after a worker died, say). A run with no checkpoint yet is left as it is."""
        run_dir = self.run_dir
        if not (run_dir / WEIGHTS_FILE).is_file():
            return  # nothing was trained yet: start over, in the same folder
        if not (run_dir / RESUME_FILE).is_file():
            raise RunError("This run cannot be continued: it was saved without its optimizer state.")
        self.model.load_state_dict(read_weights((run_dir / WEIGHTS_FILE).read_bytes(), self.model, run_dir.name))
        progress = json.loads((run_dir / RESUME_FILE).read_text(encoding="utf-8"))
        load_optimizer(self.optimizer, run_dir, progress["param_groups"])
        for name in PROGRESS_FIELDS:
            setattr(self, name, progress[name])
        discard = getattr(self.store, "discard_snapshots_after", None)
        if discard is not None:  # snapshots of steps lost since the checkpoint would show weights that are gone
            discard(run_dir, self.step_count)
        self.rows = read_metrics(run_dir).to_dict("records")
        samples = run_dir / SAMPLES_FILE
        self.samples = json.loads(samples.read_text(encoding="utf-8")) if samples.is_file() else []
        self.restart_data()

    def restart_data(self) -> None:
        """Start reading the training data from the beginning of an epoch (after a restore)."""
