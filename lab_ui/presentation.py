"""Presentation mode (``?present=1``): every page legible on a projector at 1280 x 720.

In it the sidebar and the empty header are gone and no text is under 14 px: Streamlit's own and the app's
components' through one style sheet (lab_ui/components/presentation.css), and the labels drawn inside the app's
SVG images (lab_ui.render) by a script that raises them to 15 px at the size each image is shown
(lab_ui/components/presentation.js), whatever its viewBox. Every link the app builds between pages keeps the
mode, so that a lecturer can prepare a list of links.

    is_on()                      whether this page is shown in presentation mode
    setup()                      once per page (lab_ui.page_setup): the styles and the images' labels
    toggle()                     the switch that turns it on and off (in the sidebar)
    keep_mode(settings)          a link's settings, with ``present=1`` added while the mode is on
    sidebar()                    where a page's sidebar controls go: the sidebar, or in presentation mode (which
                                 hides it) a folded "Pages and settings" panel at the top of the page

The panel is made once per run of the page by :func:`setup` (lab_ui.page_setup runs it first), so what a page
puts in ``sidebar()`` lands above its title, in the order the page writes it.
"""

from __future__ import annotations

import streamlit as st

from lab_ui.html_view import component_file

PARAMETER = "present"
PANEL = "presentation_panel"  # the session's panel of this run (a container; not a widget)
PANEL_LABEL = "Pages and settings"

_presentation = st.components.v2.component("lstm_lab_presentation", css=component_file("presentation", "css"),
                                         js=component_file("presentation", "js"), isolate_styles=False)


def is_on() -> bool:
    """Whether the page was opened (or switched) into presentation mode: ``?present=1``."""
    return st.query_params.get(PARAMETER) == "1"


def keep_mode(settings: dict[str, str] | None = None) -> dict[str, str]:
    """A link's query settings, with ``present=1`` while the mode is on (so a link keeps the mode)."""
    settings = dict(settings or {})
    if is_on():
        settings[PARAMETER] = "1"
    return settings


def setup() -> None:
    """Presentation mode's styles, its script for the images' labels and the panel that holds what the sidebar
    holds otherwise, once per page (when it is on)."""
    if is_on():
        _presentation(key="presentation_mode")
        st.session_state[PANEL] = st.expander(PANEL_LABEL, expanded=False, icon=":material/tune:")


def sidebar():
    """Where a page puts its sidebar's controls (the run picker, the settings): ``st.sidebar``, or in presentation
    mode, where the sidebar is hidden, the folded panel at the top of the page."""
    panel = st.session_state.get(PANEL) if is_on() else None
    return panel if panel is not None else st.sidebar


def _switch() -> None:
    if st.session_state.get("presentation_toggle"):
        st.query_params[PARAMETER] = "1"
    elif PARAMETER in st.query_params:
        del st.query_params[PARAMETER]


def toggle() -> None:
    """The switch that turns presentation mode on (in the sidebar) and off (pinned to the top right corner)."""
    st.session_state["presentation_toggle"] = is_on()  # the link decides, whichever page set it
    st.toggle("Presentation mode", key="presentation_toggle", on_change=_switch,
              help="Large text, no sidebar, for a projector: the link keeps it (?present=1), and so does every "
                   "link between the app's pages.")
