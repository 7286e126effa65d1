"""The Gates & states page: a trace of a known text, sorting, unit selection, interventions (AppTest)."""

import base64
import html
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import lstm_core
from lab_ui.common import run_store
from lstm_core import analysis
from lstm_core.runs import save_weights

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "2_gates.py")
TEXT = "HARPAGON.\n\nAu voleur! au voleur!\n"


def save_tiny_run(hidden: int = 10, layers: int = 2) -> tuple[str, lstm_core.Run]:
    """A small untrained character model on the Molière vocabulary, saved in the test's run store."""
    vocab = json.loads((lstm_core.PRETRAINED_DIR / "config.json").read_text(encoding="utf-8"))["vocab"]
    torch.manual_seed(1)
    config = lstm_core.ModelConfig(len(vocab), hidden_size=hidden, num_layers=layers, embedding_dim=8)
    store = lstm_core.RunStore(os.environ["LSTM_LAB_RUNS"])
    path = store.create("tiny", {"kind": "char", "model": config.to_dict(), "vocab": vocab, "train": {"corpus": "seed"}})
    save_weights(lstm_core.CharLSTM(config), path / "model.safetensors")
    store.update(path, status="saved")
    run_store.clear()  # the page's cached store must see this test's folder
    return path.name, lstm_core.load_run(path)


@pytest.fixture
def tiny():
    return save_tiny_run()


def open_page(run_id: str, **query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"run": run_id, **query})
    return at.run()


def figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def array(value) -> np.ndarray:
    """A plotly data array, plain or typed ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return flat.reshape([int(n) for n in str(value.get("shape", len(flat))).split(",")])
    return np.array(value)


def heatmaps(at) -> list[dict]:
    """The heatmaps drawn (an SVG image under a grid of hover labels): quantity, units, column ticks,
    colour key, and each cell's value read from its column's hover label."""
    maps = []
    for element in at.get("html"):
        body = element.proto.body
        if 'class="gate-heatmap"' not in body:
            continue
        svg = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', body).group(1)).decode()
        units = [int(u) for u in re.search(r'data-units="([^"]*)"', body).group(1).split(",")]
        columns = [html.unescape(t).split("\n")[1:] for t in re.findall(r'<span title="(step [^"]*)"', body)]
        cells = [line.removeprefix("unit ").split(": ") for line in sum(zip(*columns), ())]  # row by row
        maps.append({"quantity": re.search(r'data-quantity="([^"]*)"', body).group(1), "units": units,
                     "ticks": [html.unescape(t) for t in re.findall(r'class="tick">([^<]*)<', svg)],
                     "key": [html.unescape(t) for t in re.findall(r'class="key">([^<]*)<', svg)],
                     "cell_units": [int(u) for u, _ in cells],
                     "values": np.array([float(v) for _, v in cells]).reshape(len(units), -1)})
    return maps


def test_traces_a_typed_text_with_character_ticks(tiny):
    run_id, run = tiny
    at = open_page(run_id, source="typed", text=TEXT, top="4", layer="0")
    assert not at.exception and not at.error
    maps = heatmaps(at)
    assert [m["quantity"] for m in maps] == list(lstm_core.QUANTITIES)
    shown = [{"\n": "↵", " ": "␣"}.get(ch, ch) for ch in TEXT]
    assert maps[0]["ticks"] == shown
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    z = maps[1]["values"]  # the forget gate, 4 units shown, each cell's value from its hover label
    units = maps[1]["units"]
    assert z.shape == (4, len(TEXT)) and maps[1]["cell_units"][::len(TEXT)] == units
    np.testing.assert_allclose(z, tr.forget_gate[0][:, units].T, atol=1e-3)


def test_sorting_top_k_and_unit_selection(tiny):
    run_id, run = tiny
    at = open_page(run_id, source="typed", text=TEXT, layer="1")
    sort = next(s for s in at.selectbox if s.label == "Sort units by")
    sort.set_value("mean").run()
    next(s for s in at.slider if s.label == "Top-k units").set_value(3).run()
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    expected = analysis.unit_order(tr.cell_state[1], "mean")[:3]
    cell_map = heatmaps(at)[4]
    assert cell_map["units"] == list(expected)
    assert at.query_params["sort"] == "mean" and at.query_params["top"] == "3"

    next(n for n in at.number_input if n.label == "Unit").set_value(6).run()
    painted = next(h.proto.body for h in at.get("html") if "Colour key" in h.proto.body and "step 0:" in h.proto.body)
    assert f"step 2: {tr.cell_state[1, 2, 6]:.3f}" in painted  # cell state of layer 1, unit 6
    assert painted.count('<span title="step') == len(TEXT)


def test_an_intervention_changes_the_next_character_probabilities(tiny):
    run_id, run = tiny
    at = open_page(run_id, source="typed", text=TEXT, layer="0")
    next(s for s in at.selectbox if s.label == "Intervention").set_value("silence units (h = 0)")
    next(t for t in at.text_input if t.label.startswith("Units")).set_value("0-9")
    at.button(key="FormSubmitter:intervention-Apply").click().run()
    assert not at.exception and not at.error
    bars = next(f for f in figures(at) if f["data"] and f["data"][0]["type"] == "bar")
    before, after = array(bars["data"][0]["y"]), array(bars["data"][1]["y"])
    assert np.abs(before - after).max() > 1e-3
    silenced = lstm_core.trace(run.model, run.vocab, TEXT, interventions=[lstm_core.Intervention("hidden_state", 0, range(10), 0.0)])
    assert after.max() == pytest.approx(silenced.probs[-1].max(), rel=1e-6)
    continuations = [c.value for c in at.code]
    assert len(continuations) == 2 and all(len(c) == 80 for c in continuations)


def test_bad_input_gets_a_message_not_a_traceback(tiny):
    run_id, _ = tiny
    at = open_page(run_id, source="typed", text="Ça, ñ!")
    assert not at.exception
    assert any("'ñ' → 'n'" in info.value for info in at.info)
    next(s for s in at.selectbox if s.label == "Intervention").set_value("clamp a gate")
    next(n for n in at.number_input if n.label == "Value").set_value(5.0)
    at.button(key="FormSubmitter:intervention-Apply").click().run()
    assert any("lies between 0 and 1" in e.value for e in at.error)
    at = open_page(run_id, source="typed", text="x")
    assert any("at least two characters" in w.value for w in at.warning)


def test_validation_passage_cell_update_and_unit_finder(tiny):
    run_id, run = tiny
    at = open_page(run_id, passage="2", length="120", step="7", unit="3", layer="0")
    assert not at.exception and not at.error
    text = analysis.validation_passages("seed")[2][:120]
    tr = lstm_core.trace(run.model, run.vocab, text)
    assert heatmaps(at)[0]["ticks"][:4] == list(text[:4])
    diagram = at.get("bidi_component")[0]
    update = json.loads(diagram.proto.json)["update"]  # the Cell lab's diagram, read-only
    parts = tr.cell_update(0, 7, 3)
    for key, name in (("c_prev", "c_prev"), ("kept", "kept"), ("written", "written"), ("c", "cell_state"),
                      ("h", "hidden_state"), ("f", "forget_gate")):
        assert update[name] == [pytest.approx(parts[key], abs=1e-12)]
    assert parts["kept"] + parts["written"] == pytest.approx(parts["c"], abs=1e-6)
    surprisal = next(h.proto.body for h in at.get("html") if 'class="token-line"' in h.proto.body)
    labels = [html.unescape(t) for t in re.findall(r'<span title="([^"]*)"', surprisal)]
    frame = analysis.next_char_frame(tr)
    assert len(labels) == 100 and labels[7] == (f"step 7 · {frame.loc[7, 'character']}: surprisal (bits) "
                                                f"{frame.loc[7, 'surprisal_bits']:.2f}; next: {frame.loc[7, 'top_next']}")
    saturation = next(h.proto.body for h in at.get("html") if 'class="saturation-scatter"' in h.proto.body)
    assert saturation.count("<span title=") == len(analysis.saturation_frame(tr, 0))  # a point per unit and gate
    finder = next(t.value for t in at.table if "correlation" in t.value.columns)
    expected = analysis.rank_units(tr, "speaker_name", top=8)
    assert list(finder["unit"]) == list(expected["unit"])


def test_settings_out_of_range_in_the_link_are_brought_into_range(tiny):
    run_id, _ = tiny
    at = open_page(run_id, passage="999", length="5", top="0", unit="-5", step="99999", layer="7", sort="colour",
                   paint="nothing", **{"from": "-4", "to": "100000"})
    assert not at.exception and not at.error
    assert next(s for s in at.slider if s.label == "Top-k units").value == 1
    assert next(s for s in at.selectbox if s.label == "Layer").value == 1
    assert next(n for n in at.number_input if n.label.startswith("Passage")).value == len(analysis.validation_passages("seed")) - 1


def test_the_default_view_shows_structure_not_speckle(tiny):
    """Top layer, 8 units sorted by correlation with a feature present in the passage, a colour key."""
    run_id, run = tiny
    at = open_page(run_id, source="typed", text=TEXT)
    assert not at.exception and not at.error
    assert next(s for s in at.selectbox if s.label == "Layer").value == 1
    assert next(s for s in at.selectbox if s.label == "Sort units by").value == "correlation"
    assert next(s for s in at.selectbox if s.label == "Feature (for correlation)").value == "speaker_name"
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    expected = analysis.unit_order(tr.cell_state[1], "correlation", analysis.text_features(TEXT)["speaker_name"])[:8]
    cell_map = heatmaps(at)[4]
    assert cell_map["units"] == list(expected)
    assert cell_map["key"][1] == "0"  # centred where meaning changes (the colours: tests/test_heatmap_svg.py)
    assert heatmaps(at)[1]["key"] == ["0 shut", "0.5", "1 open"]


def test_the_unit_finder_says_when_a_feature_is_absent(tiny):
    run_id, _ = tiny
    at = open_page(run_id, source="typed", text=TEXT, feature="inside_quotes")
    assert not at.exception
    assert any("no character inside quotes" in w.value for w in at.warning)
    assert not [t for t in at.table if "correlation" in t.value.columns], "no ranking of r = 0 units"
