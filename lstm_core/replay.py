"""The exact replays of one recurrent layer, one per cell type, in numpy: every intermediate value kept.

The fused kernels (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``) hide their gates inside one call; these functions
run the same weights one timestep at a time. :func:`lstm_core.trace.replay_recurrent` stacks them over
layers and directions, and a test holds the result to the torch module's outputs (1e-5). Each entry of
:mod:`lstm_core.architectures` names its replay here, and how one unit's update is taken apart.

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

Interventions (clamp a gate, silence a unit, overwrite a state) are applied inside these loops, so what
comes after them is what the network would really compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch.nn as nn

from .gates import GATES, GRU_TABLE

GRU_QUANTITIES = tuple(q.name for q in GRU_TABLE)  # r, z, n, h


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


    def input_projection(self, inputs: np.ndarray, token_ids=None, bias: np.ndarray | None = None) -> np.ndarray:
        """W_ih x + ``bias`` (b_ih + b_hh unless given) for every timestep at once: (time, rows). With
        ``token_ids``, ``inputs`` is an embedding table and each distinct token is projected once."""
        x_proj = inputs.astype(np.float32) @ self.weight_ih.T + (self.bias if bias is None else bias)
        return x_proj[token_ids] if token_ids is not None else x_proj


def replay_lstm_layer(weights: LayerWeights, inputs: np.ndarray, h0: np.ndarray, c0: np.ndarray,
                      interventions=(), reverse: bool = False, token_ids: np.ndarray | None = None,
                      dtype=np.float32) -> dict[str, np.ndarray]:
    """Run one LSTM layer over ``inputs`` (time, input) step by step; every quantity (time, hidden).

    ``reverse`` reads the sequence from the end (the backward half of a bidirectional layer); the
    returned arrays are still indexed by position in the sequence. With ``token_ids``, ``inputs``
    is an embedding table (vocab, input) and step t reads row ``token_ids[t]``: the input
    projection is then computed once per distinct token instead of once per step. ``dtype`` is the
    precision of the arithmetic (float64 for an LSTM without a forget gate, see :mod:`lstm_core.architectures`).
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


def replay_gru_layer(weights: LayerWeights, inputs: np.ndarray, h0: np.ndarray, c0: None = None,
                     interventions=(), reverse: bool = False, token_ids: np.ndarray | None = None,
                     dtype=np.float32) -> dict[str, np.ndarray]:
    """Run one GRU layer over ``inputs`` step by step; each quantity (time, hidden). Arguments as
    :func:`replay_lstm_layer`'s (a GRU has no cell: ``c0`` is None)."""
    hidden = weights.weight_hh.shape[1]
    b_hh = weights.bias_hh if weights.bias_hh is not None else np.zeros(3 * hidden, np.float32)
    b_ih = weights.bias_ih if weights.bias_ih is not None else weights.bias - b_hh
    x_proj = weights.input_projection(inputs, token_ids, bias=b_ih)  # (time, 3H): W_i· x + b_i·
    steps = x_proj.shape[0]
    w_hh_t = np.ascontiguousarray(weights.weight_hh.T)  # (H, 3H)
    r_rows, z_rows, n_rows = (slice(k * hidden, (k + 1) * hidden) for k in range(3))
    result = {name: np.empty((steps, hidden), dtype) for name in GRU_QUANTITIES}
    h = np.array(h0, dtype).reshape(hidden)
    edits = {name: [iv for iv in interventions if iv.quantity == name] for name in GRU_QUANTITIES}
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


def replay_rnn_layer(weights: LayerWeights, inputs: np.ndarray, h0: np.ndarray, c0: None = None,
                     interventions=(), reverse: bool = False, token_ids: np.ndarray | None = None,
                     dtype=np.float32) -> dict[str, np.ndarray]:
    """Run one plain (Elman, tanh) RNN layer over ``inputs`` step by step: {"hidden_state": (time, hidden)}.
    Arguments as :func:`replay_lstm_layer`'s (an RNN has no cell: ``c0`` is None)."""
    hidden = weights.weight_hh.shape[1]
    x_proj = weights.input_projection(inputs, token_ids)  # (time, H): W_ih x + b_ih + b_hh
    steps = x_proj.shape[0]
    w_hh_t = np.ascontiguousarray(weights.weight_hh.T)  # (H, H)
    hiddens = np.empty((steps, hidden), dtype)
    h = np.array(h0, dtype).reshape(hidden)
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


def lstm_update(values: dict) -> dict:
    """An LSTM unit's step taken apart: kept = f * c_prev, written = i * g, c = kept + written, h = o * tanh(c).
    ``values`` holds the step's quantities by symbol, with h_prev and c_prev."""
    values["kept"] = values["f"] * values["c_prev"]
    values["written"] = values["i"] * values["g"]
    values["tanh_c"] = float(np.tanh(values["c"]))
    return values


def gru_update(values: dict) -> dict:
    """A GRU unit's step taken apart: kept = z * h_prev, written = (1 - z) * n, h = kept + written."""
    values["kept"] = values["z"] * values["h_prev"]
    values["written"] = (1 - values["z"]) * values["n"]
    return values


def rnn_update(values: dict) -> dict:
    """A plain RNN's step has nothing to take apart: its state is rewritten whole (h_prev, then h)."""
    return values
