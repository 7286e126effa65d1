"""The one table of gates and states: names, symbols, activations, value ranges and labels.

Every module and page that names a gate or a state reads it from here: the exact trace, the cell
lab, the nn.LSTM explorer, the unit finder, the heatmaps and the interventions. There is one table
per cell type, each in PyTorch's row order (the blocks of ``weight_ih_l{k}`` / ``weight_hh_l{k}``);
each entry of :mod:`lstm_core.architectures` holds its own (``architecture("gru").quantities``):

    LSTM_TABLE   i | f | g | o, then the states c, h      (torch.nn.LSTM)
    GRU_TABLE    r | z | n, then the state h               (torch.nn.GRU; n is torch's name for the candidate)
    RNN_TABLE    the state h only                          (torch.nn.RNN, tanh: the Elman network)

    quantity("forget_gate").symbol      -> "f"
    quantity("forget_gate").bounds      -> (0.0, 1.0)   (a sigmoid gate)
    colour_range("cell_state", values)  -> symmetric around 0, as far as the values reach
    check_value("input_gate", 1.5)      -> ValueError: an input gate lies between 0 and 1
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Quantity:
    """One gate or state of a recurrent cell, one value per unit and timestep."""

    name: str  # as in code and links: "forget_gate"
    symbol: str  # the paper's letter: "f"
    kind: str  # "gate" (a sigmoid in [0, 1]), "candidate" (a tanh), or "state"
    activation: str | None  # "sigmoid", "tanh", or None for a state
    low: float | None  # the range its values can take; None: unbounded
    high: float | None
    centre: float  # where its meaning changes (colour scales are centred here)
    meaning: str  # what it does, in one line

    @property
    def label(self) -> str:
        return f"{self.name.replace('_', ' ')} {self.symbol}"

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        return self.low, self.high

    @property
    def bounded(self) -> bool:
        return self.low is not None and self.high is not None


def _gate(name: str, symbol: str, meaning: str) -> Quantity:
    return Quantity(name, symbol, "gate", "sigmoid", 0.0, 1.0, 0.5, meaning)


LSTM_TABLE = (  # PyTorch's order: the gates i, f, g, o, then the states c, h
    _gate("input_gate", "i", "how much of the candidate to write into the cell (0: nothing, 1: all)"),
    _gate("forget_gate", "f", "how much of the old cell state to keep (0: wipe it, 1: keep it all)"),
    Quantity("cell_candidate", "g", "candidate", "tanh", -1.0, 1.0, 0.0, "the new content that could be written"),
    _gate("output_gate", "o", "how much of the squashed cell state to show as the hidden state"),
    Quantity("cell_state", "c", "state", None, None, None, 0.0, "the memory carried from step to step"),
    Quantity("hidden_state", "h", "state", "tanh", -1.0, 1.0, 0.0,
             "what the cell shows the next layer and the next step: o · tanh(c)"),
)
GRU_TABLE = (  # PyTorch's order r | z | n, then the state h
    _gate("reset_gate", "r", "how much of the old hidden state the candidate may read (0: none, 1: all)"),
    _gate("update_gate", "z", "how much of the old hidden state to keep (1: keep it, 0: take the candidate)"),
    Quantity("new_gate", "n", "candidate", "tanh", -1.0, 1.0, 0.0,
             "the candidate hidden state, computed from the input and the reset old state"),
    Quantity("hidden_state", "h", "state", "tanh", -1.0, 1.0, 0.0,
             "the memory and the output at once: (1 − z) · n + z · h(t−1)"),
)
RNN_TABLE = (  # a plain (Elman) RNN has no gates: one state
    Quantity("hidden_state", "h", "state", "tanh", -1.0, 1.0, 0.0,
             "the memory and the output at once: tanh(W x + U h(t−1) + b), rewritten whole at every step"),
)
TABLE = {q.name: q for q in LSTM_TABLE}  # every name once; hidden_state keeps the LSTM's line
TABLE.update({q.name: q for q in GRU_TABLE if q.name not in TABLE})

GATES = tuple(q.name for q in LSTM_TABLE if q.kind != "state")  # the four blocks, i | f | g | o
STATES = tuple(q.name for q in LSTM_TABLE if q.kind == "state")
QUANTITIES = GATES + STATES
SYMBOLS = {q.name: q.symbol for q in TABLE.values()}  # every architecture's names
LABELS = {q.name: q.label for q in TABLE.values()}


def quantity(name: str) -> Quantity:
    """The table's entry for ``name`` (a cell type's own: ``Architecture.quantity``); a ValueError lists the
    known names."""
    if name not in TABLE:
        raise ValueError(f"unknown quantity {name!r}; choose one of {', '.join(TABLE)}")
    return TABLE[name]


def check_value(name: str, value: float) -> None:
    """Refuse a value the quantity can never take (an intervention setting a gate to 1.5, say)."""
    entry = quantity(name)
    if entry.bounded and not entry.low <= value <= entry.high:
        raise ValueError(f"a {name.replace('_', ' ')} lies between {entry.low:g} and {entry.high:g}; got {value}")


def colour_range(name: str, values=None) -> tuple[float, float]:
    """The range a colour scale should span: the quantity's own bounds, or, for an unbounded one,
    symmetric around its centre as far as ``values`` reach."""
    entry = quantity(name)
    if entry.bounded:
        return entry.low, entry.high
    reach = float(np.max(np.abs(np.asarray(values) - entry.centre))) if values is not None and np.size(values) else 1.0
    reach = max(reach, 1e-6)
    return entry.centre - reach, entry.centre + reach
