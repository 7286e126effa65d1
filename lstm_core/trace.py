"""Exact gate tracing: an instrumented replay of a trained ``torch.nn.LSTM``.

The app never shows a number the model did not compute. Training uses the fused ``nn.LSTM``,
whose gates are hidden inside one kernel; this module replays the same weights one timestep at a
time and keeps every intermediate value. A test holds the replay to ``nn.LSTM``'s outputs and
final states (1e-5) for every configuration the app offers.

PyTorch packs the four gates of layer k in ``weight_ih_l{k}`` / ``weight_hh_l{k}`` as rows
i | f | g | o (input gate, forget gate, cell candidate, output gate). The recurrence, per step:

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      input gate: how much of the candidate to write
    f = sigmoid(W_if x + b_if + W_hf h + b_hf)      forget gate: how much of the old cell to keep
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)         cell candidate: what could be written
    o = sigmoid(W_io x + b_io + W_ho h + b_ho)      output gate: how much of the cell to show
    c = f * c + i * g                               cell state: kept part plus written part
    h = o * tanh(c)                                 hidden state: the cell, squashed and gated

Interventions (clamp a gate, silence a unit, overwrite a state) are applied inside this same loop,
so what comes after them is what the network would really compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from .gates import GATES, QUANTITIES, STATES, SYMBOLS, check_value, quantity



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


@dataclass
class LayerWeights:
    """One direction of one layer, as float32 numpy arrays, gates packed i|f|g|o."""

    weight_ih: np.ndarray  # (4H, input)
    weight_hh: np.ndarray  # (4H, H)
    bias: np.ndarray  # (4H,)  b_ih + b_hh

    @classmethod
    def from_lstm(cls, lstm: nn.LSTM, layer: int, suffix: str = "") -> "LayerWeights":
        def get(name):
            return getattr(lstm, f"{name}_l{layer}{suffix}").detach().cpu().float().numpy()
        hidden4 = 4 * lstm.hidden_size
        bias = get("bias_ih") + get("bias_hh") if lstm.bias else np.zeros(hidden4, np.float32)
        if lstm.proj_size:
            raise ValueError("the replay does not cover proj_size; the app's models do not use it")
        return cls(get("weight_ih"), get("weight_hh"), bias)


def replay_layer(weights: LayerWeights, inputs: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                 interventions=(), reverse: bool = False, token_ids: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Run one LSTM layer over ``inputs`` (time, input) step by step; every quantity (time, hidden).

    ``reverse`` reads the sequence from the end (the backward half of a bidirectional layer); the
    returned arrays are still indexed by position in the sequence. With ``token_ids``, ``inputs``
    is an embedding table (vocab, input) and step t reads row ``token_ids[t]``: the input
    projection is then computed once per distinct token instead of once per step.
    """
    steps = inputs.shape[0] if token_ids is None else len(token_ids)
    hidden = weights.weight_hh.shape[1]
    # sigmoid(z) = 0.5 * tanh(z / 2) + 0.5, so one tanh over all four gates does the work:
    # pre-scale the sigmoid gates' rows by 1/2 (exact in floating point), then map back.
    scale = np.full(4 * hidden, 0.5, np.float32)
    scale[2 * hidden:3 * hidden] = 1.0
    shift = np.where(scale == 0.5, 0.5, 0.0).astype(np.float32)
    w_hh_t = np.ascontiguousarray((weights.weight_hh * scale[:, None]).T)  # (H, 4H)
    # Input projections for every timestep at once: one matrix product, not one per step.
    x_proj = (inputs.astype(np.float32) @ weights.weight_ih.T + weights.bias) * scale  # (time, 4H)
    if token_ids is not None:
        x_proj = x_proj[token_ids]

    gates = np.empty((steps, 4 * hidden), np.float32)
    cells = np.empty((steps, hidden), np.float32)
    hiddens = np.empty((steps, hidden), np.float32)
    h = np.array(h0, np.float32).reshape(hidden)
    c = np.array(c0, np.float32).reshape(hidden)
    pre = np.empty(4 * hidden, np.float32)
    written = np.empty(hidden, np.float32)
    blocks = {name: slice(k * hidden, (k + 1) * hidden) for k, name in enumerate(GATES)}
    gate_edits = [iv for iv in interventions if iv.quantity in blocks]
    cell_edits = [iv for iv in interventions if iv.quantity == "cell_state"]
    hidden_edits = [iv for iv in interventions if iv.quantity == "hidden_state"]
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        # Gate pre-activations: this step's input projection plus the recurrent contribution.
        np.dot(h, w_hh_t, out=pre)
        pre += x_proj[t]
        row = gates[t]
        np.tanh(pre, out=row)
        row *= scale
        row += shift  # sigmoid for i, f, o and tanh for g, all four gates in place
        for iv in gate_edits:
            if iv.active(t):
                row[blocks[iv.quantity]][iv.units] = iv.value
        i, f, g, o = row[:hidden], row[hidden:2 * hidden], row[2 * hidden:3 * hidden], row[3 * hidden:]
        # Keep part of the old cell (forget gate) and write part of the candidate (input gate).
        c_new = cells[t]
        np.multiply(f, c, out=c_new)
        np.multiply(i, g, out=written)
        c_new += written
        for iv in cell_edits:
            if iv.active(t):
                c_new[iv.units] = iv.value
        # Show a squashed, gated view of the cell as the hidden state.
        h = hiddens[t]
        np.tanh(c_new, out=h)
        h *= o
        for iv in hidden_edits:
            if iv.active(t):
                h[iv.units] = iv.value
        c = c_new
    result = {name: gates[:, blocks[name]] for name in GATES}
    result["cell_state"] = cells
    result["hidden_state"] = hiddens
    return result


def replay_lstm(lstm: nn.LSTM, inputs: np.ndarray, state=None, interventions=(), token_ids=None) -> dict:
    """Replay every layer (and direction) of ``lstm`` on one sequence ``inputs`` (time, input).

    With ``token_ids`` (time,), ``inputs`` is the embedding table and the sequence is its rows.

    Returns each quantity stacked as (layers * directions, time, hidden) in PyTorch's order
    (l0, l0_reverse, l1, ...), plus ``output`` (time, directions * hidden) and the final
    ``h_n``, ``c_n`` (layers * directions, hidden), which equal what ``nn.LSTM`` returns.
    ``state`` is (h0, c0), each shaped (layers * directions, hidden) or with a batch axis of 1.
    """
    directions = 2 if lstm.bidirectional else 1
    slots = lstm.num_layers * directions
    hidden = lstm.hidden_size
    if state is None:
        h0 = np.zeros((slots, hidden), np.float32)
        c0 = np.zeros((slots, hidden), np.float32)
    else:
        h0, c0 = (np.asarray(s.detach().cpu() if torch.is_tensor(s) else s, np.float32).reshape(slots, hidden)
                  for s in state)
    per_slot, h_n, c_n = [], [], []
    layer_input = np.asarray(inputs, np.float32)
    for layer in range(lstm.num_layers):
        outputs = []
        for direction in range(directions):
            slot = layer * directions + direction
            weights = LayerWeights.from_lstm(lstm, layer, "_reverse" if direction else "")
            mine = [iv for iv in interventions if iv.layer == slot]
            result = replay_layer(weights, layer_input, h0[slot], c0[slot], mine, reverse=bool(direction),
                                  token_ids=token_ids if layer == 0 else None)
            per_slot.append(result)
            outputs.append(result["hidden_state"])
            last = 0 if direction else -1  # the reverse direction ends at position 0
            h_n.append(result["hidden_state"][last])
            c_n.append(result["cell_state"][last])
        layer_input = np.concatenate(outputs, axis=1) if directions > 1 else outputs[0]
    traced = {name: np.stack([r[name] for r in per_slot]) for name in QUANTITIES}
    traced["output"] = layer_input
    traced["h_n"] = np.stack(h_n)
    traced["c_n"] = np.stack(c_n)
    return traced


@dataclass
class Trace:
    """Everything a character model computed on one text, step by step.

    Each quantity is shaped (layers, time, units). ``probs[t]`` is the distribution of the
    character after ``chars[t]``. ``replacements`` lists unknown characters and what stood in.
    """

    chars: list[str]
    input_gate: np.ndarray
    forget_gate: np.ndarray
    cell_candidate: np.ndarray
    output_gate: np.ndarray
    cell_state: np.ndarray
    hidden_state: np.ndarray
    probs: np.ndarray  # (time, vocab)
    initial_cell: np.ndarray  # (layers, units), the cell state before the first character
    final_state: tuple  # (h, c) torch tensors (layers, 1, units), to carry into the next chunk
    vocab_chars: list[str]
    replacements: dict = field(default_factory=dict)

    def __getitem__(self, quantity: str) -> np.ndarray:
        if quantity not in QUANTITIES:
            raise KeyError(f"unknown quantity {quantity!r}")
        return getattr(self, quantity)

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def surprisal_bits(self) -> np.ndarray:
        """-log2 p(next character) for each position that has a next character: (time - 1,)."""
        ids = [self.vocab_chars.index(ch) for ch in self.chars[1:]]
        p = self.probs[np.arange(len(ids)), ids]
        return -np.log2(np.maximum(p, 1e-12))

    def top_next(self, t: int, k: int = 5) -> list[tuple[str, float]]:
        """The k likeliest characters after position t, with their probabilities."""
        best = np.argsort(-self.probs[t])[:k]
        return [(self.vocab_chars[j], float(self.probs[t, j])) for j in best]

    def previous_cell(self, layer: int, t: int) -> np.ndarray:
        """c_(t-1) for layer (the initial cell at t = 0)."""
        return self.initial_cell[layer] if t == 0 else self.cell_state[layer, t - 1]

    def cell_update(self, layer: int, t: int, unit: int) -> dict[str, float]:
        """The update of one unit at one step, taken apart: kept + written = c_t; h_t = o * tanh(c_t)."""
        c_prev = float(self.previous_cell(layer, t)[unit])
        values = {SYMBOLS[name]: float(self[name][layer, t, unit]) for name in QUANTITIES}
        values["c_prev"] = c_prev
        values["kept"] = values["f"] * c_prev
        values["written"] = values["i"] * values["g"]
        values["tanh_c"] = float(np.tanh(values["c"]))
        return values

    def saturation(self, gate: str, layer: int, low: float = 0.1, high: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
        """Per unit, the share of timesteps with ``gate`` below ``low`` and above ``high``."""
        values = self[gate][layer]
        return (values < low).mean(axis=0), (values > high).mean(axis=0)

    def long_frame(self):
        """The trace in long form (layer, time, character, unit, quantity, value), for CSV export."""
        layers, steps, units = self.hidden_state.shape
        frames = []
        for name in QUANTITIES:
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
    """Replay ``model`` (a :class:`~lstm_core.model.CharLSTM`) on ``text`` and keep every gate and state.

    Unknown characters are replaced by the vocabulary's stated policy and listed in
    ``Trace.replacements``. ``state`` is an (h, c) pair from an earlier chunk, or None for zeros.
    """
    if not text:
        raise ValueError("There is no text to trace: type at least one character.")
    cleaned, replacements = vocab.clean(text)
    ids = np.array(vocab.encode(cleaned), dtype=np.int64)
    table = model.embedding.weight.detach().cpu().float().numpy()  # (vocab, embedding)
    layers, hidden = model.config.num_layers, model.config.hidden_size
    if state is None:
        state = (np.zeros((layers, hidden), np.float32), np.zeros((layers, hidden), np.float32))
    initial_cell = np.asarray(state[1].detach().cpu() if torch.is_tensor(state[1]) else state[1],
                              np.float32).reshape(layers, hidden)
    traced = replay_lstm(model.lstm, table, state, interventions, token_ids=ids)
    head_w = model.head.weight.detach().cpu().float().numpy()
    head_b = model.head.bias.detach().cpu().float().numpy()
    logits = traced["output"] @ head_w.T + head_b  # (time, vocab)
    probs = softmax(logits)
    final = tuple(torch.from_numpy(traced[k].copy()).unsqueeze(1) for k in ("h_n", "c_n"))
    return Trace(list(cleaned), *(traced[name] for name in QUANTITIES), probs=probs,
                 initial_cell=initial_cell, final_state=final, vocab_chars=list(vocab.chars),
                 replacements=replacements)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
