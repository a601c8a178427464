"""Evaluation: held-out preference accuracy per group from implicit reward margins, worst-group
gap, before vs after training, percentile-bootstrap intervals (docs/evaluation.md).

Names load lazily so that ``pluralign --help`` does not import numpy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pluralign.lazy import lazy_exports

_EXPORTS = {
    "GapResult": "pluralign.evaluate.metrics",
    "Interval": "pluralign.evaluate.metrics",
    "PairedBootstrap": "pluralign.evaluate.metrics",
    "bootstrap_accuracy": "pluralign.evaluate.metrics",
    "pair_scores": "pluralign.evaluate.metrics",
    "paired_bootstrap": "pluralign.evaluate.metrics",
    "preference_accuracy": "pluralign.evaluate.metrics",
    "worst_group_gap": "pluralign.evaluate.metrics",
    "EvaluationResult": "pluralign.evaluate.run",
    "GapScore": "pluralign.evaluate.run",
    "GroupScore": "pluralign.evaluate.run",
    "evaluate_margins": "pluralign.evaluate.run",
    "evaluate_models": "pluralign.evaluate.run",
}
__all__ = [
    "EvaluationResult",
    "GapResult",
    "GapScore",
    "GroupScore",
    "Interval",
    "PairedBootstrap",
    "bootstrap_accuracy",
    "evaluate_margins",
    "evaluate_models",
    "pair_scores",
    "paired_bootstrap",
    "preference_accuracy",
    "worst_group_gap",
]
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from pluralign.evaluate.metrics import (
        GapResult,
        Interval,
        PairedBootstrap,
        bootstrap_accuracy,
        pair_scores,
        paired_bootstrap,
        preference_accuracy,
        worst_group_gap,
    )
    from pluralign.evaluate.run import (
        EvaluationResult,
        GapScore,
        GroupScore,
        evaluate_margins,
        evaluate_models,
    )
