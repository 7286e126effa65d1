"""Why gates exist: the comparisons the /compare page trains side by side, and what it measures on them.

A comparison is a few contenders (a plain RNN, a GRU, an LSTM, or an ablated LSTM) trained on the same
task with matched parameter counts (a shared budget sets each one's hidden size) and the same seed,
data order and number of steps. The task is a character corpus (Molière) or the memory task
(:mod:`lstm_core.training.memory`)::

    setup = CompareSetup(comparison="architectures", task="memory", delay=100)
    trainings = setup.trainings(store)          # one Training per contender, ready for a BackgroundTrainer
    setup.reference()                            # the n-gram's loss on the same data: the line to beat

The ablated LSTMs follow Greff et al., "LSTM: A Search Space Odyssey" (IEEE TNNLS 2017): eight variants,
5,400 runs on speech, handwriting and music. Each comparison's commentary says what they found.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import torch

from .analysis import validation_passages
from .corpus import load_corpus
from .architectures import architecture
from .model import CharModel
from .training.memory import (VOCAB, BATCHES_PER_EPOCH, CHANCE, MemoryConfig, MemoryTraining, memory_baseline, memory_probe,
                              memory_sample_text)
from .ngram import DEFAULT_ORDER, corpus_baseline
from .runs import RunStore
from .training.char import CharTraining, preset_config, steps_per_epoch


@dataclass(frozen=True)
class Contender:
    """One model of a comparison: its architecture (and LSTM variant) and label. ``pytorch_start`` starts it
    from PyTorch's own initialisation (gate biases drawn near 0) instead of the comparison's gate bias."""

    architecture: str
    variant: str = "standard"
    pytorch_start: bool = False

    @property
    def label(self) -> str:
        label = architecture(self.architecture, self.variant).label
        return f"{label} with PyTorch's default start" if self.pytorch_start else label


LSTM, GRU, RNN = Contender("lstm"), Contender("gru"), Contender("rnn")
LSTM_PYTORCH_START = Contender("lstm", pytorch_start=True)  # the fourth contender: what a forget-gate bias buys


@dataclass(frozen=True)
class Comparison:
    name: str
    title: str
    commentary: str  # what to expect, and what the literature found
    contenders: tuple[Contender, ...]


COMPARISONS = {c.name: c for c in [
    Comparison("architectures", "LSTM vs GRU vs plain RNN",
               "The same parameter budget, data and steps for all three. A plain RNN rewrites its whole state at "
               "every step, so what it saw 50 steps ago reaches it, and its gradient, only through 50 squashing "
               "matrix products; the GRU's update gate and the LSTM's forget gate can hold a value unchanged.",
               (LSTM, GRU, RNN)),
    Comparison("no_forget_gate", "LSTM vs LSTM without a forget gate",
               "Greff et al. (2017) found the forget gate the most critical part of the LSTM: removing it hurt "
               "significantly on speech, handwriting and music. Without it (the 1997 LSTM) the cell only adds and "
               "never clears what it no longer needs.",
               (LSTM, Contender("lstm", "no_forget_gate"))),
    Comparison("coupled_gates", "LSTM vs coupled input and forget gates",
               "Greff et al. (2017): coupling the gates (write exactly what you forget, i = 1 − f) did not hurt "
               "significantly on any of their three tasks, and saves a quarter of the gate weights; the GRU does "
               "the same with its update gate.",
               (LSTM, Contender("lstm", "coupled_gates"))),
    Comparison("no_output_gate", "LSTM vs LSTM without an output gate",
               "Greff et al. (2017): removing the output gate hurt significantly on speech and handwriting "
               "recognition, but not on music modelling. Without it, h = tanh(c) shows the whole cell at every step.",
               (LSTM, Contender("lstm", "no_output_gate"))),
]}

TASKS = {"memory": "Memory task: recall a symbol after a delay", "full": "Molière, full corpus",
         "seed": "Molière, the seed's 100,000 characters"}
TASK_DEFAULTS = {  # what a comparison on each task starts from: a budget the task needs, steps a CPU affords,
    # and gate biases: open enough to bridge the memory task's delays; the Train page's defaults on text
    "memory": {"param_budget": 20_000, "steps": 800, "forget_bias": 5.0, "update_bias": 5.0},
    # on Molière the 90-s arena's size, 200k; at each architecture's best rate for 1,500 steps the plain RNN still
    # beats the LSTM there (data/measured/compare_text_check.json, which /compare quotes under its settings)
    "full": {"param_budget": 200_000, "steps": 1_500, "forget_bias": 1.0, "update_bias": 1.0},
    "seed": {"param_budget": 50_000, "steps": 800, "forget_bias": 1.0, "update_bias": 1.0},
}


@dataclass
class CompareSetup:
    """Everything that defines one comparison run: the page keeps it in the link."""

    comparison: str = "architectures"
    task: str = "memory"  # "full", "seed" or "memory"
    delay: int = 100  # memory task: distractors between the symbol and the cue
    param_budget: int = 20_000
    steps: int = 1_000  # per contender: compared by steps, not seconds (trainings may queue for a core)
    forget_bias: float = 5.0  # the LSTMs' initial forget-gate bias
    update_bias: float = 5.0  # the GRU's initial update-gate bias
    seed: int = 0
    pytorch_start: bool = False  # add an LSTM started as PyTorch starts it (LSTM_PYTORCH_START)
    extra: dict = field(default_factory=dict)  # further training settings, for the command line and tests

    def __post_init__(self):
        if self.comparison not in COMPARISONS:
            raise ValueError(f"unknown comparison {self.comparison!r}; choose one of {', '.join(COMPARISONS)}")
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; choose one of {', '.join(TASKS)}")
        if not 10 <= self.steps <= 1_000_000:
            raise ValueError(f"steps must be between 10 and 1,000,000, got {self.steps}")

    @property
    def contenders(self) -> tuple[Contender, ...]:
        chosen = COMPARISONS[self.comparison].contenders
        return chosen + (LSTM_PYTORCH_START,) if self.pytorch_start else chosen

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        """One line a page shows: "delay 50 · 20,000 parameters each · 800 steps each · forget-gate bias 5"."""
        parts = [f"delay {self.delay}"] if self.task == "memory" else []
        parts += [f"{self.param_budget:,} parameters each", f"{self.steps:,} steps each",
                  f"forget-gate bias {self.forget_bias:g}", f"update-gate bias {self.update_bias:g}", f"seed {self.seed}"]
        return " · ".join(parts)

    def config(self, contender: Contender):
        """The training settings of one contender (a MemoryConfig or a TrainConfig); a ValueError when bad."""
        forget_bias = None if contender.pytorch_start else self.forget_bias  # None: PyTorch's initialisation
        common = dict(architecture=contender.architecture, variant=contender.variant, param_budget=self.param_budget,
                      forget_bias=forget_bias, update_bias=self.update_bias, seed=self.seed, max_seconds=None)
        if self.task == "memory":
            return MemoryConfig(delay=self.delay, epochs=self.steps / BATCHES_PER_EPOCH, **{**common, **self.extra})
        shape = preset_config("default", **self.extra)  # batch size and window length fix the epoch's steps
        epoch = steps_per_epoch(len(load_corpus(self.task).train_text), shape.batch_size, shape.seq_len)
        return preset_config("default", corpus=self.task, epochs=self.steps / epoch, **{**common, **self.extra})

    def untrained_model(self, contender: Contender) -> tuple[CharModel, object]:
        """(model, vocabulary) of ``contender`` as its training builds it (same settings, same seed), untrained."""
        vocab = VOCAB if self.task == "memory" else load_corpus(self.task).vocab
        torch.manual_seed(self.seed)  # as MemoryTraining and CharTraining seed themselves before building
        return CharModel(self.config(contender).model_config(len(vocab))), vocab

    def training(self, contender: Contender, store: RunStore | None = None):
        """The training of one contender (a MemoryTraining or a CharTraining), saved in ``store``."""
        config = self.config(contender)
        if self.task == "memory":
            return MemoryTraining(config, store=store, name=f"compare · memory d{self.delay} · {contender.label}")
        return CharTraining(config, store=store, name=f"compare · {self.task} · {contender.label}")

    def trainings(self, store: RunStore | None = None) -> list:
        """One training per contender; a ValueError (bad settings) comes before any run is created."""
        for contender in self.contenders:
            self.config(contender)
        return [self.training(contender, store) for contender in self.contenders]

    def reference(self) -> float:
        """The order-6 n-gram's loss on the same task (nats): the line a model has to beat."""
        if self.task == "memory":
            return memory_baseline(self.delay, DEFAULT_ORDER)
        return corpus_baseline(self.task, DEFAULT_ORDER)

    def chance(self) -> float | None:
        """Guessing's loss (memory task: one of 8 symbols), or None for a corpus."""
        return -math.log(CHANCE) if self.task == "memory" else None

    def probe_text(self, length: int = 240) -> str:
        """The text every contender's states are shown on: one memory sequence up to its cue, or the
        start of a speaker's line in the validation text."""
        if self.task == "memory":
            return memory_sample_text(self.delay, seed=self.seed + 11)
        return validation_passages(self.task, count=1, length=length)[0]

    def flow_probe(self, max_lag: int, positions: int = 16) -> tuple[str, int | list[int], int]:
        """Where the gradient flow is measured: (text, positions, largest lag). On a corpus: validation text,
        evenly spread positions, lags up to ``max_lag``. On the memory task: sequences of the trained delay
        and the loss of each answer after its cue (the loss the task trains), back to the symbol (delay + 1
        steps); further back lies the previous sequence, which the task never asks about."""
        if self.task == "memory":
            text, cues = memory_probe(self.delay, positions + 1, seed=self.seed + 7)
            return text, cues[1:], self.delay + 1  # the first cue has no earlier sequence to stand on
        return load_corpus(self.task).valid_text[:max(2_000, 4 * max_lag)], positions, max_lag
