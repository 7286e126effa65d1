"""The seed tasks: a part-of-speech tagger (seed 004) and a (Bi)LSTM sentiment classifier (seeds 000, 001).

    training = TaggerTraining(tagger_preset("strong"), store=RunStore(folder))
    evaluation = training.run_to_end()            # accuracy, per-tag accuracy, confusion matrix
    run = lstm_core.load_run(training.run_dir)    # run.model is an LSTMTagger; run.config["words"], ...
    tagged = tag_words(run.model, tagger_vocabs(run.config), split_words("The dog ate the apple."))

:func:`build_model` rebuilds a saved task model from its run config; :func:`lstm_core.runs.load_run`
calls it for every run whose kind is not ``char``.
"""

from __future__ import annotations

import torch.nn as nn

from .baseline import BagOfWordsBaseline
from .classifier import ClassifierConfig, LSTMClassifier, ReadReview, read_review
from .data import (LabelledTexts, TaggedSentence, TaskDataError, TokenVocab, clean_review, load_imdb_sample,
                   load_treebank, read_conllu, read_labelled_csv, split_upload, tokenize)
from .tagger import LSTMTagger, TaggedWords, TaggerConfig, TaggerVocabs, split_words, tag_words
from .training import (CLASSIFIER_PRESETS, TAGGER_PRESETS, ClassifierTrainConfig, ClassifierTraining,
                       TaggerTrainConfig, TaggerTraining, classifier_preset, tagger_preset)

TASK_KINDS = ("tagger", "classifier")


def build_model(config: dict) -> nn.Module:
    """The untrained model a task run's config describes (``kind`` tagger or classifier)."""
    kind = config.get("kind")
    if kind == "tagger":
        return LSTMTagger(TaggerConfig(**config["model"]))
    if kind == "classifier":
        return LSTMClassifier(ClassifierConfig(**config["model"]))
    raise ValueError(f"unknown kind of run {kind!r}")


def tagger_vocabs(config: dict) -> TaggerVocabs:
    """The vocabularies saved with a tagger run."""
    chars = config.get("chars")
    return TaggerVocabs(TokenVocab(config["words"]), TokenVocab(chars) if chars else None, list(config["tags"]))


def classifier_vocab(config: dict) -> TokenVocab:
    """The word vocabulary saved with a classifier run."""
    return TokenVocab(config["words"])


__all__ = [
    "BagOfWordsBaseline", "ClassifierConfig", "LSTMClassifier", "ReadReview", "read_review", "LabelledTexts",
    "TaggedSentence", "TaskDataError", "TokenVocab", "clean_review", "load_imdb_sample", "load_treebank",
    "read_conllu", "read_labelled_csv", "split_upload", "tokenize", "LSTMTagger", "TaggedWords",
    "TaggerConfig", "TaggerVocabs", "split_words", "tag_words", "CLASSIFIER_PRESETS", "TAGGER_PRESETS",
    "ClassifierTrainConfig", "ClassifierTraining", "TaggerTrainConfig", "TaggerTraining",
    "classifier_preset", "tagger_preset", "TASK_KINDS", "build_model", "tagger_vocabs", "classifier_vocab",
]
