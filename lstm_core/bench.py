"""``python -m lstm_core bench``: the project's speed against the seed notebook's own loop, in one run.

Everything is measured in the same process, one after the other, so the ratios compare like with
like on whatever machine runs it:

1. the seed's loop (batch 1, 100-character windows, hidden 128, AdamW 1e-3) for 60 s on the full
   corpus: its throughput and the validation loss it reaches (the bar is 1.63 nats/char);
2. the seed's model trained by the batched trainer: throughput ratio;
3. the ``default`` preset given budgets of 6, 9 and 12 s: the validation loss each reaches;
4. the ``default`` preset given 60 s: the validation loss it reaches (target 1.40);
5. an exact gate trace of 1,000 characters through a 2-layer, 256-unit model (target < 50 ms);
6. sampling speed in characters per second;
7. page-ready time of ``/gates`` with 500 characters on a 2-layer, 256-unit model, in Chromium
   against a warm server (target < 3 s; skipped with a note where Chromium is missing);
8. interaction latency in Chromium (``scripts/interaction_latency.py``): every control's median and
   maximum time from its change to the last change on screen, beside a minimal Streamlit page's
   floor timed in the same run (target: median at most 0.3 s and at most twice the floor), and the
   pages' first loads. ``--quick`` times a few controls, 3 times each;
9. the server's CPU seconds per warm page view (``scripts/view_cost.py``: fresh sessions through Streamlit's
   protocol, the caches filled), beside a minimal Streamlit page's (target: at most 0.05 s for /gates and /generate).

``--quick`` shortens every budget (x0.2) and times the page once, so the whole bench takes a few minutes. Validation losses are
measured on the whole validation split (168,729 characters) with :func:`~lstm_core.training.char.evaluate_loss`.
"""

from __future__ import annotations

import json
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from .corpus import load_corpus
from .model import CharModel, ModelConfig
from .sampling import sample
from .seed_loop import seed_loop
from .trace import trace
from .training.char import CharTraining, evaluate_loss, preset_config

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"

SEED_BAR = 1.63  # validation loss that 60 s of the seed's loop reaches on the full corpus
REQUIRED_SECONDS, TARGET_SECONDS, TARGET_60S_LOSS, TARGET_TRACE_MS = 12.0, 6.0, 1.40, 50.0


def trained_loss(preset: str, seconds: float, corpus, **overrides) -> tuple[float, float, CharTraining]:
    """Train ``preset`` for a budget of ``seconds``; returns (full validation loss, chars/s, training)."""
    config = preset_config(preset, max_seconds=seconds, eval_every_seconds=1e9, preview_every_seconds=1e9,
                           **overrides)
    training = CharTraining(config, corpus=corpus)
    training.run()  # the one training loop; its final evaluation reads the whole validation split
    chars = sum(config.batch_size * config.seq_len for _ in training.rows)
    return training.full_valid_loss, chars / training.train_seconds, training


def time_trace(chars: int = 1000, repeats: int = 15) -> float:
    """Median milliseconds to trace ``chars`` characters through a 2-layer, 256-unit model."""
    corpus = load_corpus("seed")
    torch.manual_seed(0)
    model = CharModel(ModelConfig(len(corpus.vocab), hidden_size=256, num_layers=2, embedding_dim=64)).eval()
    text = corpus.valid_text[:chars]
    trace(model, corpus.vocab, text)  # warm up
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        trace(model, corpus.vocab, text)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def sampling_speed(model, vocab, length: int = 2000) -> float:
    started = time.perf_counter()
    sample(model, vocab, "\n", length, temperature=0.8, seed=0)
    return length / (time.perf_counter() - started)


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def run_bench(quick: bool = False) -> int:
    scale = 0.2 if quick else 1.0
    seed_seconds, default_long = 60.0 * scale, 60.0 * scale
    budgets = [6.0 * scale, 9.0 * scale, 12.0 * scale]
    quick_note = " (quick: every budget x0.2; the loss bar is what the seed loop reached in its 12 s)" if quick else ""
    print(f"LSTM Lab bench{quick_note}: "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()}")
    corpus = load_corpus("full")
    train_ids = torch.tensor(corpus.vocab.encode(corpus.train_text), dtype=torch.long)
    valid_ids = torch.tensor(corpus.vocab.encode(corpus.valid_text), dtype=torch.long)

    # 1. the seed notebook's loop, as written
    seed_model, seed = seed_loop(train_ids, valid_ids, len(corpus.vocab), max_seconds=seed_seconds, epochs=100)
    seed_rate = seed["chars"] / seed["seconds"]
    seed_valid = evaluate_loss(_as_char_model(seed_model, corpus), valid_ids)
    bar = seed_valid if quick else SEED_BAR  # the quick run's seed loop has a fifth of the time
    print(f"seed loop: {seed['seconds']:.0f} s, {seed_rate:,.0f} chars/s, validation loss {seed_valid:.3f} "
          f"(the bar: {bar:.3f})")

    # 2. the seed's model through the batched trainer
    _, batched_rate, _ = trained_loss("seed", 10.0 * scale, corpus, batch_size=64)
    print(f"seed model, batched trainer (batch 64): {batched_rate:,.0f} chars/s = "
          f"{batched_rate / seed_rate:.1f}x the seed loop")

    # 3-4. the default preset on the full corpus
    reached = None
    for budget in budgets:
        loss, rate, _ = trained_loss("default", budget, corpus)
        print(f"default preset, {budget:g} s budget: validation loss {loss:.3f} ({rate:,.0f} chars/s)")
        if reached is None and loss <= bar:
            reached = budget
    required, target = REQUIRED_SECONDS * scale, TARGET_SECONDS * scale
    if reached is None:
        print(f"time to validation loss {bar:.3f}: more than {budgets[-1]:g} s; required <= {required:g} s: NOT met")
    else:
        print(f"time to validation loss {bar:.3f}: <= {reached:g} s = {seed_seconds / reached:.0f}x faster than "
              f"the seed loop; required <= {required:g} s: {verdict(reached <= required)}; "
              f"target {target:g} s: {verdict(reached <= target)}")
    long_loss, _, long_training = trained_loss("default", default_long, corpus)
    print(f"default preset, {default_long:.0f} s: validation loss {long_loss:.3f} vs the seed loop's "
          f"{seed_valid:.3f} in the same time" + ("" if quick else
          f"; target {TARGET_60S_LOSS}: {verdict(long_loss <= TARGET_60S_LOSS)}"))

    # 5-6. tracing and sampling
    trace_ms = time_trace()
    print(f"trace of 1,000 characters, 2 layers x 256 units: {trace_ms:.1f} ms (median); target < "
          f"{TARGET_TRACE_MS:.0f} ms: {verdict(trace_ms < TARGET_TRACE_MS)}")
    rate = sampling_speed(long_training.model.eval(), corpus.vocab)
    print(f"sampling: {rate:,.0f} chars/s with the {long_training.config.hidden_size}-unit default model")

    # 7. the /gates page in a real browser
    try:
        ready = gates_page_ready(repeats=1 if quick else 3)
    except Exception as err:  # noqa: BLE001 - the browser part is optional where Chromium is missing
        print(f"/gates page ready: not measured ({type(err).__name__}: {err})")
    else:
        print(f"/gates page ready, 500 characters, 2 x 256 units: {ready['page_ready_seconds']:.2f} s (all 500 steps "
              f"{ready['every_step_seconds']:.2f} s, home page {ready['home_page_seconds']:.2f} s); "
              f"target < 3 s: {verdict(ready['page_ready_seconds'] < 3.0)}")

    # 8. every control's latency in a real browser, beside a minimal Streamlit page
    try:
        latency = run_script("interaction_latency.py", *(["--quick"] if quick else []))
    except Exception as err:  # noqa: BLE001 - the browser part is optional where Chromium is missing
        print(f"interaction latency: not measured ({type(err).__name__}: {err})")
    else:
        print_latency(latency)

    # 9. what a warm page view costs the server, beside the latency table
    try:
        cost = run_script("view_cost.py", "--views", "8" if quick else "20")
    except Exception as err:  # noqa: BLE001 - it starts an app server, which a bare machine may not run
        print(f"server CPU per warm view: not measured ({type(err).__name__}: {err})")
    else:
        print_view_cost(cost["after"])
    return 0


def print_view_cost(result: dict) -> None:
    """Server CPU seconds per warm page view (scripts/view_cost.py), the minimal Streamlit page's beside them."""
    print("server CPU per warm page view (fresh protocol sessions, the caches filled; target <= 0.05 s for /gates "
          "and /generate):")
    for page, row in result.items():
        judged = page.split(" ")[0] in ("/gates", "/generate")
        print(f"  {page:<24} {row['cpu_per_view']:.3f} CPU-s" + (f": {verdict(row['cpu_per_view'] <= 0.05)}"
                                                                   if judged else ""))


def print_latency(result: dict) -> None:
    """The interaction-latency rows: median and max seconds, the floor beside them, and the verdict."""
    print(f"interaction latency in Chromium (median and max of {result['repeats']}; floor: a minimal Streamlit "
          f"page, {result['floor_seconds']:.3f} s a slider change and {result['floor_load_seconds']:.3f} s a load "
          f"in this run); target: median <= {result['target_seconds']:g} s and <= {result['floor_ratio']:g}x floor")
    for row in result["rows"]:
        if row["page"] == "floor":
            continue
        if row["median"] is None:
            print(f"  {row['page']:<24} {row['control']:<30} not measured: {row['error'] or 'no data'}")
            continue
        ratio = "" if row["ratio"] is None else f" ({row['ratio']:.1f}x floor)"
        print(f"  {row['page']:<24} {row['control']:<30} {row['median']:.3f} s, max {row['max']:.2f} s{ratio}: "
              f"{row['verdict']}")


def gates_page_ready(repeats: int = 3) -> dict:
    """Page-ready seconds of /gates (a real server and Chromium): ``scripts/page_ready.py --json``,
    run as its own process (the measuring scripts drive a browser; the core does not import them)."""
    return run_script("page_ready.py", "--repeats", str(repeats))


def run_script(name: str, *args: str) -> dict:
    """Run ``scripts/<name> ... --json FILE`` and return what it wrote; RuntimeError if it fails."""
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "result.json"
        done = subprocess.run([sys.executable, str(SCRIPTS / name), *args, "--json", str(out)], cwd=SCRIPTS.parent,
                              capture_output=True, text=True)
        if done.returncode != 0 or not out.is_file():
            raise RuntimeError((done.stderr or done.stdout).strip().splitlines()[-1:] or f"{name} failed")
        return json.loads(out.read_text(encoding="utf-8"))


def _as_char_model(seed_model, corpus) -> CharModel:
    """The seed's model re-housed in :class:`CharModel` (same weights) so one evaluation serves both."""
    hidden = seed_model.hidden_size
    model = CharModel(ModelConfig(len(corpus.vocab), hidden_size=hidden, num_layers=1, embedding_dim=None))
    model.embedding.load_state_dict(seed_model.embedding.state_dict())
    model.lstm.load_state_dict(seed_model.lstm.state_dict())
    model.head.load_state_dict(seed_model.fc.state_dict())
    return model.eval()
