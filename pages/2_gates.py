"""Gates & states: every gate and state of a character model on any text, read, ranked and edited."""

import pandas as pd
import streamlit as st

import lstm_core
import lstm_core.gates
from lab_ui import gate_views as views
from lab_ui import page_setup, query_index, query_number, query_value, selected_run, set_query
from lstm_core import analysis
from lstm_core.sampling import sample_with_interventions

page_setup("Gates & states")


st.title("Gates & states")
run_id, run = selected_run()
model, vocab, corpus = run.model, run.vocab, run.config.get("train", {}).get("corpus", "full")
hidden, layers = model.config.hidden_size, model.config.num_layers
passages = st.cache_data(analysis.validation_passages, max_entries=4)(corpus)
source = st.radio("Text", ["validation passage", "typed"], horizontal=True,
                  index=1 if query_value("source") == "typed" else 0)
if source == "typed":
    linked_text = query_value("text", "HARPAGON.\n\nAu voleur!\n")
    if len(linked_text) > 2000:
        st.warning(f"The link's text has {len(linked_text):,} characters; only its first 2,000 are traced.")
    text = st.text_area("Your text", linked_text[:2000], max_chars=2000)
    set_query(source="typed", text=text, passage=None)
else:
    if corpus not in ("full", "seed"):
        st.caption("Runs do not keep uploaded texts: these passages come from Molière's validation text.")
    count = len(passages)
    index = st.number_input("Passage of the validation text", 0, count - 1, query_number("passage", 0, 0, count - 1))
    longest = len(passages[index])
    text = passages[index][:st.slider("Length", 20, longest, query_number("length", 300, 20, longest), 10)]
    set_query(source=None, text=None, passage=index, length=len(text))
if len(text) < 2:
    st.warning("There is too little text to trace: type at least two characters.")
    st.stop()
tr = lstm_core.trace(model, vocab, text)
if tr.replacements:
    st.info("Characters the model does not know were replaced by their closest known form: "
            + ", ".join(f"{unknown!r} → {used!r}" for unknown, used in tr.replacements.items()))
features = analysis.text_features(tr.text)

st.header("Heatmaps")
c1, c2, c3, c4, c5 = st.columns([1, 3, 2, 2, 2])
layer = c1.selectbox("Layer", range(layers), index=query_number("layer", 0, 0, layers - 1))
wanted = [q for q in str(query_value("show", ",".join(lstm_core.QUANTITIES))).split(",") if q in lstm_core.QUANTITIES]
quantities = c2.multiselect("Quantities", lstm_core.QUANTITIES, default=wanted, format_func=views.LABELS.get)
sort = c3.selectbox("Sort units by", analysis.SORT_ORDERS,
                    index=query_index("sort", analysis.SORT_ORDERS, "variance"))
feature_names = list(analysis.FEATURES)
feature = c4.selectbox("Feature (for correlation)", feature_names, format_func=lambda f: f.replace("_", " "),
                       index=query_index("feature", feature_names, "speaker_name"))
top_k = c5.slider("Top-k units", 1, hidden, query_number("top", 32, 1, hidden))
last = len(tr.chars)
first, stop = st.slider("Steps shown (every character is labelled up to 160 steps)", 0, last,
                        (query_number("from", 0, 0, last - 1), query_number("to", 160, 1, last)))
stop = max(stop, first + 1)
set_query(layer=layer, show=",".join(quantities), sort=sort, feature=feature, top=top_k, **{"from": first, "to": stop})
orders = {}
for quantity in quantities:  # drawn on demand, never inside a polling fragment
    values = tr[quantity][layer, first:stop]  # (time, units)
    units = orders[quantity] = analysis.unit_order(values, sort, features[feature][first:stop])[:top_k]
    st.plotly_chart(views.heatmap(values[:, units].T, tr.chars[first:stop], units, quantity, first_step=first,
                                  title=f"{views.LABELS[quantity]} · layer {layer}"), key=f"heatmap-{quantity}")

st.header("One unit on the text")
c1, c2 = st.columns(2)
paint_quantity = c1.selectbox("Quantity to paint", lstm_core.QUANTITIES, format_func=views.LABELS.get,
                              index=query_index("paint", lstm_core.QUANTITIES, "cell_state"))
default_unit = int(orders[quantities[0]][0]) if quantities else 0
unit = c2.number_input("Unit", 0, hidden - 1, query_number("unit", default_unit, 0, hidden - 1))
set_query(paint=paint_quantity, unit=unit)
st.html(views.painted_text(tr.chars, tr[paint_quantity][layer, :, unit], paint_quantity))

st.header("Surprisal and the next characters")
nexts = analysis.next_char_frame(tr)
shown = nexts.iloc[first:stop]  # the steps shown in the heatmaps
st.plotly_chart(views.line_over_tokens(shown["surprisal_bits"], tr.chars[first:stop], "surprisal (bits)",
                                       hover_text=("next: " + shown["top_next"]).tolist(), first_step=first),
                key="surprisal", config=views.PLAIN)
step = st.slider("Step", 0, len(tr.chars) - 1, query_number("step", 0, 0, len(tr.chars) - 1))
set_query(step=step)
c1, c2 = st.columns([2, 3])
actual = nexts.loc[step, "next_actual"]
goes_on = f" (the text goes on with **{views.show_token(actual)}**, {nexts.loc[step, 'surprisal_bits']:.2f} bits)"
c1.markdown(f"After **{views.show_token(tr.chars[step])}** (step {step}), the model expects{goes_on if actual else ''}:")
c1.table(pd.DataFrame([{"next character": views.show_token(ch), "probability": f"{p:.4f}"}
                       for ch, p in tr.top_next(step, 5)]).set_index("next character"))
c2.plotly_chart(views.cell_update_diagram(tr.cell_update(layer, step, unit), f"The cell update of unit {unit}, "
                                          f"layer {layer}, at step {step}"), key="cell-update", config=views.PLAIN)

st.header("Gate saturation")
st.plotly_chart(views.saturation_scatter(analysis.saturation_frame(tr, layer), f"Gate saturation · layer {layer}"),
                key="saturation", config=views.PLAIN)

st.header("Unit finder")
find = st.selectbox("Units that follow", feature_names, format_func=analysis.FEATURES.get,
                    index=feature_names.index(feature))
best = analysis.rank_units(tr, find, top=8)
st.table(best.assign(quantity=best["quantity"].map(views.LABELS),
                     correlation=best["correlation"].map("{:+.3f}".format)))
for column, row in zip(st.columns(3), best.head(3).itertuples()):  # painted over the steps shown above
    column.caption(f"layer {row.layer}, {views.LABELS[row.quantity]}, unit {row.unit} (r = {row.correlation:+.2f})")
    column.html(views.painted_text(tr.chars[first:stop], tr[row.quantity][row.layer, first:stop, row.unit],
                                   row.quantity, first_step=first))

st.header("Interventions")
KINDS = {"clamp a gate": None, "silence units (h = 0)": "hidden_state", "set the cell state at one step": "cell_state"}
with st.form("intervention"):
    c1, c2, c3, c4 = st.columns(4)
    kind = c1.selectbox("Intervention", list(KINDS))
    gate = c2.selectbox("Gate (to clamp)", lstm_core.gates.SIGMOID_GATES, format_func=views.LABELS.get)
    suggested = orders[quantities[0]][:4] if quantities else [0]
    units_text = c3.text_input(f"Units (layer {layer})", ", ".join(str(u) for u in suggested))
    value = c4.number_input("Value", -10.0, 10.0, 0.0, 0.1)
    c1, c2, c3, c4 = st.columns(4)
    at_step = c1.number_input("Step (for the cell state)", 0, len(tr.chars) - 1, len(tr.chars) - 1)
    length = c2.slider("Continuation length", 10, 200, 80, 10)
    temperature = c3.slider("Temperature", 0.0, 2.0, 0.5, 0.05)
    seed = c4.number_input("Seed", 0, 10_000, 0)
    if st.form_submit_button("Apply", type="primary"):
        st.session_state["gates_intervention_applied"] = True  # kept while other settings change
if st.session_state.get("gates_intervention_applied"):
    try:
        quantity = KINDS[kind] or gate
        window = (at_step, at_step + 1) if quantity == "cell_state" else (0, None)
        edit = lstm_core.Intervention(quantity, layer, analysis.parse_units(units_text, hidden), value, *window)
    except ValueError as err:
        st.error(f"This intervention cannot be applied: {err}")
        st.stop()
    edited = lstm_core.trace(model, vocab, text, interventions=[edit])
    bars = analysis.distribution_frame(tr.probs[-1], edited.probs[-1], vocab.chars, names=("before", "after"))
    st.plotly_chart(views.probability_bars(bars, ["before", "after"], title="Next character after the text, "
                                           "before and after the intervention"), key="intervened")
    for column, label, edits in zip(st.columns(2), ("Before", "After"), ([], [edit])):  # same seed, side by side
        column.markdown(f"**{label}**")
        column.code(sample_with_interventions(model, vocab, text, length, edits, temperature, seed=seed),
                    language=None, wrap_lines=True)

st.download_button("Download the trace (CSV, long form)", lambda: analysis.trace_csv(tr),
                   file_name=f"trace-{run_id}.csv", mime="text/csv", on_click="ignore")
