"""Probes of hostile imports: every file of a run's zip is checked before anything is written, a refused
import leaves nothing behind, and one damaged run already in a store breaks no page."""

import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from streamlit.testing.v1 import AppTest

from lstm_core import CharModel, ModelConfig, RunError, RunStore, export_zip, load_run
from lstm_core.architectures import architecture
from lstm_core.runs import CONFIG_FILE, METRICS_FILE, WEIGHTS_FILE, save_weights, write_atomic
from lstm_core.snapshots import MAX_SNAPSHOTS, Snapshot
from tests.training_helpers import zip_of
from lstm_core.tasks import TaggerConfig

VOCAB = list("\n abcdefgh")
HIDDEN = 8


def make_run(store: RunStore, name: str = "good"):
    torch.manual_seed(0)
    model = CharModel(ModelConfig(len(VOCAB), hidden_size=HIDDEN, num_layers=1, embedding_dim=4))
    path = store.create(name, {"kind": "char", "model": model.config.to_dict(), "vocab": VOCAB,
                               "train": {"corpus": "seed", "hidden_size": HIDDEN}})
    save_weights(model, path / WEIGHTS_FILE)
    pd.DataFrame({"step": [1, 2], "seconds": [0.1, 0.2], "train_loss": [2.3, 2.1],
                  "valid_loss": [float("nan"), 2.2]}).to_csv(path / METRICS_FILE, index=False)
    store.update(path, status="finished")
    return path


LSTM_QUANTITIES = architecture("lstm").quantities


def snapshot_bytes(step: int = 1, quantities=LSTM_QUANTITIES, tokens=("a", "b", "c")) -> bytes:
    values = {name: np.zeros((1, len(tokens), HIDDEN), np.float16) for name in quantities}
    return Snapshot(step, 0.1 * step, list(tokens), values, {}, "char", ["layer 0"]).to_bytes()  # as written, unchecked


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "store")


def zip_files(path) -> dict:
    with zipfile.ZipFile(io.BytesIO(export_zip(path))) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def with_config(files: dict, **changes) -> dict:
    return {**files, CONFIG_FILE: json.dumps({**json.loads(files[CONFIG_FILE]), **changes}).encode()}


def store_contents(store: RunStore) -> tuple:
    return sorted(p.name for p in store.root.iterdir()), sorted(store.list()["id"])


HOSTILE = {  # what a hostile zip changes -> what the refusal says
    "metrics not numbers": (lambda f: {**f, METRICS_FILE: b"step,seconds,valid_loss\n1,0.1,abc\n"}, "not numbers"),
    "train not a dict": (lambda f: with_config(f, train="oops"), "'train' settings"),
    "vocab too small": (lambda f: with_config(f, vocab=["a", "b", "c"]), "vocabulary has 3"),
    "vocab empty": (lambda f: with_config(f, vocab=[]), "vocabulary has 0"),
    "vocab a number": (lambda f: with_config(f, vocab=5), "list of strings"),
    "vocab of words": (lambda f: with_config(f, vocab=["ab"] * len(VOCAB)), "single characters"),
    "name not text": (lambda f: with_config(f, name=["x"]), "name must be text"),
    "unknown quantities": (lambda f: {**f, "snapshots/000000001.safetensors": snapshot_bytes(
        quantities=("input_gate", "evil_gate"))}, "not a readable snapshot"),
    "tokens not strings": (lambda f: {**f, "snapshots/000000001.safetensors": snapshot_bytes(
        tokens=("a", "bc", "d"))}, "not a readable snapshot"),
    "too many snapshots": (lambda f: {**f, **{f"snapshots/{k:09d}.safetensors": snapshot_bytes(k)
                                              for k in range(1, MAX_SNAPSHOTS + 2)}}, f"at most {MAX_SNAPSHOTS}"),
    "negative size": (lambda f: with_config(f, model={**json.loads(f[CONFIG_FILE])["model"], "hidden_size": -1}),
                      "hidden size must be between"),
    "huge size": (lambda f: with_config(f, model={**json.loads(f[CONFIG_FILE])["model"], "num_layers": 10**12}),
                  "out of range"),
}


@pytest.mark.parametrize("hostile", list(HOSTILE))
def test_a_hostile_import_is_refused_and_leaves_nothing(store, hostile):
    files = zip_files(make_run(store))
    change, message = HOSTILE[hostile]
    before = store_contents(store)
    with pytest.raises(RunError, match=message):
        store.import_zip(zip_of(change(files)))
    assert store_contents(store) == before


def test_a_model_past_the_parameter_cap_is_refused_before_it_is_built(store, monkeypatch):
    files = zip_files(make_run(store))
    monkeypatch.setattr("lstm_core.import_checks.MAX_PARAMETERS", 100)
    with pytest.raises(RunError, match="parameters; this server takes up to 100"):
        store.import_zip(zip_of(files))


def test_the_good_zip_those_probes_start_from_is_accepted_with_its_snapshots(store):
    files = {**zip_files(make_run(store)), "snapshots/000000001.safetensors": snapshot_bytes()}
    imported = store.import_zip(zip_of(files))
    assert load_run(imported).vocab.chars == VOCAB and (imported / "snapshots/000000001.safetensors").is_file()


def test_an_import_that_fails_while_written_leaves_nothing(store, monkeypatch):
    files = zip_files(make_run(store))
    before = store_contents(store)

    def disk_full(path, data):
        if path.name == WEIGHTS_FILE:
            raise OSError("disk full")
        write_atomic(path, data)
    monkeypatch.setattr("lstm_core.runs.write_atomic", disk_full)
    with pytest.raises(OSError):
        store.import_zip(zip_of(files))
    assert store_contents(store) == before


def test_an_imported_name_is_cut_to_80_characters_like_a_renamed_one(store):
    files = with_config(zip_files(make_run(store)), name="n" * 500)
    assert len(load_run(store.import_zip(zip_of(files))).name) == 80


def damage(path, what: str) -> None:
    """Damage a run already in a store, as an import accepted before these checks could leave it."""
    config = json.loads((path / CONFIG_FILE).read_text())
    if what == "metrics":
        (path / METRICS_FILE).write_text("step,seconds,valid_loss\n1,0.1,abc\n")
    elif what == "train":
        (path / CONFIG_FILE).write_text(json.dumps({**config, "train": "oops"}))
    elif what == "vocab":
        (path / CONFIG_FILE).write_text(json.dumps({**config, "vocab": ["a", "b", "c"]}))
    elif what == "snapshots":
        (path / "snapshots").mkdir()
        (path / "snapshots/000000001.safetensors").write_bytes(snapshot_bytes(1))
        (path / "snapshots/000000002.safetensors").write_bytes(snapshot_bytes(2, quantities=("evil", "gate")))
        (path / "snapshots/000000003.safetensors").write_bytes(snapshot_bytes(3, tokens=(1, 2, 3)))


@pytest.mark.parametrize("what", ["metrics", "train", "vocab", "snapshots"])
def test_one_damaged_run_in_the_store_breaks_no_page(isolated_run_store, what):
    store = RunStore(isolated_run_store)
    make_run(store, "fine")
    bad = make_run(store, "bad")
    damage(bad, what)
    store = RunStore(isolated_run_store)
    assert bad.name in set(store.list()["id"])
    for page, query in (("8_runs.py", {}), ("2_gates.py", {"run": bad.name, "movie": "true"}),
                        ("3_generate.py", {"run": bad.name, "length": "10"})):
        at = AppTest.from_file(f"../pages/{page}", default_timeout=60)
        at.query_params.update(query)
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
    at = AppTest.from_file("../pages/8_runs.py", default_timeout=60)
    at.run()
    at.selectbox(key="manage_run").set_value(bad.name).run()
    at.checkbox(key=f"confirm_{bad.name}").check().run()
    next(b for b in at.button if b.label == "Delete run").click().run()
    assert not at.exception and bad.name not in set(RunStore(isolated_run_store).list()["id"])


def test_a_damaged_run_is_shown_as_damaged_on_the_runs_page(isolated_run_store):
    store = RunStore(isolated_run_store)
    damage(make_run(store, "bad"), "train")
    at = AppTest.from_file("../pages/8_runs.py", default_timeout=60)
    at.run()
    assert any(str(value).startswith("damaged:") for value in at.table[0].value["settings"])


def test_a_zip_bomb_is_refused_by_its_files_limit_however_often_it_is_imported(store):
    files = zip_files(make_run(store))
    bomb = {**files, METRICS_FILE: b"step,seconds\n" + b"1,0.1\n" * 1_500_000}  # 9 MB of metrics, zipped small
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in bomb.items():
            archive.writestr(name, content)
    assert len(data.getvalue()) < 200_000
    before = store_contents(store)
    for _ in range(3):
        with pytest.raises(RunError, match="metrics.csv unpacks to 9.0 MB; this server takes up to 5 MB"):
            store.import_zip(data.getvalue())
    assert store_contents(store) == before


@pytest.mark.parametrize("setting", ["char_vocab_size", "char_embedding_dim", "char_channels"])
@pytest.mark.parametrize("value", [-1, 10**9])
def test_the_taggers_character_sizes_are_range_checked(setting, value):
    with pytest.raises(ValueError, match="must be between"):
        TaggerConfig(vocab_size=10, tagset_size=3, **{"char_vocab_size": 20, setting: value})
