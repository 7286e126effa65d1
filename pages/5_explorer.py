"""nn.LSTM explorer: the torch.nn.LSTM API live, and what forward does with sequences and states."""

from dataclasses import asdict, fields

import pandas as pd
import plotly.express as px
import streamlit as st

from lab_ui import page_setup, query_value, set_query

page_setup("nn.LSTM explorer")

from lstm_core import explorer  # noqa: E402 - after page_setup, which must come first

st.title("nn.LSTM explorer")
st.caption("Every shape, tensor and number here is read off a real `torch.nn.LSTM` built with these settings.")

defaults = explorer.LSTMSettings()
sidebar = st.sidebar
values = {}
for f in fields(explorer.LSTMSettings):
    default = getattr(defaults, f.name)
    key = f"explorer_{f.name}"
    if key not in st.session_state:
        cast = (lambda v: v.lower() == "true") if isinstance(default, bool) else type(default)
        value = query_value(f.name, default, cast)
        limit = explorer.LIMITS.get(f.name, 1.0)
        st.session_state[key] = value if isinstance(value, bool) else type(default)(min(max(value, 0), limit))
    label = f.name
    if isinstance(default, bool):
        values[f.name] = sidebar.checkbox(label, key=key)
    elif isinstance(default, float):
        values[f.name] = sidebar.slider(label, 0.0, 1.0, step=0.05, key=key)
    else:
        values[f.name] = sidebar.number_input(label, 0, explorer.LIMITS[f.name], step=1, key=key)
settings = explorer.LSTMSettings(**values)
set_query(**{name: value for name, value in asdict(settings).items()})
result = explorer.explore(settings)

tabs = st.tabs(["Shapes and parameters", "Code"])
with tabs[0]:
    for warning in result.warnings:
        st.warning(f"PyTorch warns: {warning}")
    if not result.ok:
        st.error(f"PyTorch refuses this configuration. {result.error}")
    else:
        st.subheader("Shapes")
        st.dataframe(pd.DataFrame([{"tensor": name, "shape": str(shape), "as documented": result.shape_formulas[name]}
                                   for name, shape in result.shapes.items()]), hide_index=True)
        st.caption("L = sequence length, N = batch, D = 2 if bidirectional else 1, H_out = proj_size if > 0 "
                   "else hidden_size, H_cell = hidden_size.")
        st.subheader(f"Parameters: {result.total_parameters:,} in {len(result.parameters)} tensors")
        st.dataframe(pd.DataFrame([{
            "name": p.name, "shape": str(p.shape), "count": p.count, "role": p.role,
            "gate blocks (rows)": " | ".join(f"{g} {a}–{b}" for g, a, b in p.blocks) or "no gates: projection",
        } for p in result.parameters]), hide_index=True)
        name = st.selectbox("Draw a tensor", [p.name for p in result.parameters], key="explorer_tensor")
        tensor = result.values[name].reshape(result.values[name].shape[0], -1)
        figure = px.imshow(tensor, color_continuous_scale="RdBu_r", color_continuous_midpoint=0.0, aspect="auto",
                           labels=dict(x="column", y="row", color="value"))
        blocks = next(p.blocks for p in result.parameters if p.name == name)
        for gate, first, last in blocks:
            figure.add_hline(y=last + 0.5, line=dict(color="black", width=2))
            figure.add_annotation(x=1.02, xref="paper", y=(first + last) / 2, text=f"<b>{gate}</b>", showarrow=False)
        st.plotly_chart(figure, width="stretch")
with tabs[1]:
    if result.ok:
        st.code(result.snippet, language="python")
    else:
        st.error(f"No snippet: PyTorch refuses this configuration. {result.error}")

st.divider()
st.subheader("What forward does with sequences and states")
text = st.text_area("Sentences, one per line (two to four, up to 12 words each)",
                    "\n".join(explorer.DEFAULT_SENTENCES), key="explorer_sentences")
try:
    batch = explorer.sentence_batch(text.splitlines(), settings)
except ValueError as err:
    st.error(str(err))
    st.stop()
tabs = st.tabs(["A batch of sentences", "Carry or reset", "Padding and packing", "Truncated BPTT"])
padded_words = [[batch.vocab[i] for i in row] for row in batch.padded_ids().tolist()]
with tabs[0]:
    forward = explorer.batch_forward(batch)
    st.markdown(f"A batch of {len(batch.words)} sentences, padded to {max(batch.lengths)} steps, through "
                f"`{explorer.module_call(settings)}`: one output per "
                f"timestep per sentence, output shape {tuple(forward.output.shape)}.")
    st.plotly_chart(px.imshow(forward.output.transpose(0, 2, 1), facet_col=0, color_continuous_scale="RdBu_r",
                              color_continuous_midpoint=0.0, labels=dict(x="timestep", y="unit", facet_col="sentence")),
                    width="stretch")
    st.dataframe(pd.DataFrame(padded_words), hide_index=True)
    st.markdown(f"Each sentence keeps its own state: fed alone, every sentence gives the same outputs as in the "
                f"batch (largest difference **{forward.alone_gap:.1e}**). `h_n[0, b]` is sentence b's state after "
                "the last *padded* step:")
    st.dataframe(pd.DataFrame({"sentence": [" ".join(w) for w in batch.words], "length": batch.lengths,
                               "h_n (last layer)": [list(v.round(4)) for v in forward.h_n[batch.top_rows[0]]],
                               "output at its last word": [list(v.round(4)) for v in forward.last_real_output]}),
                 hide_index=True)
with tabs[1]:
    carry = explorer.carry_versus_reset(batch)
    st.markdown("The same batch fed again, once from zero states (what `lstm(x)` does) and once from the previous "
                "batch's `(h_n, c_n)` (what `lstm(x, state)` does). The difference of the outputs, per timestep:")
    frame = pd.DataFrame(carry.difference.T, columns=[" ".join(w[:3]) + "…" for w in batch.words])
    st.plotly_chart(px.line(frame, markers=True, labels=dict(index="timestep", value="‖carried − reset‖")),
                    width="stretch")
with tabs[2]:
    packing = explorer.packing_demo(batch)
    st.markdown(f"`pad_sequence` of the word ids (0 = `{explorer.PAD}`); packed, the batch sizes per step are "
                f"`{packing.batch_sizes}`: the LSTM stops each sentence at its own end.")
    st.dataframe(pd.DataFrame(packing.padded_ids), hide_index=True)
    st.dataframe(pd.DataFrame({"sentence": [" ".join(w) for w in batch.words], "length": batch.lengths,
                               "|h_n padded − alone|": packing.padded_error,
                               "|h_n packed − alone|": packing.packed_error}), hide_index=True)
    st.markdown("Without packing, a shorter sentence's `h_n` has also read the padding; with "
                "`pack_padded_sequence` it is the state after its own last word.")
with tabs[3]:
    chunk = st.slider("Chunk length", 2, 30, 8, key="explorer_chunk")
    demo = explorer.detach_demo(settings, chunk)
    frame = pd.DataFrame({"timestep": range(2 * chunk), "with detach": demo.with_detach,
                          "without detach": demo.without_detach}).melt("timestep", var_name="state", value_name="‖∂loss/∂x_t‖")
    figure = px.bar(frame, x="timestep", y="‖∂loss/∂x_t‖", color="state", barmode="group")
    figure.add_vline(x=chunk - 0.5, line=dict(dash="dot"))
    st.plotly_chart(figure, width="stretch")
    st.markdown(f"A loss on chunk 2's outputs. The Molière trainer returns `hidden[0].detach(), hidden[1].detach()`: "
                f"the state is carried into the next chunk, its history is not. With detach, chunk 1's inputs get "
                f"gradient **{demo.with_detach[:chunk].max():.1e}**; without it, up to "
                f"**{demo.without_detach[:chunk].max():.2e}**, and every chunk would backpropagate to the start of the text.")
