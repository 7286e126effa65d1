"""What gate snapshots cost: storage per minute of training, and training throughput with them on and off.

1. Storage: the preset trains for ``--seconds`` of training (60 by default) in this process, as the
   command line does, and every snapshot its store writes is counted: bytes written per minute of
   training, and what the run folder keeps once thinned.
2. Throughput: one training of the preset, its snapshots turned on and off in legs of ``--leg``
   seconds of training (on, off, off, on, on, off...) (the same run, the same machine, the same minutes, so the machine's
   other work weighs on both alike), measured as characters trained per CPU-second of this process (the
   tracing, the summaries and the writing included, evaluations and previews in both). The ratio
   off/on is what snapshots cost the training.

    python scripts/snapshot_cost.py --preset default --seconds 60 --legs 12 --leg 6
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

import lstm_core  # noqa: E402
from lstm_core.execution.background import configure_torch_threads  # noqa: E402
from lstm_core.snapshots import EVERY_SECONDS, SnapshotStore  # noqa: E402


class CountingStore(lstm_core.RunStore):
    """A run store that counts the snapshots it writes, their bytes and the time spent writing them."""

    def __init__(self, root):
        super().__init__(root)
        self.snapshots, self.bytes, self.write_seconds = 0, 0, 0.0

    def write_snapshot(self, path, snapshot) -> int:
        started = time.perf_counter()
        written = super().write_snapshot(path, snapshot)
        self.write_seconds += time.perf_counter() - started
        self.snapshots += 1
        self.bytes += written
        return written


def storage(preset: str, seconds: float, root: Path) -> None:
    store = CountingStore(root)
    training = lstm_core.CharTraining(lstm_core.preset_config(preset, max_seconds=seconds), store=store, name="storage")
    traced = []  # CPU seconds of each snapshot: traced, summarised, written and thinned
    original = training.snapshot

    def timed():
        started = time.process_time()
        snapshot = original()
        traced.append(time.process_time() - started)
        return snapshot

    training.snapshot = timed
    wall, cpu = time.perf_counter(), time.process_time()
    training.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    kept = SnapshotStore(training.run_dir)
    minutes = training.train_seconds / 60
    per = store.bytes / max(1, store.snapshots)
    print(f"storage, preset {preset}: {store.snapshots} snapshots in {training.train_seconds:.1f} s of training "
          f"({wall:.1f} s wall), {per / 1e3:,.0f} kB each")
    print(f"  written: {store.bytes / 1e6:.1f} MB, {store.bytes / 1e6 / minutes:.1f} MB per minute of training")
    print(f"  kept in the run folder: {len(kept.files())} snapshots, {kept.bytes_used() / 1e6:.1f} MB "
          f"(bounds: {kept.max_snapshots} snapshots, {kept.max_bytes / 1e6:.0f} MB)")
    print(f"  each snapshot: {1e3 * sum(traced) / len(traced):.0f} ms of CPU, {1e3 * store.write_seconds / store.snapshots:.0f}"
          " ms of it writing and thinning (the store owner's part)")
    print(f"  the snapshots' share of the whole run's CPU time (training, evaluations, previews, snapshots): "
          f"{sum(traced):.2f} of {cpu:.1f} CPU-s = {sum(traced) / cpu:.1%}")


def throughput(preset: str, legs: int, leg: float, root: Path, verbose: bool = False) -> None:
    config = lstm_core.preset_config(preset, max_seconds=legs * leg + 1.0)
    training = lstm_core.CharTraining(config, store=lstm_core.RunStore(root), name="throughput")
    chars_per_step = config.batch_size * config.seq_len
    totals = {True: [0, 0.0, 0], False: [0, 0.0, 0]}  # snapshots on -> [steps, CPU seconds, snapshots]
    leg_rates = {True: [], False: []}
    taken = [0]
    original = training.snapshot

    def counted():
        snapshot = original()
        taken[0] += snapshot is not None
        return snapshot

    training.snapshot = counted
    training.config.snapshot_every_seconds = None
    for _ in range(20):  # warm up (the optimizer's first step loads torch._dynamo: seconds of CPU) before measuring
        training.step()
    for index in range(legs):
        on = index % 4 in (0, 3)  # on, off, off, on, ...: a drift of the machine's load weighs on both alike
        training.config.snapshot_every_seconds = EVERY_SECONDS if on else None
        if on:  # the next snapshot comes when it would have in an unbroken run
            training.last_snapshot_at, training.last_snapshot_step = training.train_seconds, training.step_count
        end = training.train_seconds + leg
        steps, cpu, snaps = training.step_count, time.process_time(), taken[0]
        training.run(should_stop=lambda end=end: training.train_seconds >= end)
        totals[on][0] += training.step_count - steps
        totals[on][1] += time.process_time() - cpu
        totals[on][2] += taken[0] - snaps
        leg_rates[on].append((training.step_count - steps) * chars_per_step / (time.process_time() - cpu))
        if verbose:
            print(f"    leg {index + 1:2d}, snapshots {'on ' if on else 'off'}: {leg_rates[on][-1]:,.0f} chars per "
                  f"CPU-second, {taken[0] - snaps} snapshots", flush=True)
    rates = {on: steps * chars_per_step / cpu for on, (steps, cpu, _) in totals.items()}
    pairs = [a / b for a, b in zip(leg_rates[True], leg_rates[False])]  # neighbouring legs, on over off
    print(f"throughput, preset {preset}: {legs} alternating legs of {leg:g} s of training, one run, "
          f"{os.cpu_count()} CPUs, {lstm_core.execution.background.TRAINING_THREADS} torch thread(s)")
    for on in (False, True):
        steps, cpu, snaps = totals[on]
        print(f"  snapshots {'on ' if on else 'off'}: {rates[on]:,.0f} characters per CPU-second "
              f"({steps:,} steps, {cpu:.1f} CPU-s, {snaps} snapshots)")
    print(f"  ratio on/off: {rates[True] / rates[False]:.3f} (snapshots cost {1 - rates[True] / rates[False]:.1%} "
          "of the training's throughput per CPU-second); median of the neighbouring legs' ratios "
          f"{statistics.median(pairs):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="default", choices=list(lstm_core.PRESETS))
    parser.add_argument("--seconds", type=float, default=60.0, help="training seconds of the storage run")
    parser.add_argument("--legs", type=int, default=12, help="legs of the throughput run (a multiple of 4: on, "
                                                              "off, off, on...)")
    parser.add_argument("--leg", type=float, default=6.0, help="training seconds of each leg")
    parser.add_argument("--skip-storage", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="print every leg's figure")
    args = parser.parse_args()
    configure_torch_threads(lstm_core.execution.background.TRAINING_THREADS)  # one training's share, as in a worker
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_storage:
            storage(args.preset, args.seconds, Path(folder) / "storage")
        throughput(args.preset, args.legs, args.leg, Path(folder) / "throughput", args.verbose)


if __name__ == "__main__":
    main()
