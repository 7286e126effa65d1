"""Gradient flow through time: how much the loss at step t still depends on the state k steps back.

For a character model and a text, :func:`gradient_flow` measures the norm of dL_t/dh_(t-k) (and, for
an LSTM, dL_t/dc_(t-k)) for every lag k = 0..max_lag, averaged over positions t, where L_t is the loss
of predicting the character after t. This is the quantity of Bengio, Simard & Frasconi (1994) and
Hochreiter (1991): in a plain RNN it shrinks geometrically with k (the vanishing gradient), so the
network cannot learn what lies further back; an LSTM's cell, whose forget gate stays near 1, carries
it much further ("constant error carousel", Hochreiter & Schmidhuber 1997).

How it is computed: one window of max_lag + 1 characters ends at each chosen position t; the state
at the window's start is the model's real state there (the text before it is read first, without
gradients: no gradient reaches back further than max_lag anyway). The windows form one batch and the
recurrence runs one step at a time with each step's state kept, so a single backward pass of
sum_t L_t gives every dL_t/dh_(t-k) at once (batch elements never mix). A test checks it against
autograd on each position separately. It runs on a float64 copy of the model: a plain RNN's
gradient falls below float32's smallest number (1e-45) within about 100 steps, and would read 0.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn as nn

from .model import detach_state
from .readable import norm, scientific, share
from .recurrence import cell_step, layer_weights

MAX_LAG = 1000


@dataclass
class GradientFlow:
    """Mean gradient norms against the lag, for every layer: arrays (layers, max_lag + 1)."""

    hidden: np.ndarray  # ||dL_t/dh_(t-k)||, mean over positions t
    cell: np.ndarray | None  # ||dL_t/dc_(t-k)|| for an LSTM, else None
    positions: list[int]  # the positions t averaged over
    architecture: str

    @property
    def lags(self) -> np.ndarray:
        return np.arange(self.hidden.shape[1])

    def frame(self) -> pd.DataFrame:
        """One row per lag and layer: lag, layer, hidden_norm (and cell_norm for an LSTM)."""
        layers, lags = self.hidden.shape
        frame = pd.DataFrame({"lag": np.tile(np.arange(lags), layers), "layer": np.repeat(np.arange(layers), lags),
                              "hidden_norm": self.hidden.reshape(-1)})
        if self.cell is not None:
            frame["cell_norm"] = self.cell.reshape(-1)
        return frame

    def ratio_at(self, lag: int, layer: int = 0) -> float:
        """How much of the lag-0 gradient is left at ``lag`` (hidden state)."""
        return float(self.hidden[layer, lag] / self.hidden[layer, 0])


def gradient_flow(model: nn.Module, vocab, text: str, max_lag: int = 200, positions: int | list[int] = 32) -> GradientFlow:
    """Mean ||dL_t/dh_(t-k)|| (and ||dL_t/dc_(t-k)|| for an LSTM) for k = 0..max_lag, over up to ``positions``
    positions t spread evenly over ``text`` (which needs at least max_lag + 2 characters), or over the
    positions listed (each at least max_lag, with a character after it)."""
    if not 1 <= max_lag <= MAX_LAG:
        raise ValueError(f"the largest lag must be between 1 and {MAX_LAG}, got {max_lag}")
    cleaned, _ = vocab.clean(text)
    ids = torch.tensor(vocab.encode(cleaned), dtype=torch.long)
    last = len(ids) - 2  # the last position with a next character to predict
    if last < max_lag:
        raise ValueError(f"the text has {len(ids):,} characters; lags up to {max_lag} need at least "
                         f"{max_lag + 2:,}")
    if isinstance(positions, int):
        chosen = np.unique(np.linspace(max_lag, last, max(1, positions)).round().astype(int)).tolist()
    else:
        chosen = sorted(set(int(t) for t in positions))
        if not chosen or chosen[0] < max_lag or chosen[-1] > last:
            raise ValueError(f"positions must lie between {max_lag} (the largest lag) and {last} (the last with a "
                             "next character)")
    exact = copy.deepcopy(model).double().eval()  # same weights in float64: a vanishing gradient stays
    return _flow(exact, ids, chosen, max_lag)      # measurable (float32 flushes it to 0 below 1e-45)


def _flow(model: nn.Module, ids: torch.Tensor, chosen: list[int], max_lag: int) -> GradientFlow:
    core, arch = model.recurrent, model.arch
    lstm = arch.has_cell_state  # an LSTM's cell state is measured too
    layers = core.num_layers
    starts = [t - max_lag for t in chosen]  # each window reads ids[start .. t]
    with torch.no_grad():
        initial = _states_at(model, ids, starts)  # the real state before each window: (layers, batch, hidden)
    h = [s.clone() for s in (initial[0] if lstm else initial)]  # per layer (batch, hidden)
    c = [s.clone() for s in initial[1]] if lstm else [None] * layers
    weights = [layer_weights(core, layer) for layer in range(layers)]
    windows = torch.stack([ids[s:s + max_lag + 1] for s in starts])  # (batch, max_lag + 1)
    targets = torch.stack([ids[t + 1] for t in chosen])  # (batch,)
    embedded = model.embedding(windows)  # (batch, time, embedding)
    kept_h, kept_c = [], []  # per step, per layer: the states, each kept for its gradient
    for step in range(max_lag + 1):
        x = embedded[:, step]
        for layer in range(layers):
            h[layer], c[layer] = cell_step(arch, weights[layer], x, h[layer], c[layer])
            x = h[layer]
        for kept, states in ((kept_h, h), (kept_c, c)) if lstm else ((kept_h, h),):
            for tensor in states:
                tensor.retain_grad()
            kept.append(list(states))
    loss = nn.functional.cross_entropy(model.head(h[-1]), targets, reduction="sum")  # sum of each window's L_t
    loss.backward()
    model.zero_grad(set_to_none=True)

    def norms(kept):  # step s of the window is lag max_lag - s; -> (layers, max_lag + 1), lag 0 first
        per_step = torch.tensor([[float(t.grad.norm(dim=-1).mean()) if t.grad is not None else 0.0 for t in states]
                                 for states in kept], dtype=torch.float64)  # (steps, layers)
        return per_step.flip(0).T.numpy().astype(np.float64)

    return GradientFlow(norms(kept_h), norms(kept_c) if lstm else None, list(chosen), arch.name)


def _states_at(model: nn.Module, ids: torch.Tensor, starts: list[int]):
    """The model's state after reading ids[:start] from a zero state, for each start, stacked on the
    batch axis: (h, c) or h, each (layers, len(starts), hidden). One pass over the text, in chunks."""
    state, done, found = None, 0, []
    for start in starts:  # ascending
        if start > done:
            _, state = model(ids[done:start].unsqueeze(0), state)
            done = start
        found.append(state if state is not None else model.zero_state(1))
    if isinstance(found[0], tuple):
        return tuple(torch.cat([s[k] for s in found], dim=1) for k in range(2))
    return detach_state(torch.cat(found, dim=1))


def flow_table(flows: dict[str, GradientFlow], lag: int, near: int = 2, against: str | None = None) -> pd.DataFrame:
    """The gradient flow of several models side by side at a few lags, formatted as shown (lstm_core.readable):
    ||dL/dh|| at the answer (lag 0), ``near`` and ``lag`` steps back and the share kept at ``lag``; the same for
    ||dL/dc|| where a model has a cell ("–" where not); and, with ``against`` (a key of ``flows``), how many times
    that model's ||dL/dh|| at ``lag`` each model's is. One row per model, in the order of ``flows``."""
    rows = []
    for label, flow in flows.items():
        hidden = flow.hidden[0]
        row = {"model": label, "‖∂L/∂h‖ at the answer": norm(hidden[0]),
               f"‖∂L/∂h‖ {near} steps back": norm(hidden[near]), f"‖∂L/∂h‖ {lag} steps back": norm(hidden[lag]),
               f"h: share kept after {lag}": share(hidden[lag] / hidden[0])}
        cell = flow.cell[0] if flow.cell is not None else None
        row.update({"‖∂L/∂c‖ at the answer": "–" if cell is None else norm(cell[0]),
                    f"‖∂L/∂c‖ {lag} steps back": "–" if cell is None else norm(cell[lag]),
                    f"c: share kept after {lag}": "–" if cell is None else share(cell[lag] / cell[0])})
        if against is not None:
            row[f"× {against}'s at {lag}"] = scientific(hidden[lag] / flows[against].hidden[0, lag])
        rows.append(row)
    return pd.DataFrame(rows)
