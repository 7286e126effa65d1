"""Each architecture's own training settings on text, found by the sweep the project ships, kept as data.

``python -m lstm_core sweep --arch gru ...`` (:mod:`lstm_core.arena`) trains one architecture at several
learning rates (and gradient clips) on the full Molière corpus, scores each on validation text, and records
the best in ``data/measured/arch_settings.json``, with every point it tried, the command, the date and the
machine (the seed notebook's loop's characters per second on it, for scale)::

    tuned_settings("gru")                  -> {"lr": 0.005, "grad_clip": 1.0}   ({} when never swept)
    tuned_settings("lstm", "coupled_gates")

:func:`~lstm_core.training.char.preset_config` lays these over the preset they were swept with (the
``default`` preset) and under anything the caller sets, so ``train --arch gru``, the Train page and /compare
on text train each architecture at its own best learning rate unless told otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path

SETTINGS_FILE = Path(__file__).resolve().parent.parent.parent / "data" / "measured" / "arch_settings.json"
TUNED_KEYS = ("lr", "grad_clip")  # the settings a sweep chooses
SWEPT_PRESET = "default"  # the preset whose shape (batch, window, schedule) the sweep trains


def arch_key(architecture: str, variant: str = "standard") -> str:
    """How the settings file names an architecture: "lstm", "gru", "rnn", "lstm/coupled_gates"."""
    return architecture if variant == "standard" else f"{architecture}/{variant}"


def read_settings(path: Path | None = None) -> dict:
    """The whole file ({} when missing or unreadable: every architecture then trains at the preset's settings)."""
    try:
        data = json.loads(Path(path or SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def tuned_record(architecture: str, variant: str = "standard", path: Path | None = None) -> dict | None:
    """The sweep's record of one architecture (chosen settings, every point, command, machine), or None."""
    record = read_settings(path).get(arch_key(architecture, variant))
    return record if isinstance(record, dict) and isinstance(record.get("chosen"), dict) else None


def tuned_settings(architecture: str, variant: str = "standard", path: Path | None = None) -> dict:
    """The settings the sweep chose for this architecture (only the keys it tunes); {} when never swept."""
    record = tuned_record(architecture, variant, path)
    if record is None:
        return {}
    return {name: record["chosen"][name] for name in TUNED_KEYS if name in record["chosen"]}


def tuned_line(architecture: str, variant: str = "standard", path: Path | None = None) -> str:
    """One sentence on where the settings come from; empty when the architecture was never swept."""
    record = tuned_record(architecture, variant, path)
    if record is None:
        return ""
    chosen = record["chosen"]
    clip = "no clipping" if chosen.get("grad_clip") is None else f"gradient clip {chosen['grad_clip']:g}"
    return (f"learning rate {chosen['lr']:g} and {clip}: the best of {len(record.get('points', []))} settings "
            f"tried on validation text by `{record.get('command', 'python -m lstm_core sweep')}` "
            f"({record.get('date', 'date unknown')})")
