"""The registry of architectures: one entry per cell type, chosen once and asked everywhere after.

As makemore's ``--type`` does, a model's cell type is picked once (``ModelConfig.architecture`` and
``.variant``, saved in every run's config); from then on the code asks the entry, never compares names:

    arch = architecture("gru")           # or architecture("lstm", "coupled_gates"), of_module(model.gru)
    arch.quantities                      -> ("reset_gate", "update_gate", "new_gate", "hidden_state")
    arch.has_cell_state, arch.state_count  -> False, 1
    arch.sigmoid_gates                   -> ("reset_gate", "update_gate")
    arch.build(64, 128, 2, 0.0)          -> nn.GRU(64, 128, num_layers=2, batch_first=True)
    arch.replay_layer, arch.step, arch.kernel   (lstm_core.replay, lstm_core.recurrence)

The entries: the LSTM, the GRU, the plain (Elman, tanh) RNN, and three ablated LSTMs after Greff et al.
(2017), which are saved as architecture "lstm" with their variant's name. The names are the strings
saved in configs; they never change, so every run ever saved loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch.nn as nn

from .ablated_lstm import VariantLSTM
from .gates import GRU_TABLE, LSTM_TABLE, RNN_TABLE, Quantity
from .recurrence import gru_kernel, gru_step, lstm_kernel, lstm_step, rnn_kernel, rnn_step
from .replay import gru_update, lstm_update, replay_gru_layer, replay_lstm_layer, replay_rnn_layer, rnn_update

STANDARD = "standard"  # the variant of every cell that is not an ablated LSTM


@dataclass(frozen=True)
class Architecture:
    """One cell type: how it is saved and named, its gates and states, its torch module and its maths."""

    name: str  # as saved in configs: "lstm", "gru", "rnn" (an ablated LSTM is saved as an "lstm" too)
    variant: str  # as saved beside it: "standard", or an ablated LSTM's "no_forget_gate", ...
    display_name: str  # as the pages name it: "LSTM", "GRU", "plain RNN"
    short_name: str  # in run names and messages: "LSTM", "GRU", "RNN"
    table: tuple[Quantity, ...]  # its gates in PyTorch's row order, then its states (lstm_core.gates)
    free_blocks: tuple[str, ...]  # the blocks of rows a layer holds as parameters, by symbol, in PyTorch's order
    module: type[nn.Module]  # its torch module, which trains it (see build)
    torch_mode: str  # what that module says as ``.mode``
    replay_layer: Callable  # the exact numpy replay of one layer (lstm_core.replay)
    take_apart: Callable  # one unit's step taken apart into kept and written parts (Trace.cell_update)
    step: Callable  # one torch step of one layer, from the input's projection (lstm_core.recurrence)
    kernel: Callable  # the fused torch kernel over a stack of layers (lstm_core.recurrence)
    keep_gate: str | None = None  # the gate whose bias sets how much of the old state is kept: "f", "z"
    write_gate: str | None = None  # the gate that writes the candidate; chrono sets its bias to keep_gate's negative
    keep_bias_setting: str | None = None  # the ModelConfig setting for keep_gate's initial bias
    variant_label: str = ""  # what an ablation changes, in words: "no forget gate (f = 1)"
    replay_dtype: type = np.float32  # the replay's arithmetic (float64 where float32 rounding piles up)

    @property
    def key(self) -> tuple[str, str]:
        return self.name, self.variant

    @property
    def ablated(self) -> bool:
        return self.variant != STANDARD

    @property
    def label(self) -> str:
        """"LSTM", "plain RNN", "LSTM, coupled gates (i = 1 − f)"."""
        return f"{self.display_name}, {self.variant_label}" if self.ablated else self.display_name

    @property
    def variant_words(self) -> str:
        """The variant as words: "coupled gates", "standard"."""
        return self.variant.replace("_", " ")

    @property
    def quantities(self) -> tuple[str, ...]:
        """What a trace of this cell holds, gates first (PyTorch's order), then states."""
        return tuple(q.name for q in self.table)

    @property
    def gates(self) -> tuple[str, ...]:
        """The gate blocks (the candidate included) in PyTorch's row order; none for a plain RNN."""
        return tuple(q.name for q in self.table if q.kind != "state")

    @property
    def gate_symbols(self) -> tuple[str, ...]:
        """The row blocks of ``weight_ih_l{k}`` by symbol: "i", "f", "g", "o" for an LSTM."""
        return tuple(q.symbol for q in self.table if q.kind != "state")

    @property
    def sigmoid_gates(self) -> tuple[str, ...]:
        """The gates that live in [0, 1] (saturation, clamping)."""
        return tuple(q.name for q in self.table if q.kind == "gate")

    @property
    def has_cell_state(self) -> bool:
        return "cell_state" in self.quantities

    @property
    def state_count(self) -> int:
        """Tensors in its state: 2 for an LSTM's (h, c), 1 for a lone h."""
        return 2 if self.has_cell_state else 1

    @property
    def memory_state(self) -> str:
        """The state that carries memory: an LSTM's cell state, the hidden state of the others."""
        return "cell_state" if self.has_cell_state else "hidden_state"

    @property
    def gate_blocks(self) -> int:
        """Rows of free weights per unit: 4 for an LSTM (3 for an ablated one), 3 for a GRU, 1 for an RNN."""
        return len(self.free_blocks)

    def quantity(self, name: str) -> Quantity:
        """Its table's entry for ``name``; a ValueError lists the names it has."""
        for entry in self.table:
            if entry.name == name:
                return entry
        raise ValueError(f"unknown quantity {name!r}; choose one of {', '.join(self.quantities)}")

    def build(self, input_size: int, hidden_size: int, num_layers: int, dropout: float) -> nn.Module:
        """Its torch layer stack, batch first."""
        if self.ablated:
            return VariantLSTM(input_size, hidden_size, num_layers, dropout, self.variant, self.free_blocks)
        return self.module(input_size, hidden_size, num_layers=num_layers, dropout=dropout, batch_first=True)


_LSTM = dict(name="lstm", display_name="LSTM", short_name="LSTM", table=LSTM_TABLE, torch_mode="LSTM",
             replay_layer=replay_lstm_layer, take_apart=lstm_update, step=lstm_step,
             kernel=lstm_kernel, keep_gate="f", write_gate="i", keep_bias_setting="forget_bias")
ENTRIES = (
    Architecture(variant=STANDARD, free_blocks=("i", "f", "g", "o"), module=nn.LSTM, **_LSTM),
    Architecture(name="gru", variant=STANDARD, display_name="GRU", short_name="GRU", table=GRU_TABLE,
                 free_blocks=("r", "z", "n"), module=nn.GRU, torch_mode="GRU", replay_layer=replay_gru_layer,
                 take_apart=gru_update, step=gru_step, kernel=gru_kernel,
                 keep_gate="z", keep_bias_setting="update_bias"),
    Architecture(name="rnn", variant=STANDARD, display_name="plain RNN", short_name="RNN", table=RNN_TABLE,
                 free_blocks=("h",), module=nn.RNN, torch_mode="RNN_TANH", replay_layer=replay_rnn_layer,
                 take_apart=rnn_update, step=rnn_step, kernel=rnn_kernel),
    # f = 1: the cell only adds (the 1997 LSTM). It never forgets, so float32 rounding, which the fused kernel
    # and the replay make differently, piles up; in float64 the replay stays within the kernel's own rounding
    # (measured: 1.2e-5 apart in float32, 7e-6 in float64, 3 x 512 units, 78 steps).
    Architecture(variant="no_forget_gate", free_blocks=("i", "g", "o"), module=VariantLSTM,
                 variant_label="no forget gate (f = 1)", replay_dtype=np.float64, **_LSTM),
    Architecture(variant="coupled_gates", free_blocks=("f", "g", "o"), module=VariantLSTM,  # i = 1 - f (CIFG)
                 variant_label="coupled gates (i = 1 − f)", **_LSTM),
    Architecture(variant="no_output_gate", free_blocks=("i", "f", "g"), module=VariantLSTM,  # o = 1: h = tanh(c)
                 variant_label="no output gate (o = 1)", **_LSTM),
)
REGISTRY = {entry.key: entry for entry in ENTRIES}  # (name, variant) -> its entry
DEFAULT = REGISTRY["lstm", STANDARD]  # what a config naming no architecture holds (every run saved before the choice)
ARCHITECTURES = tuple(dict.fromkeys(entry.name for entry in ENTRIES))  # the names a config may hold
VARIANTS = tuple(dict.fromkeys(entry.variant for entry in ENTRIES))  # the variants a config may hold


def architecture(name: str, variant: str = STANDARD) -> Architecture:
    """The entry saved as (``name``, ``variant``); a ValueError a user can read for anything else."""
    if name not in ARCHITECTURES:
        raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {name!r}")
    if variant not in VARIANTS:
        raise ValueError(f"the LSTM variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    if (name, variant) not in REGISTRY:
        owners = " or ".join(entry.short_name for entry in ENTRIES if entry.variant == variant)
        raise ValueError(f"the variant {variant!r} is an {owners}'s; a {REGISTRY[name, STANDARD].short_name} has none")
    return REGISTRY[name, variant]


def of_module(module: nn.Module) -> Architecture:
    """The entry of a torch recurrent module: an nn.LSTM, nn.GRU, nn.RNN (tanh) or an ablated LSTM."""
    mode = getattr(module, "mode", None)
    for entry in ENTRIES:
        if entry.torch_mode == mode and entry.variant == getattr(module, "variant", STANDARD):
            return entry
    raise ValueError(f"the replay covers nn.LSTM, nn.GRU and nn.RNN with tanh, not {mode or type(module).__name__}")


def display_name(name: str) -> str:
    """How the pages name the architecture saved as ``name`` ("plain RNN" for "rnn"); an unknown name as it is."""
    entry = REGISTRY.get((name, STANDARD))
    return entry.display_name if entry else name
