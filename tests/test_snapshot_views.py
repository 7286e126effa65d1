"""The gates while they learn (AppTest): the Train page's live gate panel and the training movie on /gates.

AppTest cannot tick ``run_every`` fragments, so the tests sleep and rerun the page instead.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from lab_ui.run_picker import run_store
from lab_ui.snapshot_views import NEVER_SATURATED, gate_means_over_training, never_saturated
from lstm_core.snapshots import SnapshotStore
from tests.page_helpers import hover_labels, html_bodies, live_figures, svg_chart, svg_heatmaps, svg_of, unescaped
from tests.training_helpers import stop_leftover_trainers

PAGES = Path(__file__).resolve().parent.parent / "pages"


@pytest.fixture(autouse=True)
def store(isolated_run_store):
    yield lstm_core.RunStore(isolated_run_store)
    stop_leftover_trainers()





def snapshot_heatmap(at) -> dict | None:
    """The snapshot heatmap on the page (its title ends with the snapshot's step)."""
    return next((h for h in svg_heatmaps(at) if "· step" in h["title"]), None)


def heatmap_step(heatmap: dict) -> int:
    return int(re.search(r"step ([\d,]+)$", heatmap["title"]).group(1).replace(",", ""))


def saturation_chart(at) -> dict | None:
    """The chart of gate saturation over training: its legend, a hover label per snapshot, the marked step."""
    return svg_chart(at, "saturation-over-training")


def rerun_until(at: AppTest, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if condition():
            return
    pytest.fail("the page never showed the expected state")


def open_train_page(seconds: float = 30.0, **settings) -> AppTest:
    at = AppTest.from_file(str(PAGES / "1_train.py"), default_timeout=60).run()
    at.selectbox(key="train_preset").set_value("seed").run()
    for name, value in {**dict(hidden_size=8, batch_size=8, seq_len=20, seconds=seconds), **settings}.items():
        at.number_input(key=f"train:seed:{name}").set_value(value)
    return at.run()


def test_the_train_page_shows_the_gates_as_they_learn(store):
    at = open_train_page()
    at.button(key="char_start").click().run()
    rerun_until(at, lambda: snapshot_heatmap(at) is not None)
    first = snapshot_heatmap(at)
    assert first["title"].startswith("cell state c · layer 0 · step")
    rerun_until(at, lambda: heatmap_step(snapshot_heatmap(at)) > heatmap_step(first) + 50)
    later = snapshot_heatmap(at)
    assert not np.allclose(first["values"], later["values"]), "it changes as it learns"

    run_dir = Path(store.list().iloc[0]["id"])
    kept = {s.step: s for s in SnapshotStore(store.root / run_dir).load()}
    snapshot = kept[heatmap_step(later)]  # what the panel shows is a snapshot kept with the run
    units = later["units"]
    assert len(units) == 8, "every unit of an 8-unit model, sorted"
    np.testing.assert_allclose(later["values"],
                               snapshot.values["cell_state"][0][:, units].astype(np.float32).T, atol=1e-3)
    feature = lstm_core.analysis.default_feature(lstm_core.analysis.text_features(snapshot.text))
    r = lstm_core.analysis.correlations(snapshot.values["cell_state"][0].astype(np.float32),
                                        lstm_core.analysis.text_features(snapshot.text)[feature])
    assert np.all(np.diff(np.abs(r[units])) <= 1e-6), "units sorted by |correlation|, as on /gates"

    saturation = saturation_chart(at)
    assert "forget gate f open" in saturation["legend"] and "input gate i shut" in saturation["legend"]
    assert len(saturation["hover"]) >= 2  # a point per snapshot so far
    painted = next(h for h in html_bodies(at) if "Colour key" in h)
    assert painted.count("<span title=\"step ") == len(snapshot.tokens)

    at.selectbox(key="char_gates_quantity").set_value("forget_gate").run()
    gate = snapshot_heatmap(at)
    assert gate["title"].startswith("forget gate f · layer 0")
    z = gate["values"]
    assert z.min() >= 0 and z.max() <= 1
    at.selectbox(key="char_gates_unit").set_value(5).run()
    assert any(m.value.startswith("**forget gate f of unit 5**") for m in at.markdown)
    at.button(key="char_stop").click().run()


def test_snapshots_off_and_a_bad_probe(store):
    at = open_train_page()
    at.text_area(key="train:seed:probe").set_value("x").run()
    at.button(key="char_start").click().run()
    assert "Cannot start: the probe (the text the gate snapshots trace) must have 2 to 1,000 characters" in \
        unescaped(at.error[0].value)
    at.text_area(key="train:seed:probe").set_value("LE TYPE.\nUn probe à moi.").run()
    at.button(key="char_start").click().run()
    rerun_until(at, lambda: snapshot_heatmap(at) is not None)
    ticks = snapshot_heatmap(at)["ticks"]
    assert "".join(ticks).startswith("LE␣TYPE.↵Un")
    at.button(key="char_stop").click().run()
    at.button(key="char_reset").click().run()
    at.checkbox(key="train:seed:snapshots").uncheck().run()
    at.button(key="char_start").click().run()
    rerun_until(at, lambda: live_figures(at).get("Step", "0") != "0")
    assert snapshot_heatmap(at) is None and not any("gates as they learn" in m.value for m in at.markdown)
    at.button(key="char_stop").click().run()
    assert lstm_core.load_run(store.root / store.list().iloc[0]["id"]).config["train"]["snapshot_every_seconds"] is None


# -- the training movie -------------------------------------------------------------------------------
def train_with_snapshots(store, architecture: str = "lstm", seconds: float = 2.0) -> Path:
    config = lstm_core.preset_config("seed", hidden_size=12, num_layers=2, embedding_dim=8, batch_size=8, seq_len=20,
                                     max_seconds=seconds, eval_every_seconds=1.0, snapshot_every_seconds=0.1,
                                     architecture=architecture)
    training = lstm_core.CharTraining(config, store=store, name=f"movie {architecture}")
    training.run()
    run_store.clear()
    return training.run_dir


def open_gates(run_id: str, **query) -> AppTest:
    at = AppTest.from_file(str(PAGES / "2_gates.py"), default_timeout=60)
    at.query_params.update({"run": run_id, "source": "typed", "text": "HARPAGON.\nAu voleur!\n", "movie": "true",
                            **query})  # the movie's section opened by the link
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_gates_page_replays_a_run_as_a_movie(store):
    run_dir = train_with_snapshots(store)
    frames = SnapshotStore(run_dir).load()
    assert len(frames) >= 10
    at = open_gates(run_dir.name)
    slider = at.select_slider(key=f"movie_frame:{run_dir}")
    assert slider.label == f"Snapshot ({len(frames)} kept)" and len(slider.options) == len(frames)
    assert heatmap_step(snapshot_heatmap(at)) == frames[-1].step, "it opens on the model as it ended"
    order = snapshot_heatmap(at)["units"]

    slider.set_value(3).run()
    shown = snapshot_heatmap(at)
    assert heatmap_step(shown) == frames[3].step and shown["units"] == order, "units keep their order"
    np.testing.assert_allclose(shown["values"],
                               frames[3].values["cell_state"][1][:, order].astype(np.float32).T, atol=1e-3)
    saturation = saturation_chart(at)
    assert saturation["mark"] == frames[3].step and len(saturation["hover"]) == len(frames)  # the frame marked
    across = next(h for h in html_bodies(at) if 'class="painted-rows"' in h)
    assert 'data-rows="%d"' % len(frames) in across and 'data-current="3"' in across, "a row per snapshot, 4th shown"
    rows = svg_of(across)
    assert re.findall(r'class="row">([^<]*)<', rows) == [f"step {f.step:,}" for f in frames]
    unit = int(re.search(r"unit (\d+)'s", next(m.value for m in at.markdown if "across training" in m.value)).group(1))
    columns = hover_labels(across)
    assert len(columns) == len(frames[0].tokens)
    at_five = [float(line.split(": ")[1]) for line in columns[5].split("\n")[1:]]  # every snapshot's value there
    np.testing.assert_allclose(at_five, [f.values["cell_state"][1][5, unit] for f in frames], atol=1e-3)

    at.button(key="movie_play").click().run()
    assert at.session_state["movie_playing"]
    # 3, or 4 on a machine slow enough for a frame's time to pass during the click
    shown = [at.select_slider(key=f"movie_frame:{run_dir}").value]
    for _ in range(3):
        at.session_state["movie_advanced_at"] = 0.0  # a frame's time has passed, whatever PLAY_SECONDS says
        at.run()
        shown.append(at.select_slider(key=f"movie_frame:{run_dir}").value)
        assert heatmap_step(snapshot_heatmap(at)) == frames[shown[-1]].step
    assert shown[0] in (3, 4) and shown == list(range(shown[0], shown[0] + 4)), "one frame a tick"
    at.button(key="movie_play").click().run()  # pause
    assert not at.session_state["movie_playing"]
    held = heatmap_step(snapshot_heatmap(at))
    at.session_state["movie_advanced_at"] = 0.0  # a playing movie would move on now
    at.run()
    assert heatmap_step(snapshot_heatmap(at)) == held


def test_a_run_without_snapshots_says_why_and_other_runs_can_be_chosen(store):
    from test_gates_page import save_tiny_run

    plain, _ = save_tiny_run()
    gru = train_with_snapshots(store, "gru", seconds=1.0)
    at = open_gates(plain)
    assert any("This run has no training movie" in c.value for c in at.caption)
    assert snapshot_heatmap(at) is None
    at.selectbox(key="movie_run").set_value(gru.name).run()
    assert not at.exception
    assert heatmap_step(snapshot_heatmap(at)) == SnapshotStore(gru).latest().step
    assert at.selectbox(key="movie_quantity").options == ["reset gate r", "update gate z", "new gate n", "hidden state h"]
    assert "reset gate r open" in saturation_chart(at)["legend"]


def test_the_tagger_page_shows_its_gates_on_a_probe_sentence(store):
    at = AppTest.from_file(str(PAGES / "6_tagger.py"), default_timeout=60)
    at.query_params["preset"] = "seed-toy"
    at.run()
    at.button(key="tagger_start").click().run()
    rerun_until(at, lambda: bool(at.success), timeout=120)  # finished: the panel shows its last snapshot
    heatmap = snapshot_heatmap(at)
    assert heatmap["title"].startswith("cell state c · layer 0 · step 600")
    assert heatmap["ticks"] == ["The", "dog", "ate", "the", "apple"]  # words, not characters
    assert any("the 6 units whose cell state c varies most over the probe" in c.value for c in at.caption)
    painted = next(h for h in html_bodies(at) if "Colour key" in h and "apple" in h)
    assert "</span> <span" in painted  # words painted with spaces between them


def test_a_saturation_chart_flat_at_zero_says_why_and_shows_the_gates_means():
    """A sentiment model's gates often never leave (0.1, 0.9) on its probe: then the means, which move, are drawn."""
    def row(step, mean, shut=0.0):
        gates_summary = {g: {"mean": [mean], "shut": [shut], "open": [0.0]} for g in ("input_gate", "forget_gate")}
        return {"step": step, "seconds": step / 10, "summary": {"gates": gates_summary, "units": {}}}

    flat = [row(0, 0.5), row(10, 0.45), row(20, 0.4)]
    assert never_saturated(flat, 0) and not never_saturated([*flat, row(30, 0.3, shut=0.02)], 0)
    drawn = gate_means_over_training(flat, 0)
    assert 'class="gate-means-over-training"' in drawn and "Gate means over training" in drawn
    assert "no value of these gates on the probe has gone below 0.1 or above 0.9" in NEVER_SATURATED
