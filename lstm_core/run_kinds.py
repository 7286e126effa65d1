"""The kinds of run, registered by the trainings that make them.

The run store (:mod:`lstm_core.runs`) knows files; what model a run holds comes from here. Each kind
says how its untrained model is built from the settings saved in ``config.json`` (``config["model"]``)
and what its loss is averaged over. A training registers its kind when its module is imported, and
``lstm_core``'s ``__init__`` imports every training, so any entry point (the command line, the app,
the tests) loads any run::

    MEMORY_RUNS = register(RunKind("memory", CharModel, ModelConfig, loss_per="recalled symbol"))
    model = build_model(config)     # config.json of any registered kind

This module imports nothing of ``lstm_core``: it sits below the store and the trainings alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

DEFAULT_KIND = "char"  # a run saved without a kind (runs older than the kinds) is a character model


@dataclass(frozen=True)
class RunKind:
    """One kind of run: its name in ``config.json``, its model and settings classes, its loss's unit."""

    name: str
    model: type[torch.nn.Module]  # built as model(settings(**config["model"]))
    settings: type
    loss_per: str  # what its loss is averaged over: the loss is in nats per this

    def build_model(self, settings: dict) -> torch.nn.Module:
        return self.model(self.settings(**settings))


KINDS: dict[str, RunKind] = {}  # a run's kind -> its entry, filled by the trainings' modules


def register(kind: RunKind) -> RunKind:
    """Make a kind of run known to the store (a training's module calls it once, at import)."""
    KINDS[kind.name] = kind
    return kind


def kind_of(config: dict) -> RunKind:
    """The registered kind of a run's config (ValueError for a kind no training registered)."""
    name = config.get("kind", DEFAULT_KIND)
    if name not in KINDS:
        raise ValueError(f"unknown kind of run {name!r}")
    return KINDS[name]


def build_model(config: dict) -> torch.nn.Module:
    """The untrained model a run's config describes (character models, or a task's model)."""
    return kind_of(config).build_model(config["model"])


def loss_per(kind: str | None, unknown: str = "item") -> str:
    """What a kind's loss is averaged over ("character", "word"...); ``unknown`` for a kind not registered."""
    entry = KINDS.get(kind or DEFAULT_KIND)
    return entry.loss_per if entry else unknown
