"""Any view as a runnable Jupyter notebook: the same run, text, settings and seed, recomputed with ``lstm_core``.

A notebook is built from a view's name and its settings: the very dict that makes the page's link
(``/gates?run=...&text=...``), so the notebook and the link never disagree. The page passes its link's settings
(lab_ui.export_views); the command line builds them from its options::

    python -m lstm_core export-notebook --run DIR --view gates|generate|cell|compare|training [--text TEXT] --out F.ipynb

    cells = VIEWS["gates"](settings, source)       # markdown and code, in order
    notebook_bytes("gates", settings, source)      # the .ipynb, written with nbformat

Each view is one function registered with :func:`view`; adding a view is adding one. Markdown cells say what
each step shows; charts are matplotlib. The last code cell prints the view's numbers as JSON (``figures``),
the numbers the page shows, so a reader (and a test) can hold them against the app.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from .runs import PRETRAINED_DIR, REPO_ROOT, read_config
from .unit_walk import DEFAULT_WALK_TEXT, MAX_WALK_CHARS

VIEWS: dict[str, Callable[[dict, "Source"], list]] = {}  # a view's name (its page's path) -> its cells' builder
MAX_TEXT = 2000  # the longest text a view traces, as on its page
FIGURES_TAG = "lstm-lab-figures"  # the code cell that prints the view's numbers
PAGE_VIEWS = ("gates", "generate", "cell", "compare", "why")  # views that are a page of their own (a link)
DEFAULT_GATES_TEXT = "HARPAGON.\n\nAu voleur!\n"  # /gates' typed text, by default


@dataclass(frozen=True)
class Source:
    """Where the notebook finds its model: a run folder (the shipped model's is named by its constant), the store
    it lives in (a comparison's runs are found by id there), and the link the page showed, if any."""

    run_dir: Path | None = None
    store_root: Path | None = None
    link: str | None = None
    extra: dict = field(default_factory=dict)


def view(name: str):
    """Register a builder of a view's cells: ``@view("why") def why_cells(settings, source) -> list``."""
    def register(build):
        VIEWS[name] = build
        return build
    return register


def link_of(name: str, settings: dict) -> str:
    """The page's link of a view's settings, as the app writes it (lab_ui.navigation.view_url)."""
    return f"/{name}" + (f"?{urlencode(settings)}" if settings else "")


def notebook_bytes(name: str, settings: dict, source: Source) -> bytes:
    """The .ipynb of view ``name`` with ``settings`` (its link's query, strings as in a URL), as bytes."""
    if name not in VIEWS:
        raise ValueError(f"no notebook for the view {name!r}; choose one of {', '.join(sorted(VIEWS))}")
    settings = {k: str(v) for k, v in settings.items() if v is not None and k != "present"}
    cells = VIEWS[name](settings, source)
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
        "lstm_lab": {"view": name, "settings": settings}})
    nbformat.validate(notebook)
    return nbformat.writes(notebook).encode("utf-8")


def figures_of(notebook) -> list[dict]:
    """The view's numbers printed by an executed notebook's figures cell (see the module's docstring); a list, one
    per figures cell (a notebook has one)."""
    return [json.loads("".join(output.get("text", "") for output in cell.outputs if output.get("name") == "stdout"))
            for cell in notebook.cells if FIGURES_TAG in cell.metadata.get("tags", [])]


# -- the cells every notebook shares -------------------------------------------------------------------------------
def _number(settings: dict, name: str, default, cast=int, low=None, high=None):
    """A link's number as the page reads it (lstm_core's range kept; a malformed value: the default)."""
    try:
        value = cast(settings[name]) if name in settings else default
    except (TypeError, ValueError):
        value = default
    if low is not None:
        value = max(low, value)
    if high is not None:
        value = min(high, value)
    return value


def _run_path_code(run_dir: Path) -> str:
    if Path(run_dir).resolve() == PRETRAINED_DIR.resolve():
        return "lstm_core.PRETRAINED_DIR  # the model shipped with LSTM Lab"
    return f"Path({str(Path(run_dir).resolve())!r})  # the run's folder (a run zip from the Runs page, unpacked)"


def opening(title: str, what: str, name: str, settings: dict, source: Source) -> list:
    """The title, what the notebook reproduces (the page's link), and the setup cell that imports lstm_core."""
    link = source.link or link_of(name, settings)
    where = (f"LSTM Lab's view `{link}`" if name in PAGE_VIEWS else "what LSTM Lab's Runs page shows of this run")
    return [
        new_markdown_cell(f"# {title}\n\n{what}\n\nThis notebook reproduces {where} with the same run, text, "
                          "settings and seed, computed by `lstm_core` (the package the app calls). Run it in an "
                          "environment with LSTM Lab's requirements and matplotlib."),
        new_code_cell("import json\nimport sys\nfrom pathlib import Path\n\n"
                      f"LSTM_LAB = {str(REPO_ROOT)!r}  # the LSTM Lab checkout: lstm_core is imported from it\n"
                      "if LSTM_LAB not in sys.path:\n    sys.path.insert(0, LSTM_LAB)\n\n"
                      "import matplotlib.pyplot as plt\nimport numpy as np\n\nimport lstm_core\n"
                      "from lstm_core import analysis\n\n%matplotlib inline"),
    ]


def load_cells(source: Source) -> list:
    return [new_markdown_cell("## The model\n\nThe run is loaded from its folder: its weights (safetensors), its "
                              "vocabulary and its settings."),
            new_code_cell(f"RUN_DIR = {_run_path_code(source.run_dir)}\nrun = lstm_core.load_run(RUN_DIR)\n"
                          "config = run.model.config\n"
                          "print(f\"{run.name}: {run.model.arch.label}, {config.num_layers} layer(s) of "
                          "{config.hidden_size} units, {len(run.vocab)} characters\")")]


def figures_cell(expression: str) -> list:
    return [new_markdown_cell("## The numbers of this view\n\nThe figures the page shows, printed as JSON (a test "
                              "holds them equal to the app's)."),
            new_code_cell(f"figures = {expression}\nprint(json.dumps(figures, ensure_ascii=False))",
                          metadata={"tags": [FIGURES_TAG]})]


def _run_name(source: Source) -> str:
    try:
        return read_config(source.run_dir).get("name") or Path(source.run_dir).name
    except (OSError, ValueError):
        return Path(source.run_dir).name


# -- the views -----------------------------------------------------------------------------------------------------
@view("gates")
def gates_cells(settings: dict, source: Source) -> list:
    """/gates: the trace of a typed text or a validation passage, each quantity's heatmap, the surprisal, the next
    characters and one unit's update taken apart."""
    if settings.get("source") == "typed" or "text" in settings:
        text_code = f"text = {settings.get('text', DEFAULT_GATES_TEXT)[:MAX_TEXT]!r}"
        said = "the text typed on the page"
    else:
        passage, length = _number(settings, "passage", 0, low=0), _number(settings, "length", 300, low=20)
        text_code = ("corpus = run.config.get(\"train\", {}).get(\"corpus\", \"full\")\n"
                     f"text = analysis.validation_passages(corpus)[{passage}][:{length}]")
        said = f"passage {passage} of the validation text, its first {length} characters"
    layer = settings.get("layer")
    return opening(f"Gates & states: {_run_name(source)}",
                   "Every gate and state of a character model on one text, step by step.", "gates", settings,
                   source) + load_cells(source) + [
        new_markdown_cell(f"## The text\n\nThe page traced {said}."),
        new_code_cell(text_code + "\nprint(repr(text))"),
        new_markdown_cell("## The trace\n\n`lstm_core.trace` replays the model's weights one step at a time and keeps "
                          "every intermediate value: each quantity is (layers, time, units). It equals the fused "
                          "PyTorch module's outputs (a test holds it to 1e-5)."),
        new_code_cell("traced = lstm_core.trace(run.model, run.vocab, text)\n"
                      f"layer = min({layer if layer is not None else 'config.num_layers - 1'}, config.num_layers - 1)\n"
                      "for name in traced.quantities:\n    print(name, traced[name].shape)"),
        new_markdown_cell("## Every gate and state of the layer\n\nOne heatmap per quantity: time runs left to right, "
                          "labelled by the character read; each row is a unit (the first 48, in index order). Gates "
                          "live in [0, 1], states in [-1, 1] (an LSTM's cell state may go beyond)."),
        new_code_cell("shown = min(48, config.hidden_size)\nticks = [analysis.show_char(ch) for ch in traced.chars]\n"
                      "fig, axes = plt.subplots(len(traced.quantities), 1, sharex=True,\n"
                      "                         figsize=(12, 2.2 * len(traced.quantities)))\n"
                      "for ax, name in zip(np.atleast_1d(axes), traced.quantities):\n"
                      "    image = ax.imshow(traced[name][layer, :, :shown].T, aspect=\"auto\", cmap=\"RdBu_r\",\n"
                      "                      vmin=-1, vmax=1, interpolation=\"nearest\")\n"
                      "    ax.set_ylabel(f\"{name.replace('_', ' ')}\\nunit\")\n"
                      "    fig.colorbar(image, ax=ax, pad=0.01)\n"
                      "step = max(1, len(ticks) // 60)\n"
                      "ax.set_xticks(range(0, len(ticks), step), ticks[::step], fontsize=7)\n"
                      "ax.set_xlabel(f\"character read (layer {layer})\")\nplt.show()"),
        new_markdown_cell("## How surprised the model was\n\nThe surprisal of each next character, −log₂ p, in bits: "
                          "low where the text is predictable, high where it is not."),
        new_code_cell("surprisal = traced.surprisal_bits()\nfig, ax = plt.subplots(figsize=(12, 2.5))\n"
                      "ax.plot(surprisal, marker=\".\")\nax.set_ylabel(\"bits\")\n"
                      "ax.set_xlabel(\"position of the next character\")\nplt.show()\n"
                      "print(f\"mean surprisal {surprisal.mean():.3f} bits per character\")"),
        new_markdown_cell("## The likeliest characters after the text"),
        new_code_cell("last = len(traced.chars) - 1\nfor ch, p in traced.top_next(last, 5):\n"
                      "    print(f\"{analysis.show_char(ch)!r:8} {p:.4f}\")"),
        new_markdown_cell("## One unit's update taken apart\n\nAt the last character, for the unit the page had "
                          "chosen: what the gates kept and wrote (an LSTM: kept = f·c₍t−1₎, written = i·g, "
                          "h = o·tanh(c))."),
        new_code_cell(f"unit = min({_number(settings, 'unit', 0, low=0)}, config.hidden_size - 1)\n"
                      "update = traced.cell_update(layer, last, unit)\n"
                      "for name, value in update.items():\n    print(f\"{name:10} {value:+.6f}\")"),
    ] + figures_cell("{\"text\": text, \"layer\": layer, \"mean_surprisal_bits\": float(surprisal.mean()),\n"
                     "           \"top_next\": [[ch, p] for ch, p in traced.top_next(last, 5)],\n"
                     "           \"unit\": unit, \"update\": update}")


@view("generate")
def generate_cells(settings: dict, source: Source) -> list:
    """/generate: the same sample (prime, temperature, top-k, top-p, length, seed), each draw's probability, the
    entropy along the text and the sample's measures."""
    prime = settings.get("prime", "HARPAGON.\n\n")[:MAX_TEXT]
    temperature = _number(settings, "temperature", 0.8, float, 0.0, 2.0)
    top_k = _number(settings, "top_k", 0, low=0) or None
    top_p = _number(settings, "top_p", 1.0, float, 0.05, 1.0)
    length = _number(settings, "length", 400, low=10, high=2000)
    seed = _number(settings, "seed", 0, low=0)
    return opening(f"Generate: {_run_name(source)}", "Text sampled from a character model, one draw at a time.",
                   "generate", settings, source) + load_cells(source) + [
        new_markdown_cell("## The sample\n\n`lstm_core.sample_stream` reads the prime, then draws each next "
                          "character from the model's distribution divided by the temperature (0: the likeliest), "
                          "cut to the top-k or top-p, with a fixed seed: the page's sample, character for character."),
        new_code_cell(f"prime = {prime!r}\ntemperature, top_k, top_p, length, seed = {temperature!r}, {top_k!r}, "
                      f"{top_p if top_p < 1 else None!r}, {length!r}, {seed!r}\n"
                      "drawn = list(lstm_core.sample_stream(run.model, run.vocab, prime, length, temperature, "
                      "top_k, top_p, seed))\n"
                      "written = \"\".join(s.char for s in drawn)\nprint(prime + written)"),
        new_markdown_cell("## How likely each draw was\n\nThe probability each character was drawn with: near 1, the "
                          "model was sure; low, the dice chose an unlikely character."),
        new_code_cell("probability = np.array([s.prob for s in drawn])\nfig, ax = plt.subplots(figsize=(12, 2.5))\n"
                      "ax.bar(range(len(probability)), probability, width=1.0)\nax.set_ylim(0, 1)\n"
                      "ax.set_ylabel(\"p of the drawn character\")\nax.set_xlabel(\"character drawn\")\nplt.show()\n"
                      "print(f\"mean probability {probability.mean():.3f}; {np.mean(probability < 0.1):.0%} below 0.1\")"),
        new_markdown_cell("## Entropy along the text\n\nHow unsure the model was before each character, in bits: the "
                          "model's own distribution, and the one drawn from after temperature, top-k and top-p."),
        new_code_cell("raw = analysis.entropy_bits(np.stack([s.raw_probs for s in drawn]))\n"
                      "sampled = analysis.entropy_bits(np.stack([s.probs for s in drawn]))\n"
                      "fig, ax = plt.subplots(figsize=(12, 2.5))\nax.plot(raw, label=\"model (temperature 1)\")\n"
                      "ax.plot(sampled, linestyle=\"--\", label=\"drawn from\")\nax.set_ylabel(\"bits\")\n"
                      "ax.legend()\nplt.show()\nmeasures = analysis.sample_measures(drawn)\nprint(measures)"),
    ] + figures_cell("{\"text\": written, \"mean_probability\": float(probability.mean()), \"measures\": measures}")


@view("cell")
def cell_cells(settings: dict, source: Source) -> list:
    """/cell, a unit of a trained model: the unit walked through the text with the model's own numbers."""
    text = settings.get("text", DEFAULT_WALK_TEXT)[:MAX_WALK_CHARS]
    layer = _number(settings, "layer", 0, low=0)
    unit = settings.get("unit")
    step = _number(settings, "step", 0, low=0)
    return opening(f"Cell lab: a unit of {_run_name(source)}",
                   "One unit of a trained LSTM taken out and walked through real text, step by step, with the "
                   "model's own weights.", "cell", settings, source) + load_cells(source) + [
        new_markdown_cell("## The unit through the text\n\n`lstm_core.unit_walk.walk_unit` rebuilds the unit's gate "
                          "pre-activations from its own rows of the weights (the input's part, its own previous "
                          "hidden state's, the other units' and the bias), then runs the cell's recurrence. Without "
                          "a unit in the link, the page picks the unit whose cell state moves most."),
        new_code_cell(f"from lstm_core import unit_walk\n\ntext = {text!r}\nlayer = min({layer}, config.num_layers - 1)\n"
                      "traced = lstm_core.trace(run.model, run.vocab, text)\n"
                      f"unit = {int(unit) if unit and unit.isdigit() else 'unit_walk.busiest_units(traced, layer)[0]'}\n"
                      "walk = unit_walk.walk_unit(run.model, run.vocab, text, unit, layer, traced)\n"
                      "print(f\"unit {unit} of layer {layer}; largest difference from the exact trace "
                      "{walk.deviation:.1e}\")"),
        new_markdown_cell("## Its gates and states at every character\n\nInput gate i, forget gate f, candidate g, "
                          "output gate o, then the cell state c and the hidden state h."),
        new_code_cell("fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(12, 5))\n"
                      "for k, name in enumerate([\"i\", \"f\", \"g\", \"o\"]):\n"
                      "    top.plot(walk.gates[:, k], label=name, marker=\"ox^s\"[k], markersize=3)\n"
                      "top.legend(ncol=4)\ntop.set_ylabel(\"gate\")\n"
                      "bottom.plot(walk.cell_state, label=\"c\")\nbottom.plot(walk.hidden_state, label=\"h\", "
                      "linestyle=\"--\")\nbottom.legend()\n"
                      "ticks = [analysis.show_char(ch) for ch in walk.chars]\n"
                      "bottom.set_xticks(range(len(ticks)), ticks, fontsize=7)\nplt.show()"),
        new_markdown_cell("## One step taken apart\n\nThe step the page showed: kept = f·c₍t−1₎, written = i·g, "
                          "c = kept + written, h = o·tanh(c)."),
        new_code_cell(f"t = min({step}, len(walk.chars) - 1)\n"
                      "i, f, g, o = (float(v) for v in walk.gates[t])\n"
                      "c_prev, c, h = float(walk.c_prev[t]), float(walk.cell_state[t]), float(walk.hidden_state[t])\n"
                      "print(f\"at {analysis.show_char(walk.chars[t])!r}: kept {f * c_prev:+.6f} + written "
                      "{i * g:+.6f} = c {c:+.6f}; h = o·tanh(c) = {h:+.6f}\")"),
    ] + figures_cell("{\"unit\": int(unit), \"layer\": layer, \"step\": t, \"gates\": [i, f, g, o],\n"
                     "           \"c_prev\": c_prev, \"cell_state\": c, \"hidden_state\": h, "
                     "\"deviation\": float(walk.deviation)}")


@view("compare")
def compare_cells(settings: dict, source: Source) -> list:
    """/compare: the comparison's runs (the link's ids, or the shipped one), their losses and the gradient that
    reaches back through time."""
    ids = [run_id for run_id in settings.get("runs", "").split(",") if run_id]
    if ids:
        find = (f"store = lstm_core.RunStore({str(Path(source.store_root).resolve())!r})\n"
                f"saved = compare_runs.comparison_of_ids(store, {ids!r})")
    else:
        find = "saved = compare_runs.shipped_comparison()  # the comparison shipped with LSTM Lab"
    return opening("Compare: why gates exist", "A plain RNN, a GRU and an LSTM (or ablated LSTMs) trained side by "
                   "side with matched parameter counts.", "compare", settings, source) + [
        new_markdown_cell("## The comparison\n\nIts runs record the setup they were trained with; each contender's "
                          "run is loaded from its folder."),
        new_code_cell("from lstm_core import compare_runs\nfrom lstm_core.gradients import gradient_flow\n"
                      "from lstm_core.runs import read_metrics\n\n" + find + "\n"
                      "runs = {label: lstm_core.load_run(path) for label, path in saved.runs.items()}\n"
                      "print(saved.setup)\nfor label, r in runs.items():\n"
                      "    print(label, sum(p.numel() for p in r.model.parameters()), \"parameters\")"),
        new_markdown_cell("## The validation loss as they trained"),
        new_code_cell("fig, ax = plt.subplots(figsize=(10, 3.5))\nfinal = {}\n"
                      "for (label, path), marker in zip(saved.runs.items(), \"os^vD\"):\n"
                      "    metrics = read_metrics(path)\n    valid = metrics[[\"step\", \"valid_loss\"]].dropna()\n"
                      "    ax.plot(valid[\"step\"], valid[\"valid_loss\"], marker=marker, markersize=3, label=label)\n"
                      "    final[label] = float(valid[\"valid_loss\"].iloc[-1])\n"
                      "ax.set_xlabel(\"step\")\nax.set_ylabel(\"validation loss (nats)\")\nax.legend()\nplt.show()\n"
                      "print(final)"),
        new_markdown_cell("## Gradients through time\n\nHow strongly the loss at step t still reacts to the hidden "
                          "state k steps earlier, ‖∂L_t/∂h_(t−k)‖, averaged over positions: on a log scale, a "
                          "plain RNN's falls off fastest."),
        new_code_cell("text, positions, max_lag = saved.setup.flow_probe(200, 16)\n"
                      "flows = {label: gradient_flow(r.model, r.vocab, text, max_lag=max_lag, positions=positions)\n"
                      "         for label, r in runs.items()}\nfig, ax = plt.subplots(figsize=(10, 3.5))\n"
                      "for (label, flow), style in zip(flows.items(), [\"-\", \"--\", \":\", \"-.\", \"-\"]):\n"
                      "    ax.semilogy(flow.hidden[0], linestyle=style, label=label)\n"
                      "ax.set_xlabel(\"lag k\")\nax.set_ylabel(\"gradient norm\")\nax.legend()\nplt.show()\n"
                      "ratios = {label: flow.ratio_at(max_lag) for label, flow in flows.items()}\nprint(ratios)"),
    ] + figures_cell("{\"final_valid_loss\": final, \"gradient_left_at_max_lag\": ratios, \"max_lag\": max_lag}")


@view("training")
def training_cells(settings: dict, source: Source) -> list:
    """A run's training: its losses, learning rate, gradient norm and throughput, and its last preview sample."""
    return opening(f"Training of {_run_name(source)}", "How a run trained: its metrics as it went.", "training",
                   settings, source) + [
        new_markdown_cell("## The run\n\nIts folder holds its settings (`config.json`), its metrics and samples; any "
                          "kind of run (a character model, the tagger, the classifier, the memory task)."),
        new_code_cell(f"RUN_DIR = {_run_path_code(source.run_dir)}\n"
                      "run_config = json.loads((RUN_DIR / \"config.json\").read_text(encoding=\"utf-8\"))\n"
                      "print(run_config.get(\"name\"), \"·\", run_config.get(\"kind\", \"char\"), \"·\", "
                      "run_config.get(\"summary\", \"\"))"),
        new_markdown_cell("## Its metrics\n\n`metrics.csv` holds one row per training step (the validation loss at "
                          "each evaluation)."),
        new_code_cell("from lstm_core.runs import read_metrics, recent_train_loss\n\nmetrics = read_metrics(RUN_DIR)\n"
                      "print(f\"{len(metrics):,} rows; columns: {', '.join(metrics.columns)}\")"),
        new_markdown_cell("## Loss\n\nThe training loss of each batch and the validation loss at each evaluation, in "
                          "nats per item (a character for a character model)."),
        new_code_cell("fig, ax = plt.subplots(figsize=(10, 3.5))\nif \"train_loss\" in metrics:\n"
                      "    ax.plot(metrics[\"step\"], metrics[\"train_loss\"], alpha=0.6, label=\"train\")\n"
                      "if \"valid_loss\" in metrics:\n    valid = metrics[[\"step\", \"valid_loss\"]].dropna()\n"
                      "    ax.plot(valid[\"step\"], valid[\"valid_loss\"], marker=\"o\", linestyle=\"--\", "
                      "label=\"validation\")\n"
                      "ax.set_xlabel(\"step\")\nax.set_ylabel(\"loss (nats)\")\nax.legend()\nplt.show()"),
        new_markdown_cell("## Learning rate, gradient norm and throughput"),
        new_code_cell("present = [c for c in (\"lr\", \"grad_norm\", \"chars_per_sec\") if c in metrics]\n"
                      "if present:\n"
                      "    fig, axes = plt.subplots(1, len(present), figsize=(4 * len(present), 3))\n"
                      "    for ax, column in zip(np.atleast_1d(axes), present):\n"
                      "        ax.plot(metrics[\"step\"], metrics[column])\n        ax.set_title(column)\n"
                      "        ax.set_xlabel(\"step\")\n    plt.show()"),
        new_markdown_cell("## Its last preview sample"),
        new_code_cell("samples_file = RUN_DIR / \"samples.json\"\n"
                      "samples = json.loads(samples_file.read_text(encoding=\"utf-8\")) if samples_file.is_file() "
                      "else []\nprint(samples[-1][\"prime\"] + samples[-1][\"text\"] if samples else \"no samples\")"),
    ] + figures_cell("{\"steps\": int(metrics[\"step\"].iloc[-1]) if len(metrics) else 0,\n"
                     "           \"recent_train_loss\": recent_train_loss(metrics),\n"
                     "           \"best_valid_loss\": float(metrics[\"valid_loss\"].min()) "
                     "if \"valid_loss\" in metrics else None}")

