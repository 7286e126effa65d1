"""TensorBoard (lstm_core.tensorboard_log): a tiny training logged live and exported afterwards; TensorBoard's own
event reader finds every scalar of the run's metrics.csv at its step, each preview sample as text and each
quantity's histogram at every snapshot. Without tensorboard the command says how to install it."""

from __future__ import annotations

import importlib
import json
import time

import numpy as np
import pytest

import lstm_core
from lstm_core import cli
from lstm_core.runs import read_metrics, snapshot_files
from lstm_core.snapshots import SnapshotStore
from lstm_core import tensorboard_log
from tests.page_helpers import open_app
from tests.test_train_page import click, rerun_until, tiny_settings
from tests.training_helpers import stop_leftover_trainers, tiny_training

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")


def read_back(logdir) -> event_accumulator.EventAccumulator:
    events = event_accumulator.EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0,
                                                                            "tensors": 0})
    events.Reload()
    return events


def assert_holds_the_run(events, run_dir) -> None:
    metrics = read_metrics(run_dir)
    columns = [c for c in metrics.columns if c != "step"]
    assert {"train_loss", "valid_loss", "lr", "grad_norm", "chars_per_sec"} <= set(columns)
    assert set(columns) <= set(events.Tags()["scalars"])
    for column in columns:
        expected = metrics[["step", column]].dropna()
        logged = {event.step: event.value for event in events.Scalars(column)}
        assert list(logged) == [int(s) for s in expected["step"]], column
        assert np.allclose(list(logged.values()), expected[column].to_numpy(np.float32), rtol=1e-6), column
    samples = json.loads((run_dir / "samples.json").read_text(encoding="utf-8"))
    texts = events.Tensors("samples/text_summary")
    assert [t.step for t in texts] == [s["step"] for s in samples] and samples
    assert samples[-1]["text"][:20].replace("\n", "\n    ") in texts[-1].tensor_proto.string_val[0].decode("utf-8")
    snapshots = SnapshotStore(run_dir).load()
    assert len(snapshots) == len(snapshot_files(run_dir)) >= 2
    for quantity in snapshots[0].quantities:
        histogram = events.Histograms(f"{quantity}/layer 0")
        assert [h.step for h in histogram] == [s.step for s in snapshots], quantity
        assert histogram[-1].histogram_value.num == snapshots[-1].values[quantity][0].size


def test_a_training_logged_live_and_exported_reads_back_whole(isolated_run_store, tmp_path, capsys):
    training = tiny_training(lstm_core.RunStore(isolated_run_store), max_seconds=None, epochs=0.05)
    live = tensorboard_log.LiveLog(training.run_dir, tmp_path / "live", every=0.2)
    training.run()
    live.finish()
    assert_holds_the_run(read_back(tmp_path / "live"), training.run_dir)

    assert cli.main(["export-tensorboard", "--run", str(training.run_dir), "--out", str(tmp_path / "export")]) == 0
    assert "tensorboard --logdir" in capsys.readouterr().out
    assert_holds_the_run(read_back(tmp_path / "export"), training.run_dir)


def test_without_tensorboard_the_command_says_how_to_install_it(monkeypatch, tmp_path, capsys):
    real = importlib.import_module

    def missing(name, *args):
        if name == "torch.utils.tensorboard":
            raise ImportError("No module named 'tensorboard'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", missing)
    code = cli.main(["export-tensorboard", "--run", str(lstm_core.PRETRAINED_DIR), "--out", str(tmp_path)])
    assert code == 2 and "pip install -r requirements-tensorboard.txt" in capsys.readouterr().err


@pytest.mark.slow
def test_the_train_page_logs_a_training_to_tensorboard_and_refuses_without_it(isolated_run_store, monkeypatch):
    store = lstm_core.RunStore(isolated_run_store)
    at = open_app("../pages/1_train.py")
    tiny_settings(at, seconds=3.0)
    at.checkbox(key="train:seed:tensorboard").check().run()
    real = importlib.import_module
    monkeypatch.setattr(importlib, "import_module", lambda name, *a: (_ for _ in ()).throw(ImportError(name))
                        if name == "torch.utils.tensorboard" else real(name, *a))
    click(at, "char_start")
    assert at.error[0].value.startswith("Cannot start: TensorBoard is not installed")
    assert store.list().empty, "a refused start leaves no run behind"
    monkeypatch.undo()
    try:
        click(at, "char_start")
        rerun_until(at, lambda: any("Finished" in s.value for s in at.success), timeout=90)
    finally:
        stop_leftover_trainers()
    run_id = store.list().iloc[0]["id"]
    logdir = isolated_run_store / "tensorboard" / run_id
    assert any(f"--logdir {isolated_run_store / 'tensorboard'}" in c.value for c in at.code)
    metrics = read_metrics(store.path(run_id))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the log catches up with the last checkpoint
        events = read_back(logdir) if logdir.is_dir() else None
        if events and "train_loss" in events.Tags()["scalars"] and \
                events.Scalars("train_loss")[-1].step == int(metrics["step"].iloc[-1]):
            break
        time.sleep(0.5)
    assert events.Scalars("train_loss")[-1].step == int(metrics["step"].iloc[-1])
