"""One LSTM cell, small enough to read.

A cell of a few units reading a small input, every step written out the way a student reads it,
with PyTorch's gate order i, f, g, o, so that for the same weights it equals ``torch.nn.LSTMCell``
(a test holds it to 1e-6). The recurrence is written once, in :func:`step_from_preactivations`:
the Cell lab's sliders, its sequences and the walk of a trained model's unit all go through it.

    weights = CellWeights.zeros(units=2, inputs=1)
    step = cell_step(weights, x=[0.5], h_prev=[0, 0], c_prev=[0.3, -1])   # step.cell_state, ...
    run = run_sequence(weights, [[1], [0], [1]])                          # run.cell_states: (time, units)

References: Hochreiter & Schmidhuber (1997); Gers, Schmidhuber & Cummins (2000) for the forget
gate; the recurrence as in karpathy/makemore's cells and PyTorch's ``nn.LSTMCell`` documentation.
The Cell lab's presets, sequences and walks live in :mod:`lstm_core.cell_lab`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from .gates import GATES, SYMBOLS, TABLE

GATE_NAMES = GATES  # PyTorch's row order i | f | g | o
GATE_SYMBOLS = tuple(SYMBOLS[name] for name in GATES)
ACTIVATIONS = {"sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)), "tanh": np.tanh}
MAX_UNITS = 4
MAX_INPUTS = 3


def sigmoid(z):
    return ACTIVATIONS["sigmoid"](np.asarray(z, dtype=np.float64))


def activate(name: str, z) -> np.ndarray:
    """The activation the gate table gives ``name`` (σ for the gates, tanh for the candidate)."""
    return ACTIVATIONS[TABLE[name].activation](np.asarray(z, dtype=np.float64))


@dataclass
class CellWeights:
    """The parameters of one cell, gates stacked i|f|g|o as in ``nn.LSTMCell``.

    weight_x: (4, units, inputs)   how each gate of each unit reads the input x_t
    weight_h: (4, units, units)    how each gate of each unit reads the previous hidden state
    bias:     (4, units)           one bias per gate and unit (PyTorch's b_ih + b_hh)
    """

    weight_x: np.ndarray
    weight_h: np.ndarray
    bias: np.ndarray

    def __post_init__(self):
        self.weight_x = np.asarray(self.weight_x, np.float64)
        self.weight_h = np.asarray(self.weight_h, np.float64)
        self.bias = np.asarray(self.bias, np.float64)
        units, inputs = self.units, self.inputs
        if not 1 <= units <= MAX_UNITS or not 1 <= inputs <= MAX_INPUTS:
            raise ValueError(f"the cell lab holds 1 to {MAX_UNITS} units and 1 to {MAX_INPUTS} inputs")
        if self.weight_x.shape != (4, units, inputs) or self.weight_h.shape != (4, units, units) \
                or self.bias.shape != (4, units):
            raise ValueError("weights must be shaped (4, units, inputs), (4, units, units) and (4, units)")

    @property
    def units(self) -> int:
        return self.weight_x.shape[1]

    @property
    def inputs(self) -> int:
        return self.weight_x.shape[2]

    @classmethod
    def zeros(cls, units: int, inputs: int) -> "CellWeights":
        return cls(np.zeros((4, units, inputs)), np.zeros((4, units, units)), np.zeros((4, units)))

    @classmethod
    def from_lstm_cell(cls, cell: nn.LSTMCell) -> "CellWeights":
        units = cell.hidden_size
        w_ih = cell.weight_ih.detach().double().numpy().reshape(4, units, cell.input_size)
        w_hh = cell.weight_hh.detach().double().numpy().reshape(4, units, units)
        bias = np.zeros((4, units))
        if cell.bias:
            bias = (cell.bias_ih + cell.bias_hh).detach().double().numpy().reshape(4, units)
        return cls(w_ih, w_hh, bias)

    def to_lstm_cell(self, dtype=torch.float64) -> nn.LSTMCell:
        """The same cell as a ``torch.nn.LSTMCell`` (the whole bias in ``bias_ih``)."""
        cell = nn.LSTMCell(self.inputs, self.units).to(dtype)
        with torch.no_grad():
            cell.weight_ih.copy_(torch.from_numpy(self.weight_x.reshape(4 * self.units, self.inputs)))
            cell.weight_hh.copy_(torch.from_numpy(self.weight_h.reshape(4 * self.units, self.units)))
            cell.bias_ih.copy_(torch.from_numpy(self.bias.reshape(-1)))
            cell.bias_hh.zero_()
        return cell


@dataclass
class CellStep:
    """Everything one step of the cell computed.

    ``from_input``, ``from_hidden`` and ``bias`` are the three parts of each gate's pre-activation,
    shaped (4, units); ``pre`` is their sum. Every gate and state is shaped (units,).
    """

    x: np.ndarray  # (inputs,)
    h_prev: np.ndarray
    c_prev: np.ndarray
    from_input: np.ndarray
    from_hidden: np.ndarray
    bias: np.ndarray
    pre: np.ndarray
    input_gate: np.ndarray
    forget_gate: np.ndarray
    cell_candidate: np.ndarray
    output_gate: np.ndarray
    kept: np.ndarray
    written: np.ndarray
    cell_state: np.ndarray
    tanh_cell: np.ndarray
    hidden_state: np.ndarray

    def gate(self, k: int) -> np.ndarray:
        return getattr(self, GATE_NAMES[k])

    def unit(self, u: int) -> "CellStep":
        """The same step for unit ``u`` alone (every per-unit array cut to that unit)."""
        cut = {name: (value[..., u:u + 1] if name != "x" else value) for name, value in vars(self).items()}
        return CellStep(**cut)


def step_from_preactivations(pre, c_prev, from_input=None, from_hidden=None, bias=None,
                             x=None, h_prev=None) -> CellStep:
    """The cell update once the four pre-activations ``pre`` (4, units) are known.

    This is the recurrence, written once. Without the three parts of ``pre`` (the first lesson,
    where the pre-activations are set directly) each gate's whole pre-activation counts as its bias.
    """
    pre = np.asarray(pre, np.float64)
    c_prev = np.asarray(c_prev, np.float64)
    units = pre.shape[1]
    z = dict(zip(GATE_NAMES, pre))
    # input gate: how much of the candidate to write, between 0 (nothing) and 1 (all of it)
    input_gate = activate("input_gate", z["input_gate"])
    # forget gate: how much of the old cell state to keep, between 0 (wipe it) and 1 (keep it)
    forget_gate = activate("forget_gate", z["forget_gate"])
    # cell candidate: the new content that could be written, between -1 and 1
    cell_candidate = activate("cell_candidate", z["cell_candidate"])
    # output gate: how much of the (squashed) cell state to show as the hidden state
    output_gate = activate("output_gate", z["output_gate"])
    # keep part of the old memory and write part of the candidate: the new cell state
    kept = forget_gate * c_prev
    written = input_gate * cell_candidate
    cell_state = kept + written
    # squash the cell state into (-1, 1) and let the output gate decide how much of it to show
    tanh_cell = np.tanh(cell_state)
    hidden_state = output_gate * tanh_cell
    zero = np.zeros((4, units))
    return CellStep(
        x=np.zeros(0) if x is None else np.asarray(x, np.float64),
        h_prev=np.zeros(units) if h_prev is None else np.asarray(h_prev, np.float64),
        c_prev=c_prev,
        from_input=zero if from_input is None else np.asarray(from_input, np.float64),
        from_hidden=zero if from_hidden is None else np.asarray(from_hidden, np.float64),
        bias=pre.copy() if bias is None else np.asarray(bias, np.float64), pre=pre,
        input_gate=input_gate, forget_gate=forget_gate, cell_candidate=cell_candidate,
        output_gate=output_gate, kept=kept, written=written, cell_state=cell_state,
        tanh_cell=tanh_cell, hidden_state=hidden_state)


def cell_step(weights: CellWeights, x, h_prev, c_prev) -> CellStep:
    """One step of the cell: x (inputs,), h_prev and c_prev (units,) -> every intermediate value."""
    x = np.asarray(x, np.float64).reshape(weights.inputs)
    h_prev = np.asarray(h_prev, np.float64).reshape(weights.units)
    c_prev = np.asarray(c_prev, np.float64).reshape(weights.units)
    # each gate reads the input, the previous hidden state and its bias: (4, units) each
    from_input = weights.weight_x @ x
    from_hidden = weights.weight_h @ h_prev
    pre = from_input + from_hidden + weights.bias
    return step_from_preactivations(pre, c_prev, from_input, from_hidden, weights.bias.copy(), x, h_prev)


@dataclass
class SequenceRun:
    """A sequence fed through the cell: the steps, and c and h over time as (time, units)."""

    labels: list[str]
    inputs: np.ndarray  # (time, inputs)
    steps: list[CellStep]

    @property
    def cell_states(self) -> np.ndarray:
        return self.values("cell_state")

    @property
    def hidden_states(self) -> np.ndarray:
        return self.values("hidden_state")

    def values(self, name: str) -> np.ndarray:
        """Any quantity of :class:`CellStep` over time: (time, units)."""
        return np.stack([getattr(s, name) for s in self.steps])


def run_sequence(weights: CellWeights, inputs, h0=None, c0=None, labels=None) -> SequenceRun:
    """Feed ``inputs`` (time, inputs) one step at a time, carrying h and c from step to step."""
    inputs = np.asarray(inputs, np.float64).reshape(-1, weights.inputs)
    h = np.zeros(weights.units) if h0 is None else np.asarray(h0, np.float64)
    c = np.zeros(weights.units) if c0 is None else np.asarray(c0, np.float64)
    steps = []
    for x in inputs:
        step = cell_step(weights, x, h, c)
        steps.append(step)
        # what this step leaves behind is what the next one reads
        h, c = step.hidden_state, step.cell_state
    labels = labels or ["/".join(f"{a:g}" for a in v) for v in inputs]
    return SequenceRun(list(labels), inputs, steps)
