"""LSTM Lab's server: the Streamlit app (home.py first, then pages/) and the live panel's feed.

``streamlit run app.py`` finds the ``st.App`` below and serves it. Besides the pages it answers one route
of its own, lab_ui.live_feed's: the live training panel fetches its charts and figures from it twice a
second, so that watching a training does not rerun the page.
"""

import streamlit as st

from lab_ui import live_feed

app = st.App("home.py", routes=[live_feed.route()])
