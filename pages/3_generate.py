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
from lab_ui.shared_samples import (moved_slider, on_grid, politely, prepare_neighbours, sampling_options,
                                   shared_samples, shared_views)
from lab_ui.safe_text import markdown_text
from lab_ui.sample_control import (chosen_settings, linked_settings, sampling_control, session_feed,
                                   streamlit_controls)
from lab_ui.sample_feed import text_as_drawn
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
c1, c2 = st.columns(2)
length = c1.slider("Length", 10, 2000, query_number("length", 400, 10, 2000, warn=True), 10, key="generate_length")
seed = c2.number_input("Seed", 0, 1_000_000, query_number("seed", 0, 0, 1_000_000, warn=True), key="generate_seed")
if vocab.unknown(prime):
    st.info("Characters the model does not know were replaced by their closest known form: "
            + ", ".join(f"{unknown!r} → {used!r}" for unknown, used in vocab.clean(prime)[1].items()))


STREAM_SECONDS = 0.1  # the text written so far is shown this often while it is drawn (without the feed)


def key_of(values: dict) -> tuple:
    """The shared store's key of the sample with these sliders' values (and this page's run, prime, length, seed)."""
    return run_key(run_id), prime, length, tuple(sampling_options(**values, seed=seed).values())


def steps_at(values: dict):
    """The steps of the sample with these sliders' values, as they are drawn."""
    return lstm_core.sample_stream(model, vocab, prime, length, **sampling_options(**values, seed=seed))


def stream_at(settings: dict):
    """The feed's answer (lab_ui.sample_feed): the text with the browser's ``settings`` (this page's prime, length
    and seed), as it is drawn."""
    values = on_grid(settings, len(vocab))
    return text_as_drawn(shared_samples(), key_of(values), lambda: steps_at(values))


feed = session_feed(stream_at)  # published before the component is drawn: it asks at once
linked = linked_settings(len(vocab))
if feed is None:  # no route serves the feed (a page run by AppTest): Streamlit's widgets, the text drawn below
    sliders = streamlit_controls(linked, len(vocab))
else:
    sliders = chosen_settings(linked, len(vocab))
temperature = sliders["temperature"]
set_query(prime=prime, **sliders, length=length, seed=seed)
options = sampling_options(**sliders, seed=seed)
sample_key = key_of(sliders)
if feed is not None:  # the controls, and the sample under them: from the store, or streamed by the feed
    sampling_control(feed, sliders, len(vocab), prime, shared_samples(), sample_key)


def draw_streamed() -> list:
    """Draw the sample, showing the text as it is written (a few times a second: each showing is a redraw)."""
    box, drawn_steps, shown_at = st.empty(), [], time.monotonic() - STREAM_SECONDS  # the first character at once
    for step in steps_at(sliders):  # one thread inside
        drawn_steps.append(step)
        if time.monotonic() - shown_at >= STREAM_SECONDS:
            show_text(prime + "".join(s.char for s in drawn_steps), box)
            shown_at = time.monotonic()
    box.empty()
    return drawn_steps


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
    """The draw of that sample away from the page (the same function, settings and seed as the page's), and its
    view made too."""
    key, views_ahead = key_of(values), shared_views()

    def draw() -> list:
        steps = list(politely(steps_at(values)))
        views_ahead.get_or_compute(key, lambda: sample_view(steps))
        return steps
    return draw


try:  # every session asking for the same sample shares one draw (with the feed: its text is in the slider's box)
    steps = shared_samples().get_or_compute(sample_key, draw_streamed if feed is None else lambda: list(steps_at(sliders)))
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
if feed is not None:  # the control just moved is likely to move one step more: its next samples are drawn meanwhile,
    # in the background, and the component's next ask is answered from the store at once (a page run by AppTest,
    # without the feed, asks for nothing ahead)
    prepare_neighbours(shared_samples(), key_of, draw_of, sliders,
                       moved_slider(st.session_state.get("generate_sliders"), sliders), len(vocab))
st.session_state["generate_sliders"] = sliders
