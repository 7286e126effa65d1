"""The settings every training shares: the optimiser, the learning-rate schedule, the budget and the intervals.

:class:`TrainingSettings` holds them once; each training's config (a character model's
:class:`~lstm_core.training.char.TrainConfig`, the memory task's, the seed tasks') subclasses it, adds
its own fields, restates the defaults that differ for it, and names its table of ranges in
:mod:`lstm_core.limits`. A config saves as a flat dict of its fields (the run's ``config.json``) and
loads from one, ignoring names it does not know, so runs saved by older versions still load::

    @dataclass
    class MemoryConfig(TrainingSettings):
        limits: ClassVar[dict] = MEMORY_LIMITS
        delay: int = 100
        lr: float = 3e-3                 # a shared setting, with this training's default
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import ClassVar

from ..limits import OPTIONAL_SETTINGS, TRAINING_LIMITS, check_limits
from ..snapshots import EVERY_SECONDS

SCHEDULES = ("cosine", "constant")  # cosine decays the rate to 10% over the budget; constant keeps it


@dataclass
class TrainingSettings:
    """The optimiser and schedule settings of a training (what :class:`~lstm_core.training.loop.Training` reads)."""

    limits: ClassVar[dict] = TRAINING_LIMITS  # the ranges checked: a subclass names its own table

    lr: float = 1e-3  # the base learning rate (warmed up, then scheduled)
    weight_decay: float = 0.0  # decoupled, as AdamW applies it
    batch_size: int = 32
    grad_clip: float | None = 1.0  # the largest gradient norm; None: no clipping
    schedule: str = "constant"  # one of SCHEDULES
    warmup_steps: int = 0  # the rate rises linearly over these first steps
    max_seconds: float | None = 60.0  # training-time budget (evaluation excluded); None: epochs only
    epochs: float | None = None  # None: the time budget only
    seed: int = 0
    eval_every_seconds: float = 5.0  # training seconds between evaluations (and checkpoints)
    snapshot_every_seconds: float | None = EVERY_SECONDS  # gate snapshots (lstm_core.snapshots); None: off

    def __post_init__(self):
        self.check_settings()

    def check_settings(self) -> None:
        """Every setting within its range (``limits``), a budget of time or epochs (or both), a known schedule."""
        if self.max_seconds is None and self.epochs is None:
            raise ValueError("set a time budget (seconds) or a number of epochs")
        check_limits(self, self.limits, optional=OPTIONAL_SETTINGS)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")

    def to_dict(self) -> dict:
        """The settings as saved in a run's config.json."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict):
        """The settings saved in a run's config.json; keys this version does not know are ignored."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
