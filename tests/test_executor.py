"""Trainings out of the web process: they run in another process, take live changes there, write
their checkpoints through the process that owns the run store (whole files only), and a worker
killed with kill -9 loses nothing but the steps since its last checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import lstm_core
from lstm_core.execution import factory
from lstm_core.execution.background import BackgroundTrainer
from lstm_core.execution.executor import LocalExecutor, describe_exit
from lstm_core.execution.worker import drive
from lstm_core.runs import RESUME_FILE, read_metrics, read_status
from tests.training_helpers import tiny_training, wait_until

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_the_factory_picks_the_executor_and_works_without_ray(monkeypatch):
    monkeypatch.delenv("LSTM_LAB_RAY_ADDRESS", raising=False)
    monkeypatch.delenv("LSTM_LAB_EXECUTOR", raising=False)
    monkeypatch.setitem(sys.modules, "ray", None)  # as if Ray were not installed
    monkeypatch.delitem(sys.modules, factory.RAY_EXECUTOR_MODULE, raising=False)
    assert isinstance(factory.make_executor(), LocalExecutor)
    with pytest.raises(ImportError, match="requirements-ray.txt"):
        factory.make_executor("ray")
    monkeypatch.setenv("LSTM_LAB_RAY_ADDRESS", "127.0.0.1:6379")  # an address asks for Ray
    with pytest.raises(ImportError, match="requirements-ray.txt"):
        factory.make_executor()
    with pytest.raises(ValueError, match="unknown executor"):
        factory.make_executor("dask")


@pytest.fixture
def store(tmp_path):
    return lstm_core.RunStore(tmp_path / "runs")


@pytest.fixture(scope="module")
def executor():
    """One worker, kept between the tests as the app's pool keeps it (a worker's start is most of a short test)."""
    pool = LocalExecutor(workers=1)
    yield pool
    pool.shutdown()


def test_the_training_runs_in_a_worker_and_takes_live_changes_there(store, executor, trainers):
    trainer = BackgroundTrainer(tiny_training(store), executor=executor)
    trainers.append(trainer)
    trainer.start()
    wait_until(lambda: trainer.snapshot().step >= 10 and trainer.worker_pid is not None, what="10 steps")
    assert trainer.worker_pid != os.getpid(), "the training must not run in the web process"
    assert trainer.snapshot().status == "running"

    trainer.set_lr(1e-3)
    trainer.set_preview_temperature(1.7)
    changed_at = trainer.snapshot().step
    wait_until(lambda: trainer.snapshot().step >= changed_at + 10, what="10 more steps")
    trainer.pause(wait=True)
    assert trainer.snapshot().status == "paused"
    rows = trainer.snapshot().metrics
    assert rows[-1]["lr"] == pytest.approx(1e-3), "the worker applied the new learning rate"
    assert rows[0]["lr"] == pytest.approx(2e-2)
    # the training came back from the worker as the worker left it, temperature included
    assert trainer.training.preview_temperature == pytest.approx(1.7)
    assert trainer.training.step_count == trainer.snapshot().step
    with pytest.raises(ValueError):
        trainer.set_lr(-1.0)


def test_checkpoints_are_whole_files_while_the_worker_writes_them(store, executor, trainers):
    trainer = BackgroundTrainer(tiny_training(store, max_seconds=1.5, eval_every_seconds=0.05), executor=executor)
    trainers.append(trainer)
    trainer.start()
    run_dir = Path(trainer.snapshot().run_dir)
    loads = 0
    while trainer.snapshot().active:  # read the run as a page would, as often as we can
        if (run_dir / "model.safetensors").exists():
            run = lstm_core.load_run(run_dir)  # raises RunError on a half-written file
            assert len(run.metrics) > 0
            loads += 1
    assert loads > 5
    assert trainer.snapshot().status == "finished"
    assert not list(run_dir.glob(".*.tmp")), "no temporary file is left behind"
    assert read_status(run_dir) == "finished"
    assert "validation loss" in lstm_core.load_run(run_dir).config["summary"]


def test_a_worker_killed_with_kill_9_loses_only_the_steps_since_its_last_checkpoint(store, executor, trainers):
    trainer = BackgroundTrainer(tiny_training(store, eval_every_seconds=0.5), executor=executor)
    trainers.append(trainer)
    trainer.start()
    run_dir = Path(trainer.snapshot().run_dir)
    wait_until(lambda: (store.list().iloc[0]["steps"] or 0) >= 20, what="a checkpoint of 20 steps")
    saved = int(store.list().iloc[0]["steps"])
    wait_until(lambda: trainer.snapshot().step > saved + 5, what="steps past the checkpoint")

    os.kill(trainer.worker_pid, signal.SIGKILL)
    wait_until(lambda: trainer.snapshot().status == "paused", what="the run to be paused")
    snapshot = trainer.snapshot()
    progress = json.loads((run_dir / RESUME_FILE).read_text())
    on_disk = read_metrics(run_dir)
    checkpoint_step = progress["step_count"]
    assert checkpoint_step >= saved
    assert "was killed (SIGKILL" in snapshot.message
    assert f"paused at its last checkpoint (step {checkpoint_step:,})" in snapshot.message
    assert snapshot.step == checkpoint_step == len(on_disk) and snapshot.restarts == 1
    assert [row["step"] for row in snapshot.metrics] == list(range(1, checkpoint_step + 1))
    assert read_status(run_dir) == "paused"
    checkpoint_weights = lstm_core.load_run(run_dir).model.state_dict()
    for name, tensor in trainer.training.model.state_dict().items():
        assert torch.equal(tensor, checkpoint_weights[name]), f"{name} is not the checkpoint's"

    trainer.resume()  # a fresh worker continues from the checkpoint
    wait_until(lambda: trainer.snapshot().step >= checkpoint_step + 10, what="10 steps after the checkpoint")
    trainer.stop(wait=True)
    metrics = lstm_core.load_run(run_dir).metrics
    assert list(metrics["step"]) == list(range(1, len(metrics) + 1)), "steps continue without a gap or a repeat"
    assert list(metrics["train_loss"][:checkpoint_step]) == pytest.approx(list(on_disk["train_loss"]))
    assert read_status(run_dir) == "stopped"


def test_an_idle_worker_serves_the_next_training(store, executor, trainers):
    first = BackgroundTrainer(tiny_training(store, max_seconds=1.0), executor=executor)
    trainers.append(first)
    first.start()
    wait_until(lambda: first.snapshot().status == "finished", what="the first training to finish")
    second = BackgroundTrainer(tiny_training(store, max_seconds=1.0), executor=executor)
    trainers.append(second)
    second.start()
    wait_until(lambda: second.snapshot().status == "finished", what="the second training to finish")
    assert first.worker_pid == second.worker_pid, "the pool keeps its worker between trainings"


def test_exit_statuses_are_said_in_words():
    assert describe_exit(-signal.SIGKILL).startswith("was killed (SIGKILL: by hand, or by the system when memory")
    assert describe_exit(-signal.SIGTERM) == "was ended by SIGTERM"
    assert describe_exit(3) == "exited unexpectedly (status 3)"


SERVER = textwrap.dedent("""
    import sys, time
    import lstm_core
    from lstm_core.execution.background import BackgroundTrainer
    store = lstm_core.RunStore(sys.argv[1])
    config = lstm_core.TrainConfig(corpus="seed", hidden_size=8, embedding_dim=8, seq_len=20, batch_size=8,
                                   max_seconds=60.0, eval_every_seconds=0.3, eval_chars=2_000)
    trainer = BackgroundTrainer(lstm_core.CharTraining(config, store=store))
    trainer.start()
    while trainer.worker_pid is None:
        time.sleep(0.05)
    print(trainer.worker_pid, flush=True)
    time.sleep(600)
""")


@pytest.mark.slow
def test_a_killed_server_takes_its_workers_along_and_a_restarted_one_finds_the_run(tmp_path):
    """The web process dies mid-training (kill -9): its worker exits too, and the next server's run store
    offers the run, paused at its last checkpoint, to be continued."""
    root = tmp_path / "runs"
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(root)], cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              text=True)
    try:
        worker_pid = int(server.stdout.readline())
        store = lstm_core.RunStore(root)
        wait_until(lambda: (store.list().iloc[0]["steps"] or 0) >= 10, what="a checkpoint")
    finally:
        server.kill()
        server.wait()
    wait_until(lambda: not Path(f"/proc/{worker_pid}").exists()
               or "Z" in Path(f"/proc/{worker_pid}/stat").read_text().split()[2], timeout=30,
               what="the orphaned worker to exit")
    restarted = lstm_core.RunStore(root)
    (run_id,) = restarted.recover_interrupted()
    resumed = lstm_core.CharTraining.resume(restarted.path(run_id), restarted)
    assert resumed.step_count >= 10 and restarted.list().iloc[0]["status"] == "paused"



class ScriptedChannel:
    """A worker's line to its owner, in the test: a new learning rate arrives before step ``at_step``, and every
    message the worker sends is kept."""

    def __init__(self, training, at_step: int):
        self.training, self.at_step, self.asked, self.sent = training, at_step, False, []

    def commands(self) -> list[tuple]:
        if self.asked or self.training.step_count < self.at_step:
            return []
        self.asked = True
        return [("lr", 1e-3)]

    def send(self, message: dict) -> None:
        self.sent.append(message)


def test_a_new_learning_rate_reaches_the_page_with_the_next_step_not_at_the_next_quarter_second(store):
    training = tiny_training(store, max_seconds=1.0, eval_every_seconds=3600.0)
    channel = ScriptedChannel(training, at_step=20)
    drive(training, channel, ui_interval=3600.0)  # rows would otherwise wait for the end (or an evaluation)
    batches = [message["rows"] for message in channel.sent if message["type"] == "rows"]
    changed = next(i for i, rows in enumerate(batches) if rows[-1]["lr"] == pytest.approx(1e-3))
    assert len(batches[changed]) == 1 or batches[changed][-2]["lr"] != pytest.approx(1e-3), \
        "the batch ends with the first step at the new rate"
    assert batches[changed][-1]["step"] == 21 and training.step_count > 21, "sent at once, not with the last rows"
