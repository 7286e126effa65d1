"""The Train page: a tiny training starts, its figures grow across reruns, pause and resume keep the
step count, stop saves a run, bad settings and bad uploads are refused, and a link autostarts once.

AppTest cannot tick ``run_every`` fragments, so the tests sleep and rerun the page instead.
"""

from __future__ import annotations

import math
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from lstm_core.training.tuned import tuned_settings
from lab_ui.live_training import lr_step
from tests.page_helpers import live_figures, open_app, svg_chart
from tests.training_helpers import steps_taken_meanwhile, stop_leftover_trainers

PAGE = "../pages/1_train.py"


@pytest.fixture(autouse=True)
def store(isolated_run_store):
    yield lstm_core.RunStore(isolated_run_store)
    stop_leftover_trainers()


def tiny_settings(at: AppTest, seconds: float = 20.0, **values) -> None:
    """The 'seed' preset on the seed corpus, shrunk to a model that takes thousands of steps a second."""
    at.selectbox(key="train_preset").set_value("seed").run()
    settings = {**dict(hidden_size=8, batch_size=8, seq_len=20, seconds=seconds), **values}
    for name, value in settings.items():
        at.number_input(key=f"train:seed:{name}").set_value(value)
    at.run()


def figure(at: AppTest, label: str) -> str | None:
    return live_figures(at).get(label)


def step(at: AppTest) -> int:
    return int(figure(at, "Step").replace(",", ""))


def click(at: AppTest, key: str) -> None:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]


def next_links(at: AppTest) -> list[str]:
    """The links the page offers to the gates and the generation of a run (plain links in AppTest)."""
    return [target for m in at.markdown for target in re.findall(r"\]\((/(?:gates|generate)\?run=[^)]+)\)", m.value)]


def settings_open(at: AppTest) -> bool:
    return next(e for e in at.expander if e.label.startswith("Settings")).proto.expanded


def rerun_until(at: AppTest, condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
        if condition():
            return
    pytest.fail("the page never showed the expected state")


def test_live_training_grows_pauses_resumes_and_stops_into_a_saved_run(store):
    at = open_app(PAGE)
    assert at.query_params["preset"] in ("default", ["default"])
    tiny_settings(at)
    assert at.query_params["preset"] in ("seed", ["seed"])
    assert at.button(key="char_pause").disabled
    click(at, "char_start")
    rerun_until(at, lambda: figure(at, "Step") is not None and step(at) > 0)
    first = step(at)
    rerun_until(at, lambda: step(at) > first and figure(at, "Validation loss (nats/char)") is not None)
    nats, bits = float(figure(at, "Validation loss (nats/char)")), float(figure(at, "Validation loss (bits/char)"))
    assert bits == pytest.approx(nats / math.log(2), abs=2e-3)
    loss, signals = svg_chart(at, "live-loss"), svg_chart(at, "live-signals")
    assert loss and signals, "the loss chart and the throughput / gradient / rate panels"
    assert "train" in loss["values"] and len(loss["values"]["train"]) > 0
    assert not loss["hover"], "no hover labels on a chart redrawn twice a second (they would vanish at each redraw)"
    assert not at.button(key="char_pause").disabled

    click(at, "char_pause")
    paused = step(at)
    assert any("Paused" in w.value for w in at.warning)
    steps_taken_meanwhile()  # the time, and a worker, to take 20 steps
    at.run()
    assert step(at) == paused, "a paused training takes no steps"
    assert store.list().iloc[0]["status"] == "paused"
    rate = at.number_input(key="char_live_lr")  # its steps keep it on a grid its box shows exactly
    assert rate.proto.format == "%.2e" and rate.proto.step == lr_step(rate.value)
    raised = float(f"{rate.value * 10:.2e}")
    rate.set_value(raised).run()
    rate = at.number_input(key="char_live_lr")
    assert not at.exception and rate.value == raised
    assert rate.proto.step == lr_step(raised) == 10 * lr_step(raised / 10), "the training took the new rate"

    click(at, "char_resume")
    rerun_until(at, lambda: step(at) > paused)
    click(at, "char_stop")
    stopped = step(at)
    assert any("the run is saved" in w.value for w in at.warning)
    row = store.list().iloc[0]
    assert row["status"] == "stopped" and row["steps"] == stopped
    assert svg_chart(at, "live-loss")["hover"], "a chart that no longer moves has its hover labels"
    assert row["name"].startswith("seed · seed · h8x1")
    assert lstm_core.load_run(store.path(row["id"])).model.config.hidden_size == 8
    assert next_links(at) == [f"/gates?run={row['id']}", f"/generate?run={row['id']}"], "a stopped run opens too"


def test_bad_settings_are_refused_with_a_message(store):
    at = open_app(PAGE)
    tiny_settings(at, batch_size=1024, seq_len=2000)
    click(at, "char_start")
    assert at.error[0].value.startswith("Cannot start:")
    assert "too short" in at.error[0].value
    assert store.list().empty, "a refused start leaves no run behind"
    assert figure(at, "Step") is None


def test_a_binary_upload_is_refused(store):
    at = open_app(PAGE, corpus="upload")
    at.file_uploader(key="train_upload").set_value(("notes.txt", b"\x00\x01binary\x00" * 200, "text/plain")).run()
    assert "binary" in at.error[0].value
    click(at, "char_start")
    assert any(e.value.startswith("Cannot start:") for e in at.error)
    assert store.list().empty


def test_an_uploaded_text_trains(store):
    text = ("Le petit chat dort sur le mur. " * 200).encode("utf-8")
    at = open_app(PAGE, corpus="upload")
    tiny_settings(at)
    at.radio(key="train:seed:corpus").set_value("upload").run()
    at.file_uploader(key="train_upload").set_value(("chat.txt", text, "text/plain")).run()
    assert any("chat.txt" in c.value for c in at.caption)
    click(at, "char_start")
    rerun_until(at, lambda: figure(at, "Step") is not None and step(at) > 0)
    click(at, "char_stop")
    config = lstm_core.load_run(store.path(store.list().iloc[0]["id"])).config
    assert config["train"]["corpus"] == "upload:chat.txt"
    assert "".join(config["vocab"]) == "".join(sorted(set(text.decode())))


def test_settings_are_open_to_start_with_and_folded_on_a_quick_start(store):
    at = open_app(PAGE)
    assert settings_open(at), "nothing trains yet: the settings come first"
    lr = at.number_input(key="train:default:lr").value  # the LSTM's swept rate, and the line that says where from
    assert lr == lstm_core.preset_config("default").lr == tuned_settings("lstm")["lr"]
    assert any(c.value.startswith("The LSTM's own settings, unless you change them: learning rate") for c in at.caption)
    at = open_app(PAGE, preset="seed", autostart="1", seconds="20")
    assert not settings_open(at), "a quick start shows its chart and sample first, not the settings"
    assert next(e for e in at.expander if e.label.startswith("Settings")).label == "Settings · preset seed"
    assert next_links(at) == [], "no links before the training has ended"
    click(at, "char_stop")
    assert not settings_open(at)
    click(at, "char_reset")
    assert settings_open(at), "after a reset the settings come back for the next training"


def test_a_finished_training_links_to_its_gates_and_its_writing(store):
    at = open_app(PAGE)
    tiny_settings(at, seconds=5.0)
    click(at, "char_start")
    rerun_until(at, lambda: any("Finished" in s.value for s in at.success), timeout=60)
    run_id = store.list().iloc[0]["id"]
    assert store.list().iloc[0]["status"] == "finished"
    assert next_links(at) == [f"/gates?run={run_id}", f"/generate?run={run_id}"]
    for page, picker in (("../pages/2_gates.py", "selected_run"), ("../pages/3_generate.py", "selected_run")):
        opened = AppTest.from_file(page, default_timeout=60)
        opened.query_params["run"] = run_id
        opened.run()
        assert not opened.exception, [e.value for e in opened.exception]
        assert opened.selectbox(key=picker).value == run_id, f"{page} opens the run in the link"


def test_a_link_autostarts_once(store):
    at = open_app(PAGE, preset="seed", autostart="1", seconds="20")
    assert "autostart" not in at.query_params
    assert at.number_input(key="train:seed:seconds").value == 20.0
    rerun_until(at, lambda: figure(at, "Step") is not None)
    at.run()
    assert len(store.list()) == 1, "rerunning the page does not start a second training"
    click(at, "char_stop")


def test_a_paused_run_left_by_a_closed_tab_continues_here(store):
    config = lstm_core.preset_config("seed", hidden_size=8, batch_size=8, seq_len=20, max_seconds=20.0)
    left = lstm_core.CharTraining(config, store=store, name="left by a closed tab")
    for _ in range(15):
        left.step()
    left.evaluate()
    left.save(status="paused")  # what the trainer of a closed tab leaves on disk
    at = open_app(PAGE)
    assert any(e.label == "Continue a paused run (1)" for e in at.expander)
    click(at, "char_continue")
    rerun_until(at, lambda: figure(at, "Step") is not None and step(at) > 15)
    click(at, "char_stop")
    row = store.list().iloc[0]
    assert len(store.list()) == 1 and row["status"] == "stopped" and row["steps"] > 15
    metrics = lstm_core.load_run(store.path(row["id"])).metrics
    assert list(metrics["step"][:16]) == list(range(1, 17))  # the old steps kept, the new ones following


def test_a_run_left_running_by_a_killed_server_is_offered_to_continue(store):
    """The server died mid-training (kill -9): its run says 'running' on disk but no trainer holds it."""
    config = lstm_core.preset_config("seed", hidden_size=8, batch_size=8, seq_len=20, max_seconds=20.0)
    left = lstm_core.CharTraining(config, store=store, name="left by a killed server")
    for _ in range(12):
        left.step()
    left.evaluate()
    left.save(status="running")  # the last checkpoint before the process was killed
    queued = lstm_core.CharTraining(config, store=store, name="queued when it died")  # status 'created'
    at = open_app(PAGE)
    statuses = store.list().set_index("id")["status"]
    assert statuses[left.run_dir.name] == "paused" and statuses[queued.run_dir.name] == "paused"
    assert any(e.label == "Continue a paused run (2)" for e in at.expander)
    at.selectbox(key="char_continue_choice").set_value(left.run_dir.name).run()
    click(at, "char_continue")
    rerun_until(at, lambda: figure(at, "Step") is not None and step(at) > 12)
    click(at, "char_stop")
    assert store.list().set_index("id").loc[left.run_dir.name, "status"] == "stopped"
