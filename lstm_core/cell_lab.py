"""The Cell lab's content: what its sliders hold, the scenario presets and the claims their
sentences make, and sequences typed in.

The cell itself (weights, one step, a sequence) is :mod:`lstm_core.cell`; a trained model's unit
walked through text is :mod:`lstm_core.unit_walk`. Here:

    values = SCENARIOS["forget"].values()          # CellValues: weights, x, h, c and the gates mode's z
    step = values.step("gates")                    # a CellStep, through the one recurrence
    SCENARIOS["forget"].check("gates")             # [] when every claim of the sentence holds
    parse_sequence("1 0 1")                        # numbers, or a word through a small embedding
    cell_update_line(step)                         # "f = 0.998 and i = 0.002: c_t = ... = 0.800", and its numbers

A scenario's sentence is written per mode (the gates mode sets the pre-activations directly, so a
sentence about the input would be false there) and comes with claims (``f ≈ 1``, ``c_t ≈ c_{t−1}``)
that the tests check against the cell's numbers in every mode, and that the page checks live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch

from .cell import CellStep, CellWeights, cell_step, run_sequence, step_from_preactivations
from .gates import GATES, SYMBOLS

MODES = ("weights", "gates", "sequence")  # the modes a scenario speaks in (a trained unit has none)
RANGES = {"x": (-2.0, 2.0), "h": (-1.0, 1.0), "c": (-3.0, 3.0), "w": (-10.0, 10.0), "z": (-8.0, 8.0)}
SLIDER_STEP = 0.05
ARRAYS = {"wx": "w", "wh": "w", "b": "w", "x": "x", "h": "h", "c": "c", "z": "z"}  # name -> its range
MAX_SEQUENCE = 40


# ----------------------------------------------------------------------------- what the sliders hold


def cell_update_line(step: CellStep, unit: int = 0) -> tuple[str, list[str]]:
    """One unit's cell update in one line, with the numbers it quotes as written: the page prints the line under
    the lab, and the lesson quotes the same numbers. ``f = 0.998 and i = 0.002: c_t = f·c_(t−1) + i·g =
    0.998 × 0.80 + 0.002 × 0.66 = 0.800``."""
    f, i, c_prev, g, c = (float(getattr(step, name)[unit]) for name in
                          ("forget_gate", "input_gate", "c_prev", "cell_candidate", "cell_state"))
    quoted = [f"f = {f:.3f}", f"i = {i:.3f}", f"{c_prev:.2f}", f"{c:.3f}"]
    return (f"{quoted[0]} and {quoted[1]}: c_t = f·c_(t−1) + i·g = {f:.3f} × {quoted[2]} + {i:.3f} × {g:.2f} = "
            f"{quoted[3]}", quoted)


@dataclass
class CellValues:
    """Everything the lab's sliders set: the weights, x_t, h_{t−1}, c_{t−1}, and the pre-activations
    z (4, units) that the gates mode sets directly."""

    weights: CellWeights
    x: np.ndarray  # (inputs,)
    h: np.ndarray  # (units,)
    c: np.ndarray  # (units,)
    z: np.ndarray  # (4, units)

    @property
    def units(self) -> int:
        return self.weights.units

    @property
    def inputs(self) -> int:
        return self.weights.inputs

    @classmethod
    def zeros(cls, units: int, inputs: int) -> "CellValues":
        return cls(CellWeights.zeros(units, inputs), np.zeros(inputs), np.zeros(units), np.zeros(units),
                   np.zeros((4, units)))

    def step(self, mode: str) -> CellStep:
        """This cell's step: from the weights (weights and sequence modes) or from z (gates mode)."""
        if mode == "gates":
            return step_from_preactivations(self.z, self.c)
        return cell_step(self.weights, self.x, self.h, self.c)

    def arrays(self) -> dict[str, np.ndarray]:
        w = self.weights
        return {"wx": w.weight_x, "wh": w.weight_h, "b": w.bias, "x": self.x, "h": self.h, "c": self.c, "z": self.z}

    @classmethod
    def from_arrays(cls, arrays: dict) -> "CellValues":
        a = {name: np.asarray(value, np.float64) for name, value in arrays.items()}
        return cls(CellWeights(a["wx"], a["wh"], a["b"]), a["x"], a["h"], a["c"], a["z"])

    def resized(self, units: int, inputs: int) -> "CellValues":
        """The same values for ``units`` × ``inputs``: what fits is kept, new entries are 0."""
        new = CellValues.zeros(units, inputs)
        for name, old in self.arrays().items():
            target = new.arrays()[name]
            cut = tuple(slice(0, min(a, b)) for a, b in zip(old.shape, target.shape))
            target[cut] = old[cut]
        return new

    def to_json(self) -> dict[str, list]:
        return {name: value.tolist() for name, value in self.arrays().items()}

    @classmethod
    def from_json(cls, data: dict, units: int, inputs: int) -> "CellValues":
        """Values sent back by the browser, checked: shapes must fit, numbers are clipped to the sliders' ranges."""
        shapes = CellValues.zeros(units, inputs).arrays()
        arrays = {}
        for name, template in shapes.items():
            value = np.asarray(data.get(name), np.float64)
            if value.shape != template.shape or not np.isfinite(value).all():
                raise ValueError(f"{name} must hold {template.size} finite numbers shaped {template.shape}")
            arrays[name] = np.clip(value, *RANGES[ARRAYS[name]])
        return cls.from_arrays(arrays)

    def query(self, base: "CellValues | None") -> dict[str, str | None]:
        """The arrays that differ from ``base`` (resized like these) as link parameters ("0.8,0,-1.5");
        None for the others, so that a preset's own link stays short."""
        base_arrays = base.resized(self.units, self.inputs).arrays() if base is not None else {}
        out = {}
        for name, value in self.arrays().items():
            same = name in base_arrays and np.allclose(value, base_arrays[name], atol=1e-9)
            out[name] = None if same else ",".join(f"{round(float(v), 4):g}" for v in value.reshape(-1))
        return out

    def with_query(self, params: dict) -> tuple["CellValues", list[str]]:
        """These values with the arrays given in a link applied; also the problems found (ignored arrays)."""
        arrays, problems = {k: v.copy() for k, v in self.arrays().items()}, []
        for name, template in self.arrays().items():
            text = params.get(name)
            if text is None:
                continue
            try:
                numbers = np.array([float(v) for v in str(text).split(",")], np.float64)
            except ValueError:
                numbers = np.array([])
            if numbers.size != template.size or not np.isfinite(numbers).all():
                problems.append(f"{name} needs {template.size} numbers; the link's value was ignored")
                continue
            low, high = RANGES[ARRAYS[name]]
            if numbers.min() < low or numbers.max() > high:
                problems.append(f"{name} must lie between {low:g} and {high:g}; the link's values were clipped")
            arrays[name] = np.clip(numbers, low, high).reshape(template.shape)
        return CellValues.from_arrays(arrays), problems


# ----------------------------------------------------------------------------- claims and scenarios

QUANTITY_TEXT = {  # how a claim names what it checks (the sentences' notation: c_{t−1} is c with t−1 below)
    **{name: SYMBOLS[name] for name in GATES}, "cell_state": f"{SYMBOLS['cell_state']}_t",
    "hidden_state": f"{SYMBOLS['hidden_state']}_t", "c_prev": f"{SYMBOLS['cell_state']}_{{t−1}}",
    "kept": f"{SYMBOLS['forget_gate']}·{SYMBOLS['cell_state']}_{{t−1}}",
    "written": f"{SYMBOLS['input_gate']}·{SYMBOLS['cell_candidate']}", "tanh_cell": f"tanh({SYMBOLS['cell_state']}_t)",
}


@dataclass(frozen=True)
class Claim:
    """One checkable part of a scenario's sentence: ``quantity ≈ target`` for unit 0, within ``tolerance``.

    ``target`` is a number or another quantity of the same step (``"c_prev"``, ``"tanh_cell"``...);
    ``when`` limits a claim to the steps whose input x_t[0] equals it (a sentence's "at x = 1").
    """

    quantity: str
    target: float | str
    tolerance: float = 0.02
    when: float | None = None

    @property
    def label(self) -> str:
        target = QUANTITY_TEXT[self.target] if isinstance(self.target, str) else f"{self.target:g}"
        return f"{QUANTITY_TEXT[self.quantity]} ≈ {target}"

    def applies(self, step: CellStep) -> bool:
        return self.when is None or bool(step.x.size and abs(step.x[0] - self.when) < 1e-9)

    def check(self, step: CellStep, unit: int = 0) -> tuple[bool, float, float]:
        """(holds, the quantity's value, the target's value) at ``step``."""
        value = float(getattr(step, self.quantity)[unit])
        target = float(getattr(step, self.target)[unit]) if isinstance(self.target, str) else float(self.target)
        return abs(value - target) <= self.tolerance, value, target

    def to_json(self) -> dict:
        return {"quantity": self.quantity, "target": self.target, "tolerance": self.tolerance, "when": self.when,
                "label": self.label}


def near(quantity: str, target, tolerance: float = 0.02, when: float | None = None) -> Claim:
    return Claim(quantity, target, tolerance, when)


@dataclass(frozen=True)
class Scenario:
    """A one-unit, one-input cell set up to show one behaviour, with a sequence to step through.

    ``text`` holds one sentence per mode and ``claims`` what each sentence says about the numbers.
    """

    name: str
    weight_x: tuple  # per gate i, f, g, o
    weight_h: tuple
    bias: tuple
    x: float
    h_prev: float
    c_prev: float
    sequence: str
    text: dict = field(default_factory=dict)
    claims: dict = field(default_factory=dict)

    def weights(self) -> CellWeights:
        return CellWeights(np.reshape(self.weight_x, (4, 1, 1)), np.reshape(self.weight_h, (4, 1, 1)),
                           np.reshape(self.bias, (4, 1)))

    def values(self) -> CellValues:
        """The preset's values; the gates mode's z is what its weights make of its input."""
        x, h, c = np.array([self.x]), np.array([self.h_prev]), np.array([self.c_prev])
        return CellValues(self.weights(), x, h, c, cell_step(self.weights(), x, h, c).pre)

    def steps(self, mode: str) -> list[CellStep]:
        """The steps a mode shows for this preset: one step, or the whole sequence."""
        values = self.values()
        if mode == "sequence":
            inputs = parse_sequence(self.sequence).inputs
            return run_sequence(values.weights, inputs, values.h, values.c).steps
        return [values.step(mode)]

    def check(self, mode: str, steps: list[CellStep] | None = None) -> list[str]:
        """What contradicts this mode's sentence: one line per failed claim, or per claim that never applied."""
        problems = []
        steps = self.steps(mode) if steps is None else steps
        for claim in self.claims[mode]:
            applied = [(t, *claim.check(step)) for t, step in enumerate(steps) if claim.applies(step)]
            problems += [f"{self.name}/{mode} step {t}: {claim.label} fails ({value:.4f} vs {target:.4f})"
                         for t, holds, value, target in applied if not holds]
            if not applied:
                problems.append(f"{self.name}/{mode}: {claim.label} never applies")
        return problems

    def to_json(self, mode: str) -> dict:
        return {"name": self.name, "text": self.text[mode], "claims": [c.to_json() for c in self.claims[mode]]}


F_OPEN, F_SHUT = near("forget_gate", 1.0, 0.01), near("forget_gate", 0.0, 0.01)
I_OPEN, I_SHUT = near("input_gate", 1.0, 0.01), near("input_gate", 0.0, 0.01)
KEPT = near("cell_state", "c_prev")

SCENARIOS = {
    "remember": Scenario(
        "remember", weight_x=(0.0, 0.0, 1.0, 0.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(-6.0, 6.0, 0.0, 6.0),
        x=0.8, h_prev=0.0, c_prev=0.8, sequence="1 -1 0.5 0 -0.5 1",
        text={"weights": "The forget gate is wide open (bias +6, so f ≈ 1) and the input gate shut (bias −6, so "
                         "i ≈ 0): c_t ≈ c_{t−1} whatever the input. This is how an LSTM carries a fact across many "
                         "steps: the memory is copied, not rewritten.",
              "gates": "The preset sets z_f = +6, so f ≈ 1, and z_i = −6, so i ≈ 0: c_t ≈ c_{t−1} whatever the "
                       "candidate g. Slide z_f down to watch the memory fade.",
              "sequence": "Whatever the input, f ≈ 1 and i ≈ 0 at every step, so c_t ≈ c_{t−1}: step through "
                          "the sequence and the memory stays where it started."},
        claims={mode: (F_OPEN, I_SHUT, KEPT) for mode in MODES}),
    "forget": Scenario(
        "forget", weight_x=(0.0, -10.0, 0.0, 0.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(-6.0, 5.0, 0.0, 6.0),
        x=1.0, h_prev=0.0, c_prev=0.9, sequence="0 0 0 1 0 0",
        text={"weights": "A strong positive input drives the forget gate shut (f = σ(−10x + 5) ≈ 0 at x = 1), so "
                         "the old cell state is wiped: c_t ≈ 0. With x near 0 the same gate stays open "
                         "(σ(5) ≈ 0.99): the input decides when the memory is erased.",
              "gates": "The preset sets z_f = −5 (what −10x + 5 gives at x = 1), so f ≈ 0 and the old cell "
                       "state is wiped: c_t ≈ 0. Slide z_f above 0 and the gate opens again: the memory is kept.",
              "sequence": "Step through the sequence: at each 1 the forget gate shuts (f ≈ 0) and c_t falls to "
                          "about 0; at each 0 it stays open (f ≈ 1) and c_t keeps what it held."},
        claims={"weights": (near("forget_gate", 0.0, 0.01, when=1.0), near("cell_state", 0.0, when=1.0)),
                "gates": (F_SHUT, near("cell_state", 0.0)),
                "sequence": (near("forget_gate", 0.0, 0.01, when=1.0), near("cell_state", 0.0, when=1.0),
                             near("forget_gate", 1.0, 0.01, when=0.0), near("cell_state", "c_prev", when=0.0))}),
    "write": Scenario(
        "write", weight_x=(0.0, 0.0, 2.0, 0.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(6.0, -6.0, 0.0, 6.0),
        x=0.5, h_prev=0.0, c_prev=-0.7, sequence="0.5 -0.5 1 0 -1",
        text={"weights": "The input gate is open (i ≈ 1) and the forget gate shut (f ≈ 0), so the cell state "
                         "becomes the candidate: c_t ≈ g = tanh(2x). The memory follows the current input and "
                         "nothing of the past survives.",
              "gates": "The preset sets z_i = +6 (i ≈ 1) and z_f = −6 (f ≈ 0), so c_t ≈ g = tanh(z_g): the old "
                       "c_{t−1} is overwritten by the candidate.",
              "sequence": "At every step i ≈ 1 and f ≈ 0, so c_t ≈ g = tanh(2x): step through and the memory "
                          "follows each input, forgetting the one before."},
        claims={mode: (I_OPEN, F_SHUT, near("cell_state", "cell_candidate")) for mode in MODES}),
    "read": Scenario(
        "read", weight_x=(0.0, 0.0, 0.0, 8.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(-6.0, 6.0, 0.0, -4.0),
        x=1.0, h_prev=0.0, c_prev=0.9, sequence="0 0 1 0 1 0",
        text={"weights": "The memory is kept (f ≈ 1, i ≈ 0) while the output gate o = σ(8x − 4) opens only when "
                         "x is high: at x = 1, o ≈ 1 and h_t ≈ tanh(c_t). At x = 0 the gate would shut "
                         "(σ(−4) ≈ 0.02) and h_t would be about 0: the cell can hold a value without showing it.",
              "gates": "The preset sets z_o = +4 (what 8x − 4 gives at x = 1), so o ≈ 1 and h_t ≈ tanh(c_t): the "
                       "memory kept by f ≈ 1 and i ≈ 0 is shown. Slide z_o down to −4 and h_t drops to about 0 "
                       "while c_t stays: the cell holds a value without showing it.",
              "sequence": "The memory is kept at every step (f ≈ 1, i ≈ 0). At each 1 the output gate opens "
                          "(o ≈ 1) and h_t ≈ tanh(c_t); at each 0 it shuts (o ≈ 0) and h_t ≈ 0: step through "
                          "and watch h_t blink while c_t stays."},
        claims={"weights": (F_OPEN, I_SHUT, near("output_gate", 1.0, when=1.0), near("hidden_state", "tanh_cell", when=1.0)),
                "gates": (F_OPEN, I_SHUT, near("output_gate", 1.0), near("hidden_state", "tanh_cell")),
                "sequence": (F_OPEN, I_SHUT, near("output_gate", 1.0, when=1.0),
                             near("hidden_state", "tanh_cell", when=1.0), near("output_gate", 0.0, when=0.0),
                             near("hidden_state", 0.0, when=0.0))}),
    "count": Scenario(
        "count", weight_x=(0.0, 0.0, 0.55, 0.0), weight_h=(0.0, 0.0, 0.0, 0.0), bias=(6.0, 6.0, 0.0, 6.0),
        x=1.0, h_prev=0.0, c_prev=0.0, sequence="1 1 0 1 1 1 0 1",
        text={"weights": "The forget and input gates are both open (f ≈ 1, i ≈ 1) and an input of 1 writes "
                         "i·g ≈ tanh(0.55) ≈ 0.5, so c_t ≈ c_{t−1} + 0.5. Feed it ones and zeros in *A sequence, "
                         "step by step*: c_t counts the ones in halves.",
              "gates": "The preset sets z_f = z_i = +6 (f ≈ 1, i ≈ 1) and z_g = 0.55, so the candidate g ≈ 0.5 "
                       "is added to the memory: c_t ≈ c_{t−1} + 0.5. Each such step adds one half.",
              "sequence": "Each 1 adds i·g ≈ 0.5 to the cell and each 0 adds nothing (g = tanh(0) = 0), while "
                          "f ≈ 1 keeps what is there: c_t counts the ones in halves, and h_t = o·tanh(c_t) "
                          "saturates as the count grows."},
        claims={"weights": (F_OPEN, I_OPEN, near("written", 0.5, 0.01, when=1.0), near("kept", "c_prev")),
                "gates": (F_OPEN, I_OPEN, near("written", 0.5, 0.01), near("kept", "c_prev")),
                "sequence": (F_OPEN, near("kept", "c_prev"), near("written", 0.5, 0.01, when=1.0),
                             near("written", 0.0, 0.01, when=0.0))}),
}


# ----------------------------------------------------------------------------- sequences typed in


@dataclass
class ParsedSequence:
    """A typed sequence turned into cell inputs; ``embedding`` maps each character to its vector."""

    labels: list[str]
    inputs: np.ndarray  # (time, inputs)
    embedding: dict[str, list[float]] = field(default_factory=dict)


def character_embedding(chars, inputs: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A small fixed embedding: each distinct character gets ``inputs`` numbers in [-1, 1].

    The vectors are drawn from ``torch.Generator().manual_seed(seed + ord(ch))``, so a character's
    vector does not depend on which other characters the sequence holds.
    """
    table = {}
    for ch in dict.fromkeys(chars):
        generator = torch.Generator().manual_seed(seed + ord(ch))
        table[ch] = (torch.rand(inputs, generator=generator, dtype=torch.float64) * 2 - 1).numpy().round(2)
    return table


def parse_sequence(text: str, inputs: int = 1) -> ParsedSequence:
    """Numbers ("1 1 0 -1" or "1,0.5;…", one number per step, or ``inputs`` numbers per step
    separated by '/') or, if the text is not numbers, its characters through a small embedding."""
    text = (text or "").strip()
    if not text:
        raise ValueError("The sequence is empty: type numbers such as 1 1 1 0 1, or a short word.")
    tokens = [t for t in re.split(r"[\s,;]+", text) if t]
    try:
        rows = [[float(v) for v in token.split("/")] for token in tokens]
    except ValueError:
        rows = None
    if rows is not None:
        widths = {len(r) for r in rows}
        if widths == {1} and inputs > 1:
            rows = [r * inputs for r in rows]  # one number per step feeds every input
        elif widths != {inputs}:
            raise ValueError(f"Each step needs {inputs} numbers separated by '/' (for example "
                             f"{'/'.join(['1'] * inputs)}), or a single number.")
        if len(rows) > MAX_SEQUENCE:
            raise ValueError(f"The cell lab steps through at most {MAX_SEQUENCE} steps; this sequence has {len(rows)}.")
        if not np.isfinite(np.asarray(rows)).all() or np.abs(np.asarray(rows)).max() > 100:
            raise ValueError("Inputs must be finite numbers between -100 and 100.")
        return ParsedSequence(tokens, np.asarray(rows, np.float64))
    chars = list(text)
    if len(chars) > MAX_SEQUENCE:
        raise ValueError(f"The cell lab steps through at most {MAX_SEQUENCE} characters; this text has {len(chars)}.")
    table = character_embedding(chars, inputs)
    return ParsedSequence([repr(ch)[1:-1] if ch.isspace() else ch for ch in chars],
                          np.stack([table[ch] for ch in chars]),
                          {ch: [float(v) for v in vec] for ch, vec in table.items()})
