"""Report section "Answers before and after training" (``evaluate/generations.jsonl``): the
base and the trained model's answers to held-out prompts, side by side.

Each line is ``{"prompt", "before", "after"}`` plus, where known, ``group`` (whose prompt it
is), ``clause`` (the constitution clause it tests; text or id) and ``kind`` (consensus,
divisive ...). The answers are shown as the model wrote them (HTML-escaped)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pluralign.errors import InputError, at
from pluralign.report.glossary import subset_label
from pluralign.report.section import Section, iter_jsonl, rel

SHOWN = 24
"""Prompts shown open; the rest are behind a "more" fold."""

TAGS = (("kind", "kind"), ("group", "group"), ("clause", "clause"), ("clause_id", "clause"))


def generations_section(run: Path) -> Section | None:
    path = run / "evaluate" / "generations.jsonl"
    if not path.is_file():
        return None
    items = []
    for number, obj in iter_jsonl(path):
        missing = [k for k in ("prompt", "before", "after") if not isinstance(obj.get(k), str)]
        if missing:
            raise InputError(
                f"field '{missing[0]}' missing or not text",
                where=at(path, number),
                hint="each line needs prompt, before and after (text)",
            )
        items.append(_card(obj))
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


def _card(obj: dict[str, Any]) -> dict[str, Any]:
    tags = []
    seen = set()
    for key, label in TAGS:
        value = obj.get(key)
        if value in (None, "") or label in seen:
            continue
        seen.add(label)
        if key == "kind":
            tags.append(subset_label(str(value)))
        elif key == "group":
            tags.append(f"group {value}" if str(value).isdigit() else str(value))
        else:
            tags.append(f"{label}: {value}")
    before, after = obj["before"], obj["after"]
    return {
        "prompt": obj["prompt"],
        "before": before,
        "after": after,
        "tags": tags,
        "changed": before.strip() != after.strip(),
    }
