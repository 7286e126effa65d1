"""The memory diff: two texts one character apart, run side by side, and what the difference leaves in each state.

Text A is the user's; text B is A with the character at position P changed. Both run through the exact replay
(lstm_core.trace), and for every step t, layer and state (hidden_state, and cell_state where the architecture has
one) the diff keeps Δ = state_B - state_A per unit and its L2 norm over units, and the change in the
next-character distribution (total variation, ½ Σ |p_B - p_A|). Before P the two runs read the same characters
through the same arithmetic, so every Δ there is exactly 0. It is the forward-time twin of the vanishing
gradient: how long a plain RNN's state keeps a difference, against an LSTM's cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..compare_runs import shipped_comparison
from ..runs import load_run
from ..trace import trace
from ..training.memory import SYMBOLS, memory_sample_text
from .common import WhyError, char_id, check_position, encode, state_names


@dataclass
class MemoryDiff:
    """Two runs one character apart: ``delta[quantity]`` (layers, time, units) = B - A for each state."""

    chars_a: list[str]
    chars_b: list[str]
    position: int
    delta: dict  # "hidden_state" (and "cell_state") -> (layers, time, units)
    total_variation: np.ndarray  # (time,) ½ Σ |p_B - p_A| of the next-character distributions
    top_a: list[str]  # the likeliest next character after each step, for A and for B
    top_b: list[str]
    replacements: dict = field(default_factory=dict)

    @property
    def quantities(self) -> tuple[str, ...]:
        return tuple(self.delta)

    @property
    def layers(self) -> int:
        return next(iter(self.delta.values())).shape[0]

    def norms(self, quantity: str, layer: int) -> np.ndarray:
        """‖Δ‖ over units at every step: (time,)."""
        return np.linalg.norm(self.delta[quantity][layer].astype(np.float64), axis=-1)

    def frame(self) -> pd.DataFrame:
        """step, layer, quantity, norm: the command line's CSV, a row per step, layer and state."""
        rows = [pd.DataFrame({"step": np.arange(len(self.chars_a)), "layer": layer, "quantity": quantity,
                              "norm": self.norms(quantity, layer)})
                for quantity in self.quantities for layer in range(self.layers)]
        return pd.concat(rows, ignore_index=True)

    def carried(self, quantity: str, layer: int, step: int) -> float:
        """‖Δ‖ at ``step`` as a share of ‖Δ‖ at P: how much of the difference is still there."""
        norms = self.norms(quantity, layer)
        return float(norms[step] / norms[self.position]) if norms[self.position] > 0 else 0.0


def changed_text(vocab, text: str, position: int, char: str) -> tuple[str, str]:
    """(A, B): the text as the model reads it and the same with ``char`` at ``position``; a WhyError for a
    position outside it, a character outside the vocabulary, or a change that changes nothing."""
    _, cleaned, _ = encode(vocab, text)
    position = check_position(position, len(cleaned))
    char_id(vocab, char, "The new character")
    if cleaned[position] == char:
        raise WhyError(f"Position {position} already holds {char!r}: pick another character to compare with.")
    return cleaned, cleaned[:position] + char + cleaned[position + 1:]


def memory_diff(model, vocab, text: str, position: int, char: str) -> MemoryDiff:
    """Run ``text`` and the same text with ``char`` at ``position`` through the model; their difference."""
    text_a, text_b = changed_text(vocab, text, position, char)
    _, _, replacements = encode(vocab, text)
    a, b = trace(model, vocab, text_a), trace(model, vocab, text_b)
    states = list(state_names(model))
    delta = {q: b[q] - a[q] for q in states}
    total_variation = 0.5 * np.abs(b.probs.astype(np.float64) - a.probs).sum(axis=-1)
    return MemoryDiff(list(text_a), list(text_b), int(position), delta, total_variation,
                      [vocab.chars[j] for j in a.probs.argmax(-1)], [vocab.chars[j] for j in b.probs.argmax(-1)],
                      replacements)


MEMORY_SEED = 0  # which memory-task sequence the comparison reads
EXAMPLE_TEXT = "HARPAGON.\n\nJe ne vous entends point, et je veux"  # what /why changes first


@dataclass
class ArchitectureDiff:
    """One contender of the shipped memory-task comparison, its symbol changed: how much of the change its memory
    state still holds at the cue, and how much the answer's distribution moved."""

    label: str
    memory_state: str  # the state that carries memory: an LSTM's cell, the others' hidden state
    diff: MemoryDiff

    @property
    def at_cue(self) -> float:
        """‖Δ memory state‖ at the cue as a share of ‖Δ‖ at the symbol."""
        return self.diff.carried(self.memory_state, 0, len(self.diff.chars_a) - 1)

    @property
    def answer_change(self) -> float:
        """Total variation of the answer's distribution (after the cue)."""
        return float(self.diff.total_variation[-1])


def memory_task_diffs(runs: dict, delay: int, seed: int = MEMORY_SEED) -> list[ArchitectureDiff]:
    """For each memory-task model ({label: (model, vocab)}), the memory diff of one sequence (symbol, ``delay``
    distractors, cue) against the same with the next symbol in place of its own."""
    text = memory_sample_text(delay, seed)
    other = SYMBOLS[(SYMBOLS.index(text[0]) + 1) % len(SYMBOLS)]
    return [ArchitectureDiff(label, model.arch.memory_state, memory_diff(model, vocab, text, 0, other))
            for label, (model, vocab) in runs.items()]


def shipped_memory_diffs(seed: int = MEMORY_SEED) -> list[ArchitectureDiff]:
    """:func:`memory_task_diffs` on the comparison shipped with the app (data/pretrained/compare-memory-50)."""
    shipped = shipped_comparison()
    runs = {label: load_run(path) for label, path in shipped.runs.items()}
    return memory_task_diffs({label: (run.model, run.vocab) for label, run in runs.items()}, shipped.setup.delay, seed)


def share(value: float) -> str:
    """A share as the page and the lesson write it: 0.93, 0.0041, 2.1e-07."""
    return f"{value:.2g}"
