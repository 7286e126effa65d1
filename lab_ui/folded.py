"""Sections drawn only while their expander is open: a page load sends none of what they hold, opening one
reruns that section alone, and the link keeps it open (``?key=true``).

    folded(label, key, draw, *args)   ``draw(*args)`` inside an expander labelled ``label``
"""

from __future__ import annotations

import streamlit as st


def folded(label: str, key: str, draw, *args, **settings) -> None:
    """A section drawn only while its expander is open (on /gates the saturation scatter, the training movie
    and the interventions together were a fifth of what the page cost the browser to open)."""
    st.fragment(_folded_body, key=f"folded_{key}")(label, key, draw, *args, **settings)


def _folded_body(label: str, key: str, draw, *args, **settings) -> None:
    box = st.expander(label, key=key, on_change="rerun", bind="query-params")
    if box.open:
        with box:
            draw(*args, **settings)
