"""Every chart downloadable as an image for a slide, set up in one place.

The app's charts are SVG images (lab_ui.render): one script, installed once per page by ``page_setup``
(lab_ui/components/chart_save.js), gives each a "SVG" and a "PNG" button on hover; the PNG is drawn at 1920 px wide.
The few Plotly charts get Plotly's own camera button, set here to a PNG at three times the chart's size.

    install()              once per page (lab_ui.navigation.page_setup)
    plotly_config(name)    st.plotly_chart's config: only the download button, at a slide's size
"""

from __future__ import annotations

import streamlit as st

from lab_ui.html_view import component_file

PNG_SCALE = 3  # a Plotly chart of 640 px comes out 1920 px wide


def install() -> None:
    """The chart-saving script, once per page (it guards itself against a second install)."""
    st.html(f"<script>{component_file('chart_save', 'js')}</script>", unsafe_allow_javascript=True)


def plotly_config(name: str) -> dict:
    """A Plotly chart's config: no toolbar but the download button, which saves a PNG ``PNG_SCALE`` times its size."""
    return {"displaylogo": False, "modeBarButtons": [["toImage"]],
            "toImageButtonOptions": {"format": "png", "scale": PNG_SCALE, "filename": f"lstm-lab-{name}"}}
