"""LSTM Lab's server: the Streamlit app (home.py first, then pages/) and the live panel's feed.

``streamlit run app.py`` finds the ``st.App`` below and serves it. Besides the pages it answers two routes
of its own: lab_ui.live_feed's, from which the live training panel fetches its charts and figures twice a
second, so that watching a training does not rerun the page; and lab_ui.sample_feed's, which sends
/generate's sample to the browser as it is drawn, so that a moved temperature shows text before the page
has rerun.
"""

import streamlit as st

from lab_ui import live_feed, sample_feed

app = st.App("home.py", routes=[live_feed.route(), sample_feed.route()])
