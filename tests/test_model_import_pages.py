"""An imported PyTorch model on the pages (AppTest): the Runs page imports it from two uploads (and refuses a
hostile pickle), and /gates, /generate and /cell's trained-unit mode open it like any run; the training movie
says it has none."""

from __future__ import annotations

import io
import json

import pytest
import torch
import torch.nn as nn

import lstm_core
from lab_ui.run_picker import run_store
from lstm_core.model_import import import_model
from tests.page_helpers import open_app, svg_heatmaps, unescaped

VOCAB = json.loads((lstm_core.PRETRAINED_DIR / "config.json").read_text(encoding="utf-8"))["vocab"]


def notebook_weights() -> bytes:
    """A state dict of the seed notebook's shape (embedding, nn.LSTM not batch-first, fc), as torch.save writes it."""
    torch.manual_seed(5)
    hidden = 12
    modules = {"embedding": nn.Embedding(len(VOCAB), hidden), "lstm": nn.LSTM(hidden, hidden, num_layers=2),
               "fc": nn.Linear(hidden, len(VOCAB))}
    buffer = io.BytesIO()
    torch.save({f"{name}.{k}": v for name, module in modules.items() for k, v in module.state_dict().items()}, buffer)
    return buffer.getvalue()


@pytest.fixture
def imported(isolated_run_store):
    run_store.clear()  # the page's cached store must see this test's folder
    path = import_model(lstm_core.RunStore(isolated_run_store), notebook_weights(), "moliere_lstm.pt",
                        json.dumps(VOCAB).encode())
    return path.name


def test_the_runs_page_imports_a_state_dict_and_refuses_a_pickle_that_runs_code(isolated_run_store, tmp_path):
    run_store.clear()
    at = open_app("../pages/8_runs.py")
    vocab = json.dumps(VOCAB).encode()
    target = tmp_path / "written.txt"
    hostile = io.BytesIO()
    torch.save({"x": _Hostile(str(target))}, hostile)
    at.file_uploader(key="import_weights").set_value(("evil.pt", hostile.getvalue(), "application/octet-stream"))
    at.file_uploader(key="import_vocab").set_value(("vocab.json", vocab, "application/json")).run()
    at.button(key="import_model_button").click().run()
    assert not at.exception and unescaped(at.error[0].value).startswith(
        "This model was not imported: evil.pt holds a pickled")
    assert not target.exists() and lstm_core.RunStore(isolated_run_store).list().empty

    at.file_uploader(key="import_weights").set_value(("moliere_lstm.pt", notebook_weights(), "application/octet-stream"))
    at.text_input(key="import_name").set_value("Notebook model").run()
    at.button(key="import_model_button").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Imported as" in at.success[0].value
    row = at.table[0].value.set_index("name").loc["Notebook model"]
    assert row["status"] == "imported" and row["settings"] == "imported from moliere_lstm.pt: imported LSTM, 2 x 12"


class _Hostile:
    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return exec, (f"open({self.target!r}, 'w').write('pwned')",)


def test_gates_generate_and_the_cell_lab_open_an_imported_model(imported):
    gates = open_app("../pages/2_gates.py", run=imported, source="typed", text="HARPAGON.\n\nAu voleur!",
                     section="heatmaps")
    assert not gates.exception, gates.exception
    assert gates.sidebar.selectbox(key="selected_run").value == imported
    assert svg_heatmaps(gates), "the imported model's gates are drawn"
    for section in ("units", "interventions", "unit"):  # the unit finder, interventions, the update taken apart
        shown = open_app("../pages/2_gates.py", run=imported, source="typed", text="HARPAGON.\n\nAu voleur!",
                         section=section)
        assert not shown.exception and not shown.error, (section, shown.exception, [e.value for e in shown.error])
    movie = open_app("../pages/2_gates.py", run=imported, section="movie")
    assert not movie.exception
    assert any("imported from moliere_lstm.pt (weights only)" in unescaped(c.value) for c in movie.caption), \
        "the training movie says why there is none"

    generate = open_app("../pages/3_generate.py", run=imported, prime="HARPAGON.", length=40, seed=1)
    assert not generate.exception, generate.exception
    assert generate.sidebar.selectbox(key="selected_run").value == imported

    cell = open_app("../pages/4_cell.py", mode="trained", run=imported)
    assert not cell.exception, cell.exception
    assert cell.sidebar.selectbox(key="selected_run").value == imported
