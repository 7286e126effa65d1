"""Training a character model: batched truncated backpropagation through time.

The training text is cut into ``batch_size`` parallel streams; each step reads the next
``seq_len`` characters of every stream, carries the LSTM state over from the previous chunk and
detaches it (the gradient stops at the chunk start, as in the seed notebook). With
``batch_size=1`` and ``seq_len=100`` this is exactly the notebook's loop.

A :class:`CharTraining` is driven one step at a time (by the command line, the benchmark, or the
app's background thread in :mod:`lstm_core.execution.background`) and reports a metrics row per step. It
never imports the app. A loss that turns NaN or explodes raises :class:`TrainingDiverged`, after
the last good checkpoint is already on disk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import torch
import torch.nn as nn

from ..corpus import Corpus, load_corpus
from ..limits import CHAR_LIMITS
from ..model import CharModel, ModelConfig, detach_state, model_config_from
from ..analysis import speaker_prime
from ..run_kinds import RunKind, register
from ..runs import RunError, RunStore
from ..sampling import sample
from ..snapshots import check_probe, probe_passage
from ..trace import trace
from .loop import LOG2E, Training, make_optimizer
from .settings import TrainingSettings
from .tuned import SWEPT_PRESET, tuned_settings



@dataclass
class TrainConfig(TrainingSettings):
    """Everything that defines a character-model training (model settings included); the optimiser and
    schedule settings are :class:`TrainingSettings`', with the defaults restated below."""

    limits: ClassVar[dict] = CHAR_LIMITS

    corpus: str = "full"  # "full", "seed", or a path to a UTF-8 text
    hidden_size: int = 192
    num_layers: int = 1
    embedding_dim: int | None = 64
    dropout: float = 0.0
    forget_bias: float | None = 1.0
    seq_len: int = 50
    batch_size: int = 16  # the shared settings whose defaults differ for a character model
    lr: float = 2e-2
    weight_decay: float = 0.01
    schedule: str = "cosine"
    warmup_steps: int = 20
    eval_every_seconds: float = 3.0
    eval_chars: int = 60_000  # validation characters used at each interval (all of them at the end)
    random_offset: bool = False  # start each epoch at a random offset below seq_len (the notebook does)
    preview_every_seconds: float = 5.0
    preview_temperature: float = 0.8
    device: str = "cpu"
    architecture: str = "lstm"  # "lstm", "gru" or "rnn"
    variant: str = "standard"  # an ablated LSTM: "no_forget_gate", "coupled_gates", "no_output_gate"
    update_bias: float | None = None  # a GRU's initial update-gate bias (None: PyTorch's initialisation)
    chrono: int | None = None  # chrono initialisation for delays up to this many steps (LSTM, GRU)
    param_budget: int | None = None  # when set, the hidden size is chosen to reach about this many parameters
    probe: str | None = None  # the text snapshots trace; None: a passage of the validation text

    def __post_init__(self):
        super().__post_init__()
        check_probe(self.probe)
        self.model_config(vocab_size=1)  # the model settings are checked here too, before any data is read

    def model_config(self, vocab_size: int) -> ModelConfig:
        """The model's settings; with a parameter budget, its hidden size is the one that reaches it."""
        return model_config_from(self, vocab_size)


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


def model_name(corpus: str, model: ModelConfig) -> str:
    """A run's default name: "full LSTM h192x1", "full GRU h220x1", "full LSTM (coupled gates) h200x1"."""
    variant = f" ({model.arch.variant_words})" if model.arch.ablated else ""
    return f"{corpus} {model.arch.short_name}{variant} h{model.hidden_size}x{model.num_layers}"


def preset_config(name: str, tuned: bool = True, **overrides) -> TrainConfig:
    """A preset's settings with ``overrides``. On the preset the sweep trains (``default``), the architecture's own
    swept settings (:mod:`lstm_core.training.tuned`: learning rate, gradient clip) come between the two, so
    each architecture trains at its own best learning rate unless the caller sets one; ``tuned=False`` skips them."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    settings = {}
    if tuned and name == SWEPT_PRESET:
        settings = tuned_settings(overrides.get("architecture", "lstm"), overrides.get("variant", "standard"))
    return PRESETS[name].config(**{**settings, **overrides})


def stream_batches(ids: torch.Tensor, batch_size: int, seq_len: int, offset: int = 0):
    """Cut ``ids`` into ``batch_size`` contiguous streams and yield (x, y) chunks, each (batch, seq_len).

    Chunk k of stream b continues chunk k-1 of stream b, so a state carried between chunks is
    the state the stream really had.
    """
    x_all, y_all, steps = epoch_streams(ids, batch_size, seq_len, offset)
    for k in range(steps):
        yield x_all[:, k * seq_len:(k + 1) * seq_len], y_all[:, k * seq_len:(k + 1) * seq_len]


def epoch_streams(ids: torch.Tensor, batch_size: int, seq_len: int, offset: int = 0):
    """(inputs, targets, chunks): the ``batch_size`` streams of :func:`stream_batches`, each (batch, span),
    and how many ``seq_len`` chunks they hold."""
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
    return x_all, y_all, steps


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


# the kind of run a character training saves (lstm_core.run_kinds); a run older than the kinds names
# none and is one of these, and one older than the architectures names none and is an LSTM
def starting_loss_line(vocab_size: int) -> tuple[str, list[str]]:
    """Where a character model's loss starts, in one line, and the numbers it quotes as written: a model that
    knows nothing gives every character the same probability, 1/V, and pays ln V nats per character. The Train page
    prints it above a training, and the lesson quotes it."""
    quoted = [f"{vocab_size} characters", f"ln {vocab_size} = {math.log(vocab_size):.2f}"]
    return (f"a model that knows nothing guesses evenly among the corpus's {quoted[0]} and pays {quoted[1]} nats "
            "per character", quoted)


CHAR_RUNS = register(RunKind("char", CharModel, ModelConfig, loss_per="character"))


class CharTraining(Training):
    """One training of a character model: next-character loss on batched streams; saves itself as a run."""

    kind = "char"
    item_name = "characters"
    loss_per = CHAR_RUNS.loss_per
    throughput_column = "chars_per_sec"
    previews = True
    probe_features = True

    def __init__(self, config: TrainConfig, corpus: Corpus | None = None, store: RunStore | None = None,
                 name: str | None = None):
        self.config = config
        self.corpus = corpus or load_corpus(config.corpus)
        self.vocab = self.corpus.vocab
        torch.manual_seed(config.seed)
        self.rng = np.random.default_rng(config.seed)
        self.device = torch.device(config.device if config.device != "auto" else
                                   ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = CharModel(config.model_config(len(self.vocab))).to(self.device)
        self.optimizer = make_optimizer(self.model, "adamw", config.lr, config.weight_decay)
        self.train_ids = self.corpus.ids("train")  # (characters,), shared by every training of this corpus
        self.valid_ids = self.corpus.ids("valid")
        self.steps_per_epoch = steps_per_epoch(len(self.train_ids), config.batch_size, config.seq_len)
        if (len(self.train_ids) - config.seq_len) // config.batch_size < config.seq_len:  # refuse before saving a run
            raise ValueError(f"the training text ({len(self.train_ids):,} characters) is too short for "
                             f"{config.batch_size} streams of {config.seq_len} characters; lower the batch size "
                             "or the sequence length")
        self.full_valid_loss: float | None = None  # measured on the whole validation split at the end
        self.preview_temperature = config.preview_temperature
        self.preview_prime = speaker_prime(self.corpus.train_text)
        self.probe = config.probe or probe_passage(self.corpus.valid_text or self.corpus.train_text)
        self._position: tuple[int, int] | None = None  # (offset, next chunk) in this epoch's streams
        self._streams = None  # this epoch's (inputs, targets, chunks), rebuilt from the position when missing
        self._state = None
        self.start_bookkeeping(store, name or model_name(config.corpus, self.model.config))

    @classmethod
    def from_saved(cls, config: dict) -> "CharTraining":
        train = TrainConfig.from_dict(config["train"])
        if train.corpus.startswith("upload:"):
            raise RunError("This run trained on an uploaded text, which is not kept; it cannot be continued.")
        return cls(train)

    def describe(self) -> dict:
        return {"kind": self.kind, "train": self.config.to_dict(), "model": self.model.config.to_dict(),
                "vocab": self.vocab.chars, "corpus": self.corpus.describe(),
                "parameters": sum(p.numel() for p in self.model.parameters())}

    def __getstate__(self) -> dict:
        """The epoch's streams stay behind (a copy of the training text); the position travels."""
        return {**super().__getstate__(), "_streams": None}

    def restart_data(self) -> None:
        self._position, self._streams, self._state = None, None, None

    def probe_trace(self) -> tuple[list[str], dict]:
        """The probe traced exactly (:func:`lstm_core.trace`) through the weights of this moment."""
        tr = trace(self.model, self.vocab, self.probe)
        return tr.chars, tr.values

    # -- the loss of one batch -------------------------------------------------------------
    def _next_batch(self):
        seq_len = self.config.seq_len
        while True:
            if self._position is None:
                offset = int(self.rng.integers(seq_len)) if self.config.random_offset else 0
                self._position, self._streams = (offset, 0), None
                self._state = None  # a new epoch starts every stream from a zero state
            offset, chunk = self._position
            if self._streams is None:
                self._streams = epoch_streams(self.train_ids, self.config.batch_size, seq_len, offset)
            x_all, y_all, chunks = self._streams
            if chunk < chunks:
                self._position = (offset, chunk + 1)
                return x_all[:, chunk * seq_len:(chunk + 1) * seq_len], y_all[:, chunk * seq_len:(chunk + 1) * seq_len]
            self._position, self._streams = None, None
            self.epoch += 1

    def training_loss(self) -> tuple[torch.Tensor, int]:
        """Truncated BPTT on the next chunk of every stream: the state is carried, its gradient is not."""
        x, y = self._next_batch()
        x, y = x.to(self.device), y.to(self.device)
        logits, state = self.model(x, self._state)
        self._state = detach_state(state)  # carry the state, stop the gradient here
        return nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten()), x.numel()

    def row_extras(self, loss_value: float) -> dict:
        return {"train_bpc": loss_value * LOG2E, "valid_bpc": math.nan}

    def loss_ceiling(self) -> float:
        return 2 * math.log(len(self.vocab))  # twice what uniform guessing costs

    # -- measuring and saving --------------------------------------------------------------
    def evaluate(self, full: bool = False) -> dict[str, float]:
        """Validation loss (nats) on the same fixed slice every time, so the curve's points compare.

        With ``full`` (at the end) the whole validation split is measured too: it is recorded as
        ``full_valid_loss`` in the last metrics row and in the run's summary.
        """
        loss = evaluate_loss(self.model, self.valid_ids[:self.config.eval_chars])
        metrics = self.record_evaluation({"valid_loss": loss, "valid_bpc": loss * LOG2E})
        if full:
            whole = evaluate_loss(self.model, self.valid_ids) if len(self.valid_ids) > self.config.eval_chars else loss
            self.full_valid_loss = whole
            if self.rows:
                self.rows[-1]["full_valid_loss"] = whole
            metrics = {**metrics, "full_valid_loss": whole}
        return metrics

    def preview_due(self) -> bool:
        return self.train_seconds - self.last_preview_at >= self.config.preview_every_seconds

    def preview(self, length: int = 200) -> dict:
        """A sample from the current model, primed with a speaker's name (so that it reads as a scene
        from its first character), kept with the step it was taken at."""
        text = sample(self.model, self.vocab, self.preview_prime, length, temperature=self.preview_temperature,
                      seed=self.step_count)
        self.last_preview_at = self.train_seconds
        self.samples.append({"step": self.step_count, "seconds": self.train_seconds, "prime": self.preview_prime,
                             "text": text})
        return self.samples[-1]

    def config_updates(self) -> dict:
        """The summary line, once the whole validation split is measured."""
        if self.full_valid_loss is None:
            return {}
        return {"summary": f"validation loss {self.full_valid_loss:.3f} nats/char on all "
                           f"{len(self.valid_ids):,} validation characters"}
