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


def row_group(obj: Any, group_by: str, where: str) -> str:
    """The training group of one row for ``group_by``: the ``group`` or ``source`` column, one of
    the evaluation's grouping names (``opinion``, ``latent``, ``demographic:FEATURE`` ...:
    :func:`pluralign.evaluate.metrics.group_labels`), or any other key of the row or of its
    ``provenance`` (``provenance.KEY`` or just ``KEY``). A row without a value is an error: the
    group-robust objective must know every row's group."""
    if isinstance(obj, PreferenceRow):
        if group_by not in ("group", "source"):
            raise InputError(
                f"rows given as PreferenceRow carry no '{group_by}'",
                where=where,
                hint="pass dicts with their provenance, or group by 'group'",
            )
        value: Any = getattr(obj, group_by)
    else:
        value = _lookup(obj, group_by)
    if value is None or isinstance(value, (dict, list)) or not str(value).strip():
        raise InputError(
            f"no value for the group column '{group_by}'",
            where=where,
            hint="every row needs a group for the group-robust objective (setting 'group_by')",
        )
    return str(value)


def _lookup(obj: Mapping[str, Any], group_by: str) -> Any:
    from pluralign.data.groups import group_labels

    try:
        value = group_labels([obj], group_by)[0]
        return None if value == "(missing)" else value
    except ValueError:  # not a grouping name of the evaluation: a column
        pass
    prov = obj.get("provenance")
    prov = prov if isinstance(prov, Mapping) else {}
    if group_by.startswith("provenance."):
        return prov.get(group_by.removeprefix("provenance."))
    return obj[group_by] if group_by in obj else prov.get(group_by)


def read_rows(path: str | Path, group_by: str | None = None) -> list[PreferenceRow]:
    """Read and validate a preference JSONL file (errors name the file and line). With
    ``group_by``, each row's ``group`` is its value of that column (:func:`row_group`)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"preference file not found: {path}", hint="pass --data prefs.jsonl")
    rows = [_grouped(obj, at(path, lineno), group_by) for lineno, obj in iter_jsonl(path)]
    if not rows:
        raise InputError("no preference rows", where=str(path))
    return rows


def _grouped(obj: Any, where: str, group_by: str | None) -> PreferenceRow:
    row = _row(obj, where)
    if group_by is None or (group_by == "group" and row.group):
        return row
    group = row_group(obj, group_by, where)
    return PreferenceRow(row.prompt, row.chosen, row.rejected, row.weight, group, row.source)


def load_rows(
    data: str | Path | Iterable[Mapping[str, Any] | PreferenceRow] | Any,
    group_by: str | None = None,
) -> list[PreferenceRow]:
    """Rows from a JSONL path, an iterable of dicts / :class:`PreferenceRow` /
    ``pluralign.data.PreferencePair``, a ``PreferenceSet``, or a ``datasets.Dataset``.
    ``group_by`` (group-robust training) sets each row's ``group`` from that column."""
    if isinstance(data, (str, Path)):
        return read_rows(data, group_by)
    if hasattr(data, "pairs") and not isinstance(data, Mapping):  # pluralign.data.PreferenceSet
        data = data.pairs
    rows = [_grouped(_as_mapping(obj), f"row {i}", group_by) for i, obj in enumerate(data)]
    if not rows:
        raise InputError("no preference rows")
    return rows


def _as_mapping(obj: Any) -> Any:
    """A ``PreferencePair`` as its dict (so its provenance can name groups)."""
    to_dict = getattr(obj, "to_dict", None)
    return to_dict() if callable(to_dict) and not isinstance(obj, PreferenceRow) else obj


def merge_duplicates(rows: Sequence[PreferenceRow], by_group: bool = False) -> list[PreferenceRow]:
    """Merge rows with the same (prompt, chosen, rejected) into one row whose weight is the sum.

    Under the weighted loss Σ wᵢ·ℓᵢ / Σ wᵢ a row of weight w counts exactly as w copies (tested),
    so the full-data objective is unchanged; a simulated or real panel whose members often pick
    the same pair then trains on far fewer rows per epoch. Order of first appearance is kept;
    ``group``/``source`` of the first row are kept (they do not enter the weighted loss). With
    ``by_group`` (the group-robust objective, where a row's group does enter the loss) only rows
    of the same group are merged.
    """
    merged: dict[tuple[str, ...], PreferenceRow] = {}
    for r in rows:
        key = (r.prompt, r.chosen, r.rejected) + ((r.group,) if by_group else ())
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


def paired_dataset(
    rows: Sequence[PreferenceRow],
    conversational: bool,
    group_index: Mapping[str, int] | None = None,
):
    """A ``datasets.Dataset`` in TRL's paired preference format plus a ``weight`` column (and,
    given ``group_index`` = group name → index, a ``group_index`` column).

    With ``conversational=True`` (the tokenizer has a chat template) prompt and replies become chat
    messages so TRL renders them with the template, the way the model will be prompted.
    """
    from datasets import Dataset

    columns = {
        "prompt": [_messages(r.prompt, None, conversational) for r in rows],
        "chosen": [_messages(r.prompt, r.chosen, conversational) for r in rows],
        "rejected": [_messages(r.prompt, r.rejected, conversational) for r in rows],
        "weight": [float(r.weight) for r in rows],
    }
    if group_index is not None:
        columns["group_index"] = [group_index[r.group] for r in rows]
    return Dataset.from_dict(columns)


def unpaired_dataset(
    rows: Sequence[PreferenceRow],
    conversational: bool,
    group_index: Mapping[str, int] | None = None,
):
    """KTO's unpaired format derived from pairs: each pair gives a desirable row (its chosen reply,
    ``label=True``) and an undesirable row (its rejected reply, ``label=False``), both carrying the
    pair's weight. The two rows of a pair are adjacent, so every batch of even size is balanced."""
    from datasets import Dataset

    prompts, completions, labels, weights, groups = [], [], [], [], []
    for r in rows:
        for reply, label in ((r.chosen, True), (r.rejected, False)):
            prompts.append(_messages(r.prompt, None, conversational))
            completions.append(_messages(r.prompt, reply, conversational))
            labels.append(label)
            weights.append(float(r.weight))
            if group_index is not None:
                groups.append(group_index[r.group])
    columns = {"prompt": prompts, "completion": completions, "label": labels, "weight": weights}
    if group_index is not None:
        columns["group_index"] = groups
    return Dataset.from_dict(columns)
