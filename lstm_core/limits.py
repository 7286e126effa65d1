"""Every bounded setting in one place: the ranges each table allows, and the check that reads them.

A table maps a setting to its (lowest, highest) value; the configs check their settings against it
and the pages offer the same ranges, so a number a page accepts is one the core accepts::

    check_limits(config, TASK_LIMITS, optional=OPTIONAL_SETTINGS)   # ValueError: "warmup steps must be ..."

This module imports nothing from the package: the models, the trainings and the explorer read it.
"""

from __future__ import annotations

MAX_HIDDEN = 1024
MAX_LAYERS = 4
MODEL_LIMITS = {  # a character model's settings (lstm_core.model.ModelConfig)
    "hidden_size": (1, MAX_HIDDEN),
    "num_layers": (1, MAX_LAYERS),
    "embedding_dim": (1, MAX_HIDDEN),
    "vocab_size": (1, 10_000),
    "dropout": (0.0, 0.9),
    "forget_bias": (-10.0, 10.0),
    "update_bias": (-10.0, 10.0),
    "chrono": (2, 100_000),
}
TRAINING_LIMITS = {  # the settings every training shares (lstm_core.training.settings.TrainingSettings)
    "lr": (1e-6, 10.0),
    "weight_decay": (0.0, 1.0),
    "grad_clip": (1e-3, 1e3),
    "batch_size": (1, 1024),
    "max_seconds": (1.0, 24 * 3600.0),
    "epochs": (0.01, 10_000.0),
    "seed": (0, 2**31 - 1),
    "warmup_steps": (0, 100_000),
    "snapshot_every_seconds": (0.01, 3600.0),
}
_TRAINED_MODEL_LIMITS = {name: span for name, span in MODEL_LIMITS.items() if name != "vocab_size"}  # the data sets it
CHAR_LIMITS = {  # a character training (TrainConfig), model settings included: the Train page's ranges
    **_TRAINED_MODEL_LIMITS,
    **TRAINING_LIMITS,
    "seq_len": (2, 2000),
    "eval_chars": (100, 10_000_000),
    "param_budget": (100, 50_000_000),
}
MEMORY_LIMITS = {  # a training on the memory task (MemoryConfig), model settings included
    **_TRAINED_MODEL_LIMITS,
    **TRAINING_LIMITS,
    "delay": (1, 1000),
    "valid_sequences": (64, 100_000),
    "param_budget": (100, 50_000_000),
}
TASK_LIMITS = {  # the settings both task trainings share (TaskTrainConfig)
    **TRAINING_LIMITS,
    # AdamW's decay is decoupled: each step shrinks the weights by lr x weight_decay (2.0 at 3e-3 is 0.6%), so a
    # task's range is wider than a character model's; 2.0 measured better than 1.0 on the IMDB sample
    "weight_decay": (0.0, 10.0),
    "valid_share": (0.0, 0.5),
    "patience": (1, 1000),
}
EXPLORER_LIMITS = {  # the explorer's largest sizes (only a highest value), so that it answers at once
    "input_size": 256, "hidden_size": 256, "num_layers": 6, "seq_len": 100, "batch_size": 32, "proj_size": 256}

OPTIONAL_SETTINGS = ("grad_clip", "max_seconds", "epochs", "embedding_dim", "forget_bias", "update_bias", "chrono",
                     "param_budget", "patience", "snapshot_every_seconds")  # None: off, or the default
SETTING_NAMES = {"num_layers": "layers", "embedding_dim": "embedding size", "vocab_size": "vocabulary size",
                 "lr": "learning rate", "seq_len": "sequence length", "grad_clip": "gradient clip",
                 "max_seconds": "time budget (seconds)", "forget_bias": "forget-gate bias",
                 "update_bias": "update-gate bias", "chrono": "chrono initialisation's T_max"}


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
