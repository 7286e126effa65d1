"""The three recurrences one step at a time in torch, on a trained module's own weights, and their fused kernels.

The fused kernels (``nn.LSTM``, ``nn.GRU``, ``nn.RNN``) hide each step's states, and their last cell
state gets no gradient of its own. Two measurements need the steps in the open, with autograd or
with a different mask per batch element: the gradient flow through time (:mod:`lstm_core.gradients`)
and the unit ablation (:mod:`lstm_core.ablation`). They step through :func:`cell_step`, which
computes exactly what the kernel computes (the equations are in :mod:`lstm_core.replay`); the
layers they do not need to open run through the fused kernel, :func:`fused_layers`.

Each entry of :mod:`lstm_core.architectures` names its step (:func:`lstm_step`, :func:`gru_step`,
:func:`rnn_step`) and its kernel here; the functions that take ``arch`` take such an entry.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torch import _VF


def lstm_step(x_proj: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh: torch.Tensor, b_hh: torch.Tensor):
    """One LSTM step from the input's projection x_proj = W_ih x + b_ih (batch, 4 * hidden) -> (h, c)."""
    recurrent = h @ w_hh.T + b_hh  # (batch, rows)
    i, f, g, o = (x_proj + recurrent).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # keep part of the cell, write part of g
    return torch.sigmoid(o) * torch.tanh(c), c  # show a gated, squashed view of the cell


def gru_step(x_proj: torch.Tensor, h: torch.Tensor, c: None, w_hh: torch.Tensor, b_hh: torch.Tensor):
    """One GRU step from x_proj (batch, 3 * hidden) -> (h, None): a GRU has no cell."""
    recurrent = h @ w_hh.T + b_hh  # (batch, rows)
    x_r, x_z, x_n = x_proj.chunk(3, dim=-1)
    h_r, h_z, h_n = recurrent.chunk(3, dim=-1)
    r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
    n = torch.tanh(x_n + r * h_n)  # the candidate reads the reset part of the old state
    return (1 - z) * n + z * h, None  # keep z of the old state, take 1 - z of the candidate


def rnn_step(x_proj: torch.Tensor, h: torch.Tensor, c: None, w_hh: torch.Tensor, b_hh: torch.Tensor):
    """One plain (tanh) RNN step from x_proj (batch, hidden) -> (h, None)."""
    recurrent = h @ w_hh.T + b_hh  # (batch, rows)
    return torch.tanh(x_proj + recurrent), None  # the plain RNN rewrites its whole state


def lstm_kernel(x: torch.Tensor, state, weights: list[torch.Tensor], layers: int, dropout: float = 0.0,
                training: bool = False, batch_first: bool = True):
    """nn.LSTM's fused kernel over ``layers`` layers: x -> (output, (h, c)), each state (layers, batch, hidden)."""
    result = _VF.lstm(x, state, weights, True, layers, dropout, training, False, batch_first)
    return result[0], result[1:]


def gru_kernel(x: torch.Tensor, state, weights: list[torch.Tensor], layers: int, dropout: float = 0.0,
               training: bool = False, batch_first: bool = True):
    """nn.GRU's fused kernel: x -> (output, h)."""
    return _VF.gru(x, state, weights, True, layers, dropout, training, False, batch_first)


def rnn_kernel(x: torch.Tensor, state, weights: list[torch.Tensor], layers: int, dropout: float = 0.0,
               training: bool = False, batch_first: bool = True):
    """nn.RNN's (tanh) fused kernel: x -> (output, h)."""
    return _VF.rnn_tanh(x, state, weights, True, layers, dropout, training, False, batch_first)


def layer_weights(core: nn.Module, layer: int) -> tuple[torch.Tensor, ...]:
    """(weight_ih, weight_hh, bias_ih, bias_hh) of ``layer``, live (gradients flow into the module).
    For an ablated LSTM these are its effective packed i|f|g|o tensors."""
    return tuple(getattr(core, f"{name}_l{layer}") for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))


def cell_step(arch, weights, x: torch.Tensor, h: torch.Tensor, c: torch.Tensor | None = None):
    """One step of one layer of ``arch``: x (batch, input), h and c (batch, hidden) -> (h, c); c is None
    unless the cell has a cell state."""
    w_ih, w_hh, b_ih, b_hh = weights
    return arch.step(x @ w_ih.T + b_ih, h, c, w_hh, b_hh)


def fused_layers(arch, core: nn.Module, x: torch.Tensor, first: int, last: int, state=None):
    """Layers ``first``..``last - 1`` of ``core`` (a module of ``arch``) on x (batch, time, input), through
    the fused kernel.

    ``state``: (h, c) for a cell with a cell state, else h, each (last - first, batch, hidden); None for zeros.
    Returns (output (batch, time, hidden), final state)."""
    count = last - first
    if count <= 0:
        return x, state
    weights = [w for layer in range(first, last) for w in layer_weights(core, layer)]
    if state is None:
        zeros = x.new_zeros(count, x.shape[0], core.hidden_size)
        state = (zeros, zeros) if arch.has_cell_state else zeros
    return arch.kernel(x, state, weights, count)


def masked_layer(arch, weights, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """One layer of ``arch`` over inputs (1 or batch, time, input) from a zero state, with h multiplied by
    ``mask`` (batch, hidden) after every step: a 0 silences that unit of that batch element from the start.
    Returns the masked hidden states (batch, time, hidden)."""
    w_ih, w_hh, b_ih, b_hh = weights
    batch, hidden = mask.shape
    x_proj = inputs @ w_ih.T + b_ih  # (1 or batch, time, rows): computed once, whatever the mask
    h = mask.new_zeros(batch, hidden)
    c = mask.new_zeros(batch, hidden) if arch.has_cell_state else None
    outputs = mask.new_empty(batch, inputs.shape[1], hidden)
    for t in range(inputs.shape[1]):
        h, c = arch.step(x_proj[:, t], h, c, w_hh, b_hh)
        h = h * mask  # silenced units show 0 to the next step, the next layer and the head
        outputs[:, t] = h
    return outputs
