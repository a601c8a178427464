"""Report section "Public evaluation": the people's verdicts (``RUN/evaluate/public_eval.json``,
written by ``pluralign eval-public results``, docs/public_eval.md) beside the judge's, with the
agreement between them."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pluralign.errors import InputError
from pluralign.report.blocks import Section, read_json, rel


def _ci(low: Any, high: Any) -> str:
    if low is None or high is None:
        return ""
    return f"[{low:.3f}, {high:.3f}]"


def public_eval_section(run: Path) -> Section | None:
    """People's verdicts from the assembly app (``pluralign eval-public results``), beside the
    judge's: per clause, per opinion group, and how often people and judge agree."""
    path = run / "evaluate" / "public_eval.json"
    if not path.is_file():
        return None
    s = Section(
        "public-eval",
        "Public evaluation",
        "Participants compared the answers of "
        "model A and model B against a clause (win rate of B; 'neither' counts half; "
        "95% bootstrap intervals over participants).",
        [rel(run, path)],
        part="result",
    )
    doc = read_json(path)
    if not isinstance(doc, dict) or not isinstance(doc.get("overall"), dict):
        raise InputError(
            "expected the JSON object `pluralign eval-public results` writes", where=str(path)
        )

    def row(name: str, sc: Mapping) -> dict[str, Any]:
        return {
            "": name,
            "ratings": sc.get("n"),
            "people": sc.get("participants"),
            "B wins": sc.get("wins_b"),
            "A wins": sc.get("wins_a"),
            "neither": sc.get("neither"),
            "win rate B": sc.get("win_rate_b"),
            "95% CI": _ci(sc.get("ci_low"), sc.get("ci_high")),
        }

    s.keyvalues(
        {
            "ratings": doc.get("n_ratings"),
            "participants": doc.get("n_participants"),
            "model A": (doc.get("model_a") or {}).get("model"),
            "model B": (doc.get("model_b") or {}).get("model"),
        }
    )
    s.table(
        [row("overall", doc["overall"])]
        + [row(sc.get("text") or k, sc) for k, sc in (doc.get("per_clause") or {}).items()],
        caption="Per clause",
    )
    s.table(
        [row(g, sc) for g, sc in (doc.get("per_group") or {}).items()], caption="Per opinion group"
    )
    agreement = doc.get("agreement")
    items_path = next(
        (
            p
            for p in (run / "evaluate" / "judge_items.jsonl", run / "judge" / "judge_items.jsonl")
            if p.is_file()
        ),
        None,
    )
    if not agreement and items_path is not None:
        from pluralign.evaluate.agreement import agreement as agree
        from pluralign.evaluate.agreement import judge_verdicts
        from pluralign.io import iter_jsonl

        people = {
            str(r.get("prompt", "")).strip(): r.get("people")
            for r in doc.get("per_prompt") or []
            if isinstance(r, dict)
        }
        judge = judge_verdicts(item for _, item in iter_jsonl(items_path))
        agreement = agree(people, judge).to_json()
        s.sources.append(rel(run, items_path))
    if agreement:
        s.keyvalues(
            {
                "prompts rated by both": agreement.get("n"),
                "same verdict (share)": agreement.get("agree"),
                "Cohen's kappa": agreement.get("kappa"),
            },
            caption="Agreement between people (majority per prompt) and the judge",
        )
    return s
