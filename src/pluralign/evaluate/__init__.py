"""Evaluation: held-out preference accuracy per group from implicit reward margins, worst-group
gap, before vs after training, percentile-bootstrap intervals (docs/evaluation.md)."""

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

__all__ = [
    "EvaluationResult", "GapResult", "GapScore", "GroupScore", "Interval", "PairedBootstrap",
    "bootstrap_accuracy", "evaluate_margins", "evaluate_models", "pair_scores", "paired_bootstrap",
    "preference_accuracy", "worst_group_gap",
]
