"""BackgroundTrainer: pause and resume keep the step count, stop saves the run, a diverging loss
stops the training with its explanation, and the executor's capacity queues a third trainer."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import lstm_core
from lstm_core.execution.background import BackgroundTrainer
from lstm_core.execution.executor import LocalExecutor, Slots
from tests.training_helpers import steps_taken_meanwhile, tiny_training, wait_until


@pytest.fixture
def store(tmp_path):
    return lstm_core.RunStore(tmp_path / "runs")


def test_pause_and_resume_keep_the_step_count(store, trainers):
    trainer = BackgroundTrainer(tiny_training(store))
    trainers.append(trainer)
    trainer.start()
    wait_until(lambda: trainer.snapshot().step >= 20, what="20 steps")
    trainer.pause(wait=True)
    paused = trainer.snapshot()
    assert paused.status == "paused"
    steps_taken_meanwhile()
    assert trainer.snapshot().step == paused.step, "a paused trainer must not take steps"
    assert len(paused.metrics) == paused.step, "every step has its metrics row"
    row = store.list().iloc[0]
    assert row["status"] == "paused" and row["steps"] == paused.step

    trainer.resume()
    wait_until(lambda: trainer.snapshot().step >= paused.step + 20, what="20 more steps")
    resumed = trainer.snapshot()
    steps = [r["step"] for r in resumed.metrics]
    assert steps == list(range(1, len(steps) + 1)), "steps continue where the pause left them, without gaps"
    assert resumed.seconds > paused.seconds


def test_stop_saves_a_finished_run(store, trainers):
    training = tiny_training(store)
    trainer = BackgroundTrainer(training)
    trainers.append(trainer)
    trainer.start()
    wait_until(lambda: trainer.snapshot().step >= 30, what="30 steps")
    trainer.stop(wait=True)
    snapshot = trainer.snapshot()
    assert snapshot.status == "stopped"
    assert "saved" in snapshot.message
    row = store.list().iloc[0]
    assert row["status"] == "stopped"
    assert row["steps"] == snapshot.step
    assert math.isfinite(row["best_valid_loss"])
    run = lstm_core.load_run(snapshot.run_dir)
    assert len(run.metrics) == snapshot.step
    # the final evaluation reads the whole validation split and lands on the last row
    assert run.metrics["full_valid_loss"].iloc[-1] == pytest.approx(
        lstm_core.training.char.evaluate_loss(run.model, training.valid_ids), rel=1e-4)
    trainer.start()
    assert trainer.snapshot().status == "stopped", "a stopped training does not start again"


def test_a_budget_runs_to_its_end_with_samples(store, trainers):
    trainer = BackgroundTrainer(tiny_training(store, max_seconds=1.0))
    trainers.append(trainer)
    trainer.start()
    wait_until(lambda: not trainer.snapshot().active, what="the end of a 1-second budget")
    snapshot = trainer.snapshot()
    assert snapshot.status == "finished", snapshot.message
    assert snapshot.progress == 1.0
    assert snapshot.samples and all(len(s["text"]) == 200 for s in snapshot.samples)
    assert store.list().iloc[0]["status"] == "finished"


def test_divergence_stops_with_the_explanation(store, trainers):
    training = tiny_training(store, hidden_size=64, embedding_dim=64, lr=10.0, grad_clip=None,
                             schedule="constant", batch_size=16)
    trainer = BackgroundTrainer(training)
    trainers.append(trainer)
    trainer.start()
    wait_until(lambda: not trainer.snapshot().active, what="the divergence")
    snapshot = trainer.snapshot()
    assert snapshot.status == "diverged", snapshot.message
    assert snapshot.message.startswith("Training diverged at step")
    assert "Lower the learning rate" in snapshot.message
    assert store.list().iloc[0]["status"] == "diverged"


def test_the_cap_queues_a_third_trainer_and_reports_its_place(store, trainers):
    executor = LocalExecutor(workers=2)  # a pool of two workers, as on a 2-core server
    for _ in range(3):
        trainers.append(BackgroundTrainer(tiny_training(store, max_seconds=60.0), executor=executor))
    first, second, third = trainers
    first.start()
    wait_until(lambda: first.snapshot().status == "running", what="the first trainer to run")
    second.start()
    wait_until(lambda: second.snapshot().status == "running", what="the second trainer to run")
    third.start()
    wait_until(lambda: third.snapshot().queue_position is not None, what="the third trainer to join the queue")
    waiting = third.snapshot()
    assert waiting.status == "queued"
    assert waiting.queue_position == 1 and waiting.slots == 2
    assert waiting.step == 0
    first.stop(wait=True)
    wait_until(lambda: third.snapshot().status == "running", what="the queued trainer to take the free slot")
    assert third.snapshot().queue_position is None
    for trainer in trainers:
        trainer.stop(wait=True)
    executor.shutdown()


def test_a_run_cannot_be_deleted_while_another_session_trains_it(store, trainers):
    """Tab A trains; tab B tries to delete the run: refused, and tab A's training goes on unharmed."""
    trainer = BackgroundTrainer(tiny_training(store, max_seconds=60.0))
    trainers.append(trainer)
    trainer.start()
    wait_until(lambda: trainer.snapshot().step >= 5, what="5 steps")
    run_id = Path(trainer.snapshot().run_dir).name
    with pytest.raises(lstm_core.RunError, match="stop it there first"):
        lstm_core.RunStore(store.root).delete(run_id)  # another session's store object, same server
    steps = trainer.snapshot().step
    wait_until(lambda: trainer.snapshot().step >= steps + 5, what="5 more steps")
    trainer.pause(wait=True)
    with pytest.raises(lstm_core.RunError):
        store.delete(run_id)  # paused in its tab: still held
    trainer.stop(wait=True)
    assert trainer.snapshot().status == "stopped"
    store.delete(run_id)  # ended: it may go now
    assert run_id not in set(store.list()["id"])


def test_a_closed_tab_lets_go_of_its_paused_run(store, trainers):
    trainer = BackgroundTrainer(tiny_training(store, max_seconds=60.0))
    trainers.append(trainer)
    trainer.start()
    wait_until(lambda: trainer.snapshot().step >= 3, what="3 steps")
    run_dir = trainer.snapshot().run_dir
    trainer.release()  # the session ended: the trainer pauses and lets go
    trainer.join()
    assert trainer.snapshot().status == "paused"
    assert not lstm_core.runs.is_held(run_dir)


class NoFreeSlot:
    """An executor whose every slot is taken: a trainer started on it waits in its queue."""

    def __init__(self):
        self.slots = Slots()

    def capacity(self) -> int:
        return 0


def test_a_closed_tabs_queued_run_is_dropped_and_a_paused_one_is_paused_on_disk(store, trainers):
    """A training still queued when its tab closes never trained: its run is dropped, not left "created" until a
    restart. Paused by its user while queued, the run stays, and the store says paused."""
    closed = BackgroundTrainer(tiny_training(store, max_seconds=60.0), executor=NoFreeSlot())
    paused = BackgroundTrainer(tiny_training(store, max_seconds=60.0), executor=NoFreeSlot())
    for trainer in (closed, paused):
        trainer.start()
        wait_until(lambda trainer=trainer: trainer.snapshot().queue_position is not None, what="the trainer to queue")
    dropped, kept = Path(closed.snapshot().run_dir).name, Path(paused.snapshot().run_dir).name
    assert set(store.list()["status"]) == {"created"}
    closed.release()  # the tab closed
    closed.join()
    paused.pause(wait=True)
    statuses = dict(zip(store.list()["id"], store.list()["status"]))
    assert dropped not in statuses and not (store.root / dropped).exists()
    assert statuses == {kept: "paused"} and paused.snapshot().status == "paused"
