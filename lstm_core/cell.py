"""One LSTM cell, small enough to read: the Cell lab's arithmetic.

A cell of 1 to 4 units reading a small input (1 to 3 numbers per step). Every step is written out
the way a student reads it, with PyTorch's gate order i, f, g, o, so that for the same weights it
equals ``torch.nn.LSTMCell`` (a test holds it to 1e-6). Also here: the scenario presets
(remember, forget, write, read, count), sequences fed step by step, and one unit taken out of a
trained character model and walked through real text with that model's own numbers.

References: Hochreiter & Schmidhuber (1997); Gers, Schmidhuber & Cummins (2000) for the forget
gate; the recurrence as in karpathy/makemore's cells and PyTorch's ``nn.LSTMCell`` documentation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn

from .gates import GATES, SYMBOLS, TABLE

GATE_NAMES = GATES  # PyTorch's row order i | f | g | o
GATE_SYMBOLS = tuple(SYMBOLS[name] for name in GATES)
MAX_UNITS = 4
MAX_INPUTS = 3
MAX_SEQUENCE = 40


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=np.float64)))


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
    """Everything one step of the cell computed, each entry shaped (units,).

    ``from_input``, ``from_hidden`` and ``bias`` are the three parts of each gate's
    pre-activation, shaped (4, units); ``pre`` is their sum.
    """

    x: np.ndarray
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


def step_from_preactivations(pre, c_prev, from_input=None, from_hidden=None, bias=None,
                             x=None, h_prev=None) -> CellStep:
    """The cell update once the four pre-activations (4, units) are known (the first lesson)."""
    pre = np.asarray(pre, np.float64)
    c_prev = np.asarray(c_prev, np.float64)
    units = pre.shape[1]
    zero = np.zeros((4, units))
    # input gate: how much of the candidate to write, between 0 (nothing) and 1 (all of it)
    input_gate = sigmoid(pre[0])
    # forget gate: how much of the old cell state to keep, between 0 (wipe it) and 1 (keep it)
    forget_gate = sigmoid(pre[1])
    # cell candidate: the new content that could be written, between -1 and 1
    cell_candidate = np.tanh(pre[2])
    # output gate: how much of the (squashed) cell state to show as the hidden state
    output_gate = sigmoid(pre[3])
    # keep part of the old memory and write part of the candidate: the new cell state
    kept = forget_gate * c_prev
    written = input_gate * cell_candidate
    cell_state = kept + written
    # squash the cell state into (-1, 1) and let the output gate decide how much of it to show
    tanh_cell = np.tanh(cell_state)
    hidden_state = output_gate * tanh_cell
    return CellStep(
        x=np.zeros(0) if x is None else np.asarray(x, np.float64),
        h_prev=np.zeros(units) if h_prev is None else np.asarray(h_prev, np.float64),
        c_prev=c_prev, from_input=zero if from_input is None else from_input,
        from_hidden=zero if from_hidden is None else from_hidden,
        bias=pre.copy() if bias is None else bias, pre=pre,
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
        return np.stack([s.cell_state for s in self.steps])

    @property
    def hidden_states(self) -> np.ndarray:
        return np.stack([s.hidden_state for s in self.steps])

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
        h, c = step.hidden_state, step.cell_state
    labels = labels or ["/".join(f"{a:g}" for a in v) for v in inputs]
    return SequenceRun(list(labels), inputs, steps)


# ----------------------------------------------------------------------------- sequences typed in


@dataclass
class ParsedSequence:
    """A typed sequence turned into cell inputs; ``embedding`` maps each character to its vector."""

    labels: list[str]
    inputs: np.ndarray  # (time, inputs)
    embedding: dict[str, list[float]] = field(default_factory=dict)


def character_embedding(chars, inputs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A small fixed embedding: each distinct character gets ``inputs`` numbers in [-1, 1].

    The vectors are drawn from ``torch.Generator().manual_seed(seed + ord(ch))``, so a character's
    vector does not depend on which other characters the sequence holds.
    """
    table = {}
    for ch in dict.fromkeys(chars):
        generator = torch.Generator().manual_seed(seed + ord(ch))
        table[ch] = (torch.rand(inputs, generator=generator, dtype=torch.float64) * 2 - 1).numpy().round(2)
    return table


def parse_sequence(text: str, inputs: int = 1) -> ParsedSequence:
    """Numbers ("1 1 0 -1" or "1,0.5;…", one number per step, or ``inputs`` numbers per step
    separated by '/') or, if the text is not numbers, its characters through a small embedding."""
    text = (text or "").strip()
    if not text:
        raise ValueError("The sequence is empty: type numbers such as 1 1 1 0 1, or a short word.")
    tokens = [t for t in re.split(r"[\s,;]+", text) if t]
    try:
        rows = [[float(v) for v in token.split("/")] for token in tokens]
    except ValueError:
        rows = None
    if rows is not None:
        widths = {len(r) for r in rows}
        if widths == {1} and inputs > 1:
            rows = [r * inputs for r in rows]  # one number per step feeds every input
        elif widths != {inputs}:
            raise ValueError(f"Each step needs {inputs} numbers separated by '/' (for example "
                             f"{'/'.join(['1'] * inputs)}), or a single number.")
        if len(rows) > MAX_SEQUENCE:
            raise ValueError(f"The cell lab steps through at most {MAX_SEQUENCE} steps; this sequence has {len(rows)}.")
        if not np.isfinite(np.asarray(rows)).all() or np.abs(np.asarray(rows)).max() > 100:
            raise ValueError("Inputs must be finite numbers between -100 and 100.")
        return ParsedSequence(tokens, np.asarray(rows, np.float64))
    chars = list(text)
    if len(chars) > MAX_SEQUENCE:
        raise ValueError(f"The cell lab steps through at most {MAX_SEQUENCE} characters; this text has {len(chars)}.")
    table = character_embedding(chars, inputs)
    return ParsedSequence([repr(ch)[1:-1] if ch.isspace() else ch for ch in chars],
                          np.stack([table[ch] for ch in chars]),
                          {ch: [float(v) for v in vec] for ch, vec in table.items()})


# ----------------------------------------------------------------------------- scenario presets


@dataclass
class Scenario:
    """A one-unit, one-input cell set up to show one behaviour, with a sequence to step through."""

    name: str
    explanation: str
    weight_x: tuple  # per gate i, f, g, o
    weight_h: tuple
    bias: tuple
    x: float
    h_prev: float
    c_prev: float
    sequence: str

    def weights(self) -> CellWeights:
        return CellWeights(np.reshape(self.weight_x, (4, 1, 1)), np.reshape(self.weight_h, (4, 1, 1)),
                           np.reshape(self.bias, (4, 1)))


SCENARIOS = {
    "remember": Scenario(
        "remember",
        "The forget gate is wide open (bias +6, f ≈ 1) and the input gate is shut (bias −6, i ≈ 0), "
        "so c_t ≈ c_{t−1} whatever the input. This is how an LSTM carries a fact across many steps: "
        "the memory is copied, not rewritten.",
        weight_x=(0.0, 0.0, 1.0, 0.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(-6.0, 6.0, 0.0, 6.0),
        x=0.8, h_prev=0.0, c_prev=0.8, sequence="1 -1 0.5 0 -0.5 1"),
    "forget": Scenario(
        "forget",
        "A strong positive input drives the forget gate shut (f = σ(−10x + 5)), so the old cell state is "
        "wiped and c_t falls towards 0. With x near 0 the same gate stays open: the input decides when "
        "the memory is erased.",
        weight_x=(0.0, -10.0, 0.0, 0.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(-6.0, 5.0, 0.0, 6.0),
        x=1.0, h_prev=0.0, c_prev=0.9, sequence="0 0 0 1 0 0"),
    "write": Scenario(
        "write",
        "The input gate is open (i ≈ 1) and the forget gate shut (f ≈ 0), so the cell state becomes the "
        "candidate g = tanh(2x) at every step. The memory now follows the current input and nothing of "
        "the past survives.",
        weight_x=(0.0, 0.0, 2.0, 0.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(6.0, -6.0, 0.0, 6.0),
        x=0.5, h_prev=0.0, c_prev=-0.7, sequence="0.5 -0.5 1 0 -1"),
    "read": Scenario(
        "read",
        "The memory is kept (f ≈ 1, i ≈ 0) while the output gate o = σ(8x − 4) opens only when x is "
        "high. The hidden state shows tanh(c_t) when asked and 0 otherwise: the cell can hold a value "
        "without exposing it.",
        weight_x=(0.0, 0.0, 0.0, 8.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(-6.0, 6.0, 0.0, -4.0),
        x=1.0, h_prev=0.0, c_prev=0.9, sequence="0 0 1 0 1 0"),
    "count": Scenario(
        "count",
        "Both the forget and the input gate are open, and each input 1 writes g = tanh(0.55) ≈ 0.5, so "
        "c_t adds one half per 1 seen and stays put on 0. Step through the sequence: c_t counts the ones, "
        "while h_t = o·tanh(c_t) saturates as the count grows.",
        weight_x=(0.0, 0.0, 0.55, 0.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(6.0, 6.0, 0.0, 6.0),
        x=1.0, h_prev=0.0, c_prev=0.0, sequence="1 1 0 1 1 1 0 1"),
}


# ----------------------------------------------------------------------------- a unit of a trained model


@dataclass
class UnitWalk:
    """One unit of a trained character model stepped through real text with the model's own numbers.

    The unit's gate pre-activations are rebuilt from four parts, each (time, 4) for gates i, f, g, o:
    ``from_input`` (the embedded character, or the layer below), ``from_self`` (the unit's own
    previous hidden state), ``from_others`` (every other unit's previous hidden state, taken from
    the exact trace of the whole model) and ``bias``. ``deviation`` is the largest difference between
    the gates and states recomputed here and the exact trace (float32 rounding only).
    """

    chars: list[str]
    layer: int
    unit: int
    from_input: np.ndarray
    from_self: np.ndarray
    from_others: np.ndarray
    bias: np.ndarray
    gates: np.ndarray  # (time, 4) i, f, g, o
    c_prev: np.ndarray  # (time,)
    cell_state: np.ndarray  # (time,)
    hidden_state: np.ndarray  # (time,)
    deviation: float
    replacements: dict = field(default_factory=dict)  # unknown characters and what stood in for them

    def step(self, t: int) -> CellStep:
        """Step t of the walk as a one-unit :class:`CellStep` (for the equations and the diagram)."""
        col = lambda a: a[t].reshape(4, 1)  # noqa: E731 - one row -> (4 gates, 1 unit)
        others = col(self.from_others)
        pre = col(self.from_input) + col(self.from_self) + others + col(self.bias)
        return step_from_preactivations(pre, self.c_prev[t:t + 1], from_input=col(self.from_input),
                                        from_hidden=col(self.from_self) + others, bias=col(self.bias))


def walk_unit(model, vocab, text: str, unit: int, layer: int = 0) -> UnitWalk:
    """Take ``unit`` of ``layer`` out of a :class:`~lstm_core.model.CharLSTM` and step it through ``text``."""
    from .trace import trace  # the one exact trace used by every page

    lstm = model.lstm
    hidden = lstm.hidden_size
    if not 0 <= layer < lstm.num_layers:
        raise ValueError(f"This model has {lstm.num_layers} layer(s); choose a layer from 0 to {lstm.num_layers - 1}.")
    if not 0 <= unit < hidden:
        raise ValueError(f"This model has {hidden} units per layer; choose a unit from 0 to {hidden - 1}.")
    traced = trace(model, vocab, text)
    rows = [k * hidden + unit for k in range(4)]  # the unit's row in each gate block i|f|g|o

    def get(name):
        return getattr(lstm, f"{name}_l{layer}").detach().double().numpy()

    w_ih, w_hh = get("weight_ih")[rows], get("weight_hh")[rows]  # (4, input), (4, hidden)
    bias = get("bias_ih")[rows] + get("bias_hh")[rows] if lstm.bias else np.zeros(4)
    if layer == 0:
        ids = vocab.encode("".join(traced.chars))
        layer_input = model.embedding.weight.detach().double().numpy()[ids]  # (time, embedding)
    else:
        layer_input = traced.hidden_state[layer - 1].astype(np.float64)  # (time, hidden)
    h_all = traced.hidden_state[layer].astype(np.float64)  # (time, hidden)
    h_prev_all = np.vstack([np.zeros((1, hidden)), h_all[:-1]])  # zero state before the first character
    from_input = layer_input @ w_ih.T  # (time, 4)
    from_self = h_prev_all[:, unit:unit + 1] * w_hh[:, unit]  # (time, 4)
    from_others = h_prev_all @ w_hh.T - from_self
    pre = from_input + from_self + from_others + bias
    gates = np.concatenate([sigmoid(pre[:, :2]), np.tanh(pre[:, 2:3]), sigmoid(pre[:, 3:])], axis=1)
    c_prev = np.concatenate([[0.0], traced.cell_state[layer, :-1, unit].astype(np.float64)])
    cell = gates[:, 1] * c_prev + gates[:, 0] * gates[:, 2]
    hidden_state = gates[:, 3] * np.tanh(cell)
    exact = np.stack([traced[name][layer, :, unit] for name in GATES], axis=1)
    deviation = float(max(np.abs(gates - exact).max(), np.abs(cell - traced.cell_state[layer, :, unit]).max(),
                          np.abs(hidden_state - traced.hidden_state[layer, :, unit]).max()))
    return UnitWalk(traced.chars, layer, unit, from_input, from_self, from_others,
                    np.tile(bias, (len(traced.chars), 1)), gates, c_prev, cell, hidden_state, deviation,
                    dict(traced.replacements))


def busiest_units(model, vocab, text: str, layer: int = 0, k: int = 8) -> list[int]:
    """The ``k`` units whose cell state moves most over ``text`` (standard deviation), busiest first."""
    from .trace import trace

    cells = trace(model, vocab, text).cell_state[layer]  # (time, units)
    return [int(u) for u in np.argsort(-cells.std(axis=0))[:k]]


# ----------------------------------------------------------------------------- the equations, with numbers

GATE_FUNCTIONS = tuple("\\sigma" if TABLE[name].activation == "sigmoid" else "\\tanh" for name in GATES)


def _num(value: float, digits: int = 4) -> str:
    text = f"{value:.{digits}f}"
    return "0." + "0" * digits if text == "-0." + "0" * digits else text


def _signed(value: float, digits: int = 4) -> str:
    return f"({_num(value, digits)})" if value < 0 else _num(value, digits)


def equations_latex(step: CellStep, unit: int = 0, weights: CellWeights | None = None,
                    digits: int = 4) -> list[str]:
    """The four gate equations and the two state updates of ``unit``, live numbers substituted.

    With ``weights`` and a cell small enough to read (inputs + units <= 3) every product w·x is
    written out; otherwise each gate shows its input part, recurrent part and bias. A step built
    from pre-activations alone (the first lesson) shows the pre-activation z directly.
    """
    u = unit
    lines = []
    direct = not np.any(step.from_input[:, u]) and not np.any(step.from_hidden[:, u]) and weights is None
    for k, symbol in enumerate(GATE_SYMBOLS):
        fn = GATE_FUNCTIONS[k]
        value = _num(step.gate(k)[u], digits)
        z = _num(step.pre[k, u], digits)
        if direct:
            lines.append(f"{symbol}_t = {fn}(z_{symbol}) = {fn}({z}) = {value}")
            continue
        symbolic = f"{fn}(W_{{x{symbol}}} x_t + W_{{h{symbol}}} h_{{t-1}} + b_{symbol})"
        if weights is not None and weights.inputs + weights.units <= 3:
            terms = [f"{_signed(w, 2)} \\cdot {_signed(x, 2)}" for w, x in zip(weights.weight_x[k, u], step.x)]
            terms += [f"{_signed(w, 2)} \\cdot {_signed(h, 2)}" for w, h in zip(weights.weight_h[k, u], step.h_prev)]
            terms.append(_signed(step.bias[k, u], 2))
        else:
            terms = [_signed(step.from_input[k, u], digits), _signed(step.from_hidden[k, u], digits),
                     _signed(step.bias[k, u], digits)]
        lines.append(f"{symbol}_t = {symbolic} = {fn}({' + '.join(terms)}) = {fn}({z}) = {value}")
    f, i, g, o = (_num(step.gate(k)[u], digits) for k in (1, 0, 2, 3))
    lines.append(f"c_t = f_t \\odot c_{{t-1}} + i_t \\odot g_t = {f} \\cdot {_signed(step.c_prev[u], digits)} + "
                 f"{i} \\cdot {_signed(step.cell_candidate[u], digits)} = {_signed(step.kept[u], digits)} + "
                 f"{_signed(step.written[u], digits)} = {_num(step.cell_state[u], digits)}")
    lines.append(f"h_t = o_t \\odot \\tanh(c_t) = {o} \\cdot \\tanh({_signed(step.cell_state[u], digits)}) = "
                 f"{o} \\cdot {_signed(step.tanh_cell[u], digits)} = {_num(step.hidden_state[u], digits)}")
    return lines
