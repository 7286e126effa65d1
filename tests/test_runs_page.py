"""The Runs page lists saved runs with their settings and losses, overlays their curves, renames,
deletes after confirmation, and imports a checkpoint zip (refusing a corrupt one)."""

from __future__ import annotations

import io
import re
import shutil
import zipfile

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

import lstm_core
from lstm_core.runs import FULL_READ_BYTES, METRICS_FILE, hold, read_metrics_sample, release
from tests.page_helpers import open_app, svg_chart, svg_of, table_display, unescaped

PAGE = "../pages/8_runs.py"


def finished_run(store, name: str, hidden: int) -> str:
    config = lstm_core.TrainConfig(corpus="seed", hidden_size=hidden, embedding_dim=8, seq_len=20, batch_size=8,
                                   max_seconds=None, epochs=0.05, eval_every_seconds=1e9, eval_chars=2_000,
                                   preview_every_seconds=1e9, seed=hidden)
    training = lstm_core.CharTraining(config, store=store, name=name)
    training.run()
    return training.run_dir.name


@pytest.fixture(autouse=True)
def store(isolated_run_store):
    return lstm_core.RunStore(isolated_run_store)


@pytest.fixture(scope="module")
def trained_runs(tmp_path_factory):
    """Two short trainings, made once for the module and copied into each test's store."""
    root = tmp_path_factory.mktemp("trained-runs")
    store = lstm_core.RunStore(root)
    return root, [finished_run(store, "small one", 8), finished_run(store, "larger one", 16)]


@pytest.fixture
def two_runs(store, trained_runs):
    root, ids = trained_runs
    shutil.copytree(root, store.root, dirs_exist_ok=True)  # the folders and the index with their status
    return ids


def test_an_empty_store_says_how_runs_appear():
    at = open_app(PAGE)
    assert "No runs yet" in at.info[0].value
    assert not svg_chart(at, "loss-curves")


def test_lists_runs_with_settings_and_losses(store, two_runs):
    store.create("not started yet", {"kind": "char"})  # no steps: the column holds a gap
    at = open_app(PAGE)
    table = at.table[0].value
    assert set(table["name"]) == {"small one", "larger one", "not started yet"}
    assert all(table.set_index("name").drop("not started yet")["status"] == "finished")
    row = table.set_index("name").loc["larger one"]
    assert "hidden 16" in row["settings"] and "corpus seed" in row["settings"]
    metrics = lstm_core.load_run(store.path(two_runs[1])).metrics
    assert row["final valid loss"] == pytest.approx(metrics["valid_loss"].dropna().iloc[-1])
    assert row["steps"] == len(metrics)
    assert row["duration (s)"] == pytest.approx(metrics["seconds"].iloc[-1])
    shown = table_display(at.table[0]).set_index("name").loc["larger one"]
    assert shown["steps"] == str(len(metrics)), "steps are shown as a whole number, not 226.000000"


def test_the_table_sorts_by_a_column_and_the_link_keeps_the_order(store, two_runs):
    store.rename(two_runs[1], "z, the larger one")  # the newest run, last by name
    at = open_app(PAGE)
    assert list(at.table[0].value["name"]) == ["z, the larger one", "small one"], "newest first"
    at.selectbox(key="runs_order").set_value("best").run()
    table = at.table[0].value
    assert list(table["best valid loss"]) == sorted(table["best valid loss"]), "the lowest validation loss on top"
    assert at.query_params["sort"] == "best"
    at.selectbox(key="runs_order").set_value("name").run()
    assert list(at.table[0].value["name"]) == ["small one", "z, the larger one"]
    again = AppTest.from_file(PAGE, default_timeout=60)
    again.query_params["sort"] = "longest"
    again.run()
    table = again.table[0].value
    assert list(table["duration (s)"]) == sorted(table["duration (s)"], reverse=True)


def test_overlays_the_loss_curves_of_the_chosen_runs(store, two_runs):
    at = open_app(PAGE)
    chart = svg_chart(at, "loss-curves")
    names = set(chart["values"])
    assert set(chart["legend"]) == names and len(names) == 4  # train and validation of each run
    assert any(n.startswith("small one") for n in names) and any(n.startswith("larger one") for n in names)
    small = next(label for label in names if label.startswith("small one") and label.endswith("validation"))
    metrics = lstm_core.load_run(store.path(two_runs[0])).metrics.dropna(subset=["valid_loss"])
    assert np.allclose(chart["values"][small], metrics[["step", "valid_loss"]].to_numpy(), rtol=1e-6)  # its own numbers
    at.multiselect(key="compare_runs").set_value([two_runs[0]]).run()
    assert at.query_params["compare"] in (two_runs[0], [two_runs[0]])
    assert set(svg_chart(at, "loss-curves")["values"]) == {"train", "validation"}, \
        "a single run is drawn without run prefixes"


def test_rename_and_delete_after_confirmation(store, two_runs):
    at = open_app(PAGE)
    at.selectbox(key="manage_run").set_value(two_runs[0]).run()
    at.text_input[0].set_value("renamed run")
    at.button[0].click().run()  # the form's Rename button
    assert "renamed run" in set(store.list()["name"])

    delete = next(b for b in at.button if b.label == "Delete run")
    assert delete.disabled, "deleting needs the confirmation box first"
    at.selectbox(key="manage_run").set_value(two_runs[0]).run()
    at.checkbox(key=f"confirm_{two_runs[0]}").check().run()
    next(b for b in at.button if b.label == "Delete run").click().run()
    assert list(store.list()["id"]) == [two_runs[1]]
    assert not at.exception


def test_import_through_the_page_accepts_an_export_and_refuses_a_corrupt_zip(store, two_runs):
    exported = lstm_core.export_zip(store.path(two_runs[0]))
    at = open_app(PAGE)
    at.file_uploader(key="import_run").set_value(("run.zip", exported, "application/zip")).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Imported as" in at.success[0].value
    assert sum(store.list()["status"] == "imported") == 1
    assert "small one (imported)" in set(at.table[0].value["name"])

    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        with zipfile.ZipFile(io.BytesIO(exported)) as original:
            archive.writestr("config.json", original.read("config.json"))
        archive.writestr("model.safetensors", b"not weights at all")
    for bad, why in ((broken.getvalue(), "corrupt"), (b"plain text, not a zip", "not a zip")):
        at.file_uploader(key="import_run").set_value(("bad.zip", bad, "application/zip")).run()
        next(b for b in at.button if b.label == "Import").click().run()
        assert not at.exception
        assert at.error[0].value.startswith("This file was not imported:") and why in at.error[0].value
    assert len(store.list()) == 3, "a refused import leaves nothing behind"


def test_a_run_held_by_a_trainer_is_not_deleted(store, two_runs):
    held = store.path(two_runs[0])
    hold(held)  # training, or paused, in some tab of this server
    try:
        at = open_app(PAGE)
        at.selectbox(key="manage_run").set_value(two_runs[0]).run()
        at.checkbox(key=f"confirm_{two_runs[0]}").check().run()
        next(b for b in at.button if b.label == "Delete run").click().run()
        assert any("stop it there first" in e.value for e in at.error)
        assert held.is_dir() and two_runs[0] in set(store.list()["id"])
    finally:
        release(held)


def test_task_runs_are_overlaid_in_their_own_loss_unit(store, two_runs):
    """A tagger's loss is per word: the overlay says so and offers no bits (which are per character)."""
    for run_id in two_runs:
        config = lstm_core.runs.read_config(store.path(run_id))
        lstm_core.runs.write_json(store.path(run_id) / lstm_core.runs.CONFIG_FILE, {**config, "kind": "tagger"})
        store.update(store.path(run_id))
    at = open_app(PAGE)
    loss_unit = next(r for r in at.radio if r.label == "Loss unit")
    assert loss_unit.options == ["Nats"]
    assert "Loss (nats per word)" in svg_of(next(h.proto.body for h in at.get("html") if "loss-curves" in h.proto.body))


EVIL_NAME = "![x](http://example.invalid/a.png) [Instructor: re-enter password](http://example.invalid)"


def markdown_shown(at) -> list[str]:
    """Every text of the page that Streamlit draws as Markdown: messages, captions, labels, table cells."""
    texts = [e.value for kind in ("markdown", "caption", "error", "warning", "info", "success")
             for e in at.get(kind)]
    texts += [w.label for w in list(at.checkbox) + list(at.button) + list(at.selectbox) + list(at.multiselect)]
    texts += [str(cell) for table in at.table for cell in table_display(table).to_numpy().ravel()]
    return texts


def renders_link_or_image(markdown: str) -> bool:
    """Whether Markdown source would draw a link or an image: an unescaped ``[...](`` or a bare URL."""
    return bool(re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", markdown) or re.search(r"https?://", markdown))


def test_a_run_name_is_shown_as_text_never_as_markdown(store, two_runs):
    """A run renamed to an image and a link (and an import whose config names it so) draws neither, in the
    table, the delete box, the overlay's caption or the success box: every character reads back as typed."""
    store.rename(two_runs[0], EVIL_NAME)
    exported = lstm_core.export_zip(store.path(two_runs[0]))
    at = open_app(PAGE)
    at.selectbox(key="manage_run").set_value(two_runs[0]).run()
    at.multiselect(key="compare_runs").set_value([two_runs[0]]).run()
    at.file_uploader(key="import_run").set_value(("run.zip", exported, "application/zip")).run()
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception and at.success
    shown = markdown_shown(at)
    assert not [text for text in shown if renders_link_or_image(text)]
    assert any(EVIL_NAME[:40] in unescaped(text) for text in shown), "the name is still shown, as text"
    names = set(table_display(at.table[0])["name"])
    assert {unescaped(name) for name in names} >= {EVIL_NAME[:80], EVIL_NAME[:69] + " (imported)"}


def large_metrics(path, rows: int = 60_000, every: int = 500) -> pd.DataFrame:
    """A metrics.csv of ``rows`` steps (a long training: several MB), validated every ``every`` steps."""
    steps = np.arange(1, rows + 1)
    frame = pd.DataFrame({"step": steps, "seconds": steps * 0.01, "train_loss": 4.0 / np.sqrt(steps),
                          "valid_loss": np.where(steps % every == 0, 4.2 / np.sqrt(steps), np.nan)})
    frame.to_csv(path / METRICS_FILE, index=False)
    return frame


def test_a_large_metrics_file_is_read_thinned_never_whole(tmp_path):
    """60,000 rows (about 3 MB): the drawing gets about MAX_SAMPLED_ROWS of them, every validation and the
    last row, read in chunks; a small file is read whole, exactly."""
    full = large_metrics(tmp_path)
    assert (tmp_path / METRICS_FILE).stat().st_size > FULL_READ_BYTES
    sample = read_metrics_sample(tmp_path, max_rows=1_000)
    assert 1_000 <= len(sample) <= 1_300
    assert sample["step"].is_monotonic_increasing and sample["step"].iloc[-1] == 60_000
    valid = sample.dropna(subset=["valid_loss"])
    assert np.allclose(valid[["step", "valid_loss"]], full.dropna(subset=["valid_loss"])[["step", "valid_loss"]])
    small = large_metrics(tmp_path, rows=500, every=50)
    assert len(read_metrics_sample(tmp_path)) == 500 and np.allclose(read_metrics_sample(tmp_path), small,
                                                                     equal_nan=True)


def test_the_overlay_never_loads_a_whole_large_metrics_file(store, two_runs, monkeypatch):
    """A run trained for long (or imported) with a metrics file of 60,000 rows: /runs draws its overlay from a
    bounded number of rows; the whole file is never parsed into one frame."""
    large_metrics(store.path(two_runs[0]))
    parsed: list[int] = []
    real_read_csv = pd.read_csv

    def counting_read_csv(*args, **kwargs):
        result = real_read_csv(*args, **kwargs)
        if isinstance(result, pd.DataFrame):
            parsed.append(len(result))
        return result

    monkeypatch.setattr(pd, "read_csv", counting_read_csv)
    at = open_app(PAGE)
    at.multiselect(key="compare_runs").set_value([two_runs[0]]).run()
    assert not at.exception and svg_chart(at, "loss-curves")
    assert parsed and max(parsed) <= 50_000, "no single frame holds the whole file"
    row = at.table[0].value.set_index("name").loc["small one"]
    assert row["final valid loss"] == pytest.approx(4.2 / np.sqrt(60_000))
