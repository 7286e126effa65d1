"""The seed tasks' data and models: a part-of-speech tagger (seed 004) and a (Bi)LSTM sentiment
classifier (seeds 000, 001). Their trainings live in :mod:`lstm_core.training.tasks`, above the run store::

    from lstm_core.training.tasks import TaggerTraining, tagger_preset
    training = TaggerTraining(tagger_preset("strong"), store=RunStore(folder))
    training.run()                                 # then training.evaluation: accuracy, per tag, confusion
    run = lstm_core.load_run(training.run_dir)    # run.model is an LSTMTagger; run.config["words"], ...
    tagged = tag_words(run.model, tagger_vocabs(run.config), split_words("The dog ate the apple."))

This package holds the tasks' data, vocabularies and models; their trainings (:mod:`lstm_core.training.tasks`)
register the "tagger" and "classifier" kinds of run (:mod:`lstm_core.run_kinds`), so that the dependency order
stays: task models < run kinds < runs < training (the loop, then the task trainings).
"""

from __future__ import annotations

from .baseline import BagOfWordsBaseline
from .classifier import ClassifierConfig, LSTMClassifier, ReadReview, read_review
from .data import (LabelledTexts, TaggedSentence, TaskDataError, TokenVocab, clean_review, load_imdb_sample,
                   load_treebank, read_conllu, read_labelled_csv, split_upload, tokenize)
from .tagger import LSTMTagger, TaggedWords, TaggerConfig, TaggerVocabs, split_words, tag_words

TASK_KINDS = ("tagger", "classifier")


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
    "TaggerConfig", "TaggerVocabs", "split_words", "tag_words", "TASK_KINDS", "tagger_vocabs", "classifier_vocab",
]
