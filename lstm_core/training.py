"""Training a character model: batched truncated backpropagation through time.

The training text is cut into ``batch_size`` parallel streams; each step reads the next
``seq_len`` characters of every stream, carries the LSTM state over from the previous chunk and
detaches it (the gradient stops at the chunk start, as in the seed notebook). With
``batch_size=1`` and ``seq_len=100`` this is exactly the notebook's loop.

A :class:`CharTraining` is driven one step at a time (by the command line, the benchmark, or the
app's background thread in :mod:`lstm_core.background`) and reports a metrics row per step. It
never imports the app. A loss that turns NaN or explodes raises :class:`TrainingDiverged`, after
the last good checkpoint is already on disk.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
from safetensors.torch import load_file, save_file

from .corpus import Corpus, load_corpus
from .model import CharLSTM, ModelConfig, check_range
from .runs import (CONFIG_FILE, METRICS_FILE, SAMPLES_FILE, WEIGHTS_FILE, RunError, RunStore, read_config, read_metrics,
                   read_weights, save_weights, write_json)
from .sampling import sample

LOG2E = 1 / math.log(2)


def check_budget(max_seconds: float | None, epochs: float | None) -> None:
    """A training needs a time budget or a number of epochs (or both), each in a sane range."""
    if max_seconds is None and epochs is None:
        raise ValueError("set a time budget (seconds) or a number of epochs")
    if max_seconds is not None:
        check_range("time budget (seconds)", max_seconds, 1, 24 * 3600)
    if epochs is not None:
        check_range("epochs", epochs, 0.01, 10_000)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or exploded; the message explains it in plain words."""


@dataclass
class TrainConfig:
    """Everything that defines a character-model training (model settings included)."""

    corpus: str = "full"  # "full", "seed", or a path to a UTF-8 text
    hidden_size: int = 192
    num_layers: int = 1
    embedding_dim: int | None = 64
    dropout: float = 0.0
    forget_bias: float | None = 1.0
    seq_len: int = 50
    batch_size: int = 16
    lr: float = 2e-2
    weight_decay: float = 0.01
    grad_clip: float | None = 1.0
    schedule: str = "cosine"  # "cosine" decays to 10% over the budget; "constant" keeps the rate
    warmup_steps: int = 20
    max_seconds: float | None = 60.0  # training-time budget (evaluation excluded); None: epochs only
    epochs: float | None = None
    seed: int = 0
    eval_every_seconds: float = 3.0
    eval_chars: int = 60_000  # validation characters used at each interval (all of them at the end)
    random_offset: bool = False  # start each epoch at a random offset below seq_len (the notebook does)
    preview_every_seconds: float = 5.0
    preview_temperature: float = 0.8
    device: str = "cpu"

    def __post_init__(self):
        check_range("sequence length", self.seq_len, 2, 2000)
        check_range("batch size", self.batch_size, 1, 1024)
        check_range("learning rate", self.lr, 1e-6, 10.0)
        check_range("weight decay", self.weight_decay, 0.0, 1.0)
        if self.grad_clip is not None:
            check_range("gradient clip", self.grad_clip, 1e-3, 1e3)
        check_budget(self.max_seconds, self.epochs)
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        self.model_config(vocab_size=1)  # the model settings are checked here too, before any data is read

    def model_config(self, vocab_size: int) -> ModelConfig:
        return ModelConfig(vocab_size, self.hidden_size, self.num_layers, self.embedding_dim,
                           self.dropout, self.forget_bias)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrainConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Preset:
    name: str
    commentary: str
    settings: dict = field(default_factory=dict)

    def config(self, **overrides) -> TrainConfig:
        return TrainConfig(**{**self.settings, **overrides})


PRESETS = {p.name: p for p in [
    Preset("default", "Fast defaults for the full corpus: one 192-unit layer, 16 parallel streams of 50 "
           "characters, AdamW at 2e-2 decaying over one minute. Many small, bold steps beat few large ones "
           "on a CPU: it passes the seed notebook's one-minute loss in a few seconds.",
           {}),
    Preset("seed-exact", "The seed notebook's own loop: batch 1, 100-character windows, hidden 128, AdamW 1e-3, "
           "20 epochs on the first 100,000 characters. Expect train 1.10 and test 1.51 nats per character.",
           dict(corpus="seed", hidden_size=128, embedding_dim=None, forget_bias=None, seq_len=100, batch_size=1,
                lr=1e-3, grad_clip=None, schedule="constant", warmup_steps=0, max_seconds=None, epochs=20,
                random_offset=True, eval_every_seconds=5.0, eval_chars=10_000)),
    Preset("seed", "The seed's data and model (hidden 128), trained by the batched trainer: 8 parallel "
           "streams of 50 characters and dropout 0.3 against the overfitting a 90,000-character text invites. "
           "It beats the notebook's 1.51 test loss in well under the notebook's time.",
           dict(corpus="seed", hidden_size=128, embedding_dim=None, seq_len=50, batch_size=8, lr=5e-3,
                dropout=0.3, max_seconds=40.0, eval_chars=10_000, eval_every_seconds=1.0)),
    Preset("bigger", "Two layers of 256 units with dropout: slower per step, better in the end; give it "
           "several minutes.",
           dict(hidden_size=256, num_layers=2, dropout=0.1, batch_size=32, seq_len=64, lr=1e-2,
                max_seconds=300.0, eval_every_seconds=10.0)),
    Preset("forget-bias-0", "Instructive: the forget gate starts half-closed (bias 0), so the cell forgets "
           "quickly at first and learning is slower than with bias 1.",
           dict(forget_bias=0.0, max_seconds=30.0)),
    Preset("diverging-lr", "Instructive failure: a learning rate of 0.5 with no gradient clipping. The loss "
           "explodes within a few steps and the run stops, explaining why.",
           dict(lr=0.5, grad_clip=None, warmup_steps=0, schedule="constant", max_seconds=30.0)),
    Preset("seq-len-5", "Instructive: 5-character windows. The gradient never reaches further back than 5 "
           "characters, so the model cannot learn long words or line structure well.",
           dict(seq_len=5, batch_size=160, max_seconds=30.0)),
]}


def preset_config(name: str, **overrides) -> TrainConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    return PRESETS[name].config(**overrides)


def stream_batches(ids: torch.Tensor, batch_size: int, seq_len: int, offset: int = 0):
    """Cut ``ids`` into ``batch_size`` contiguous streams and yield (x, y) chunks, each (batch, seq_len).

    Chunk k of stream b continues chunk k-1 of stream b, so a state carried between chunks is
    the state the stream really had.
    """
    usable = len(ids) - offset - 1
    stream_len = usable // batch_size
    steps = stream_len // seq_len
    if steps < 1:
        raise ValueError(f"the text is too short for {batch_size} streams of {seq_len} characters; "
                         "lower the batch size or the sequence length")
    span = steps * seq_len
    starts = offset + torch.arange(batch_size) * stream_len
    x_all = torch.stack([ids[s:s + span] for s in starts.tolist()])  # (batch, span)
    y_all = torch.stack([ids[s + 1:s + 1 + span] for s in starts.tolist()])
    for k in range(steps):
        yield x_all[:, k * seq_len:(k + 1) * seq_len], y_all[:, k * seq_len:(k + 1) * seq_len]


def steps_per_epoch(length: int, batch_size: int, seq_len: int) -> int:
    return max(1, ((length - 1) // batch_size) // seq_len)


@torch.no_grad()
def evaluate_loss(model: nn.Module, ids: torch.Tensor, seq_len: int = 200, batch_size: int = 32) -> float:
    """Mean next-character loss (nats) over ``ids``, read as parallel streams with carried state."""
    model.eval()
    device = next(model.parameters()).device
    batch_size = max(1, min(batch_size, (len(ids) - 1) // max(seq_len, 1)))
    seq_len = min(seq_len, (len(ids) - 1) // batch_size)
    total, count, state = 0.0, 0, None
    for x, y in stream_batches(ids, batch_size, seq_len):
        logits, state = model(x.to(device), state)
        total += nn.functional.cross_entropy(logits.flatten(0, 1), y.to(device).flatten(), reduction="sum").item()
        count += y.numel()
    return total / count


OPTIMIZER_FILE = "optimizer.safetensors"
RESUME_FILE = "resume.json"


def save_optimizer(optimizer: torch.optim.Optimizer, folder: Path) -> list[dict]:
    """Write the optimizer's moment tensors as safetensors (nothing pickled); returns its param groups."""
    state = optimizer.state_dict()
    tensors = {f"{index}.{name}": torch.as_tensor(value).detach().cpu().contiguous()
               for index, slots in state["state"].items() for name, value in slots.items()}
    tmp = folder / (OPTIMIZER_FILE + ".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(folder / OPTIMIZER_FILE)
    return state["param_groups"]


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


class BudgetedTraining:
    """What every training shares: a time or epoch budget, a learning rate that can change while it
    runs, evaluation at intervals, and checkpoints in the run store.

    Subclasses (:class:`CharTraining`, the task trainings in :mod:`lstm_core.tasks`) set ``config``
    (with ``max_seconds``, ``epochs``, ``schedule``, ``eval_every_seconds`` and optionally
    ``warmup_steps``), ``model``, ``steps_per_epoch``, ``step_count``, ``train_seconds``,
    ``base_lr``, ``last_eval_at``, ``rows``, ``store`` and ``run_dir``.
    """

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
        check_range("learning rate", lr, 1e-6, 10.0)
        self.base_lr = lr

    def current_lr(self) -> float:
        """The base rate, warmed up linearly over the first steps, then cosine-decayed to 10% if asked."""
        lr = self.base_lr
        warmup = getattr(self.config, "warmup_steps", 0)
        if warmup and self.step_count < warmup:
            lr *= (self.step_count + 1) / warmup
        if self.config.schedule == "cosine":
            lr *= 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * self.progress()))
        return lr

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

    def evaluation_due(self) -> bool:
        return self.train_seconds - self.last_eval_at >= self.config.eval_every_seconds or self.finished()

    def metrics(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows)

    def write_checkpoint(self, status: str) -> None:
        """Weights, then metrics, then the index (only ever called with finite weights)."""
        save_weights(self.model, self.run_dir / "model.safetensors")
        metrics = self.metrics()
        tmp = self.run_dir / (METRICS_FILE + ".tmp")
        metrics.to_csv(tmp, index=False)
        tmp.replace(self.run_dir / METRICS_FILE)
        self.store.update(self.run_dir, status=status, metrics=metrics)


class CharTraining(BudgetedTraining):
    """One training of a character model, advanced by :meth:`step`; saves itself as a run."""

    kind = "char"

    def __init__(self, config: TrainConfig, corpus: Corpus | None = None, store: RunStore | None = None,
                 name: str | None = None):
        self.config = config
        self.corpus = corpus or load_corpus(config.corpus)
        self.vocab = self.corpus.vocab
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.device = torch.device(config.device if config.device != "auto" else
                                   ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = CharLSTM(config.model_config(len(self.vocab))).to(self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        self.train_ids = torch.tensor(self.vocab.encode(self.corpus.train_text), dtype=torch.long)
        self.valid_ids = torch.tensor(self.vocab.encode(self.corpus.valid_text), dtype=torch.long)
        self.steps_per_epoch = steps_per_epoch(len(self.train_ids), config.batch_size, config.seq_len)
        if (len(self.train_ids) - config.seq_len) // config.batch_size < config.seq_len:  # refuse before saving a run
            raise ValueError(f"the training text ({len(self.train_ids):,} characters) is too short for "
                             f"{config.batch_size} streams of {config.seq_len} characters; lower the batch size "
                             "or the sequence length")
        self.base_lr = config.lr
        self.step_count = 0
        self.epoch = 0
        self.train_seconds = 0.0
        self.rows: list[dict] = []
        self.samples: list[dict] = []
        self.last_eval_at = 0.0
        self.last_preview_at = -1e9
        self.best_valid = math.inf
        self.full_valid_loss: float | None = None  # measured on the whole validation split at the end
        self.preview_temperature = config.preview_temperature
        self._batches = None
        self._state = None
        self.run_dir = None
        if store is not None:
            self.run_dir = store.create(name or f"{config.corpus} h{config.hidden_size}x{config.num_layers}",
                                        self.describe())
        self.store = store

    @classmethod
    def resume(cls, run_dir, store: RunStore) -> "CharTraining":
        """Continue a saved run where it stopped: weights, optimizer, step, clock, metrics and samples.

        The run keeps its folder and budget. The hidden state carried between chunks starts again
        from zero (it is not saved), which costs a few steps of slightly higher loss.
        """
        run_dir = Path(run_dir)
        saved = read_config(run_dir)
        if saved.get("kind", "char") != "char" or not (run_dir / RESUME_FILE).is_file():
            raise RunError("This run cannot be continued: it was saved without its optimizer state.")
        config = TrainConfig.from_dict(saved["train"])
        if config.corpus.startswith("upload:"):
            raise RunError("This run trained on an uploaded text, which is not kept; it cannot be continued.")
        training = cls(config)
        tensors = read_weights((run_dir / WEIGHTS_FILE).read_bytes(), training.model, run_dir.name)
        training.model.load_state_dict(tensors)
        progress = json.loads((run_dir / RESUME_FILE).read_text(encoding="utf-8"))
        load_optimizer(training.optimizer, run_dir, progress["param_groups"])
        for name in ("step_count", "epoch", "train_seconds", "base_lr", "last_eval_at", "best_valid"):
            setattr(training, name, progress[name])
        training.rows = read_metrics(run_dir).to_dict("records")
        samples = run_dir / SAMPLES_FILE
        training.samples = json.loads(samples.read_text(encoding="utf-8")) if samples.is_file() else []
        training.run_dir, training.store = run_dir, store
        return training

    # -- what is being trained -------------------------------------------------------------
    def describe(self) -> dict:
        return {"kind": self.kind, "train": self.config.to_dict(), "model": self.model.config.to_dict(),
                "vocab": self.vocab.chars, "corpus": self.corpus.describe(),
                "parameters": sum(p.numel() for p in self.model.parameters())}

    # -- one optimisation step -------------------------------------------------------------
    def _next_batch(self):
        while True:
            if self._batches is None:
                offset = int(self.rng.integers(self.config.seq_len)) if self.config.random_offset else 0
                self._batches = stream_batches(self.train_ids, self.config.batch_size, self.config.seq_len, offset)
                self._state = None  # a new epoch starts every stream from a zero state
            try:
                return next(self._batches)
            except StopIteration:
                self._batches = None
                self.epoch += 1

    def step(self) -> dict:
        """One step of truncated BPTT; returns its metrics row."""
        started = time.perf_counter()
        self.model.train()
        x, y = self._next_batch()
        x, y = x.to(self.device), y.to(self.device)
        lr = self.current_lr()
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        logits, state = self.model(x, self._state)
        self._state = tuple(s.detach() for s in state)  # carry the state, stop the gradient here
        loss = nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        loss_value = loss.item()
        self.check_divergence(loss_value)
        grad_norm = self.apply_gradients(loss)
        elapsed = time.perf_counter() - started
        self.train_seconds += elapsed
        self.step_count += 1
        row = {"step": self.step_count, "epoch": self.step_count / self.steps_per_epoch,
               "seconds": self.train_seconds, "train_loss": loss_value, "train_bpc": loss_value * LOG2E,
               "valid_loss": math.nan, "valid_bpc": math.nan, "grad_norm": grad_norm, "lr": lr,
               "chars_per_sec": x.numel() / elapsed}
        self.rows.append(row)
        return row

    def check_divergence(self, loss_value: float) -> None:
        uniform = math.log(len(self.vocab))
        if not math.isfinite(loss_value):
            raise TrainingDiverged(self.divergence_message(f"the loss became {loss_value}"))
        if self.step_count > 10 and loss_value > 2 * uniform:
            raise TrainingDiverged(self.divergence_message(
                f"the loss reached {loss_value:.2f} nats, twice what uniform guessing costs ({uniform:.2f})"))

    def divergence_message(self, what: str) -> str:
        return (f"Training diverged at step {self.step_count}: {what}. The learning rate "
                f"({self.base_lr:g}) is too high for this model, so each update overshoots and the weights blow up. "
                "Lower the learning rate (try 1e-3 to 4e-3) or turn on gradient clipping. "
                "The last good checkpoint is kept.")

    # -- measuring and saving --------------------------------------------------------------
    def evaluate(self, full: bool = False) -> float:
        """Validation loss (nats) on the same fixed slice every time, so the curve's points compare.

        With ``full`` (at the end) the whole validation split is measured too: it is recorded as
        ``full_valid_loss`` in the last metrics row and in the run's summary, and returned.
        """
        loss = evaluate_loss(self.model, self.valid_ids[:self.config.eval_chars])
        self.last_eval_at = self.train_seconds
        if self.rows:
            self.rows[-1]["valid_loss"] = loss
            self.rows[-1]["valid_bpc"] = loss * LOG2E
        self.best_valid = min(self.best_valid, loss)
        if not full:
            return loss
        if len(self.valid_ids) > self.config.eval_chars:
            loss = evaluate_loss(self.model, self.valid_ids)
        self.full_valid_loss = loss
        if self.rows:
            self.rows[-1]["full_valid_loss"] = loss
        return loss

    def preview_due(self) -> bool:
        return self.train_seconds - self.last_preview_at >= self.config.preview_every_seconds

    def preview(self, length: int = 200) -> str:
        """A sample from the current model, kept with the step it was taken at."""
        text = sample(self.model, self.vocab, "\n", length, temperature=self.preview_temperature,
                      seed=self.step_count)
        self.last_preview_at = self.train_seconds
        self.samples.append({"step": self.step_count, "seconds": self.train_seconds, "text": text})
        return text

    def save(self, status: str = "running") -> None:
        """Checkpoint the weights and write the metrics (only ever called with finite weights)."""
        if self.run_dir is None:
            return
        write_json(self.run_dir / SAMPLES_FILE, self.samples[-50:])
        groups = save_optimizer(self.optimizer, self.run_dir)  # so that the run can be continued later
        write_json(self.run_dir / RESUME_FILE, {
            "step_count": self.step_count, "epoch": self.epoch, "train_seconds": self.train_seconds,
            "base_lr": self.base_lr, "last_eval_at": self.last_eval_at, "best_valid": self.best_valid,
            "param_groups": groups})
        if self.full_valid_loss is not None:  # before the weights: a reader reloads when they change
            config = read_config(self.run_dir)
            config["summary"] = (f"validation loss {self.full_valid_loss:.3f} nats/char on all "
                                 f"{len(self.valid_ids):,} validation characters")
            write_json(self.run_dir / CONFIG_FILE, config)
        self.write_checkpoint(status)

    def run_to_end(self, on_step=None, on_eval=None) -> float:
        """Train until the budget is used (for the command line and the benchmark); final full validation."""
        while not self.finished():
            row = self.step()
            if on_step:
                on_step(row)
            if self.evaluation_due():
                loss = self.evaluate()
                if on_eval:
                    on_eval(row, loss)
                self.save()
        loss = self.evaluate(full=True)
        self.save(status="finished")
        return loss
