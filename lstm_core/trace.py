"""Exact gate tracing: an instrumented replay of a trained LSTM, GRU or plain RNN.

The app never shows a number the model did not compute. Training uses the fused ``nn.LSTM``,
``nn.GRU`` and ``nn.RNN``, whose gates are hidden inside one kernel; this module replays the same
weights one timestep at a time and keeps every intermediate value. A test holds each replay to its
torch module's outputs and final states (1e-5) for every configuration the app offers. The module's
entry in :mod:`lstm_core.architectures` gives its quantities (in order) and its per-layer replay,
whose equations are written out in :mod:`lstm_core.replay`.

Interventions (clamp a gate, silence a unit, overwrite a state) are applied inside the replay's loop,
so what comes after them is what the network would really compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from .architectures import Architecture, architecture, of_module
from .gates import SYMBOLS, TABLE, check_value, quantity
from .replay import LayerWeights


@dataclass
class Intervention:
    """Force ``quantity`` of ``units`` in ``layer`` to ``value`` for timesteps [start, stop).

    Examples: silence units 3 and 7 -> Intervention("hidden_state", 0, [3, 7], 0.0);
    clamp the forget gate shut -> Intervention("forget_gate", 0, units, 0.0);
    edit the cell state at step 40 -> Intervention("cell_state", 0, [5], 2.0, start=40, stop=41).
    """

    quantity: str
    layer: int
    units: list[int]
    value: float = 0.0
    start: int = 0
    stop: int | None = None

    def __post_init__(self):
        quantity(self.quantity)  # a ValueError names the known quantities
        check_value(self.quantity, self.value)
        self.units = [int(u) for u in self.units]

    def active(self, t: int) -> bool:
        return t >= self.start and (self.stop is None or t < self.stop)


def replay_recurrent(module: nn.Module, inputs: np.ndarray, state=None, interventions=(), token_ids=None) -> dict:
    """Replay every layer (and direction) of an ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (tanh) on one
    sequence ``inputs`` (time, input).

    With ``token_ids`` (time,), ``inputs`` is the embedding table and the sequence is its rows.

    Returns each quantity of the architecture (``Architecture.quantities``) stacked as
    (layers * directions, time, hidden) in PyTorch's order (l0, l0_reverse, l1, ...), plus ``output``
    (time, directions * hidden) and the final ``h_n`` (and for an LSTM ``c_n``), each
    (layers * directions, hidden), which equal what the torch module returns. ``state`` is (h0, c0)
    for an LSTM and h0 for the others, each (layers * directions, hidden) or with a batch axis of 1.
    """
    arch = of_module(module)
    quantities = arch.quantities
    for iv in interventions:
        if iv.quantity not in quantities:
            raise ValueError(f"a {arch.short_name} has no {iv.quantity.replace('_', ' ')}; "
                             f"it has {', '.join(q.replace('_', ' ') for q in quantities)}")
    directions = 2 if module.bidirectional else 1
    slots = module.num_layers * directions
    hidden = module.hidden_size
    h0, c0 = initial_arrays(state, arch, slots, hidden)
    per_slot, h_n, c_n = [], [], []
    layer_input = np.asarray(inputs, np.float32)
    for layer in range(module.num_layers):
        outputs = []
        for direction in range(directions):
            slot = layer * directions + direction
            weights = LayerWeights.from_module(module, layer, "_reverse" if direction else "")
            mine = [iv for iv in interventions if iv.layer == slot]
            ids = token_ids if layer == 0 else None
            cell = None if c0 is None else c0[slot]
            result = arch.replay_layer(weights, layer_input, h0[slot], cell, mine, bool(direction), ids, arch.replay_dtype)
            per_slot.append(result)
            outputs.append(result["hidden_state"])
            last = 0 if direction else -1  # the reverse direction ends at position 0
            h_n.append(result["hidden_state"][last])
            if arch.has_cell_state:
                c_n.append(result["cell_state"][last])
        layer_input = np.concatenate(outputs, axis=1) if directions > 1 else outputs[0]
    traced = {name: np.stack([r[name] for r in per_slot]).astype(np.float32, copy=False) for name in quantities}
    traced["output"] = layer_input.astype(np.float32, copy=False)
    traced["h_n"] = np.stack(h_n).astype(np.float32, copy=False)
    if arch.has_cell_state:
        traced["c_n"] = np.stack(c_n).astype(np.float32, copy=False)
    return traced


def initial_arrays(state, arch: Architecture, slots: int, hidden: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(h0, c0) as float32 arrays (slots, hidden) from a state given as tensors or arrays (zeros for None);
    c0 is None unless ``arch`` has a cell state. An LSTM's state is an (h, c) pair, the others' a lone h (or (h,))."""
    def array(value):
        return np.asarray(value.detach().cpu() if torch.is_tensor(value) else value, np.float32).reshape(slots, hidden)

    if state is None:
        zeros = np.zeros((slots, hidden), np.float32)
        return zeros, (zeros.copy() if arch.has_cell_state else None)
    if arch.has_cell_state:
        return array(state[0]), array(state[1])
    if isinstance(state, (tuple, list)):
        if len(state) != 1:
            raise ValueError(f"a {arch.short_name}'s state is one tensor h, not {len(state)}")
        state = state[0]
    return array(state), None


@dataclass
class Trace:
    """Everything a character model computed on one text, step by step.

    ``values`` holds each quantity of the model's architecture (``Architecture.quantities``: an
    LSTM's i, f, g, o, c, h; a GRU's r, z, n, h; an RNN's h), each shaped (layers, time, units) and
    also readable as an attribute (``tr.forget_gate``) or by name (``tr["forget_gate"]``).
    ``probs[t]`` is the distribution of the character after ``chars[t]``. ``replacements`` lists
    unknown characters and what stood in.
    """

    chars: list[str]
    values: dict  # quantity -> (layers, time, units)
    probs: np.ndarray  # (time, vocab)
    initial_state: dict  # "hidden_state" (and an LSTM's "cell_state") -> (layers, units), before the first character
    final_state: object  # torch tensors (layers, 1, units) to carry into the next chunk: (h, c) for an LSTM, else h
    vocab_chars: list[str]
    replacements: dict = field(default_factory=dict)
    architecture: str = "lstm"  # the model's architecture and variant, as its config saves them
    variant: str = "standard"

    @property
    def arch(self) -> Architecture:
        """The registry's entry of the traced model (lstm_core.architectures)."""
        return architecture(self.architecture, self.variant)

    @property
    def quantities(self) -> tuple[str, ...]:
        """The quantities this trace holds, gates first in PyTorch's order, then the states."""
        return self.arch.quantities

    def __getattr__(self, name: str):
        values = self.__dict__.get("values")
        if values is not None and name in values:
            return values[name]
        if name in TABLE:
            raise AttributeError(f"a {self.__dict__.get('architecture', 'lstm').upper()} has no {name.replace('_', ' ')}")
        raise AttributeError(name)

    def __getitem__(self, quantity: str) -> np.ndarray:
        if quantity not in self.values:
            raise KeyError(f"unknown quantity {quantity!r} for a {self.architecture.upper()}; "
                           f"choose one of {', '.join(self.quantities)}")
        return self.values[quantity]

    @property
    def text(self) -> str:
        return "".join(self.chars)

    @property
    def initial_cell(self) -> np.ndarray:
        """An LSTM's cell state before the first character: (layers, units)."""
        if "cell_state" not in self.initial_state:
            raise AttributeError(f"a {self.architecture.upper()} has no cell state")
        return self.initial_state["cell_state"]

    def surprisal_bits(self) -> np.ndarray:
        """-log2 p(next character) for each position that has a next character: (time - 1,)."""
        ids = [self.vocab_chars.index(ch) for ch in self.chars[1:]]
        p = self.probs[np.arange(len(ids)), ids]
        return -np.log2(np.maximum(p, 1e-12))

    def top_next(self, t: int, k: int = 5) -> list[tuple[str, float]]:
        """The k likeliest characters after position t, with their probabilities."""
        best = np.argsort(-self.probs[t])[:k]
        return [(self.vocab_chars[j], float(self.probs[t, j])) for j in best]

    def previous(self, name: str, layer: int, t: int) -> np.ndarray:
        """A state ("hidden_state" or "cell_state") at t - 1 for ``layer`` (the initial state at t = 0)."""
        return self.initial_state[name][layer] if t == 0 else self[name][layer, t - 1]

    def previous_cell(self, layer: int, t: int) -> np.ndarray:
        """c_(t-1) for layer (the initial cell at t = 0)."""
        return self.previous("cell_state", layer, t)

    def cell_update(self, layer: int, t: int, unit: int) -> dict[str, float]:
        """The update of one unit at one step, taken apart, with each architecture's letters.

        LSTM: kept = f * c_prev, written = i * g, c = kept + written, h = o * tanh(c).
        GRU: kept = z * h_prev, written = (1 - z) * n, h = kept + written.
        RNN: h_prev and h (the state is rewritten whole).
        """
        values = {SYMBOLS[name]: float(self[name][layer, t, unit]) for name in self.quantities}
        values["h_prev"] = float(self.previous("hidden_state", layer, t)[unit])
        if self.arch.has_cell_state:
            values["c_prev"] = float(self.previous_cell(layer, t)[unit])
        return self.arch.take_apart(values)

    def saturation(self, gate: str, layer: int, low: float = 0.1, high: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Per unit, the share of timesteps with ``gate`` below ``low`` and above ``high``."""
        values = self[gate][layer]
        return (values < low).mean(axis=0), (values > high).mean(axis=0)

    def long_frame(self):
        """The trace in long form (layer, time, character, unit, quantity, value), for CSV export."""
        layers, steps, units = self.hidden_state.shape
        frames = []
        for name in self.quantities:
            grid = self[name]
            frames.append(pd.DataFrame({
                "layer": np.repeat(np.arange(layers), steps * units),
                "time": np.tile(np.repeat(np.arange(steps), units), layers),
                "character": np.tile(np.repeat(np.array(self.chars, dtype=object), units), layers),
                "unit": np.tile(np.arange(units), layers * steps),
                "quantity": name,
                "value": grid.reshape(-1),
            }))
        return pd.concat(frames, ignore_index=True)


@torch.no_grad()
def trace(model, vocab, text: str, state=None, interventions=()) -> Trace:
    """Replay ``model`` (a :class:`~lstm_core.model.CharModel`: LSTM, GRU or RNN) on ``text`` and keep
    every gate and state.

    Unknown characters are replaced by the vocabulary's stated policy and listed in
    ``Trace.replacements``. ``state`` is the state from an earlier chunk (an (h, c) pair for an
    LSTM, h for a GRU or an RNN; ``Trace.final_state`` is one), or None for zeros.
    """
    if not text:
        raise ValueError("There is no text to trace: type at least one character.")
    cleaned, replacements = vocab.clean(text)
    ids = np.array(vocab.encode(cleaned), dtype=np.int64)
    table = model.embedding.weight.detach().cpu().float().numpy()  # (vocab, embedding)
    core = model.recurrent if hasattr(model, "recurrent") else model.lstm
    arch = of_module(core)
    layers, hidden = core.num_layers, core.hidden_size
    h0, c0 = initial_arrays(state, arch, layers, hidden)
    initial = {"hidden_state": h0} if c0 is None else {"hidden_state": h0, "cell_state": c0}
    traced = replay_recurrent(core, table, state if state is None else ((h0, c0) if c0 is not None else h0),
                              interventions, token_ids=ids)
    head_w = model.head.weight.detach().cpu().float().numpy()
    head_b = model.head.bias.detach().cpu().float().numpy()
    logits = traced["output"] @ head_w.T + head_b  # (time, vocab)
    probs = softmax(logits)
    final = tuple(torch.from_numpy(traced[k].copy()).unsqueeze(1) for k in ("h_n", "c_n") if k in traced)
    return Trace(list(cleaned), {name: traced[name] for name in arch.quantities}, probs=probs,
                 initial_state=initial, final_state=final if arch.has_cell_state else final[0],
                 vocab_chars=list(vocab.chars), replacements=replacements, architecture=arch.name,
                 variant=arch.variant)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
