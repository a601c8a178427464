"""Reading ``evaluate/metrics.json`` for the report: groups worst first, how many independent
units (participants) stand behind each group's interval, and the cells that show a score.

*Worst* is the lowest accuracy after training (ties: the smaller improvement, then the name), so
every per-group table and figure starts with the group training served least.

*Too small for an interval*: the bootstrap resamples participants (docs/evaluation.md), so a
group whose pairs all come from one participant has a point "interval" (every resample is that
person) however many pairs it has, and a group of a few participants has a coarse one. metrics.json
records pairs (``n``), not participants, so the participants are counted here from the held-out
file the metrics name (when it is still there and its sha256 matches); otherwise a point interval
strictly between 0 and 1 is taken as the sign of a single unit.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pluralign.errors import InputError
from pluralign.report.blocks import Cell, iter_jsonl, last_round, read_json

FEW_UNITS = 5
"""Groups resting on fewer independent units than this are marked as having a coarse interval."""


def load_metrics(run: Path) -> dict[str, Any] | None:
    """``RUN/evaluate/metrics.json``, the last round's with rounds (``None`` when absent;
    another kind of file is an error)."""
    path = last_round(run) / "evaluate" / "metrics.json"
    if not path.is_file():
        return None
    m = read_json(path)
    if not isinstance(m, dict) or "groups" not in m or "overall" not in m:
        raise InputError(
            "not a pluralign evaluate metrics file (needs 'overall' and 'groups')", where=str(path)
        )
    return m


def estimate(score: Mapping, key: str = "after") -> float | None:
    value = (score.get(key) or {}).get("estimate")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def worst_first(scores: Iterable[Mapping]) -> list[Mapping]:
    """Groups ordered worst first: lowest accuracy after training, then smallest improvement,
    then name; groups without an estimate (all weights 0) last."""

    def key(g: Mapping):
        after = estimate(g)
        gain = estimate(g, "improvement")
        return (after is None, after or 0.0, gain or 0.0, str(g.get("group")))

    return sorted(scores, key=key)


def groupings(metrics: Mapping) -> list[str]:
    """Groupings in the order evaluated (settings.groupings first, then any other present)."""
    out = [str(g) for g in (metrics.get("settings") or {}).get("groupings") or []]
    for g in metrics["groups"]:
        if g["grouping"] not in out:
            out.append(g["grouping"])
    return [g for g in out if any(s["grouping"] == g for s in metrics["groups"])]


def subsets(metrics: Mapping) -> list[str]:
    out = [str(o["subset"]) for o in metrics["overall"]]
    for g in metrics["groups"]:
        if g["subset"] not in out:
            out.append(g["subset"])
    return out


def table_of(metrics: Mapping, subset: str, grouping: str) -> list[Mapping]:
    """The groups of one subset and grouping, worst first."""
    return worst_first(
        g for g in metrics["groups"] if g["subset"] == subset and g["grouping"] == grouping
    )


def overall(metrics: Mapping, subset: str) -> Mapping | None:
    return next((o for o in metrics["overall"] if o["subset"] == subset), None)


def gap(metrics: Mapping, subset: str, grouping: str) -> Mapping | None:
    gaps = metrics.get("gaps") or []
    return next((g for g in gaps if (g["subset"], g["grouping"]) == (subset, grouping)), None)


def margin_kind(metrics: Mapping) -> str:
    """How the margins were computed: ``implicit`` (the default), ``likelihood`` ..."""
    for where in (metrics.get("settings") or {}, (metrics.get("provenance") or {}).get("settings")):
        if isinstance(where, Mapping) and where.get("margin"):
            return str(where["margin"])
    return "implicit"


def has_implicit(metrics: Mapping) -> bool:
    """True when the scores carry the implicit-reward accuracy beside 'after'."""
    return any(
        isinstance(g.get("implicit"), Mapping) for g in (*metrics["overall"], *metrics["groups"])
    )


def before_is_tie(metrics: Mapping) -> bool:
    """True when 'before' is 0.5 by construction (implicit margins of the untrained policy)."""
    points = [o.get("before") or {} for o in (*metrics["overall"], *metrics["groups"])]
    return margin_kind(metrics) == "implicit" and all(
        p.get("estimate") == 0.5 and p.get("low") == 0.5 and p.get("high") == 0.5 for p in points
    )


# -- independent units behind each interval ------------------------------------------------------
def cluster_key(metrics: Mapping) -> str | None:
    """The provenance key whose values were resampled together (None: pairs were resampled)."""
    resampled = str((metrics.get("settings") or {}).get("resampled") or "")
    prefix = "clusters of provenance."
    return resampled[len(prefix) :] if resampled.startswith(prefix) else None


def units(run: Path, metrics: Mapping) -> dict[tuple[str, str, str], int]:
    """(subset, grouping, group) → number of resampled units (participants, or pairs when pairs
    were resampled). Empty when the held-out file the metrics name is gone or has changed."""
    key = cluster_key(metrics)
    if key is None:
        resampled = str((metrics.get("settings") or {}).get("resampled") or "")
        if resampled == "pairs":
            scores = (*metrics["overall"], *metrics["groups"])
            return {(g["subset"], g["grouping"], g["group"]): int(g["n"]) for g in scores}
        return {}
    data = ((metrics.get("provenance") or {}).get("inputs") or {}).get("data") or {}
    candidates = [Path(data["path"])] if data.get("path") else []
    candidates.append(last_round(run) / "data" / "heldout.jsonl")
    for path in candidates:
        if path.is_file():
            found = _count_units(
                str(path),
                path.stat().st_mtime_ns,
                key,
                tuple(groupings(metrics)),
                data.get("sha256"),
            )
            if found is not None:
                return found
    return {}


@functools.lru_cache(maxsize=8)
def _count_units(
    path: str, mtime: int, key: str, names: tuple[str, ...], sha256: str | None
) -> dict[tuple[str, str, str], int] | None:
    from pluralign.evaluate.metrics import group_labels
    from pluralign.io import sha256_file

    if sha256 and sha256_file(Path(path)) != sha256:
        return None  # not the file the metrics were computed on
    rows = [obj for _, obj in iter_jsonl(Path(path))]
    kinds = [str((r.get("provenance") or {}).get("kind") or "") for r in rows]
    people = [str((r.get("provenance") or {}).get(key)) for r in rows]
    found: dict[tuple[str, str, str], set[str]] = {}
    for kind, person in zip(kinds, people, strict=True):
        for subset in ("all", kind) if kind else ("all",):
            found.setdefault((subset, "all", "all"), set()).add(person)
    for grouping in names:
        try:
            labels = group_labels(rows, grouping)
        except ValueError:
            continue
        for kind, label, person in zip(kinds, labels, people, strict=True):
            for subset in ("all", kind) if kind else ("all",):
                found.setdefault((subset, grouping, label), set()).add(person)
    return {k: len(v) for k, v in found.items()}


def unit_count(score: Mapping, counted: Mapping[tuple[str, str, str], int]) -> int | None:
    """Units behind one score: a count metrics.json carries, else the counted one."""
    for field in ("units", "participants", "clusters"):
        if isinstance(score.get(field), int):
            return int(score[field])
    return counted.get((score["subset"], score["grouping"], score["group"]))


def precision(score: Mapping, n_units: int | None, key: str = "after") -> str:
    """``none`` (no interval: one unit), ``few`` (fewer than :data:`FEW_UNITS`) or ``ok``."""
    if n_units is not None:
        return "none" if n_units <= 1 else "few" if n_units < FEW_UNITS else "ok"
    if int(score.get("n") or 0) <= 1:
        return "none"
    iv = score.get(key) or {}
    est, low, high = iv.get("estimate"), iv.get("low"), iv.get("high")
    if est is not None and low is not None and low == high and 0.0 < est < 1.0:
        return "none"  # a point interval off 0 and 1: one unit (or identical ones)
    return "ok"


def _iv(obj: Mapping | None, digits: int = 2) -> str:
    if not obj or obj.get("low") is None or obj.get("high") is None:
        return ""
    return f"[{obj['low']:.{digits}f}, {obj['high']:.{digits}f}]"


def unit_word(metrics: Mapping, n: int) -> str:
    key = cluster_key(metrics)
    noun = "pair" if key is None else key
    return f"{n} {noun}{'' if n == 1 else 's'}"


def score_cell(
    score: Mapping, key: str, n_units: int | None, signed: bool = False, tie: bool = False
) -> Cell:
    """An estimate with its interval underneath; "no interval" for a single unit, grey italics
    for few units, "tie" for a 'before' that is 0.5 by construction."""
    if key not in score:
        return Cell("–", cls="num")
    iv = score.get(key) or {}
    est = iv.get("estimate")
    if est is None:
        return Cell("n/a", "no weight", cls="num")
    text = f"{est:+.2f}" if signed else f"{est:.2f}"
    if key == "before" and tie:
        return Cell(text, cls="num muted")
    kind = precision(score, n_units, key)
    if kind == "none":
        return Cell(text, "no interval", cls="num small-n")
    return Cell(text, _iv(iv), cls="num small-n" if kind == "few" else "num")


def arrow_cell(score: Mapping | None, n_units: int | None) -> Cell:
    """``before → after`` with the after interval (or why it has none) underneath."""
    if score is None:
        return Cell("–", cls="num")
    before, after = estimate(score, "before"), estimate(score)
    if after is None:
        return Cell("n/a", "no weight", cls="num")
    # narrow no-break spaces: the arrow stays with its numbers and the cell stays narrow
    text = f"{before:.2f}\u202f→\u202f{after:.2f}" if before is not None else f"{after:.2f}"
    kind = precision(score, n_units)
    if kind == "none":
        return Cell(text, "no interval", cls="num small-n")
    sub = _iv(score.get("after"))
    return Cell(text, sub, cls="num small-n" if kind == "few" else "num")


def describe(score: Mapping, metrics: Mapping, n_units: int | None) -> str:
    """One line: ``0.500 → 0.721 [0.653, 0.779]`` (or ``(no interval: 1 participant)``)."""
    before, after = estimate(score, "before"), estimate(score)
    if after is None:
        return "no estimate (no weight)"
    head = f"{before:.2f} → {after:.2f}" if before is not None else f"{after:.2f}"
    kind = precision(score, n_units)
    if kind == "none":
        why = unit_word(metrics, n_units) if n_units is not None else "a single unit"
        return f"{head} (no interval: {why})"
    tail = f" {_iv(score.get('after'))}"
    if kind == "few":
        tail += f", only {unit_word(metrics, n_units)}"
    return head + tail


def worst_of(scores: Sequence[Mapping]) -> Mapping | None:
    """The worst of two or more groups (None for fewer: nobody to compare with)."""
    ordered = worst_first(scores)
    return ordered[0] if len(ordered) >= 2 and estimate(ordered[0]) is not None else None
