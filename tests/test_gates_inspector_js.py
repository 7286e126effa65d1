"""The /gates inspector's numbers are the model's own: its JavaScript (lab_ui/components/gates_inspector.js),
loaded as a module in Chromium, decodes a layer of the pretrained model's trace to within half an 8-bit step of
lstm_core's, sorts the units as lstm_core.analysis does, and draws those values (the painted text's and the step's
read-out, the heatmap's cells on lab_ui.render.heatmaps' colour scales)."""

import numpy as np
import pytest

import lstm_core
from lab_ui.gate_inspector import _scale, component_data
from lab_ui.html_view import component_file
from lab_ui.render.heatmaps import GATE_SCALE, STATE_SCALE, centred_rgba
from lstm_core import analysis
from lstm_core.gate_payload import decoded, inspection_payload, max_error

from conftest import component_prelude

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TEXT = "HARPAGON.\nAu voleur! au voleur! à l'assassin! au meurtrier! Je suis perdu.\n"
IMPORT = """async ([source, call, cases]) => {
  const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
  const inspector = await import(url);
  return cases.map((args) => {
    const out = inspector[call](...args);
    return Array.isArray(out) ? out.map((row) => (row.length === undefined ? row : Array.from(row))) : out;
  });
}"""


@pytest.fixture(scope="module")
def layer():
    run = lstm_core.load_run(lstm_core.PRETRAINED_DIR)
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    return tr, inspection_payload(tr, 1, analysis.text_features(TEXT))


@pytest.fixture(scope="module")
def run_js(blank_tab):
    source = component_file("gates_inspector", "js")
    return lambda call, cases: blank_tab.evaluate(IMPORT, [source, call, cases])


def test_the_browser_decodes_the_models_values_within_half_a_step(layer, run_js):
    tr, payload = layer
    for packed, rows in zip(payload["quantities"], run_js("decode", [[q] for q in payload["quantities"]]), strict=True):
        rows = np.asarray(rows)
        np.testing.assert_allclose(rows, decoded(packed), rtol=0, atol=1e-12)
        assert (np.abs(rows - tr[packed["name"]][1]) <= max_error(packed) + 1e-9).all(), packed["name"]


def test_the_browser_sorts_units_as_lstm_core_does(layer, run_js):
    _, payload = layer
    cell = decoded(payload["quantities"][-2])  # the memory the heatmaps are sorted by (an LSTM's cell state)
    feature = np.asarray(payload["features"]["speaker_name"])
    windows = [(0, len(TEXT)), (10, 11)]
    cases = [[cell.tolist(), by, feature.tolist(), first, stop] for by in analysis.SORT_ORDERS for first, stop in windows]
    for (_, by, _, first, stop), order in zip(cases, run_js("unitOrder", cases), strict=True):
        expected = analysis.unit_order(cell[first:stop], by, feature[first:stop])
        assert order == expected.tolist(), (by, first, stop)
    js_r = run_js("correlations", [[cell.tolist(), feature.tolist()]])[0]
    np.testing.assert_allclose(js_r, analysis.correlations(cell, feature), rtol=0, atol=1e-9)


def test_the_heatmaps_colours_are_lab_ui_renders(run_js):
    values = np.linspace(-1.2, 1.2, 25)
    for name, centre, reach in ((GATE_SCALE, 0.5, 0.5), (STATE_SCALE, 0.0, 0.8)):
        got = np.asarray(run_js("scaleColour", [[_scale(name), float(v), centre, reach] for v in values]))
        want = centred_rgba(values, name, centre, reach)[:, :3]
        assert np.abs(got - want).max() <= 1, name  # one rounding apart at most


def test_what_the_component_draws_is_the_trace(layer, blank_tab):
    """Mounted with the payload: the painted text's hover values and the step's table are the model's values
    (to the 3 decimals shown, plus half a step), and no text is under 14 px."""
    tr, payload = layer
    data = component_data(payload, "test", {"show": ["forget_gate", "cell_state"], "sort": "variance",
                                            "feature": "vowel", "top": 5, "from": 0, "to": 40, "unit": 7, "step": 12,
                                            "paint": "hidden_state"}, "cell_state")
    drawn = blank_tab.evaluate("async ([source, data, css]) => {" + component_prelude("gates-inspector") + """
      const style = document.createElement("style");
      style.textContent = css;
      document.head.append(style);
      mount({ data, parentElement: document.body });
      const titles = [...root.querySelectorAll(".gi-painted span")].map((s) => s.title);
      const table = [...root.querySelectorAll(".gi-step tr")].map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent]);
      const small = [...root.querySelectorAll("*")].filter((e) => e.childNodes.length && [...e.childNodes].some((n) =>
        n.nodeType === 3 && n.textContent.trim()) && parseFloat(getComputedStyle(e).fontSize) < 14).map((e) => e.tagName);
      return { titles, table, maps: root.querySelectorAll("canvas").length, small };
    }""", [component_file("gates_inspector", "js"), data,
                                                   component_file("gates_inspector", "css")])
    assert drawn["maps"] == 2
    hidden = tr["hidden_state"][1, :, 7]
    error = max_error(payload["quantities"][-1])[7] + 5e-4
    shown = np.array([float(title.split(": ")[1]) for title in drawn["titles"]])
    assert len(shown) == len(TEXT) and np.abs(shown - hidden).max() <= error
    labels = {q["label"]: q for q in payload["quantities"]}
    for label, value in drawn["table"]:
        q = labels[label]
        assert abs(float(value) - tr[q["name"]][1, 12, 7]) <= max_error(q)[7] + 5e-4, label
    assert drawn["small"] == []
