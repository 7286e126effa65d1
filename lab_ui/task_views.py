"""Shared pieces of the Tagger and Sentiment pages: preset picker, run picker, evaluation and word-level gates.

    name = preset_picker(TAGGER_PRESETS, "tagger", "most-frequent-tag baseline")   # radio kept in the link
    evaluation_view(run.config["evaluation"])                    # accuracy, per-class bars, confusion matrix
    word_gates(tagged.gates, tagged.words, run.model.lstm, "tagger")   # heatmaps of every gate, per word

Every number shown comes from the run's own model or from the evaluation its training wrote.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

import lstm_core
import lstm_core.tasks
from lab_ui.gate_views import LABELS, painted_text
from lab_ui.heatmap_scale import scale_control
from lab_ui.html_view import show_html
from lab_ui.live_training import live_adjustments, live_panel, session_trainer, status_shown, training_controls
from lab_ui.query import query_index, query_number, set_query
from lab_ui.render.heatmaps import heatmap_svg
from lab_ui.render.matrices import matrix_svg, ranked_bars_svg
from lab_ui.render.tables import show_table
from lab_ui.run_picker import pick_run, run_store
from lab_ui.safe_text import markdown_text
from lstm_core.analysis import unit_order
from lstm_core.gates import QUANTITIES
from lstm_core.runs import UNFINISHED, read_status
from lstm_core.tasks.data import IMDB_TRAIN
from lstm_core.tasks.measured import measured_line
from lstm_core.tasks.scarcity import RARE_REVIEWS, word_scarcity
from lstm_core.training.tasks import carve


def budget_overrides(config, slot: str) -> dict:
    """A time slider for a preset that trains by the clock; for one that trains by epochs, a line saying
    when it stops. Returns the settings to override (the chosen seconds, or nothing)."""
    if config.max_seconds is None:
        stop = (f"until its accuracy on the last {config.valid_share:.0%} of the training data (held back) has not "
                f"improved for {config.patience} epochs, " if config.patience else "")
        st.caption(f"Trains by epochs, {stop}at most {config.epochs:g} epochs; the best epoch is kept.")
        return {}
    seconds = st.slider("Training time (seconds)", 5, 900,
                        int(query_number("seconds", config.max_seconds, 5, 900, float, warn=True)), 5,
                        key=f"{slot}_seconds")
    set_query(seconds=seconds)
    return {"max_seconds": float(seconds)}


def preset_picker(presets: dict, slot: str, baseline_name: str) -> str:
    """A radio of the task's presets with the chosen one's commentary and, where the project measured it
    (``scripts/measure_presets.py``), the accuracy it reached; kept in the query string."""
    names = list(presets)
    name = st.radio("Preset", names, index=query_index("preset", names, names[-1]), horizontal=True, key=f"{slot}_preset",
                    format_func=lambda n: presets[n].label)
    set_query(preset=name)
    st.caption(" ".join(filter(None, [presets[name].commentary, measured_line(slot, name, baseline_name)])))
    return name


@st.cache_data(max_entries=2, show_spinner="Reading the CSV...")
def read_uploaded_csv(data: bytes, name: str):
    """An uploaded text,label CSV split within each label (first 80% train, last 20% held out); TaskDataError if bad."""
    return lstm_core.tasks.split_upload(lstm_core.tasks.read_labelled_csv(data, name))


def confusion_chart(evaluation: dict, title: str = "Confusion matrix: rows true, columns predicted") -> str:
    """HTML (an SVG chart): counts of true class (rows) against predicted class (columns), coloured by share of
    the row."""
    matrix = np.asarray(evaluation["confusion"], dtype=float)
    labels = evaluation["labels"]
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    counts = [[f"{int(n)}" if n else "" for n in row] for row in matrix]
    hover = [[f"true {truth}, predicted {guess}: {int(matrix[r, c]):,} items ({shares[r, c]:.1%} of the row)"
              for c, guess in enumerate(labels)] for r, truth in enumerate(labels)]
    return matrix_svg(shares, labels, labels, "Blues", title, cell_text=counts, hover=hover,
                      key_title="share of row", kind="confusion-matrix")


def per_class_chart(evaluation: dict) -> str:
    """HTML (an SVG chart): accuracy per class, the worst first, with how many test items each class has."""
    rows = [(name, v["accuracy"], v["total"]) for name, v in evaluation["per_class"].items() if v["total"]]
    rows.sort(key=lambda r: r[1])
    labels = [f"{accuracy:.1%} of {total:,}" for _, accuracy, total in rows]
    return ranked_bars_svg([r[0] for r in rows], [r[1] for r in rows], labels, "Accuracy per class", "accuracy",
                           hover=[f"{name}: {accuracy:.1%} of its {total:,} test items right"
                                  for name, accuracy, total in rows], kind="per-class-accuracy")


def evaluation_view(evaluation: dict | None, baseline: float | None = None,
                    baseline_label: str = "Bag-of-words baseline") -> None:
    """The final evaluation a training wrote: accuracy beside the task's baseline, per-class accuracy and the
    confusion matrix."""
    if not evaluation:
        st.info("The full evaluation (per-class accuracy and confusion matrix) appears when this training "
                "finishes or is stopped.")
        return
    # short values: a metric cuts a long one ("After 30 s, 229 st…"); the seconds go in the caption
    figures = [("Accuracy", f"{evaluation['accuracy']:.1%}"), ("Items evaluated", f"{evaluation['items']:,}"),
               ("Steps trained", f"{evaluation['step']:,}")]
    if baseline is not None:
        figures.insert(1, (baseline_label, f"{baseline:.1%}"))
    for column, (label, value) in zip(st.columns(len(figures)), figures):
        column.metric(label, value)
    st.caption(f"Evaluated on {markdown_text(evaluation['split'])}, after training ended ({evaluation['step']:,} steps, "
               f"{evaluation['seconds']:.0f} s of training).")
    left, right = st.columns(2)
    show_html(per_class_chart(evaluation), key="evaluation_per_class", container=left)
    show_html(confusion_chart(evaluation), key="evaluation_confusion", container=right)


def scarcity_view(config) -> None:
    """Why an LSTM with these settings can lose to the bag of words on the shipped reviews, computed: how rare
    its words are in the training reviews, and the bag of words' accuracy as the reviews grow."""
    train_count = carve(IMDB_TRAIN, config)
    with st.spinner("Counting words and fitting the bag of words on 200 to 1,600 reviews..."):
        scarcity = word_scarcity(config.min_word_count, config.max_tokens, train_count, config.embedding_dim,
                                 config.max_vocab)
    words = scarcity.vocabulary - 2  # <pad> and <unk> are no words
    figures = [("Words to learn", f"{words:,}", "words it learns a vector for"),  # short labels: a metric cuts long ones
               (f"In < {RARE_REVIEWS} reviews", f"{scarcity.rare_share:.1%}",
                f"share of those words seen in fewer than {RARE_REVIEWS} training reviews"),
               ("Median word in", f"{scarcity.median_reviews:.0f}", "training reviews the median word occurs in"),
               ("Vector numbers", f"{scarcity.embedding_numbers:,}", "numbers in those word vectors")]
    for column, (label, value, meaning) in zip(st.columns(len(figures)), figures):
        column.metric(label, value, help=meaning)
    st.markdown(
        f"This LSTM learns a vector of {config.embedding_dim} numbers for each of its {words:,} words from its "
        f"{train_count:,} training reviews alone (no pretrained vectors), and most of those words it sees in a "
        "handful of reviews. The bag of words needs one weight per word and no word order, and even it is still "
        f"climbing with more reviews, on the same {scarcity.held_out} held-out reviews:")
    curve = pd.DataFrame({"training reviews": [f"{n:,}" for n in scarcity.learning_curve],
                          "bag-of-words accuracy": list(scarcity.learning_curve.values())})
    show_table(curve, formats={"bag-of-words accuracy": "{:.1%}"}, bars=("bag-of-words accuracy",))
    st.caption("Computed by lstm_core.tasks.scarcity on the shipped IMDB sample (the lesson's task step quotes "
               "these numbers). Too few examples of each word, not reading in order, is what holds the LSTM back.")


def probability_grid(probs: np.ndarray, words: list[str], classes: list[str]) -> str:
    """HTML (an SVG chart): every class's probability (rows) at every word (columns), as the model computed it."""
    shares = np.asarray(probs, dtype=float).T
    hover = [[f"word {t} · {word} → {name}: {shares[r, t]:.1%}" for t, word in enumerate(words)]
             for r, name in enumerate(classes)]
    return matrix_svg(shares, classes, words, "Greens", hover=hover, key_title="probability",
                      kind="tag-probabilities", width=1100, row_height=22)


def direction_names(lstm) -> list[str]:
    """Names of the replay's slots (layers * directions), in PyTorch's order."""
    names = []
    for layer in range(lstm.num_layers):
        names.append(f"layer {layer}, left to right")
        if lstm.bidirectional:
            names.append(f"layer {layer}, right to left")
    return names


@st.fragment
def word_gates(gates: dict, words: list[str], lstm, slot: str) -> None:
    """Heatmaps of one gate or state per word (units on y), and one unit painted on the words; its
    controls rerun this section alone."""
    names = direction_names(lstm)
    left, middle, right = st.columns(3)
    quantity = left.selectbox("Gate or state", QUANTITIES, index=QUANTITIES.index("hidden_state"),
                              format_func=LABELS.get, key=f"{slot}_quantity")
    direction = middle.selectbox("Layer and direction", range(len(names)), format_func=names.__getitem__,
                                 key=f"{slot}_direction")
    units_total = gates[quantity].shape[2]
    count = right.slider("Units shown (most active first)", 1, units_total, min(32, units_total), key=f"{slot}_units")
    scale = scale_control(st, f"{slot}_scale", from_link=False)
    values = gates[quantity][direction]  # (time, units)
    memory = "cell_state" if "cell_state" in gates else "hidden_state"  # one order, whichever quantity is shown
    order = unit_order(gates[memory][direction], "variance")[:count]
    st.caption("How to read: each row is one unit, each column one word. Gates run from purple (shut, 0) through "
               "white to orange (open, 1); states from blue (negative) through white (0) to red (positive).")
    show_html(heatmap_svg(values[:, order].T, words, order.tolist(), quantity,
                          title=f"{LABELS[quantity]} · {names[direction]}", scale=scale), key=f"{slot}_word_heatmap")
    unit = st.selectbox("Paint one unit on the words", order.tolist(), key=f"{slot}_paint_unit")
    show_html(painted_text(words, values[:, unit], quantity, separator=" "), key=f"{slot}_word_painted")


def _still_training(run_id: str) -> str | None:
    """Why the saved run ``run_id`` is not a finished model yet (it trains in another session, or is
    paused), or None."""
    status = read_status(run_store().path(run_id))
    if status in UNFINISHED:
        return "It is still training in another session"
    if status == "paused":
        return "Its training is paused"
    return None


def live_training_then_run(slot: str, kind: str, make_training, label: str, none_yet: str) -> tuple[str, lstm_core.Run]:
    """A task page's live training, then the saved run to inspect; stops the page when there is none yet, while
    this session trains, and when the run chosen trains elsewhere or is paused (a half-trained model is not
    evaluated as if it were done)."""
    training_controls(slot, make_training)
    live_panel(slot)
    live_adjustments(slot)
    st.header("Evaluate and try it")
    trainer = session_trainer(slot)
    shown = status_shown(slot)  # as the panel above says: the two never disagree within one run
    if shown in ("queued", "running", "paused"):  # this part is drawn again when the training ends
        paused = shown == "paused"
        st.info(f"**{'Paused' if paused else 'Still training'}.** The model's evaluation, and the model to try, "
                "appear here when its training finishes or is stopped (a half-trained model would give "
                "half-trained answers).")
        st.stop()
    training_here = Path(trainer.snapshot(since=1 << 62).run_dir or "").name if trainer else None
    chosen = pick_run(kind, label, key=f"{slot}_run", follow=training_here)
    if chosen is None:
        st.info(none_yet)
        st.stop()
    why = _still_training(chosen[0])
    if why:
        st.info(f"**Not evaluated yet.** {why}: its evaluation, and the model to try, appear here when its "
                "training finishes or is stopped (a half-trained model would give half-trained answers). "
                "A finished model can be picked above meanwhile.")
        st.stop()
    return chosen
