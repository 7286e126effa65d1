"""Gates & states: every gate and state of a character model (an LSTM, a GRU or a plain RNN) on any text,
read, ranked, ablated and edited; the quantities shown are the model's own (lstm_core.gates).

One section is drawn at a time, picked under the text's controls (and kept in the link, ``?section=``). Each is a
fragment (lab_ui.gate_sections) drawing from server-wide caches: moving a control redraws its own section only.
"""

import streamlit as st

from lab_ui import gate_sections as sections
from lab_ui import page_setup, presentation, query_number, query_value, selected_run, set_query
from lab_ui.export_views import notebook_button
from lab_ui.run_picker import run_key, run_path
from lab_ui.snapshot_views import training_movie
from lstm_core import analysis
from lstm_core.architectures import ARCHITECTURES

page_setup("Gates & states")

st.title("Gates & states")
run_id, run = selected_run(architectures=ARCHITECTURES)  # an LSTM, a GRU or a plain RNN: each shows what it has
if presentation.is_on():  # a projector's screen goes to the section
    with st.expander("What this page shows"):
        st.markdown(sections.intro(run.model.arch))
else:
    st.markdown(sections.intro(run.model.arch))
corpus = run.config.get("train", {}).get("corpus", "full")
passages = st.cache_data(analysis.validation_passages, max_entries=4)(corpus)
# a projector's first screen goes to the section: the text's controls fold away (the link still sets them)
text_box = st.expander("The text: a validation passage, or your own") if presentation.is_on() else st.container()
left, middle = text_box.columns([2, 4])
source = left.radio("Text", ["validation passage", "typed"], horizontal=True,  # keyed: a widget keeps its identity
                    index=1 if query_value("source") == "typed" else 0, key="gates_source")  # as its link follows it
if source == "typed":
    linked_text = query_value("text", "HARPAGON.\n\nAu voleur!\n")
    if len(linked_text) > 2000:
        st.warning(f"The link's text has {len(linked_text):,} characters; only its first 2,000 are traced.")
    text = middle.text_area("Your text", linked_text[:2000], max_chars=2000, key="gates_text")
    set_query(source="typed", text=text, passage=None, length=None)
else:
    if corpus not in ("full", "seed"):
        st.caption("Runs do not keep uploaded texts: these passages come from Molière's validation text.")
    count = len(passages)
    index = middle.number_input("Passage of the validation text", 0, count - 1, query_number("passage", 0, 0, count - 1),
                                key="gates_passage")
    longest = len(passages[index])
    text = passages[index][:middle.slider("Length", 20, longest, query_number("length", 300, 20, longest), 10,
                                          key="gates_length")]
    set_query(source=None, text=None, passage=index, length=len(text))
if len(text) < 2:
    st.warning("There is too little text to trace: type at least two characters.")
    st.stop()
layers = run.model.config.num_layers
view = sections.GateView(run_id, run, run_key(run_id), text,
                          query_number("layer", layers - 1, 0, layers - 1), corpus)
if view.trace.replacements:
    st.info("Characters the model does not know were replaced by their closest known form: "
            + ", ".join(f"{unknown!r} → {used!r}" for unknown, used in view.trace.replacements.items()))

section = sections.pick_section()
if section == "units":
    sections.units_we_found(view)
elif section == "movie":
    st.caption("How this model got here: the same probe traced through its weights at moments of its training. "
               "Press play, or drag the slider.")
    st.fragment(training_movie, key="gates_movie")(run_id)
else:
    sections.by_layer(view, section)  # a fragment: moving the layer redraws this section alone
st.download_button("Download the trace (CSV, long form)", lambda: analysis.trace_csv(view.trace),
                   file_name=f"trace-{run_id}.csv", mime="text/csv", on_click="ignore")
if section in ("units", "movie"):  # a layer's section has its own button, in its fragment
    notebook_button("gates", run_path(run_id))
