"""Report section "Answers before and after training" (``evaluate/generations.jsonl``): the
base and the trained model's answers to held-out prompts, side by side.

Each line is ``{"prompt", "before", "after"}`` plus, where known, ``kind`` (consensus,
divisive ...), ``topic``, ``group`` (whose prompt it is), ``clause`` (the constitution clause it
tests: an id of ``constitution/constitution.yaml``, shown with its text, or the text itself),
``pairs`` (held-out pairs on the prompt) and ``changed`` (the producer's own comparison; else the
report compares the texts). The answers are shown as the model wrote them (HTML-escaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pluralign.errors import InputError, at
from pluralign.report.blocks import Section, iter_jsonl, last_round, rel
from pluralign.report.glossary import subset_label
from pluralign.report.sections.deliberation import clause_texts

SHOWN = 24
"""Prompts shown open; the rest are behind a "more" fold."""

CLAUSE_CHARS = 90
"""A clause's text is cut to this length in a prompt's tags."""


def generations_section(run: Path) -> Section | None:
    path = last_round(run) / "evaluate" / "generations.jsonl"
    if not path.is_file():
        return None
    clauses = clause_texts(run, CLAUSE_CHARS)
    items = []
    for number, obj in iter_jsonl(path):
        missing = [k for k in ("prompt", "before", "after") if not isinstance(obj.get(k), str)]
        if missing:
            raise InputError(
                f"field '{missing[0]}' missing or not text",
                where=at(path, number),
                hint="each line needs prompt, before and after (text)",
            )
        items.append(_card(obj, clauses))
    s = Section(
        "generations",
        "Answers before and after training",
        "Greedy answers to held-out prompts (never trained on), from the base model (before) "
        "and the trained model (after), side by side.",
        [rel(run, path)],
        part="result",
    )
    changed = sum(1 for it in items if it["changed"])
    s.keyvalues(
        {
            "prompts": len(items),
            "answers that changed": f"{changed} of {len(items)}"
            + (f" ({changed / len(items):.0%})" if items else ""),
        }
    )
    if not items:
        return s
    s.blocks.append({"type": "generations", "items": items[:SHOWN]})
    if len(items) > SHOWN:
        s.details(
            f"{len(items) - SHOWN} more prompts",
            [{"type": "generations", "items": items[SHOWN:]}],
        )
    return s


def _card(obj: dict[str, Any], clauses: dict[str, str]) -> dict[str, Any]:
    tags = []
    if obj.get("kind"):
        tags.append(subset_label(str(obj["kind"])))
    if obj.get("topic"):
        tags.append(f"topic: {obj['topic']}")
    group = obj.get("group")
    if group not in (None, ""):
        tags.append(f"group {group}" if str(group).isdigit() else str(group))
    clause = obj.get("clause") or obj.get("clause_id")
    if clause not in (None, ""):
        text = clauses.get(str(clause), "")
        tags.append(f"clause {clause}: {text}" if text else f"clause: {clause}")
    if isinstance(obj.get("pairs"), int):
        tags.append(f"{obj['pairs']} held-out pair{'s' if obj['pairs'] != 1 else ''}")
    before, after = obj["before"], obj["after"]
    changed = obj.get("changed")
    return {
        "prompt": obj["prompt"],
        "before": before,
        "after": after,
        "tags": tags,
        "changed": changed if isinstance(changed, bool) else before.strip() != after.strip(),
    }
