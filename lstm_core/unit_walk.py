"""One unit of a trained character model taken out and walked through real text, step by step,
with the model's own numbers: the Cell lab's last mode.

    traced = trace(model, vocab, text)
    walk = walk_unit(model, vocab, text, unit=7, traced=traced)   # walk.step(t): a one-unit CellStep
    busiest_units(traced, layer=0)                                # units whose cell state moves most

The unit's pre-activations are rebuilt from its own rows of ``weight_ih_l{k}`` / ``weight_hh_l{k}``
(PyTorch's order i | f | g | o); the gates and states then come from the cell's one recurrence,
:func:`lstm_core.cell.step_from_preactivations`, and a deviation from the exact trace says how
closely they match it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .cell import CellStep, step_from_preactivations
from .gates import GATES
from .trace import Trace, trace

DEFAULT_WALK_TEXT = "ORGON.\nEt Tartuffe ?\nDORINE.\nTartuffe ? Il se porte à merveille."  # /cell's walk, by default
MAX_WALK_CHARS = 300  # the longest text /cell walks a unit through


@dataclass
class UnitWalk:
    """One unit of a trained character model stepped through real text with the model's own numbers.

    The unit's gate pre-activations are rebuilt from four parts, each (time, 4) for gates i, f, g, o:
    ``from_input`` (the embedded character, or the layer below), ``from_self`` (the unit's own
    previous hidden state), ``from_others`` (every other unit's previous hidden state, taken from
    the exact trace of the whole model) and ``bias``. Each step starts from the model's own c_{t−1},
    so the steps are independent and ``over_time`` holds them all at once: one :class:`CellStep`
    whose unit axis is time. ``deviation`` is the largest difference from the exact trace (float32
    rounding only).
    """

    chars: list[str]
    layer: int
    unit: int
    from_input: np.ndarray
    from_self: np.ndarray
    from_others: np.ndarray
    bias: np.ndarray
    over_time: CellStep
    deviation: float
    replacements: dict = field(default_factory=dict)  # unknown characters and what stood in for them

    @property
    def gates(self) -> np.ndarray:  # (time, 4) i, f, g, o
        return np.stack([self.over_time.gate(k) for k in range(4)], axis=1)

    @property
    def c_prev(self) -> np.ndarray:  # (time,)
        return self.over_time.c_prev

    @property
    def cell_state(self) -> np.ndarray:
        return self.over_time.cell_state

    @property
    def hidden_state(self) -> np.ndarray:
        return self.over_time.hidden_state

    def step(self, t: int) -> CellStep:
        """Step t of the walk as a one-unit :class:`CellStep` (for the equations and the diagram)."""
        return CellStep(**{name: value if name == "x" else value[..., t:t + 1]
                           for name, value in vars(self.over_time).items()})


def walk_unit(model, vocab, text: str, unit: int, layer: int = 0, traced: Trace | None = None) -> UnitWalk:
    """Take ``unit`` of ``layer`` out of a :class:`~lstm_core.model.CharModel` and step it through ``text``.

    ``traced`` is the model's exact trace of ``text`` when the caller has it already.
    """
    lstm = model.lstm
    hidden = lstm.hidden_size
    if not 0 <= layer < lstm.num_layers:
        raise ValueError(f"This model has {lstm.num_layers} layer(s); choose a layer from 0 to {lstm.num_layers - 1}.")
    if not 0 <= unit < hidden:
        raise ValueError(f"This model has {hidden} units per layer; choose a unit from 0 to {hidden - 1}.")
    traced = traced if traced is not None else trace(model, vocab, text)
    rows = [k * hidden + unit for k in range(4)]  # the unit's row in each gate block i|f|g|o

    def get(name):
        return getattr(lstm, f"{name}_l{layer}").detach().double().numpy()

    w_ih, w_hh = get("weight_ih")[rows], get("weight_hh")[rows]  # (4, input), (4, hidden)
    bias = get("bias_ih")[rows] + get("bias_hh")[rows] if lstm.bias else np.zeros(4)
    if layer == 0:
        layer_input = model.embedding.weight.detach().double().numpy()[vocab.encode(traced.text)]  # (time, embedding)
    else:
        layer_input = traced.hidden_state[layer - 1].astype(np.float64)  # (time, hidden)
    steps = len(traced.chars)
    h_all = traced.hidden_state[layer].astype(np.float64)  # (time, hidden)
    h_prev_all = np.vstack([np.zeros((1, hidden)), h_all[:-1]])  # zero state before the first character
    from_input = layer_input @ w_ih.T  # (time, 4)
    from_self = h_prev_all[:, unit:unit + 1] * w_hh[:, unit]  # (time, 4)
    from_others = h_prev_all @ w_hh.T - from_self
    c_prev = np.concatenate([traced.initial_cell[layer, unit:unit + 1],
                             traced.cell_state[layer, :-1, unit]]).astype(np.float64)  # (time,)
    biases = np.tile(bias, (steps, 1))
    # the one recurrence, every step at once: the (4, time) pre-activations play the (4, units) of a cell
    over_time = step_from_preactivations((from_input + from_self + from_others + biases).T, c_prev,
                                         from_input.T, (from_self + from_others).T, biases.T,
                                         h_prev=h_prev_all[:, unit])
    walk = UnitWalk(traced.chars, layer, unit, from_input, from_self, from_others, biases, over_time, 0.0,
                    dict(traced.replacements))
    exact = np.stack([traced[name][layer, :, unit] for name in GATES], axis=1)
    walk.deviation = float(max(np.abs(walk.gates - exact).max(),
                               np.abs(walk.cell_state - traced.cell_state[layer, :, unit]).max(),
                               np.abs(walk.hidden_state - traced.hidden_state[layer, :, unit]).max()))
    return walk


def busiest_units(traced: Trace, layer: int = 0, k: int = 8) -> list[int]:
    """The ``k`` units whose cell state moves most over the traced text (standard deviation), busiest first."""
    cells = traced.cell_state[layer]  # (time, units)
    return [int(u) for u in np.argsort(-cells.std(axis=0))[:k]]

