"""Probes that read what no single unit holds, and steering along them.

A probe is a linear read-out of a whole layer's state (Hupkes et al. 2018's diagnostic classifiers): for each
text feature of the unit finder (lstm_core.analysis.FEATURES: inside a speaker's name, position in the line,
inside quotes...), a logistic regression (a feature that is on or off) or a ridge regression (the position in
the line) from the state at every character of validation text. It trains on the first part of that text and is
scored on the last part, which it never saw (accuracy, or R²), beside the best single unit's score on the same
part (the unit that follows the feature best on the training part, read out alone) and the score of always
answering the commoner value.

Steering adds α times the probe's direction (its weights, as a unit vector in the state's own units) to the
state after every character while sampling; α = 0 with the same seed is the plain sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..analysis import FEATURES, correlations, text_features
from ..trace import trace
from .common import WhyError, encode, read_on, sample_on, state_names, state_of, state_parts

HELD_OUT = 0.25  # the last quarter of the text scores the probes
REGRESSION = ("position_in_line",)  # the features that are a number; the others are on or off
RIDGE = 1.0  # L2 weight of the logistic probes, on standardised states
RIDGES = (1.0, 10.0, 100.0, 1e3, 1e4)  # the ridge probes' penalties to choose from (on part of the training part)
PROBE_TEXT = 12_000  # characters of validation text the probes read by default
MIN_POSITIVES = 5  # a feature seen fewer times in either part is not probed


@dataclass
class Probe:
    """One feature's linear read-out of one layer's state."""

    feature: str
    layer: int
    quantity: str
    kind: str  # "accuracy" (a feature on or off) or "R²" (a number)
    score: float  # on the held-out part
    unit_score: float  # the best single unit's, on the same part
    unit: int  # that unit
    baseline: float  # always the commoner value (accuracy), or 0 (R², the training mean)
    direction: np.ndarray  # (units,) unit vector in the state's space: where the feature grows
    train_steps: int
    held_out_steps: int


def split(length: int, held_out: float = HELD_OUT) -> int:
    """Where the held-out part starts: the probes train on [0, cut) and are scored on [cut, length)."""
    return int(round(length * (1 - held_out)))


def _standardise(train: np.ndarray, test: np.ndarray):
    mean, std = train.mean(0), train.std(0) + 1e-6
    return (train - mean) / std, (test - mean) / std, std


def _ridge(x: np.ndarray, y: np.ndarray, penalty: float | None = None) -> tuple[np.ndarray, float]:
    """Least squares with an L2 penalty on the weights (not the intercept): (weights, intercept). Without a
    ``penalty``, the one of RIDGES that scores best on the last fifth of the training part is used."""
    if penalty is None:
        cut = int(len(y) * 0.8)
        penalty = max(RIDGES, key=lambda lam: _r2(y[cut:], x[cut:] @ (fit := _ridge(x[:cut], y[:cut], lam))[0] + fit[1]))
    mean_x, mean_y = x.mean(0), y.mean()
    w = np.linalg.solve((x - mean_x).T @ (x - mean_x) + penalty * np.eye(x.shape[1]), (x - mean_x).T @ (y - mean_y))
    return w, mean_y - mean_x @ w


def _logistic(x: np.ndarray, y: np.ndarray, steps: int = 60) -> tuple[np.ndarray, float]:
    """Logistic regression with an L2 penalty, fitted by L-BFGS: (weights, intercept)."""
    xt, yt = torch.from_numpy(x).double(), torch.from_numpy(y).double()
    w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def loss():
        optimiser.zero_grad()
        value = torch.nn.functional.binary_cross_entropy_with_logits(xt @ w + b, yt) + RIDGE / len(y) * (w @ w)
        value.backward()
        return value

    with torch.enable_grad():
        optimiser.step(loss)
    return w.detach().numpy(), float(b.detach())


def _r2(y: np.ndarray, guess: np.ndarray) -> float:
    return float(1 - ((y - guess) ** 2).sum() / max(((y - y.mean()) ** 2).sum(), 1e-12))


def fit_probe(states: np.ndarray, values: np.ndarray, feature: str, layer: int = 0, quantity: str = "hidden_state",
              held_out: float = HELD_OUT) -> Probe:
    """A probe of ``feature`` (``values``: one per step) on ``states`` (time, units), trained on the first part and
    scored on the held-out rest, beside the best single unit's score there."""
    cut = split(len(values), held_out)
    x_train, x_test, std = _standardise(states[:cut].astype(np.float64), states[cut:].astype(np.float64))
    y_train, y_test = values[:cut].astype(np.float64), values[cut:].astype(np.float64)
    unit = int(np.argmax(np.abs(correlations(x_train, y_train))))
    if feature in REGRESSION:
        w, b = _ridge(x_train, y_train)
        score = _r2(y_test, x_test @ w + b)
        uw, ub = _ridge(x_train[:, [unit]], y_train)
        unit_score, baseline, kind = _r2(y_test, x_test[:, [unit]] @ uw + ub), 0.0, "R²"
    else:
        if min(y_train.sum(), (1 - y_train).sum(), y_test.sum(), (1 - y_test).sum()) < MIN_POSITIVES:
            raise WhyError(f"The text has too few characters {FEATURES[feature]} on either side of its held-out "
                           "part to probe for it.")
        w, b = _logistic(x_train, y_train)
        score = float(((x_test @ w + b > 0) == (y_test > 0.5)).mean())
        uw, ub = _logistic(x_train[:, [unit]], y_train)
        unit_score = float(((x_test[:, [unit]] @ uw + ub > 0) == (y_test > 0.5)).mean())
        baseline, kind = float(max(y_test.mean(), 1 - y_test.mean())), "accuracy"
    direction = w / std  # the weights in the state's own units: d(prediction)/d(state)
    direction = direction / max(np.linalg.norm(direction), 1e-12)
    return Probe(feature, layer, quantity, kind, score, unit_score, unit, baseline, direction, cut, len(values) - cut)


def train_probes(model, vocab, text: str, layer: int = 0, quantity: str = "hidden_state",
                 features=None, held_out: float = HELD_OUT) -> list[Probe]:
    """A probe for every feature of the unit finder present on both sides of ``text``'s held-out cut."""
    if quantity not in state_names(model):
        raise WhyError(f"A {model.arch.display_name} has no {quantity.replace('_', ' ')}.")
    if not 0 <= layer < model.config.num_layers:
        raise WhyError(f"The layer must be between 0 and {model.config.num_layers - 1}, got {layer}.")
    traced = trace(model, vocab, text)
    marks = text_features(traced.text)
    states = traced[quantity][layer]  # (time, units)
    probes = []
    for feature in features or FEATURES:
        try:
            probes.append(fit_probe(states, marks[feature], feature, layer, quantity, held_out))
        except WhyError:
            continue  # absent from one side of the cut: nothing to score it on
    return probes


def probe_frame(probes: list[Probe]) -> pd.DataFrame:
    """The probes as a table: feature, measure, probe, best unit, its score, always-the-commoner."""
    return pd.DataFrame([{"feature": p.feature, "measure": p.kind, "probe (whole state)": p.score,
                          "best single unit": p.unit_score, "unit": p.unit, "always the commoner": p.baseline,
                          "held-out steps": p.held_out_steps} for p in probes])


@torch.no_grad()
def steered_sample(model, vocab, prime: str, probe: Probe, alpha: float, length: int = 200,
                   temperature: float = 0.8, seed: int = 0) -> str:
    """Write ``length`` characters after ``prime``, adding ``alpha`` × the probe's direction to its layer's state
    after every character read (and once after the prime)."""
    model.eval()
    ids, _, _ = encode(vocab, prime, "the prime")
    direction = torch.from_numpy(probe.direction).float()

    def edit(state):
        parts = state_parts(model, state)
        parts = {name: value.clone() for name, value in parts.items()}
        parts[probe.quantity][probe.layer, 0] += alpha * direction
        return state_of(model, parts)

    _, state = model(ids)
    state = edit(state)
    logits, state = read_on(model, ids[:, :0], state)
    return sample_on(model, vocab, logits[-1], state, length, temperature, seed, edit=edit)
