"""Evaluation: held-out preference accuracy per group from implicit reward margins, worst-group
gap, before vs after training, percentile-bootstrap intervals (docs/evaluation.md).

Names load lazily so that ``pluralign --help`` does not import numpy."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "pluralign.evaluate.metrics": (
        "GapResult",
        "Interval",
        "PairedBootstrap",
        "bootstrap_accuracy",
        "pair_scores",
        "paired_bootstrap",
        "preference_accuracy",
        "worst_group_gap",
    ),
    "pluralign.evaluate.run": (
        "EvaluationResult",
        "GapScore",
        "GroupScore",
        "evaluate_margins",
        "evaluate_models",
    ),
}
__all__ = sorted(name for names in _EXPORTS.values() for name in names)


def __getattr__(name: str) -> Any:
    for module, names in _EXPORTS.items():
        if name in names:
            return getattr(importlib.import_module(module), name)
    raise AttributeError(f"module 'pluralign.evaluate' has no attribute {name!r}")
