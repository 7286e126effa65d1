"""Tagger: the seed's part-of-speech LSTM, trained live on the UD English treebank, with word-level gates."""

import pandas as pd
import streamlit as st

from lab_ui import folded, page_setup, query_value, run_store, set_query, show_table
from lab_ui.html_view import show_html
from lab_ui.task_views import (budget_overrides, evaluation_view, live_training_then_run, preset_picker,
                               probability_grid, word_gates)
from lstm_core.tasks import split_words, tag_words, tagger_vocabs
from lstm_core.training.tasks import TAGGER_PRESETS, TaggerTraining, tagger_baseline, tagger_preset

page_setup("Tagger")
st.title("Part-of-speech tagger")
st.markdown(
    "An LSTM reads a sentence word by word and gives every word its part of speech (noun, verb, "
    "determiner...): the seed's *word embedding → LSTM → linear → log-softmax* tagger. It trains on the "
    "**Universal Dependencies English Web Treebank** (dev split, 2,001 sentences) and is tested on its "
    "test split (2,077 sentences, 25,094 words) with the 17 universal tags. Treebank © Stanford "
    "University, CC BY-SA 4.0.")

st.header("Train")
preset = preset_picker(TAGGER_PRESETS, "tagger", "most-frequent-tag baseline")
overrides = budget_overrides(tagger_preset(preset), "tagger")


def make_training():
    return TaggerTraining(tagger_preset(preset, **overrides), store=run_store(), name=f"tagger ({preset})")


run_id, run = live_training_then_run(
    "tagger", "tagger", make_training, label="Tagger to inspect (saved runs, newest first)",
    none_yet="No tagger has been trained yet. Start one above: the *Seed: two sentences* preset takes a second.")
with st.expander("Evaluation on the test split", expanded=True):
    evaluation_view(run.config.get("evaluation"), tagger_baseline(run.config), "Most-frequent-tag baseline")
    st.caption("The baseline tags each word with the tag it had most often in the same training sentences "
               "(a word never seen: the commonest tag), reading no context at all. A tagger below it has "
               "learned less than a lookup table.")

default_sentence = "The dog ate the apple" if "toy" in run.config.get("train", {}).get("data", "") else \
    "I would not recommend this restaurant to anyone, the food was cold."
sentence = st.text_input("Type a sentence", query_value("sentence", default_sentence), max_chars=400,
                         key="tagger_sentence")
set_query(sentence=sentence)
words = split_words(sentence)
if not words:
    st.warning("Type at least one word to tag.")
    st.stop()
tagged = tag_words(run.model, tagger_vocabs(run.config), words)
table = pd.DataFrame({
    "word": tagged.words, "tag": tagged.tags,
    "probability": [float(tagged.probs[t].max()) for t in range(len(words))],
    "runner-up": [f"{tag} {p:.1%}" for tag, p in (tagged.top(t, 2)[1] for t in range(len(words)))],
    "seen in training": ["no" if u else "yes" for u in tagged.unknown],
})
show_table(table, formats={"probability": "{:.1%}"}, bars=("probability",))
st.caption("Each word's likeliest tag and its probability under the model; words never seen in training "
           "are tagged from their characters (strong preset) or from context alone.")
folded("Every tag's probability, word by word", "tag_probabilities",  # drawn when opened: the page opens faster
       lambda: show_html(probability_grid(tagged.probs, tagged.words, tagged.tag_names), key="tagger_grid"))

st.subheader("Gates and states, word by word")
st.caption("Replayed from the trained weights, one word per step (the bidirectional tagger has a second, "
           "right-to-left LSTM whose step t has read the sentence from its end back to word t).")
word_gates(tagged.gates, tagged.words, run.model.lstm, "tagger")
