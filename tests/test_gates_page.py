"""The Gates & states page: a trace of a known text, sorting, unit selection, interventions (AppTest)."""

import html
import re
import json
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

import lstm_core
from lab_ui.run_picker import run_store
from lstm_core import analysis
from lstm_core.architectures import architecture
from lstm_core.runs import save_weights
from tests.page_helpers import (array, component_data, figures, hover_labels, html_bodies, html_tables, open_app,
                                svg_chart, svg_heatmaps, svg_of, text_boxes, unescaped)

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "2_gates.py")
TEXT = "HARPAGON.\n\nAu voleur! au voleur!\n"


def save_tiny_run(hidden: int = 10, layers: int = 2, architecture: str = "lstm") -> tuple[str, lstm_core.Run]:
    """A small untrained character model on the Molière vocabulary, saved in the test's run store."""
    vocab = json.loads((lstm_core.PRETRAINED_DIR / "config.json").read_text(encoding="utf-8"))["vocab"]
    torch.manual_seed(1)
    config = lstm_core.ModelConfig(len(vocab), hidden_size=hidden, num_layers=layers, embedding_dim=8,
                                   architecture=architecture)
    store = lstm_core.RunStore(os.environ["LSTM_LAB_RUNS"])
    path = store.create(f"tiny {architecture}", {"kind": "char", "model": config.to_dict(), "vocab": vocab,
                                                 "train": {"corpus": "seed"}})
    save_weights(lstm_core.CharModel(config), path / "model.safetensors")
    store.update(path, status="saved")
    run_store.clear()  # the page's cached store must see this test's folder
    return path.name, lstm_core.load_run(path)


@pytest.fixture
def tiny():
    return save_tiny_run()


def gates_page(run_id: str, **query) -> AppTest:
    """The page opened by a link (``section=...`` picks the one section it draws; a setting given as None is
    left out)."""
    return open_app(PAGE, **{"run": run_id, **query})


def show(at: AppTest, section: str) -> AppTest:
    """Pick another section of the page, as a click on the section picker does."""
    at.radio(key="gates_section").set_value(section).run()
    assert not at.exception and at.query_params["section"] == section
    return at





def title(figure: dict) -> str:
    return figure["layout"].get("title", {}).get("text", "")


heatmaps = svg_heatmaps


def saturation_legend(at) -> list[str] | None:
    """The gates named in the saturation scatter's legend, or None when the page draws no scatter."""
    body = next((h for h in html_bodies(at) if 'class="saturation-scatter"' in h), None)
    if body is None:
        return None
    return [html.unescape(t) for t in re.findall(r'class="legend">([^<]*)<', svg_of(body))]


def test_traces_a_typed_text_with_character_ticks(tiny):
    run_id, run = tiny
    at = gates_page(run_id, source="typed", text=TEXT, top="4", layer="0", section="heatmaps")
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
    at = gates_page(run_id, source="typed", text=TEXT, layer="1", section="heatmaps")
    sort = next(s for s in at.selectbox if s.label == "Sort units by")
    sort.set_value("mean").run()
    next(s for s in at.slider if s.label == "Top-k units").set_value(3).run()
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    expected = analysis.unit_order(tr.cell_state[1], "mean")[:3]
    cell_map = heatmaps(at)[4]
    assert cell_map["units"] == list(expected)
    assert at.query_params["sort"] == "mean" and at.query_params["top"] == "3"

    show(at, "unit")
    next(n for n in at.number_input if n.label == "Unit").set_value(6).run()
    painted = next(h for h in html_bodies(at) if "Colour key" in h and "step 0:" in h)
    assert f"step 2: {tr.cell_state[1, 2, 6]:.3f}" in painted  # cell state of layer 1, unit 6
    assert painted.count('<span title="step') == len(TEXT)


def test_moving_the_layer_redraws_every_section_that_shows_one_layer(tiny):
    """The layer's control sits in one fragment with the section that reads one layer: each section follows it,
    the next section picked keeps it, and so does the link."""
    run_id, run = tiny
    at = gates_page(run_id, source="typed", text=TEXT, layer="1", unit="6", section="heatmaps")
    layer = next(s for s in at.selectbox if s.label == "Layer")
    assert layer.value == 1 and any("reads layer 1 of 2" in c.value for c in at.caption)
    layer.set_value(0).run()
    assert not at.exception and at.query_params["layer"] == "0"
    assert any("reads layer 0 of 2" in c.value for c in at.caption)
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    maps = heatmaps(at)
    assert all(m["title"].endswith("· layer 0") for m in maps)
    np.testing.assert_allclose(maps[4]["values"], tr.cell_state[0][:, maps[4]["units"]].T, atol=1e-3)
    show(at, "unit")
    assert next(s for s in at.selectbox if s.label == "Layer").value == 0
    painted = next(h for h in html_bodies(at) if "Colour key" in h and "step 0:" in h)
    assert f"step 2: {tr.cell_state[0, 2, 6]:.3f}" in painted  # the painted unit reads layer 0 now
    update = next(c for c in component_data(at) if isinstance(c, dict) and c.get("view") == "update")
    assert update["title"] == "The cell update of unit 6, layer 0, at step 0"
    assert update["update"]["cell_state"] == [pytest.approx(float(tr.cell_state[0, 0, 6]), abs=1e-5)]


def test_an_intervention_changes_the_next_character_probabilities(tiny):
    run_id, run = tiny
    at = gates_page(run_id, source="typed", text=TEXT, layer="0", section="interventions")
    next(s for s in at.selectbox if s.label == "Intervention").set_value("silence units (h = 0)").run()
    next(t for t in at.text_input if t.label.startswith("Units")).set_value("0-9")
    next(n for n in at.number_input if n.label == "Value").set_value(0.0)
    at.button(key="FormSubmitter:intervention-Apply").click().run()
    assert not at.exception and not at.error
    bars = svg_chart(at, "probability-bars")["values"]
    before, after = bars["before"], bars["after"]
    assert np.abs(before - after).max() > 1e-3
    silenced = lstm_core.trace(run.model, run.vocab, TEXT,
                               interventions=[lstm_core.Intervention("hidden_state", 0, range(10), 0.0)])
    assert after.max() == pytest.approx(silenced.probs[-1].max(), rel=1e-5)
    continuations = text_boxes(at)
    assert len(continuations) == 2 and all(len(c) == 80 for c in continuations)


def test_the_default_intervention_is_the_one_measured_to_change_the_model_most(tiny):
    run_id, run = tiny
    at = gates_page(run_id, source="typed", text=TEXT, layer="0", section="interventions")
    kind = next(s for s in at.selectbox if s.label == "Intervention").value
    units = analysis.parse_units(next(t for t in at.text_input if t.label.startswith("Units")).value, 10)
    value = next(n for n in at.number_input if n.label == "Value").value
    gate = "hidden_state" if kind.startswith("silence") else \
        next(s for s in at.selectbox if s.label == "Gate (to clamp)").value
    shown = lstm_core.Intervention(gate, 0, units, value)
    before = lstm_core.trace(run.model, run.vocab, TEXT).probs

    def change(edit):
        after = lstm_core.trace(run.model, run.vocab, TEXT, interventions=[edit]).probs
        return 0.5 * np.abs(after - before).sum(1).mean()

    tried = [lstm_core.Intervention(g, 0, units, v) for g in ("input_gate", "forget_gate", "output_gate")
             for v in (0.0, 1.0)] + [lstm_core.Intervention("hidden_state", 0, units, 0.0)]
    assert change(shown) == pytest.approx(max(change(edit) for edit in tried)), "no candidate on these units moves more"
    assert change(shown) > 0, "a default that shows an effect"
    assert any(f"{change(shown):.1%} of the probability moves" in c.value for c in at.caption)
    assert not [n for n in at.number_input if n.label.startswith("Step (for")], "a step only where it applies"
    next(s for s in at.selectbox if s.label == "Intervention").set_value("set the cell state at one step").run()
    assert [n for n in at.number_input if n.label == "Step (for the cell state)"]
    assert not [s for s in at.selectbox if s.label == "Gate (to clamp)"], "a gate only where one is clamped"


def test_one_section_is_drawn_at_a_time_and_the_link_keeps_it(tiny):
    run_id, _ = tiny
    at = gates_page(run_id, source="typed", text=TEXT)  # no section in the link: the units we found
    assert not at.exception and at.radio(key="gates_section").value == "units"
    assert [t for t in html_tables(at) if "correlation" in t.columns], "the unit finder"
    assert not heatmaps(at) and saturation_legend(at) is None
    assert not [s for s in at.selectbox if s.label == "Intervention"]
    show(at, "saturation")
    assert saturation_legend(at) == ["input gate i", "forget gate f", "output gate o"]
    assert not heatmaps(at) and not [t for t in html_tables(at) if "correlation" in t.columns]
    show(at, "heatmaps")
    assert len(heatmaps(at)) == len(lstm_core.QUANTITIES) and saturation_legend(at) is None
    for old, section in (("saturation", "saturation"), ("interventions", "interventions"), ("movie", "movie")):
        at = gates_page(run_id, source="typed", text=TEXT, **{old: "true"})  # a link of the long page opens its section
        assert not at.exception and at.radio(key="gates_section").value == section
        assert at.query_params["section"] == section and old not in at.query_params
    assert [s for s in at.selectbox if s.label == "Intervention"] == []
    at = gates_page(run_id, source="typed", text=TEXT, section="interventions")
    assert [s for s in at.selectbox if s.label == "Intervention"] and saturation_legend(at) is None


def test_bad_input_gets_a_message_not_a_traceback(tiny):
    run_id, _ = tiny
    at = gates_page(run_id, source="typed", text="Ça, ñ!", section="interventions")
    assert not at.exception
    assert any("'ñ' → 'n'" in info.value for info in at.info)
    next(s for s in at.selectbox if s.label == "Intervention").set_value("clamp a gate").run()
    next(n for n in at.number_input if n.label == "Value").set_value(5.0)
    at.button(key="FormSubmitter:intervention-Apply").click().run()
    assert any("lies between 0 and 1" in e.value for e in at.error)
    at = gates_page(run_id, source="typed", text="x")
    assert any("at least two characters" in w.value for w in at.warning)


def test_validation_passage_cell_update_and_unit_finder(tiny):
    run_id, run = tiny
    at = gates_page(run_id, passage="2", length="120", step="7", unit="3", layer="0", section="heatmaps")
    assert not at.exception and not at.error
    text = analysis.validation_passages("seed")[2][:120]
    tr = lstm_core.trace(run.model, run.vocab, text)
    assert heatmaps(at)[0]["ticks"][:4] == list(text[:4])
    show(at, "unit")
    [update] = [data["update"] for data in component_data(at) if isinstance(data, dict)]  # the Cell lab's diagram
    parts = tr.cell_update(0, 7, 3)
    for key, name in (("c_prev", "c_prev"), ("kept", "kept"), ("written", "written"), ("c", "cell_state"),
                      ("h", "hidden_state"), ("f", "forget_gate")):
        assert update[name] == [pytest.approx(parts[key], abs=1e-12)]
    assert parts["kept"] + parts["written"] == pytest.approx(parts["c"], abs=1e-6)
    surprisal = next(h for h in html_bodies(at) if 'class="token-line"' in h)
    labels = hover_labels(surprisal)
    frame = analysis.next_char_frame(tr)
    assert len(labels) == 100 and labels[7] == (f"step 7 · {frame.loc[7, 'character']}: surprisal (bits) "
                                                f"{frame.loc[7, 'surprisal_bits']:.2f}; next: {frame.loc[7, 'top_next']}")
    next_chars = next(t for t in html_tables(at) if "next character" in t.columns)
    assert list(next_chars["probability"]) == [f"{p:.3f}" for _, p in tr.top_next(7, 5)]  # at the linked step
    show(at, "saturation")
    saturation = next(h for h in html_bodies(at) if 'class="saturation-scatter"' in h)
    points = sum(int(m.group(1)) if (m := re.match(r"\.\.\. and (\d+) more", line)) else 1  # close points share
                 for label in hover_labels(saturation) for line in label.split("\n"))         # a label
    assert points == len(analysis.saturation_frame(tr, 0))  # a point per unit and gate
    show(at, "units")
    finder = next(t for t in html_tables(at) if "correlation" in t.columns)
    expected = analysis.rank_units(tr, "speaker_name", top=8)
    assert list(finder["unit"]) == [str(u) for u in expected["unit"]]
    assert list(finder["correlation"]) == [f"{r:+.3f}" for r in expected["correlation"]]


def test_settings_out_of_range_in_the_link_are_brought_into_range(tiny):
    run_id, _ = tiny
    at = gates_page(run_id, passage="999", length="5", top="0", unit="-5", step="99999", layer="7", sort="colour",
                   paint="nothing", section="heatmaps", **{"from": "-4", "to": "100000"})
    assert not at.exception and not at.error
    assert next(s for s in at.slider if s.label == "Top-k units").value == 1
    assert next(s for s in at.selectbox if s.label == "Layer").value == 1
    last_passage = len(analysis.validation_passages("seed")) - 1
    assert next(n for n in at.number_input if n.label.startswith("Passage")).value == last_passage


def test_the_default_view_shows_structure_not_speckle(tiny):
    """Top layer, 8 units sorted by correlation with a feature present in the passage, a colour key."""
    run_id, run = tiny
    at = gates_page(run_id, source="typed", text=TEXT, section="heatmaps")
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
    at = gates_page(run_id, source="typed", text=TEXT, feature="inside_quotes")
    assert not at.exception
    assert any("no character inside quotes" in w.value for w in at.warning)
    assert not [t for t in html_tables(at) if "correlation" in t.columns], "no ranking of r = 0 units"


# -- every architecture: a GRU's and a plain RNN's own quantities, and why an LSTM's do not apply -----
def test_a_linked_gru_run_shows_its_own_gates_and_update(tmp_path):
    run_id, run = save_tiny_run(architecture="gru")
    save_tiny_run(architecture="rnn")
    at = gates_page(run_id, source="typed", text=TEXT, layer="0", top="4", step="5", unit="3", section="heatmaps")
    assert not at.exception and not at.error and not at.warning
    assert at.query_params["run"] == run_id  # the link's GRU, not the pretrained LSTM in its place
    labels = at.sidebar.selectbox[0].options
    assert any("(saved, GRU)" in label for label in labels) and any("plain RNN" in label for label in labels)
    assert all(f"**{q.label}**: {q.meaning}" in at.markdown[0].value for q in lstm_core.gates.GRU_TABLE)
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    maps = heatmaps(at)
    assert [m["quantity"] for m in maps] == list(architecture("gru").quantities)
    update = maps[1]  # the update gate: a gate's colours, centred at half open
    assert update["key"] == ["0 shut", "0.5", "1 open"]
    np.testing.assert_allclose(update["values"], tr.update_gate[0][:, update["units"]].T, atol=1e-3)
    show(at, "unit")
    paint = next(s for s in at.selectbox if s.label == "Quantity to paint")
    assert paint.options == ["reset gate r", "update gate z", "new gate n", "hidden state h"]
    assert paint.value == "hidden_state"
    parts = tr.cell_update(0, 5, 3)
    shown = next(m.value for m in at.markdown if m.value.startswith("- reset gate r"))
    assert f"= {parts['kept']:+.3f} kept + {parts['written']:+.3f} written = **{parts['h']:+.3f}**" in shown
    assert not [data for data in component_data(at) if isinstance(data, dict)]  # no LSTM cell diagram for a GRU
    show(at, "saturation")
    assert saturation_legend(at) == ["reset gate r", "update gate z"]
    show(at, "interventions")
    kind = next(s for s in at.selectbox if s.label == "Intervention")
    assert kind.options == ["clamp a gate", "silence units (h = 0)", "set the hidden state at one step"]
    kind.set_value("clamp a gate").run()
    assert next(s for s in at.selectbox if s.label == "Gate (to clamp)").options == ["reset gate r", "update gate z"]
    next(s for s in at.selectbox if s.label == "Gate (to clamp)").set_value("update_gate")
    next(t for t in at.text_input if t.label.startswith("Units")).set_value("0-9")
    next(n for n in at.number_input if n.label == "Value").set_value(1.0)
    at.button(key="FormSubmitter:intervention-Apply").click().run()
    assert not at.exception and not at.error
    bars = svg_chart(at, "probability-bars")["values"]
    held = lstm_core.trace(run.model, run.vocab, TEXT, interventions=[lstm_core.Intervention("update_gate", 0, range(10), 1.0)])
    assert bars["after"].max() == pytest.approx(held.probs[-1].max(), rel=1e-5)


def test_a_plain_rnn_run_shows_its_hidden_state_and_says_what_does_not_apply():
    run_id, run = save_tiny_run(architecture="rnn")
    at = gates_page(run_id, source="typed", text=TEXT, layer="1", step="4", unit="2",
                   show="forget_gate,cell_state", paint="cell_state", section="heatmaps")  # a link made for an LSTM
    assert not at.exception and not at.error
    assert at.query_params["run"] == run_id and "no gates, one state" in at.markdown[0].value
    maps = heatmaps(at)
    assert [m["quantity"] for m in maps] == ["hidden_state"]
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    np.testing.assert_allclose(maps[0]["values"], tr.hidden_state[1][:, maps[0]["units"]].T, atol=1e-3)
    show(at, "unit")
    assert next(s for s in at.selectbox if s.label == "Quantity to paint").options == ["hidden state h"]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("No cell update to take apart") and f"h(t) = {tr.hidden_state[1, 4, 2]:+.3f}" in c
               for c in captions)
    show(at, "saturation")
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Does not apply: a plain RNN has no gates to saturate") for c in captions)
    assert saturation_legend(at) is None
    show(at, "interventions")
    assert "clamp a gate" not in next(s for s in at.selectbox if s.label == "Intervention").options
    assert not [s for s in at.selectbox if s.label == "Gate (to clamp)"]
    next(s for s in at.selectbox if s.label == "Intervention").set_value("set the hidden state at one step").run()
    next(t for t in at.text_input if t.label.startswith("Units")).set_value("0-9")
    next(n for n in at.number_input if n.label == "Step (for the hidden state)").set_value(len(TEXT) - 1)
    next(n for n in at.number_input if n.label == "Value").set_value(0.5)
    at.button(key="FormSubmitter:intervention-Apply").click().run()
    assert not at.exception and not at.error
    bars = svg_chart(at, "probability-bars")["values"]
    edit = lstm_core.Intervention("hidden_state", 1, range(10), 0.5, len(TEXT) - 1, len(TEXT))
    held = lstm_core.trace(run.model, run.vocab, TEXT, interventions=[edit])
    assert bars["after"].max() == pytest.approx(held.probs[-1].max(), rel=1e-5)


def test_a_page_that_reads_lstms_only_says_why_it_does_not_open_a_linked_gru():
    run_id, _ = save_tiny_run(architecture="gru")
    at = AppTest.from_file(str(Path(PAGE).parent / "3_generate.py"), default_timeout=60)
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception
    assert any(f"{run_id!r} is a GRU, and this page reads LSTM models only" in unescaped(w.value)
               for w in at.warning)  # the link's run id is shown as text


# -- units the model cannot do without ----------------------------------------------------------
def wait_for_ablation(at: AppTest, polls: int = 300) -> AppTest:
    """Rerun the page until the ablation computed in the background is drawn (AppTest cannot tick a
    ``run_every`` fragment), checking that the page says it is computing meanwhile."""
    for _ in range(polls):
        if any(title(f).startswith("Units the model") for f in figures(at)):
            return at
        assert any("one at a time" in i.value for i in at.info)  # the section says so, no button to press twice
        assert not [b for b in at.button if b.key == "gates_ablation_go"]
        time.sleep(0.2)
        at.run()
        assert not at.exception and not at.error
    pytest.fail(f"the ablation was not drawn after {polls} reruns")


@pytest.mark.parametrize("architecture", ["lstm", "gru"])
def test_the_ablation_ranks_the_units_on_demand_and_paints_them(architecture):
    run_id, run = save_tiny_run(hidden=12, architecture=architecture)
    at = gates_page(run_id, source="typed", text=TEXT, layer="0", section="ablation")
    assert not [f for f in figures(at) if title(f).startswith("Units the model")]
    at.button(key="gates_ablation_go").click().run()  # computed on demand, in the background
    assert not at.exception and not at.error
    at = wait_for_ablation(at)
    passage = analysis.reference_text("seed")[:1000]
    expected = lstm_core.unit_ablation(run.model, run.vocab, passage, layer=0).frame()
    chart = next(f for f in figures(at) if title(f) == "Units the model cannot do without · layer 0")
    assert chart["data"][0]["y"] == [f"unit {u}" for u in expected["unit"]]  # 12 units: all of them, ranked
    np.testing.assert_allclose(array(chart["data"][0]["x"]), expected["delta"], atol=1e-4)
    assert any(c.value.startswith("How to read: one bar per unit, the costliest first") for c in at.caption)
    top = [int(b.label.split()[1]) for b in at.button if b.label.startswith("unit ")]
    assert top == list(expected["unit"][:8])
    at.button(key=f"gates_ablation_unit_{top[2]}").click().run()
    assert any(c.value.startswith(f"Unit {top[2]} of layer 0: silencing it costs {expected['delta'][2]:+.3f}")
               for c in at.caption)
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    painted = [h for h in html_bodies(at) if f"step 3: {tr.hidden_state[0, 3, top[2]]:.3f}" in h]
    assert painted and painted[-1].count('<span title="step') == len(TEXT)
    again = gates_page(run_id, source="typed", text=TEXT, layer="0", section="ablation")  # another visitor: no button
    assert not [b for b in again.button if b.key == "gates_ablation_go"]
    assert any(title(f).startswith("Units the model") for f in figures(again))
    other_layer = gates_page(run_id, source="typed", text=TEXT, layer="1", section="ablation")  # cached per (run, layer)
    assert [b for b in other_layer.button if b.key == "gates_ablation_go"]


def test_the_ablation_store_is_bounded_computes_each_key_once_and_keeps_failures_readable():
    from lstm_core.execution.compute_once import ComputeOnce

    store, calls, gate = ComputeOnce(capacity=2), [], threading.Event()

    def make(value):
        def run():
            gate.wait(10)
            calls.append(value)
            if value == "bad":
                raise ValueError("no such layer")
            return value
        return run

    first = store.start("a", make("A"))
    assert store.start("a", make("A again")) is first and store.running("a") and store.get("a") is None
    gate.set()
    assert first.result(10) == "A" and store.get("a") == "A" and not store.running("a")
    assert store.start("a", make("A")) is None and calls == ["A"]  # there already: not computed again
    for key in ("b", "c"):
        store.start(key, make(key.upper())).result(10)
    assert store.get("a") is None and store.get("c") == "C"  # the oldest was dropped
    store.start("x", make("bad")).result(10)
    assert store.error("x") == "ValueError: no such layer" and store.get("x") is None


def test_every_heatmap_keeps_one_unit_order_and_the_link_keeps_the_scale(tiny):
    """Row k is the same unit in every quantity's heatmap (sorted once, by the cell state), so a unit can be
    followed from i to f to c; a colour scale per unit is chosen in the link and kept there."""
    run_id, run = tiny
    at = gates_page(run_id, source="typed", text=TEXT, top="5", layer="0", sort="variance", scale="unit",
                    section="heatmaps")
    assert not at.exception
    maps = heatmaps(at)
    tr = lstm_core.trace(run.model, run.vocab, TEXT)
    expected = list(analysis.unit_order(tr.cell_state[0], "variance")[:5])
    assert len(maps) == len(lstm_core.QUANTITIES) and all(m["units"] == expected for m in maps)
    scale = next(r for r in at.radio if r.label == "Colour scale")
    assert scale.value == "unit" and at.query_params["scale"] == "unit"
    assert all('data-scale="unit"' in body for body in html_bodies(at) if 'class="gate-heatmap"' in body)
    scale.set_value("quantity").run()
    assert at.query_params["scale"] == "quantity"
    assert all('data-scale="quantity"' in body for body in html_bodies(at) if 'class="gate-heatmap"' in body)
    assert all(m["units"] == expected for m in heatmaps(at))


def test_the_sidebar_writes_the_chosen_models_full_name(tiny):
    """The sidebar's box cuts a long run name; the name is written in full under it."""
    run_id, _ = tiny
    at = gates_page(run_id, source="typed", text=TEXT)
    assert any(c.value.startswith("tiny lstm (saved") for c in at.sidebar.caption), [c.value for c in at.sidebar.caption]
