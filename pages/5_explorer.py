"""nn.LSTM explorer: the torch.nn.LSTM API live, and what forward does with sequences and states.

A sidebar change reruns the page, which reads its tables and figures from server-wide caches per
configuration (lab_ui.explorer_views). The tensor picker and the sentence demo are fragments, and
only the open tab of each section runs.
"""

import streamlit as st

from lab_ui import explorer_views as views
from lab_ui import page_setup

page_setup("nn.LSTM explorer")

st.title("nn.LSTM explorer")
st.caption("Every shape, tensor and number here is read off a real `torch.nn.LSTM` built with the settings in the "
           "sidebar. Hover the ? beside a setting for what it does. Two inputs feed it: a random batch shaped by "
           "the sidebar's seq_len and batch_size (the Shapes and Code tabs), and the sentences you type (the "
           "demo below the tabs).")
settings = views.settings_sidebar()
result = views.exploration(settings)

with st.container():  # one block whatever it holds: what follows keeps its place, so its charts are not redrawn
    for warning in result.warnings:
        st.warning(f"PyTorch warns: {warning}")
    if not result.ok:
        st.error(f"PyTorch refuses this configuration. {result.error}")
shapes_tab, tensor_tab, code_tab = st.tabs(["Shapes and parameters", "Draw a tensor", "Code"], key="view",
                                           bind="query-params")
if shapes_tab.open and result.ok:
    with shapes_tab:
        views.shapes_and_parameters(settings, result)
if tensor_tab.open and result.ok:
    with tensor_tab:
        views.tensor_picker(settings, [p.name for p in result.parameters])
if code_tab.open:
    with code_tab:
        if result.ok:
            st.code(result.snippet, language="python")
        else:
            st.error(f"No snippet: PyTorch refuses this configuration. {result.error}")

st.divider()
views.forward_demo(settings)
