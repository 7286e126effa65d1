"""The run store: folders on disk, their index, loading, zip export/import, and safe refusal of bad files."""

import io
import json
import pickle
import zipfile

import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from lstm_core import PRETRAINED_DIR, CharModel, ModelConfig, RunError, RunStore, Vocab, export_zip, load_run
from lstm_core.runs import CONFIG_FILE, METRICS_FILE, SAMPLES_FILE, WEIGHTS_FILE, hold, release, save_weights
from tests.training_helpers import zip_of

VOCAB_CHARS = list("\n abcdefgh")


def make_run(store: RunStore, name: str = "tiny run", hidden: int = 8, seed: int = 0):
    """A small saved character run: config, weights, metrics and samples, as the trainer writes them."""
    torch.manual_seed(seed)
    model = CharModel(ModelConfig(len(VOCAB_CHARS), hidden_size=hidden, num_layers=2, embedding_dim=4))
    path = store.create(name, {"kind": "char", "model": model.config.to_dict(), "vocab": VOCAB_CHARS})
    save_weights(model, path / WEIGHTS_FILE)
    metrics = pd.DataFrame({"step": [1, 2, 3], "seconds": [0.1, 0.2, 0.3], "train_loss": [2.4, 2.2, 2.0],
                            "valid_loss": [float("nan"), float("nan"), 2.1]})
    metrics.to_csv(path / METRICS_FILE, index=False)
    (path / SAMPLES_FILE).write_text(json.dumps([{"step": 3, "seconds": 0.3, "text": "abc"}]), encoding="utf-8")
    store.update(path, status="finished", metrics=metrics)
    return path, model


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "store")


# -- the store ---------------------------------------------------------------------------------

def test_create_writes_config_and_indexes_the_run(store):
    path = store.create("My first run!", {"kind": "char", "model": {"vocab_size": 3}})
    config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    assert config["format"] == "lstm-lab-run/1" and config["name"] == "My first run!" and config["id"] == path.name
    assert "my-first-run" in path.name
    listed = store.list()
    assert list(listed["id"]) == [path.name]
    assert listed.loc[0, "status"] == "created"


def test_update_records_headline_figures(store):
    path, _ = make_run(store)
    row = store.list().iloc[0]
    assert row["status"] == "finished"
    assert row["steps"] == 3 and row["seconds"] == pytest.approx(0.3)
    assert row["train_loss"] == pytest.approx(2.2)  # mean of the last 20 training losses
    assert row["best_valid_loss"] == pytest.approx(2.1)


def test_list_is_newest_first_and_finds_unindexed_folders(store, tmp_path):
    first, _ = make_run(store, "first")
    second, _ = make_run(store, "second")
    assert list(store.list()["name"]) == ["second", "first"]
    (store.root / "index.sqlite").unlink()  # a lost index is rebuilt from the folders
    rebuilt = RunStore(store.root).list()
    assert set(rebuilt["id"]) == {first.name, second.name}


def test_list_hides_folders_deleted_by_hand(store):
    path, _ = make_run(store)
    import shutil

    shutil.rmtree(path)
    assert store.list().empty


def test_path_refuses_unknown_and_escaping_ids(store):
    path, _ = make_run(store)
    assert store.path(path.name) == path.resolve()
    for bad in ("no-such-run", "../store", "..", "../../etc"):
        with pytest.raises(RunError, match="No run"):
            store.path(bad)


def test_rename_changes_config_and_index(store):
    path, _ = make_run(store)
    store.rename(path.name, "  Renamed run  ")
    assert json.loads((path / CONFIG_FILE).read_text())["name"] == "Renamed run"
    assert store.list().loc[0, "name"] == "Renamed run"
    assert load_run(path).name == "Renamed run"
    with pytest.raises(RunError, match="cannot be empty"):
        store.rename(path.name, "   ")


def test_delete_removes_folder_and_index_row(store):
    keep, _ = make_run(store, "keep")
    gone, _ = make_run(store, "gone")
    store.delete(gone.name)
    assert not gone.exists() and keep.exists()
    assert list(store.list()["id"]) == [keep.name]
    with pytest.raises(RunError):
        store.delete(gone.name)


# -- loading -----------------------------------------------------------------------------------

def test_load_run_round_trip(store):
    path, model = make_run(store)
    run = load_run(path)
    for key, value in model.state_dict().items():
        assert torch.equal(run.model.state_dict()[key], value), key
    assert not run.model.training  # ready for inference
    assert run.vocab == Vocab(VOCAB_CHARS)
    assert run.vocab.decode(run.vocab.encode("bad cafe\n")) == "bad cafe\n"
    assert list(run.metrics.columns) == ["step", "seconds", "train_loss", "valid_loss"]
    assert run.metrics["train_loss"].tolist() == [2.4, 2.2, 2.0]
    ids = torch.tensor([run.vocab.encode("abc")])
    with torch.no_grad():
        assert torch.equal(run.model(ids)[0], model.eval()(ids)[0])


def test_load_run_without_weights_or_folder(store, tmp_path):
    path = store.create("empty", {"kind": "char", "model": {"vocab_size": 3, "hidden_size": 4}, "vocab": ["a", "b", "c"]})
    with pytest.raises(RunError, match="no saved weights"):
        load_run(path)
    with pytest.raises(RunError, match="No run folder"):
        load_run(tmp_path / "nowhere")


def test_pretrained_model_loads_and_is_two_layers_of_256():
    run = load_run(PRETRAINED_DIR)
    assert run.model.lstm.num_layers == 2 and run.model.lstm.hidden_size == 256
    assert run.config["model"]["hidden_size"] == 256 and run.config["model"]["num_layers"] == 2
    assert len(run.vocab) == run.model.head.out_features == 85
    assert len(run.metrics) > 0 and run.metrics["valid_loss"].notna().any()


# -- refusing bad files --------------------------------------------------------------------------

def replace_weights(path, data: bytes) -> None:
    (path / WEIGHTS_FILE).write_bytes(data)


def test_corrupt_safetensors_is_refused(store):
    path, _ = make_run(store)
    good = (path / WEIGHTS_FILE).read_bytes()
    for bad in (good[: len(good) // 2], b"\xff" * 64, b"not a tensor file"):
        replace_weights(path, bad)
        with pytest.raises(RunError, match="corrupt or not a safetensors file"):
            load_run(path)


def test_torch_checkpoint_is_refused(store):
    path, model = make_run(store)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    replace_weights(path, buffer.getvalue())
    with pytest.raises(RunError, match="corrupt or not a safetensors file"):
        load_run(path)


class Hostile:
    """Unpickling this object would create a file: the proof that a loader ran foreign code."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_hostile_pickle_never_runs(store, tmp_path):
    path, _ = make_run(store)
    witness = tmp_path / "pwned.txt"
    payload = pickle.dumps(Hostile(witness))
    buffer = io.BytesIO()
    torch.save({"lstm.weight_ih_l0": Hostile(witness)}, buffer)
    for data in (payload, buffer.getvalue()):
        replace_weights(path, data)
        with pytest.raises(RunError):
            load_run(path)
        zipped = export_zip(path)
        with pytest.raises(RunError):
            store.import_zip(zipped)
    assert not witness.exists()
    pickle.loads(payload).close()  # the payload is live: unpickling it really does create the file
    assert witness.exists()


def test_wrong_shapes_are_refused(store):
    path, _ = make_run(store, hidden=8)
    other = CharModel(ModelConfig(len(VOCAB_CHARS), hidden_size=6, num_layers=2, embedding_dim=4))
    save_weights(other, path / WEIGHTS_FILE)
    with pytest.raises(RunError, match=r"do not match its settings: .* is \(24, 4\), expected \(32, 4\)"):
        load_run(path)


def test_missing_and_extra_tensors_are_refused(store):
    path, model = make_run(store)
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    tensors.pop("head.bias")
    tensors["extra.weight"] = torch.zeros(2)
    save_file(tensors, str(path / WEIGHTS_FILE))
    with pytest.raises(RunError, match=r"missing \['head.bias'\], unexpected \['extra.weight'\]"):
        load_run(path)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_weights_are_refused(store, value):
    path, model = make_run(store)
    tensors = {k: v.clone().contiguous() for k, v in model.state_dict().items()}
    tensors["head.weight"][0, 0] = value
    save_file(tensors, str(path / WEIGHTS_FILE))
    with pytest.raises(RunError, match=r"NaN or infinite values \(head.weight\)"):
        load_run(path)


@pytest.mark.parametrize("config_text,message", [
    ('{"kind": "char"}', "lacks format"),
    ('{"format": "other-tool/3", "model": {}}', "lacks format"),
    ("[1, 2, 3]", "lacks format"),
    ("{not json", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    ('{"format": "lstm-lab-run/1", "kind": "char", "model": {"vocab_size": 11, "hidden_size": -4}}',
     "not usable: hidden size must be between"),
    ('{"format": "lstm-lab-run/1", "kind": "char", "model": {"vocab_size": 11, "colour": "red"}}',
     "not usable"),
    ('{"format": "lstm-lab-run/1", "kind": "char"}', "not usable"),
])
def test_wrong_config_is_refused(store, config_text, message):
    path, _ = make_run(store)
    data = config_text if isinstance(config_text, bytes) else config_text.encode()
    (path / CONFIG_FILE).write_bytes(data)
    with pytest.raises(RunError, match=message):
        load_run(path)


# -- zip export and import -----------------------------------------------------------------------

def test_export_import_round_trip(store):
    path, model = make_run(store, "exported")
    data = export_zip(path)
    assert sorted(zipfile.ZipFile(io.BytesIO(data)).namelist()) == sorted(
        [CONFIG_FILE, WEIGHTS_FILE, METRICS_FILE, SAMPLES_FILE])
    imported = store.import_zip(data)
    assert imported != path and imported.parent == store.root
    run = load_run(imported)
    assert run.name == "exported (imported)"
    for key, value in model.state_dict().items():
        assert torch.equal(run.model.state_dict()[key], value), key
    assert run.vocab == Vocab(VOCAB_CHARS)
    assert run.metrics["train_loss"].tolist() == [2.4, 2.2, 2.0]
    assert (imported / SAMPLES_FILE).read_text(encoding="utf-8") == (path / SAMPLES_FILE).read_text(encoding="utf-8")
    statuses = dict(zip(store.list()["id"], store.list()["status"]))
    assert statuses[imported.name] == "imported"
    assert not [p for p in store.root.iterdir() if p.name.startswith(".import-")]  # staging cleaned up


def test_import_refuses_path_traversal(store, tmp_path):
    path, _ = make_run(store)
    files = {name: (path / name).read_bytes() for name in (CONFIG_FILE, WEIGHTS_FILE)}
    before = set(store.root.parent.iterdir())
    for evil in ("../x", "../../escaped.txt", "/tmp/absolute.txt", "sub/../" + CONFIG_FILE):
        with pytest.raises(RunError, match="at its top level"):
            store.import_zip(zip_of({**files, evil: b"payload"}))
    assert set(store.root.parent.iterdir()) == before
    assert not (store.root / "x").exists() and not (store.root.parent / "escaped.txt").exists()
    assert len(store.list()) == 1  # nothing was added


def test_import_refuses_bad_uploads(store):
    path, model = make_run(store)
    config = (path / CONFIG_FILE).read_bytes()
    with pytest.raises(RunError, match="empty"):
        store.import_zip(b"")
    with pytest.raises(RunError, match="not a zip"):
        store.import_zip(b"plain text, not a zip file")
    with pytest.raises(RunError, match="must hold"):
        store.import_zip(zip_of({CONFIG_FILE: config}))  # no weights
    with pytest.raises(RunError, match="lacks format"):
        store.import_zip(zip_of({CONFIG_FILE: b'{"kind": "char"}', WEIGHTS_FILE: (path / WEIGHTS_FILE).read_bytes()}))
    with pytest.raises(RunError, match="corrupt"):
        store.import_zip(zip_of({CONFIG_FILE: config, WEIGHTS_FILE: b"\x00" * 100}))
    assert len(store.list()) == 1
    assert not [p for p in store.root.iterdir() if p.name.startswith(".import-")]


# -- statuses survive renames, lost indexes and divergence; held runs stay -----------------------

def test_renaming_keeps_the_status_and_the_figures(store):
    path, _ = make_run(store)
    store.update(path, status="paused")
    store.rename(path.name, "renamed")
    row = store.list().iloc[0]
    assert row["name"] == "renamed" and row["status"] == "paused"  # still offered to be continued
    assert row["steps"] == 3 and row["best_valid_loss"] == pytest.approx(2.1)


def test_a_rebuilt_index_keeps_every_status(store):
    paused, _ = make_run(store, "paused one")
    store.update(paused, status="paused")
    finished, _ = make_run(store, "finished one")
    (store.root / "index.sqlite").unlink()
    rebuilt = RunStore(store.root).list().set_index("id")
    assert rebuilt.loc[paused.name, "status"] == "paused"
    assert rebuilt.loc[finished.name, "status"] == "finished"
    assert rebuilt.loc[paused.name, "steps"] == 3


def test_a_status_change_alone_keeps_steps_time_and_losses(store):
    path, _ = make_run(store)
    store.update(path, status="diverged")
    row = store.list().iloc[0]
    assert row["status"] == "diverged"
    assert row["steps"] == 3 and row["seconds"] == pytest.approx(0.3) and row["train_loss"] == pytest.approx(2.2)


def test_a_held_run_cannot_be_deleted(store):
    path, _ = make_run(store)
    hold(path)
    try:
        with pytest.raises(RunError, match="stop it there first"):
            store.delete(path.name)
        assert path.is_dir()
    finally:
        release(path)
    store.delete(path.name)
    assert not path.exists()


@pytest.mark.parametrize("status", ["running", "queued", "created"])
def test_runs_a_dead_process_left_unfinished_are_recovered_as_paused(store, status):
    """A server killed mid-training (SIGKILL, power loss) leaves its runs 'running' for ever; at
    start-up every unfinished run that no live trainer holds is shown as paused, to be continued."""
    left, _ = make_run(store, "left behind")
    store.update(left, status=status)
    live, _ = make_run(store, "still training")
    store.update(live, status="running")
    hold(live)
    try:
        assert RunStore(store.root).recover_interrupted() == [left.name]
    finally:
        release(live)
    statuses = store.list().set_index("id")["status"]
    assert statuses[left.name] == "paused" and statuses[live.name] == "running"
