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

import math
import re
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
from torch import _VF

from .limits import MODEL_LIMITS, check_limits

ARCHITECTURES = ("lstm", "gru", "rnn")
VARIANTS = {  # LSTM variant -> the gates it keeps as free parameters (PyTorch's order), and what it changes
    "standard": ("i", "f", "g", "o"),
    "no_forget_gate": ("i", "g", "o"),  # f = 1: the cell only adds (the 1997 LSTM)
    "coupled_gates": ("f", "g", "o"),  # i = 1 - f: write exactly what is forgotten (CIFG)
    "no_output_gate": ("i", "f", "g"),  # o = 1: h = tanh(c)
}
SATURATED = 50.0  # a pre-activation whose sigmoid is exactly 1.0 in float32 (and in the replay)
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
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")
        if self.variant not in VARIANTS:
            raise ValueError(f"the LSTM variant must be one of {', '.join(VARIANTS)}, got {self.variant!r}")
        if self.variant != "standard" and self.architecture != "lstm":
            raise ValueError(f"the variant {self.variant!r} is an LSTM's; a {self.architecture.upper()} has none")
        if self.chrono is not None and self.architecture == "rnn":
            raise ValueError("chrono initialisation sets gate biases; a plain RNN has no gates")

    @property
    def gate_blocks(self) -> int:
        """Rows of free weights per unit: 4 for an LSTM (3 for a variant), 3 for a GRU, 1 for an RNN."""
        if self.architecture == "lstm":
            return len(VARIANTS[self.variant])
        return {"gru": 3, "rnn": 1}[self.architecture]

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
    architecture = settings.architecture
    config = ModelConfig(vocab_size, settings.hidden_size, settings.num_layers, settings.embedding_dim,
                         settings.dropout, settings.forget_bias if architecture == "lstm" else None, architecture,
                         settings.variant, settings.update_bias if architecture == "gru" else None, settings.chrono)
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

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, dropout: float = 0.0,
                 variant: str = "no_forget_gate", batch_first: bool = True):
        super().__init__()
        if variant not in VARIANTS or variant == "standard":
            raise ValueError(f"VariantLSTM needs one of {', '.join(v for v in VARIANTS if v != 'standard')}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.dropout, self.variant, self.batch_first = float(dropout), variant, batch_first
        self.free = VARIANTS[variant]
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
        result = _VF.lstm(x, state, self.flat_weights(), True, self.num_layers, self.dropout, self.training,
                          False, self.batch_first)
        return result[0], result[1:]

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, variant={self.variant}"


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
        sizes = (config.embedding_dim, config.hidden_size)
        if config.architecture == "lstm" and config.variant != "standard":
            core = VariantLSTM(*sizes, config.num_layers, inner_dropout, config.variant)
        else:
            module = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[config.architecture]
            core = module(*sizes, num_layers=config.num_layers, dropout=inner_dropout, batch_first=True)
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

    def forward(self, ids: torch.Tensor, state=None):
        """ids (batch, time) -> logits (batch, time, vocab), and the state: (h, c) for an LSTM, h for
        a GRU or an RNN, each (layers, batch, hidden)."""
        x = self.embedding(ids)  # (batch, time, embedding)
        out, state = self.recurrent(x, state)  # (batch, time, hidden)
        return self.head(self.drop(out)), state

    def zero_state(self, batch_size: int = 1):
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        weight = self.head.weight
        if self.architecture == "lstm":
            return (weight.new_zeros(shape), weight.new_zeros(shape))
        return weight.new_zeros(shape)


CharLSTM = CharModel  # the name from before the GRU and the RNN; code that builds an LSTM model may keep it


def detach_state(state):
    """The state carried to the next chunk with its gradient cut: an (h, c) pair or a lone h."""
    if state is None:
        return None
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def initialise_gate_biases(core: nn.Module, config: ModelConfig) -> None:
    """Set the initial gate biases the config asks for: chrono initialisation, or a constant forget-gate
    bias (LSTM) / update-gate bias (GRU). Each value is split evenly over b_ih and b_hh."""
    hidden = config.hidden_size
    with torch.no_grad():
        for layer in range(config.num_layers):
            if config.chrono is not None:
                keep = torch.log(torch.empty(hidden).uniform_(1, max(config.chrono - 1, 1 + 1e-6)))
                _set_block(core, config, layer, "update" if config.architecture == "gru" else "f", keep)
                if config.architecture == "lstm" and "i" in VARIANTS[config.variant]:
                    _set_block(core, config, layer, "i", -keep)
            elif config.architecture == "lstm" and config.forget_bias is not None and "f" in VARIANTS[config.variant]:
                _set_block(core, config, layer, "f", torch.full((hidden,), config.forget_bias))
            elif config.architecture == "gru" and config.update_bias is not None:
                _set_block(core, config, layer, "update", torch.full((hidden,), config.update_bias))


def _set_block(core: nn.Module, config: ModelConfig, layer: int, gate: str, value: torch.Tensor) -> None:
    """Write ``value`` (hidden,) as the total bias of one gate block of ``layer``, half in each bias."""
    hidden = config.hidden_size
    if isinstance(core, VariantLSTM):
        for name in ("bias_ih", "bias_hh"):
            core.free_block(gate, name, layer).copy_(value / 2)
        return
    index = {"i": 0, "f": 1, "g": 2, "o": 3}[gate] if config.architecture == "lstm" else {"update": 1}[gate]
    for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
        getattr(core, name)[index * hidden:(index + 1) * hidden] = value / 2
