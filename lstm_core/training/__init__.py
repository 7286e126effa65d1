"""Training: the one loop, its settings, and each kind of training that runs in it.

    loop.py      Training: budget, learning-rate schedule, step, evaluation, checkpoints, resumption
    settings.py  TrainingSettings: the optimiser and schedule fields every training shares
    char.py      CharTraining and TrainConfig: a character model on a corpus, with its presets
    memory.py    MemoryTraining and MemoryConfig: recall a symbol after a delay of distractors
    tasks.py     TaggerTraining and ClassifierTraining: the seed tasks (their models: lstm_core.tasks)

Import what you need from its module; the names most callers need are here too::

    from lstm_core.training import CharTraining, preset_config
    CharTraining(preset_config("default", max_seconds=10)).run()
"""

from .char import PRESETS, CharTraining, TrainConfig, preset_config
from .loop import TrainingDiverged

__all__ = ["PRESETS", "CharTraining", "TrainConfig", "TrainingDiverged", "preset_config"]
