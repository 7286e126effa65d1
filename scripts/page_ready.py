"""Page-ready time of /gates: a 500-character text through a 2-layer, 256-unit model, in a real browser.

Starts ``streamlit run app.py`` on a free port with a throw-away run store holding such a model,
opens /gates once in Chromium to warm the server, then times fresh page loads until the script has
finished and every chart is drawn: the default view of a 500-character validation passage (first
160 steps in the heatmaps), and the same with all 500 steps and 64 units per heatmap. The home
page is timed in the same run for scale. Target: under 3 s once the server is warm.

    python scripts/page_ready.py [--repeats 3]       prints the seconds
    measure_gates_page_ready(repeats=3) -> dict      what ``python -m lstm_core bench`` calls
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
from scripts.app_server import start_app_server, stop_app_server  # noqa: E402
from scripts.browser import launch  # noqa: E402

TEXT_LENGTH, LAYERS, HIDDEN = 500, 2, 256
TARGET_SECONDS = 3.0
CHARTS_ON_PAGE = 8  # six heatmaps, surprisal, saturation; the cell update is the Cell lab's diagram (an SVG)
CHARTS = ".js-plotly-plot .main-svg, .gate-heatmap img, .token-line img, .saturation-scatter img"  # drawn: images loaded


def save_bench_model(store_root: Path) -> str:
    """An untrained 2-layer, 256-unit model on the Molière vocabulary (the time does not depend on training)."""
    import torch

    import lstm_core
    from lstm_core.runs import save_weights

    vocab = json.loads((lstm_core.PRETRAINED_DIR / "config.json").read_text(encoding="utf-8"))["vocab"]
    torch.manual_seed(0)
    config = lstm_core.ModelConfig(len(vocab), hidden_size=HIDDEN, num_layers=LAYERS)
    store = lstm_core.RunStore(store_root)
    path = store.create("page-ready bench", {"kind": "char", "model": config.to_dict(), "vocab": vocab,
                                             "train": {"corpus": "full"}})
    save_weights(lstm_core.CharModel(config), path / "model.safetensors")
    store.update(path, status="saved")
    return path.name


def load_and_wait(tab, url: str, charts: int = CHARTS_ON_PAGE) -> float:
    """Seconds from navigation until the script has finished and ``charts`` charts (and, on /gates, the
    cell update) are drawn."""
    started = time.perf_counter()
    tab.goto(url)
    tab.wait_for_function(
        "n => document.querySelector('[data-testid=stApp][data-test-script-state=notRunning]') !== null"
        " && Array.from(document.querySelectorAll(CHARTS)).filter(c => c.tagName !== 'IMG' || c.complete).length >= n"
        " && (n === 0 || document.querySelector('.cell-lab .cl-diagram svg') !== null)"
        .replace("CHARTS", json.dumps(CHARTS)), arg=charts, timeout=120_000, polling=20)
    return time.perf_counter() - started


def measure_gates_page_ready(repeats: int = 3, quiet: bool = True) -> dict:
    """Page-ready seconds of /gates (500 characters, every step shown, 2 × 256 units), warm server."""
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="lstm-lab-page-ready-") as folder:
        root = Path(folder)
        run_id = save_bench_model(root / "runs")
        server, base = start_app_server(root / "runs", root / "streamlit.log")
        default_view = (f"{base}/gates?run={run_id}&passage=0&length={TEXT_LENGTH}"  # first 160 steps, 32 units,
                        "&saturation=true")  # and the saturation scatter, drawn only when its section is open
        every_step = f"{default_view}&from=0&to={TEXT_LENGTH}&top=64"  # all 500 steps, 64 units a map
        try:
            with sync_playwright() as playwright:
                browser = launch(playwright)
                tab = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                warm = load_and_wait(tab, every_step)  # imports, first trace, caches
                times, full, home = [], [], []
                for _ in range(repeats):
                    times.append(load_and_wait(tab, default_view))
                    full.append(load_and_wait(tab, every_step))
                    home.append(load_and_wait(tab, f"{base}/", charts=0))  # the app's lightest page, for scale
                    if not quiet:
                        print(f"  /gates ready in {times[-1]:.2f} s, every step shown {full[-1]:.2f} s "
                              f"(home page {home[-1]:.2f} s)", flush=True)
                browser.close()
        finally:
            stop_app_server(server)
    return {"page_ready_seconds": statistics.median(times), "runs": times, "cold_seconds": warm,
            "every_step_seconds": statistics.median(full),
            "home_page_seconds": statistics.median(home), "load_average": os.getloadavg()[0],
            "text_length": TEXT_LENGTH, "layers": LAYERS, "hidden": HIDDEN, "target_seconds": TARGET_SECONDS}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    result = measure_gates_page_ready(args.repeats, quiet=False)
    if args.json:
        Path(args.json).write_text(json.dumps(result), encoding="utf-8")
    verdict = "meets" if result["page_ready_seconds"] < TARGET_SECONDS else "misses"
    print(f"/gates page ready (median of {args.repeats}, warm server): {result['page_ready_seconds']:.2f} s "
          f"({verdict} the {TARGET_SECONDS:.0f} s target); all {TEXT_LENGTH} steps in the heatmaps "
          f"{result['every_step_seconds']:.2f} s; first load {result['cold_seconds']:.2f} s; "
          f"home page {result['home_page_seconds']:.2f} s in the same run; load average {result['load_average']:.1f}")
    print(f"{result['page_ready_seconds']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
