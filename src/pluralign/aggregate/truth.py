"""Compare an aggregation with known truth (the simulator's ``truth.json``, or Polis's own
``group-id``): adjusted Rand index of groups, precision and recall of consensus statements."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from pluralign.aggregate.consensus import ConsensusRule
from pluralign.aggregate.pipeline import AggregateResult


def group_agreement(result: AggregateResult, truth: Mapping[int, int]) -> tuple[float, int]:
    """Adjusted Rand index (Hubert & Arabie 1985) between the opinion groups and ``truth``
    (participant → group), over participants both assign; returns (ARI, participants compared)."""
    from sklearn.metrics import adjusted_rand_score

    ours, theirs = [], []
    for p, g in zip(result.matrix.participants, result.groups, strict=True):
        t = truth.get(int(p))
        if g >= 0 and t is not None and not (isinstance(t, float) and np.isnan(t)):
            ours.append(int(g))
            theirs.append(int(t))
    if not ours:
        return float("nan"), 0
    return float(adjusted_rand_score(theirs, ours)), len(ours)


def precision_recall(found: Iterable[int], truth: Iterable[int]) -> tuple[float, float]:
    """Precision and recall of ``found`` statement ids against ``truth`` ids (1.0 when empty)."""
    found, truth = {int(x) for x in found}, {int(x) for x in truth}
    hit = len(found & truth)
    precision = hit / len(found) if found else 1.0
    recall = hit / len(truth) if truth else 1.0
    return precision, recall


def recovery(result: AggregateResult, truth: Mapping[str, Any]) -> dict[str, Any]:
    """Group ARI and consensus precision/recall against the simulator's ``truth.json``.

    Consensus found = statements passing the default cross-group consensus rule
    (:class:`~pluralign.aggregate.consensus.ConsensusRule`, whose defaults the constitution's
    thresholds take); truth = ``truth["consensus"]``.
    """
    ids = {g["id"]: i for i, g in enumerate(truth["groups"])}
    groups = {int(p["participant"]): ids[p["group"]] for p in truth["participants"]}
    ari, compared = group_agreement(result, groups)
    columns = result.consensus_columns(ConsensusRule())
    found = [int(result.matrix.statements[j]) for j in columns]
    precision, recall = precision_recall(found, truth["consensus"])
    return {
        "latent_groups": len(truth["groups"]),
        "opinion_groups_found": result.n_groups,
        "group_ari": round(ari, 4),
        "participants_compared": compared,
        "true_consensus": len(truth["consensus"]),
        "consensus_found": len(found),
        "consensus_precision": round(precision, 4),
        "consensus_recall": round(recall, 4),
    }
