"""Snapshots of the gates during training: compact, summarised, bounded on disk, exported."""

import numpy as np
import pytest
import torch

import lstm_core
from lstm_core.runs import RunError
from lstm_core.snapshots import Snapshot, SnapshotStore, export_npz

VOCAB = lstm_core.Vocab.from_text("HARPAGON.\nAu voleur! au voleur! à l'assassin!\n")
PROBE = "HARPAGON.\nAu voleur!\nHARPAGON.\nau voleur!\n"


def traced_snapshot(step: int = 3, seed: int = 0) -> tuple[Snapshot, lstm_core.Trace]:
    torch.manual_seed(seed)
    model = lstm_core.CharModel(lstm_core.ModelConfig(len(VOCAB), hidden_size=12, num_layers=2, embedding_dim=6))
    tr = lstm_core.trace(model.eval(), VOCAB, PROBE)
    return Snapshot.capture(step, 1.25, tr.chars, {q: tr[q] for q in lstm_core.QUANTITIES}), tr


def test_a_snapshot_keeps_every_quantity_and_its_summary():
    snapshot, tr = traced_snapshot()
    for name in lstm_core.QUANTITIES:
        assert snapshot.values[name].dtype == np.float16 and snapshot.values[name].shape == (2, len(PROBE), 12)
        np.testing.assert_allclose(snapshot.values[name], tr[name], atol=2e-3, rtol=1e-3)
    forget = snapshot.summary["gates"]["forget_gate"]
    assert forget["mean"] == pytest.approx(tr.forget_gate.mean(axis=(1, 2)), abs=1e-4)
    assert forget["open"] == pytest.approx((tr.forget_gate > 0.9).mean(axis=(1, 2)), abs=1e-4)
    assert "cell_candidate" not in snapshot.summary["gates"]  # a tanh, not a gate that opens and shuts
    speaker = snapshot.summary["units"]["speaker_name"]
    r = lstm_core.analysis.correlations(tr.cell_state[speaker["layer"]],
                                        lstm_core.analysis.text_features(PROBE)["speaker_name"])
    assert speaker["correlation"] == pytest.approx(r[speaker["unit"]], abs=1e-4)
    assert abs(speaker["correlation"]) == pytest.approx(np.abs(r).max(), abs=1e-4)
    assert "inside_quotes" not in snapshot.summary["units"]  # absent from the probe: nothing ranked


def test_bytes_round_trip_and_refuse_garbage():
    snapshot, _ = traced_snapshot()
    back = Snapshot.from_bytes(snapshot.to_bytes())
    assert (back.step, back.seconds, back.tokens, back.summary) == (3, 1.25, list(PROBE), snapshot.summary)
    assert all(np.array_equal(back.values[q], snapshot.values[q]) for q in snapshot.values)
    with pytest.raises(RunError, match="not a readable snapshot"):
        Snapshot.from_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")


def test_the_store_thins_evenly_and_keeps_the_first_and_the_last(tmp_path):
    snapshot, _ = traced_snapshot()
    store = SnapshotStore(tmp_path, max_snapshots=6)
    for step in range(0, 200, 10):
        snapshot.step = step
        store.add(snapshot)
    steps = [s.step for s in store.load()]
    assert len(steps) == 6 and steps[0] == 0 and steps[-1] == 190
    gaps = np.diff(steps)
    assert gaps.max() <= 3 * gaps.min()  # spread out, not bunched at one end
    small = SnapshotStore(tmp_path, max_snapshots=100, max_bytes=3 * len(snapshot.to_bytes()))
    small.thin()
    assert len(small.files()) == 3 and small.bytes_used() <= small.max_bytes
    assert [s.step for s in small.load()][::2] == [0, 190]


def test_export_stacks_every_snapshot(tmp_path):
    snapshot, _ = traced_snapshot()
    store = SnapshotStore(tmp_path)
    for step in (5, 9):
        snapshot.step = step
        store.add(snapshot)
    export_npz(store.load(), tmp_path / "movie.npz")
    data = np.load(tmp_path / "movie.npz")
    assert list(data["steps"]) == [5, 9] and data["forget_gate"].shape == (2, 2, len(PROBE), 12)
    assert "".join(data["tokens"]) == PROBE
    with pytest.raises(RunError, match="no snapshots"):
        export_npz([], tmp_path / "none.npz")


# -- snapshots taken by the trainings ---------------------------------------------------------------
import io  # noqa: E402
import time  # noqa: E402
import zipfile  # noqa: E402

from lstm_core import snapshots as snapshots_module  # noqa: E402
from lstm_core.execution.background import BackgroundTrainer  # noqa: E402
from lstm_core.execution.executor import LocalExecutor  # noqa: E402
from lstm_core.training.memory import MemoryConfig, MemoryTraining  # noqa: E402
from lstm_core.runs import WEIGHTS_FILE, build_model, export_zip, read_config, read_weights  # noqa: E402
from lstm_core.training.tasks import (ClassifierTraining, TaggerTraining, classifier_preset,  # noqa: E402
                                      tagger_preset)

FP16 = dict(rtol=2 ** -10, atol=1e-4)  # what half precision keeps of a value


def tiny_char(store, **settings) -> lstm_core.CharTraining:
    config = lstm_core.preset_config("seed", **{**dict(hidden_size=12, num_layers=2, embedding_dim=8, batch_size=8,
                                                       seq_len=20, max_seconds=1.5, eval_every_seconds=0.3,
                                                       snapshot_every_seconds=0.2), **settings})
    return lstm_core.CharTraining(config, store=store, name="tiny")


def run_keeping_weights(training) -> dict[int, bytes]:
    """Run a training, keeping the weights its store holds after each evaluation (its checkpoint then),
    by the step they were saved at."""
    saved = {}

    def keep(row, metrics):
        saved[training.step_count] = (training.run_dir / WEIGHTS_FILE).read_bytes()

    training.run(on_eval=keep)
    return saved


def model_at(run_dir, weights: bytes):
    """The run's model rebuilt from its settings with the weights of one checkpoint."""
    model = build_model(read_config(run_dir))
    model.load_state_dict(read_weights(weights, model, "a checkpoint"))
    return model.eval()


@pytest.mark.parametrize("architecture", ["lstm", "gru", "rnn"])
def test_a_snapshot_is_an_exact_trace_of_the_weights_of_its_moment(architecture, tmp_path):
    """Retrace the probe through the checkpoint saved at a snapshot's step: the same numbers, to half precision."""
    store = lstm_core.RunStore(tmp_path)
    training = tiny_char(store, architecture=architecture)
    saved = run_keeping_weights(training)
    kept = {s.step: s for s in SnapshotStore(training.run_dir).load()}
    compared = [step for step in saved if step in kept]
    assert len(compared) >= 2, (list(saved), list(kept))
    vocab = lstm_core.Vocab(read_config(training.run_dir)["vocab"])
    for step in compared:
        snapshot = kept[step]
        tr = lstm_core.trace(model_at(training.run_dir, saved[step]), vocab, training.probe)
        assert snapshot.tokens == tr.chars and list(snapshot.values) == list(tr.quantities)
        for name in tr.quantities:
            np.testing.assert_allclose(snapshot.values[name].astype(np.float32), tr[name], **FP16, err_msg=name)
    # and the comparison tells moments apart: another checkpoint's weights give other numbers
    first, last = compared[0], compared[-1]
    other = lstm_core.trace(model_at(training.run_dir, saved[first]), vocab, training.probe)
    assert not np.allclose(kept[last].values["hidden_state"].astype(np.float32), other.hidden_state, **FP16)
    steps = sorted(kept)
    assert steps[0] == 0 and steps[-1] == training.step_count  # the weights as they started, and as they ended


def test_the_tagger_classifier_and_memory_task_snapshot_their_probes_exactly(tmp_path):
    store = lstm_core.RunStore(tmp_path)
    trainings = [
        TaggerTraining(tagger_preset("class", hidden_size=8, embedding_dim=8, max_seconds=1.0, eval_every_seconds=0.3,
                                     patience=None, valid_share=0.0), store=store),
        ClassifierTraining(classifier_preset("class", hidden_size=8, embedding_dim=8, max_seconds=1.0,
                                             eval_every_seconds=0.3, patience=None, valid_share=0.0),
                           store=store, with_baseline=False),
        MemoryTraining(MemoryConfig(delay=12, hidden_size=10, param_budget=None, max_seconds=1.0,
                                    eval_every_seconds=0.3), store=store),
    ]
    for training in trainings:
        saved = run_keeping_weights(training)
        kept = {s.step: s for s in SnapshotStore(training.run_dir).load()}
        step = max(set(saved) & set(kept))
        snapshot = kept[step]
        model = model_at(training.run_dir, saved[step])
        if training.kind == "memory":
            tr = lstm_core.trace(model, training.vocab, training.probe)
            expected, tokens = tr.values, tr.chars
            assert snapshot.token == "char" and not snapshot.summary["units"]  # not Molière: no text features
        else:
            words = training.probe_words
            if training.kind == "tagger":
                word_ids, _, char_ids = training.vocabs.encode_batch([words])
                expected = lstm_core.replay_recurrent(model.lstm, model.lstm_inputs(word_ids, char_ids)[0].detach().numpy())
            else:
                table = model.embedding.weight.detach().numpy()
                expected = lstm_core.replay_recurrent(model.lstm, table, token_ids=np.array(training.vocab.encode(words)))
            tokens = words
            assert snapshot.token == "word" and snapshot.slots == ["layer 0, left to right", "layer 0, right to left"]
            assert snapshot.text == " ".join(words) and len(words) >= 5
        assert snapshot.tokens == list(tokens)
        for name in snapshot.quantities:
            np.testing.assert_allclose(snapshot.values[name].astype(np.float32), expected[name], **FP16,
                                       err_msg=f"{training.kind} {name}")


def test_snapshots_are_thinned_under_a_long_training(tmp_path, monkeypatch):
    """Hundreds of snapshots, a dozen kept: the first (the untrained weights), the last, and an even spread."""
    monkeypatch.setattr(snapshots_module, "MAX_SNAPSHOTS", 12)
    store = lstm_core.RunStore(tmp_path)
    training = tiny_char(store, num_layers=1, max_seconds=2.0, eval_every_seconds=0.5, snapshot_every_seconds=0.01)
    written = []
    original = store.write_snapshot
    monkeypatch.setattr(store, "write_snapshot", lambda path, s: written.append(s.step) or original(path, s))
    training.run()
    kept = [row["step"] for row in SnapshotStore(training.run_dir).series()]
    assert len(written) > 100, "a snapshot every 10 ms of training"
    assert len(kept) == 12 and kept[0] == 0 and kept[-1] == training.step_count
    gaps = np.diff(kept[:-1])  # the last one may follow the one before closely (the final evaluation)
    assert gaps.max() <= 3 * gaps.min(), kept
    monkeypatch.setattr(snapshots_module, "MAX_BYTES", 5 * len(SnapshotStore(training.run_dir).latest().to_bytes()))
    SnapshotStore(training.run_dir).thin()
    assert len(SnapshotStore(training.run_dir).files()) == 5


def test_snapshots_travel_from_a_worker_to_the_store_and_the_live_panel(tmp_path):
    store = lstm_core.RunStore(tmp_path)
    training = tiny_char(store, max_seconds=3.0)  # long enough to be paused after its first snapshot, and resumed
    executor = LocalExecutor(workers=1)
    try:
        trainer = BackgroundTrainer(training, executor=executor)
        trainer.start()
        deadline = time.monotonic() + 60
        while trainer.gate_snapshots()[0] is None and time.monotonic() < deadline:
            time.sleep(0.05)
        first, series = trainer.gate_snapshots()
        assert first is not None and series[0]["step"] == 0  # the untrained weights, as soon as the worker starts
        trainer.pause()
        paused_at = trainer.training.step_count
        latest, series = trainer.gate_snapshots()
        assert series[-1]["step"] == latest.step <= paused_at
        trainer.resume()
        while trainer.snapshot().active and time.monotonic() < deadline:
            time.sleep(0.1)
        assert trainer.snapshot().status == "finished"
        latest, series = trainer.gate_snapshots()
        on_disk = SnapshotStore(training.run_dir)
        assert on_disk.latest().step == latest.step == trainer.snapshot().step
        assert {row["step"] for row in on_disk.series()} <= {row["step"] for row in series}  # the disk's thinned
        np.testing.assert_array_equal(on_disk.latest().values["forget_gate"], latest.values["forget_gate"])
        assert series[-1]["summary"] == latest.summary and "forget_gate" in latest.summary["gates"]
    finally:
        executor.shutdown()


def test_a_restored_training_forgets_the_snapshots_of_the_steps_it_lost(tmp_path):
    """A worker died after its last checkpoint: the snapshots taken since then show weights that are gone."""
    store = lstm_core.RunStore(tmp_path)
    training = tiny_char(store, max_seconds=1.0, eval_every_seconds=100.0, snapshot_every_seconds=0.1)
    for _ in range(5):
        training.step()
    training.save(status="running")  # the last checkpoint, at step 5
    for _ in range(30):
        training.step()
        training.snapshot()
    assert max(s["step"] for s in SnapshotStore(training.run_dir).series()) == 35
    resumed = lstm_core.CharTraining.resume(training.run_dir, store)
    assert resumed.step_count == 5
    assert [s["step"] for s in SnapshotStore(training.run_dir).series()] == []  # none was taken up to step 5


def test_snapshots_can_be_turned_off_and_a_typed_probe_is_traced(tmp_path):
    store = lstm_core.RunStore(tmp_path)
    off = tiny_char(store, snapshot_every_seconds=None, max_seconds=1.0)
    off.run()
    assert not SnapshotStore(off.run_dir).files() and off.snapshot() is None
    typed = tiny_char(store, probe="TARTUFFE.\nÔ ciel! ☃", max_seconds=1.0)
    typed.run()
    snapshot = SnapshotStore(typed.run_dir).latest()
    assert snapshot.text.startswith("TARTUFFE.\n") and len(snapshot.tokens) == len("TARTUFFE.\nÔ ciel! ☃")
    assert "☃" not in snapshot.tokens  # unknown characters are traced as their stand-in, as on /gates


@pytest.mark.parametrize("settings,message", [
    (dict(probe="x"), "must have 2 to 1,000 characters, got 1"),
    (dict(probe="x" * 1001), "must have 2 to 1,000 characters, got 1,001"),
    (dict(probe="   \n "), "is only blanks"),
    (dict(snapshot_every_seconds=0.0), "snapshot every seconds must be between"),
])
def test_bad_snapshot_settings_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        lstm_core.preset_config("seed", **settings)


def test_a_task_probe_is_counted_in_words():
    assert tagger_preset("seed-toy", probe="The dog ate the apple .").probe
    with pytest.raises(ValueError, match="1 to 200 words, got 0"):
        tagger_preset("seed-toy", probe=" ... "[1:1] + "   ")
    with pytest.raises(ValueError, match="1 to 200 words, got 201"):
        classifier_preset("class", probe="great " * 201)


def test_a_snapshot_file_lists_its_quantities_in_the_architectures_order_and_refuses_mismatches():
    snapshot, _ = traced_snapshot()
    data = snapshot.to_bytes()
    assert list(Snapshot.from_bytes(data).values) == list(lstm_core.QUANTITIES)  # not the file's alphabetical order
    broken = Snapshot(1, 0.0, list("abc"), {"hidden_state": np.zeros((1, 4, 2), np.float16)})
    with pytest.raises(RunError, match="not a readable snapshot"):
        Snapshot.from_bytes(broken.to_bytes())


def with_file(data: bytes, name: str, content: bytes) -> bytes:
    """An exported zip with one more file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as target:
        for member in source.namelist():
            target.writestr(member, source.read(member))
        target.writestr(name, content)
    return buffer.getvalue()


def test_an_exported_run_keeps_its_movie_and_an_import_checks_it(tmp_path):
    store = lstm_core.RunStore(tmp_path)
    training = tiny_char(store, max_seconds=1.0)
    training.run()
    data = export_zip(training.run_dir)
    imported = store.import_zip(data)
    steps = [s.step for s in SnapshotStore(training.run_dir).load()]
    assert len(steps) >= 2 and [s.step for s in SnapshotStore(imported).load()] == steps
    foreign, _ = traced_snapshot()  # cut to 5 units: a snapshot of another model than this 12-unit one
    foreign.values = {name: array[:, :, :5] for name, array in foreign.values.items()}
    with pytest.raises(RunError, match="another model"):
        store.import_zip(with_file(data, "snapshots/000000999.safetensors", foreign.to_bytes()))
    with pytest.raises(RunError, match="not a readable snapshot"):
        store.import_zip(with_file(data, "snapshots/000000999.safetensors", b"garbage"))
    with pytest.raises(RunError, match="at its top level"):
        store.import_zip(with_file(data, "snapshots/../evil.safetensors", b"garbage"))


def test_the_shipped_model_carries_a_movie_whose_last_frame_is_its_own_weights():
    """The pretrained model ships with its training movie: at least ten snapshots from step 0, the last one an
    exact trace of the shipped weights on the probe."""
    from lstm_core.runs import PRETRAINED_DIR, load_run

    movie = SnapshotStore(PRETRAINED_DIR).load()
    assert len(movie) >= 10 and movie[0].step == 0
    assert [s.step for s in movie] == sorted({s.step for s in movie})
    run = load_run(PRETRAINED_DIR)
    last = movie[-1]
    tr = lstm_core.trace(run.model, run.vocab, last.text)
    for name in tr.quantities:
        np.testing.assert_allclose(last.values[name].astype(np.float32), tr[name], **FP16, err_msg=name)
    first = movie[0].values["cell_state"].astype(np.float32)
    assert not np.allclose(first, tr["cell_state"], **FP16)  # the weights did change along the way
