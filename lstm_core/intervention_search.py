"""Which intervention changes a character model most: the Gates page's default, chosen by measuring.

Clamping a gate of four units to a value the gate already sits near changes nothing a student can see.
:func:`strongest_intervention` tries every candidate on a text (each sigmoid gate clamped to 0 and to 1,
and the units silenced, for each set of units offered), replays the model with it
(:func:`lstm_core.trace.trace`), and keeps the one that moves the next-character probabilities most:
the mean total variation distance ``½ Σ |p_after − p_before|`` over the text's characters (0: no change,
1: a completely different prediction at every character)::

    found = strongest_intervention(run.model, run.vocab, text, layer=0, unit_sets=[[3, 7], [12, 40]])
    found.intervention, found.change          # Intervention("forget_gate", 0, [12, 40], 1.0), 0.11
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .architectures import of_module
from .trace import Intervention, trace


@dataclass(frozen=True)
class FoundIntervention:
    intervention: Intervention
    change: float  # mean total variation distance of the next-character probabilities over the text
    tried: int  # how many candidates were measured


def candidates(gates: tuple[str, ...] | list[str], layer: int, unit_sets: list[list[int]]) -> list[Intervention]:
    """Each gate clamped shut (0) and open (1), and the units silenced (h = 0), for every set of units."""
    found = []
    for units in unit_sets:
        found += [Intervention(gate, layer, units, value) for gate in gates for value in (0.0, 1.0)]
        found.append(Intervention("hidden_state", layer, units, 0.0))
    return found


def strongest_intervention(model, vocab, text: str, layer: int, unit_sets: list[list[int]]) -> FoundIntervention:
    """The candidate (see :func:`candidates`) whose replay on ``text`` moves the next-character
    probabilities most; ties keep the earlier candidate."""
    core = model.recurrent if hasattr(model, "recurrent") else model.lstm
    before = trace(model, vocab, text).probs  # (time, vocab)
    tried = candidates(of_module(core).sigmoid_gates, layer, [list(u) for u in unit_sets if len(u)])
    if not tried:
        raise ValueError("no units to intervene on")
    changes = [float(0.5 * np.abs(trace(model, vocab, text, interventions=[edit]).probs - before).sum(axis=1).mean())
               for edit in tried]
    best = int(np.argmax(changes))
    return FoundIntervention(tried[best], changes[best], len(tried))
