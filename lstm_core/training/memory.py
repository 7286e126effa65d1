"""The memory task: recall one character after a delay of distractors, where gates make the difference.

Each sequence is one symbol to remember, ``delay`` distractor characters, then a cue; after the cue
the model must name the symbol it saw first::

    "C" + "hbdagfeacd...bg" + "?"   ->   "C"

The symbols are the 8 capitals A-H, the distractors the 8 lower-case letters a-h (drawn uniformly,
independently of the symbol) and the cue is "?". Only the answer after the cue is scored (the
distractors are unpredictable by design): guessing gives 1/8 = 12.5 % and ln 8 = 2.08 nats. A
sequence starts from a zero state, so the symbol can only reach the answer through ``delay + 1``
steps of the recurrence: the gradient has to cross them too. Every batch is fresh sequences (nothing
to overfit); the validation set is a fixed draw of ``valid_sequences`` sequences.

With equal parameter counts (about 20,000), a plain RNN's recall fades with the delay, an LSTM whose
forget gate starts open enough (bias 3-5, or chrono initialisation for the delay, Tallec & Ollivier
2018) recalls across 100 steps, and one that starts with bias 1 does not: ``python -m lstm_core
train-memory`` measures it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch
import torch.nn as nn

from ..corpus import Vocab
from ..limits import MEMORY_LIMITS
from ..model import CharModel, ModelConfig, model_config_from
from ..ngram import DEFAULT_ORDER, NGramModel
from ..run_kinds import RunKind, register
from ..runs import RunStore
from ..trace import trace
from .loop import Training, make_optimizer
from .settings import TrainingSettings

SYMBOLS = "ABCDEFGH"  # what must be remembered
DISTRACTORS = "abcdefgh"  # what comes in between
CUE = "?"  # "now answer"
VOCAB = Vocab(sorted(SYMBOLS + DISTRACTORS + CUE))
CHANCE = 1 / len(SYMBOLS)
BATCHES_PER_EPOCH = 100  # the stream never ends; an "epoch" is this many fresh batches


def memory_batch(batch_size: int, delay: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` sequences as ids (batch, delay + 2): symbol, distractors, cue; and the answers (batch,)."""
    symbols = torch.randint(len(SYMBOLS), (batch_size,), generator=generator)
    distractors = torch.randint(len(DISTRACTORS), (batch_size, delay), generator=generator)
    symbol_ids = torch.tensor(VOCAB.encode(SYMBOLS))
    distractor_ids = torch.tensor(VOCAB.encode(DISTRACTORS))
    cue = torch.full((batch_size, 1), VOCAB.stoi[CUE])
    ids = torch.cat([symbol_ids[symbols, None], distractor_ids[distractors], cue], dim=1)
    return ids, symbol_ids[symbols]


def memory_texts(count: int, delay: int, seed: int = 0) -> list[str]:
    """``count`` sequences as text, each with its answer after the cue: "C" + distractors + "?" + "C"."""
    ids, answers = memory_batch(count, delay, torch.Generator().manual_seed(seed))
    return [VOCAB.decode(row) + VOCAB.chars[int(answer)] for row, answer in zip(ids.tolist(), answers)]


@dataclass
class MemoryConfig(TrainingSettings):
    """Everything that defines a training on the memory task (model settings included); the optimiser and
    schedule settings are :class:`TrainingSettings`', with the defaults restated below."""

    limits: ClassVar[dict] = MEMORY_LIMITS

    delay: int = 100
    architecture: str = "lstm"
    variant: str = "standard"
    hidden_size: int = 64
    num_layers: int = 1
    embedding_dim: int | None = 16
    dropout: float = 0.0
    param_budget: int | None = 20_000  # the hidden size follows from it (None: hidden_size as given)
    forget_bias: float | None = 5.0  # the LSTM's initial forget-gate bias: it decides whether 100 steps are bridged
    update_bias: float | None = 5.0  # the GRU's initial update-gate bias (z keeps the old state)
    chrono: int | None = None  # chrono initialisation for delays up to this many steps (replaces the biases)
    batch_size: int = 64  # the shared settings whose defaults differ for the memory task
    lr: float = 3e-3
    schedule: str = "cosine"  # decays to 10%: a constant 3e-3 let a solved task spike back to 88% after 55 s
    eval_every_seconds: float = 2.0
    valid_sequences: int = 1000
    device: str = "cpu"

    def __post_init__(self):
        super().__post_init__()
        self.model_config()  # the model settings are checked here too

    def model_config(self, vocab_size: int = len(VOCAB)) -> ModelConfig:
        return model_config_from(self, vocab_size)


@torch.no_grad()
def recall(model: nn.Module, ids: torch.Tensor, answers: torch.Tensor) -> tuple[float, float]:
    """(mean loss in nats at the answer, share of answers that are the model's likeliest character)."""
    model.eval()
    logits, _ = model(ids)
    last = logits[:, -1]  # the prediction after the cue
    loss = nn.functional.cross_entropy(last, answers).item()
    return loss, (last.argmax(-1) == answers).float().mean().item()


MEMORY_RUNS = register(RunKind("memory", CharModel, ModelConfig, loss_per="recalled symbol"))


class MemoryTraining(Training):
    """A character model trained to recall the symbol after the delay; saves itself as a run of kind "memory"."""

    kind = "memory"
    loss_per = MEMORY_RUNS.loss_per  # only the answer after the cue is scored
    item_name = "sequences"
    throughput_column = "items_per_sec"

    def __init__(self, config: MemoryConfig, store: RunStore | None = None, name: str | None = None):
        self.config = config
        self.vocab = VOCAB
        torch.manual_seed(config.seed)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.device = torch.device(config.device if config.device != "auto" else
                                   ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model = CharModel(config.model_config()).to(self.device)
        self.optimizer = make_optimizer(self.model, "adamw", config.lr, config.weight_decay)
        self.steps_per_epoch = BATCHES_PER_EPOCH
        valid_ids, valid_answers = memory_batch(config.valid_sequences, config.delay,
                                                torch.Generator().manual_seed(config.seed + 1_000_003))
        self.valid_ids, self.valid_answers = valid_ids.to(self.device), valid_answers.to(self.device)
        self.final_accuracy: float | None = None
        self.probe = memory_sample_text(config.delay, config.seed + 7)  # one sequence up to its cue
        model = self.model.config
        self.start_bookkeeping(store, name or f"memory d{config.delay} {model.architecture.upper()} h{model.hidden_size}")

    @classmethod
    def from_saved(cls, config: dict) -> "MemoryTraining":
        return cls(MemoryConfig.from_dict(config["memory"]))

    def describe(self) -> dict:
        return {"kind": self.kind, "memory": self.config.to_dict(), "model": self.model.config.to_dict(),
                "vocab": self.vocab.chars, "parameters": sum(p.numel() for p in self.model.parameters())}

    def training_loss(self) -> tuple[torch.Tensor, int]:
        """Fresh sequences from a zero state; only the answer after the cue is scored."""
        ids, answers = memory_batch(self.config.batch_size, self.config.delay, self.generator)
        logits, _ = self.model(ids.to(self.device))
        self.epoch = self.step_count // self.steps_per_epoch
        return nn.functional.cross_entropy(logits[:, -1], answers.to(self.device)), len(ids)

    def loss_ceiling(self) -> float:
        return 2 * math.log(len(self.vocab))

    def evaluate(self, full: bool = False) -> dict[str, float]:
        """Loss and recall accuracy on the fixed validation sequences (all of them, every time)."""
        loss, accuracy = recall(self.model, self.valid_ids, self.valid_answers)
        if full:
            self.final_accuracy = accuracy
        return self.record_evaluation({"valid_loss": loss, "valid_accuracy": accuracy})

    def probe_trace(self) -> tuple[list[str], dict]:
        """One sequence up to its cue, traced exactly through the weights of this moment."""
        tr = trace(self.model, self.vocab, self.probe)
        return tr.chars, tr.values

    def config_updates(self) -> dict:
        """The summary line, once the recall is measured on all validation sequences."""
        if self.final_accuracy is None:
            return {}
        return {"summary": f"recall accuracy {self.final_accuracy:.1%} at delay {self.config.delay} "
                           f"({self.config.valid_sequences:,} sequences; chance {CHANCE:.1%})"}


def memory_sample_text(delay: int, seed: int = 0) -> str:
    """One sequence up to its cue (what the model reads before answering), for traces and heatmaps."""
    return memory_texts(1, delay, seed)[0][:-1]


def memory_probe(delay: int, count: int, seed: int = 0) -> tuple[str, list[int]]:
    """``count`` sequences back to back, each with its answer ("C...?C" + "F...?F" ...), and where each cue
    stands: the positions whose next character is an answer (where the gradient flow is measured)."""
    return "".join(memory_texts(count, delay, seed)), [(delay + 3) * k + delay + 1 for k in range(count)]


def memory_positions(delay: int, count: int) -> np.ndarray:
    """Where the answers stand in the text of :func:`memory_stream` (each sequence is delay + 4 characters)."""
    return delay + 2 + (delay + 4) * np.arange(count)


def memory_stream(count: int, delay: int, seed: int = 0) -> str:
    """``count`` sequences with their answers, one per line: the text an n-gram baseline learns from."""
    return "".join(text + "\n" for text in memory_texts(count, delay, seed))


def memory_baseline(delay: int, order: int = DEFAULT_ORDER, sequences: int = 2000, seed: int = 0) -> float:
    """The n-gram baseline on the memory task: its loss (nats) at the answers of fresh sequences, after
    counting ``sequences`` sequences with their answers. When the delay exceeds the n-gram's context
    (order - 1 characters) it cannot see the symbol and scores ln 8 = 2.08, chance."""
    stream_vocab = Vocab(sorted(SYMBOLS + DISTRACTORS + CUE + "\n"))
    model = NGramModel(order, len(stream_vocab)).fit(stream_vocab.encode(memory_stream(sequences, delay, seed)))
    held_out = memory_stream(sequences // 2, delay, seed + 1)
    log_probs = model.log_probs(stream_vocab.encode(held_out))
    return float(-log_probs[memory_positions(delay, sequences // 2)].mean())
