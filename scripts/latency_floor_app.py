"""The floor of ``scripts/interaction_latency.py``: the least a Streamlit page with a slider, a formula and a chart costs.

One slider, a formula with its value, and a small Plotly line chart that follows the slider: what
any interactive Streamlit page does, with nothing of LSTM Lab in it. Served by the latency script
on its own port so that its controls are timed the same way, in the same run, as the app's.
"""

import numpy as np
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Latency floor", layout="wide")
st.title("Latency floor")
x = st.slider("Value", -2.0, 2.0, 0.5, 0.05)
st.latex(rf"\sigma({x:.2f}) = \frac{{1}}{{1 + e^{{-{x:.2f}}}}} = {1 / (1 + np.exp(-x)):.4f}")
grid = np.linspace(-6, 6, 50)
figure = go.Figure([go.Scatter(x=grid, y=1 / (1 + np.exp(-grid)), mode="lines", name="σ"),
                    go.Scatter(x=[x], y=[1 / (1 + np.exp(-x))], mode="markers", marker=dict(size=12), name="value")])
figure.update_layout(height=300, margin=dict(l=10, r=10, t=10, b=10))
st.plotly_chart(figure)
