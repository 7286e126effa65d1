"""Training the seed tasks live: the tagger and the sentiment classifier, one step at a time.

:class:`TaggerTraining` and :class:`ClassifierTraining` are :class:`lstm_core.training.loop.Training` objects:
the one training loop (budget, step template, evaluation, checkpoints, resumption) runs them exactly
as it runs a character model, in the app's background trainer and on the command line. Each metrics
row has ``step``, ``epoch``, ``seconds``, ``train_loss``, ``valid_loss``, ``valid_accuracy``,
``items_per_sec`` (words or reviews per second), ``grad_norm`` and ``lr``. The run is saved in the
run store with kind ``tagger`` or ``classifier``; the final evaluation (accuracy per class and the
confusion matrix, the chosen epoch, and the task's baseline on the same split: the most frequent tag
of each word for the tagger, bag-of-words for the classifier) is written into its ``config.json``.

Early stopping: the last ``valid_share`` of the *training* data (a fixed slice) is held back.
With ``patience`` set, its accuracy is measured at the end of every epoch (``early_stop_loss`` and
``early_stop_accuracy`` on that epoch's last row); the weights of the best epoch are kept, training
stops after ``patience`` epochs without a better accuracy (or at the ``epochs`` / ``max_seconds``
budget), and the final evaluation restores the best weights first. The test or held-out data
(``valid_loss`` and ``valid_accuracy``, drawn as the curve) never chooses anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import ClassVar

import numpy as np
import torch
import torch.nn as nn

from ..gates import QUANTITIES
from ..limits import TASK_LIMITS, check_range
from ..run_kinds import RunKind, register
from ..runs import RunError, RunStore
from ..snapshots import MAX_PROBE_WORDS, PROBE_WORDS, slot_names
from ..trace import replay_recurrent
from .loop import Training, make_optimizer
from .settings import TrainingSettings
from ..tasks.baseline import (BagOfWordsBaseline, MostFrequentTagBaseline, shipped_baseline_accuracy,
                              treebank_baseline_accuracy)
from ..tasks.classifier import ClassifierConfig, LSTMClassifier, encode_batch
from ..tasks.data import (LabelledTexts, TaggedSentence, TokenVocab, load_imdb_sample, load_treebank, tokenize,
                   toy_sentences)
from ..tasks.tagger import LSTMTagger, TaggerConfig, TaggerVocabs, normalise_word, split_words


# the kinds of run these trainings save (lstm_core.run_kinds): how a saved run's model is rebuilt
TAGGER_RUNS = register(RunKind("tagger", LSTMTagger, TaggerConfig, loss_per="word"))
CLASSIFIER_RUNS = register(RunKind("classifier", LSTMClassifier, ClassifierConfig, loss_per="review"))


# -- settings and presets ----------------------------------------------------------------------
@dataclass
class TaskTrainConfig(TrainingSettings):
    """Optimisation settings shared by both tasks: :class:`TrainingSettings`' (with the defaults restated
    below), the optimiser, and early stopping."""

    limits: ClassVar[dict] = TASK_LIMITS

    optimizer: str = "adam"  # "adam" or "sgd"
    lr: float = 2e-3  # the shared settings whose defaults differ for the tasks
    grad_clip: float | None = 5.0
    max_seconds: float | None = None
    epochs: float | None = 50.0  # the most epochs; early stopping usually ends sooner
    valid_share: float = 0.1  # the last share of the training data, held back to choose the epoch
    patience: int | None = 10  # stop after this many epochs without a better accuracy there; None: never
    probe: str | None = None  # the sentence snapshots trace; None: one of the held-out data

    def __post_init__(self):
        super().__post_init__()
        if self.optimizer not in ("adam", "sgd"):
            raise ValueError(f"optimizer must be adam or sgd, got {self.optimizer!r}")
        if self.patience is not None and not self.valid_share:
            raise ValueError("early stopping (patience) needs a validation share of the training data")

    def check_probe(self, words: list[str]) -> None:
        """A typed probe must hold 1 to ``MAX_PROBE_WORDS`` words (as the task cuts it into words)."""
        if self.probe is not None and not 1 <= len(words) <= MAX_PROBE_WORDS:
            raise ValueError(f"the probe (the sentence the gate snapshots trace) must have 1 to {MAX_PROBE_WORDS} "
                             f"words, got {len(words)}")


@dataclass
class TaggerTrainConfig(TaskTrainConfig):
    data: str = "treebank"  # "treebank" (UD English Web Treebank) or "toy" (the seed's two sentences)
    embedding_dim: int = 100
    hidden_size: int = 128
    num_layers: int = 1
    bidirectional: bool = True
    char_features: bool = True
    dropout: float = 0.33
    word_dropout: float = 0.05  # share of training words shown as unknown, so <unk> is learned
    eval_sentences: int = 600  # test sentences read at each interval (all of them at the end)

    def __post_init__(self):
        super().__post_init__()
        if self.data not in ("treebank", "toy"):
            raise ValueError(f"tagger data must be treebank or toy, got {self.data!r}")
        check_range("word dropout", self.word_dropout, 0.0, 0.9)
        self.check_probe(split_words(self.probe or ""))


@dataclass
class ClassifierTrainConfig(TaskTrainConfig):
    data: str = "imdb"  # "imdb" (the shipped 2,000 reviews) or "upload" (texts passed in)
    embedding_dim: int = 128
    hidden_size: int = 256
    num_layers: int = 1
    bidirectional: bool = True
    readout: str = "last"
    dropout: float = 0.0
    min_word_count: int = 2
    max_vocab: int = 30_000
    max_tokens: int = 400  # reviews are cut to their first 400 words (training and evaluation alike)
    word_dropout: float = 0.0  # share of training words shown as unknown (a regulariser)

    def __post_init__(self):
        super().__post_init__()
        check_range("word dropout", self.word_dropout, 0.0, 0.9)
        check_range("minimum word count", self.min_word_count, 1, 1000)
        check_range("words per review", self.max_tokens, 5, 5000)
        self.check_probe(tokenize(self.probe or ""))


@dataclass
class TaskPreset:
    name: str
    label: str
    commentary: str
    settings: dict = field(default_factory=dict)


TAGGER_PRESETS = {p.name: p for p in [
    TaskPreset("seed-toy", "Seed: two sentences",
               "The seed notebook exactly: its two sentences (tags DET, NN, V), word embedding of 6, an LSTM "
               "of 6 units, a linear layer and log-softmax, NLLLoss and SGD at 0.1, one sentence per step, "
               "300 epochs. It learns them perfectly in about a second; it has seen nine words in all.",
               dict(data="toy", embedding_dim=6, hidden_size=6, bidirectional=False, char_features=False,
                    dropout=0.0, word_dropout=0.0, optimizer="sgd", lr=0.1, batch_size=1, grad_clip=None,
                    max_seconds=None, epochs=300, patience=None, eval_every_seconds=0.25)),
    TaskPreset("seed", "Seed model on the treebank",
               "The seed's model and optimiser (words only, one direction, SGD at 0.1, one sentence per step) "
               "on the treebank, with 32-dimensional embeddings and 64 units. It learns the frequent words "
               "quickly, but a word it never saw is a blank to it, and it cannot look ahead.",
               dict(embedding_dim=32, hidden_size=64, bidirectional=False, char_features=False, dropout=0.0,
                    word_dropout=0.05, optimizer="sgd", lr=0.1, batch_size=1, grad_clip=5.0, max_seconds=60.0,
                    patience=None)),
    TaskPreset("class", "Class: 30 seconds",
               "The strong tagger below, given 30 seconds of training instead of epochs (its rate decays "
               "over the 30 s, so a faster machine gives it more epochs). The best epoch on the held-back "
               "sentences is kept.",
               dict(schedule="cosine", max_seconds=30.0, epochs=None, valid_share=0.1, patience=10)),
    TaskPreset("strong", "Strong: characters + BiLSTM",
               "Each word is its embedding plus features of its characters (a convolution over letters: "
               "suffixes like -ly, -ing, capitals, digits), read by a bidirectional LSTM of 128 units per "
               "direction, with dropout and Adam (its rate decaying over 50 epochs). It tags unseen words from "
               "their spelling and uses the words on both sides. It trains until its accuracy on the last 200 "
               "training sentences (held back) has not improved for 10 epochs, and keeps its best epoch.",
               dict(schedule="cosine", epochs=50, valid_share=0.1, patience=10)),
]}

CLASSIFIER_PRESETS = {p.name: p for p in [
    TaskPreset("seed", "Seed: BiLSTM, last state",
               "The seed article's model: embedding 128, a bidirectional LSTM of 256 units per direction, a "
               "linear layer on the final states, Adam. Sequences are packed, so the final states are those of "
               "the real last word (the seed read the last padded position). With 1,600 reviews and no "
               "pretrained embeddings it learns slowly and overfits.",
               dict(embedding_dim=128, hidden_size=256, bidirectional=True, readout="last", lr=2e-3,
                    batch_size=32, dropout=0.3, max_seconds=180.0, patience=None, eval_every_seconds=10.0)),
    TaskPreset("unidirectional", "Seed, one direction",
               "The same model reading left to right only: the final state must carry the whole review's "
               "verdict through up to 400 words. Compare with the bidirectional one.",
               dict(embedding_dim=128, hidden_size=256, bidirectional=False, readout="last", lr=2e-3,
                    batch_size=32, dropout=0.3, max_seconds=180.0, patience=None, eval_every_seconds=10.0)),
    TaskPreset("class", "Class: 30 seconds",
               "The strong model below reading each review's first 200 words at a higher rate (5e-3), given "
               "30 seconds of training (the rate decays over the 30 s, so a faster machine gives it more "
               "epochs). Watch whether it leaves chance before its time is up, and how it compares with the "
               "bag-of-words baseline. The best epoch on the held-back reviews is kept.",
               dict(embedding_dim=64, hidden_size=64, bidirectional=True, readout="pool", lr=5e-3,
                    batch_size=32, dropout=0.5, weight_decay=2.0, schedule="cosine", word_dropout=0.25,
                    min_word_count=3, max_tokens=200, max_seconds=30.0, epochs=None, valid_share=0.15,
                    patience=5, eval_every_seconds=5.0)),
    TaskPreset("strong", "Strong: BiLSTM, pooled",
               "A smaller bidirectional LSTM (64 units per direction) whose outputs at every word are max- "
               "and mean-pooled, so a telling word anywhere in the review reaches the classifier directly, "
               "with dropout (a quarter of the words are hidden at each step), strong weight decay (2.0, "
               "decoupled: each step multiplies the weights by 1 - rate x 2.0 = 0.994 at first) and a learning "
               "rate that decays over 40 epochs. It trains until its accuracy on the last 240 training reviews "
               "(held back) has not improved for 5 epochs, and keeps its best epoch.",
               dict(embedding_dim=64, hidden_size=64, bidirectional=True, readout="pool", lr=3e-3,
                    batch_size=32, dropout=0.5, weight_decay=2.0, schedule="cosine", word_dropout=0.25,
                    min_word_count=3, max_seconds=None, epochs=40, valid_share=0.15, patience=5,
                    eval_every_seconds=10.0)),
]}


def tagger_preset(name: str, **overrides) -> TaggerTrainConfig:
    if name not in TAGGER_PRESETS:
        raise ValueError(f"unknown tagger preset {name!r}; choose one of {', '.join(TAGGER_PRESETS)}")
    return TaggerTrainConfig(**{**TAGGER_PRESETS[name].settings, **overrides})


def classifier_preset(name: str, **overrides) -> ClassifierTrainConfig:
    if name not in CLASSIFIER_PRESETS:
        raise ValueError(f"unknown classifier preset {name!r}; choose one of {', '.join(CLASSIFIER_PRESETS)}")
    return ClassifierTrainConfig(**{**CLASSIFIER_PRESETS[name].settings, **overrides})


# -- evaluation --------------------------------------------------------------------------------
def confusion_report(true: np.ndarray, predicted: np.ndarray, names: list[str]) -> dict:
    """Accuracy, per-class accuracy and the confusion matrix (rows: true class, columns: predicted)."""
    k = len(names)
    matrix = np.bincount(true * k + predicted, minlength=k * k).reshape(k, k)
    totals = matrix.sum(axis=1)
    per_class = {name: {"correct": int(matrix[j, j]), "total": int(totals[j]),
                        "accuracy": float(matrix[j, j] / totals[j]) if totals[j] else None}
                 for j, name in enumerate(names)}
    return {"accuracy": float(np.trace(matrix) / max(1, matrix.sum())), "items": int(matrix.sum()),
            "labels": list(names), "confusion": matrix.tolist(), "per_class": per_class}


def carve(count: int, config: TaskTrainConfig) -> int:
    """How many of ``count`` training items to train on; the rest (the last ``valid_share``) choose the
    epoch. Nothing is held back without early stopping."""
    share = config.valid_share if config.patience is not None else 0.0
    held = int(round(count * share))
    if share and not 0 < held < count:
        raise ValueError(f"a validation share of {share:g} of {count} training items leaves none to "
                         f"{'validate on' if held == 0 else 'train on'}; change the share or turn early stopping off")
    return count - held


# -- the shared training loop ------------------------------------------------------------------
class TaskTraining(Training):
    """What both tasks share: the optimiser, batches cut from groups of similar items, evaluations
    recorded with their accuracy, and the final evaluation saved with the run."""

    kind = "task"
    probe_token = "word"

    def __init__(self, config: TaskTrainConfig, model: nn.Module, store: RunStore | None, name: str):
        self.config = config
        self.model = model
        self.optimizer = make_optimizer(model, config.optimizer, config.lr, config.weight_decay)
        self.rng = np.random.default_rng(config.seed)
        self.evaluation: dict | None = None  # the final, full evaluation
        self.best_accuracy, self.best_epoch = -math.inf, 0  # early stopping: on the held-back training slice
        self.best_state: dict | None = None
        self.stopped_early = False
        self._batches: list[list[int]] = []
        self.steps_per_epoch = len(self.epoch_batches())
        self.start_bookkeeping(store, name)

    # subclasses provide: describe(), epoch_batches(), loss_on(batch indices) -> (loss, items), evaluate(),
    # and validate() -> (loss, accuracy) on the slice of the training data held back for early stopping
    def training_loss(self) -> tuple[torch.Tensor, int]:
        if not self._batches:
            self._batches = self.epoch_batches()
            if self.step_count:
                self.epoch += 1
        return self.loss_on(self._batches.pop())

    def batches_of(self, groups: list[list[int]]) -> list[list[int]]:
        """Shuffled batches, each cut from one group of similar items, in shuffled order.

        PyTorch's LSTM runs its backward pass an order of magnitude slower on CPU when the
        sequences of a batch differ in length, so batches hold sequences of one length.
        """
        size = self.config.batch_size
        batches = []
        for group in groups:
            group = [group[j] for j in self.rng.permutation(len(group))]
            batches.extend(group[k:k + size] for k in range(0, len(group), size))
        return [batches[j] for j in self.rng.permutation(len(batches))]

    def row_extras(self, loss_value: float) -> dict:
        return {"valid_accuracy": math.nan, "early_stop_loss": math.nan, "early_stop_accuracy": math.nan}

    # -- early stopping ------------------------------------------------------------------------
    def end_of_epoch(self, row: dict) -> None:
        """Accuracy on the held-back training slice; keep the best weights, stop when it stalls."""
        if self.config.patience is None:
            return
        loss, accuracy = self.validate()
        row["early_stop_loss"], row["early_stop_accuracy"] = loss, accuracy
        epoch = self.step_count // self.steps_per_epoch
        if accuracy > self.best_accuracy:  # a tie keeps the earlier epoch
            self.best_accuracy, self.best_epoch = accuracy, epoch
            self.best_state = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        elif epoch - self.best_epoch >= self.config.patience:
            self.stopped_early = True

    def finished(self) -> bool:
        return self.stopped_early or super().finished()

    def progress(self) -> float:
        return 1.0 if self.stopped_early else super().progress()

    def restore_best(self) -> dict:
        """Put back the best epoch's weights (before the final evaluation); returns what to report of it."""
        if self.best_state is None:
            return {}
        self.model.load_state_dict(self.best_state)
        return {"best_epoch": self.best_epoch, "early_stop_accuracy": self.best_accuracy,
                "epochs_trained": self.step_count / self.steps_per_epoch, "stopped_early": self.stopped_early}

    def record_accuracy(self, loss: float, accuracy: float) -> dict[str, float]:
        return self.record_evaluation({"valid_loss": loss, "valid_accuracy": accuracy})

    def config_updates(self) -> dict:
        """The final evaluation and its summary line, once measured."""
        if self.evaluation is None:
            return {}
        return {"evaluation": self.evaluation,
                "summary": f"accuracy {self.evaluation['accuracy']:.1%} on {self.evaluation['split']}"}

    def restart_data(self) -> None:
        self._batches = []

    # -- gate snapshots: the probe sentence, replayed word by word ---------------------------------
    probe_words: list[str]  # set by each task

    def probe_inputs(self):
        """What the LSTM reads on the probe: (inputs, token ids) as :func:`replay_recurrent` takes them."""
        raise NotImplementedError

    @torch.no_grad()
    def probe_trace(self) -> tuple[list[str], dict]:
        inputs, token_ids = self.probe_inputs()
        traced = replay_recurrent(self.model.lstm, inputs, token_ids=token_ids)
        return list(self.probe_words), {name: traced[name] for name in QUANTITIES}

    def probe_slots(self) -> list[str]:
        return slot_names(self.model.lstm.num_layers, self.model.lstm.bidirectional)


def tagger_baseline(config: dict) -> float | None:
    """The most-frequent-tag baseline of a saved tagger run: the one its training recorded, else (a run saved
    before it was) measured again on the same split; None for the toy data."""
    if config.get("baseline_accuracy") is not None:
        return config["baseline_accuracy"]
    train = TaggerTrainConfig.from_dict(config["train"])
    if train.data != "treebank":
        return None
    return treebank_baseline_accuracy(carve(len(load_treebank("train")), train))


def probe_sentence(sentences: list[TaggedSentence], shortest: int = 12, longest: int = 40) -> list[str]:
    """The tagger's default probe: the first sentence of ``shortest`` to ``longest`` words (else the longest
    one, cut to ``longest``)."""
    fitting = next((s.words for s in sentences if shortest <= len(s.words) <= longest), None)
    return list(fitting or max((s.words for s in sentences), key=len)[:longest])


# -- the tagger --------------------------------------------------------------------------------
class TaggerTraining(TaskTraining):
    """The part-of-speech tagger, trained on the treebank's dev split and tested on its test split.

    The last ``valid_share`` of the dev split's sentences are held back to choose the epoch.
    """

    kind = "tagger"
    item_name = "words"
    loss_per = TAGGER_RUNS.loss_per  # NLLLoss averages over the real words of a batch (padding is ignored)

    def __init__(self, config: TaggerTrainConfig, store: RunStore | None = None, name: str | None = None):
        torch.manual_seed(config.seed)
        if config.data == "toy":
            self.train_sentences = self.test_sentences = toy_sentences()
            self.split_name = "the seed's two sentences (trained on, as in the seed)"
        else:
            self.train_sentences, self.test_sentences = load_treebank("train"), load_treebank("test")
            self.split_name = f"the treebank's test split ({len(self.test_sentences):,} sentences)"
        cut = carve(len(self.train_sentences), config)
        self.train_sentences, self.valid_sentences = self.train_sentences[:cut], self.train_sentences[cut:]
        words = TokenVocab.build([[normalise_word(w) for w in s.words] for s in self.train_sentences])
        chars = TokenVocab.build([list(w) for s in self.train_sentences for w in s.words]) \
            if config.char_features else None
        tags = sorted({t for s in self.train_sentences + self.valid_sentences + self.test_sentences for t in s.tags})
        self.vocabs = TaggerVocabs(words, chars, tags)
        # the most frequent tag of each word, learned from the same sentences, scored on the same test split
        self.baseline_accuracy = treebank_baseline_accuracy(cut) if config.data == "treebank" else \
            MostFrequentTagBaseline.fit(self.train_sentences).accuracy(self.test_sentences)
        self.tag_index = {t: k for k, t in enumerate(tags)}
        self.probe_words = split_words(config.probe) if config.probe else probe_sentence(self.test_sentences)
        model = LSTMTagger(TaggerConfig(len(words), len(tags), config.embedding_dim, config.hidden_size,
                                        config.num_layers, config.bidirectional, len(chars) if chars else 0,
                                        dropout=config.dropout))
        self.loss_function = nn.NLLLoss(ignore_index=-100)
        super().__init__(config, model, store, name or f"tagger {config.hidden_size}"
                         f"{' bi' if config.bidirectional else ''}{' chars' if chars else ''}")

    @classmethod
    def from_saved(cls, config: dict) -> "TaggerTraining":
        return cls(TaggerTrainConfig.from_dict(config["train"]))

    def epoch_batches(self) -> list[list[int]]:
        """Batches of sentences of equal length (so that nothing is padded while training)."""
        by_length: dict[int, list[int]] = {}
        for j, sentence in enumerate(self.train_sentences):
            by_length.setdefault(len(sentence.words), []).append(j)
        return self.batches_of(list(by_length.values()))

    def describe(self) -> dict:
        return {"kind": self.kind, "train": self.config.to_dict(), "model": self.model.config.to_dict(),
                "words": self.vocabs.words.tokens, "chars": self.vocabs.chars.tokens if self.vocabs.chars else None,
                "tags": self.vocabs.tags, "data": self.split_name, "baseline_accuracy": self.baseline_accuracy,
                "early_stopping": f"the last {len(self.valid_sentences):,} training sentences",
                "parameters": sum(p.numel() for p in self.model.parameters())}

    def _tensors(self, sentences: list[TaggedSentence], word_dropout: float = 0.0):
        word_ids, lengths, char_ids = self.vocabs.encode_batch([s.words for s in sentences])
        if word_dropout:
            hide = torch.from_numpy(self.rng.random(word_ids.shape) < word_dropout) & (word_ids > 0)
            word_ids = word_ids.masked_fill(hide, 1)  # shown as <unk>; the characters still tell
        targets = torch.full(word_ids.shape, -100, dtype=torch.long)
        for b, s in enumerate(sentences):
            targets[b, :len(s.tags)] = torch.tensor([self.tag_index[t] for t in s.tags])
        return word_ids, lengths, char_ids, targets

    def loss_on(self, indices: list[int]):
        batch = [self.train_sentences[j] for j in indices]
        word_ids, lengths, char_ids, targets = self._tensors(batch, self.config.word_dropout)
        log_probs = self.model(word_ids, lengths, char_ids)
        loss = self.loss_function(log_probs.flatten(0, 1), targets.flatten())
        return loss, int(lengths.sum())

    def evaluate(self, full: bool = False) -> dict[str, float]:
        """Test loss and accuracy per word (a fixed slice while training; the whole split, with the best
        epoch's weights restored, when ``full``)."""
        best = self.restore_best() if full else {}
        sentences = self.test_sentences if full else self.test_sentences[:self.config.eval_sentences]
        loss, accuracy, true, predicted = self.measure(sentences)
        metrics = self.record_accuracy(loss, accuracy)
        if full:
            self.evaluation = {**confusion_report(true, predicted, self.vocabs.tags), "split": self.split_name,
                               "loss": loss, "step": self.step_count, "seconds": self.train_seconds,
                               "baseline_accuracy": self.baseline_accuracy, **best}
        return metrics

    def validate(self) -> tuple[float, float]:
        return self.measure(self.valid_sentences)[:2]

    def probe_inputs(self):
        word_ids, _, char_ids = self.vocabs.encode_batch([self.probe_words])
        return self.model.lstm_inputs(word_ids, char_ids)[0].detach().cpu().numpy(), None

    @torch.no_grad()
    def measure(self, sentences: list[TaggedSentence]):
        """Loss and accuracy per word on ``sentences``, with the true and predicted tags."""
        self.model.eval()
        total_loss, true, predicted = 0.0, [], []
        for start in range(0, len(sentences), 256):
            word_ids, lengths, char_ids, targets = self._tensors(sentences[start:start + 256])
            log_probs = self.model(word_ids, lengths, char_ids)
            real = targets != -100
            total_loss += nn.functional.nll_loss(log_probs[real], targets[real], reduction="sum").item()
            true.append(targets[real].numpy())
            predicted.append(log_probs[real].argmax(dim=1).numpy())
        true, predicted = np.concatenate(true), np.concatenate(predicted)
        return total_loss / len(true), float((true == predicted).mean()), true, predicted


# -- the classifier ----------------------------------------------------------------------------
class ClassifierTraining(TaskTraining):
    """The sentiment classifier on labelled texts (the shipped IMDB sample unless others are given).

    The last ``valid_share`` of the training texts are held back to choose the epoch.
    """

    kind = "classifier"
    item_name = "reviews"
    loss_per = CLASSIFIER_RUNS.loss_per

    def __init__(self, config: ClassifierTrainConfig, store: RunStore | None = None, name: str | None = None,
                 train: LabelledTexts | None = None, held_out: LabelledTexts | None = None,
                 data_name: str | None = None, with_baseline: bool = True):
        shipped = train is None or held_out is None
        if shipped:
            train, held_out = load_imdb_sample()
            data_name = "IMDB sample: first 1,600 reviews train, last 400 held out"
        else:  # texts passed in (an uploaded CSV): not kept with the run
            config = replace(config, data="upload")
        self.train_data, self.held_out = train, held_out
        self.data_name = data_name or f"{len(train):,} texts train, {len(held_out):,} held out"
        self.label_names = list(train.label_names)
        cut = carve(len(train), config)
        fit, valid = train.subset(0, cut), train.subset(cut)
        self.train_tokens = [tokenize(t)[:config.max_tokens] for t in fit.texts]
        self.valid_tokens = [tokenize(t)[:config.max_tokens] for t in valid.texts]
        self.held_out_tokens = [tokenize(t)[:config.max_tokens] for t in held_out.texts]
        self.probe_words = tokenize(config.probe) if config.probe else \
            next((t for t in self.held_out_tokens if len(t) >= 5), self.held_out_tokens[0])[:PROBE_WORDS]
        self.vocab = TokenVocab.build(self.train_tokens, min_freq=config.min_word_count, max_size=config.max_vocab)
        self.train_labels = torch.tensor(fit.labels, dtype=torch.long)
        self.valid_labels = torch.tensor(valid.labels, dtype=torch.long)
        self.held_out_labels = torch.tensor(held_out.labels, dtype=torch.long)
        self.baseline_accuracy = None
        if with_baseline and shipped:  # fitted once per process, not at every Start
            self.baseline_accuracy = shipped_baseline_accuracy()
        elif with_baseline:
            baseline = BagOfWordsBaseline.fit(train.texts, train.labels, self.label_names)
            self.baseline_accuracy = baseline.accuracy(held_out.texts, held_out.labels)
        torch.manual_seed(config.seed)  # after the baseline, which seeds torch itself: the seed sets the weights
        model = LSTMClassifier(ClassifierConfig(len(self.vocab), len(self.label_names), config.embedding_dim,
                                                config.hidden_size, config.num_layers, config.bidirectional,
                                                config.readout, config.dropout))
        super().__init__(config, model, store, name or f"classifier {config.hidden_size}"
                         f"{' bi' if config.bidirectional else ''} {config.readout}")

    @classmethod
    def from_saved(cls, config: dict) -> "ClassifierTraining":
        if config["train"].get("data", "imdb") != "imdb":
            raise RunError("This classifier trained on an uploaded CSV, which is not kept; it cannot be continued.")
        return cls(ClassifierTrainConfig.from_dict(config["train"]))

    def epoch_batches(self) -> list[list[int]]:
        """Batches of reviews of nearly equal length (sorted by length plus a little noise)."""
        noisy = np.array([len(t) for t in self.train_tokens]) + self.rng.uniform(0, 8, len(self.train_tokens))
        order = np.argsort(noisy).tolist()
        size = self.config.batch_size
        return self.batches_of([order[k:k + size] for k in range(0, len(order), size)])

    def describe(self) -> dict:
        return {"kind": self.kind, "train": self.config.to_dict(), "model": self.model.config.to_dict(),
                "words": self.vocab.tokens, "labels": self.label_names, "data": self.data_name,
                "baseline_accuracy": self.baseline_accuracy,
                "early_stopping": f"the last {len(self.valid_tokens):,} training texts",
                "parameters": sum(p.numel() for p in self.model.parameters())}

    def loss_on(self, indices: list[int]):
        # Reviews of a batch are cut to the shortest one's length (a few words at most, see epoch_batches).
        shortest = min(len(self.train_tokens[j]) for j in indices)
        ids, lengths = encode_batch(self.vocab, [self.train_tokens[j] for j in indices], max_tokens=shortest)
        if self.config.word_dropout:
            ids = ids.masked_fill(torch.from_numpy(self.rng.random(ids.shape) < self.config.word_dropout), 1)
        logits = self.model(ids, lengths)
        return nn.functional.cross_entropy(logits, self.train_labels[indices]), len(indices)

    def evaluate(self, full: bool = False) -> dict[str, float]:
        """Held-out loss and accuracy (always the whole held-out set; it is small). With ``full`` (at the
        end) the best epoch's weights are restored first and the evaluation is kept."""
        best = self.restore_best() if full else {}
        loss, accuracy, true, predicted = self.measure(self.held_out_tokens, self.held_out_labels)
        metrics = self.record_accuracy(loss, accuracy)
        if full:
            self.evaluation = {**confusion_report(true, predicted, self.label_names),
                               "split": f"{len(true):,} held-out texts", "loss": loss, "step": self.step_count,
                               "seconds": self.train_seconds, "baseline_accuracy": self.baseline_accuracy, **best}
        return metrics

    def validate(self) -> tuple[float, float]:
        return self.measure(self.valid_tokens, self.valid_labels)[:2]

    def probe_inputs(self):
        table = self.model.embedding.weight.detach().cpu().float().numpy()
        return table, np.array(self.vocab.encode(self.probe_words), dtype=np.int64)

    @torch.no_grad()
    def held_out_probabilities(self) -> np.ndarray:
        """(held-out texts, classes): the model's probabilities (after training, the kept epoch's weights);
        several seeds' are averaged by ``train-classifier --ensemble``."""
        self.model.eval()
        chunks = []
        for start in range(0, len(self.held_out_tokens), 64):
            ids, lengths = encode_batch(self.vocab, self.held_out_tokens[start:start + 64])
            chunks.append(torch.softmax(self.model(ids, lengths), dim=1).numpy())
        return np.concatenate(chunks)

    @torch.no_grad()
    def measure(self, token_lists: list[list[str]], labels: torch.Tensor):
        """Loss and accuracy on the given texts, with the true and predicted classes."""
        self.model.eval()
        order = np.argsort([len(t) for t in token_lists])  # similar lengths batch together
        total_loss, predicted = 0.0, np.empty(len(order), dtype=np.int64)
        for start in range(0, len(order), 64):
            chunk = order[start:start + 64]
            ids, lengths = encode_batch(self.vocab, [token_lists[j] for j in chunk])
            logits = self.model(ids, lengths)
            total_loss += nn.functional.cross_entropy(logits, labels[chunk], reduction="sum").item()
            predicted[chunk] = logits.argmax(dim=1).numpy()
        true = labels.numpy()
        return total_loss / len(true), float((true == predicted).mean()), true, predicted
