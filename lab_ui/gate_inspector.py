"""The /gates inspector: one layer of the trace sent to the browser once, sorted and drawn there.

``inspector(view)`` mounts ``lab_ui/components/gates_inspector.{js,css}`` with the layer packed by
:mod:`lstm_core.gate_payload` (8-bit codes and their scale, made once per server for each run, text and
layer) and the settings the link holds. Moving a unit, a step, the sort, the quantities or the top-k then
costs the server nothing: the component decodes, sorts and draws in the browser, and writes the settings
into the link itself. The server works again only when the text, the run or the layer changes.
"""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from lab_ui import gate_data as data
from lab_ui.html_view import component_file
from lab_ui.query import query_index, query_number, query_value
from lab_ui.render.heatmaps import GATE_SCALE, STATE_SCALE
from lab_ui.render.palette import INK, MARK, PAINT_GATE, PAINT_NEGATIVE, PAINT_POSITIVE
from lab_ui.render.svg import scale_stops
from lstm_core import analysis
from lstm_core.gate_payload import inspection_payload

_inspector = st.components.v2.component("lstm_lab_gates_inspector", html='<div class="gates-inspector"></div>',
                                        css=component_file("gates_inspector", "css"),
                                        js=component_file("gates_inspector", "js"), isolate_styles=False)


def _scale(name: str) -> dict:
    positions, rgb = scale_stops(name)
    return {"positions": positions.tolist(), "rgb": rgb.astype(int).tolist()}


@st.cache_resource(max_entries=24, show_spinner=False)
def payload_of(key: tuple[str, float], text: str, layer: int) -> tuple[str, str]:
    """The layer's packed trace (lstm_core.gate_payload) as the JSON text the component parses, and its signature,
    made once per server: a warm view sends the text as it is instead of serialising 0.7 MB of numbers again."""
    made = json.dumps(inspection_payload(data.trace_of(key, text), layer, data.features_of(text)), separators=(",", ":"))
    return made, hashlib.sha1(made.encode()).hexdigest()


def settings(view, memory: str) -> dict:
    """The view's settings as the link holds them (the component keeps them there as they change)."""
    last, hidden = len(view.text), view.hidden
    shown = [q for q in str(query_value("show", ",".join(view.quantities))).split(",") if q in view.quantities]
    return {"show": shown or list(view.quantities),
            "sort": analysis.SORT_ORDERS[query_index("sort", analysis.SORT_ORDERS, "correlation")],
            "feature": view.feature(), "top": query_number("top", min(8, hidden), 1, hidden),
            "from": query_number("from", 0, 0, last - 1), "to": query_number("to", min(100, last), 1, last),
            "unit": query_number("unit", view.best_unit(), 0, hidden - 1), "step": query_number("step", 0, 0, last - 1),
            "paint": query_value("paint", memory)}


def inspector(view) -> None:
    """The inspector section of /gates (a layer section: lab_ui.gate_sections.by_layer)."""
    st.caption("Everything here is computed in your browser from the model's own trace of this layer (each value "
               "within half an 8-bit step of it): tick the quantities, sort the units, choose how many, hover a cell "
               "for its value and click it to paint that unit on the text and read that step.")
    packed, signature = payload_of(view.key, view.text, view.layer)
    _inspector(key=f"gates_inspector_{view.layer}", data=component_data(packed, signature, settings(view, view.memory),
                                                                        view.memory))


def component_data(packed: dict | str, signature: str, chosen: dict, memory: str) -> dict:
    """What the component receives: the packed layer (its JSON text, or the dict), the settings, and the app's colour
    scales and words."""
    return {"payload": packed, "signature": signature, "settings": chosen, "memory": memory,
            "sortOrders": list(analysis.SORT_ORDERS), "featureLabels": dict(analysis.FEATURES),
            "scales": {"gate": _scale(GATE_SCALE), "state": _scale(STATE_SCALE)},
            "scaleWords": {"gate": "purple shut (0), white half open, orange open (1)",
                           "state": "blue negative, white 0, red positive"},
            "paint": {"gate": [int(c) for c in PAINT_GATE], "positive": [int(c) for c in PAINT_POSITIVE],
                      "negative": [int(c) for c in PAINT_NEGATIVE]},
            "paintWords": {"positive": "red", "negative": "blue"},
            "ink": INK, "mark": MARK, "hoverHint": "Hover a heatmap's cell for its unit, step and value."}
