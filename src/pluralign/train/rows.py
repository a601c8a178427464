"""Preference pairs as the trainers take them, and their conversion to TRL's dataset formats.

The trainers read the one preference type, :class:`pluralign.data.preferences.PreferencePair`
(``prompt, chosen, rejected, weight, group, source, provenance``; ``docs/formats.md``), with the
one reader of preference JSONL, :func:`pluralign.data.preferences.read_jsonl`. The trainers need
only ``prompt``, ``chosen``, ``rejected`` and ``weight``; ``group`` and ``source`` are carried
along for evaluation (and ``group`` for the group-robust objective). Weights must be finite and
non-negative; a weight of 0 keeps a row in the file but out of the loss.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from pluralign.data.preferences import PreferencePair, read_jsonl
from pluralign.errors import InputError


def row_group(pair: PreferencePair, group_by: str, where: str) -> str:
    """The training group of one pair for ``group_by``: the ``group`` or ``source`` column, one
    of the evaluation's grouping names (``opinion``, ``latent``, ``demographic:FEATURE`` ...:
    :func:`pluralign.data.groups.group_labels`), or any key of the pair's ``provenance``
    (``provenance.KEY`` or just ``KEY``). A pair without a value is an error: the group-robust
    objective must know every pair's group."""
    value: Any = getattr(pair, group_by) if group_by in ("group", "source") else _lookup(
        pair, group_by)
    if value is None or isinstance(value, (dict, list)) or not str(value).strip():
        raise InputError(
            f"no value for the group column '{group_by}'",
            where=where,
            hint="every row needs a group for the group-robust objective (setting 'group_by')",
        )
    return str(value)


def _lookup(pair: PreferencePair, group_by: str) -> Any:
    from pluralign.data.groups import group_labels

    obj = pair.to_dict()
    try:
        value = group_labels([obj], group_by)[0]
        return None if value == "(missing)" else value
    except ValueError:  # not a grouping name of the evaluation: a provenance key
        pass
    return obj["provenance"].get(group_by.removeprefix("provenance."))


def _as_pair(obj: Any, where: str) -> PreferencePair:
    if isinstance(obj, PreferencePair):
        return obj
    if isinstance(obj, Mapping) and isinstance(obj.get("provenance"), str):
        # a row of pluralign.data.preferences.to_hf_dataset, which stores provenance as JSON
        try:
            obj = {**obj, "provenance": json.loads(obj["provenance"])}
        except ValueError:
            raise InputError("field 'provenance' is not a JSON object", where=where) from None
    return PreferencePair.from_dict(dict(obj) if isinstance(obj, Mapping) else obj, where=where)


def load_rows(
    data: str | Path | Iterable[Mapping[str, Any] | PreferencePair] | Any,
    group_by: str | None = None,
) -> list[PreferencePair]:
    """The validated pairs of a preference JSONL path (read with
    :func:`~pluralign.data.preferences.read_jsonl`; errors name the file and line), a
    ``PreferenceSet``, an iterable of :class:`PreferencePair` or of dicts (errors name the row),
    or a ``datasets.Dataset`` of such rows. ``group_by`` (group-robust training) sets each pair's
    ``group`` from that column (:func:`row_group`)."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        pairs = list(read_jsonl(path).pairs)
        if not pairs:
            raise InputError("no preference rows", where=str(path))

        def where(i: int) -> str:  # found only for an error: the file's line of pair i
            from pluralign.data.preferences import HEADER_KEY
            from pluralign.errors import at
            from pluralign.io import iter_jsonl

            lines = (n for n, obj in iter_jsonl(path) if HEADER_KEY not in obj)
            return at(path, next(n for k, n in enumerate(lines) if k == i))
    else:
        if hasattr(data, "pairs") and not isinstance(data, Mapping):  # a PreferenceSet
            data = data.pairs
        pairs = [_as_pair(obj, f"row {i}") for i, obj in enumerate(data)]
        if not pairs:
            raise InputError("no preference rows")

        def where(i: int) -> str:
            return f"row {i}"
    if group_by is None:
        return pairs
    out = []
    for i, p in enumerate(pairs):
        if group_by == "group" and p.group:
            out.append(p)
            continue
        try:
            group = row_group(p, group_by, "")
        except InputError as exc:
            raise InputError(exc.message, where=where(i), hint=exc.hint) from None
        out.append(replace(p, group=group))
    return out


def merge_duplicates(rows: Sequence[PreferencePair]) -> list[PreferencePair]:
    """Merge rows with the same (prompt, chosen, rejected) into one row whose weight is the sum.

    Under the weighted loss Σ wᵢ·ℓᵢ / Σ wᵢ a row of weight w counts exactly as w copies (tested),
    so the full-data objective is unchanged; a simulated or real panel whose members often pick
    the same pair then trains on far fewer rows per epoch. Order of first appearance is kept;
    ``group``/``source`` of the first row are kept (they do not enter the weighted loss; the
    group-robust objective, where the groups do, merges with :func:`group_rows`).
    """
    merged: dict[tuple[str, ...], PreferencePair] = {}
    for r in rows:
        key = (r.prompt, r.chosen, r.rejected)
        first = merged.get(key)
        merged[key] = r if first is None else first.with_weight(first.weight + r.weight)
    return [r for r in merged.values() if r.weight > 0]


def merge_reverses(rows: Sequence[PreferencePair]) -> tuple[list[PreferencePair], list[float]]:
    """Fold each pair and its reverse (same prompt, the two replies swapped) into one row; returns
    the rows and each row's *forward share*.

    A DPO-family loss of the reverse pair is the loss of the same two sequences with the margin
    negated, so one forward pass over prompt+chosen and prompt+rejected serves both orders. The
    folded row keeps the heavier order as (chosen, rejected) and weighs w + w′ (w: that order's
    weight, w′: the reverse's); its forward share is s = w / (w + w′), and the trainer's per-row
    loss is s·ℓ(h) + (1 − s)·ℓ(−h), which keeps Σ wᵢ·ℓᵢ / Σ wᵢ exactly
    (:class:`~pluralign.train.dpo_trainer.WeightedDPOTrainer`). A panel split on a prompt gives
    both orders, so an epoch runs over about half the sequences. Expects rows already merged by
    :func:`merge_duplicates`; order of first appearance is kept.
    """
    found: dict[tuple[str, frozenset[str]], list] = {}  # key → [first pair, w, w′]
    for r in rows:
        key = (r.prompt, frozenset((r.chosen, r.rejected)))
        entry = found.get(key)
        if entry is None:
            found[key] = [r, r.weight, 0.0]
        elif entry[0].chosen == r.chosen:
            entry[1] += r.weight
        else:
            entry[2] += r.weight
    out, shares = [], []
    for first, fwd, rev in found.values():
        if rev > fwd:  # the heavier order leads (the logged reward metrics follow it)
            first, fwd, rev = replace(first, chosen=first.rejected, rejected=first.chosen), rev, fwd
        out.append(first.with_weight(fwd + rev))
        shares.append(fwd / (fwd + rev) if fwd + rev > 0 else 1.0)
    return out, shares


@dataclass(frozen=True)
class GroupRows:
    """Training rows of the group-robust objective with each group's weight on each row.

    ``forward[i, g]`` is group g's weight on row i's order (chosen ≻ rejected), ``reverse[i, g]``
    its weight on the swapped order (0 unless the rows were folded with their reverses); row i's
    ``weight`` is the sum of both over the groups. The group-robust loss of row i is
    Σ_g f_g·(forward[i, g]·ℓ(h) + reverse[i, g]·ℓ(−h)) with the step's factors f_g (G4), and a
    group's loss sum S_g takes only its own weights, so identical pairs of different groups can
    share one row (one forward pass) without mixing the groups' losses."""

    rows: list[PreferencePair]
    names: tuple[str, ...]
    forward: np.ndarray
    reverse: np.ndarray
    folded: bool

    def forward_share(self) -> list[float]:
        """Each row's share of its weight on chosen ≻ rejected (for the logs and evaluation)."""
        fwd, total = self.forward.sum(axis=1), self.forward.sum(axis=1) + self.reverse.sum(axis=1)
        return [float(f / t) if t > 0 else 1.0 for f, t in zip(fwd, total, strict=True)]


def group_rows(
    rows: Sequence[PreferencePair], names: Sequence[str], merge: bool, fold: bool = False
) -> GroupRows:
    """The group-robust objective's training rows (:class:`GroupRows`) from rows whose ``group``
    is one of ``names``. Without ``merge`` every row of positive weight stays a row of its own
    group. With ``merge`` the rows with the same (prompt, chosen, rejected) become one row
    whatever their groups (as :func:`merge_duplicates` for the weighted objective), and with
    ``fold`` (DPO) also a pair and its reverse (as :func:`merge_reverses`; the order with more
    weight leads), each group's weights kept apart. Order of first appearance is kept; the row's
    ``group`` is its heaviest group (for display: the loss takes the weights)."""
    index = {g: k for k, g in enumerate(names)}
    if not merge:
        kept = [r for r in rows if r.weight > 0]
        fwd = np.zeros((len(kept), len(names)))
        for i, r in enumerate(kept):
            fwd[i, index[r.group]] = r.weight
        return GroupRows(kept, tuple(names), fwd, np.zeros_like(fwd), False)
    found: dict[tuple, list] = {}  # key → [first pair, forward weights, reverse weights]
    for r in (r for r in rows if r.weight > 0):  # a row of weight 0 counts for no group
        key = (r.prompt, frozenset((r.chosen, r.rejected))) if fold else (
            r.prompt, r.chosen, r.rejected)
        entry = found.get(key)
        if entry is None:
            entry = found[key] = [r, np.zeros(len(names)), np.zeros(len(names))]
        side = 1 if entry[0].chosen == r.chosen else 2
        entry[side][index[r.group]] += r.weight
    out, fwds, revs = [], [], []
    for first, fwd, rev in found.values():
        total = fwd.sum() + rev.sum()
        if total <= 0:
            continue
        if rev.sum() > fwd.sum():
            first, fwd, rev = replace(first, chosen=first.rejected, rejected=first.chosen), rev, fwd
        heaviest = names[int(np.argmax(fwd + rev))]
        out.append(replace(first.with_weight(float(total)), group=heaviest))
        fwds.append(fwd)
        revs.append(rev)
    shape = (len(out), len(names))
    return GroupRows(
        out,
        tuple(names),
        np.asarray(fwds).reshape(shape),
        np.asarray(revs).reshape(shape),
        fold,
    )


def rows_sha256(rows: Sequence[PreferencePair]) -> str:
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
    rows: Sequence[PreferencePair],
    conversational: bool,
    groups: GroupRows | None = None,
    forward_share: Sequence[float] | None = None,
):
    """A ``datasets.Dataset`` in TRL's paired preference format plus a ``weight`` column (and,
    given ``groups`` (the same rows as a :class:`GroupRows`), the ``group_weight`` and
    ``group_weight_rev`` columns, each group's weight on the row's two orders; given
    ``forward_share``, rows folded with their reverse by :func:`merge_reverses`, a
    ``forward_share`` column).

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
    if groups is not None:
        columns.update(_group_columns(groups, rows, 1))
    if forward_share is not None:
        if len(forward_share) != len(rows):
            raise ValueError(f"{len(rows)} rows but {len(forward_share)} forward shares")
        columns["forward_share"] = [float(s) for s in forward_share]
    return Dataset.from_dict(columns)


def unpaired_dataset(
    rows: Sequence[PreferencePair],
    conversational: bool,
    groups: GroupRows | None = None,
):
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
    columns = {"prompt": prompts, "completion": completions, "label": labels, "weight": weights}
    if groups is not None:
        columns.update(_group_columns(groups, rows, 2))
    return Dataset.from_dict(columns)


def _group_columns(groups: GroupRows, rows: Sequence[PreferencePair], repeat: int) -> dict:
    """The ``group_weight``/``group_weight_rev`` columns, each row's ``repeat`` times."""
    if groups.forward.shape[0] != len(rows):
        raise ValueError(f"{len(rows)} rows but group weights for {groups.forward.shape[0]}")
    if groups.folded and repeat != 1:
        raise ValueError("rows folded with their reverse are for paired losses")
    return {
        "group_weight": [list(map(float, v)) for v in groups.forward for _ in range(repeat)],
        "group_weight_rev": [list(map(float, v)) for v in groups.reverse for _ in range(repeat)],
    }
