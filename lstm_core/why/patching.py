"""Patching across time: copy one text's state at step s into another text's run at step t, and read on.

After reading ``source[:s + 1]`` the model holds a state; after ``target[:t + 1]``, another. The patch replaces
the target's state (one layer's hidden state, its cell state where the architecture has one, or both; all units
or chosen ones) by the source's, then the model reads the rest of the target and writes on. Beside it the same
without the patch, with the same seed, so that every difference is the patch's (Meng et al. 2022's activation
patching, here across time in a recurrent state).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .common import (WhyError, check_position, encode, read_on, sample_on, state_names, state_of, state_parts)

WHOLE = "whole"  # patch every state of the layer (an LSTM's h and c)
# The example /why opens on: Harpagon's state in the middle of "voleur" copied into Valère's line. (After a
# whole speaker line the state carries little of the speaker: the patch there changes the next character by
# a total variation of 0.002; mid-word, the model goes on with A's word.)
EXAMPLE_SOURCE, EXAMPLE_TARGET = "HARPAGON.\nAu voleur! au vol", "VALÈRE.\nMonsieur, je vous"


@dataclass
class PatchResult:
    """The target's run read on from its own state and from the patched one."""

    target_chars: list[str]
    source_chars: list[str]
    source_step: int
    target_step: int
    layer: int
    quantities: tuple[str, ...]  # the states patched
    units: list[int] | None  # None: every unit
    rest: str  # what the target reads after the patch
    probs_plain: np.ndarray  # (len(rest) + 1, vocab): the next-character distribution after the patch step, ...
    probs_patched: np.ndarray  # ... then after each character of the rest
    sample_plain: str  # written after the whole target, the same seed for both
    sample_patched: str
    vocab_chars: list[str] = field(default_factory=list)

    @property
    def total_variation(self) -> np.ndarray:
        """½ Σ |p_patched - p_plain| at each step after the patch: (len(rest) + 1,)."""
        return 0.5 * np.abs(self.probs_patched - self.probs_plain).sum(axis=-1)

    def top(self, patched: bool, step: int = -1, k: int = 5) -> list[tuple[str, float]]:
        """The k likeliest next characters at ``step`` after the patch (-1: after the whole target)."""
        probs = (self.probs_patched if patched else self.probs_plain)[step]
        return [(self.vocab_chars[j], float(probs[j])) for j in np.argsort(-probs)[:k]]


def patch_quantities(model, quantity: str) -> tuple[str, ...]:
    """The states a patch of ``quantity`` ("hidden_state", "cell_state" or "whole") replaces, for this model."""
    names = state_names(model)
    if quantity == WHOLE:
        return names
    if quantity not in names:
        raise WhyError(f"A {model.arch.display_name} has no {quantity.replace('_', ' ')}; it carries "
                       f"{' and '.join(n.replace('_', ' ') for n in names)}.")
    return (quantity,)


def check_units(units, hidden: int) -> list[int] | None:
    if units is None:
        return None
    units = sorted({int(u) for u in units})
    bad = [u for u in units if not 0 <= u < hidden]
    if bad or not units:
        raise WhyError(f"Units run from 0 to {hidden - 1}; {bad[0] if bad else 'none'} was given.")
    return units


@torch.no_grad()
def patched_state(model, source_state, target_state, layer: int, quantities, units):
    """The target's state with ``quantities`` of ``layer`` (``units``, or all) taken from the source's."""
    source, target = state_parts(model, source_state), state_parts(model, target_state)
    patched = {name: value.clone() for name, value in target.items()}
    index = slice(None) if units is None else torch.tensor(units)
    for name in quantities:
        patched[name][layer, :, index] = source[name][layer, :, index]
    return state_of(model, patched)


@torch.no_grad()
def patch(model, vocab, source: str, target: str, source_step: int, target_step: int, layer: int = 0,
          quantity: str = WHOLE, units=None, length: int = 120, temperature: float = 0.8,
          seed: int = 0) -> PatchResult:
    """Copy ``source``'s state after its character ``source_step`` into ``target``'s run after its character
    ``target_step``; read the rest of the target and write ``length`` characters on, with and without it."""
    model.eval()
    source_ids, source_text, _ = encode(vocab, source, "the source text")
    target_ids, target_text, _ = encode(vocab, target, "the target text")
    source_step = check_position(source_step, len(source_text), "The source step")
    target_step = check_position(target_step, len(target_text), "The target step")
    layers = model.config.num_layers
    if not 0 <= int(layer) < layers:
        raise WhyError(f"The layer must be between 0 and {layers - 1}, got {layer}.")
    quantities = patch_quantities(model, quantity)
    units = check_units(units, model.config.hidden_size)
    _, source_state = model(source_ids[:, :source_step + 1])
    _, target_state = model(target_ids[:, :target_step + 1])
    patched = patched_state(model, source_state, target_state, int(layer), quantities, units)
    rest = target_ids[:, target_step + 1:]
    runs = {}
    for name, state in (("plain", target_state), ("patched", patched)):
        logits, end = read_on(model, rest, state)
        runs[name] = (torch.softmax(logits.double(), -1).numpy(),
                      sample_on(model, vocab, logits[-1], end, length, temperature, seed))
    return PatchResult(list(target_text), list(source_text), source_step, target_step, int(layer), quantities, units,
                       target_text[target_step + 1:], runs["plain"][0], runs["patched"][0], runs["plain"][1],
                       runs["patched"][1], list(vocab.chars))
