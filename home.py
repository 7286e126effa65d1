"""LSTM Lab's home page: what an LSTM is, and one-click paths into the app (app.py serves it first)."""

import streamlit as st

from lab_ui import page_setup
from lab_ui.presentation import keep_mode
from lstm_core.lesson import STEPS as LESSON_STEPS

page_setup("Home")

st.title("LSTM Lab")
st.markdown(
    "An **LSTM** is a recurrent network that reads a sequence one step at a time and keeps a "
    "*cell state*, a memory it carries from step to step. At every step three gates decide what "
    "happens to that memory: the **forget gate** decides how much of it to keep, the **input gate** "
    "how much of a new candidate to write, and the **output gate** how much of it to show as the "
    "hidden state. Here you can train one live, watch every gate at every step, and make it write Molière."
)

st.info(f"**New here, or teaching a class?** Follow the lesson: {len(LESSON_STEPS)} short steps, from why an LSTM "
        "needs gates and one cell's arithmetic to a trained model's units, each with a live view and a question to "
        "answer before you look.")
if st.button("Start the lesson", type="primary", key="home_lesson"):
    st.switch_page("pages/0_lesson.py", query_params=keep_mode())

left, middle, right = st.columns(3)
with left:
    st.subheader("Watch a model learn")
    st.write("Train a character model on Molière's plays in your browser and watch the loss fall "
             "and the samples turn into French.")
    if st.button("Start a 30-second training"):
        st.session_state["home_quickstart"] = True
        st.switch_page("pages/1_train.py", query_params=keep_mode({"preset": "default", "autostart": "1",
                                                                   "seconds": "30"}))
with middle:
    st.subheader("Look inside the pretrained model")
    st.write("A model trained by LSTM Lab itself ships with the app: open its gates and states on "
             "a scene from Molière.")
    if st.button("Open the gates"):
        st.switch_page("pages/2_gates.py", query_params=keep_mode({"run": "pretrained"}))
with right:
    st.subheader("Learn the cell")
    st.write("One LSTM cell with sliders for every input, weight and state, and the equations with "
             "live numbers.")
    if st.button("Open the cell lab"):
        st.switch_page("pages/4_cell.py", query_params=keep_mode())

st.divider()
st.markdown(
    "**Pages** · *Train*: live training with presets, including instructive failures · "
    "*Gates & states*: heatmaps, unit finder, interventions · *Generate*: temperature, top-k, top-p · "
    "*Cell lab* and *nn.LSTM explorer*: the mechanics and the PyTorch API · *Tagger* and *Sentiment*: "
    "the seed tasks · *Runs*: every training, compared."
)
