"""The memory task: what its sequences hold, what chance and the n-gram score, and a training that learns it."""

import math

import numpy as np
import pytest
import torch

from lstm_core import RunStore, load_run
from lstm_core.training.memory import (CHANCE, CUE, DISTRACTORS, SYMBOLS, VOCAB, MemoryConfig, MemoryTraining, memory_baseline,
                              memory_batch, memory_positions, memory_stream, memory_texts)


def test_each_sequence_is_a_symbol_distractors_a_cue_and_its_answer():
    ids, answers = memory_batch(500, 30, torch.Generator().manual_seed(0))
    assert ids.shape == (500, 32) and answers.shape == (500,)
    texts = [VOCAB.decode(row) for row in ids.tolist()]
    assert all(t[0] in SYMBOLS and set(t[1:-1]) <= set(DISTRACTORS) and t[-1] == CUE for t in texts)
    assert [t[0] for t in texts] == [VOCAB.chars[a] for a in answers.tolist()]  # the answer is the first symbol
    counts = np.bincount([SYMBOLS.index(t[0]) for t in texts], minlength=8)
    assert counts.min() > 30 and CHANCE == 1 / 8  # all eight symbols, about equally often
    again, _ = memory_batch(500, 30, torch.Generator().manual_seed(0))
    assert torch.equal(ids, again)  # a seed fixes the draw
    assert memory_texts(2, 5, seed=4) == memory_texts(2, 5, seed=4) and memory_texts(1, 5)[0][-2] == CUE


def test_the_stream_puts_answers_where_memory_positions_says():
    stream = memory_stream(6, 9, seed=2)
    lines = stream.splitlines()
    assert len(lines) == 6 and all(len(line) == 9 + 3 for line in lines)
    assert [stream[p] for p in memory_positions(9, 6)] == [line[0] for line in lines]


def test_the_n_gram_solves_short_delays_and_cannot_bridge_long_ones():
    assert memory_baseline(1, order=6, sequences=2000) < 0.05  # the symbol is inside its 5-character context
    far = memory_baseline(10, order=6, sequences=2000)
    assert far > math.log(8) - 0.05  # out of reach: no better than guessing among 8 (sparse contexts: worse)


def test_a_training_learns_a_short_delay_and_saves_a_memory_run(tmp_path):
    config = MemoryConfig(delay=3, architecture="lstm", max_seconds=None, epochs=2, seed=1, valid_sequences=256,
                          eval_every_seconds=1000)
    training = MemoryTraining(config, store=RunStore(tmp_path))
    assert training.run() is True
    assert training.final_accuracy > 0.9  # far above chance (12.5 %)
    run = load_run(training.run_dir)
    assert run.config["kind"] == "memory" and run.vocab.chars == VOCAB.chars
    assert "recall accuracy" in run.config["summary"]
    assert run.metrics["valid_accuracy"].dropna().iloc[-1] == pytest.approx(training.final_accuracy)
    resumed = MemoryTraining.resume(training.run_dir, RunStore(tmp_path))
    assert resumed.step_count == training.step_count


def test_bad_memory_settings_are_refused():
    with pytest.raises(ValueError, match="delay must be between 1 and 1000"):
        MemoryConfig(delay=0)
    with pytest.raises(ValueError, match="architecture"):
        MemoryConfig(architecture="cnn")
