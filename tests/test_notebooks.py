"""Download as notebook (lstm_core.notebooks): each view's notebook, built from the settings of the page's own link,
runs from top to bottom under nbclient and prints the view's numbers, equal to the app's.

One kernel start is the cost of a notebook run, so every notebook is executed in one kernel, one after the other,
with the kernel's namespace wiped between them (``%reset -f``): each runs top to bottom on its own cells only."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import lstm_core
from lstm_core import cli, compare_runs, unit_walk
from lstm_core.gradients import gradient_flow
from lstm_core.notebooks import VIEWS, Source, figures_of, notebook_bytes
from lstm_core.runs import read_metrics, recent_train_loss
from lstm_core.why.attribution import attribute, deletion_curves
from lstm_core.why.memory_diff import memory_diff, shipped_memory_diffs
from tests.page_helpers import open_app, shown_text, text_boxes

nbclient = pytest.importorskip("nbclient")
PRETRAINED = lstm_core.PRETRAINED_DIR
TEXT = "HARPAGON.\n\nAu voleur! au voleur!"
WHY_TEXT = "Au voleur!\n\nHARPAGON"  # /why: short, and gradient × input (one backward pass)


def link_settings(page: str, **query) -> tuple[dict, object]:
    """The settings of the link a page writes when opened with ``query`` (what its notebook button reads)."""
    at = open_app(page, **query)
    return {name: at.query_params[name] for name in at.query_params}, at


def execute_together(notebooks: dict[str, bytes]) -> dict[str, dict]:
    """Run every notebook in one kernel, each top to bottom after a wiped namespace; each one's figures."""
    cells = []
    for name, data in notebooks.items():
        cells.append(new_code_cell(f"%reset -f\nprint({name!r})"))
        cells.extend(nbformat.reads(data.decode("utf-8"), as_version=4).cells)
    merged = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
    nbclient.NotebookClient(merged, timeout=600, kernel_name="python3").execute()
    return dict(zip(notebooks, figures_of(merged)))


@pytest.mark.slow
def test_every_view_runs_as_a_notebook_and_shows_the_apps_numbers(tmp_path, capsys):
    run = lstm_core.load_run(PRETRAINED)
    source = Source(run_dir=PRETRAINED)
    gates, _ = link_settings("../pages/2_gates.py", run="pretrained", source="typed", text=TEXT, unit="5")
    generate, generate_page = link_settings("../pages/3_generate.py", run="pretrained", prime="DORINE.\n",
                                            temperature="0.5", length="60", seed="3")
    cell, _ = link_settings("../pages/4_cell.py", mode="trained", run="pretrained", unit="7", step="4")
    why, why_page = link_settings("../pages/10_why.py", run="pretrained", part="attribution", text=WHY_TEXT)
    why_memory, _ = link_settings("../pages/10_why.py", run="pretrained", part="memory", text=WHY_TEXT, p="3",
                                  char="o")
    assert gates["text"] == TEXT and generate["temperature"] == "0.5" and cell["unit"] == "7"
    assert why["method"] == "grad_x_input" and why_memory["char"] == "o", "the page's own defaults, in its link"
    notebooks = {"gates": notebook_bytes("gates", gates, source), "generate": notebook_bytes("generate", generate, source),
                 "cell": notebook_bytes("cell", cell, source), "compare": notebook_bytes("compare", {}, Source()),
                 "training": notebook_bytes("training", {"run": "pretrained"}, source),
                 "why": notebook_bytes("why", why, source), "why:memory": notebook_bytes("why", why_memory, source)}
    assert {name.split(":")[0] for name in notebooks} == set(VIEWS), "every view's notebook is run"
    assert cli.main(["export-notebook", "--view", "gates", "--text", TEXT, "--setting", "unit=5",
                     "--out", str(tmp_path / "gates.ipynb")]) == 0
    from_cli = nbformat.read(tmp_path / "gates.ipynb", as_version=4)
    from_page = nbformat.reads(notebooks["gates"].decode(), 4)
    assert [c.source for c in from_cli.cells[1:]] == [c.source for c in from_page.cells[1:]], "the same notebook"

    shown = execute_together(notebooks)

    traced = lstm_core.trace(run.model, run.vocab, TEXT)
    layer = run.model.config.num_layers - 1
    assert shown["gates"]["text"] == TEXT and shown["gates"]["layer"] == layer
    assert shown["gates"]["mean_surprisal_bits"] == pytest.approx(float(traced.surprisal_bits().mean()), abs=1e-6)
    assert [ch for ch, _ in shown["gates"]["top_next"]] == [ch for ch, _ in traced.top_next(len(TEXT) - 1, 5)]
    assert shown["gates"]["update"] == pytest.approx(traced.cell_update(layer, len(TEXT) - 1, 5), abs=1e-6)

    assert "DORINE.\n" + shown["generate"]["text"] in text_boxes(generate_page), "the page's own sample, to the letter"

    walk = unit_walk.walk_unit(run.model, run.vocab, unit_walk.DEFAULT_WALK_TEXT, 7, 0)
    assert shown["cell"]["unit"] == 7 and shown["cell"]["step"] == 4
    # float32 in another process, with its own thread count: a cell state near 27 differs in its last bits
    assert shown["cell"]["gates"] == pytest.approx(walk.gates[4].tolist(), rel=1e-6, abs=1e-6)
    assert shown["cell"]["cell_state"] == pytest.approx(float(walk.cell_state[4]), rel=1e-6, abs=1e-6)

    saved = compare_runs.shipped_comparison()
    for label, path in saved.runs.items():
        valid = read_metrics(path)["valid_loss"].dropna()
        assert shown["compare"]["final_valid_loss"][label] == pytest.approx(float(valid.iloc[-1]))
    text, positions, max_lag = saved.setup.flow_probe(200, 16)
    lstm = lstm_core.load_run(saved.runs["LSTM"])
    flow = gradient_flow(lstm.model, lstm.vocab, text, max_lag=max_lag, positions=positions)
    assert shown["compare"]["gradient_left_at_max_lag"]["LSTM"] == pytest.approx(flow.ratio_at(max_lag), rel=1e-5)

    attributed = attribute(run.model, run.vocab, WHY_TEXT, "grad_x_input", None, 32)
    curves = deletion_curves(run.model, run.vocab, attributed)
    # float32 arithmetic in another process (its own thread count): equal to ~1e-7, not to the bit
    assert shown["why"]["target"] == attributed.target and f"log p = {attributed.log_prob:.3f}" in shown_text(why_page)
    assert shown["why"]["log_prob"] == pytest.approx(attributed.log_prob, abs=1e-6)
    assert shown["why"]["scores"] == pytest.approx(attributed.scores.tolist(), rel=1e-3, abs=1e-7)
    assert shown["why"]["deletion"]["method"] == pytest.approx(curves.method.tolist(), abs=1e-6)
    assert shown["why"]["deletion"]["random_area"] == pytest.approx(curves.random_area, abs=1e-6)
    diff = memory_diff(run.model, run.vocab, WHY_TEXT, 3, "o")
    assert shown["why:memory"]["text_b"] == "Au ooleur!\n\nHARPAGON"
    assert shown["why:memory"]["norms"]["cell_state layer 1"] == pytest.approx(diff.norms("cell_state", 1).tolist(),
                                                                               rel=1e-5, abs=1e-6)
    assert shown["why:memory"]["total_variation"] == pytest.approx(diff.total_variation.tolist(), abs=1e-6)
    for d in shipped_memory_diffs():
        assert shown["why:memory"]["architectures"][d.label]["at_cue"] == pytest.approx(d.at_cue, rel=1e-5)

    metrics = read_metrics(PRETRAINED)
    assert shown["training"] == pytest.approx({"steps": int(metrics["step"].iloc[-1]),
                                               "recent_train_loss": recent_train_loss(metrics),
                                               "best_valid_loss": float(metrics["valid_loss"].min())})


def test_a_notebook_names_its_link_and_says_what_each_step_shows():
    data = notebook_bytes("generate", {"run": "pretrained", "prime": "DORINE.", "seed": "2"}, Source(run_dir=PRETRAINED))
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    nbformat.validate(notebook)
    assert "/generate?run=pretrained&prime=DORINE.&seed=2" in notebook.cells[0].source
    kinds = [cell.cell_type for cell in notebook.cells]
    assert kinds.count("markdown") >= 4 and kinds.count("code") >= 4
    assert json.loads(data)["metadata"]["lstm_lab"]["settings"]["seed"] == "2"
    with pytest.raises(ValueError, match="no notebook for the view 'nowhere'"):
        notebook_bytes("nowhere", {}, Source())


@pytest.mark.parametrize("part", ["attribution", "memory", "patch", "probes"])
def test_the_why_notebook_follows_its_links_part(part, tmp_path):
    settings = {"run": "pretrained", "part": part, "text": "Au voleur!", "layer": "0", "alpha": "-4"}
    data = notebook_bytes("why", settings, Source(run_dir=PRETRAINED))
    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    assert f"/why?run=pretrained&part={part}" in notebook.cells[0].source
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    assert {"attribution": "deletion_curves(", "memory": "shipped_memory_diffs()", "patch": "patch(",
            "probes": "steered_sample("}[part] in code
    assert [c.cell_type for c in notebook.cells].count("markdown") >= 5
    out = tmp_path / "why.ipynb"
    assert cli.main(["export-notebook", "--view", "why", "--text", "Au voleur!", "--setting", f"part={part}",
                     "--setting", "layer=0", "--setting", "alpha=-4", "--out", str(out)]) == 0
    from_cli = nbformat.read(out, as_version=4)
    assert [c.source for c in from_cli.cells[1:]] == [c.source for c in notebook.cells[1:]], "the same notebook"
