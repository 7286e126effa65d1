"""scripts/memory_table.py: the table, the search for the delay at which each model breaks, the gradient
ratio, and (slow) a tiny real run in two processes. The full table is run by hand on a quiet machine."""

from __future__ import annotations

import re

import pytest

from scripts import memory_table


def fake_training(model, delay, max_seconds, budget, seed, lag):
    """Recall that holds up to a model's reach and falls to chance beyond it; gradients that fade by a
    model's own factor per step."""
    reach = {"lstm": 150 if "5" in model.label else 30, "gru": 60, "rnn": 10}[model.architecture]
    fade = {"lstm": 0.99, "gru": 0.97, "rnn": 0.5}[model.architecture]
    accuracy = 1.0 if delay <= reach else 0.7 if delay <= 2 * reach else 0.125
    return {"model": model.label, "delay": delay, "accuracy": accuracy, "seconds": max_seconds, "wall_seconds": 1.0,
            "steps": 100, "solved_at": 5.0 if accuracy >= 0.95 else None, "hidden": 60, "parameters": 20_000,
            "flow_before": [fade ** (2 * k) for k in range(delay + 2)], "flow_after": [fade ** k for k in range(delay + 2)]}


def test_the_table_searches_each_models_breaking_delay_and_quotes_the_gradient_ratio(monkeypatch, capsys):
    monkeypatch.setattr(memory_table, "train_one", fake_training)
    assert memory_table.main(["--max-seconds", "60", "--max-delay", "400"]) == 0
    out = capsys.readouterr().out
    rows = {line.split(" | ")[0].strip("| "): line for line in out.splitlines() if line.startswith("| ") and "---" not in line}
    header = next(line for line in out.splitlines() if line.startswith("| model"))
    assert "delay 20 | delay 50 | delay 100 | delay 200 | delay 400" in header
    app = rows["LSTM, forget bias 5 (the app's setting) (hidden 60)"]
    assert app.endswith("| 100 | 400 |")  # recalls at 100, 0.7 at 200 (tried at 400: breaks there)
    assert "1.000 (5 s)" in app and "0.700 (never)" in app
    assert rows["plain RNN (hidden 60)"].endswith("| none tried | 50 |")  # 0.7 at 20, 0.125 at 50: no search
    assert rows["GRU, update bias 5 (hidden 60)"].endswith("| 50 | 200 |")
    ratio = re.search(r"at the answer \(models trained at delay 50\): (\S+) after training", out)
    assert float(ratio.group(1)) == pytest.approx(0.99 ** 50 / 0.5 ** 50, rel=1e-2)


def test_bad_arguments_are_refused(capsys):
    with pytest.raises(SystemExit):
        memory_table.main(["--jobs", "0"])
    assert "--jobs must be at least 1" in capsys.readouterr().err


@pytest.mark.slow
def test_a_tiny_real_run_in_two_processes(capsys):
    assert memory_table.main(["--max-seconds", "1", "--delays", "5", "--max-delay", "5", "--jobs", "2", "--lag", "5"]) == 0
    out = capsys.readouterr().out
    assert len([line for line in out.splitlines() if line.startswith("| ") and "delay 5" not in line
                and "---" not in line]) == 4
    assert re.search(r"Gradient ratio at lag 5, .*: \S+ after training", out)
