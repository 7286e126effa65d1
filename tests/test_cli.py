"""The command line (``python -m lstm_core``): train, sample and trace a tiny run, and refuse bad input clearly."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import lstm_core
from lstm_core import QUANTITIES, RunStore, cli, load_run, sample

REPO_ROOT = Path(__file__).resolve().parent.parent


def lstm_core_cli(*args, timeout=60) -> subprocess.CompletedProcess:
    """``python -m lstm_core ...`` from the shell, as a user types it."""
    return subprocess.run([sys.executable, "-m", "lstm_core", *map(str, args)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def in_process(capsys, *args) -> subprocess.CompletedProcess:
    """The same command run by ``cli.main`` in this process (what ``python -m lstm_core`` calls; a fresh interpreter
    for each would cost a PyTorch import each): its exit status, its output and its errors."""
    capsys.readouterr()
    try:
        code = cli.main([str(arg) for arg in args])
    except SystemExit as exited:  # argparse's own exits (--help, a bad argument)
        code = exited.code
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """One tiny training through the command line, shared by the tests below."""
    store = tmp_path_factory.mktemp("cli-runs")
    done = lstm_core_cli("train", "--corpus", "seed", "--hidden", 16, "--epochs", 0.2, "--seed", 3,
                         "--name", "cli tiny", "--out", store)
    assert done.returncode == 0, done.stderr
    return store, done


def test_train_saves_a_run(trained_run):
    store, done = trained_run
    assert "seed: 90,000 training and 10,000 validation characters" in done.stdout
    final = re.search(r"final train_loss=([\d.]+) valid_loss=([\d.]+) seconds=([\d.]+)", done.stdout)
    assert final, done.stdout
    valid = float(final.group(2))
    saved = Path(re.search(r"run saved in (.+)", done.stdout).group(1).strip())
    assert saved.parent == store
    run = load_run(saved)
    assert run.name == "cli tiny" and run.model.lstm.hidden_size == 16
    assert run.config["train"]["corpus"] == "seed" and run.config["train"]["seed"] == 3
    assert run.metrics["valid_loss"].dropna().iloc[-1] == pytest.approx(valid, abs=1e-4)
    assert valid < np.log(len(run.vocab))  # it learned something in a fifth of an epoch


def test_sample_continues_the_prime(trained_run, capsys):
    run_dir = next(p for p in trained_run[0].iterdir() if p.is_dir())
    done = in_process(capsys, "sample", "--run", run_dir, "--prime", "ALCESTE", "--length", 80, "--temperature", 0.7,
                         "--seed", 5)
    assert done.returncode == 0, done.stderr
    run = load_run(run_dir)
    expected = sample(run.model, run.vocab, "ALCESTE", 80, temperature=0.7, seed=5)  # what the app would write
    assert done.stdout == "ALCESTE" + expected + "\n"
    assert len(expected) == 80 and set(expected) <= set(run.vocab.chars)


def test_trace_writes_every_gate_and_state(trained_run, tmp_path, capsys):
    run_dir = next(p for p in trained_run[0].iterdir() if p.is_dir())
    out = tmp_path / "trace.npz"
    done = in_process(capsys, "trace", "--run", run_dir, "--text", "Le Misanthrope, señor\n", "--out", out)
    assert done.returncode == 0, done.stderr
    assert "traced 22 characters through 1 layer(s) of 16 units" in done.stdout
    assert "'ñ' is not in the vocabulary; traced as 'n'" in done.stderr
    data = np.load(out)
    assert set(data.files) == {"chars", "probs", *QUANTITIES}
    assert "".join(data["chars"]) == "Le Misanthrope, senor\n"
    for name in QUANTITIES:
        assert data[name].shape == (1, 22, 16), name
    assert np.all((data["forget_gate"] > 0) & (data["forget_gate"] < 1))
    assert np.allclose(data["hidden_state"], data["output_gate"] * np.tanh(data["cell_state"]), atol=1e-6)
    assert data["probs"].shape == (22, len(load_run(run_dir).vocab))
    assert np.allclose(data["probs"].sum(axis=1), 1.0, atol=1e-5)


def test_trace_writes_long_form_csv(trained_run, tmp_path):
    run_dir = next(p for p in trained_run[0].iterdir() if p.is_dir())
    out = tmp_path / "trace.csv"
    assert cli.main(["trace", "--run", str(run_dir), "--text", "Bon.", "--out", str(out)]) == 0
    frame = pd.read_csv(out, keep_default_na=False)
    assert list(frame.columns) == ["layer", "time", "character", "unit", "quantity", "value"]
    assert len(frame) == 1 * 4 * 16 * len(QUANTITIES)  # layers x characters x units x quantities
    assert "".join(frame.drop_duplicates("time")["character"]) == "Bon."


def test_unknown_run_folder_exits_2_from_the_shell():
    done = lstm_core_cli("sample", "--run", "no/such/run")
    assert done.returncode == 2
    assert done.stderr == "error: No run folder at no/such/run.\n" and done.stdout == ""


@pytest.mark.parametrize("args,message", [
    (("trace", "--run", "no/such/run", "--text", "a", "--out", "{tmp}/t.npz"), "error: No run folder"),
    (("sample", "--run", "data/pretrained/moliere", "--temperature", -1, "--length", 5),
     "error: Temperature must be 0 (greedy) or positive, got -1.0."),
    (("sample", "--run", "data/pretrained/moliere", "--length", 10**6), "error: Length must be between"),
    (("sample", "--run", "{tmp}", "--length", 5), "has no config.json: it is not an LSTM Lab run"),
    (("train", "--corpus", "seed", "--hidden", 0, "--out", "{tmp}"), "error: hidden size must be between 1 and 1024, got 0"),
    (("train", "--corpus", "{tmp}/empty.txt", "--hidden", 16, "--out", "{tmp}"), "error: The file is empty."),
    (("train", "--corpus", "{tmp}/missing.txt", "--out", "{tmp}"), "error: No corpus named"),
    (("train", "--corpus", "seed", "--lr", 50, "--out", "{tmp}"), "error: learning rate must be between"),
    (("train", "--corpus", "seed", "--arch", "gru", "--param-budget", 10, "--out", "{tmp}"),
     "error: param budget must be between 100 and"),
    (("train-memory", "--arch", "lstm", "--delay", 0, "--out", "{tmp}"), "error: delay must be between 1 and 1000"),
    (("train-memory", "--arch", "rnn", "--delay", 10, "--chrono", 20, "--out", "{tmp}"),
     "error: chrono initialisation sets gate biases; a plain RNN has no gates"),
    (("gradient-flow", "--run", "no/such/run", "--out", "{tmp}/g.csv"), "error: No run folder"),
    (("gradient-flow", "--run", "data/pretrained/moliere", "--text", "Trop court.", "--out", "{tmp}/g.csv"),
     "error: the text has 11 characters; lags up to 200 need at least 202"),
])
def test_bad_input_returns_2_with_a_clear_message(args, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    monkeypatch.setattr(cli, "configure_torch_threads", lambda: None)  # keep the test process on one thread
    (tmp_path / "empty.txt").write_bytes(b"")
    assert cli.main([str(a).replace("{tmp}", str(tmp_path)) for a in args]) == 2
    out, err = capsys.readouterr()
    assert message in err and err.startswith("error: ") and out == ""
    assert not [p for p in tmp_path.iterdir() if p.is_dir()]  # no run folder was left behind


def test_train_memory_and_gradient_flow_from_the_command_line(tmp_path, capsys, monkeypatch):
    """A plain RNN and an LSTM on the memory task, a few batches each, then their gradient flow as CSV (through
    ``cli.main`` in this process: the tests above start the command line as a program)."""
    monkeypatch.setattr(cli, "configure_torch_threads", lambda: None)  # keep the test process on one thread
    flows = {}
    for arch in ("rnn", "lstm"):
        code = cli.main(["train-memory", "--arch", arch, "--delay", "30", "--epochs", "0.05", "--seed", "2",
                         "--out", str(tmp_path)])
        out, err = capsys.readouterr()
        assert code == 0, err
        last = out.strip().splitlines()[-1]
        assert re.fullmatch(r"accuracy=0\.\d{4}", last), out
        assert "recall 1 of 8 symbols after 30 distractors" in out
        run_dir = Path(re.search(r"run saved in (.+)", out).group(1).strip())
        run = load_run(run_dir)
        assert run.config["kind"] == "memory" and run.model.architecture == arch
        assert abs(run.config["parameters"] - 20_000) < 500  # matched parameter counts by default
        csv = tmp_path / f"{arch}.csv"
        code = cli.main(["gradient-flow", "--run", str(run_dir), "--max-lag", "40", "--positions", "4", "--out", str(csv)])
        assert code == 0, capsys.readouterr().err
        flows[arch] = pd.read_csv(csv)
        assert list(flows[arch]["lag"]) == list(range(41)) and (flows[arch]["layer"] == 0).all()
    assert "cell_norm" in flows["lstm"] and "cell_norm" not in flows["rnn"]
    assert (flows["rnn"]["hidden_norm"] > 0).all()


def test_train_with_an_architecture_and_a_budget(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "configure_torch_threads", lambda: None)
    assert cli.main(["train", "--corpus", "seed", "--arch", "rnn", "--param-budget", "8000", "--epochs", "0.01",
                     "--seq-len", "20", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("training RNN (standard), hidden ")
    run = load_run(RunStore(tmp_path).path(RunStore(tmp_path).list().iloc[0]["id"]))
    assert run.model.architecture == "rnn" and run.name == "default (RNN)"
    assert abs(run.config["parameters"] - 8_000) < 200


def test_malformed_argument_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["train", "--hidden", "big", "--out", "unused"])
    assert exited.value.code == 2
    assert "argument --hidden: invalid int value: 'big'" in capsys.readouterr().err


def test_bench_help(capsys):
    done = in_process(capsys, "bench", "--help")
    assert done.returncode == 0
    assert "usage: python -m lstm_core bench" in done.stdout and "--quick" in done.stdout


def test_a_diverging_training_is_saved_as_diverged(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "configure_torch_threads", lambda: None)
    code = cli.main(["train", "--preset", "diverging-lr", "--corpus", "seed", "--hidden", "32", "--lr", "10",
                     "--epochs", "1", "--out", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.startswith("error: Training diverged at step")
    row = RunStore(tmp_path).list().iloc[0]
    assert row["status"] == "diverged"  # not "running" for ever
    assert row["steps"] >= 1 and row["seconds"] > 0


def test_train_through_the_local_executor_prints_the_same_lines(trained_run, tmp_path, capsys, monkeypatch):
    """The same training in a worker process of the local pool: the same lines, the same numbers."""
    monkeypatch.setattr(cli, "configure_torch_threads", lambda: None)
    code = cli.main(["train", "--corpus", "seed", "--hidden", "16", "--epochs", "0.2", "--seed", "3", "--name",
                     "cli tiny", "--out", str(tmp_path), "--executor", "local"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.splitlines()[1].startswith("running on the local executor")
    _, here = trained_run
    # the same kinds of lines (how many evaluations fit in 0.2 epochs depends on the speed)
    def shape(text):
        return {" ".join(re.sub(r"[\d.,]+", "N", line).split()) for line in text.splitlines()
                              if not line.startswith(("running on", "run saved", "training "))}
    final_line, evaluation = "final train_loss=N valid_loss=N seconds=N", "step N Ns train N valid N N chars/s"
    assert final_line in shape(out) and final_line in shape(here.stdout)
    assert shape(out) | shape(here.stdout) <= {final_line, evaluation}
    def final(text):
        return [float(v) for v in re.search(r"train_loss=([\d.]+) valid_loss=([\d.]+)", text).groups()]
    assert final(out) == pytest.approx(final(here.stdout), abs=2e-3)
    assert RunStore(tmp_path).list().iloc[0]["status"] == "finished"


def test_snapshots_exports_a_runs_gate_snapshots(trained_run, tmp_path, capsys):
    from lstm_core.snapshots import SnapshotStore

    run_dir = next(p for p in trained_run[0].iterdir() if p.is_dir())
    kept = SnapshotStore(run_dir).load()
    assert len(kept) >= 2, "a training from the command line keeps snapshots"
    out = tmp_path / "movie.npz"
    done = in_process(capsys, "snapshots", "--run", run_dir, "--out", out)
    assert done.returncode == 0, done.stderr
    assert re.search(rf"{len(kept)} snapshots \(steps 0 to [\d,]+, .* on a 240-char probe, 1 slot\(s\), into ", done.stdout)
    data = np.load(out)
    assert list(data["steps"]) == [s.step for s in kept]
    assert list(data["seconds"]) == pytest.approx([s.seconds for s in kept])
    assert data["forget_gate"].shape == (len(kept), 1, 240, 16) and data["forget_gate"].dtype == np.float32
    np.testing.assert_array_equal(data["cell_state"][-1], kept[-1].values["cell_state"].astype(np.float32))
    assert "".join(data["tokens"]) == kept[0].text and list(data["slots"]) == ["layer 0"]
    assert data["forget_gate_open"].shape == (len(kept), 1)


@pytest.mark.parametrize("args,message", [
    (("snapshots", "--run", "no/such/run", "--out", "{tmp}/m.npz"), "error: No run folder at no/such/run."),
    (("snapshots", "--run", "{tmp}", "--out", "{tmp}/m.npz"), "has no config.json: it is not an LSTM Lab run"),
    (("snapshots", "--run", "{plain}", "--out", "{tmp}/m.npz"), "error: This run has no snapshots"),
    (("snapshots", "--run", "{run}", "--out", "{tmp}/m.csv"), "error: --out must name a .npz file"),
    (("snapshots", "--run", "{run}", "--out", "{tmp}/no/such/folder/m.npz"), "cannot be written"),
])
def test_snapshots_refuses_bad_input(args, message, trained_run, tmp_path, capsys):
    import shutil

    run_dir = next(p for p in trained_run[0].iterdir() if p.is_dir())
    plain = tmp_path / "plain"  # a run folder without snapshots (trained before they were kept)
    plain.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(run_dir / name, plain / name)
    values = {"{tmp}": str(tmp_path), "{plain}": str(plain), "{run}": str(run_dir)}
    argv = [str(a) for a in args]
    for key, value in values.items():
        argv = [a.replace(key, value) for a in argv]
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert message in err and err.startswith("error: ") and out == ""


def test_pretrain_keeps_a_small_training_movie(tmp_path, monkeypatch, capsys):
    """The pretraining command, briefly and on a small model: its run keeps snapshots, thinned to the caps
    of the shipped folder (here lowered to what a few seconds of training reach)."""
    from lstm_core.snapshots import SnapshotStore

    monkeypatch.setattr(cli, "configure_torch_threads", lambda: None)
    monkeypatch.setattr(cli, "PRETRAIN_SNAPSHOTS", 4)
    original = cli.preset_config
    monkeypatch.setattr(cli, "preset_config", lambda name, **kw: original(
        "seed", **{**kw, "hidden_size": 16, "snapshot_every_seconds": 0.2, "eval_every_seconds": 0.5}))
    assert cli.main(["pretrain", "--max-seconds", "2", "--device", "cpu", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    run_dir = next(p for p in tmp_path.iterdir() if p.is_dir())
    kept = SnapshotStore(run_dir).load()
    assert f"snapshots: {len(kept)} kept" in out and len(kept) == 4
    assert kept[0].step == 0 and len(kept[0].tokens) == cli.PRETRAIN_PROBE_CHARS
    assert kept[-1].step == load_run(run_dir).metrics["step"].iloc[-1]


def test_the_shipped_models_movie_fits_its_budget():
    """The bigger preset's snapshot on the pretraining's probe, and how many of them the shipped folder keeps."""
    from lstm_core.snapshots import probe_passage

    corpus = lstm_core.load_corpus("full")
    config = cli.preset_config(cli.PRETRAIN_PRESET, probe=probe_passage(corpus.valid_text, cli.PRETRAIN_PROBE_CHARS))
    training = lstm_core.CharTraining(config, corpus=corpus)
    size = len(training.snapshot().to_bytes())
    assert size == pytest.approx(6 * 2 * 200 * 256 * 2, rel=0.01)  # quantities x layers x characters x units x fp16
    kept = min(cli.PRETRAIN_SNAPSHOTS, cli.PRETRAIN_SNAPSHOT_BYTES // size)
    assert 10 <= kept and kept * size <= 15_000_000, (kept, size)


def test_compare_rebuilds_a_comparison_at_a_tiny_size(tmp_path, monkeypatch, capsys):
    """``compare`` (which rebuilds the comparison /compare opens with) trains every contender to its end and
    leaves their runs, which load back as one comparison, small, without what only a continued training needs."""
    from lstm_core.compare_runs import SHIPPED_COMPARISON_DIR, shipped_comparison

    monkeypatch.setattr(cli, "configure_torch_threads", lambda: None)
    out = tmp_path / "compare-memory-5"
    assert cli.main(["compare", "--task", "memory", "--delay", "5", "--steps", "10", "--param-budget", "2000",
                     "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    saved = shipped_comparison(out)
    assert [c.label for c in saved.contenders] == ["LSTM", "GRU", "plain RNN"]
    assert saved.setup.delay == 5 and saved.setup.steps == 10 and ", ".join(saved.ids) in printed
    for folder in saved.runs.values():
        run = load_run(folder)
        assert run.metrics["step"].iloc[-1] == 10 and run.config["memory"]["delay"] == 5
        assert not (folder / "optimizer.safetensors").exists() and not (folder / "resume.json").exists()
    assert not (tmp_path / ".staging-compare-memory-5").exists()
    assert cli.parser().parse_args(["compare"]).out == str(SHIPPED_COMPARISON_DIR)  # the default rebuilds the shipped one
