"""The arena on text: the sweep's logic, the shipped per-architecture settings and who uses them, the arena
table's data, and the plain RNN's validation loss (which read 12-20 nats beside a training loss of 2.0).

Every training here is a few steps of a tiny model, except the RNN's (marked slow): that one needs the width
at which the fault appeared.
"""

from __future__ import annotations

import json
import math

import pytest

from lstm_core import arena
from lstm_core.cli import main
from lstm_core.compare import GRU, LSTM, RNN, CompareSetup
from lstm_core.limits import CHAR_LIMITS
from lstm_core.runs import read_config
from lstm_core.training import tuned
from lstm_core.training.char import CharTraining, evaluate_loss, preset_config


@pytest.fixture
def settings_file(tmp_path, monkeypatch):
    """A settings file of the test's own: the GRU swept, the others not."""
    path = tmp_path / "arch_settings.json"
    path.write_text(json.dumps({"gru": {"chosen": {"lr": 0.0042, "grad_clip": 2.5, "valid_loss": 1.9},
                                        "points": [], "command": "python -m lstm_core sweep --arch gru",
                                        "date": "2026-01-01"}}), encoding="utf-8")
    monkeypatch.setattr(tuned, "SETTINGS_FILE", path)
    return path


def test_the_sweep_tries_each_rate_then_each_clip_at_the_best_and_keeps_the_best(tmp_path):
    seen = []
    points = arena.sweep("rnn", param_budget=3_000, lrs=(1e-4, 3e-2), clips=(0.5,), max_steps=20, on_point=seen.append)
    assert [(p.lr, p.grad_clip) for p in points][:2] == [(1e-4, 1.0), (3e-2, 1.0)]
    best_lr = min(points[:2], key=lambda p: p.valid_loss).lr
    assert (points[2].lr, points[2].grad_clip) == (best_lr, 0.5) and seen == points
    assert all(p.steps == 20 and math.isfinite(p.valid_loss) for p in points)
    best = arena.choose(points)
    assert best.valid_loss == min(p.valid_loss for p in points)
    path = tmp_path / "settings.json"
    arena.record_sweep("rnn", "standard", points, best, {"max_steps": 20}, "python -m lstm_core sweep --arch rnn",
                       {"seed_loop_chars_per_sec": 1}, path)
    assert tuned.tuned_settings("rnn", path=path) == {"lr": best.lr, "grad_clip": best.grad_clip}
    assert len(json.loads(path.read_text())["rnn"]["points"]) == 3


def test_a_sweep_where_everything_diverged_says_so():
    diverged = arena.SweepPoint(1.0, None, None, None, 3, 0.1, 100)
    with pytest.raises(ValueError, match="diverged"):
        arena.choose([diverged])
    with pytest.raises(ValueError, match="at least 19 steps"):
        arena.budget_config("rnn", "standard", 3_000, max_steps=3)


def test_the_architectures_own_settings_are_used_unless_set(settings_file):
    assert preset_config("default", architecture="gru").lr == 0.0042
    assert preset_config("default", architecture="gru").grad_clip == 2.5
    assert preset_config("default", architecture="gru", lr=0.01).lr == 0.01  # the user's choice wins
    assert preset_config("default", architecture="gru", tuned=False).lr == 0.02  # the preset's own
    assert preset_config("default", architecture="rnn").lr == 0.02  # never swept: the preset's
    assert preset_config("seed", architecture="gru").lr == 5e-3  # another preset keeps its own settings
    on_text = CompareSetup("architectures", "full", param_budget=5_000, steps=20)
    assert [on_text.config(c).lr for c in (LSTM, GRU, RNN)] == [0.02, 0.0042, 0.02]
    assert "0.0042" in tuned.tuned_line("gru") and tuned.tuned_line("rnn") == ""


def test_train_on_the_command_line_uses_them(settings_file, tmp_path, capsys):
    assert main(["train", "--arch", "gru", "--param-budget", "3000", "--epochs", "0.011", "--out", str(tmp_path)]) == 0
    run = next(p for p in tmp_path.iterdir() if p.is_dir())
    assert read_config(run)["train"]["lr"] == 0.0042 and read_config(run)["train"]["grad_clip"] == 2.5


def test_the_shipped_settings_cover_every_architecture_and_are_in_range():
    shipped = tuned.read_settings()
    for key in ("lstm", "gru", "rnn", "lstm/no_forget_gate", "lstm/coupled_gates", "lstm/no_output_gate"):
        record = shipped[key]
        low, high = CHAR_LIMITS["lr"]
        assert low <= record["chosen"]["lr"] <= high
        assert record["chosen"]["lr"] in [p["lr"] for p in record["points"]]  # chosen among the points tried
        assert record["command"].startswith("python -m lstm_core sweep") and record["machine"]["seed_loop_chars_per_sec"] > 0


def test_the_shipped_table_reads_and_sits_beside_the_ngram():
    data = arena.read_table()
    assert data is not None
    records = arena.table_records(data)
    assert records[-1]["architecture"] == "order-6 n-gram"
    assert {"LSTM", "GRU", "plain RNN"} <= {r["architecture"] for r in records}
    markdown = arena.table_markdown(data)
    assert markdown.count("\n") == len(records) + 1
    assert "seed notebook's loop ran at" in arena.table_how(data)


@pytest.mark.slow
def test_a_plain_rnn_at_its_shipped_settings_scores_on_validation_text_as_it_trains():
    """At the shared rate (2e-2) a 200k-parameter RNN saturated its state (most units at |h| > 0.99) and fitted
    the state carried through training: 2.0 nats on its next training chunk, 4 to 20 on any other text. At its own
    rate its validation loss stays near its training loss."""
    config = preset_config("default", architecture="rnn", param_budget=200_000, max_seconds=None, epochs=100 / 1898,
                           snapshot_every_seconds=None)
    training = CharTraining(config)
    while not training.finished():
        training.step()
    train_loss = sum(row["train_loss"] for row in training.rows[-20:]) / 20
    valid = evaluate_loss(training.model, training.valid_ids[:5_000])
    assert valid < train_loss + 0.3, (valid, train_loss)  # at 2e-2: 3.75 against 2.04 after these 100 steps


def test_the_compare_check_says_the_order_its_numbers_show(tmp_path, settings_file):
    path = tmp_path / "check.json"
    for arch, lr, loss in [("lstm", 0.02, 1.60), ("gru", 0.0042, 1.61), ("rnn", 0.01, 1.70), ("rnn", 0.005, 1.65)]:
        arena.record_check_row(arch, lr, 200_000, 1_500, 0, loss, 1.0, f"check {arch}", path)
    arena.record_check_row("rnn", 0.005, 200_000, 1_500, 0, 1.55, 1.0, "again", path)  # replaces the same setting
    data = arena.read_check(path)
    assert len(data["rows"]) == 4
    note = arena.check_note(data, 200_000, 1_500)
    assert "the order is plain RNN < LSTM < GRU" in note and "do not show the literature's order" in note
    assert "GRU 1.610" in note  # the GRU's shipped rate (the test's settings file): its row is the shipped one
    arena.record_check_row("rnn", 0.005, 200_000, 1_500, 0, 1.75, 1.0, "again", path)
    note = arena.check_note(arena.read_check(path), 200_000, 1_500)
    assert "the order is LSTM < GRU < plain RNN" in note and "as the literature found" in note
    assert arena.check_note(data, 50_000, 1_500) == ""  # nothing measured at these settings
