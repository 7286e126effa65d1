"""Sentiment: the seed's (Bi)LSTM review classifier trained live, beside a bag-of-words baseline."""

import numpy as np
import streamlit as st

from lab_ui import folded, page_setup, query_value, run_store, set_query
from lab_ui.html_view import show_html
from lab_ui.safe_text import markdown_text
from lab_ui.sharing import check_upload_size, upload_limit_mb, use_upload
from lab_ui.render.charts import line_svg
from lab_ui.task_views import (budget_overrides, evaluation_view, live_training_then_run, preset_picker,
                               read_uploaded_csv, scarcity_view, word_gates)
from lstm_core.tasks import classifier_vocab, read_review
from lstm_core.training.tasks import CLASSIFIER_PRESETS, ClassifierTraining, classifier_preset

page_setup("Sentiment")
st.title("Sentiment classifier")
st.markdown(
    "An LSTM reads a movie review word by word and says whether it is positive or negative: the seed's "
    "*embedding → bidirectional LSTM → linear* classifier. It trains on **2,000 IMDB reviews** (Maas et al., "
    "ACL 2011): the first 1,600 train and the last 400 are held out. A bag-of-words logistic regression, "
    "trained on the same 1,600, is the honest baseline.")
st.header("Train")
source = st.radio("Data", ["imdb", "upload"], horizontal=True, key="sentiment_source",
                  format_func={"imdb": "Shipped IMDB sample (2,000 reviews)", "upload": "Upload a CSV"}.get)
uploaded = None
if source == "upload":
    file = st.file_uploader("A CSV of text,label rows (e.g. the 50,000-review IMDB file: review,sentiment); "
                            "the last 20% of each label is held out", type=["csv"], key="sentiment_upload",
                            max_upload_size=upload_limit_mb())
    if file is not None:
        try:
            check_upload_size(file)  # a shared server's limit, before the file is read
            uploaded = (*read_uploaded_csv(file.getvalue(), file.name), file.name)
            st.success(f"{markdown_text(file.name)}: {len(uploaded[0]):,} texts to train on, {len(uploaded[1]):,} "
                       f"held out, labels {markdown_text(', '.join(uploaded[0].label_names))}.")
        except ValueError as err:  # TaskDataError, or past a shared server's limit
            st.error(f"This file cannot be used: {markdown_text(err)}")
preset = preset_picker(CLASSIFIER_PRESETS, "sentiment", "bag-of-words baseline")
overrides = budget_overrides(classifier_preset(preset), "sentiment")
if source == "imdb":  # computed on the shipped sample when opened (it fits the bag of words four times)
    folded("Why can the LSTM lose to the bag of words here?", "why_lstm_loses", scarcity_view,
           classifier_preset(preset))


def make_training():
    if source == "upload" and uploaded is None:
        raise ValueError("upload a CSV of text,label rows first, or choose the shipped IMDB sample")
    config = classifier_preset(preset, **overrides)
    if uploaded is None:
        return ClassifierTraining(config, store=run_store(), name=f"sentiment ({preset})")
    train, held_out, name = uploaded
    use_upload(file)  # a shared server limits uploads per session
    return ClassifierTraining(config, store=run_store(), name=f"sentiment ({preset}, {name})", train=train,
                              held_out=held_out, data_name=f"{name}: {len(train):,} train, {len(held_out):,} held out")


run_id, run = live_training_then_run(
    "sentiment", "classifier", make_training, label="Classifier to inspect (saved runs, newest first)",
    none_yet="No classifier has been trained yet: start one above.")
st.caption(f"Trained on {markdown_text(run.config.get('data', 'its data'))}.")
with st.expander("Evaluation on the held-out reviews", expanded=True):
    evaluation_view(run.config.get("evaluation"), run.config.get("baseline_accuracy"))

review = st.text_area("Type a review", query_value("review", "I expected a lot from this film, but the plot was "
                      "thin and the acting was wooden. Only the music saved it from being a total waste of time."),
                      max_chars=5000, key="sentiment_review")
set_query(review=review if len(review) <= 600 else None)  # a long review stays out of the link
try:
    read = read_review(run.model, classifier_vocab(run.config), run.config["labels"], review)
except ValueError as err:
    st.warning(markdown_text(err))
    st.stop()
best = int(np.argmax(read.probs))
columns = st.columns(len(read.label_names) + 1)
columns[0].metric("Verdict", read.label_names[best])
for column, name, p in zip(columns[1:], read.label_names, read.probs):
    column.metric(f"P({markdown_text(name)})", f"{p:.1%}")
if read.truncated:
    st.caption(f"Only the first {len(read.words)} words are read.")
if sum(read.unknown):
    st.caption(f"{sum(read.unknown)} of {len(read.words)} words were not in the training vocabulary "
               "(they are read as one 'unknown word').")
shown = read.label_names.index("positive") if "positive" in read.label_names else len(read.label_names) - 1
st.subheader(f"P({markdown_text(read.label_names[shown])}) after each word")
st.caption("The classifier read on every prefix of the review: how its verdict evolves as it reads.")
show_html(line_svg(read.prefix_probs[:, shown], read.words, f"P({read.label_names[shown]})", high=1.0, guide=0.5),
          key="sentiment_reading")

st.subheader("Gates and states, word by word")
word_gates(read.gates, read.words, run.model.lstm, "sentiment")
