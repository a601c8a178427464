"""Preference rows as the trainers read them, and their conversion to TRL's dataset formats.

A preference pair is a JSON object with ``prompt, chosen, rejected, weight, group, source`` (and an
optional ``provenance``), one per line of a JSONL file (``docs/formats.md``). The trainers need only
``prompt``, ``chosen``, ``rejected`` and ``weight``; ``group`` and ``source`` are carried along for
evaluation. Weights must be finite and non-negative; a weight of 0 keeps a row in the file but out
of the loss.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pluralign.errors import InputError, at
from pluralign.io import iter_jsonl

REQUIRED = ("prompt", "chosen", "rejected")


@dataclass(frozen=True)
class PreferenceRow:
    """One preference pair: ``chosen`` is preferred to ``rejected`` as a reply to ``prompt``."""

    prompt: str
    chosen: str
    rejected: str
    weight: float = 1.0
    group: str = ""
    source: str = ""


def _row(obj: Any, where: str) -> PreferenceRow:
    if isinstance(obj, PreferenceRow):
        return obj
    if not isinstance(obj, Mapping) and all(hasattr(obj, k) for k in REQUIRED):
        # a pluralign.data.PreferencePair or any object with the same attributes
        obj = {
            k: getattr(obj, k) for k in (*REQUIRED, "weight", "group", "source") if hasattr(obj, k)
        }
    if not isinstance(obj, Mapping):
        raise InputError(f"expected a JSON object, got {type(obj).__name__}", where=where)
    for key in REQUIRED:
        if key not in obj:
            raise InputError(
                f"missing column '{key}'",
                where=where,
                hint="each row needs prompt, chosen, rejected (and weight, group, source)",
            )
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise InputError(
                f"'{key}' must be a non-empty string", where=f"{where}, column '{key}'"
            )
    weight = obj.get("weight", 1.0)
    try:
        weight = float(1.0 if weight is None else weight)
    except (TypeError, ValueError):
        raise InputError(
            f"weight {weight!r} is not a number", where=f"{where}, column 'weight'"
        ) from None
    if not math.isfinite(weight) or weight < 0:
        raise InputError(
            f"weight must be finite and >= 0, got {weight}", where=f"{where}, column 'weight'"
        )
    return PreferenceRow(
        prompt=obj["prompt"],
        chosen=obj["chosen"],
        rejected=obj["rejected"],
        weight=weight,
        group=str(obj.get("group", "") or ""),
        source=str(obj.get("source", "") or ""),
    )


def read_rows(path: str | Path) -> list[PreferenceRow]:
    """Read and validate a preference JSONL file (errors name the file and line)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"preference file not found: {path}", hint="pass --data prefs.jsonl")
    rows = [_row(obj, at(path, lineno)) for lineno, obj in iter_jsonl(path)]
    if not rows:
        raise InputError("no preference rows", where=str(path))
    return rows


def load_rows(
    data: str | Path | Iterable[Mapping[str, Any] | PreferenceRow] | Any,
) -> list[PreferenceRow]:
    """Rows from a JSONL path, an iterable of dicts / :class:`PreferenceRow` /
    ``pluralign.data.PreferencePair``, a ``PreferenceSet``, or a ``datasets.Dataset``."""
    if isinstance(data, (str, Path)):
        return read_rows(data)
    if hasattr(data, "pairs") and not isinstance(data, Mapping):  # pluralign.data.PreferenceSet
        data = data.pairs
    rows = [_row(obj, f"row {i}") for i, obj in enumerate(data)]
    if not rows:
        raise InputError("no preference rows")
    return rows


def merge_duplicates(rows: Sequence[PreferenceRow]) -> list[PreferenceRow]:
    """Merge rows with the same (prompt, chosen, rejected) into one row whose weight is the sum.

    Under the weighted loss Σ wᵢ·ℓᵢ / Σ wᵢ a row of weight w counts exactly as w copies (tested),
    so the full-data objective is unchanged; a simulated or real panel whose members often pick
    the same pair then trains on far fewer rows per epoch. Order of first appearance is kept;
    ``group``/``source`` of the first row are kept (they do not enter the loss).
    """
    merged: dict[tuple[str, str, str], PreferenceRow] = {}
    for r in rows:
        key = (r.prompt, r.chosen, r.rejected)
        first = merged.get(key)
        merged[key] = (
            r
            if first is None
            else PreferenceRow(
                first.prompt,
                first.chosen,
                first.rejected,
                first.weight + r.weight,
                first.group,
                first.source,
            )
        )
    return [r for r in merged.values() if r.weight > 0]


def rows_sha256(rows: Sequence[PreferenceRow]) -> str:
    """Content hash of the rows (provenance of a training run)."""
    h = hashlib.sha256()
    for r in rows:
        h.update(
            json.dumps([r.prompt, r.chosen, r.rejected, r.weight], ensure_ascii=False).encode()
        )
        h.update(b"\n")
    return h.hexdigest()


def _messages(prompt: str, reply: str | None, conversational: bool):
    if not conversational:
        return prompt if reply is None else reply
    if reply is None:
        return [{"role": "user", "content": prompt}]
    return [{"role": "assistant", "content": reply}]


def paired_dataset(rows: Sequence[PreferenceRow], conversational: bool):
    """A ``datasets.Dataset`` in TRL's paired preference format plus a ``weight`` column.

    With ``conversational=True`` (the tokenizer has a chat template) prompt and replies become chat
    messages so TRL renders them with the template, the way the model will be prompted.
    """
    from datasets import Dataset

    return Dataset.from_dict(
        {
            "prompt": [_messages(r.prompt, None, conversational) for r in rows],
            "chosen": [_messages(r.prompt, r.chosen, conversational) for r in rows],
            "rejected": [_messages(r.prompt, r.rejected, conversational) for r in rows],
            "weight": [float(r.weight) for r in rows],
        }
    )


def unpaired_dataset(rows: Sequence[PreferenceRow], conversational: bool):
    """KTO's unpaired format derived from pairs: each pair gives a desirable row (its chosen reply,
    ``label=True``) and an undesirable row (its rejected reply, ``label=False``), both carrying the
    pair's weight. The two rows of a pair are adjacent, so every batch of even size is balanced."""
    from datasets import Dataset

    prompts, completions, labels, weights = [], [], [], []
    for r in rows:
        for reply, label in ((r.chosen, True), (r.rejected, False)):
            prompts.append(_messages(r.prompt, None, conversational))
            completions.append(_messages(r.prompt, reply, conversational))
            labels.append(label)
            weights.append(float(r.weight))
    return Dataset.from_dict(
        {"prompt": prompts, "completion": completions, "label": labels, "weight": weights}
    )
