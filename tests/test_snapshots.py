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
    model = lstm_core.CharLSTM(lstm_core.ModelConfig(len(VOCAB), hidden_size=12, num_layers=2, embedding_dim=6))
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
