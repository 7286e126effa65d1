"""The Cell lab's views: the cell diagram, the activation curves, the sliders and the sequence charts.

The diagram follows the usual picture of an LSTM cell (Olah, "Understanding LSTM Networks",
2015): the cell state runs along the top, the four gates sit below it, and every arrow carries
the value flowing along it right now (red positive, blue negative, thicker when larger).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from lstm_core.gates import GATES, LABELS
from lstm_core.cell import GATE_SYMBOLS, MAX_INPUTS, MAX_UNITS, SCENARIOS, CellStep, CellWeights, equations_latex

POSITIVE, NEGATIVE, NEUTRAL = "#d62728", "#1f77b4", "#7f7f7f"
STORE = "cell_lab_values"
BOX_W, BOX_H = 0.6, 0.45  # half width and half height of a gate's box
GATE_TITLES = tuple(LABELS[name] for name in GATES)


def value_colour(value: float) -> str:
    return NEUTRAL if abs(value) < 1e-3 else POSITIVE if value > 0 else NEGATIVE


def _arrow(fig, start, end, value, label=True, shorten=(0.28, 0.28)):
    """An arrow from ``start`` to ``end`` whose colour and width carry ``value``.

    ``shorten`` trims (start, end) so that the arrow meets a node's rim, not its centre.
    """
    (x0, y0), (x1, y1) = start, end
    length = np.hypot(x1 - x0, y1 - y0)
    dx, dy = (x1 - x0) / length, (y1 - y0) / length
    x0, y0 = x0 + dx * shorten[0], y0 + dy * shorten[0]
    x1, y1 = x1 - dx * shorten[1], y1 - dy * shorten[1]
    width = 1.0 + 5.0 * min(abs(value), 2.0) / 2.0
    fig.add_annotation(x=x1, y=y1, ax=x0, ay=y0, xref="x", yref="y", axref="x", ayref="y", text="",
                       showarrow=True, arrowhead=2, arrowsize=0.9, arrowwidth=width, arrowcolor=value_colour(value))
    if label:
        fig.add_annotation(x=(x0 + x1) / 2, y=(y0 + y1) / 2, text=f"{value:+.3f}", showarrow=False,
                           font=dict(size=11, color=value_colour(value)), bgcolor="rgba(255,255,255,0.85)")


def _node(fig, xy, text, shape="circle", fill="#f4f4f4"):
    x, y = xy
    half_w, half_h = (BOX_W, BOX_H) if shape == "box" else (0.25, 0.25)
    kind = "rect" if shape == "box" else "circle"
    fig.add_shape(type=kind, x0=x - half_w, x1=x + half_w, y0=y - half_h, y1=y + half_h,
                  line=dict(color="#444", width=1.5), fillcolor=fill, layer="below")
    fig.add_annotation(x=x, y=y, text=text, showarrow=False, font=dict(size=13))


def cell_diagram(step: CellStep, unit: int = 0, title: str = "") -> go.Figure:
    """The cell of ``unit`` as a diagram whose arrows carry this step's values."""
    u = unit
    fig = go.Figure()
    pos = {"c_prev": (0.2, 5), "times_f": (3.0, 5), "plus": (5.6, 5), "c_out": (9.8, 5),
           "x": (0.2, 1.6), "h_prev": (0.2, 0.2), "mix": (1.4, 0.9),
           "f": (2.2, 2.5), "i": (3.6, 2.5), "g": (5.0, 2.5), "o": (6.4, 2.5),
           "times_ig": (4.3, 3.9), "tanh_c": (8.4, 3.9), "times_o": (8.4, 2.5), "h_out": (9.8, 1.0)}
    x_value = float(step.x[0]) if step.x.size == 1 else float(np.linalg.norm(step.x)) if step.x.size else 0.0
    top = {k: (pos[k][0], pos[k][1] + BOX_H) for k in GATE_SYMBOLS}
    bottom = {k: (pos[k][0], pos[k][1] - BOX_H) for k in GATE_SYMBOLS}
    # inputs meet in the weighted sum, which feeds each gate its pre-activation z
    _arrow(fig, pos["x"], pos["mix"], x_value)
    _arrow(fig, pos["h_prev"], pos["mix"], float(step.h_prev[u]))
    for k, symbol in enumerate(GATE_SYMBOLS):
        _arrow(fig, pos["mix"], bottom[symbol], float(step.pre[k, u]), label=False, shorten=(0.28, 0.04))
    # the cell state line: keep f * c_prev, add i * g
    _arrow(fig, pos["c_prev"], pos["times_f"], float(step.c_prev[u]))
    _arrow(fig, top["f"], pos["times_f"], float(step.forget_gate[u]), shorten=(0.04, 0.28))
    _arrow(fig, top["i"], pos["times_ig"], float(step.input_gate[u]), shorten=(0.04, 0.28))
    _arrow(fig, top["g"], pos["times_ig"], float(step.cell_candidate[u]), shorten=(0.04, 0.28))
    _arrow(fig, pos["times_f"], pos["plus"], float(step.kept[u]))
    _arrow(fig, pos["times_ig"], pos["plus"], float(step.written[u]))
    _arrow(fig, pos["plus"], pos["c_out"], float(step.cell_state[u]))
    # the hidden state: o * tanh(c)
    _arrow(fig, (pos["tanh_c"][0], 5), pos["tanh_c"], float(step.cell_state[u]), label=False, shorten=(0.0, 0.3))
    _arrow(fig, pos["tanh_c"], pos["times_o"], float(step.tanh_cell[u]), shorten=(0.3, 0.28))
    _arrow(fig, (pos["o"][0] + BOX_W, pos["o"][1]), pos["times_o"], float(step.output_gate[u]), shorten=(0.04, 0.28))
    _arrow(fig, pos["times_o"], pos["h_out"], float(step.hidden_state[u]))
    x_text = "x<sub>t</sub>" if step.x.size <= 1 else "x<sub>t</sub> (‖x‖)"
    for key, text in (("c_prev", "c<sub>t−1</sub>"), ("x", x_text), ("h_prev", "h<sub>t−1</sub>"),
                      ("c_out", "c<sub>t</sub>"), ("h_out", "h<sub>t</sub>")):
        _node(fig, pos[key], text, fill="#fff")
    _node(fig, pos["mix"], "Σ", fill="#fff")
    for key in ("times_f", "times_ig", "times_o"):
        _node(fig, pos[key], "×")
    _node(fig, pos["plus"], "+")
    _node(fig, pos["tanh_c"], "tanh", shape="box", fill="#fdf6e3")
    for k, symbol in enumerate(GATE_SYMBOLS):
        fn = "tanh" if symbol == "g" else "σ"
        z = float(step.pre[k, u])
        _node(fig, pos[symbol], f"{symbol} = {fn}(z)<br><b>{step.gate(k)[u]:.3f}</b><br>"
              f"<span style='font-size:10px;color:{value_colour(z)}'>z = {z:+.2f}</span>", shape="box", fill="#e8f0fe")
    fig.update_xaxes(visible=False, range=[-0.4, 10.4])
    fig.update_yaxes(visible=False, range=[-0.3, 5.6], scaleanchor="x", scaleratio=1)
    fig.update_layout(height=380, margin=dict(l=5, r=5, t=30 if title else 5, b=5), title=title or None,
                      plot_bgcolor="white", showlegend=False)
    return fig


def activation_curves(step: CellStep, unit: int = 0) -> go.Figure:
    """σ and tanh curves with each gate's operating point (every unit; the shown one is larger)."""
    fig = make_subplots(rows=1, cols=5, subplot_titles=[f"{t}" for t in GATE_TITLES] + ["tanh(c<sub>t</sub>)"])
    points = [(step.pre[k], step.gate(k)) for k in range(4)] + [(step.cell_state, step.tanh_cell)]
    for col, (z, value) in enumerate(points, start=1):
        reach = max(6.0, float(np.abs(z).max()) + 1.0)
        grid = np.linspace(-reach, reach, 200)
        curve = np.tanh(grid) if col in (3, 5) else 1 / (1 + np.exp(-grid))
        fig.add_trace(go.Scatter(x=grid, y=curve, mode="lines", line=dict(color="#999"), hoverinfo="skip"),
                      row=1, col=col)
        sizes = [14 if j == unit else 8 for j in range(len(z))]
        fig.add_trace(go.Scatter(x=z, y=value, mode="markers+text", marker=dict(size=sizes, color=POSITIVE),
                                 text=[f"{v:.3f}" if j == unit else "" for j, v in enumerate(value)],
                                 textposition=["top right" if v < 0 else "top left" for v in z],
                                 hovertemplate="z=%{x:.4f}<br>value=%{y:.4f}<extra>unit</extra>"),
                      row=1, col=col)
    for col in range(1, 6):
        fig.update_yaxes(range=[-1.25, 1.3] if col in (3, 5) else [-0.12, 1.25], row=1, col=col)
    fig.update_layout(height=230, showlegend=False, margin=dict(l=5, r=5, t=30, b=5))
    fig.update_annotations(font_size=12)
    return fig


def show_step(step: CellStep, unit: int, weights: CellWeights | None = None, title: str = "") -> None:
    """Equations with live numbers, the diagram and the activation curves for one step."""
    for line in equations_latex(step, unit, weights):
        st.latex(line)
    st.plotly_chart(cell_diagram(step, unit, title), width="stretch")
    st.plotly_chart(activation_curves(step, unit), width="stretch")


def states_over_time(labels, series: dict, current: int, title: str = "") -> go.Figure:
    """Lines of each named series (time, units) over the steps, the current step marked."""
    fig = go.Figure()
    steps = list(range(len(labels)))
    dashes = ("solid", "dot", "dash", "dashdot", "longdash", "longdashdot")
    for n, (name, values) in enumerate(series.items()):
        values = np.asarray(values).reshape(len(labels), -1)
        for j in range(values.shape[1]):
            label = name if values.shape[1] == 1 else f"{name} unit {j}"
            fig.add_trace(go.Scatter(x=steps, y=values[:, j], mode="lines+markers", name=label,
                                     line=dict(dash=dashes[n % len(dashes)])))
    fig.add_vline(x=current, line=dict(color="#444", dash="dot"))
    fig.update_xaxes(tickmode="array", tickvals=steps, ticktext=labels)
    fig.update_layout(height=300, margin=dict(l=5, r=5, t=30 if title else 5, b=5), title=title or None)
    return fig


# ----------------------------------------------------------------------------- sliders kept across reruns


def cell_values(units: int, inputs: int) -> dict:
    """The cell lab's values (weights, x, h, c, pre-activations), resized to ``units`` × ``inputs``."""
    store = st.session_state.setdefault(STORE, {"weights": CellWeights.zeros(1, 1), "x": np.zeros(1),
                                                "h": np.zeros(1), "c": np.zeros(1), "pre": np.zeros((4, 1))})
    old = store["weights"]
    if (old.units, old.inputs) != (units, inputs):
        new = CellWeights.zeros(units, inputs)
        a, b = min(units, old.units), min(inputs, old.inputs)
        new.weight_x[:, :a, :b] = old.weight_x[:, :a, :b]
        new.weight_h[:, :a, :a] = old.weight_h[:, :a, :a]
        new.bias[:, :a] = old.bias[:, :a]
        store["weights"] = new
        store["x"] = np.resize(np.r_[store["x"], np.zeros(MAX_INPUTS)][:inputs], inputs)
        for key in ("h", "c"):
            store[key] = np.r_[store[key], np.zeros(MAX_UNITS)][:units]
        store["pre"] = np.concatenate([store["pre"], np.zeros((4, MAX_UNITS))], axis=1)[:, :units]
        forget_widgets()
    return store


def forget_widgets() -> None:
    """Drop the sliders' own state so that they show the stored values on the next run."""
    for key in [k for k in st.session_state if isinstance(k, str) and k.startswith("cellw_")]:
        del st.session_state[key]


def apply_scenario(name: str) -> None:
    """Load a scenario preset (a one-unit, one-input cell) into the stored values."""
    scenario = SCENARIOS[name]
    st.session_state[STORE] = {"weights": scenario.weights(), "x": np.array([scenario.x]),
                               "h": np.array([scenario.h_prev]), "c": np.array([scenario.c_prev]),
                               "pre": scenario.weights().bias.copy()}
    st.session_state["cell_sequence"] = scenario.sequence
    st.session_state["cell_units"], st.session_state["cell_inputs"] = 1, 1
    st.session_state["cell_step"] = 0
    forget_widgets()


def on_scenario_change(key: str) -> None:
    """Callback of the scenario picker: load the chosen preset (``custom`` keeps the values)."""
    if st.session_state[key] in SCENARIOS:
        apply_scenario(st.session_state[key])


def value_slider(container, label: str, array: np.ndarray, index, key: str, low: float, high: float,
                 step: float = 0.05, help: str | None = None) -> None:
    """A slider bound to ``array[index]``: seeded from it, and writing the moved value back."""
    key = "cellw_" + key
    if key not in st.session_state:
        st.session_state[key] = float(np.clip(round(float(array[index]), 4), low, high))
    array[index] = container.slider(label, low, high, step=step, key=key, help=help)


def state_sliders(store: dict, units: int, inputs: int, with_input: bool = True) -> None:
    """Sliders for x_t, h_{t-1} and c_{t-1}."""
    if with_input:
        for m in range(inputs):
            value_slider(st, f"input x_t[{m}]", store["x"], m, f"x_{m}", -2.0, 2.0)
    for j in range(units):
        if with_input:
            value_slider(st, f"previous hidden state h_(t−1)[{j}]", store["h"], j, f"h_{j}", -1.0, 1.0)
        value_slider(st, f"previous cell state c_(t−1)[{j}]", store["c"], j, f"c_{j}", -3.0, 3.0)


def weight_sliders(weights: CellWeights, unit: int) -> None:
    """One column per gate: the weights reading x_t and h_{t-1}, and the bias, of one unit."""
    for k, column in enumerate(st.columns(4)):
        column.markdown(f"**{GATE_TITLES[k]}**")
        for m in range(weights.inputs):
            value_slider(column, f"W_x{GATE_SYMBOLS[k]}[{unit},{m}]", weights.weight_x, (k, unit, m),
                         f"wx_{k}_{unit}_{m}", -10.0, 10.0)
        for n in range(weights.units):
            value_slider(column, f"W_h{GATE_SYMBOLS[k]}[{unit},{n}]", weights.weight_h, (k, unit, n),
                         f"wh_{k}_{unit}_{n}", -10.0, 10.0)
        value_slider(column, f"b_{GATE_SYMBOLS[k]}[{unit}]", weights.bias, (k, unit), f"b_{k}_{unit}", -10.0, 10.0)


def preactivation_sliders(store: dict, unit: int) -> None:
    """The first lesson: set each gate's pre-activation z directly."""
    for k, column in enumerate(st.columns(4)):
        value_slider(column, f"z_{GATE_SYMBOLS[k]} ({GATE_TITLES[k]})", store["pre"], (k, unit),
                     f"z_{k}_{unit}", -8.0, 8.0, help="the gate's pre-activation, before σ or tanh")
