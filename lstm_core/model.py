"""The character-level language model: embedding -> a recurrent layer stack -> linear head.

This is the seed notebook's model (``003``), configured by a dataclass. The recurrent stack is one of

    lstm   torch.nn.LSTM (the default everywhere), or an ablated LSTM (:class:`VariantLSTM`)
    gru    torch.nn.GRU
    rnn    torch.nn.RNN with tanh: the plain (Elman) recurrent network

Training always runs the fused kernels; the gates are read by replaying the same weights in
:mod:`lstm_core.trace`. The ablated LSTMs follow Greff et al., "LSTM: A Search Space Odyssey"
(2017): no forget gate (f = 1), coupled input and forget gates (i = 1 - f), no output gate (o = 1).
They train at nn.LSTM's speed: each forward builds the packed i|f|g|o weights from the free
parameters (a fixed gate gets zero weights and a bias so large that its sigmoid is exactly 1.0 in
float32; a coupled input gate gets the forget gate's rows negated, since sigmoid(-z) = 1 - sigmoid(z))
and runs the same fused kernel ``nn.LSTM.forward`` calls. The replay reads the same effective weights.

Chrono initialisation (Tallec & Ollivier, "Can recurrent neural networks warp time?", 2018) draws
each unit's forget-gate bias as log(u), u ~ U[1, T_max - 1], and sets the input-gate bias to its
negative, so the cell's memory spans the delays (up to T_max) that the task needs bridged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

from .ablated_lstm import VariantLSTM
from .architectures import Architecture, architecture

from .limits import MODEL_LIMITS, check_limits
OPTIONAL = ("forget_bias", "update_bias", "chrono")


@dataclass
class ModelConfig:
    vocab_size: int
    hidden_size: int = 128
    num_layers: int = 1
    embedding_dim: int | None = None  # None: same as hidden_size, as in the seed notebook
    dropout: float = 0.0  # between LSTM layers (and before the head), training only
    forget_bias: float | None = None  # None keeps PyTorch's initialisation of the forget-gate bias
    architecture: str = "lstm"  # "lstm", "gru" or "rnn"
    variant: str = "standard"  # LSTM only: "standard", "no_forget_gate", "coupled_gates", "no_output_gate"
    update_bias: float | None = None  # GRU only: the update gate's initial bias (z near 1 keeps the state)
    chrono: int | None = None  # T_max of chrono initialisation (LSTM and GRU); replaces the bias settings

    def __post_init__(self):
        if self.embedding_dim is None:
            self.embedding_dim = self.hidden_size
        check_limits(self, MODEL_LIMITS, optional=OPTIONAL)
        arch = self.arch  # the registry refuses an unknown architecture or variant, and a variant of a GRU
        if self.chrono is not None and arch.keep_gate is None:
            raise ValueError(f"chrono initialisation sets gate biases; a {arch.display_name} has no gates")

    @property
    def arch(self) -> Architecture:
        """The registry's entry for this architecture and variant (lstm_core.architectures)."""
        return architecture(self.architecture, self.variant)

    @property
    def gate_blocks(self) -> int:
        """Rows of free weights per unit: 4 for an LSTM (3 for a variant), 3 for a GRU, 1 for an RNN."""
        return self.arch.gate_blocks

    def to_dict(self) -> dict:
        return asdict(self)


def count_parameters(config: ModelConfig) -> int:
    """The model's trainable parameters, from its settings alone (equals summing the built model's)."""
    vocab, embed, hidden, blocks = config.vocab_size, config.embedding_dim, config.hidden_size, config.gate_blocks
    total = vocab * embed + hidden * vocab + vocab  # embedding and head
    for layer in range(config.num_layers):
        inputs = embed if layer == 0 else hidden
        total += blocks * hidden * (inputs + hidden) + 2 * blocks * hidden  # weights, b_ih and b_hh
    return total


def model_config_from(settings, vocab_size: int) -> ModelConfig:
    """The model settings of a training's config (any object with the fields below, as the character
    trainer's and the memory task's have); with a ``param_budget``, the hidden size that reaches it.
    A bias setting of another architecture (a forget-gate bias on a GRU, say) is not used."""
    kept = architecture(settings.architecture, settings.variant).keep_bias_setting  # the one bias it reads
    biases = {name: getattr(settings, name) if name == kept else None for name in ("forget_bias", "update_bias")}
    config = ModelConfig(vocab_size, settings.hidden_size, settings.num_layers, settings.embedding_dim,
                         settings.dropout, architecture=settings.architecture, variant=settings.variant,
                         chrono=settings.chrono, **biases)
    if settings.param_budget is not None:
        hidden = hidden_for_budget(settings.param_budget, config)
        config = ModelConfig(**{**config.to_dict(), "hidden_size": hidden, "embedding_dim": settings.embedding_dim})
    return config


def hidden_for_budget(budget: int, config: ModelConfig) -> int:
    """The hidden size whose parameter count comes closest to ``budget`` for ``config``'s architecture
    (its other settings kept; an embedding size of None follows the hidden size as usual)."""
    low, high = MODEL_LIMITS["hidden_size"]
    follow = config.embedding_dim == config.hidden_size

    def count(hidden: int) -> int:
        settings = {**config.to_dict(), "hidden_size": hidden, "embedding_dim": hidden if follow else config.embedding_dim}
        return count_parameters(ModelConfig(**settings))

    while low < high:  # the count grows with the hidden size: find the first size reaching the budget
        middle = (low + high) // 2
        if count(middle) < budget:
            low = middle + 1
        else:
            high = middle
    return min((h for h in (low - 1, low) if h >= 1), key=lambda h: abs(count(h) - budget))


class CharModel(nn.Module):
    """Predicts the next character at every position of a batch of character sequences.

    The recurrent stack is kept under its architecture's name (``model.lstm``, ``model.gru`` or
    ``model.rnn``, so an LSTM's saved weights keep their names); ``model.recurrent`` is whichever it is.
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        inner_dropout = config.dropout if config.num_layers > 1 else 0.0
        core = config.arch.build(config.embedding_dim, config.hidden_size, config.num_layers, inner_dropout)
        self.add_module(config.architecture, core)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        initialise_gate_biases(core, config)

    @property
    def recurrent(self) -> nn.Module:
        return getattr(self, self.config.architecture)

    @property
    def architecture(self) -> str:
        return self.config.architecture

    @property
    def arch(self) -> Architecture:
        return self.config.arch

    def forward(self, ids: torch.Tensor, state=None):
        """ids (batch, time) -> logits (batch, time, vocab), and the state: (h, c) for an LSTM, h for
        a GRU or an RNN, each (layers, batch, hidden)."""
        x = self.embedding(ids)  # (batch, time, embedding)
        out, state = self.recurrent(x, state)  # (batch, time, hidden)
        return self.head(self.drop(out)), state

    def zero_state(self, batch_size: int = 1):
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        weight = self.head.weight
        if self.arch.has_cell_state:
            return (weight.new_zeros(shape), weight.new_zeros(shape))
        return weight.new_zeros(shape)


def detach_state(state):
    """The state carried to the next chunk with its gradient cut: an (h, c) pair or a lone h."""
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def initialise_gate_biases(core: nn.Module, config: ModelConfig) -> None:
    """Set the initial gate biases the config asks for: chrono initialisation, or a constant bias of the gate
    that keeps the old state (an LSTM's forget gate, a GRU's update gate). Each value is split evenly over
    b_ih and b_hh."""
    hidden, arch = config.hidden_size, config.arch
    constant = getattr(config, arch.keep_bias_setting) if arch.keep_bias_setting else None
    with torch.no_grad():
        for layer in range(config.num_layers):
            if config.chrono is not None:
                keep = torch.log(torch.empty(hidden).uniform_(1, max(config.chrono - 1, 1 + 1e-6)))
                _set_block(core, arch, layer, arch.keep_gate, keep)
                if arch.write_gate in arch.free_blocks:
                    _set_block(core, arch, layer, arch.write_gate, -keep)
            elif constant is not None and arch.keep_gate in arch.free_blocks:
                _set_block(core, arch, layer, arch.keep_gate, torch.full((hidden,), constant))


def _set_block(core: nn.Module, arch: Architecture, layer: int, gate: str, value: torch.Tensor) -> None:
    """Write ``value`` (hidden,) as the total bias of one gate block (by symbol) of ``layer``, half in each bias."""
    hidden = core.hidden_size
    if isinstance(core, VariantLSTM):
        for name in ("bias_ih", "bias_hh"):
            core.free_block(gate, name, layer).copy_(value / 2)
        return
    index = arch.gate_symbols.index(gate)
    for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
        getattr(core, name)[index * hidden:(index + 1) * hidden] = value / 2
