"""An ablated LSTM: one gate fixed at 1 or tied to another, trained at nn.LSTM's speed.

The ablations follow Greff et al., "LSTM: A Search Space Odyssey" (2017): no forget gate (f = 1),
coupled input and forget gates (i = 1 - f), no output gate (o = 1). Which gates each one keeps is
written in its entry of :mod:`lstm_core.architectures`. Each forward builds the packed i|f|g|o weights
from the free parameters (a fixed gate gets zero weights and a bias so large that its sigmoid is
exactly 1.0 in float32; a coupled input gate gets the forget gate's rows negated, since
sigmoid(-z) = 1 - sigmoid(z)) and runs the same fused kernel ``nn.LSTM.forward`` calls. The replay
reads the same effective weights.
"""

from __future__ import annotations

import math
import re

import torch
import torch.nn as nn

from .recurrence import lstm_kernel

SATURATED = 50.0  # a pre-activation whose sigmoid is exactly 1.0 in float32 (and in the replay)


class VariantLSTM(nn.Module):
    """An LSTM layer stack with one gate fixed or tied (Greff et al. 2017), run by nn.LSTM's fused kernel.

    It has only the free parameters of its variant (three blocks of rows instead of four), yet reads
    like an ``nn.LSTM``: ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}`` and ``bias_hh_l{k}``
    are the effective packed i|f|g|o tensors, so the replay, the cell lab and the explorer work on
    it unchanged. Batch first, one direction.
    """

    mode = "LSTM"
    bias = True
    bidirectional = False
    proj_size = 0

    def __init__(self, input_size: int, hidden_size: int, num_layers: int, dropout: float, variant: str,
                 free: tuple[str, ...], batch_first: bool = True):
        super().__init__()
        if len(free) != 3 or "g" not in free or not set(free) <= set("ifgo"):
            raise ValueError(f"an ablated LSTM keeps the candidate g and two of i, f, o; got {free!r}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout, self.variant, self.batch_first = float(dropout), variant, batch_first
        self.free = tuple(free)  # the gates held as parameters, PyTorch's order (lstm_core.architectures)
        rows = len(self.free) * hidden_size
        bound = 1 / math.sqrt(hidden_size)  # nn.LSTM's initialisation: U(-1/sqrt(H), 1/sqrt(H))
        for layer in range(num_layers):
            inputs = input_size if layer == 0 else hidden_size
            for name, shape in ((f"free_weight_ih_l{layer}", (rows, inputs)), (f"free_weight_hh_l{layer}", (rows, hidden_size)),
                                (f"free_bias_ih_l{layer}", (rows,)), (f"free_bias_hh_l{layer}", (rows,))):
                self.register_parameter(name, nn.Parameter(torch.empty(shape).uniform_(-bound, bound)))

    def free_block(self, gate: str, name: str, layer: int) -> torch.Tensor:
        """The free rows of ``gate`` ("i", "f", "g" or "o") in parameter ``name`` ("weight_ih"...) of ``layer``."""
        k, hidden = self.free.index(gate), self.hidden_size
        return getattr(self, f"free_{name}_l{layer}")[k * hidden:(k + 1) * hidden]

    def effective(self, name: str, layer: int) -> torch.Tensor:
        """The packed i|f|g|o tensor that ``nn.LSTM`` would hold as ``{name}_l{layer}``."""
        blocks = []
        for gate in "ifgo":
            if gate in self.free:
                blocks.append(self.free_block(gate, name, layer))
            elif gate == "i":  # coupled: the input gate reads minus the forget gate's pre-activation
                blocks.append(-self.free_block("f", name, layer))
            else:  # fixed at 1: no weights, and a bias whose sigmoid is exactly 1.0
                template = self.free_block(self.free[0], name, layer)
                fill = SATURATED if name == "bias_ih" else 0.0
                blocks.append(torch.full_like(template, fill).detach())
        return torch.cat(blocks)

    def __getattr__(self, name: str):
        match = re.fullmatch(r"(weight_ih|weight_hh|bias_ih|bias_hh)_l(\d+)", name)
        if match and int(match.group(2)) < self.__dict__.get("num_layers", 0):
            return self.effective(match.group(1), int(match.group(2)))
        return super().__getattr__(name)

    def flat_weights(self) -> list[torch.Tensor]:
        return [self.effective(name, layer) for layer in range(self.num_layers)
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]

    def forward(self, x: torch.Tensor, state=None):
        """x (batch, time, input) -> output (batch, time, hidden), (h, c) each (layers, batch, hidden)."""
        if state is None:
            zeros = x.new_zeros(self.num_layers, x.shape[0 if self.batch_first else 1], self.hidden_size)
            state = (zeros, zeros)
        return lstm_kernel(x, state, self.flat_weights(), self.num_layers, self.dropout, self.training,
                           self.batch_first)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, variant={self.variant}"
