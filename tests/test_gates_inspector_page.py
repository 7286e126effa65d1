"""/gates' inspector section (AppTest): the page sends one layer of the model's own trace, packed, with the
link's settings; the layer's control sends the other layer. What the browser draws from it:
tests/test_gates_inspector_js.py."""

import json

import numpy as np

import lstm_core
from lstm_core.gate_payload import decoded, max_error
from tests.page_helpers import component_data
from tests.test_gates_page import TEXT, gates_page, save_tiny_run


def inspector_data(at) -> dict:
    """The data the page sent the inspector, its packed layer parsed (it travels as the server's cached JSON text)."""
    [data] = [d for d in component_data(at) if isinstance(d, dict) and "payload" in d]
    return {**data, "payload": json.loads(data["payload"])}


def test_the_inspector_receives_the_layers_trace_and_the_links_settings():
    run_id, run = save_tiny_run(architecture="gru")
    at = gates_page(run_id, source="typed", text=TEXT, section="inspect", layer="1", top="3", sort="variance",
                    unit="4", show="update_gate,hidden_state")
    assert not at.exception
    data = inspector_data(at)
    payload, settings = data["payload"], data["settings"]
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    assert payload["layer"] == 1 and payload["chars"] == list(tr.chars)
    assert [q["name"] for q in payload["quantities"]] == list(tr.quantities)  # a GRU's own: r, z, n, h
    for packed in payload["quantities"]:
        assert (np.abs(decoded(packed) - tr[packed["name"]][1]) <= max_error(packed) + 1e-9).all()
    assert (settings["top"], settings["sort"], settings["unit"]) == (3, "variance", 4)
    assert settings["show"] == ["update_gate", "hidden_state"] and data["memory"] == "hidden_state"

    at.selectbox(key="gates_layer").set_value(0).run()  # the server works again only for another layer
    assert not at.exception and inspector_data(at)["payload"]["layer"] == 0
