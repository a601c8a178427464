"""Results of the public evaluation: ratings with opinion groups, the ``public_eval.json``
document (:func:`results`) and the preference-pair export (:func:`preference_pairs`); the
statistics themselves are in :mod:`pluralign.publiceval.stats` (docs/public_eval.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pluralign.errors import N_, NotFoundError
from pluralign.publiceval.models import (
    PublicEvalClause,
    PublicEvalImpression,
    PublicEvalPrompt,
)
from pluralign.publiceval.service import get_eval, min_votes_of
from pluralign.store.models import Participant

RESULTS_FILE = "public_eval.json"


def _groups(store, slug: str, min_votes: int) -> dict[int, str]:
    from pluralign.web.results import opinion_groups

    res = opinion_groups(store, slug, min_votes=min_votes)  # cached for 20 s
    return {n: f"g{g}" for n, g in zip(res.participants, res.labels, strict=True)}


def rated_rows(store, slug: str) -> list[dict[str, Any]]:
    """Every rating with its prompt, clause, answers and the participant's opinion group."""
    from pluralign.store.queries import get_assembly

    with store.session() as s:
        assembly = get_assembly(s, slug)
        ev = get_eval(s, assembly)
        if ev is None:
            raise NotFoundError(
                N_("assembly '%(slug)s' has no public evaluation", slug=slug),
                hint=N_("attach two models first"),
            )
        min_votes = min_votes_of(assembly)
        rows = s.execute(
            select(PublicEvalImpression, PublicEvalPrompt, PublicEvalClause, Participant.number)
            .join(PublicEvalPrompt, PublicEvalPrompt.id == PublicEvalImpression.prompt_id)
            .join(PublicEvalClause, PublicEvalClause.id == PublicEvalImpression.clause_id)
            .join(Participant, Participant.id == PublicEvalImpression.participant_id)
            .where(PublicEvalImpression.eval_id == ev.id, PublicEvalImpression.choice.is_not(None))
            .order_by(PublicEvalImpression.id)
        ).all()
        out = [
            {
                "impression": imp.id,
                "participant": number,
                "prompt_id": p.key,
                "prompt": p.text,
                "clause_id": c.key,
                "clause": c.text,
                "answer_a": p.answer_a,
                "answer_b": p.answer_b,
                "choice": imp.choice,
                "a_first": imp.a_first,
            }
            for imp, p, c, number in rows
        ]
    groups = _groups(store, slug, min_votes) if out else {}
    for r in out:
        r["group"] = groups.get(r["participant"], "")
    return out


def ratings_of(rows: Sequence[Mapping[str, Any]]):
    from pluralign.publiceval.stats import Rating

    return [
        Rating(r["prompt"].strip(), r["clause_id"], str(r["participant"]), r["group"], r["choice"])
        for r in rows
    ]


def results(
    store,
    slug: str,
    *,
    judge_items: Sequence[Mapping] | None = None,
    n_boot: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """The ``public_eval.json`` document: scores overall, per clause and per opinion group,
    the people's verdict per prompt and, given the judge's items, the agreement with it.
    ``n_boot``: bootstrap resamples (None: the evaluation's default, ``stats.N_BOOT``)."""
    from pluralign import __version__
    from pluralign.publiceval import stats
    from pluralign.store.queries import get_assembly

    rows = rated_rows(store, slug)
    rs = ratings_of(rows)
    with store.session() as s:
        ev = get_eval(s, get_assembly(s, slug))
        clauses = {
            c.key: c.text
            for c in s.scalars(select(PublicEvalClause).where(PublicEvalClause.eval_id == ev.id))
        }
        model_a, model_b, state = dict(ev.model_a), dict(ev.model_b), ev.state
        settings, eval_seed = dict(ev.settings or {}), ev.seed
    for spec in (model_a, model_b):
        spec.pop("api_key_env", None)  # a name only, but nobody reading results needs it
    n_boot = stats.N_BOOT if n_boot is None else n_boot
    doc = stats.summarise(rs, n_boot=n_boot, seed=seed)
    for key, sc in doc["per_clause"].items():
        sc["text"] = clauses.get(key)
    people = stats.people_verdicts(rs)
    doc.update(
        {
            "format": "pluralign-public-eval/1",
            "assembly": slug,
            "state": state,
            "model_a": model_a,
            "model_b": model_b,
            "n_ratings": len(rs),
            "n_participants": len({r.participant for r in rs}),
            "per_prompt": [{"prompt": p, "people": v} for p, v in sorted(people.items())],
            "agreement": None,
            "provenance": {
                "code_version": __version__,
                "seed": seed,
                "n_boot": n_boot,
                "presentation_seed": eval_seed,
                "ci": "percentile bootstrap over participants",
                "prompts": settings.get("prompts"),
                "clauses": settings.get("clauses"),
                "answer_tokens": settings.get("answer_tokens"),
            },
        }
    )
    if judge_items is not None:
        doc["agreement"] = stats.agreement(people, stats.judge_verdicts(judge_items)).to_json()
    return doc


def read_judge_items(path: str | Path) -> list[dict]:
    """The rows of a ``judge_items.jsonl`` (written by ``pluralign judge``)."""
    from pluralign.io import iter_jsonl

    return [row for _, row in iter_jsonl(Path(path))]


def write_results(doc: Mapping[str, Any], path: str | Path) -> Path:
    from pluralign.io import atomic_write_text

    atomic_write_text(path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
    return Path(path)


def preference_pairs(store, slug: str) -> tuple[list[Any], dict[str, Any]]:
    """The ratings as preference pairs (``neither`` gives no pair) and the file provenance.

    ``chosen`` is the answer the participant picked, ``group`` their opinion group,
    ``source="public-eval"``; provenance keeps participant number, prompt and clause ids, the
    clause text, which model was chosen and the presentation order."""
    from pluralign.data.preferences import PreferencePair, make_provenance

    rows = rated_rows(store, slug)
    pairs = []
    for r in rows:
        if r["choice"] == "neither":
            continue
        chosen, rejected = (
            (r["answer_a"], r["answer_b"]) if r["choice"] == "a" else (r["answer_b"], r["answer_a"])
        )
        if chosen == rejected:
            continue  # identical answers carry no preference
        pairs.append(
            PreferencePair(
                r["prompt"],
                chosen,
                rejected,
                1.0,
                r["group"],
                "public-eval",
                {
                    "participant": r["participant"],
                    "prompt_id": r["prompt_id"],
                    "clause_id": r["clause_id"],
                    "clause": r["clause"],
                    "chosen_model": r["choice"],
                    "a_first": r["a_first"],
                    "impression": r["impression"],
                    "assembly": slug,
                },
            )
        )
    prov = make_provenance(
        "public-eval",
        settings={"assembly": slug},
        ratings=len(rows),
        neither=sum(r["choice"] == "neither" for r in rows),
    )
    return pairs, prov
