"""Generate: Molière-style text from a character model, streamed as it is sampled, every draw shown."""

import time

import numpy as np
import streamlit as st

import lstm_core
from lab_ui import gate_views as views
from lab_ui import page_setup, query_number, query_value, selected_run, set_query, show_text
from lab_ui.html_view import show_html
from lab_ui.export_views import notebook_button
from lab_ui.run_picker import load_run_cached, run_key, run_path
from lab_ui.shared_samples import (moved_slider, politely, prepare_neighbours, sampling_options, shared_samples,
                                   shared_views)
from lab_ui.safe_text import markdown_text
from lstm_core import analysis
from lstm_core.readable import bits, percent

page_setup("Generate")


@st.cache_data(max_entries=64, show_spinner=False)
def written_at(key: tuple[str, float], prime: str, length: int, temperature: float, options: tuple) -> tuple[str, dict]:
    """A continuation at one temperature (of the run ``key``: :func:`lab_ui.run_picker.run_key`) and its measures
    (lstm_core.analysis.sample_measures), kept so that moving the main slider does not redo the others."""
    top_k, top_p, seed = options
    run = load_run_cached(*key)
    drawn = list(lstm_core.sample_stream(run.model, run.vocab, prime, length, temperature, top_k, top_p, seed))
    return "".join(s.char for s in drawn), analysis.sample_measures(drawn)


def measured(measures: dict) -> str:
    """A sample's measures as the lesson quotes them (lstm_core.readable)."""
    return (f"drawn from distributions of {bits(measures['entropy'])} on average; {percent(measures['distinct'])} "
            "of its words distinct")


st.title("Generate")
run_id, run = selected_run()
model, vocab = run.model, run.vocab

MAX_PRIME = 2000
linked_prime = query_value("prime", "HARPAGON.\n\n")
if len(linked_prime) > MAX_PRIME:
    st.warning(f"The link's prime text has {len(linked_prime):,} characters; the box holds {MAX_PRIME:,}, so only "
               f"its first {MAX_PRIME:,} are used.")
prime = st.text_area("Prime text (the model reads it first)", linked_prime[:MAX_PRIME], max_chars=MAX_PRIME,
                     key="generate_prime")  # keyed widgets keep their identity as their link-given values follow them
c1, c2, c3, c4, c5 = st.columns(5)
temperature = c1.slider("Temperature (0 = greedy)", 0.0, 2.0, query_number("temperature", 0.8, 0.0, 2.0, float, warn=True), 0.05,
                        key="temperature")
top_k = c2.number_input("Top-k (0 = off)", 0, len(vocab), query_number("top_k", 0, 0, len(vocab), warn=True),
                        key="generate_top_k")
top_p = c3.slider("Top-p (1 = off)", 0.05, 1.0, query_number("top_p", 1.0, 0.05, 1.0, float, warn=True), 0.05,
                  key="generate_top_p")
length = c4.slider("Length", 10, 2000, query_number("length", 400, 10, 2000, warn=True), 10, key="generate_length")
seed = c5.number_input("Seed", 0, 1_000_000, query_number("seed", 0, 0, 1_000_000, warn=True), key="generate_seed")
set_query(prime=prime, temperature=temperature, top_k=top_k, top_p=top_p, length=length, seed=seed)
if vocab.unknown(prime):
    st.info("Characters the model does not know were replaced by their closest known form: "
            + ", ".join(f"{unknown!r} → {used!r}" for unknown, used in vocab.clean(prime)[1].items()))
sliders = {"temperature": temperature, "top_k": top_k, "top_p": top_p}
options = sampling_options(**sliders, seed=seed)



STREAM_SECONDS = 0.1  # the text written so far is shown this often while it is drawn


def draw_streamed() -> list:
    """Draw the sample, showing the text as it is written (a few times a second: each showing is a redraw)."""
    box, drawn_steps, shown_at = st.empty(), [], time.monotonic() - STREAM_SECONDS  # the first character at once
    for step in lstm_core.sample_stream(model, vocab, prime, length, **options):  # one thread inside
        drawn_steps.append(step)
        if time.monotonic() - shown_at >= STREAM_SECONDS:
            show_text(prime + "".join(s.char for s in drawn_steps), box)
            shown_at = time.monotonic()
    box.empty()
    return drawn_steps


def key_of(values: dict) -> tuple:
    """The shared store's key of the sample with these sliders' values (and this page's run, prime, length, seed)."""
    return run_key(run_id), prime, length, tuple(sampling_options(**values, seed=seed).values())


def sample_view(steps: list) -> dict[str, str]:
    """What the page shows of a sample (its steps), made once per server (``shared_views``): a second visitor
    with the same settings gets the text, its colours and its chart from memory."""
    chars, probs = [s.char for s in steps], np.array([s.prob for s in steps])
    raw_entropy = analysis.entropy_bits(np.stack([s.raw_probs for s in steps]))
    sampled_entropy = analysis.entropy_bits(np.stack([s.probs for s in steps]))
    return {"caption": f"White: the draw was certain; red: it was unlikely. Mean probability of the drawn characters "
                       f"{probs.mean():.2f}; {np.mean(probs < 0.1):.0%} of them had less than 0.1.",
            "measures": measured(analysis.sample_measures(steps)),
            "coloured": views.probability_text(chars, probs, prime), "plain": prime + "".join(chars),
            "entropy": views.entropy_chart(raw_entropy, sampled_entropy, chars)}


def draw_of(values: dict):
    """The draw of that sample away from the page (the same function, settings and seed as draw_streamed's),
    and its view made too."""
    near, key, views_ahead = sampling_options(**values, seed=seed), key_of(values), shared_views()

    def draw() -> list:
        steps = list(politely(lstm_core.sample_stream(model, vocab, prime, length, **near)))
        views_ahead.get_or_compute(key, lambda: sample_view(steps))
        return steps
    return draw


sample_key = key_of(sliders)
try:  # every session asking for the same sample shares one draw
    steps = shared_samples().get_or_compute(sample_key, draw_streamed)
except ValueError as err:
    st.error(f"These settings cannot be used: {markdown_text(err)}")
    st.stop()
if not steps:
    st.stop()
chars = [s.char for s in steps]
drawn = np.array([s.prob for s in steps])


shown = shared_views().get_or_compute(sample_key, lambda: sample_view(steps))
st.subheader("The text, each character coloured by the probability it was drawn with")
st.caption(shown["caption"])
st.markdown(f"These {len(steps):,} characters at T = {temperature:g}: {shown['measures']}.")
show_html(shown["coloured"], key="generate_coloured")
with st.expander("Plain text"):
    show_text(shown["plain"])

st.subheader("Entropy along the text (bits)")
st.caption("How to read: how unsure the model was before each character it wrote, in bits: 0 means one character "
           "was certain, 1 bit a fair choice between two, 3 bits about eight. The second line is the distribution "
           "actually drawn from, after temperature, top-k and top-p. Hover a point for the character drawn there.")
show_html(shown["entropy"], key="generate_entropy")


@st.fragment
def distribution_at_a_step() -> None:
    st.subheader("The distribution at one step, before and after temperature and top-k / top-p")
    at = st.slider("Step", 0, len(steps) - 1, query_number("step", 0, 0, len(steps) - 1), key="generate_step")
    set_query(step=at)
    bars = analysis.distribution_frame(steps[at].raw_probs, steps[at].probs, vocab.chars)
    st.html(views.probability_bars(bars, ["model", "sampled_from"],
                                   {"model": "model (temperature 1)", "sampled_from": "after temperature, top-k, top-p"},
                                   f"Step {at}: drew {views.show_token(chars[at])!r} with p = {drawn[at]:.3f}"))


@st.fragment
def several_temperatures() -> None:
    st.subheader("Several temperatures, same prime and seed")
    temperatures = st.multiselect("Temperatures", [0.0, 0.2, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0], default=[0.2, 0.8, 1.5],
                                  key="generate_temperatures")
    st.caption(f"Each {length:,} characters long, from the same prime and seed; the line under each says how spread "
               "its draws were (bits) and how repetitive its words.")
    for column, value in zip(st.columns(max(1, len(temperatures))), sorted(temperatures)):
        side, measures = written_at(run_key(run_id), prime, length, value, (options["top_k"], options["top_p"], seed))
        column.markdown(f"**T = {value}**")
        column.caption(measured(measures).capitalize() + ".")
        show_text(side, column)


distribution_at_a_step()
several_temperatures()
notebook_button("generate", run_path(run_id))  # this sample as a notebook: the link's settings
# the slider just moved is likely to move one step more: its next samples are drawn meanwhile, in the background
prepare_neighbours(shared_samples(), key_of, draw_of, sliders,
                   moved_slider(st.session_state.get("generate_sliders"), sliders), len(vocab))
st.session_state["generate_sliders"] = sliders
