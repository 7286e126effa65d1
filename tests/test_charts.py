"""Training charts: the learning-rate axis fits the rates it shows, losses say what they are averaged over,
accuracy is drawn on 0 to 100%, and throughput names what it counts."""

import math

import numpy as np
import pandas as pd
import pytest

from lab_ui.render.training_figures import accuracy_figure, log_range, log_ticks, loss_figure, signals_figure


def frame(lr) -> pd.DataFrame:
    steps = np.arange(1, len(lr) + 1)
    return pd.DataFrame({"step": steps, "seconds": steps * 0.1, "train_loss": 2.0 / steps, "grad_norm": 1.0,
                         "items_per_sec": 900.0, "lr": lr, "valid_loss": np.nan, "valid_accuracy": np.nan})


def lr_axis(figure: dict) -> dict:
    index = next(i for i, trace in enumerate(figure["data"]) if trace["name"] == "Learning rate")
    return figure["layout"][f"yaxis{'' if index == 0 else index + 1}"]


def test_a_decaying_rate_is_drawn_on_a_log_axis_that_holds_all_its_values():
    rates = 2e-3 * (0.1 + 0.9 * (1 + np.cos(np.linspace(0, math.pi, 200))) / 2)  # cosine to 10%
    axis = lr_axis(signals_figure(frame(rates)))
    low, high = axis["range"]
    assert axis["type"] == "log"
    assert low < math.log10(rates.min()) and math.log10(rates.max()) < high
    assert high - low < 1.3, "the axis spans the rates' one decade, not the default guess"
    assert axis["tickvals"] == [0.0002, 0.00063, 0.002] and axis["ticktext"] == ["0.0002", "0.00063", "0.002"]


def test_a_constant_rate_sits_inside_an_axis_of_some_width():
    low, high = log_range(np.full(50, 0.1))
    assert low < -1 < high and high - low == pytest.approx(0.3)
    assert log_range([np.nan, 0.0]) == [-4.0, 0.0], "nothing positive to show: a default range"
    assert log_ticks(np.full(50, 0.1)) == [0.1], "one tick, not three identical ones"


def test_losses_say_what_they_are_averaged_over():
    data = frame(np.full(10, 1e-3))
    assert loss_figure({"run": data}, per="word")["layout"]["yaxis"]["title"]["text"] == "Loss (nats per word)"
    assert loss_figure({"run": data})["layout"]["yaxis"]["title"]["text"] == "Loss (nats per character)"
    with pytest.raises(ValueError, match="bits per character"):
        loss_figure({"run": data}, unit="bits", per="word")


def test_throughput_names_its_items_and_accuracy_spans_0_to_100_percent():
    data = frame(np.full(10, 1e-3))
    names = [trace["name"] for trace in signals_figure(data, item_name="words")["data"]]
    assert "Throughput (words/s)" in names
    data.loc[5, "valid_accuracy"] = 0.55
    assert accuracy_figure({"run": data})["layout"]["yaxis"]["range"] == [0, 1.02]
