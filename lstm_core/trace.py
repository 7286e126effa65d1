"""Exact gate tracing: an instrumented replay of a trained LSTM, GRU or plain RNN.

The app never shows a number the model did not compute. Training uses the fused ``nn.LSTM``,
``nn.GRU`` and ``nn.RNN``, whose gates are hidden inside one kernel; this module replays the same
weights one timestep at a time and keeps every intermediate value. A test holds each replay to its
torch module's outputs and final states (1e-5) for every configuration the app offers. The
quantities of each architecture, and their order, come from the one table in :mod:`lstm_core.gates`.

LSTM. PyTorch packs the four gates of layer k in ``weight_ih_l{k}`` / ``weight_hh_l{k}`` as rows
i | f | g | o (input gate, forget gate, cell candidate, output gate). The recurrence, per step:

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      input gate: how much of the candidate to write
    f = sigmoid(W_if x + b_if + W_hf h + b_hf)      forget gate: how much of the old cell to keep
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)         cell candidate: what could be written
    o = sigmoid(W_io x + b_io + W_ho h + b_ho)      output gate: how much of the cell to show
    c = f * c + i * g                               cell state: kept part plus written part
    h = o * tanh(c)                                 hidden state: the cell, squashed and gated

GRU (rows r | z | n; n is torch's name for the candidate):

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      reset gate: how much of the old state the candidate reads
    z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)      update gate: how much of the old state to keep
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   new gate: the candidate state
    h = (1 - z) * n + z * h                         hidden state: a blend of candidate and old state

Plain (Elman) RNN:  h = tanh(W_ih x + b_ih + W_hh h + b_hh), the whole state rewritten every step.

Interventions (clamp a gate, silence a unit, overwrite a state) are applied inside this same loop,
so what comes after them is what the network would really compute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from .gates import GATES, QUANTITIES, STATES, SYMBOLS, TABLE, check_value, names, quantity  # noqa: F401 - QUANTITIES, STATES: re-exported


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


MODES = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn"}  # torch's ``module.mode`` -> our architecture


def architecture_of(module: nn.Module) -> str:
    """"lstm", "gru" or "rnn" for a torch recurrent module (or an ablated LSTM, which reads as an LSTM)."""
    mode = getattr(module, "mode", None)
    if mode not in MODES:
        raise ValueError(f"the replay covers nn.LSTM, nn.GRU and nn.RNN with tanh, not {mode or type(module).__name__}")
    return MODES[mode]


@dataclass
class LayerWeights:
    """One direction of one layer, as float32 numpy arrays, gate blocks packed in PyTorch's row order."""

    weight_ih: np.ndarray  # (blocks * H, input)
    weight_hh: np.ndarray  # (blocks * H, H)
    bias: np.ndarray  # (blocks * H,)  b_ih + b_hh
    bias_ih: np.ndarray | None = None  # (blocks * H,)  each kept apart too, for the GRU, whose b_hn
    bias_hh: np.ndarray | None = None  # sits inside r * (W_hn h + b_hn)

    @classmethod
    def from_module(cls, module: nn.Module, layer: int, suffix: str = "") -> "LayerWeights":
        def get(name):
            return getattr(module, f"{name}_l{layer}{suffix}").detach().cpu().float().numpy()
        rows = get("weight_hh").shape[0]
        if getattr(module, "proj_size", 0):
            raise ValueError("the replay does not cover proj_size; the app's models do not use it")
        if module.bias:
            bias_ih, bias_hh = get("bias_ih"), get("bias_hh")
        else:
            bias_ih = bias_hh = np.zeros(rows, np.float32)
        return cls(get("weight_ih"), get("weight_hh"), bias_ih + bias_hh, bias_ih, bias_hh)

    from_lstm = from_module  # the name from before the GRU and the RNN

    def input_projection(self, inputs: np.ndarray, token_ids=None, bias: np.ndarray | None = None) -> np.ndarray:
        """W_ih x + ``bias`` (b_ih + b_hh unless given) for every timestep at once: (time, rows). With
        ``token_ids``, ``inputs`` is an embedding table and each distinct token is projected once."""
        x_proj = inputs.astype(np.float32) @ self.weight_ih.T + (self.bias if bias is None else bias)
        return x_proj[token_ids] if token_ids is not None else x_proj


def replay_layer(weights: LayerWeights, inputs: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                 interventions=(), reverse: bool = False, token_ids: np.ndarray | None = None,
                 dtype=np.float32) -> dict[str, np.ndarray]:
    """Run one LSTM layer over ``inputs`` (time, input) step by step; every quantity (time, hidden).

    ``reverse`` reads the sequence from the end (the backward half of a bidirectional layer); the
    returned arrays are still indexed by position in the sequence. With ``token_ids``, ``inputs``
    is an embedding table (vocab, input) and step t reads row ``token_ids[t]``: the input
    projection is then computed once per distinct token instead of once per step. ``dtype`` is the
    precision of the arithmetic (float64 for an LSTM without a forget gate, see :func:`replay_recurrent`).
    """
    steps = inputs.shape[0] if token_ids is None else len(token_ids)
    hidden = weights.weight_hh.shape[1]
    # sigmoid(z) = 0.5 * tanh(z / 2) + 0.5, so one tanh over all four gates does the work:
    # pre-scale the sigmoid gates' rows by 1/2 (exact in floating point), then map back.
    scale = np.full(4 * hidden, 0.5, dtype)
    scale[2 * hidden:3 * hidden] = 1.0
    shift = np.where(scale == 0.5, 0.5, 0.0).astype(dtype)
    w_hh_t = np.ascontiguousarray((weights.weight_hh * scale[:, None]).T)  # (H, 4H)
    # Input projections for every timestep at once: one matrix product, not one per step.
    x_proj = (inputs.astype(dtype) @ weights.weight_ih.T + weights.bias) * scale  # (time, 4H)
    if token_ids is not None:
        x_proj = x_proj[token_ids]

    gates = np.empty((steps, 4 * hidden), dtype)
    cells = np.empty((steps, hidden), dtype)
    hiddens = np.empty((steps, hidden), dtype)
    h = np.array(h0, dtype).reshape(hidden)
    c = np.array(c0, dtype).reshape(hidden)
    pre = np.empty(4 * hidden, dtype)
    written = np.empty(hidden, dtype)
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


def replay_gru_layer(weights: LayerWeights, inputs: np.ndarray, h0: np.ndarray, interventions=(),
                     reverse: bool = False, token_ids: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Run one GRU layer over ``inputs`` step by step; each quantity (time, hidden). Arguments as
    :func:`replay_layer`'s."""
    hidden = weights.weight_hh.shape[1]
    b_hh = weights.bias_hh if weights.bias_hh is not None else np.zeros(3 * hidden, np.float32)
    b_ih = weights.bias_ih if weights.bias_ih is not None else weights.bias - b_hh
    x_proj = weights.input_projection(inputs, token_ids, bias=b_ih)  # (time, 3H): W_i· x + b_i·
    steps = x_proj.shape[0]
    w_hh_t = np.ascontiguousarray(weights.weight_hh.T)  # (H, 3H)
    r_rows, z_rows, n_rows = (slice(k * hidden, (k + 1) * hidden) for k in range(3))
    result = {name: np.empty((steps, hidden), np.float32) for name in names("gru")}
    h = np.array(h0, np.float32).reshape(hidden)
    edits = {name: [iv for iv in interventions if iv.quantity == name] for name in names("gru")}
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        recurrent = h @ w_hh_t + b_hh  # (3H): W_h· h + b_h·
        # The reset gate decides how much of the old state the candidate may read.
        r = result["reset_gate"][t]
        r[:] = sigmoid(x_proj[t, r_rows] + recurrent[r_rows])
        _apply(edits["reset_gate"], r, t)
        # The update gate decides how much of the old state survives this step.
        z = result["update_gate"][t]
        z[:] = sigmoid(x_proj[t, z_rows] + recurrent[z_rows])
        _apply(edits["update_gate"], z, t)
        # The candidate reads the input and the reset part of the old state.
        n = result["new_gate"][t]
        np.tanh(x_proj[t, n_rows] + r * recurrent[n_rows], out=n)
        _apply(edits["new_gate"], n, t)
        # Blend: keep z of the old state, take 1 - z of the candidate.
        h_new = result["hidden_state"][t]
        h_new[:] = (1 - z) * n + z * h
        _apply(edits["hidden_state"], h_new, t)
        h = h_new
    return result


def replay_rnn_layer(weights: LayerWeights, inputs: np.ndarray, h0: np.ndarray, interventions=(),
                     reverse: bool = False, token_ids: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Run one plain (Elman, tanh) RNN layer over ``inputs`` step by step: {"hidden_state": (time, hidden)}."""
    hidden = weights.weight_hh.shape[1]
    x_proj = weights.input_projection(inputs, token_ids)  # (time, H): W_ih x + b_ih + b_hh
    steps = x_proj.shape[0]
    w_hh_t = np.ascontiguousarray(weights.weight_hh.T)  # (H, H)
    hiddens = np.empty((steps, hidden), np.float32)
    h = np.array(h0, np.float32).reshape(hidden)
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    for t in order:
        # The whole state is rewritten from the input and the old state: nothing is kept by design.
        h_new = hiddens[t]
        np.tanh(x_proj[t] + h @ w_hh_t, out=h_new)
        _apply(interventions, h_new, t)
        h = h_new
    return {"hidden_state": hiddens}


def sigmoid(z: np.ndarray) -> np.ndarray:
    return (0.5 * np.tanh(0.5 * z) + 0.5).astype(np.float32)  # exact halving; no overflow for large |z|


def _apply(interventions, values: np.ndarray, t: int) -> None:
    for iv in interventions:
        if iv.active(t):
            values[iv.units] = iv.value


def replay_recurrent(module: nn.Module, inputs: np.ndarray, state=None, interventions=(), token_ids=None) -> dict:
    """Replay every layer (and direction) of an ``nn.LSTM``, ``nn.GRU`` or ``nn.RNN`` (tanh) on one
    sequence ``inputs`` (time, input).

    With ``token_ids`` (time,), ``inputs`` is the embedding table and the sequence is its rows.

    Returns each quantity of the architecture (:func:`lstm_core.gates.names`) stacked as
    (layers * directions, time, hidden) in PyTorch's order (l0, l0_reverse, l1, ...), plus ``output``
    (time, directions * hidden) and the final ``h_n`` (and for an LSTM ``c_n``), each
    (layers * directions, hidden), which equal what the torch module returns. ``state`` is (h0, c0)
    for an LSTM and h0 for the others, each (layers * directions, hidden) or with a batch axis of 1.
    """
    architecture = architecture_of(module)
    quantities = names(architecture)
    for iv in interventions:
        if iv.quantity not in quantities:
            raise ValueError(f"a {architecture.upper()} has no {iv.quantity.replace('_', ' ')}; "
                             f"it has {', '.join(q.replace('_', ' ') for q in quantities)}")
    directions = 2 if module.bidirectional else 1
    slots = module.num_layers * directions
    hidden = module.hidden_size
    h0, c0 = initial_arrays(state, architecture, slots, hidden)
    # An LSTM without a forget gate adds to its cells and never forgets, so float32 rounding, which the
    # fused kernel and the replay make differently, piles up; in float64 the replay stays within the
    # kernel's own rounding (measured: 1.2e-5 apart in float32, 7e-6 in float64, 3 x 512 units, 78 steps).
    precision = np.float64 if getattr(module, "variant", None) == "no_forget_gate" else np.float32
    per_slot, h_n, c_n = [], [], []
    layer_input = np.asarray(inputs, np.float32)
    for layer in range(module.num_layers):
        outputs = []
        for direction in range(directions):
            slot = layer * directions + direction
            weights = LayerWeights.from_module(module, layer, "_reverse" if direction else "")
            mine = [iv for iv in interventions if iv.layer == slot]
            ids = token_ids if layer == 0 else None
            if architecture == "lstm":
                result = replay_layer(weights, layer_input, h0[slot], c0[slot], mine, bool(direction), ids, precision)
            elif architecture == "gru":
                result = replay_gru_layer(weights, layer_input, h0[slot], mine, bool(direction), ids)
            else:
                result = replay_rnn_layer(weights, layer_input, h0[slot], mine, bool(direction), ids)
            per_slot.append(result)
            outputs.append(result["hidden_state"])
            last = 0 if direction else -1  # the reverse direction ends at position 0
            h_n.append(result["hidden_state"][last])
            if architecture == "lstm":
                c_n.append(result["cell_state"][last])
        layer_input = np.concatenate(outputs, axis=1) if directions > 1 else outputs[0]
    traced = {name: np.stack([r[name] for r in per_slot]).astype(np.float32, copy=False) for name in quantities}
    traced["output"] = layer_input.astype(np.float32, copy=False)
    traced["h_n"] = np.stack(h_n).astype(np.float32, copy=False)
    if architecture == "lstm":
        traced["c_n"] = np.stack(c_n).astype(np.float32, copy=False)
    return traced


replay_lstm = replay_recurrent  # the name from before the GRU and the RNN


def initial_arrays(state, architecture: str, slots: int, hidden: int) -> tuple[np.ndarray, np.ndarray | None]:
    """(h0, c0) as float32 arrays (slots, hidden) from a state given as tensors or arrays (zeros for None);
    c0 is None except for an LSTM. An LSTM's state is an (h, c) pair, the others' a lone h (or (h,))."""
    def array(value):
        return np.asarray(value.detach().cpu() if torch.is_tensor(value) else value, np.float32).reshape(slots, hidden)

    if state is None:
        zeros = np.zeros((slots, hidden), np.float32)
        return zeros, (zeros.copy() if architecture == "lstm" else None)
    if architecture == "lstm":
        return array(state[0]), array(state[1])
    if isinstance(state, (tuple, list)):
        if len(state) != 1:
            raise ValueError(f"a {architecture.upper()}'s state is one tensor h, not {len(state)}")
        state = state[0]
    return array(state), None


@dataclass
class Trace:
    """Everything a character model computed on one text, step by step.

    ``values`` holds each quantity of the model's architecture (:func:`lstm_core.gates.names`: an
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
    architecture: str = "lstm"

    @property
    def quantities(self) -> tuple[str, ...]:
        """The quantities this trace holds, gates first in PyTorch's order, then the states."""
        return names(self.architecture)

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
        if self.architecture == "lstm":
            values["c_prev"] = float(self.previous_cell(layer, t)[unit])
            values["kept"] = values["f"] * values["c_prev"]
            values["written"] = values["i"] * values["g"]
            values["tanh_c"] = float(np.tanh(values["c"]))
        elif self.architecture == "gru":
            values["kept"] = values["z"] * values["h_prev"]
            values["written"] = (1 - values["z"]) * values["n"]
        return values

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
    architecture = architecture_of(core)
    layers, hidden = core.num_layers, core.hidden_size
    h0, c0 = initial_arrays(state, architecture, layers, hidden)
    initial = {"hidden_state": h0} if c0 is None else {"hidden_state": h0, "cell_state": c0}
    traced = replay_recurrent(core, table, state if state is None else ((h0, c0) if c0 is not None else h0),
                              interventions, token_ids=ids)
    head_w = model.head.weight.detach().cpu().float().numpy()
    head_b = model.head.bias.detach().cpu().float().numpy()
    logits = traced["output"] @ head_w.T + head_b  # (time, vocab)
    probs = softmax(logits)
    final = tuple(torch.from_numpy(traced[k].copy()).unsqueeze(1) for k in ("h_n", "c_n") if k in traced)
    return Trace(list(cleaned), {name: traced[name] for name in names(architecture)}, probs=probs,
                 initial_state=initial, final_state=final if architecture == "lstm" else final[0],
                 vocab_chars=list(vocab.chars), replacements=replacements, architecture=architecture)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)
