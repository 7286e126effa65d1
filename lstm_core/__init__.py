"""LSTM Lab's core: corpora, models, exact gate tracing, training, sampling and the run store.

Everything the app shows is computed here; this package never imports Streamlit, so the command
line (``python -m lstm_core``), the tests and the benchmark use exactly what the pages use.

    run = lstm_core.load_run(path)            # .model, .vocab, .config, .metrics
    tr = lstm_core.trace(run.model, run.vocab, text)       # LSTM, GRU or RNN: tr.quantities names what it holds
    text = lstm_core.sample(run.model, run.vocab, prime, length, temperature=0.8)
"""

from .ablation import UnitAblation, unit_ablation
from .corpus import Corpus, CorpusError, Vocab, decode_upload, load_corpus
from .model import CharModel, ModelConfig
from .runs import PRETRAINED_DIR, Run, RunError, RunStore, export_zip, load_run
from .sampling import SampledChar, next_char_distribution, one_thread, sample, sample_stream, sample_with_interventions
from .gates import GATES, QUANTITIES, STATES
from .trace import Intervention, Trace, replay_recurrent, trace
from .gradients import GradientFlow, gradient_flow
from .training.loop import TrainingDiverged
from .training.char import PRESETS, CharTraining, TrainConfig, preset_config, starting_loss_line

# Every training registers its kind of run (lstm_core.run_kinds) when imported: all are imported here, so
# that load_run reads a run of any kind from any entry point (the command line, the app, the tests).
from .training.memory import MemoryTraining
from .training.tasks import ClassifierTraining, TaggerTraining

__all__ = [
    "Corpus", "CorpusError", "Vocab", "decode_upload", "load_corpus", "CharModel", "ModelConfig",
    "PRETRAINED_DIR", "Run", "RunError", "RunStore", "export_zip", "load_run", "SampledChar",
    "next_char_distribution", "one_thread", "sample", "sample_stream", "sample_with_interventions", "GATES", "QUANTITIES",
    "STATES", "Intervention",
    "Trace", "trace", "PRESETS", "CharTraining", "TrainConfig", "TrainingDiverged",
    "preset_config", "starting_loss_line", "UnitAblation", "unit_ablation", "GradientFlow", "gradient_flow", "replay_recurrent",
    "MemoryTraining", "TaggerTraining", "ClassifierTraining",
]
