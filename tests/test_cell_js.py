"""The browser's cell equals lstm_core's: the component's own JavaScript file, loaded as a module in
Chromium, evaluated on random cells (1-4 units, 1-3 inputs) and on the lab's scenarios, compared
with lstm_core.cell in float64 on both sides."""

import numpy as np
import pytest

from lab_ui.cell_views import QUANTITY_TABLE, component_source, step_parts
from lstm_core import cell
from lstm_core.cell_lab import MODES, SCENARIOS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
FIELDS = ("from_input", "from_hidden", "bias", "pre", "input_gate", "forget_gate", "cell_candidate", "output_gate",
          "kept", "written", "cell_state", "tanh_cell", "hidden_state")
GATE_TABLE = [q for q in QUANTITY_TABLE if q["kind"] != "state"]
IMPORT = """async ([source, call, cases]) => {
  const url = URL.createObjectURL(new Blob([source], {type: "text/javascript"}));
  const cellLab = await import(url);
  return cases.map((args) => cellLab[call](...args));
}"""


@pytest.fixture(scope="module")
def run_js(blank_tab):
    """run_js(function name, [args, ...]) -> its results, from cell_lab.js as the component loads it."""
    source = component_source("js")
    return lambda call, cases: blank_tab.evaluate(IMPORT, [source, call, cases])


def assert_same(js_step: dict, step: cell.CellStep):
    for name in FIELDS:
        np.testing.assert_allclose(np.asarray(js_step[name], np.float64), getattr(step, name), rtol=0, atol=1e-12,
                                   err_msg=name)


def random_cells(seed: int, count: int = 5):
    rng = np.random.default_rng(seed)
    for units in range(1, 5):
        for inputs in range(1, 4):
            for _ in range(count):
                weights = cell.CellWeights(rng.uniform(-10, 10, (4, units, inputs)), rng.uniform(-10, 10, (4, units, units)),
                                           rng.uniform(-10, 10, (4, units)))
                yield weights, rng.uniform(-2, 2, inputs), rng.uniform(-1, 1, units), rng.uniform(-3, 3, units)


def test_cell_step_in_the_browser_equals_lstm_core(run_js):
    cases = list(random_cells(seed=0))
    args = [[GATE_TABLE, {"wx": w.weight_x.tolist(), "wh": w.weight_h.tolist(), "b": w.bias.tolist()},
             x.tolist(), h.tolist(), c.tolist()] for w, x, h, c in cases]
    for (weights, x, h, c), js_step in zip(cases, run_js("cellStep", args), strict=True):
        assert_same(js_step, cell.cell_step(weights, x, h, c))


def test_preactivations_and_parts_in_the_browser_equal_lstm_core(run_js):
    rng = np.random.default_rng(1)
    pres = [rng.uniform(-8, 8, (4, units)) for units in (1, 2, 3, 4) for _ in range(5)]
    c_prevs = [rng.uniform(-3, 3, pre.shape[1]) for pre in pres]
    js_steps = run_js("stepFromPreactivations", [[GATE_TABLE, p.tolist(), c.tolist()] for p, c in zip(pres, c_prevs)])
    for pre, c_prev, js_step in zip(pres, c_prevs, js_steps, strict=True):
        assert_same(js_step, cell.step_from_preactivations(pre, c_prev))
    steps = [cell.cell_step(w, x, h, c) for w, x, h, c in random_cells(seed=2, count=1)]  # what the page sends
    for step, js_step in zip(steps, run_js("stepFromParts", [[GATE_TABLE, step_parts(s)] for s in steps]), strict=True):
        assert_same(js_step, step)


def test_claims_in_the_browser_agree_with_lstm_core(run_js):
    """The live ✓/✗ beside a scenario's sentence says what the tests of lstm_core.cell_lab say."""
    cases, expected = [], []
    for scenario in SCENARIOS.values():
        for mode in MODES:
            for step in scenario.steps(mode):
                for claim in scenario.claims[mode]:
                    cases.append([claim.to_json(), {name: np.atleast_1d(getattr(step, name)).tolist()
                                                    for name in ("x", "c_prev", *FIELDS)}, 0])
                    expected.append((claim.applies(step), *claim.check(step)))
    for js, (applies, holds, value, target) in zip(run_js("checkClaim", cases), expected, strict=True):
        assert (js["applies"], js["holds"]) == (applies, holds)
        assert js["value"] == pytest.approx(value, abs=1e-12) and js["target"] == pytest.approx(target, abs=1e-12)


def test_the_cell_update_of_gates_is_drawn_with_its_numbers(run_js):
    """/gates sends Trace.cell_update's finished numbers; the diagram's arrows and equations carry them."""
    update = {"c_prev": [0.5], "forget_gate": [0.9], "input_gate": [0.2], "cell_candidate": [-0.5], "output_gate": [0.7],
              "kept": [0.45], "written": [-0.1], "cell_state": [0.35], "tanh_cell": [0.336], "hidden_state": [0.235]}
    svg, equations = run_js("diagramSvg", [[GATE_TABLE, update, 0, {"source": "none"}]])[0], \
        run_js("equationsHtml", [[GATE_TABLE, update, 0, "none"]])[0]
    for label in ("+0.500", "+0.900", "+0.450", "-0.100", "+0.350", "+0.336", "+0.235"):
        assert f">{label}</text>" in svg, label
    assert "Σ" not in svg  # no pre-activations: no inputs drawn
    assert "0.9000·0.5000 + 0.2000·(-0.5000) = 0.4500 + (-0.1000) = <b>0.3500</b>" in equations
