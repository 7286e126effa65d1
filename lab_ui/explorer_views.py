"""The nn.LSTM explorer's views: help texts, number formats, heatmaps and charts, and server-wide caches of them.

What makes a change of setting answer at once: the heatmaps, which every change of the LSTM redraws, are SVG
images (:func:`lab_ui.render.heatmaps.tensor_heatmap_svg`), far cheaper for the browser than Plotly heatmaps.
Everything is cached per configuration (``st.cache_resource``, bounded), keyed only by what it depends on
(:func:`lstm_core.explorer.weights_only`), so an unchanged view stays the same element and is not
redrawn. The line and bar charts are ready ``go.Figure`` objects (a dict would be validated into a
figure again on every rerun; ``plotly.express`` is slower still) without a Plotly
template (most of a small figure's JSON, and a slower redraw). Tables are static (``st.table``).
Values go out rounded: colour needs three digits, text shows four significant ones."""

from __future__ import annotations

import math
from dataclasses import asdict, replace

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from lstm_core import explorer
from lstm_core.explorer import LSTMSettings

from . import presentation
from .query import query_index, query_number, query_value, set_query
from .render.downloads import plotly_config
from .render.heatmaps import tensor_heatmap_svg
from .render.palette import LIGHT_GRID, PALETTE, series_colour, series_marker

BLOCKS = " | ".join(explorer.GATE_BLOCKS)  # the gates' row blocks in PyTorch's order, from lstm_core.gates

SETTING_HELP = {
    "input_size": "H_in: the number of features of each step's input x_t. In the sentence demo below, the size of "
                  "each word's embedding.",
    "hidden_size": "H_cell: the number of units per layer, the size of the cell state c_t (and of h_t unless "
                   "proj_size is set). Each gate block of the weights has this many rows.",
    "num_layers": "LSTMs stacked on each other: layer k+1 reads the hidden states of layer k at each step. "
                  "h_n and c_n hold one state per layer (and direction).",
    "bias": "Adds two bias vectors per layer and direction, b_ih and b_hh (PyTorch keeps both; only their sum "
            "matters). Off: no bias tensors at all.",
    "batch_first": "Input and output become (batch, seq, feature) instead of (seq, batch, feature). h_n and c_n "
                   "keep (D·num_layers, batch, H) either way.",
    "dropout": "The probability of dropout on the outputs of every layer except the last, and only in training mode "
               "(model.train()). "
               "With one layer there is nothing to drop and PyTorch warns; in eval mode it does nothing.",
    "bidirectional": "Adds a second LSTM per layer that reads the sequence from the end: outputs concatenate both "
                     "directions (2·H_out features), and h_n / c_n get 2·num_layers rows.",
    "proj_size": "If > 0, each h_t is projected down to proj_size by an extra weight W_hr (LSTMP): outputs and h_n "
                 "shrink to proj_size, c_n keeps hidden_size. It must be smaller than hidden_size. 0: no projection.",
    "seq_len": "L: the number of time steps of the random input fed above. The sentence demo sets its own "
               "(the longest sentence).",
    "batch_size": "N: the number of sequences in the random input batch above. The sentence demo's batch is its "
                  "sentences.",
}


# ----------------------------------------------------------------------------- numbers as they mean


def number(value: float) -> str:
    """A value at 4 significant digits: 0.0478, not 0.04780000075697899."""
    return f"{float(value):.4g}"


def gap(value: float) -> str:
    """A difference or an error: 4 significant digits where it is a real difference, else at two digits in
    scientific notation (1.2e-07), where it is rounding."""
    return number(value) if abs(value) >= 1e-3 else f"{float(value):.1e}"


def vector(values, shown: int = 8) -> str:
    """A vector's first ``shown`` values at 4 significant digits (and how many more there are)."""
    values = np.asarray(values).ravel()
    more = f", … {len(values) - shown} more" if len(values) > shown else ""
    return "[" + ", ".join(number(v) for v in values[:shown]) + more + "]"


def shape(value) -> str:
    return "(" + ", ".join(str(int(v)) for v in value) + ")"


def whole_ticks(count: int, target: int = 12) -> dict:
    """Axis ticks on whole units (steps, rows, units): every unit, or every k-th when there are many."""
    return dict(tick0=0, dtick=max(1, math.ceil(count / target)), tickformat="d")


def _layout(height: int, **extra) -> dict:
    """A small figure's layout. No Plotly template: the default one is most of a small figure's JSON and
    makes the browser redraw it three times slower (Streamlit's theme styles the chart either way)."""
    return {"template": "none", "height": height, "margin": dict(l=10, r=10, t=30, b=10), **extra}


# ----------------------------------------------------------------------------- the configuration


@st.cache_resource(max_entries=64, show_spinner=False)
def exploration(settings: LSTMSettings) -> explorer.Exploration:
    """:func:`lstm_core.explorer.explore`, once per configuration per server (read-only: shared)."""
    return explorer.explore(settings)


@st.cache_resource(max_entries=64, show_spinner=False)
def tables(settings: LSTMSettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The shapes table and the parameter table of a configuration that PyTorch accepts."""
    result = exploration(settings)
    shapes = pd.DataFrame([{"tensor": name, "shape": str(value), "as documented": result.shape_formulas[name]}
                           for name, value in result.shapes.items()])
    parameters = pd.DataFrame([{
        "name": p.name, "shape": str(p.shape), "count": f"{p.count:,}", "role": p.role,
        "gate blocks (rows)": " | ".join(f"{g} {a}–{b}" for g, a, b in p.blocks) or "no gates: projection",
    } for p in result.parameters])
    return shapes, parameters


def numbered(count: int, target: int = 16) -> list[str]:
    """Column labels on whole units: every column, or every k-th when there are many."""
    step = max(1, math.ceil(count / target))
    return [str(c) if c % step == 0 else "" for c in range(count)]


@st.cache_resource(max_entries=64, show_spinner=False)
def tensor_heatmap(weights: LSTMSettings, name: str) -> str:
    """One parameter tensor as a heatmap (SVG), its rows split into the gate blocks i | f | g | o.

    Keyed by :func:`lstm_core.explorer.weights_only`: a layout, dropout or input-size change draws the same one.
    """
    result = exploration(weights)
    values = result.values[name]
    values = values.reshape(values.shape[0], -1)  # (rows, columns); a bias is one column
    blocks = next(p.blocks for p in result.parameters if p.name == name)
    return tensor_heatmap_svg(values, numbered(values.shape[1]), alt=f"{name} as a heatmap", row_title="row",
                         column_title="column", key_title="value", row_groups=blocks)


# ----------------------------------------------------------------------------- forward at work (seed 002)


def demo_key(settings: LSTMSettings) -> LSTMSettings:
    """What the demos depend on: everything but the random input's seq_len and batch_size."""
    default = LSTMSettings()
    return replace(settings, seq_len=default.seq_len, batch_size=default.batch_size)


@st.cache_resource(max_entries=32, show_spinner=False)
def sentence_batch(settings: LSTMSettings, sentences: tuple[str, ...]) -> explorer.SentenceBatch:
    """The demo's batch for these sentences and this configuration; ValueError says what is wrong."""
    return explorer.sentence_batch(sentences, settings)


@st.cache_resource(max_entries=32, show_spinner=False)
def batch_forward(settings: LSTMSettings, sentences: tuple[str, ...]) -> explorer.BatchForward:
    return explorer.batch_forward(sentence_batch(settings, sentences))


@st.cache_resource(max_entries=32, show_spinner=False)
def batch_heatmap(weights: LSTMSettings, sentences: tuple[str, ...]) -> tuple[str, pd.DataFrame]:
    """The outputs of every sentence side by side in one heatmap (SVG), and the table of the last layer's h_n."""
    batch = sentence_batch(weights, sentences)
    forward = batch_forward(weights, sentences)
    count, longest, features = forward.output.shape
    out_size = features // (2 if weights.bidirectional else 1)
    # sentence b's steps at columns b·(longest + 1) + t, an empty column between sentences
    values = np.full((features, count * (longest + 1) - 1), np.nan)
    labels, titles = [], []
    for b, words in enumerate(batch.words):
        first = b * (longest + 1)
        values[:, first:first + longest] = forward.output[b].T
        labels += words + [explorer.PAD] * (longest - len(words)) + ([""] if b < count - 1 else [])
        titles.append((f"sentence {b}", first, first + longest - 1))
    halves = [("fwd", 0, out_size - 1), ("rev", out_size, features - 1)] if weights.bidirectional else []
    image = tensor_heatmap_svg(values, labels, alt="the outputs of each sentence as a heatmap", row_title="output feature",
                          column_title="the word read at each step", key_title="output", row_groups=halves,
                          column_groups=titles, rotate_labels=True)
    rows = {f"h_n[{row}, b] ({batch.row_name(row)})": [vector(forward.h_n[row, b]) for b in range(count)]
            for row in batch.top_rows}
    half = " (forward half)" if weights.bidirectional else ""
    table = pd.DataFrame({"b": range(count), "sentence": [" ".join(w) for w in batch.words], "length": batch.lengths,
                          **rows, f"output at its last word{half}": [vector(v[:out_size]) for v in forward.last_real_output]})
    return image, table


@st.cache_resource(max_entries=32, show_spinner=False)
def carry_view(weights: LSTMSettings, sentences: tuple[str, ...]):
    batch = sentence_batch(weights, sentences)
    carry = explorer.carry_versus_reset(batch)
    count, longest = carry.difference.shape
    traces = [go.Scatter(x=list(range(longest)), y=np.round(carry.difference[b], 4), mode="lines+markers",
                         name=f"sentence {b}: " + " ".join(batch.words[b][:3]) + ("…" if len(batch.words[b]) > 3 else ""),
                         line=dict(color=series_colour(b)), marker=dict(symbol=series_marker(b), size=8),
                         hovertemplate="step %{x}: %{y:.4g}")
              for b in range(count)]
    return carry, go.Figure(traces, _layout(
        300, xaxis=dict(title=dict(text="timestep"), **whole_ticks(longest), gridcolor=LIGHT_GRID),
        yaxis=dict(title=dict(text="‖carried − reset‖"), rangemode="tozero", gridcolor=LIGHT_GRID),
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0)))


@st.cache_resource(max_entries=32, show_spinner=False)
def packing_view(weights: LSTMSettings, sentences: tuple[str, ...]):
    batch = sentence_batch(weights, sentences)
    packing = explorer.packing_demo(batch)
    ids = pd.DataFrame([[f"{i} {batch.vocab[i]}" for i in row] for row in packing.padded_ids],
                       columns=[f"t={t}" for t in range(packing.padded_ids.shape[1])])
    errors = pd.DataFrame({"sentence": [" ".join(w) for w in batch.words], "length": batch.lengths,
                           "|h_n padded − alone|": [gap(v) for v in packing.padded_error],
                           "|h_n packed − alone|": [gap(v) for v in packing.packed_error]})
    return packing, ids, errors


@st.cache_resource(max_entries=32, show_spinner=False)
def detach_view(weights: LSTMSettings, chunk: int):
    demo = explorer.detach_demo(weights, chunk)
    steps = list(range(2 * chunk))
    traces = [go.Bar(x=steps, y=np.round(values, 5), name=name, marker_color=colour, marker_pattern_shape=hatch,
                     hovertemplate="step %{x}: %{y:.3g}")  # a colour and a hatch each: told apart without colour
              for name, values, colour, hatch in (("with detach", demo.with_detach, PALETTE[0], ""),
                                                  ("without detach", demo.without_detach, PALETTE[1], "/"))]
    return demo, go.Figure(traces, _layout(
        320, barmode="group", margin=dict(l=10, r=10, t=60, b=10),
        xaxis=dict(title=dict(text="timestep t"), **whole_ticks(2 * chunk, 15), gridcolor=LIGHT_GRID),
        yaxis=dict(title=dict(text="‖∂loss/∂x_t‖"), rangemode="tozero", gridcolor=LIGHT_GRID),
        legend=dict(orientation="h", yanchor="bottom", y=1.12, x=0),
        shapes=[dict(type="line", x0=chunk - 0.5, x1=chunk - 0.5, yref="paper", y0=0, y1=1,
                     line=dict(dash="dot", color="grey"))],
        annotations=[dict(x=(chunk - 1) / 2, y=1, yref="paper", text="chunk 1", showarrow=False, yanchor="bottom"),
                     dict(x=chunk + (chunk - 1) / 2, y=1, yref="paper", text="chunk 2", showarrow=False,
                          yanchor="bottom")]))


# ----------------------------------------------------------------------------- sections of the page


def settings_sidebar() -> LSTMSettings:
    """The configuration's widgets in the sidebar, first filled from the link; the settings go back into it."""
    defaults = LSTMSettings()
    values = {}
    side = presentation.sidebar()  # the sidebar, or in presentation mode the panel at the top of the page
    for name, default in asdict(defaults).items():
        key = f"explorer_{name}"
        if name == "seq_len":
            side.caption(RANDOM_INPUT)
        if key not in st.session_state:
            if isinstance(default, bool):
                st.session_state[key] = query_value(name, default, lambda v: v.lower() == "true")
            elif isinstance(default, float):
                st.session_state[key] = round(query_number(name, default, 0.0, 1.0, float, warn=True), 2)
            else:
                st.session_state[key] = query_number(name, default, 0, explorer.LIMITS[name], warn=True)
        if isinstance(default, bool):
            values[name] = side.checkbox(name, key=key, help=SETTING_HELP[name])
        elif isinstance(default, float):
            values[name] = round(side.slider(name, 0.0, 1.0, step=0.05, format="%.2f", key=key,
                                                   help=SETTING_HELP[name]), 2)  # no 0.15000000000000002
        else:
            values[name] = side.number_input(name, 0, explorer.LIMITS[name], step=1, key=key,
                                                   help=SETTING_HELP[name])
    settings = LSTMSettings(**values)
    set_query(**asdict(settings))
    return settings


def shapes_and_parameters(settings: LSTMSettings, result: explorer.Exploration) -> None:
    shapes, parameters = tables(settings)
    st.subheader("Shapes")
    st.table(shapes, hide_index=True)
    st.caption("L = sequence length, N = batch, D = 2 if bidirectional else 1, H_out = proj_size if > 0 "
               "else hidden_size, H_cell = hidden_size.")
    st.subheader(f"Parameters: {result.total_parameters:,} in {len(result.parameters)} tensors")
    st.table(parameters, hide_index=True)
    meanings = ", ".join(f"{symbol} = {meaning}" for symbol, meaning in explorer.GATE_MEANING.items())
    gates = len(explorer.GATE_BLOCKS)
    st.caption(f"The gate blocks are row ranges: the four gates' weights are stacked in one tensor, in PyTorch's "
               f"order {BLOCKS} ({meanings}), so each gate weight and bias has {gates} × {settings.hidden_size} = "
               f"{gates * settings.hidden_size} rows. *Draw a tensor* shows them.")


@st.fragment
def tensor_picker(settings: LSTMSettings, names: list[str]) -> None:
    """A tensor of the module drawn as a heatmap; picking another one reruns this section only."""
    if st.session_state.get("explorer_tensor") not in names:
        st.session_state["explorer_tensor"] = names[query_index("tensor", names, names[0])]
    name = st.selectbox("Draw a tensor", names, key="explorer_tensor",
                        help=f"Gate weights and biases stack the four gates' rows: {BLOCKS}, hidden_size "
                             "rows each. weight_hr (only with proj_size) has no gates.")
    set_query(tensor=name)
    reads = ("the input features x_t (or, above layer 0, the layer below's outputs)" if name.startswith("weight_ih")
             else "the previous hidden state h_(t-1), one column per feature" if name.startswith("weight_hh")
             else "the units of o·tanh(c_t)" if name.startswith("weight_hr") else "nothing: a bias is one column")
    rows = ("one per projected feature" if name.startswith("weight_hr")
            else f"in gate blocks {BLOCKS} from the top, split by black lines, one row per unit")
    st.caption(f"How to read: each row is one output of the tensor ({rows}); each column is what the row reads, "
               f"{reads}. Colour: the value, red positive, blue negative, white 0 (key on the right).")
    st.html(tensor_heatmap(explorer.weights_only(settings), name))


RANDOM_INPUT = ("**Random input** (the Shapes and Code tabs only): seq_len steps of batch_size random sequences. "
                "The demo under the tabs reads the typed sentences instead.")
SENTENCE_INPUT = ("**Input: the sentences typed here** (one sequence each). The sidebar's seq_len and batch_size "
                  "shape only the random input of the Shapes and Code tabs above.")
DEMO_TABS = ["A batch of sentences", "Carry or reset", "Padding and packing", "Truncated BPTT"]
MAX_TEXT = 600  # characters in the sentences box: four sentences of twelve words fit easily


@st.fragment
def forward_demo(settings: LSTMSettings) -> None:
    """Seed 002 on the configured LSTM: editing the sentences, switching tabs or moving the chunk length reruns
    this section only, and only the open tab is computed."""
    st.subheader("What forward does with sequences and states")
    st.caption(SENTENCE_INPUT)
    default_text = "\n".join(explorer.DEFAULT_SENTENCES)
    if "explorer_sentences" not in st.session_state:
        linked = query_value("sentences", default_text)
        if len(linked) > MAX_TEXT:
            st.warning(f"The link's sentences have {len(linked):,} characters; the box holds {MAX_TEXT}, so only "
                       f"the first {MAX_TEXT} are used.")
        st.session_state["explorer_sentences"] = linked[:MAX_TEXT]
    text = st.text_area("Sentences, one per line (two to four, up to 12 words each)", key="explorer_sentences",
                        max_chars=MAX_TEXT, help="Each sentence is one sequence of the batch; each word is embedded in "
                                            "input_size features. Press Ctrl+Enter to apply.")
    set_query(sentences=None if text == default_text else text)
    sentences = tuple(text.splitlines())
    try:
        batch = sentence_batch(demo_key(settings), sentences)
    except ValueError as err:
        st.error(f"No demonstration: {err}")
        return
    dropped = (f" Eval mode: dropout = {settings.dropout:g} acts only in training, so it changes nothing here."
               if settings.dropout else "")
    st.markdown(f"These sentences go through `{explorer.module_call(settings)}`, the configuration in the sidebar, "
                f"after a word embedding of size input_size = {settings.input_size}. They set the batch "
                f"(N = {len(batch.words)}) and the sequence length (L = {max(batch.lengths)}, the longest).{dropped}")
    tabs = st.tabs(DEMO_TABS, key="demo", bind="query-params")
    for tab, draw in zip(tabs, (batch_tab, carry_tab, packing_tab, detach_tab)):
        if tab.open:
            with tab:
                draw(settings, sentences, batch)


def batch_tab(settings: LSTMSettings, sentences: tuple, batch: explorer.SentenceBatch) -> None:
    forward = batch_forward(demo_key(settings), sentences)
    heatmap, table = batch_heatmap(explorer.weights_only(settings), sentences)
    layout = "(N, L, H_in)" if settings.batch_first else "(L, N, H_in)"
    other = "(L, N, H_in)" if settings.batch_first else "(N, L, H_in)"
    out_size = settings.proj_size or settings.hidden_size
    halves = (f": the forward direction's {out_size}, then the reverse direction's {out_size}"
              if settings.bidirectional else "")
    st.markdown(f"The padded batch is fed as {layout} = {shape(forward.input_shape)}, because batch_first = "
                f"{settings.batch_first} (with batch_first = {not settings.batch_first} it would be {other}). The output "
                f"has the same layout, {shape(forward.output_shape)}: one output per timestep per sentence, "
                f"{forward.output_shape[-1]} features each{halves}.")
    st.caption("How to read: one panel per sentence; each column is a timestep, labelled by the word read there "
               f"({explorer.PAD} after the sentence ends), each row one feature of the output"
               + (" (forward direction, fwd, above the black line; reverse, rev, below)" if settings.bidirectional else "")
               + ". Colour: the value, red positive, blue negative, white 0 (key on the right).")
    st.html(heatmap)
    if forward.alone_gap < 1e-5:
        st.markdown(f"Each sentence keeps its own state: fed alone, every sentence gives the same outputs at its "
                    f"words as in the batch (largest difference **{gap(forward.alone_gap)}**).")
    else:
        st.markdown(f"Each sentence keeps its own state, but the reverse direction reads a padded batch from its end, "
                    f"padding first: at a shorter sentence's words the outputs differ from the sentence fed alone "
                    f"by up to **{gap(forward.alone_gap)}**. Packed (see *Padding and packing*), they agree to "
                    f"**{gap(forward.packed_gap)}**.")
    rows = batch.top_rows
    names = " and ".join(f"{r} ({batch.row_name(r)})" for r in rows)
    st.markdown(f"`h_n` has shape {shape(forward.h_n.shape)} = (D·num_layers, N, H_out): one row per layer"
                + (" and direction (forward, then reverse within a layer)" if settings.bidirectional else "")
                + f", one column per sentence. The last layer is row{'s' if len(rows) > 1 else ''} {names}. "
                f"`h_n[{rows[0]}, b]` is sentence b's state after the last *padded* step: for the longest sentence it "
                "is the output at its last word; a shorter one has gone on through the padding."
                + (f" The reverse direction ends at the first word: `h_n[{rows[1]}, b]` is the output's reverse half "
                   "at step 0." if settings.bidirectional else ""))
    st.table(table, hide_index=True)


def carry_tab(settings: LSTMSettings, sentences: tuple, batch: explorer.SentenceBatch) -> None:
    carry, figure = carry_view(explorer.weights_only(settings), sentences)
    first = carry.difference[:, 0]
    last = np.array([carry.difference[b, n - 1] for b, n in enumerate(batch.lengths)])
    st.markdown("The same batch (packed) fed again, once from zero states (what `lstm(x)` does) and once from the "
                "previous batch's final `(h_n, c_n)` (what `lstm(x, state)` does). At step 0 the carried state moves "
                f"the outputs by {number(first.min())} to {number(first.max())}; at each sentence's last word by "
                f"{number(last.min())} to {number(last.max())}."
                + (" Bidirectional: the reverse direction's carried state enters at each sentence's last word, not "
                   "at step 0." if settings.bidirectional else ""))
    st.caption("How to read: one line per sentence (colour key above the chart); its height is the distance "
               "‖carried − reset‖ between the two outputs at that step. 0 would mean the carried state no longer "
               "matters. A line ends where its sentence ends.")
    st.plotly_chart(figure, config=plotly_config("explorer"))


def packing_tab(settings: LSTMSettings, sentences: tuple, batch: explorer.SentenceBatch) -> None:
    packing, ids, errors = packing_view(explorer.weights_only(settings), sentences)
    st.markdown(f"`pad_sequence` of the word ids (0 = `{explorer.PAD}`), shape {shape(ids.shape)} = (N, L); packed "
                f"with `pack_padded_sequence(x, lengths, batch_first={settings.batch_first})`, the batch sizes per "
                f"step are `{packing.batch_sizes}`: at each step the LSTM runs only the sentences still going.")
    st.table(ids, hide_index=True)  # one row per sentence: word id and word at each step
    rows = packing.true_h_n.shape[0]
    st.caption(f"Largest difference over all {rows} row{'s' if rows > 1 else ''} of h_n (every layer and direction) "
               "and every unit, against the same sentence fed alone:")
    st.table(errors, hide_index=True)
    shorter = [e for e, n in zip(packing.padded_error, batch.lengths) if n < max(batch.lengths)]
    if not shorter:
        st.markdown("All the sentences have the same length: there is no padding to read.")
    else:
        st.markdown("Without packing, a shorter sentence's `h_n` has also read the padding"
                    + (" (and its reverse direction started in it)" if settings.bidirectional else "")
                    + ": it is off by " + (f"{gap(min(shorter))} to {gap(max(shorter))}" if len(shorter) > 1 else
                                           gap(shorter[0])) + ". Packed, every `h_n` is the state "
                    f"after the sentence's own words (off by at most {gap(packing.packed_error.max())}, rounding).")


def detach_tab(settings: LSTMSettings, sentences: tuple, batch: explorer.SentenceBatch) -> None:
    if "explorer_chunk" not in st.session_state:
        st.session_state["explorer_chunk"] = query_number("chunk", 8, 2, 30, warn=True)
    chunk = st.slider("Chunk length", 2, 30, key="explorer_chunk",
                      help="Steps per chunk: the text is cut into chunks and backpropagation runs within one.")
    set_query(chunk=chunk)
    demo, figure = detach_view(explorer.weights_only(settings), chunk)
    layout = "(1, 2·chunk, H_in)" if settings.batch_first else "(2·chunk, 1, H_in)"
    st.markdown(f"A random sequence of {2 * chunk} steps, fed as {layout} in two chunks through the same LSTM; chunk 2 "
                "starts from chunk 1's final state and a loss is taken on chunk 2's outputs. The Molière trainer "
                "returns `hidden[0].detach(), hidden[1].detach()`: the state is carried into the next chunk, its "
                "history is not.")
    st.caption("How to read: one pair of bars per timestep (colour key above the chart): how much the loss changes "
               "with that step's input, ‖∂loss/∂x_t‖, with detach and without. The dotted line is the chunk border.")
    st.plotly_chart(figure, config=plotly_config("explorer"))
    reached = demo.with_detach[:chunk].max()
    st.markdown(f"With detach, chunk 1's inputs get gradient **{'exactly 0' if reached == 0 else gap(reached)}**; "
                f"without it, up to **{number(demo.without_detach[:chunk].max())}**, and every chunk would "
                "backpropagate to the start of the text.")
    if settings.bidirectional:
        st.info("A bidirectional LSTM's reverse direction reads each chunk from its end, so carrying its state from "
                "one chunk to the next means little for a real text: truncated BPTT is for unidirectional LSTMs. "
                "The gradients still show what detach does.")
