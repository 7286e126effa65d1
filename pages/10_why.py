"""Why this character: which earlier characters made a prediction (Captum's attributions, with a deletion curve
against random), what one changed character leaves in each state (the memory diff), a state patched from one text
into another, and linear probes of a whole state that steer a sample. The computing is lstm_core.why's."""

import pandas as pd
import streamlit as st

from lab_ui import page_setup, query_index, query_number, query_value, selected_run, set_query, show_table
from lab_ui.run_picker import run_key, run_path
from lab_ui import why_views as views
from lab_ui.export_views import notebook_button
from lab_ui.html_view import show_html
from lab_ui.render.tables import table_html
from lab_ui.render.text_box import show_text
from lstm_core.architectures import ARCHITECTURES
from lstm_core.analysis import FEATURES, parse_units, show_char
from lstm_core.corpus import load_corpus
from lstm_core.why.attribution import EXAMPLE_TEXT as ATTRIBUTION_EXAMPLE, METHODS, attribute, deletion_curves
from lstm_core.why.memory_diff import EXAMPLE_TEXT as MEMORY_DIFF_EXAMPLE, memory_diff, share, shipped_memory_diffs
from lstm_core.why.common import state_names
from lstm_core.why.patching import EXAMPLE_SOURCE, EXAMPLE_TARGET, WHOLE, patch
from lstm_core.why.probes import probe_frame, steered_sample, train_probes

page_setup("Why this character")
st.title("Why this character")
PARTS = {"attribution": "Which characters made it", "memory": "Memory diff", "patch": "Patching",
         "probes": "Probes and steering"}
run_id, run = selected_run("Model", architectures=ARCHITECTURES)
model, vocab, key = run.model, run.vocab, run_key(run_id)
part = st.radio("Part", list(PARTS), format_func=PARTS.get, horizontal=True, index=query_index("part", PARTS, "attribution"))
set_query(part=part)


def text_input(label: str, name: str, default: str, widget_key: str) -> str:
    value = st.text_area(label, query_value(name) or default, height=80, key=widget_key)
    set_query(**{name: value})
    return value


def whole(container, label: str, name: str, default: int, top: int) -> int:
    """A whole number from 0 to ``top`` (the link's, kept in range), written back into the link as ``name``."""
    value = container.number_input(label, 0, max(top, 0), min(max(query_number(name, default, 0, 10_000), 0), max(top, 0)))
    set_query(**{name: value})
    return value


# The run's key is hashed (a leading underscore would leave it out of the cache's key: another run's result)
@st.cache_data(show_spinner="Attributing...", max_entries=32)
def attributed(run_stamp, text, method, target, steps):
    result = attribute(model, vocab, text, method, target or None, steps)
    return result, deletion_curves(model, vocab, result)


@st.cache_data(show_spinner=False, max_entries=8)
def architectures():
    return shipped_memory_diffs()


@st.cache_data(show_spinner="Training the probes...", max_entries=8)
def probes_of(run_stamp, layer, quantity, corpus):
    return train_probes(model, vocab, load_corpus(corpus).valid_text[:6_000], layer, quantity)


try:
    if part == "attribution":
        st.caption("Each character of the text is scored by its part in the model's log-probability of the next "
                   "character. The deletion curve replaces the best-scored characters one by one: a faithful method's "
                   "curve falls faster than random's.")
        text = text_input("Text (the prediction explained is the character after its end)", "text",
                          ATTRIBUTION_EXAMPLE, "why_text")
        c1, c2, c3 = st.columns([2, 1, 1])
        method = c1.radio("Method", list(METHODS), format_func=METHODS.get, horizontal=True,
                          index=query_index("method", METHODS, "grad_x_input"))
        target = c2.text_input("Target (empty: the predicted one)", query_value("target") or "", max_chars=1)
        steps = c3.select_slider("IG steps", [16, 32, 64, 128, 256], query_number("steps", 32, 16, 256),
                                 disabled=method != "ig")
        set_query(method=method, target=target or None, steps=steps)
        result, curves = attributed(key, text, method, target, steps)
        st.markdown(f"Explaining **{show_char(result.target)}** after the text: log p = {result.log_prob:.3f} "
                    f"(the model predicts **{show_char(result.predicted)}**).")
        show_html(views.painted_scores(result.chars, result.scores, result.target), key="why_painted")
        if result.completeness_gap is not None:
            gap = result.completeness_gap
            st.caption(f"Completeness: the scores sum to {result.scores.sum():.3f}; f(text) − f(zero embeddings) = "
                       f"{result.log_prob - result.baseline_log_prob:.3f}; gap {gap:.1%}"
                       + (" — over 5%: raise the IG steps." if gap > 0.05 else "."))
        show_html(views.deletion_chart(curves, METHODS[method]), key="why_deletion")
        (st.success if curves.beats_random else st.warning)(curves.verdict(METHODS[method]))
        top = result.strongest(10)
        show_table(top.assign(char=top["char"].map(show_char)), {"score": "{:+.3f}"})
    elif part == "memory":
        st.caption("Two texts one character apart run side by side: how large the difference in each state stays, "
                   "step by step, and how far it moves the next character. Before the change every Δ is exactly 0.")
        text = text_input("Text A", "text", MEMORY_DIFF_EXAMPLE, "why_diff_text")
        c1, c2 = st.columns(2)
        position = whole(c1, "Position P to change", "p", 0, len(text) - 1)
        char = c2.text_input("Character put there in text B", query_value("char") or "V", max_chars=1)
        set_query(char=char)
        diff = memory_diff(model, vocab, text, position, char)
        st.markdown(f"Text B: `{''.join(diff.chars_b)!r}`")
        log_y = st.toggle("Log scale", value=False)
        show_html(views.norms_chart(diff, log_y), key="why_norms")
        show_html(views.change_chart(diff), key="why_tv")
        memory = model.arch.memory_state
        show_html(views.delta_heatmap(diff, memory, diff.layers - 1), key="why_heatmap")
        st.caption(f"Δ {memory.replace('_', ' ')} per unit, last layer: the units whose change reaches furthest.")
        st.subheader("LSTM, GRU and plain RNN on the memory task")
        diffs = architectures()
        st.caption(f"The comparison shipped with the app (delay {len(diffs[0].diff.chars_a) - 2}): the symbol at "
                   f"step 0 changed from {diffs[0].diff.chars_a[0]} to {diffs[0].diff.chars_b[0]}; each model's "
                   "memory state (the LSTM's cell, the others' hidden state) at every step.")
        show_html(views.architectures_chart(diffs), key="why_architectures")
        show_html(table_html(pd.DataFrame([{
            "model": d.label, "memory state": d.memory_state.replace("_", " "),
            "‖Δ‖ at the cue ÷ ‖Δ‖ at the symbol": share(d.at_cue),
            "answer's change (total variation)": f"{d.answer_change:.2f}",
            "answer A → B": f"{d.diff.top_a[-1]} → {d.diff.top_b[-1]}"} for d in diffs])), key="why_architecture_table")
    elif part == "patch":
        st.caption("Copy the state of text A after one of its characters into text B's run after one of its own, "
                   "then let the model read the rest of B and write on (same seed with and without).")
        source = text_input("Text A (its state is copied)", "source", EXAMPLE_SOURCE, "why_source")
        target = text_input("Text B (receives it)", "text", EXAMPLE_TARGET, "why_target")
        c1, c2, c3, c4 = st.columns(4)
        source_step = whole(c1, "Step in A", "s", len(source) - 1, len(source) - 1)
        target_step = whole(c2, "Step in B", "t", len(target) - 1, len(target) - 1)
        layer = whole(c3, "Layer", "layer", model.config.num_layers - 1, model.config.num_layers - 1)
        states = [WHOLE, *state_names(model)]
        quantity = c4.selectbox("State", states, format_func=lambda q: q.replace("_", " "),
                                index=query_index("state", states, WHOLE))
        set_query(state=quantity)
        units_text = st.text_input("Units (empty: all)", query_value("units") or "")
        set_query(units=units_text or None)
        units = parse_units(units_text, model.config.hidden_size) if units_text.strip() else None
        result = patch(model, vocab, source, target, source_step, target_step, layer, quantity, units, length=160)
        left, right = st.columns(2)
        for column, patched, title in ((left, False, "Without the patch"), (right, True, "With the patch")):
            column.markdown(f"**{title}**: next " + ", ".join(f"`{show_char(c)}` {p:.3f}" for c, p in result.top(patched)))
            show_text(result.sample_patched if patched else result.sample_plain, column)
        st.caption(f"Next-character change after the whole of B: total variation {result.total_variation[-1]:.3f}.")
    else:
        st.caption("A linear probe reads a feature of the text from a layer's whole state. It trains on the first "
                   "three quarters of 6,000 characters of validation text and is scored on the last quarter, beside the "
                   "best single unit and always answering the commoner value.")
        c1, c2 = st.columns(2)
        layer = whole(c1, "Layer", "layer", model.config.num_layers - 1, model.config.num_layers - 1)
        states = list(state_names(model))
        quantity = c2.selectbox("State", states, format_func=lambda q: q.replace("_", " "),
                                index=query_index("state", states, "hidden_state"))
        set_query(state=quantity)
        probes = probes_of(key, layer, quantity, run.config.get("train", {}).get("corpus", "full"))
        show_table(probe_frame(probes), {"probe (whole state)": "{:.3f}", "best single unit": "{:.3f}",
                                         "always the commoner": "{:.3f}"})
        st.subheader("Steering")
        names = [p.feature for p in probes]
        c1, c2, c3 = st.columns(3)
        feature = c1.selectbox("Along the probe of", names, format_func=lambda f: FEATURES[f],
                               index=query_index("feature", names, "capital_letter" if "capital_letter" in names else names[0]))
        alpha = c2.slider("α", -30.0, 30.0, float(query_number("alpha", 8, -30, 30)), 1.0)
        seed = c3.number_input("Seed", 0, 10_000, query_number("seed", 0, 0, 10_000))
        prime = st.text_input("Prime", query_value("prime") or "HARPAGON.\n")
        set_query(feature=feature, alpha=f"{alpha:g}", seed=seed, prime=prime)
        chosen = next(p for p in probes if p.feature == feature)
        left, right = st.columns(2)
        for column, a in ((left, 0.0), (right, alpha)):
            column.markdown(f"**α = {a:g}**")
            show_text(steered_sample(model, vocab, prime, chosen, a, 240, 0.8, seed), column)
    notebook_button("why", run_path(run_id))  # this part, as the link holds it, recomputed in a notebook
except ValueError as err:  # a WhyError, or parse_units on the list of units: one sentence each
    st.error(str(err))
