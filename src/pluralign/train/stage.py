"""Training as a run stage: ``run(inputs, settings, seed) -> TrainResult``.

Weighted preference training of the base model on the run's training pairs (``curve.jsonl``,
``model/``, ``train_manifest.json``, ``summary.json``). Training writes into its folder while it
runs (checkpoints: a killed run resumes from the last one), so the inputs name that folder;
:meth:`TrainResult.read` reads a finished training back from it, so a resumed run hands the
trained model on without training again. ``pluralign train`` calls the same ``run``.
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pluralign.contract import StageSpec
from pluralign.train.api import TrainResult
from pluralign.train.settings import TrainSettings


@dataclass(frozen=True)
class TrainInputs:
    """The training pairs (a preference JSONL), the base model (a checkpoint folder, or
    ``smollm2``), the folder training writes into and how it shows itself."""

    data: Path
    base: Path
    out: Path
    resume: bool | None = None
    """Continue from the last checkpoint in ``out/checkpoints``; None: when there is one."""
    console: Any = None
    """The rich console of the progress bar (None: no bar)."""
    log: str | None = None
    """File name in ``out`` that whatever the libraries print goes to (None: stdout)."""


def run(inputs: TrainInputs, settings: TrainSettings, seed: int) -> TrainResult:
    """Weighted preference training of the base model (curve.jsonl, model/, summary.json);
    resumes from the last checkpoint of a killed run."""
    from pluralign.train import quiet_libraries, train_preferences
    from pluralign.train.config import config_of

    quiet_libraries()
    out = Path(inputs.out)
    resume = inputs.resume
    if resume is None:
        resume = any((out / "checkpoints").glob("checkpoint-*"))
    config = config_of(settings, seed)

    def train() -> TrainResult:
        return train_preferences(inputs.data, inputs.base, config, out, resume=resume,
                                 progress=inputs.console is not None, console=inputs.console)

    if inputs.log is None:
        return train()
    # whatever the libraries print goes to the log (the curve is in curve.jsonl); the bar of
    # the training steps and loss draws on the console, which must keep pointing at the
    # terminal rather than at the log that stdout is redirected to
    console = inputs.console
    pinned = getattr(console, "file", None)
    if console is not None:
        console.file = pinned
    out.mkdir(parents=True, exist_ok=True)
    try:
        with open(out / inputs.log, "a", encoding="utf-8") as log, \
                contextlib.redirect_stdout(log):
            return train()
    finally:
        if console is not None:
            console.file = None if pinned is sys.stdout else pinned


STAGE = StageSpec("train", TrainSettings, run, TrainResult, reads=("data", "model"))
