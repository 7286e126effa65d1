"""Training a character model: settings, presets, the batch streams, learning, seeding, divergence, saving."""

import json
import math

import pytest
import torch

from lstm_core import (PRESETS, CharTraining, Corpus, RunError, RunStore, TrainConfig, TrainingDiverged, load_corpus, load_run,
                       preset_config)
from lstm_core.model import CharModel, ModelConfig
from lstm_core.runs import PRETRAINED_DIR, read_config
from lstm_core.training.char import evaluate_loss, stream_batches
from lstm_core.training.memory import MemoryConfig
from lstm_core.training.settings import TrainingSettings
from lstm_core.training.tasks import classifier_preset, tagger_preset


@pytest.fixture(scope="module")
def seed_corpus():
    return load_corpus("seed")


def tiny_config(**overrides) -> TrainConfig:
    """A model small enough to take dozens of steps per second: 32 units, 16 streams of 32 characters."""
    settings = dict(corpus="seed", hidden_size=32, embedding_dim=16, batch_size=16, seq_len=32, lr=1e-2,
                    warmup_steps=0, schedule="constant", max_seconds=None, epochs=0.2, eval_chars=2_000,
                    preview_every_seconds=1e9)
    return preset_config("default", **{**settings, **overrides})


# -- settings and presets ------------------------------------------------------------------------

@pytest.mark.parametrize("setting,value,message", [
    ("seq_len", 1, "sequence length must be between 2 and 2000, got 1"),
    ("seq_len", 5000, "sequence length"),
    ("batch_size", 0, "batch size must be between 1 and 1024, got 0"),
    ("lr", 0.0, "learning rate must be between"),
    ("lr", -1e-3, "learning rate"),
    ("lr", float("nan"), "learning rate"),
    ("weight_decay", 2.0, "weight decay"),
    ("grad_clip", 0.0, "gradient clip"),
    ("max_seconds", 0.5, r"time budget \(seconds\) must be between 1"),
    ("epochs", 0.0, "epochs must be between"),
    ("schedule", "linear", "schedule must be 'cosine' or 'constant', got 'linear'"),
    ("hidden_size", 0, "hidden size must be between 1 and 1024, got 0"),
    ("hidden_size", 4096, "hidden size"),
    ("num_layers", 9, "layers must be between 1 and 4"),
    ("embedding_dim", 0, "embedding size"),
    ("dropout", 0.95, "dropout must be between"),
])
def test_train_config_refuses_out_of_range_settings(setting, value, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{setting: value})


def test_train_config_needs_a_budget():
    with pytest.raises(ValueError, match="set a time budget"):
        TrainConfig(max_seconds=None, epochs=None)


def test_train_config_round_trips_through_a_dict():
    config = tiny_config(seed=7)
    assert TrainConfig.from_dict({**config.to_dict(), "unknown_setting": 1}) == config


@pytest.mark.parametrize("config", [TrainConfig(), MemoryConfig(), tagger_preset("strong"), classifier_preset("class")],
                         ids=["char", "memory", "tagger", "classifier"])
def test_every_training_config_is_one_settings_layer_and_round_trips(config):
    """The shared optimiser settings are declared once (TrainingSettings), and each kind's own defaults stay."""
    assert isinstance(config, TrainingSettings)
    assert type(config).from_dict({**config.to_dict(), "unknown_setting": 1}) == config
    with pytest.raises(ValueError, match="schedule must be 'cosine' or 'constant'"):
        type(config).from_dict({**config.to_dict(), "schedule": "linear"})


def test_the_shipped_runs_settings_load_unchanged():
    saved = read_config(PRETRAINED_DIR)["train"]
    assert TrainConfig.from_dict(saved).to_dict() == saved


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_builds_a_config(name):
    preset = PRESETS[name]
    config = preset_config(name)
    assert isinstance(config, TrainConfig) and preset.commentary
    for key, value in preset.settings.items():
        assert getattr(config, key) == value, key
    assert preset_config(name, seed=3).seed == 3


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset 'fastest'; choose one of default, seed-exact"):
        preset_config("fastest")


def test_seed_exact_preset_is_the_notebooks_setup(seed_corpus):
    config = preset_config("seed-exact")
    assert (config.corpus, config.batch_size, config.seq_len, config.hidden_size) == ("seed", 1, 100, 128)
    assert (config.lr, config.epochs, config.max_seconds) == (1e-3, 20, None)
    assert config.schedule == "constant" and config.warmup_steps == 0 and config.grad_clip is None
    assert config.num_layers == 1 and config.dropout == 0.0 and config.forget_bias is None
    training = CharTraining(config, corpus=seed_corpus)
    assert isinstance(training.optimizer, torch.optim.AdamW)
    assert training.optimizer.param_groups[0]["lr"] == 1e-3
    assert training.model.config.embedding_dim == 128  # the embedding is as wide as the hidden state
    assert training.steps_per_epoch == 899  # 90,000 training characters in windows of 100
    assert training.total_steps == 20 * 899
    assert training.current_lr() == 1e-3


# -- the batch streams ---------------------------------------------------------------------------

def test_stream_batches_cut_parallel_contiguous_streams():
    ids = torch.arange(1000)
    chunks = list(stream_batches(ids, batch_size=4, seq_len=10))
    assert len(chunks) == 24  # 999 usable positions -> 4 streams of 249 -> 24 chunks of 10
    for x, y in chunks:
        assert x.shape == y.shape == (4, 10)
        assert torch.equal(y, x + 1)  # the target is the next character
    streams = torch.cat([x for x, _ in chunks], dim=1)  # (4, 240)
    for b in range(4):
        assert torch.equal(streams[b], torch.arange(b * 249, b * 249 + 240))  # chunk k continues chunk k-1


def test_stream_batches_offset_and_too_short_text():
    x, _ = next(stream_batches(torch.arange(100), batch_size=2, seq_len=5, offset=3))
    assert x[:, 0].tolist() == [3, 3 + 48]
    with pytest.raises(ValueError, match="too short for 4 streams of 30 characters"):
        next(stream_batches(torch.arange(100), batch_size=4, seq_len=30))


def test_state_carried_across_chunks_is_the_streams_state():
    torch.manual_seed(0)
    model = CharModel(ModelConfig(50, hidden_size=12, num_layers=2)).eval()
    ids = torch.randint(0, 50, (401,))
    with torch.no_grad():
        state, pieces = None, []
        for x, _ in stream_batches(ids, batch_size=2, seq_len=25):
            logits, state = model(x, state)
            pieces.append(logits)
        whole = torch.stack([ids[:200], ids[200:400]])  # the two streams read in one go
        expected, _ = model(whole)
    assert torch.allclose(torch.cat(pieces, dim=1), expected, atol=1e-5)


# -- learning --------------------------------------------------------------------------------------

def test_tiny_training_reduces_the_loss(seed_corpus):
    training = CharTraining(tiny_config(), corpus=seed_corpus)
    before = training.evaluate()["valid_loss"]
    assert before == pytest.approx(math.log(len(seed_corpus.vocab)), abs=0.3)  # untrained: about uniform
    while not training.finished():
        training.step()
    after = training.evaluate()["valid_loss"]
    assert training.step_count == training.total_steps == 35
    assert after < before - 0.6
    rows = training.metrics()
    assert rows["train_loss"].tail(5).mean() < rows["train_loss"].head(5).mean() - 0.6
    assert rows["train_bpc"].iloc[-1] == pytest.approx(rows["train_loss"].iloc[-1] / math.log(2))
    assert rows["valid_loss"].iloc[-1] == after
    assert (rows["grad_norm"] > 0).all() and (rows["chars_per_sec"] > 0).all()
    assert training.progress() == 1.0


def test_same_seed_same_losses_other_seed_other_losses(seed_corpus):
    def losses(seed):
        training = CharTraining(tiny_config(seed=seed), corpus=seed_corpus)
        return [training.step()["train_loss"] for _ in range(8)]

    first = losses(seed=1)
    assert losses(seed=1) == first
    assert losses(seed=2) != first


def test_set_lr_changes_the_rate_used(seed_corpus):
    training = CharTraining(tiny_config(lr=1e-2), corpus=seed_corpus)
    assert training.step()["lr"] == 1e-2
    training.set_lr(3e-4)
    assert training.step()["lr"] == 3e-4
    assert training.optimizer.param_groups[0]["lr"] == 3e-4
    with pytest.raises(ValueError, match="learning rate must be between"):
        training.set_lr(-1.0)
    assert training.step()["lr"] == 3e-4  # a refused rate changes nothing


def test_cosine_schedule_and_warmup_scale_the_rate(seed_corpus):
    training = CharTraining(tiny_config(schedule="cosine", warmup_steps=4), corpus=seed_corpus)
    first = training.step()["lr"]
    assert first == pytest.approx(1e-2 / 4, rel=1e-6)  # warm-up starts at a quarter
    while not training.finished():
        last = training.step()["lr"]
    assert last < 0.2 * 1e-2  # cosine decays towards 10% of the base rate


def test_diverging_preset_stops_with_a_plain_message(seed_corpus, tmp_path):
    config = preset_config("diverging-lr", corpus="seed")
    store = RunStore(tmp_path / "runs")
    training = CharTraining(config, corpus=seed_corpus, store=store)
    with pytest.raises(TrainingDiverged) as caught:
        for _ in range(200):
            training.step()
    message = str(caught.value)
    assert message.startswith("Training diverged at step")
    assert "learning rate (0.5) is too high" in message and "Lower the learning rate" in message
    assert all(torch.isfinite(p).all() for p in training.model.parameters())  # the bad update was not applied
    training.save(status="diverged")  # the last good model can still be saved and loaded
    saved = load_run(training.run_dir).model.state_dict()
    assert all(torch.equal(saved[k], v) for k, v in training.model.state_dict().items())


# -- saving ----------------------------------------------------------------------------------------

def test_save_writes_a_loadable_run(seed_corpus, tmp_path):
    store = RunStore(tmp_path / "runs")
    training = CharTraining(tiny_config(epochs=0.05), corpus=seed_corpus, store=store, name="tiny save")
    assert training.run()
    valid = training.full_valid_loss
    run = load_run(training.run_dir)
    assert run.name == "tiny save" and run.vocab == seed_corpus.vocab
    for key, value in training.model.state_dict().items():
        assert torch.equal(run.model.state_dict()[key], value), key
    assert len(run.metrics) == training.step_count
    # the curve compares like with like (the same validation slice at every point); the whole split
    # is measured once at the end, kept beside it and in the run's summary
    assert run.metrics["full_valid_loss"].dropna().iloc[-1] == pytest.approx(valid)
    assert run.metrics["valid_loss"].dropna().iloc[-1] == pytest.approx(
        evaluate_loss(training.model, training.valid_ids[:training.config.eval_chars]))
    assert f"validation loss {valid:.3f}" in run.config["summary"]
    assert run.config["train"] == training.config.to_dict()
    listed = store.list().iloc[0]
    assert listed["status"] == "finished" and listed["steps"] == training.step_count
    assert listed["best_valid_loss"] == pytest.approx(run.metrics["valid_loss"].min())


def test_training_without_a_store_saves_nothing(seed_corpus, isolated_run_store):
    training = CharTraining(tiny_config(), corpus=seed_corpus)
    training.step()
    training.save()
    assert training.run_dir is None and not any(isolated_run_store.iterdir())


def test_too_short_text_is_refused_before_a_run_is_created(seed_corpus, tmp_path):
    store = RunStore(tmp_path / "runs")
    with pytest.raises(ValueError, match="too short for 1024 streams of 200 characters"):
        CharTraining(tiny_config(batch_size=1024, seq_len=200), corpus=seed_corpus, store=store)
    assert store.list().empty


def test_forget_bias_initialisation(seed_corpus):
    training = CharTraining(tiny_config(num_layers=2, forget_bias=1.0), corpus=seed_corpus)
    lstm, hidden = training.model.lstm, 32
    for layer in range(2):
        total = getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}")  # (4 * hidden,) i|f|g|o
        assert torch.equal(total[hidden:2 * hidden], torch.ones(hidden))
        for gate in (0, 2, 3):  # the other gates keep PyTorch's random initialisation
            assert total[gate * hidden:(gate + 1) * hidden].std() > 0.01
    plain = CharTraining(tiny_config(forget_bias=None), corpus=seed_corpus).model.lstm
    assert (plain.bias_ih_l0 + plain.bias_hh_l0)[hidden:2 * hidden].std() > 0.01


def test_a_paused_run_continues_where_it_stopped(seed_corpus, tmp_path):
    store = RunStore(tmp_path / "runs")
    first = CharTraining(tiny_config(epochs=None, max_seconds=60.0), corpus=seed_corpus, store=store, name="to continue")
    for _ in range(12):
        first.step()
    first.evaluate()
    first.save(status="paused")
    again = CharTraining.resume(first.run_dir, store)
    assert again.run_dir == first.run_dir and again.step_count == 12
    assert again.train_seconds == pytest.approx(first.train_seconds)
    for key, value in first.model.state_dict().items():
        assert torch.equal(again.model.state_dict()[key], value), key
    moments = first.optimizer.state_dict()["state"]
    for index, slots in again.optimizer.state_dict()["state"].items():
        assert torch.equal(slots["exp_avg_sq"], moments[index]["exp_avg_sq"])
    assert len(again.rows) == 12 and again.rows[-1]["valid_loss"] == pytest.approx(first.rows[-1]["valid_loss"])
    row = again.step()
    assert row["step"] == 13 and math.isfinite(row["train_loss"])
    again.save(status="paused")
    assert store.list().iloc[0]["steps"] == 13 and len(store.list()) == 1


def test_a_run_without_optimizer_state_cannot_be_continued(seed_corpus, tmp_path):
    store = RunStore(tmp_path / "runs")
    training = CharTraining(tiny_config(), corpus=seed_corpus, store=store)
    training.step()
    training.save()
    (training.run_dir / "resume.json").unlink()
    with pytest.raises(RunError, match="cannot be continued"):
        CharTraining.resume(training.run_dir, store)
    training.save()
    (training.run_dir / "optimizer.safetensors").write_bytes(b"not tensors")
    with pytest.raises(RunError, match="optimizer state of this run cannot be read"):
        CharTraining.resume(training.run_dir, store)


def test_previews_are_primed_with_a_speakers_name(seed_corpus):
    """A preview reads as a scene from its first character: the commonest speaker's name, then the model's text."""
    training = CharTraining(tiny_config(), corpus=seed_corpus)
    sample = training.preview(length=40)
    assert training.preview_prime == "MASCARILLE.\n"  # the commonest speaker of the seed's slice
    assert sample["prime"] == training.preview_prime and len(sample["text"]) == 40
    plain = CharTraining(tiny_config(), corpus=Corpus.from_text("no speakers here, only words. " * 400))
    assert plain.preview_prime == "\n"


def test_the_last_sample_of_a_finished_training_is_the_final_models(seed_corpus, tmp_path):
    """The Train page shows the latest sample: when a training ends it is the one of its last step."""
    training = CharTraining(tiny_config(preview_every_seconds=1e9), corpus=seed_corpus, store=RunStore(tmp_path))
    assert training.run()
    assert training.samples[-1]["step"] == training.step_count == training.total_steps
    assert json.loads((training.run_dir / "samples.json").read_text())[-1]["step"] == training.step_count
