"""Unit ablation: the units a model cannot do without.

For every unit of a layer, :func:`unit_ablation` silences it (h = 0 at every step, from the first
character on, as the Gates page's "silence units" intervention does) and measures the loss on a text,
usually a stretch of the validation split; the units whose silence costs most come first. This is
the causal counterpart of the unit finder's correlations: a unit that tracks quotes but whose
silence costs nothing is a spectator.

One forward pass per unit would be slow, so the units go in one batch: batch element 0 is the
model as it is, element u + 1 has unit u silenced; only the layer that is silenced steps in Python
(with a different mask per element), the layers below it run once, and the layers above it run
through the fused kernel on the whole batch. Results equal the trace's intervention (a test holds it).

    result = unit_ablation(model, vocab, valid_text[:1000], layer=0)
    result.frame().head(10)        # rank, unit, loss, delta (nats per character)
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from .recurrence import fused_layers, layer_weights, masked_layer
from .runs import load_run

MAX_BATCH_VALUES = 8_000_000  # floats of (batch, time, hidden) held at once: the units go in groups below it


@dataclass
class UnitAblation:
    """The loss with each unit of one layer silenced, against the intact model's."""

    layer: int
    baseline: float  # nats per character, nothing silenced
    losses: np.ndarray  # (units,): nats per character with that unit silenced
    characters: int  # how many predictions each loss averages

    @property
    def deltas(self) -> np.ndarray:
        return self.losses - self.baseline

    def frame(self) -> pd.DataFrame:
        """One row per unit, the costliest silence first: rank, unit, loss, delta."""
        order = np.argsort(-self.deltas, kind="stable")
        return pd.DataFrame({"rank": np.arange(1, len(order) + 1), "unit": order,
                             "loss": self.losses[order], "delta": self.deltas[order]})


@torch.no_grad()
def unit_ablation(model: nn.Module, vocab, text: str, layer: int = 0, units=None) -> UnitAblation:
    """Silence each unit of ``layer`` in turn (or only ``units``) over ``text``; see the module's docstring.
    Units not measured have NaN losses."""
    core, arch = model.recurrent, model.arch
    if not 0 <= layer < core.num_layers:
        raise ValueError(f"the model has {core.num_layers} layer(s); layer {layer} does not exist")
    cleaned, _ = vocab.clean(text)
    if len(cleaned) < 2:
        raise ValueError("the text needs at least two characters (one prediction)")
    hidden = core.hidden_size
    units = np.arange(hidden) if units is None else np.unique(np.asarray(units, int))
    model.eval()
    ids = torch.tensor(vocab.encode(cleaned), dtype=torch.long)
    below, _ = fused_layers(arch, core, model.embedding(ids).unsqueeze(0), 0, layer)  # (1, time, input): shared
    weights = layer_weights(core, layer)
    group = max(1, MAX_BATCH_VALUES // (len(ids) * hidden) - 1)
    losses = np.full(hidden, np.nan)
    baseline = None
    for first in range(0, len(units), group):
        chosen = units[first:first + group]
        mask = torch.ones(len(chosen) + 1, hidden)  # element 0: intact; element k: unit chosen[k - 1] silenced
        mask[torch.arange(1, len(chosen) + 1), torch.as_tensor(chosen)] = 0.0
        hidden_states = masked_layer(arch, weights, below, mask)
        top, _ = fused_layers(arch, core, hidden_states, layer + 1, core.num_layers)  # (batch, time, hidden)
        per_element = _losses(model.head, top, ids)
        baseline = float(per_element[0]) if baseline is None else baseline
        losses[chosen] = per_element[1:]
    return UnitAblation(layer, baseline, losses, len(ids) - 1)


def ablate_saved_run(run_dir: str, text: str, layer: int) -> tuple[UnitAblation, float]:
    """:func:`unit_ablation` of the run saved in ``run_dir``, and the seconds it took: what a worker process
    runs (it loads the run itself, so only a path travels to it and the arrays come back)."""
    run = load_run(run_dir)
    started = time.perf_counter()
    result = unit_ablation(run.model, run.vocab, text, layer)
    return result, time.perf_counter() - started


def _losses(head: nn.Module, top: torch.Tensor, ids: torch.Tensor, chunk: int = 256) -> np.ndarray:
    """Mean next-character loss per batch element (nats): positions 0..n-2 predict ids[1..n-1]."""
    batch, steps = top.shape[0], top.shape[1] - 1
    total = torch.zeros(batch, dtype=torch.float64)
    for start in range(0, steps, chunk):  # in chunks of time: (batch, time, vocab) logits can be large
        stop = min(steps, start + chunk)
        logits = head(top[:, start:stop])
        targets = ids[start + 1:stop + 1].expand(batch, -1)
        total += nn.functional.cross_entropy(logits.transpose(1, 2), targets, reduction="none").double().sum(dim=1)
    return (total / steps).numpy()
