"""Any view as a runnable Jupyter notebook: the same run, text, settings and seed, recomputed with ``lstm_core``.

A notebook is built from a view's name and its settings: the very dict that makes the page's link
(``/gates?run=...&text=...``), so the notebook and the link never disagree. The page passes its link's settings
(lab_ui.export_views); the command line builds them from its options::

    python -m lstm_core export-notebook --run DIR --view gates|generate|cell|compare|why|training [--text TEXT] --out F.ipynb

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
from .why.attribution import EXAMPLE_TEXT as ATTRIBUTION_EXAMPLE
from .why.memory_diff import EXAMPLE_TEXT as MEMORY_DIFF_EXAMPLE
from .why.patching import EXAMPLE_SOURCE, EXAMPLE_TARGET

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



# -- /why: one part of it, as the link holds it --------------------------------------------------------------------
WHY_PARTS = ("attribution", "memory", "patch", "probes")  # /why's parts, in the page's order (its link's ``part``)
WHY_PROBE_TEXT = 6_000  # characters of validation text the page's probes read


def _clamped(settings: dict, name: str, default: int, length_code: str) -> str:
    """The code of a position the page keeps within 0 ... len(text) - 1 (its number input's range)."""
    value = _number(settings, name, default, low=0, high=10_000)
    return f"min({value}, max(len({length_code}) - 1, 0))"


def _why_attribution(settings: dict) -> list:
    text = settings.get("text", ATTRIBUTION_EXAMPLE)
    method = settings.get("method") if settings.get("method") in ("ig", "grad_x_input", "occlusion") else "grad_x_input"
    target = settings.get("target") or None
    steps = _number(settings, "steps", 32, low=16, high=256)
    return [
        new_markdown_cell("## Which characters made the prediction\n\nEach character of the text gets a score: its "
                          "part in the model's log-probability of the next character (the one it predicts, or the "
                          "target the page named). Integrated gradients walk from the all-zero embedding to the "
                          "text's; gradient × input multiplies each embedding by its gradient; occlusion replaces "
                          "one character at a time and re-runs (all three through Captum)."),
        new_code_cell("import warnings\n\nwith warnings.catch_warnings():  # Captum's progress bar asks for "
                      "ipywidgets, which it does not need here\n    warnings.simplefilter(\"ignore\")\n"
                      "    from lstm_core.why.attribution import METHODS, attribute, deletion_curves\n\n"
                      f"text, method, target, steps = {text!r}, {method!r}, {target!r}, {steps}\n"
                      "result = attribute(run.model, run.vocab, text, method, target, steps)\n"
                      "print(f\"{METHODS[method]}: explaining {analysis.show_char(result.target)!r} after the text, "
                      "log p = {result.log_prob:.3f} (the model predicts "
                      "{analysis.show_char(result.predicted)!r})\")\n"
                      "if result.completeness_gap is not None:\n"
                      "    print(f\"completeness: the scores sum to {result.scores.sum():.3f}; f(text) - f(zero "
                      "embeddings) = {result.log_prob - result.baseline_log_prob:.3f}; gap "
                      "{result.completeness_gap:.1%}\")"),
        new_markdown_cell("## The scores, character by character\n\nAbove 0 (solid bars): the character raised the "
                          "log-probability; below 0 (hatched): it lowered it."),
        new_code_cell("fig, ax = plt.subplots(figsize=(12, 3))\n"
                      "bars = ax.bar(range(len(result.chars)), result.scores, color=[\"#D55E00\" if s > 0 else "
                      "\"#0072B2\" for s in result.scores])\n"
                      "for bar, score in zip(bars, result.scores):\n"
                      "    bar.set_hatch(\"\" if score > 0 else \"//\")\n"
                      "ax.axhline(0, color=\"grey\", linewidth=0.8)\n"
                      "ax.set_xticks(range(len(result.chars)), [analysis.show_char(c) for c in result.chars], "
                      "fontsize=8)\n"
                      "ax.set_ylabel(f\"score for log p({analysis.show_char(result.target)!r})\")\nplt.show()\n"
                      "print(result.strongest(10).to_string(index=False))"),
        new_markdown_cell("## Is it faithful? The deletion curve\n\nReplace the k best-scored characters (k = 0, 1, "
                          "2...) and watch the target's probability, beside the same with characters chosen at "
                          "random (the mean of 20 draws). A faithful method's curve falls faster: a smaller area "
                          "under it (its mean over k)."),
        new_code_cell("curves = deletion_curves(run.model, run.vocab, result)\n"
                      "fig, ax = plt.subplots(figsize=(8, 3.5))\n"
                      "ax.plot(curves.k, curves.method, marker=\"o\", label=METHODS[method])\n"
                      "ax.plot(curves.k, curves.random, marker=\"s\", linestyle=\"--\", color=\"grey\", "
                      "label=f\"random (mean of {curves.draws})\")\n"
                      "ax.set_xlabel(\"characters replaced, k\")\n"
                      "ax.set_ylabel(f\"p({analysis.show_char(result.target)!r})\")\nax.legend()\nplt.show()\n"
                      "print(curves.verdict(METHODS[method]))"),
    ], ("{\"part\": \"attribution\", \"method\": method, \"target\": result.target, \"predicted\": result.predicted,\n"
        "           \"log_prob\": result.log_prob, \"scores\": result.scores.tolist(),\n"
        "           \"completeness_gap\": result.completeness_gap,\n"
        "           \"deletion\": {\"method\": curves.method.tolist(), \"random\": curves.random.tolist(),\n"
        "                        \"method_area\": curves.method_area, \"random_area\": curves.random_area}}")


def _why_memory(settings: dict) -> list:
    text = settings.get("text", MEMORY_DIFF_EXAMPLE)
    char = settings.get("char") or "V"
    return [
        new_markdown_cell("## Two texts one character apart\n\nText B is the text with one character changed at "
                          "position P. Both run through the exact replay (`lstm_core.trace`); the memory diff keeps "
                          "Δ = B − A of every state at every step. Before P both read the same characters, so every "
                          "Δ there is exactly 0."),
        new_code_cell("from lstm_core.why.memory_diff import memory_diff, share, shipped_memory_diffs\n\n"
                      f"text, char = {text!r}, {char!r}\nposition = {_clamped(settings, 'p', 0, 'text')}\n"
                      "diff = memory_diff(run.model, run.vocab, text, position, char)\n"
                      "print(\"text B:\", repr(\"\".join(diff.chars_b)))"),
        new_markdown_cell("## How large the difference stays\n\n‖Δ‖, the L2 norm over units of each state's change, "
                          "for every layer, step by step; then how far it moves the next character (total variation "
                          "of the two next-character distributions, from 0: the same, to 1: nothing in common)."),
        new_code_cell("fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(12, 5))\n"
                      "norms = {}\nfor n, (quantity, layer) in enumerate((q, l) for q in diff.quantities "
                      "for l in range(diff.layers)):\n"
                      "    norms[f\"{quantity} layer {layer}\"] = diff.norms(quantity, layer)\n"
                      "    top.plot(norms[f\"{quantity} layer {layer}\"], marker=\"os^vD*\"[n % 6], markersize=3,\n"
                      "             linestyle=\"-\" if quantity == \"hidden_state\" else \"--\",\n"
                      "             label=f\"‖Δ {quantity.replace('_', ' ')}‖, layer {layer}\")\n"
                      "top.axvline(position, color=\"grey\", linestyle=\":\")\ntop.set_ylabel(\"‖Δ‖\")\n"
                      "top.legend(fontsize=8)\n"
                      "bottom.plot(diff.total_variation, marker=\".\")\nbottom.set_ylim(0, 1)\n"
                      "bottom.set_ylabel(\"next-character change\\n(total variation)\")\n"
                      "bottom.set_xticks(range(len(diff.chars_a)), [analysis.show_char(c) for c in diff.chars_a], "
                      "fontsize=7)\nplt.show()"),
        new_markdown_cell("## Δ per unit\n\nThe memory state's change per unit in the last layer (the LSTM's cell, "
                          "the others' hidden state): which units carry the difference furthest."),
        new_code_cell("memory = run.model.arch.memory_state\nlast = diff.delta[memory][diff.layers - 1]\n"
                      "reach = float(np.abs(last).max()) or 1.0\nfig, ax = plt.subplots(figsize=(12, 4))\n"
                      "image = ax.imshow(last[:, :64].T, aspect=\"auto\", cmap=\"RdBu_r\", vmin=-reach, vmax=reach,\n"
                      "                  interpolation=\"nearest\")\nfig.colorbar(image, ax=ax, pad=0.01)\n"
                      "ax.set_ylabel(f\"unit (the first 64)\\nΔ {memory.replace('_', ' ')}\")\n"
                      "ax.set_xlabel(\"step\")\nplt.show()"),
        new_markdown_cell("## LSTM, GRU and plain RNN on the memory task\n\nThe comparison shipped with the app: "
                          "the symbol at step 0 changed to the next symbol; each model's memory state at every step, "
                          "on a log scale, and how much of the change is left at the cue."),
        new_code_cell("architectures = shipped_memory_diffs()\nfig, ax = plt.subplots(figsize=(10, 3.5))\n"
                      "for d, marker in zip(architectures, \"os^vD\"):\n"
                      "    ax.semilogy(np.maximum(d.diff.norms(d.memory_state, 0), 1e-12), marker=marker, "
                      "markersize=3,\n                label=f\"{d.label} ({d.memory_state.replace('_', ' ')})\")\n"
                      "ax.set_xlabel(\"step\")\nax.set_ylabel(\"‖Δ memory state‖\")\nax.legend()\nplt.show()\n"
                      "for d in architectures:\n"
                      "    print(f\"{d.label:10} at the cue ÷ at the symbol {share(d.at_cue):>8}; answer's change "
                      "{d.answer_change:.2f}; answer {d.diff.top_a[-1]} → {d.diff.top_b[-1]}\")"),
    ], ("{\"part\": \"memory\", \"text_b\": \"\".join(diff.chars_b), \"position\": position,\n"
        "           \"norms\": {name: values.tolist() for name, values in norms.items()},\n"
        "           \"total_variation\": diff.total_variation.tolist(),\n"
        "           \"architectures\": {d.label: {\"at_cue\": d.at_cue, \"answer_change\": d.answer_change,\n"
        "                                        \"answer\": [d.diff.top_a[-1], d.diff.top_b[-1]]} "
        "for d in architectures}}")


def _why_patch(settings: dict) -> list:
    source, target = settings.get("source", EXAMPLE_SOURCE), settings.get("text", EXAMPLE_TARGET)
    layer = _number(settings, "layer", None, low=0) if "layer" in settings else None
    state = settings.get("state", "whole")
    units = settings.get("units") or None
    return [
        new_markdown_cell("## A state copied from one text into another\n\nAfter reading text A up to step s the "
                          "model holds a state; after text B up to step t, another. The patch replaces B's state in "
                          "one layer (its hidden state, its cell state, or the whole; all units or chosen ones) by "
                          "A's; then the model reads the rest of B and writes on, with and without the patch, from "
                          "the same seed, so that every difference is the patch's."),
        new_code_cell("from lstm_core.why.patching import patch\n\n"
                      f"source, target = {source!r}, {target!r}\n"
                      f"source_step = {_clamped(settings, 's', 10_000, 'source')}\n"
                      f"target_step = {_clamped(settings, 't', 10_000, 'target')}\n"
                      f"layer = min({'config.num_layers - 1' if layer is None else layer}, config.num_layers - 1)\n"
                      f"state, units = {state!r}, "
                      + (f"analysis.parse_units({units!r}, config.hidden_size)" if units else "None") + "\n"
                      "result = patch(run.model, run.vocab, source, target, source_step, target_step, layer, state, "
                      "units, length=160)\n"
                      "for patched, title in ((False, \"without the patch\"), (True, \"with the patch\")):\n"
                      "    print(f\"{title:18} next: \" + \", \".join(f\"{analysis.show_char(c)!r} {p:.3f}\" "
                      "for c, p in result.top(patched)))"),
        new_markdown_cell("## How far the patch moves the next character\n\nAt the patch step and after each "
                          "character of B read since: total variation of the next-character distributions with "
                          "and without it (0: the same)."),
        new_code_cell("fig, ax = plt.subplots(figsize=(8, 3))\n"
                      "ax.plot(result.total_variation, marker=\"o\")\nax.set_ylim(0, 1)\n"
                      "ax.set_xticks(range(len(result.rest) + 1), [\"patch\"] + "
                      "[analysis.show_char(c) for c in result.rest], fontsize=8)\n"
                      "ax.set_ylabel(\"total variation\")\nplt.show()\n"
                      "print(f\"after the whole of B: {result.total_variation[-1]:.3f}\")"),
        new_markdown_cell("## What it writes on (temperature 0.8, seed 0, both)"),
        new_code_cell("print(\"WITHOUT THE PATCH\\n\" + result.sample_plain)\n"
                      "print(\"\\nWITH THE PATCH\\n\" + result.sample_patched)"),
    ], ("{\"part\": \"patch\", \"layer\": layer, \"states\": list(result.quantities),\n"
        "           \"top_plain\": result.top(False), \"top_patched\": result.top(True),\n"
        "           \"total_variation\": result.total_variation.tolist(),\n"
        "           \"sample_plain\": result.sample_plain, \"sample_patched\": result.sample_patched}")


def _why_probes(settings: dict) -> list:
    layer = _number(settings, "layer", None, low=0) if "layer" in settings else None
    state = settings.get("state", "hidden_state")
    feature = settings.get("feature", "capital_letter")
    alpha = _number(settings, "alpha", 8.0, float, -30.0, 30.0)
    seed = _number(settings, "seed", 0, low=0, high=10_000)
    prime = settings.get("prime") or "HARPAGON.\n"
    return [
        new_markdown_cell("## Probes: what a whole state holds\n\nFor each text feature, a linear read-out of a "
                          f"layer's whole state. It trains on the first three quarters of {WHY_PROBE_TEXT:,} "
                          "characters of validation text and is scored on the last quarter, which it never saw "
                          "(accuracy, or R² for the position in the line), beside the best single unit and always "
                          "answering the commoner value. This takes a while: every probe trains here."),
        new_code_cell("from lstm_core.corpus import load_corpus\nfrom lstm_core.why.probes import probe_frame, "
                      "steered_sample, train_probes\n\n"
                      f"layer = min({'config.num_layers - 1' if layer is None else layer}, config.num_layers - 1)\n"
                      f"state = {state!r}\n"
                      "corpus = run.config.get(\"train\", {}).get(\"corpus\", \"full\")\n"
                      f"probes = train_probes(run.model, run.vocab, load_corpus(corpus).valid_text[:{WHY_PROBE_TEXT}], "
                      "layer, state)\ntable = probe_frame(probes)\nprint(table.to_string(index=False))"),
        new_markdown_cell("## The probes against single units"),
        new_code_cell("fig, ax = plt.subplots(figsize=(10, 3.5))\nx = np.arange(len(probes))\n"
                      "ax.bar(x - 0.25, [p.score for p in probes], 0.25, label=\"probe (whole state)\")\n"
                      "ax.bar(x, [p.unit_score for p in probes], 0.25, hatch=\"//\", label=\"best single unit\")\n"
                      "ax.bar(x + 0.25, [p.baseline for p in probes], 0.25, hatch=\"..\", color=\"grey\", "
                      "label=\"always the commoner\")\n"
                      "ax.set_xticks(x, [p.feature for p in probes], rotation=20, fontsize=8)\n"
                      "ax.set_ylabel(\"held-out score\")\nax.legend(fontsize=8)\nplt.show()"),
        new_markdown_cell("## Steering along a probe\n\nα times the probe's direction is added to the state after "
                          "every character while sampling (temperature 0.8); α = 0, from the same seed, is the plain "
                          "sample."),
        new_code_cell(f"feature, alpha, seed, prime = {feature!r}, {alpha!r}, {seed}, {prime!r}\n"
                      "chosen = next((p for p in probes if p.feature == feature), probes[0])\n"
                      "samples = {a: steered_sample(run.model, run.vocab, prime, chosen, a, 240, 0.8, seed) "
                      "for a in (0.0, alpha)}\n"
                      "for a, sample in samples.items():\n    print(f\"α = {a:g}\\n{sample}\\n\")"),
    ], ("{\"part\": \"probes\", \"layer\": layer, \"state\": state,\n"
        "           \"probes\": {p.feature: {\"score\": p.score, \"unit_score\": p.unit_score, \"unit\": p.unit,\n"
        "                                 \"baseline\": p.baseline} for p in probes},\n"
        "           \"steered\": {\"feature\": chosen.feature, \"alpha\": alpha, \"plain\": samples[0.0],\n"
        "                       \"sample\": samples[alpha]}}")


@view("why")
def why_cells(settings: dict, source: Source) -> list:
    """/why, the part its link holds: attribution and its deletion curve, the memory diff (and the three
    architectures on the memory task), a patch across time, or the probes and a steered sample."""
    part = settings.get("part") if settings.get("part") in WHY_PARTS else "attribution"
    cells, figures = {"attribution": _why_attribution, "memory": _why_memory, "patch": _why_patch,
                      "probes": _why_probes}[part](settings)
    titles = {"attribution": "which characters made it", "memory": "the memory diff", "patch": "patching across time",
              "probes": "probes and steering"}
    return opening(f"Why this character ({titles[part]}): {_run_name(source)}",
                   "Why a character model predicted what it did, and what its state carries forward.", "why",
                   settings, source) + load_cells(source) + cells + figures_cell(figures)
