"""The Ray executor against a local Ray instance (bound to 127.0.0.1): a training runs as a Ray actor
and behaves as in a local worker (live changes, pause and resume, a killed actor leaves the run paused
at its last checkpoint), and the command line's ``--executor ray`` prints the same lines. Without an
address the executor starts its own Ray, even when an earlier Ray head started by hand left a cluster recorded on
the machine (here a dead one on the loopback address).

Ray is an optional requirement (requirements-ray.txt); scripts/test.sh installs it.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import tempfile
from pathlib import Path

import pytest

import lstm_core
from lstm_core import cli
from lstm_core.execution.background import BackgroundTrainer
from lstm_core.runs import read_status
from tests.training_helpers import wait_until

def dead_loopback_address() -> str:
    """``127.0.0.1:port`` where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{probe.getsockname()[1]}"


@pytest.mark.slow
def test_a_training_as_a_ray_actor_behaves_as_in_a_local_worker(tmp_path, capsys, monkeypatch):
    try:  # imported here, not at collection: every test process collects this module, and Ray is large
        import ray
    except ImportError:  # pragma: no cover - scripts/test.sh installs it
        pytest.fail("Ray is not installed: pip install -r requirements-ray.txt (scripts/test.sh does)")
    from lstm_core.execution.ray_executor import RayExecutor

    # Ray's temporary folder, short (its sockets live there), with the cluster an earlier Ray head started by hand
    # would have recorded: Ray joins it when ray.init is given no address, which refused num_cpus.
    ray_tmp = tempfile.mkdtemp(prefix="lab-ray-")
    recorded = dead_loopback_address()
    (Path(ray_tmp) / "ray").mkdir()
    (Path(ray_tmp) / "ray" / "ray_current_cluster").write_text(recorded)
    monkeypatch.setenv("RAY_TMPDIR", ray_tmp)
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    try:
        executor = RayExecutor()  # no address: a local instance of its own, on the loopback address
    except BaseException:
        shutil.rmtree(ray_tmp, ignore_errors=True)
        raise
    try:
        assert ray.util.get_node_ip_address() == "127.0.0.1"
        own = ray.get_runtime_context().gcs_address
        assert own.startswith("127.0.0.1:") and own != recorded
        assert executor.describe().startswith(f"ray executor (local Ray instance at {own})")
        assert executor.capacity() == (os.cpu_count() or 1)
        store = lstm_core.RunStore(tmp_path / "runs")
        config = lstm_core.TrainConfig(corpus="seed", hidden_size=8, embedding_dim=8, seq_len=20, batch_size=8,
                                       max_seconds=60.0, eval_every_seconds=0.3, eval_chars=2_000,
                                       preview_every_seconds=0.3, warmup_steps=0, schedule="constant")
        trainer = BackgroundTrainer(lstm_core.CharTraining(config, store=store), executor=executor)
        trainer.start()
        wait_until(lambda: trainer.snapshot().step >= 10 and trainer.worker_pid, what="10 steps in the actor")
        assert trainer.worker_pid != os.getpid()
        trainer.set_lr(1e-3)
        trainer.set_preview_temperature(1.5)
        # the actor applies a change before its next step, once the change has reached it (a busy machine delays it)
        wait_until(lambda: trainer.snapshot().metrics[-1]["lr"] == pytest.approx(1e-3), what="a step at the new rate")
        trainer.pause(wait=True)
        paused = trainer.snapshot()
        assert paused.status == "paused" and paused.metrics[-1]["lr"] == pytest.approx(1e-3)
        assert trainer.training.preview_temperature == pytest.approx(1.5) and paused.samples

        trainer.resume()
        wait_until(lambda: trainer.snapshot().step >= paused.step + 10 and trainer.worker_pid
                   and (store.list().iloc[0]["steps"] or 0) > paused.step, what="a checkpoint after the resume")
        os.kill(trainer.worker_pid, signal.SIGKILL)  # the actor's process dies
        wait_until(lambda: trainer.snapshot().status == "paused", what="the lost actor's run to be paused")
        lost = trainer.snapshot()
        assert "Ray actor training this run died" in lost.message and "last checkpoint" in lost.message
        assert read_status(Path(lost.run_dir)) == "paused" and lost.step > paused.step

        trainer.resume()
        wait_until(lambda: trainer.snapshot().step >= lost.step + 5, what="steps after the lost actor")
        trainer.stop(wait=True)
        run = lstm_core.load_run(lost.run_dir)
        assert read_status(Path(lost.run_dir)) == "stopped"
        assert list(run.metrics["step"]) == list(range(1, len(run.metrics) + 1))

        monkeypatch.setattr(cli, "configure_torch_threads", lambda: None)
        code = cli.main(["train", "--corpus", "seed", "--hidden", "16", "--epochs", "0.05", "--seed", "3",
                         "--out", str(tmp_path / "cli"), "--executor", "ray"])
        out = capsys.readouterr().out
        assert code == 0, out
        assert "running on the ray executor (local Ray instance at 127.0.0.1:" in out
        assert re.search(r"final train_loss=[\d.]+ valid_loss=[\d.]+ seconds=[\d.]+", out)
        assert lstm_core.RunStore(tmp_path / "cli").list().iloc[0]["status"] == "finished"
    finally:
        executor.shutdown()
        shutil.rmtree(ray_tmp, ignore_errors=True)
