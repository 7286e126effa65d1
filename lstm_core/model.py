"""The character-level language model: embedding -> torch.nn.LSTM -> linear head.

This is the seed notebook's model (``003``), configured by a dataclass. Training always uses the
fused ``torch.nn.LSTM``; the gates are read by replaying its weights in :mod:`lstm_core.trace`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn

MAX_HIDDEN = 1024
MAX_LAYERS = 4
MODEL_LIMITS = {  # setting -> (lowest, highest): checked here, offered as the Train page's ranges
    "hidden_size": (1, MAX_HIDDEN),
    "num_layers": (1, MAX_LAYERS),
    "embedding_dim": (1, MAX_HIDDEN),
    "vocab_size": (1, 10_000),
    "dropout": (0.0, 0.9),
    "forget_bias": (-10.0, 10.0),
}


@dataclass
class ModelConfig:
    vocab_size: int
    hidden_size: int = 128
    num_layers: int = 1
    embedding_dim: int | None = None  # None: same as hidden_size, as in the seed notebook
    dropout: float = 0.0  # between LSTM layers (and before the head), training only
    forget_bias: float | None = None  # None keeps PyTorch's initialisation of the forget-gate bias

    def __post_init__(self):
        if self.embedding_dim is None:
            self.embedding_dim = self.hidden_size
        check_limits(self, MODEL_LIMITS, optional=("forget_bias",))

    def to_dict(self) -> dict:
        return asdict(self)


def check_range(name: str, value, low, high) -> None:
    """Raise a ValueError a user can read when a setting is out of its range."""
    if value is None or not (low <= value <= high) or value != value:
        raise ValueError(f"{name} must be between {low} and {high}, got {value!r}")


def check_limits(settings, limits: dict, optional=()) -> None:
    """Check every setting named in ``limits`` (``optional`` ones may also be None); the message
    names the setting as a user reads it ("hidden size")."""
    for name, (low, high) in limits.items():
        value = getattr(settings, name)
        if value is None and name in optional:
            continue
        check_range(SETTING_NAMES.get(name, name.replace("_", " ")), value, low, high)


SETTING_NAMES = {"num_layers": "layers", "embedding_dim": "embedding size", "vocab_size": "vocabulary size",
                 "lr": "learning rate", "seq_len": "sequence length", "grad_clip": "gradient clip",
                 "max_seconds": "time budget (seconds)", "forget_bias": "forget-gate bias"}


class CharLSTM(nn.Module):
    """Predicts the next character at every position of a batch of character sequences."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embedding_dim)
        self.lstm = nn.LSTM(config.embedding_dim, config.hidden_size, num_layers=config.num_layers,
                            dropout=config.dropout if config.num_layers > 1 else 0.0, batch_first=True)
        self.drop = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_size, config.vocab_size)
        if config.forget_bias is not None:
            set_forget_bias(self.lstm, config.forget_bias)

    def forward(self, ids: torch.Tensor, state=None):
        """ids (batch, time) -> logits (batch, time, vocab), (h, c) each (layers, batch, hidden)."""
        x = self.embedding(ids)  # (batch, time, embedding)
        out, state = self.lstm(x, state)  # (batch, time, hidden)
        return self.head(self.drop(out)), state

    def zero_state(self, batch_size: int = 1):
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        weight = self.head.weight
        return (weight.new_zeros(shape), weight.new_zeros(shape))


def set_forget_bias(lstm: nn.LSTM, value: float) -> None:
    """Set the forget-gate bias of every layer to ``value`` (split evenly over b_ih and b_hh).

    PyTorch packs the gates as i|f|g|o, so the forget gate is the second quarter.
    """
    hidden = lstm.hidden_size
    with torch.no_grad():
        for layer in range(lstm.num_layers):
            for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
                getattr(lstm, name)[hidden:2 * hidden] = value / 2
