"""The guided lesson: a class plan on recurrent networks, step by step, each with a live view and a
"predict, then look" question whose answer is computed from the models, never written by hand.

    for step in STEPS:
        step.question, step.choices        # asked before the reveal
        reveal = step.reveal()             # Reveal(answer, text, numbers): text quotes the numbers
        step.view, step.settings           # the view to open and its settings: "cell", {"mode": "gates", ...}

Every sentence of a reveal is built from ``numbers`` computed by ``lstm_core`` on the shipped
pretrained model, the untrained models /compare starts from, a cell preset, the PyTorch API or the
bundled data; a test recomputes each one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from . import analysis
from .cell_lab import SCENARIOS
from .compare import GRU, LSTM, RNN, TASK_DEFAULTS, CompareSetup
from .corpus import load_corpus
from .explorer import LSTMSettings, explore
from .gradients import gradient_flow
from .training.memory import VOCAB as MEMORY_VOCAB
from .training.tasks import carve, classifier_preset
from .model import CharModel
from .runs import PRETRAINED_DIR, load_run
from .sampling import sample_stream
from .tasks.data import IMDB_TRAIN
from .tasks.measured import measured_accuracy
from .tasks.scarcity import RARE_REVIEWS, word_scarcity
from .trace import trace


@dataclass
class Reveal:
    """The answer to a step's question, and the sentence that explains it with the numbers it quotes."""

    answer: int  # index of the right choice
    text: str
    numbers: dict = field(default_factory=dict)


@dataclass
class LessonStep:
    slug: str
    title: str
    text: str  # two or three sentences
    view: str  # the view to open ("cell", "gates", "compare"...): the app knows its page
    settings: dict[str, str]  # the view's settings (the app writes them into the page's link)
    view_label: str
    question: str
    choices: list[str]
    reveal: Callable[[], Reveal]


def pretrained():
    return load_run(PRETRAINED_DIR)


# -- the reveals, each computed from a model ------------------------------------------------------
WHY_GATES_DELAY = 50  # the memory task's delay, and the lag at which the gradients are compared
WHY_GATES_SETUP = CompareSetup(  # what /compare trains from the step's link: the memory task's defaults there
    "architectures", "memory", delay=WHY_GATES_DELAY, param_budget=TASK_DEFAULTS["memory"]["param_budget"],
    steps=TASK_DEFAULTS["memory"]["steps"], forget_bias=TASK_DEFAULTS["memory"]["forget_bias"],
    update_bias=TASK_DEFAULTS["memory"]["update_bias"])


def why_gates_models(setup: CompareSetup = WHY_GATES_SETUP) -> dict:
    """The models /compare starts training from for ``setup`` (same settings, same seed), untrained:
    {architecture: CharModel}, each with the setup's parameter budget."""
    models = {}
    for contender in (LSTM, GRU, RNN):
        torch.manual_seed(setup.seed)  # as MemoryTraining seeds itself before it builds its model
        models[contender.architecture] = CharModel(setup.config(contender).model_config())
    return models


def why_gates(setup: CompareSetup = WHY_GATES_SETUP, lag: int = WHY_GATES_DELAY) -> Reveal:
    """How much of the gradient at the memory task's answer reaches the state ``lag`` steps back, in an
    untrained LSTM against a plain RNN (and a GRU) of equal parameter count: ||dL/dh_(t-lag)||, measured."""
    text, positions, max_lag = setup.flow_probe(lag)
    numbers = {}
    for architecture, model in why_gates_models(setup).items():
        flow = gradient_flow(model, MEMORY_VOCAB, text, max_lag=max_lag, positions=positions)
        numbers[architecture] = {"at_answer": float(flow.hidden[0, 0]), "at_lag": float(flow.hidden[0, lag]),
                                 "share": flow.ratio_at(lag), "hidden_size": model.config.hidden_size,
                                 "parameters": sum(p.numel() for p in model.parameters())}
    lstm, gru, rnn = numbers["lstm"], numbers["gru"], numbers["rnn"]
    ratio = lstm["at_lag"] / rnn["at_lag"]
    answer = 0 if ratio < 10 else 1 if ratio < 1e6 else 2
    keeps = 1 / (1 + math.exp(-setup.forget_bias))
    return Reveal(answer, f"Measured on the untrained models /compare starts from ({lstm['parameters']:,} and "
                          f"{rnn['parameters']:,} parameters): {lag} steps back from the answer, the LSTM's gradient "
                          f"‖∂L/∂h‖ is still {lstm['at_lag']:.3g}, {lstm['share']:.1%} of its size at the answer; the "
                          f"plain RNN's has shrunk to {scientific(rnn['at_lag'])}, {scientific(rnn['share'], 1)} of its "
                          f"size. The LSTM's is {scientific(ratio)} times larger (the GRU's keeps {gru['share']:.0%} of "
                          f"its size). The RNN's state passes through {lag} squashing steps, each shrinking the "
                          f"gradient; the LSTM's forget gate starts almost open (bias {setup.forget_bias:g}: it keeps "
                          f"{keeps:.1%} of its cell per step), so what it saw {lag} steps ago can still teach it. Train "
                          "the three on /compare and watch which of them learns to recall the letter.",
                  {**numbers, "ratio": ratio, "keeps": keeps, "lag": lag})


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def scientific(value: float, digits: int = 2) -> str:
    """A number as a student reads it: 2.3 × 10⁻¹³, 6.5 × 10¹⁰; plainly between 0.01 and 1,000 (12, 0.35)."""
    if 0.01 <= abs(value) < 1000:
        return f"{value:.{digits}g}"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = round(value / 10 ** exponent, digits - 1)
    if abs(mantissa) >= 10:  # 9.96 rounds up to 10
        mantissa, exponent = mantissa / 10, exponent + 1
    return f"{mantissa:.{digits}g} × 10{str(exponent).translate(SUPERSCRIPTS)}"


def one_cell() -> Reveal:
    """The 'remember' preset in the gates mode: f ≈ 1 and i ≈ 0 keep the memory as it was."""
    step = SCENARIOS["remember"].steps("gates")[0]
    f, i, c_prev, c = (float(v[0]) for v in (step.forget_gate, step.input_gate, step.c_prev, step.cell_state))
    answer = int(np.argmin([abs(c - 0.0), abs(c - c_prev), abs(c - 2 * c_prev)]))
    return Reveal(answer, f"With f = {f:.3f} and i = {i:.3f}, c_t = f·c_(t−1) + i·g = {f:.3f} × {c_prev:.2f} + "
                          f"{i:.3f} × g = {c:.3f}: the memory is copied, not rewritten. That is how an LSTM carries "
                          "a fact across many steps.", {"f": f, "i": i, "c_prev": c_prev, "c": c})


def units() -> Reveal:
    """The pretrained model's best unit for the position in the line, judged on the validation text."""
    run = pretrained()
    found = analysis.units_found(trace(run.model, run.vocab, analysis.reference_text("full")))
    row = found[found["feature"] == "position_in_line"]
    if row.empty:
        return Reveal(0, "No unit of this model follows the position in the line with |r| ≥ 0.5.", {"r": 0.0})
    row = row.iloc[0]
    r, layer, unit = float(row["correlation"]), int(row["layer"]), int(row["unit"])
    trend = "falls" if r < 0 else "rises"
    return Reveal(1, f"Yes: the cell state of unit {unit} in layer {layer} follows the position in the line with "
                     f"r = {r:+.2f} on 3,000 characters it never trained on. It {trend} along each line and snaps back "
                     "at every newline, a counter nobody programmed.",
                  {"r": r, "layer": layer, "unit": unit})


def train_live() -> Reveal:
    """What a model that knows nothing pays per character: the loss a training starts from."""
    size = len(load_corpus("full").vocab)
    start = math.log(size)
    return Reveal(1, f"A model that knows nothing guesses among the corpus's {size} characters evenly and pays "
                     f"ln {size} = {start:.2f} nats per character. Within seconds it learns which characters are "
                     "common and where spaces go, then word-shaped pieces and speaker names in capitals; real "
                     "words and verse take minutes.", {"characters": size, "start": start})


def _distinct_words(text: str) -> float:
    words = re.findall(r"[^\W\d_]+", text.lower())
    return len(set(words)) / max(1, len(words))


def sampling(length: int = 400, seed: int = 0) -> Reveal:
    """The same prime and seed at temperatures 0.2 and 1.5: how spread the draws are, how repetitive the text."""
    run = pretrained()
    numbers = {}
    for temperature in (0.2, 1.5):
        drawn = list(sample_stream(run.model, run.vocab, "HARPAGON.\n", length, temperature, seed=seed))
        text = "".join(s.char for s in drawn)
        numbers[temperature] = {"entropy": float(np.mean(analysis.entropy_bits(np.stack([s.probs for s in drawn])))),
                                "distinct": _distinct_words(text)}
    low, high = numbers[0.2], numbers[1.5]
    answer = 0 if low["distinct"] < high["distinct"] else 1
    return Reveal(answer, f"At 0.2 the model drew from distributions of {low['entropy']:.2f} bits on average and "
                          f"{low['distinct']:.0%} of its words were distinct; at 1.5, {high['entropy']:.2f} bits and "
                          f"{high['distinct']:.0%}. A low temperature keeps to the likeliest characters and repeats "
                          "itself; a high one spreads the draws and invents.",
                  {"low": low, "high": high})


def api() -> Reveal:
    """The shape of one parameter tensor, read off a real nn.LSTM."""
    result = explore(LSTMSettings(input_size=10, hidden_size=20, num_layers=2))
    shape = next(p.shape for p in result.parameters if p.name == "weight_hh_l0")
    answer = ["(20, 20)", "(80, 20)", "(80, 10)"].index(str(tuple(shape)))
    return Reveal(answer, f"weight_hh_l0 is {tuple(shape)}: PyTorch stacks the four gates' weights i | f | g | o, so "
                          f"4 × 20 = {shape[0]} rows, each reading the {shape[1]}-unit hidden state. The whole module has "
                          f"{result.total_parameters:,} parameters.",
                  {"shape": tuple(shape), "parameters": result.total_parameters})


def task() -> Reveal:
    """Why an LSTM can lose to a bag of words on 1,600 reviews: most words it must learn are rare in them."""
    config = classifier_preset("class")  # the model the step's link trains
    train_count = carve(IMDB_TRAIN, config)
    scarcity = word_scarcity(config.min_word_count, config.max_tokens, train_count, config.embedding_dim,
                             config.max_vocab)  # the numbers the Sentiment page shows in "Why can the LSTM lose"
    share, curve = scarcity.rare_share, scarcity.learning_curve
    answer = 0 if share < 1 / 3 else 1 if share <= 2 / 3 else 2
    sizes = sorted(curve)
    climb = ", ".join(f"{curve[n]:.1%} from {n:,}" for n in sizes)
    words = scarcity.vocabulary - 2  # <pad> and <unk> are no words
    measured = measured_accuracy("sentiment", "class")  # what scripts/measure_presets.py stored; the page quotes it
    return Reveal(answer, f"{share:.1%} of the {words:,} words the class LSTM learns a vector for occur in fewer than "
                          f"{RARE_REVIEWS} of its {train_count:,} training reviews (the median word in "
                          f"{scarcity.median_reviews:.0f}), and it learns {scarcity.embedding_numbers:,} numbers for "
                          "those vectors alone, from scratch. The bag of words needs one weight per word and no order, "
                          f"and even it is still climbing with more reviews: {climb} (on the same {scarcity.held_out} "
                          "held-out reviews). Too few examples of each word, not reading in order, is what holds the "
                          "LSTM back here." + (f" (Measured: the class preset reached {measured:.1%} against the bag of "
                                               f"words' {curve[IMDB_TRAIN]:.1%}.)" if measured is not None else ""),
                  {"rare_share": share, "lstm_measured": measured, "words": words, "train_reviews": train_count,
                   "median_reviews": scarcity.median_reviews, "embedding_numbers": scarcity.embedding_numbers,
                   **{f"bag_of_words_{n}": curve[n] for n in sizes}})


STEPS = [
    LessonStep(
        "why-gates", "Why gates",
        "A plain recurrent network rewrites its whole state at every character, so what it read 50 characters ago "
        "reaches it only through 50 squashing steps. An LSTM can instead hold a value in its cell by keeping its "
        "forget gate open. The memory task makes the difference stark: see a capital letter, read 50 distractors, "
        "then name the letter.",
        "compare", {"comparison": "architectures", "task": "memory", "delay": str(WHY_GATES_DELAY),
                    "budget": str(WHY_GATES_SETUP.param_budget), "steps": str(WHY_GATES_SETUP.steps),
                    "fbias": f"{WHY_GATES_SETUP.forget_bias:g}", "ubias": f"{WHY_GATES_SETUP.update_bias:g}",
                    "seed": str(WHY_GATES_SETUP.seed)},
        "Open /compare on the memory task (delay 50), then train LSTM vs GRU vs plain RNN",
        "An LSTM and a plain RNN with the same 20,000 parameters, untrained, read the letter and 50 distractors. "
        "How much more of the learning signal at the answer (the gradient) reaches back to the state 50 steps "
        "earlier in the LSTM than in the RNN?",
        ["about as much in both", "between 10 and a million times more", "more than a million times more"],
        why_gates),
    LessonStep(
        "one-cell", "One cell's arithmetic",
        "An LSTM cell keeps a memory, the cell state c. Each step the forget gate f says how much of it to keep "
        "and the input gate i how much of a new candidate g to write: c_t = f·c_(t−1) + i·g.",
        "cell", {"mode": "gates", "scenario": "remember"}, "Open the cell lab on the 'remember' preset",
        "The forget gate is almost 1, the input gate almost 0, and c_(t−1) = 0.8. What is c_t?",
        ["about 0", "about 0.8", "about 1.6"], one_cell),
    LessonStep(
        "units", "A trained model's units",
        "The model shipped with LSTM Lab learned from Molière's plays. Each of its units is a number that "
        "changes at every character; most look like noise, but some track something about the text.",
        "gates", {"run": "pretrained", "feature": "position_in_line", "sort": "correlation"},
        "Open its gates, units sorted by how well they follow the position in the line",
        "Can a single unit know how far into the verse line the model is?",
        ["No: that knowledge is spread over every unit", "Yes: one unit's cell state follows it closely"], units),
    LessonStep(
        "train-live", "Train one yourself",
        "Start a training from scratch and watch it learn: the loss curve falls and the sample below it turns "
        "from noise into something like French, live, in your browser.",
        "train", {"preset": "default", "autostart": "1", "seconds": "30"}, "Start a 30-second training",
        "After 30 seconds of training from scratch, what does the model write?",
        ["random characters", "word-shaped pieces and speaker names, few real words", "Molière's verse"],
        train_live),
    LessonStep(
        "sampling", "Sampling and temperature",
        "A model gives a probability to every next character; generating text means drawing from it, one "
        "character at a time. Dividing the scores by a temperature sharpens (below 1) or flattens (above 1) "
        "those probabilities.",
        "generate", {"run": "pretrained", "temperature": "0.2"}, "Open the generator at temperature 0.2, then try 1.5",
        "Which temperature writes the more repetitive text?", ["0.2", "1.5"], sampling),
    LessonStep(
        "api", "The PyTorch API",
        "In PyTorch all of this is one module, torch.nn.LSTM. Its weights are stored as a few large matrices, the "
        "four gates stacked in the order i, f, g, o.",
        "explorer", {"input_size": "10", "hidden_size": "20", "num_layers": "2"}, "Open the explorer with these settings",
        "nn.LSTM(input_size=10, hidden_size=20, num_layers=2): what is the shape of weight_hh_l0?",
        ["(20, 20)", "(80, 20)", "(80, 10)"], api),
    LessonStep(
        "task", "A task: reading reviews",
        "LSTMs read more than characters. On the Sentiment page one reads movie reviews word by word and says "
        "whether each is positive or negative, trained live in 30 seconds with the class preset, beside a "
        "bag-of-words classifier that counts words and ignores their order.",
        "sentiment", {"preset": "class", "why_lstm_loses": "true"},
        "Open the sentiment classifier (class preset) and its section on why the LSTM can lose",
        f"On these 1,600 reviews the LSTM, which reads the words in order, can lose to the bag of words. Why? It "
        f"learns a vector for every word of its vocabulary from these reviews alone: what share of those words "
        f"occurs in fewer than {RARE_REVIEWS} of its training reviews?",
        ["under a third", "between a third and two thirds", "more than two thirds"], task),
]
