"""Lesson: the class plan as a guided path. Each step: a few sentences, a "predict, then look" question
whose answer is computed from the models (lstm_core.lesson), then a live view to open. Every other page's
sidebar leads back to the step the student left (lab_ui.page_setup)."""

import streamlit as st

from lab_ui import page_link, page_setup, presentation, query_index, set_query, view_url
from lstm_core.lesson import STEPS

page_setup("Lesson")


@st.cache_data(show_spinner="Asking the model...", max_entries=16)
def reveal_of(slug: str):
    step = next(s for s in STEPS if s.slug == slug)
    return step.reveal()


def go(offset: int) -> None:
    st.session_state["lesson_step"] = min(max(st.session_state["lesson_step"] + offset, 0), len(STEPS) - 1)


slugs = [s.slug for s in STEPS]
if "lesson_step" not in st.session_state:
    st.session_state["lesson_step"] = query_index("step", slugs, slugs[0])
index = st.session_state["lesson_step"]
step = STEPS[index]
set_query(step=step.slug)

st.title("Lesson: how an LSTM works")
st.progress((index + 1) / len(STEPS), text=f"Step {index + 1} of {len(STEPS)}: {step.title}")
st.caption("Read, predict, then look: every answer is computed by the models in this app, not written in advance. "
           "About 30 minutes for all the steps.")
st.header(step.title)
st.markdown(step.text)
st.subheader("Predict, then look")
guess = st.radio(step.question, range(len(step.choices)), format_func=step.choices.__getitem__, index=None,
                 key=f"lesson_guess_{step.slug}")
if st.button("Show the answer", disabled=guess is None, key=f"lesson_reveal_{step.slug}", type="primary"):
    st.session_state[f"lesson_shown_{step.slug}"] = True
settings = step.settings
if st.session_state.get(f"lesson_shown_{step.slug}") and guess is not None:
    reveal = reveal_of(step.slug)
    settings = {**settings, **reveal.settings}  # the view opens on what the answer names (a unit, say)
    verdict = st.success if guess == reveal.answer else st.warning
    verdict(("Right. " if guess == reveal.answer else f"Not quite: the answer is “{step.choices[reveal.answer]}”. ")
            + reveal.text)

with st.container(border=True):
    where = f"under *{presentation.PANEL_LABEL}* at its top" if presentation.is_on() else "in its sidebar"
    st.markdown(f"**Now look for yourself.** The page opens here; *Back to the lesson* {where} returns to this step.")
    page_link(view_url(step.view, settings), step.view_label, icon=":material/arrow_forward:")
if index == len(STEPS) - 1 and st.session_state.get(f"lesson_shown_{step.slug}"):
    st.info(f"That was the last step. Every page is {where.replace('its', 'the page')}: train with your own "
            "settings, open the gates of any model you trained, or compare an LSTM with a GRU and a plain RNN.")

back, _, forward = st.columns([1, 4, 1])
back.button("← Previous step", on_click=go, args=(-1,), disabled=index == 0, width="stretch")
forward.button("Next step →", on_click=go, args=(1,), disabled=index == len(STEPS) - 1, width="stretch")
