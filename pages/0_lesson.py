"""Lesson: the class plan as a guided path. Each step: a few sentences, a live view to open, and a
"predict, then look" question whose answer is computed from the models (lstm_core.lesson)."""

from urllib.parse import parse_qsl, urlsplit

import streamlit as st

from lab_ui import page_setup, query_index, set_query
from lstm_core.lesson import STEPS

PAGE_FILES = {"cell": "pages/4_cell.py", "gates": "pages/2_gates.py", "train": "pages/1_train.py",
              "generate": "pages/3_generate.py", "explorer": "pages/5_explorer.py",
              "sentiment": "pages/7_sentiment.py", "tagger": "pages/6_tagger.py", "compare": "pages/9_compare.py"}

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
path = urlsplit(step.view)
try:
    st.page_link(PAGE_FILES[path.path.strip("/")], label=f"{step.view_label} →", icon="🔎",
                 query_params=dict(parse_qsl(path.query)))
except Exception:  # noqa: BLE001 - a page run on its own (AppTest) knows no other pages; a plain link then
    st.markdown(f"[{step.view_label} →]({step.view})")

st.subheader("Predict, then look")
guess = st.radio(step.question, range(len(step.choices)), format_func=step.choices.__getitem__, index=None,
                 key=f"lesson_guess_{step.slug}")
if st.button("Show the answer", disabled=guess is None, key=f"lesson_reveal_{step.slug}", type="primary"):
    st.session_state[f"lesson_shown_{step.slug}"] = True
if st.session_state.get(f"lesson_shown_{step.slug}") and guess is not None:
    reveal = reveal_of(step.slug)
    verdict = st.success if guess == reveal.answer else st.warning
    verdict(("Right. " if guess == reveal.answer else f"Not quite: the answer is “{step.choices[reveal.answer]}”. ")
            + reveal.text)

back, _, forward = st.columns([1, 4, 1])
back.button("← Previous step", on_click=go, args=(-1,), disabled=index == 0, width="stretch")
forward.button("Next step →", on_click=go, args=(1,), disabled=index == len(STEPS) - 1, width="stretch")
