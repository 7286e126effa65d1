"""The three recurrences one step at a time in torch, on a trained module's own weights.

The fused kernels (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``) hide each step's states, and their last cell
state gets no gradient of its own. Two measurements need the steps in the open, with autograd or
with a different mask per batch element: the gradient flow through time (:mod:`lstm_core.gradients`)
and the unit ablation (:mod:`lstm_core.ablation`). They step through :func:`cell_step`, which
computes exactly what the kernel computes (the equations are in :mod:`lstm_core.trace`); the
layers they do not need to open run through the fused kernel, :func:`fused_layers`.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import _VF

from .trace import architecture_of


def layer_weights(core: nn.Module, layer: int) -> tuple[torch.Tensor, ...]:
    """(weight_ih, weight_hh, bias_ih, bias_hh) of ``layer``, live (gradients flow into the module).
    For an ablated LSTM these are its effective packed i|f|g|o tensors."""
    return tuple(getattr(core, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def cell_step(architecture: str, weights, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None = None):
    """One step of one layer: x (batch, input), h and c (batch, hidden) -> (h, c); c is None except for an LSTM."""
    w_ih, w_hh, b_ih, b_hh = weights
    return projected_step(architecture, x @ w_ih.T + b_ih, h, c, w_hh, b_hh)


def projected_step(architecture: str, x_proj: torch.Tensor, h: torch.Tensor, c, w_hh: torch.Tensor,
                   b_hh: torch.Tensor):
    """:func:`cell_step` from the input's projection x_proj = W_ih x + b_ih (batch, rows)."""
    recurrent = h @ w_hh.T + b_hh  # (batch, rows)
    if architecture == "lstm":
        i, f, g, o = (x_proj + recurrent).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # keep part of the cell, write part of g
        return torch.sigmoid(o) * torch.tanh(c), c  # show a gated, squashed view of the cell
    if architecture == "gru":
        x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
        h_r, h_z, h_n = recurrent.chunk(3, dim=-1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)  # the candidate reads the reset part of the old state
        return (1 - z) * n + z * h, None  # keep z of the old state, take 1 - z of the candidate
    return torch.tanh(x_proj + recurrent), None  # the plain RNN rewrites its whole state


def fused_layers(core: nn.Module, x: torch.Tensor, first: int, last: int, state=None):
    """Layers ``first``..``last - 1`` of ``core`` on x (batch, time, input), through the fused kernel.

    ``state``: (h, c) for an LSTM or h, each (last - first, batch, hidden); None for zeros.
    Returns (output (batch, time, hidden), final state)."""
    architecture = architecture_of(core)
    count = last - first
    if count <= 0:
        return x, state
    weights = [w for layer in range(first, last) for w in layer_weights(core, layer)]
    if state is None:
        zeros = x.new_zeros(count, x.shape[0], core.hidden_size)
        state = (zeros, zeros) if architecture == "lstm" else zeros
    if architecture == "lstm":
        result = _VF.lstm(x, state, weights, True, count, 0.0, False, False, True)
        return result[0], result[1:]
    kernel = _VF.gru if architecture == "gru" else _VF.rnn_tanh
    return kernel(x, state, weights, True, count, 0.0, False, False, True)


def masked_layer(architecture: str, weights, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One layer over inputs (1 or batch, time, input) from a zero state, with h multiplied by ``mask``
    (batch, hidden) after every step: a 0 silences that unit of that batch element from the start.
    Returns the masked hidden states (batch, time, hidden)."""
    w_ih, w_hh, b_ih, b_hh = weights
    batch, hidden = mask.shape
    x_proj = inputs @ w_ih.T + b_ih  # (1 or batch, time, rows): computed once, whatever the mask
    h = mask.new_zeros(batch, hidden)
    c = mask.new_zeros(batch, hidden) if architecture == "lstm" else None
    outputs = mask.new_empty(batch, inputs.shape[1], hidden)
    for t in range(inputs.shape[1]):
        h, c = projected_step(architecture, x_proj[:, t], h, c, w_hh, b_hh)
        h = h * mask  # silenced units show 0 to the next step, the next layer and the head
        outputs[:, t] = h
    return outputs
