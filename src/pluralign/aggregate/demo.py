"""Demo stages ``aggregate`` and ``constitution`` (plugged into :mod:`pluralign.demo`).

``aggregate`` reads the demo assembly from the store, writes the usual aggregate outputs into
``aggregate/`` and ``recovery.json``: how well the opinion groups and the consensus statements
match the simulator's ``truth.json``. ``constitution`` drafts ``constitution/constitution.yaml``
and ``constitution.md`` from the same votes.
"""

from __future__ import annotations

import json
from typing import Any

AGGREGATE_SETTINGS: dict[str, Any] = {"min_votes": 7}
CONSTITUTION_SETTINGS: dict[str, Any] = {"embedder": "auto", "title": "Demo assembly constitution"}


def _result(ctx, db: str, slug: str):
    from pluralign.aggregate import AggregateSettings, aggregate, from_store

    cached = ctx.shared.get("aggregate")
    if cached is not None:
        return cached
    settings = AggregateSettings(min_votes=int(ctx.settings.get("min_votes", 7)))
    result = aggregate(from_store(db, slug), seed=ctx.seed, settings=settings)
    ctx.shared["aggregate"] = result
    return result


def recovery(result, truth: dict) -> dict[str, Any]:
    """Group ARI and consensus precision/recall against the simulator's truth."""
    from pluralign.aggregate.truth import group_agreement, precision_recall
    from pluralign.constitution import DraftSettings, candidates

    ids = {g["id"]: i for i, g in enumerate(truth["groups"])}
    groups = {int(p["participant"]): ids[p["group"]] for p in truth["participants"]}
    ari, compared = group_agreement(result, groups)
    found = [int(result.matrix.statements[j]) for j in candidates(result, DraftSettings())]
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
        "note": "consensus found = statements passing the constitution thresholds "
        "(docs/algorithms.md section 7)",
    }


def stage_aggregate(ctx, db: str, slug: str) -> None:
    from pluralign.aggregate.outputs import write_outputs

    result = _result(ctx, db, slug)
    write_outputs(result, ctx.out, title="demo assembly")
    truth_path = ctx.stage_dir("simulate") / "truth.json"
    if truth_path.is_file():
        rec = recovery(result, json.loads(truth_path.read_text()))
        (ctx.out / "recovery.json").write_text(json.dumps(rec, indent=2) + "\n")


def stage_constitution(ctx, db: str, slug: str) -> None:
    from pluralign.constitution import DraftSettings, draft_constitution, write_constitution

    result = _result(ctx, db, slug)
    settings = DraftSettings(embedder=str(ctx.settings.get("embedder", "auto")))
    constitution = draft_constitution(
        result, settings=settings, title=str(ctx.settings.get("title", "Constitution"))
    )
    write_constitution(constitution, ctx.out)
