"""The task models: shapes, masking (padding never changes a prediction), exact gate replay, saving, training."""

import json
import re

import numpy as np
import pytest
import torch

import lstm_core
from lstm_core.cli import main
from lstm_core.tasks import (ClassifierConfig, LabelledTexts, LSTMClassifier, LSTMTagger, TaggerConfig, TaggerVocabs,
                             TokenVocab, classifier_vocab, read_review, split_words, tag_words, tagger_vocabs)
from lstm_core.training.tasks import (CLASSIFIER_PRESETS, TAGGER_PRESETS, ClassifierTraining, TaggerTraining,
                                      classifier_preset, tagger_baseline, tagger_preset)
from lstm_core.tasks.baseline import MostFrequentTagBaseline
from lstm_core.tasks.measured import measured_line, measured_presets
from lstm_core.tasks.data import TaggedSentence
from lstm_core.tasks.classifier import encode_batch

WORDS = TokenVocab(["the", "dog", "ate", "apple", "a", "cat"])
CHARS = TokenVocab(list("Thedogatplcsy."))


def tiny_tagger(chars=True, bidirectional=True) -> tuple[LSTMTagger, TaggerVocabs]:
    torch.manual_seed(0)
    vocabs = TaggerVocabs(WORDS, CHARS if chars else None, ["DET", "NOUN", "VERB"])
    config = TaggerConfig(len(WORDS), 3, 8, 6, bidirectional=bidirectional, char_vocab_size=len(CHARS) if chars else 0,
                          char_embedding_dim=5, char_channels=4)
    return LSTMTagger(config).eval(), vocabs


@pytest.mark.parametrize("chars, bidirectional", [(True, True), (False, False), (False, True)])
def test_tagger_shapes_and_padding_never_changes_a_tag(chars, bidirectional):
    model, vocabs = tiny_tagger(chars, bidirectional)
    short, long = "The dog ate".split(), "The cat ate a apple happily today .".split()
    word_ids, lengths, char_ids = vocabs.encode_batch([short, long])
    with torch.no_grad():
        batch = model(word_ids, lengths, char_ids)
        alone = model(*vocabs.encode_batch([short])[:2], vocabs.encode_batch([short])[2])
    assert batch.shape == (2, len(long), 3)
    assert torch.allclose(batch.exp().sum(dim=2), torch.ones(2, len(long)), atol=1e-5)
    assert torch.allclose(batch[0, :3], alone[0], atol=1e-6)  # padding and a longer neighbour change nothing


def test_tag_words_replays_the_lstm_exactly():
    model, vocabs = tiny_tagger()
    tagged = tag_words(model, vocabs, "The dog ate a apple .".split())
    head = model.hidden2tag
    logits = tagged.gates["output"] @ head.weight.detach().numpy().T + head.bias.detach().numpy()
    replayed = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(replayed / replayed.sum(1, keepdims=True), tagged.probs, atol=1e-5)
    assert tagged.gates["forget_gate"].shape == (2, 6, 6)  # (layers * directions, words, units)
    assert tagged.unknown == [False, False, False, False, False, True]


def test_split_words_separates_punctuation_and_contractions():
    assert split_words("I don't like it, really.") == ["I", "do", "n't", "like", "it", ",", "really", "."]


@pytest.mark.parametrize("readout, bidirectional", [("last", True), ("last", False), ("pool", True)])
def test_classifier_padding_never_changes_a_prediction(readout, bidirectional):
    torch.manual_seed(0)
    model = LSTMClassifier(ClassifierConfig(len(WORDS), 2, 8, 5, bidirectional=bidirectional, readout=readout)).eval()
    short, long = ["the", "dog"], ["a", "cat", "ate", "the", "apple", "the", "dog"]
    with torch.no_grad():
        batch = model(*encode_batch(WORDS, [short, long]))
        alone = model(*encode_batch(WORDS, [short]))
    assert batch.shape == (2, 2)
    assert torch.allclose(batch[0], alone[0], atol=1e-6)


def test_read_review_reads_every_prefix_and_the_gates():
    torch.manual_seed(0)
    model = LSTMClassifier(ClassifierConfig(len(WORDS), 2, 8, 5, readout="last")).eval()
    read = read_review(model, WORDS, ["negative", "positive"], "The dog ate the apple")
    assert read.prefix_probs.shape == (5, 2)
    with torch.no_grad():
        for t in (0, 2, 4):
            ids, lengths = encode_batch(WORDS, [read.words[:t + 1]])
            expected = torch.softmax(model(ids, lengths), dim=1)[0].numpy()
            np.testing.assert_allclose(read.prefix_probs[t], expected, atol=1e-5)
    # The classifier reads h_n; the replay's final states are the same numbers.
    h_n = np.concatenate([read.gates["h_n"][0], read.gates["h_n"][1]])
    logits = model.fc.weight.detach().numpy() @ h_n + model.fc.bias.detach().numpy()
    np.testing.assert_allclose(np.exp(logits) / np.exp(logits).sum(), read.probs, atol=1e-5)
    with pytest.raises(ValueError, match="nothing to classify"):
        read_review(model, WORDS, ["negative", "positive"], "<br /> ...")


def test_seed_toy_tagger_learns_the_seed_sentences_and_saves_a_loadable_run(tmp_path):
    store = lstm_core.RunStore(tmp_path)
    training = TaggerTraining(tagger_preset("seed-toy"), store=store)
    assert training.run()
    evaluation = training.evaluation
    assert evaluation["accuracy"] == 1.0 and training.step_count == 600
    run = lstm_core.load_run(training.run_dir)
    assert isinstance(run.model, LSTMTagger) and run.config["evaluation"]["accuracy"] == 1.0
    tagged = tag_words(run.model, tagger_vocabs(run.config), "The dog ate the apple".split())
    assert tagged.tags == ["DET", "NN", "V", "DET", "NN"]
    assert store.list().iloc[0]["kind"] == "tagger"


def test_the_most_frequent_tag_baseline_looks_each_word_up_and_guesses_the_commonest_tag_for_the_rest():
    train = [TaggedSentence(["Time", "flies", "fast"], ["NOUN", "VERB", "ADV"]),
             TaggedSentence(["time", "flies", "time"], ["NOUN", "NOUN", "NOUN"]),
             TaggedSentence(["flies", "fly"], ["VERB", "VERB"])]
    baseline = MostFrequentTagBaseline.fit(train)
    assert baseline.tag(["TIME", "flies", "cats"]) == ["NOUN", "VERB", "NOUN"]  # flies: VERB 2, NOUN 1; cats unseen
    test = [TaggedSentence(["time", "flies", "swiftly"], ["NOUN", "VERB", "ADV"])]
    assert baseline.accuracy(test) == pytest.approx(2 / 3)


def test_a_tagger_training_records_its_baseline_on_the_same_split(tmp_path):
    training = TaggerTraining(tagger_preset("class"), store=lstm_core.RunStore(tmp_path))
    expected = MostFrequentTagBaseline.fit(training.train_sentences).accuracy(training.test_sentences)
    assert training.baseline_accuracy == pytest.approx(expected) and 0.7 < expected < 0.9
    training.evaluate(full=True)
    assert training.evaluation["baseline_accuracy"] == pytest.approx(expected)
    saved = training.describe()
    assert tagger_baseline(saved) == pytest.approx(expected)
    older = {**saved, "baseline_accuracy": None}  # a run saved before the baseline was recorded: measured again
    assert tagger_baseline(older) == pytest.approx(expected)


def test_a_short_tagger_training_on_the_treebank_beats_the_majority_tag():
    training = TaggerTraining(tagger_preset("strong", max_seconds=None, epochs=0.5, schedule="constant",
                                              eval_sentences=150))
    losses = [training.step()["train_loss"] for _ in range(training.total_steps)]
    accuracy = training.evaluate()["valid_accuracy"]
    assert accuracy > 0.4  # NOUN, the commonest tag, is 17% of the words
    assert np.mean(losses[-5:]) < np.mean(losses[:5])
    row = training.rows[-1]
    assert {"train_loss", "valid_loss", "valid_accuracy", "items_per_sec", "grad_norm", "lr"} <= set(row)


def synthetic_reviews(count: int, seed: int) -> LabelledTexts:
    """Reviews whose label is carried by one word among neutral ones, at a random position."""
    rng = np.random.default_rng(seed)
    neutral = "the film story plot actor scene music camera time script".split()
    texts, labels = [], []
    for _ in range(count):
        label = int(rng.integers(2))
        words = list(rng.choice(neutral, int(rng.integers(4, 12))))
        words.insert(int(rng.integers(len(words) + 1)), ["awful", "wonderful"][label])
        texts.append(" ".join(words))
        labels.append(label)
    return LabelledTexts(texts, labels, ["negative", "positive"])


def test_a_short_classifier_training_beats_chance_and_saves_its_evaluation(tmp_path):
    config = classifier_preset("strong", max_seconds=None, epochs=6, batch_size=16, eval_every_seconds=1000)
    training = ClassifierTraining(config, store=lstm_core.RunStore(tmp_path), train=synthetic_reviews(240, 0),
                                  held_out=synthetic_reviews(60, 1), data_name="synthetic")
    assert training.baseline_accuracy > 0.9
    training.run()
    evaluation = training.evaluation
    assert evaluation["accuracy"] > 0.8
    assert np.asarray(evaluation["confusion"]).sum() == 60
    run = lstm_core.load_run(training.run_dir)
    read = read_review(run.model, classifier_vocab(run.config), run.config["labels"], "the plot was wonderful")
    assert read.label_names[int(read.probs.argmax())] == "positive"


def test_early_stopping_holds_back_the_end_of_the_training_data_and_keeps_the_best_epoch():
    config = classifier_preset("strong", epochs=30, patience=2, valid_share=0.25, batch_size=16,
                               eval_every_seconds=1000)
    training = ClassifierTraining(config, train=synthetic_reviews(200, 0), held_out=synthetic_reviews(60, 1),
                                  data_name="synthetic", with_baseline=False)
    assert (len(training.train_tokens), len(training.valid_tokens)) == (150, 50)  # the last quarter is held back
    assert training.run()
    evaluation = training.evaluation
    checked = [r for r in training.rows if not np.isnan(r["early_stop_accuracy"])]
    assert len(checked) == round(training.step_count / training.steps_per_epoch)  # once per epoch
    best = max(checked, key=lambda r: r["early_stop_accuracy"])
    assert evaluation["best_epoch"] == round(best["epoch"])
    assert evaluation["early_stop_accuracy"] == best["early_stop_accuracy"]
    assert training.stopped_early and evaluation["epochs_trained"] < 30 and training.progress() == 1.0
    assert training.validate()[1] == best["early_stop_accuracy"]  # the best epoch's weights were put back
    assert np.asarray(evaluation["confusion"]).sum() == 60  # then measured on the held-out texts only


def test_early_stopping_settings_are_checked():
    with pytest.raises(ValueError, match="needs a validation share"):
        classifier_preset("strong", valid_share=0.0)
    with pytest.raises(ValueError, match="valid share"):
        classifier_preset("strong", valid_share=0.9)
    with pytest.raises(ValueError, match="leaves none to validate on"):
        ClassifierTraining(classifier_preset("strong", valid_share=0.01), train=synthetic_reviews(20, 0),
                           held_out=synthetic_reviews(10, 1), with_baseline=False)
    assert tagger_preset("seed-toy").patience is None  # two sentences: nothing to hold back
    assert classifier_preset("strong").max_seconds is None and tagger_preset("strong").max_seconds is None
    assert classifier_preset("strong").weight_decay == 2.0  # decoupled decay: lr x 2.0 per step


@pytest.mark.parametrize("preset", [tagger_preset, classifier_preset])
@pytest.mark.parametrize("warmup", [-1, 10**6])
def test_a_task_trainings_warmup_is_checked_against_its_range(preset, warmup):
    """A warm-up outside 0..100,000 steps is refused with the setting's name, as a character training's is
    (a negative one was silently ignored, and a million steps kept the rate near zero for good)."""
    with pytest.raises(ValueError, match=f"warmup steps must be between 0 and 100000, got {warmup}"):
        preset("strong", warmup_steps=warmup)
    assert preset("strong", warmup_steps=100_000).warmup_steps == 100_000


def test_command_line_prints_the_accuracy_last(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("lstm_core.execution.background._threads_configured", True)  # keep the tests' thread setting
    assert main(["train-tagger", "--preset", "seed-toy", "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "accuracy=1.0000"
    assert main(["train-classifier", "--csv", str(tmp_path / "missing.csv"), "--out", str(tmp_path)]) == 2
    assert "Cannot read missing.csv" in capsys.readouterr().err


def test_train_classifier_averages_several_seeds_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("lstm_core.execution.background._threads_configured", True)
    data = synthetic_reviews(200, 0)
    csv = tmp_path / "reviews.csv"
    csv.write_text("text,label\n" + "".join(f"{t},{data.label_names[y]}\n" for t, y in zip(data.texts, data.labels)))
    assert main(["train-classifier", "--csv", str(csv), "--max-seconds", "1", "--out", str(tmp_path / "runs")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines if line.startswith("seed ")] == ["seed 0", "seed 1", "seed 2"]
    assert lines[-2].startswith("the 3 models' averaged probabilities") and lines[-1].startswith("accuracy=")
    assert len(lstm_core.RunStore(tmp_path / "runs").list()) == 3, "each model is saved"
    assert main(["train-classifier", "--csv", str(csv), "--ensemble", "0", "--out", str(tmp_path / "runs")]) == 2


def test_held_out_probabilities_are_what_the_evaluation_scored():
    training = ClassifierTraining(classifier_preset("strong", max_seconds=None, epochs=1, patience=None),
                                  train=synthetic_reviews(120, 0), held_out=synthetic_reviews(40, 1),
                                  data_name="synthetic", with_baseline=False)
    training.run()
    probs = training.held_out_probabilities()
    assert probs.shape == (40, 2) and np.allclose(probs.sum(axis=1), 1, atol=1e-5)
    accuracy = float((probs.argmax(axis=1) == training.held_out_labels.numpy()).mean())
    assert accuracy == pytest.approx(training.evaluation["accuracy"])


@pytest.mark.slow
def test_the_shipped_samples_baseline_is_fitted_once_per_process_and_is_the_fitted_models_score():
    from lstm_core.tasks.baseline import BagOfWordsBaseline, shipped_baseline_accuracy
    from lstm_core.tasks.data import load_imdb_sample

    shipped_baseline_accuracy.cache_clear()
    train, held_out = load_imdb_sample()
    fitted = BagOfWordsBaseline.fit(train.texts, train.labels, train.label_names).accuracy(held_out.texts,
                                                                                            held_out.labels)
    config = classifier_preset("class", hidden_size=8, embedding_dim=8)
    scores = [ClassifierTraining(config).baseline_accuracy for _ in range(2)]
    assert scores == [fitted, fitted]
    assert shipped_baseline_accuracy.cache_info().misses == 1, "a second Start does not fit it again"


@pytest.mark.parametrize("preset", [*TAGGER_PRESETS.values(), *CLASSIFIER_PRESETS.values()], ids=lambda p: p.label)
def test_no_preset_text_promises_an_accuracy(preset):
    """A number a preset reaches is quoted from what the project measured (data/measured), never written."""
    assert not re.search(r"\d\s*%", preset.commentary), preset.commentary


def test_a_measured_preset_is_quoted_with_its_steps_machine_and_command(tmp_path):
    path = tmp_path / "task_presets.json"
    assert measured_line("tagger", "class", "most-frequent-tag baseline", path) == "", "nothing measured: no number"
    path.write_text(json.dumps({"tagger/class": {
        "runs": [{"seed": 0, "accuracy": 0.80, "steps": 100, "epochs": 2.0, "seconds": 30.0},
                 {"seed": 1, "accuracy": 0.84, "steps": 120, "epochs": 2.4, "seconds": 30.2}],
        "baseline_accuracy": 0.823, "machine": "2 CPU cores", "date": "2026-12-07",
        "command": "python scripts/measure_presets.py tagger/class --seeds 0 1"}}))
    line = measured_line("tagger", "class", "most-frequent-tag baseline", path)
    assert line.startswith("Measured: 82.0% (seeds 0, 1: 80.0% to 84.0%) against the most-frequent-tag baseline 82.3%")
    assert "110 steps" in line and "2 CPU cores" in line and "scripts/measure_presets.py tagger/class" in line
    assert measured_line("sentiment", "class", "bag-of-words baseline", path) == ""


def test_every_shipped_measurement_is_of_a_preset_and_names_its_command():
    presets = {"tagger": TAGGER_PRESETS, "sentiment": CLASSIFIER_PRESETS}
    for key, result in measured_presets().items():
        task, preset = key.split("/")
        assert preset in presets[task], key
        assert result["command"].startswith(f"python scripts/measure_presets.py {key} --seeds")
        assert all({"seed", "accuracy", "steps", "epochs", "seconds"} <= set(run) for run in result["runs"])
        assert measured_line(task, preset, "baseline").startswith("Measured: ")
