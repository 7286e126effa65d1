"""lstm_core.gate_payload: a layer packed as 8-bit codes reads back within half a step of the trace."""

import json

import numpy as np
import pytest

import lstm_core
from lstm_core import analysis
from lstm_core.gate_payload import decoded, inspection_payload, max_error, quantise

TEXT = "HARPAGON.\nAu voleur! au voleur! à l'assassin! au meurtrier!\n"


@pytest.fixture(scope="module")
def pretrained_trace():
    run = lstm_core.load_run(lstm_core.PRETRAINED_DIR)
    return lstm_core.trace(run.model, run.vocab, TEXT)


def test_every_quantity_reads_back_within_half_its_step(pretrained_trace):
    tr = pretrained_trace
    for layer in range(tr.values["hidden_state"].shape[0]):
        payload = inspection_payload(tr, layer, analysis.text_features(TEXT))
        assert payload["chars"] == list(tr.chars) and payload["layer"] == layer
        assert [q["name"] for q in payload["quantities"]] == list(tr.quantities)
        for packed in payload["quantities"]:
            error = np.abs(decoded(packed) - tr[packed["name"]][layer])
            assert (error <= max_error(packed) + 1e-9).all(), packed["name"]
        json.dumps(payload)  # what the component receives: plain JSON


def test_a_unit_that_never_changes_reads_back_exactly():
    values = np.column_stack([np.full(5, 0.25), np.linspace(-3, 3, 5)])
    packed = {**quantise(values), "steps": 5, "units": 2}
    np.testing.assert_allclose(decoded(packed), values, atol=3 / 255)
    assert decoded(packed)[:, 0].tolist() == [0.25] * 5
