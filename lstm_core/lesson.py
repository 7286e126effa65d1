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
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import analysis
from .cell_lab import SCENARIOS, cell_update_line
from .compare import GRU, LSTM, LSTM_PYTORCH_START, RNN, TASK_DEFAULTS, CompareSetup
from .corpus import load_corpus
from .explorer import GATE_BLOCKS, LSTMSettings, explore
from .gradients import flow_table, gradient_flow
from .training.memory import VOCAB as MEMORY_VOCAB
from .readable import bits, percent, share
from .training.char import starting_loss_line
from .training.tasks import carve, classifier_preset
from .runs import PRETRAINED_DIR, load_run
from .sampling import sample_stream
from .tasks.data import IMDB_TRAIN
from .tasks.measured import measured_accuracy
from .tasks.scarcity import RARE_REVIEWS, word_scarcity
from .trace import trace
from .why.memory_diff import share as ratio, shipped_memory_diffs


@dataclass
class Reveal:
    """The answer to a step's question, and the sentence that explains it with the numbers it quotes."""

    answer: int  # index of the right choice
    text: str
    numbers: dict = field(default_factory=dict)
    quoted: list[str] = field(default_factory=list)  # every number the text quotes, as written: its view shows each
    settings: dict[str, str] = field(default_factory=dict)  # what the answer adds to its view's link (the unit it names)


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
WHY_GATES_SETUP = CompareSetup(  # what /compare trains from the step's link: the memory task's defaults there,
    # and a fourth contender, the LSTM started as PyTorch starts it (the bias of 5 is this lab's choice)
    "architectures", "memory", delay=WHY_GATES_DELAY, param_budget=TASK_DEFAULTS["memory"]["param_budget"],
    steps=TASK_DEFAULTS["memory"]["steps"], forget_bias=TASK_DEFAULTS["memory"]["forget_bias"],
    update_bias=TASK_DEFAULTS["memory"]["update_bias"], pytorch_start=True)


def why_gates_models(setup: CompareSetup = WHY_GATES_SETUP) -> dict:
    """The models /compare starts training from for ``setup`` (same settings, same seed), untrained:
    {label: CharModel}, each with the setup's parameter budget."""
    return {contender.label: setup.untrained_model(contender)[0] for contender in setup.contenders}


def why_gates_flows(setup: CompareSetup = WHY_GATES_SETUP, lag: int = WHY_GATES_DELAY) -> dict:
    """{label: GradientFlow} of the untrained models at the memory task's answers, back ``lag`` steps."""
    text, positions, max_lag = setup.flow_probe(lag)
    return {label: gradient_flow(model, MEMORY_VOCAB, text, max_lag=max_lag, positions=positions)
            for label, model in why_gates_models(setup).items()}


def why_gates(setup: CompareSetup = WHY_GATES_SETUP, lag: int = WHY_GATES_DELAY) -> Reveal:
    """How much of the gradient at the memory task's answer reaches the state ``lag`` steps back, in an
    untrained LSTM against a plain RNN (and a GRU, and the LSTM as PyTorch starts it) of equal parameter count:
    ||dL/dh_(t-lag)||, measured, and why it falls while the cell's gradient holds. It quotes the rows of
    :func:`lstm_core.gradients.flow_table`, which /compare shows for the same untrained models."""
    models = why_gates_models(setup)
    flows = why_gates_flows(setup, lag)
    lstm, gru, rnn, start = (contender.label for contender in (LSTM, GRU, RNN, LSTM_PYTORCH_START))
    table = flow_table(flows, lag, against=rnn).set_index("model")
    def row(label, column):
        return table.loc[label, column.format(lag=lag, against=rnn)]
    count = {label: sum(p.numel() for p in model.parameters()) for label, model in models.items()}
    ratio = flows[lstm].hidden[0, lag] / flows[rnn].hidden[0, lag]
    keeps = 1 / (1 + math.exp(-setup.forget_bias))
    answer = 0 if ratio < 10 else 1 if ratio < 1e6 else 2
    quoted = [f"{count[lstm]:,}", f"{count[rnn]:,}", row(lstm, "‖∂L/∂h‖ {lag} steps back"),
              row(lstm, "h: share kept after {lag}"), row(rnn, "‖∂L/∂h‖ {lag} steps back"),
              row(rnn, "h: share kept after {lag}"), row(lstm, "× {against}'s at {lag}"),
              row(gru, "h: share kept after {lag}"),
              share(keeps), row(start, "‖∂L/∂h‖ {lag} steps back"), row(start, "× {against}'s at {lag}"),
              row(lstm, "‖∂L/∂c‖ at the answer"), row(lstm, "‖∂L/∂c‖ {lag} steps back"),
              row(lstm, "c: share kept after {lag}"), row(lstm, "‖∂L/∂h‖ at the answer"),
              row(lstm, "‖∂L/∂h‖ 2 steps back")]
    (lstm_count, rnn_count, lstm_far, lstm_kept, rnn_far, rnn_kept, times, gru_kept, kept_per_step, start_far,
     start_times, cell_near, cell_far, cell_kept, at_answer, two_back) = quoted
    text = (f"Measured on the untrained models /compare starts from ({lstm_count} and {rnn_count} parameters): "
            f"{lag} steps back from the answer, the LSTM's gradient ‖∂L/∂h‖ is still {lstm_far}, {lstm_kept} of its "
            f"size at the answer; the plain RNN's has shrunk to {rnn_far}, {rnn_kept} of its size. The LSTM's is "
            f"{times} times larger (the GRU's keeps {gru_kept} of its size). The RNN's state passes through {lag} "
            f"squashing steps, each shrinking the gradient.\n\n"
            f"This LSTM starts with a forget-gate bias of {setup.forget_bias:g}, not PyTorch's default (biases drawn "
            f"near 0): σ({setup.forget_bias:g}) keeps {kept_per_step} of its cell per step. Started as PyTorch starts "
            f"it, the same LSTM's gradient {lag} steps back is {start_far}, only {start_times} times the RNN's.\n\n"
            f"Why does ‖∂L/∂h‖ keep only {lstm_kept} when the forget gate keeps {kept_per_step} per step? The gradient "
            f"travels back through the cell c, not through h: ‖∂L/∂c‖ is {cell_near} at the answer and {cell_far} "
            f"{lag} steps back ({cell_kept}). The loss reads h directly only at the answer ({at_answer}); further back, "
            f"h matters only through the small weights that write into the cell, so ‖∂L/∂h‖ drops to {two_back} "
            "within 2 steps and then follows the cell's gradient. Train the four on /compare and watch which of them "
            "learns to recall the letter.")
    numbers = {label: {"at_answer": float(flow.hidden[0, 0]), "at_lag": float(flow.hidden[0, lag]),
                       "share": flow.ratio_at(lag), "hidden_size": models[label].config.hidden_size,
                       "parameters": count[label]} for label, flow in flows.items()}
    return Reveal(answer, text, {**numbers, "ratio": ratio, "keeps": keeps, "lag": lag}, quoted)


def one_cell() -> Reveal:
    """The 'remember' preset in the gates mode: f ≈ 1 and i ≈ 0 keep the memory as it was. The line is the one
    the Cell lab prints under the cell (lstm_core.cell_lab.cell_update_line)."""
    step = SCENARIOS["remember"].steps("gates")[0]
    f, i, c_prev, c = (float(v[0]) for v in (step.forget_gate, step.input_gate, step.c_prev, step.cell_state))
    answer = int(np.argmin([abs(c - 0.0), abs(c - c_prev), abs(c - 2 * c_prev)]))
    line, quoted = cell_update_line(step)
    return Reveal(answer, f"With {line}. The memory is copied, not rewritten. That is how an LSTM carries a fact "
                          "across many steps.", {"f": f, "i": i, "c_prev": c_prev, "c": c}, quoted)


def units() -> Reveal:
    """The pretrained model's best unit for the position in the line, judged on the validation text (the
    stretch /gates ranks on when its link says ``rank_on=stretch``)."""
    run = pretrained()
    text = analysis.reference_text("full")
    found = analysis.units_found(trace(run.model, run.vocab, text))
    row = found[found["feature"] == "position_in_line"]
    if row.empty:
        return Reveal(0, "No unit of this model follows the position in the line with |r| ≥ 0.5.", {"r": 0.0})
    row = row.iloc[0]
    r, layer, unit = float(row["correlation"]), int(row["layer"]), int(row["unit"])
    trend = "falls" if r < 0 else "rises"
    quoted = [f"{unit}", f"{layer}", f"{r:+.3f}", f"{len(text):,}"]
    return Reveal(1, f"Yes: the cell state of unit {quoted[0]} in layer {quoted[1]} follows the position in the line "
                     f"with r = {quoted[2]} on {quoted[3]} characters it never trained on. It {trend} along each line "
                     "and snaps back at every newline, a counter nobody programmed.",
                  {"r": r, "layer": layer, "unit": unit}, quoted, {"layer": str(layer), "unit": str(unit)})


def train_live() -> Reveal:
    """What a model that knows nothing pays per character: the loss a training starts from (the line the Train
    page prints above a training)."""
    size = len(load_corpus("full").vocab)
    line, quoted = starting_loss_line(size)
    return Reveal(1, f"{line[0].upper()}{line[1:]}. Within seconds it learns which characters are common and where "
                     "spaces go, then word-shaped pieces and speaker names in capitals; real words and verse take "
                     "minutes.", {"characters": size, "start": math.log(size)}, quoted)


SAMPLING_PRIME, SAMPLING_LENGTH, SAMPLING_SEED = "HARPAGON.\n", 400, 0  # what /generate opens with from the link


def sampling(length: int = SAMPLING_LENGTH, seed: int = SAMPLING_SEED) -> Reveal:
    """The same prime and seed at temperatures 0.2 and 1.5: how spread the draws are, how repetitive the text
    (lstm_core.analysis.sample_measures, which /generate shows for each temperature it draws)."""
    run = pretrained()
    numbers = {temperature: analysis.sample_measures(list(sample_stream(
        run.model, run.vocab, SAMPLING_PRIME, length, temperature, seed=seed))) for temperature in (0.2, 1.5)}
    low, high = numbers[0.2], numbers[1.5]
    answer = 0 if low["distinct"] < high["distinct"] else 1
    quoted = [bits(low["entropy"]), percent(low["distinct"]), bits(high["entropy"]), percent(high["distinct"])]
    return Reveal(answer, f"Prime “HARPAGON.”, seed {seed}, {length} characters each. At 0.2 the model drew from "
                          f"distributions of {quoted[0]} on average and {quoted[1]} of its words were distinct; at 1.5, "
                          f"{quoted[2]} and {quoted[3]}. A low temperature keeps to the likeliest characters and "
                          "repeats itself; a high one spreads the draws and invents.",
                  {"low": low, "high": high}, quoted)


def api() -> Reveal:
    """The shape of one parameter tensor, read off a real nn.LSTM (the explorer's tables show the same)."""
    settings = LSTMSettings(input_size=10, hidden_size=20, num_layers=2)
    result = explore(settings)
    shape = next(p.shape for p in result.parameters if p.name == "weight_hh_l0")
    answer = ["(20, 20)", "(80, 20)", "(80, 10)"].index(str(tuple(shape)))
    gates = len(GATE_BLOCKS)
    quoted = [str(tuple(shape)), f"{gates} × {settings.hidden_size} = {shape[0]}", f"{result.total_parameters:,}"]
    return Reveal(answer, f"weight_hh_l0 is {quoted[0]}: PyTorch stacks the four gates' weights i | f | g | o, so "
                          f"{quoted[1]} rows, each reading the {shape[1]}-unit hidden state. The whole module has "
                          f"{quoted[2]} parameters.",
                  {"shape": tuple(shape), "parameters": result.total_parameters}, quoted)


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
    quoted = [f"{share:.1%}", f"{words:,}", f"{train_count:,}", f"{scarcity.median_reviews:.0f}",
              f"{scarcity.embedding_numbers:,}", *(f"{curve[n]:.1%}" for n in sizes), *(f"{n:,}" for n in sizes),
              f"{scarcity.held_out}"] + ([f"{measured:.1%}"] if measured is not None else [])
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
                   **{f"bag_of_words_{n}": curve[n] for n in sizes}}, quoted)


def memory_diff() -> Reveal:
    """The shipped memory-task models, their symbol changed: how much of the change each one's memory state
    still holds at the cue, 50 distractors later (lstm_core.why.memory_diff, which /why shows)."""
    diffs = {d.label: d for d in shipped_memory_diffs()}
    lstm, rnn = diffs["LSTM"], diffs["plain RNN"]
    answer = 1 if lstm.at_cue > 0.1 and rnn.at_cue < 0.01 else 0 if lstm.at_cue < 0.01 else 2
    quoted = [ratio(lstm.at_cue), ratio(rnn.at_cue), f"{lstm.answer_change:.2f}", f"{rnn.answer_change:.2f}"]
    return Reveal(answer, f"At the cue the difference in the LSTM's cell is {quoted[0]} times its size right after the "
                          f"changed symbol: kept, even grown. In the plain RNN's state it is {quoted[1]} times its size: "
                          f"faded to rounding noise. So the LSTM's answer moves (total variation {quoted[2]}) and the RNN's "
                          f"does not ({quoted[3]}). The cell carries the symbol forward unchanged; the RNN rewrites its state at "
                          "every step.", {"lstm": lstm.at_cue, "rnn": rnn.at_cue}, quoted)


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
                    "seed": str(WHY_GATES_SETUP.seed), "pytorch_start": "1",
                    "untrained_gradients": "true"},
        "Open /compare on the memory task (delay 50): the untrained gradients, then train the four",
        "An LSTM whose forget gate starts almost open (bias 5) and a plain RNN, each with 20,000 parameters, "
        "untrained, read the letter and 50 distractors. "
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
        "gates", {"run": "pretrained", "feature": "position_in_line", "sort": "correlation", "rank_on": "stretch"},
        "Open its gates, units sorted by how well they follow the position in the line",
        "Can a single unit know how far into the verse line the model is?",
        ["No: many units share it, and no single one follows it closely",
         "Yes: a single unit's cell state follows it closely"], units),
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
        "generate", {"run": "pretrained", "prime": SAMPLING_PRIME, "temperature": "0.2", "seed": str(SAMPLING_SEED),
                     "length": str(SAMPLING_LENGTH)},
        "Open the generator at temperature 0.2, beside 1.5, on the same prime and seed",
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
    LessonStep(
        "memory-diff", "What a state carries",
        "Change one character and run the text again: the difference between the two runs, step by step, is what "
        "the state carries forward. On the memory task, change the symbol the models must remember and follow the "
        "difference through the 50 distractors to the cue.",
        "why", {"part": "memory"}, "Open the memory diff on /why, LSTM, GRU and plain RNN side by side",
        "The symbol is changed; 50 distractors later comes the cue. How much of that change is still in the LSTM's "
        "cell and in the plain RNN's state?",
        ["both have lost it", "the LSTM's cell still holds it; the RNN's state has lost it", "both still hold it"],
        memory_diff),
]
