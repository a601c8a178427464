"""Evaluate a trained policy on held-out preference pairs: overall, per group, per prompt kind.

:func:`evaluate_margins` is pure (margins in, frozen :class:`EvaluationResult` out) and is what the
tests check by hand; :func:`evaluate_models` scores the pairs with the trained model and the base
model first (completion log-probabilities, :func:`pluralign.train.pair_logps`). The result is
written as ``metrics.json`` (layout in ``docs/evaluation.md``), which ``pluralign report`` reads.

With the default ``margin="likelihood"``, *before* is the base model's own preference between
chosen and rejected, β·[log π₀(y_w|x) − log π₀(y_l|x)] with log-probabilities **summed** over the
reply's tokens (the quantity DPO's loss and implicit reward use; no length normalisation), and
*after* is the same for the trained model. Beside them, each score carries ``implicit``: the
accuracy of the DPO implicit reward β·[(log π − log π₀)(y_w) − (log π − log π₀)(y_l)] of the
trained model against the base, which is exactly after's margin minus before's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pluralign.data.preferences import PreferencePair
from pluralign.evaluate.metrics import (
    GapResult,
    Interval,
    PairedBootstrap,
    group_labels,
    paired_bootstrap,
    worst_group_gap,
)
from pluralign.evaluate.settings import MARGINS, EvaluateSettings

MAX_DEMOGRAPHIC_VALUES = 12
METRICS_FILE = "metrics.json"
MARGINS_FILE = "margins.json"


def worst_first_key(g: GroupScore) -> tuple:
    """Order of the groups of one subset and grouping in ``metrics.json``: lowest accuracy after
    training first, then smallest improvement, then name; groups without an estimate (all
    weights 0) last (the report's order, :func:`pluralign.report.accuracy.worst_first`)."""
    after, gain = g.after.estimate, g.improvement.estimate
    missing = not math.isfinite(after)
    return (
        missing,
        0.0 if missing else after,
        gain if math.isfinite(gain) else 0.0,
        g.group,
    )


@dataclass(frozen=True)
class GroupScore:
    """Accuracy of one group (``grouping``/``group``) on one subset of prompts."""

    subset: str
    grouping: str
    group: str
    n: int
    weight: float
    before: Interval
    after: Interval
    improvement: Interval
    units: int = 0
    implicit: Interval | None = None


@dataclass(frozen=True)
class GapScore:
    """Worst-group gap of one grouping on one subset, before and after training."""

    subset: str
    grouping: str
    before: GapResult | None
    after: GapResult | None


@dataclass(frozen=True)
class EvaluationResult:
    """Everything ``pluralign evaluate`` measured. ``overall`` has grouping ``all``."""

    overall: tuple[GroupScore, ...]
    groups: tuple[GroupScore, ...]
    gaps: tuple[GapScore, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    margins: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    """Per-pair ``before``/``after`` margins in the held-out file's order (``margins.json``,
    which ``evaluate --compare`` pairs runs by); not part of ``metrics.json``."""

    def score(self, subset: str, grouping: str, group: str) -> GroupScore:
        """Look one group score up (KeyError if absent)."""
        for g in (*self.overall, *self.groups):
            if (g.subset, g.grouping, g.group) == (subset, grouping, group):
                return g
        raise KeyError((subset, grouping, group))

    def to_dict(self) -> dict[str, Any]:
        def score(g: GroupScore) -> dict[str, Any]:
            return {
                "subset": g.subset,
                "grouping": g.grouping,
                "group": g.group,
                "n": g.n,
                "weight": g.weight,
                "before": g.before.to_dict(),
                "after": g.after.to_dict(),
                "improvement": g.improvement.to_dict(),
                "units": g.units,
                **({"implicit": g.implicit.to_dict()} if g.implicit is not None else {}),
            }

        def gap(r: GapResult | None) -> dict[str, Any] | None:
            if r is None:
                return None
            return {
                **r.gap.to_dict(),
                "worst_group": r.worst_group,
                "best_group": r.best_group,
                "groups": list(r.groups),
            }

        return {
            "format": "pluralign.evaluate/1",
            "overall": [score(g) for g in self.overall],
            "groups": [score(g) for g in self.groups],
            "gaps": [
                {
                    "subset": g.subset,
                    "grouping": g.grouping,
                    "before": gap(g.before),
                    "after": gap(g.after),
                }
                for g in self.gaps
            ],
            "settings": dict(self.settings),
            "provenance": dict(self.provenance),
        }

    def to_json(self) -> str:
        """JSON text (NaN written as null)."""
        return json.dumps(_nan_to_none(self.to_dict()), indent=2, sort_keys=False) + "\n"

    def write(self, folder: str | Path) -> Path:
        """``metrics.json`` and, when the result has them, ``margins.json`` (one margin per
        held-out pair, before and after) into ``folder``; returns the metrics path."""
        from pluralign.io import atomic_write_text

        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.margins:
            margins = {k: list(v) for k, v in self.margins.items()}
            atomic_write_text(folder / MARGINS_FILE, json.dumps(_nan_to_none(margins)) + "\n")
        atomic_write_text(folder / METRICS_FILE, self.to_json())
        return folder / METRICS_FILE

    @classmethod
    def read(cls, folder: str | Path) -> EvaluationResult:
        """What :meth:`write` wrote into ``folder`` (:func:`read_result`)."""
        return read_result(folder)


def _interval(d: Mapping[str, Any] | None) -> Interval | None:
    if d is None:
        return None
    return Interval(*(math.nan if d[k] is None else float(d[k]) for k in ("estimate", "low",
                                                                          "high")))


def result_from_dict(data: Mapping[str, Any],
                     margins: Mapping[str, Sequence[float | None]] | None = None
                     ) -> EvaluationResult:
    """The :class:`EvaluationResult` whose :meth:`~EvaluationResult.to_dict` is ``data``
    (``metrics.json``; NaN was written as null) with ``margins`` (``margins.json``)."""

    def score(g: Mapping[str, Any]) -> GroupScore:
        return GroupScore(g["subset"], g["grouping"], g["group"], int(g["n"]),
                          float(g["weight"]), _interval(g["before"]), _interval(g["after"]),
                          _interval(g["improvement"]), int(g.get("units", 0)),
                          _interval(g.get("implicit")))

    def gap(r: Mapping[str, Any] | None) -> GapResult | None:
        if r is None:
            return None
        return GapResult(_interval(r), r["worst_group"], r["best_group"], tuple(r["groups"]))

    return EvaluationResult(
        overall=tuple(score(g) for g in data["overall"]),
        groups=tuple(score(g) for g in data["groups"]),
        gaps=tuple(GapScore(g["subset"], g["grouping"], gap(g["before"]), gap(g["after"]))
                   for g in data["gaps"]),
        settings=dict(data.get("settings") or {}),
        provenance=dict(data.get("provenance") or {}),
        margins={k: tuple(math.nan if x is None else float(x) for x in v)
                 for k, v in (margins or {}).items()},
    )


def read_result(folder: str | Path) -> EvaluationResult:
    """The result :meth:`EvaluationResult.write` wrote into ``folder``."""
    from pluralign.errors import InputError
    from pluralign.io import parse_json, read_text

    folder = Path(folder)
    path = folder / METRICS_FILE
    if not path.is_file():
        raise InputError("no evaluation here", where=str(path),
                         hint="run the evaluate stage (or `pluralign evaluate`) first")
    margins_path = folder / MARGINS_FILE
    margins = parse_json(read_text(margins_path), str(margins_path)) \
        if margins_path.is_file() else None
    return result_from_dict(parse_json(read_text(path), str(path)), margins)


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def default_groupings(rows: Sequence[Mapping]) -> list[str]:
    """``group`` when some row has one; ``opinion`` and ``latent`` if rows carry
    ``provenance.opinion_group`` / ``latent_group`` that differ from the groupings already
    listed; ``clause`` when rows name more than one constitution clause (synthesised pairs:
    ``clause_id``); one ``demographic:<feature>`` per feature in ``provenance.demographics`` with
    at most 12 values. Rows with no group at all (synthesised pairs) are not reported as one
    group "(missing)": their only groupings are the clauses (and ``all``)."""
    out: list[str] = []
    seen: list[list[str]] = []
    labels = group_labels(rows, "group")
    if any(v != "(missing)" for v in labels):
        out.append("group")
        seen.append(labels)
    for grouping in ("opinion", "latent", "clause"):
        labels = group_labels(rows, grouping)
        present = {v for v in labels if v != "(missing)"}
        if present and labels not in seen and (grouping != "clause" or len(present) > 1):
            out.append(grouping)
            seen.append(labels)
    features: dict[str, set] = {}
    for r in rows:
        for k, v in ((r.get("provenance") or {}).get("demographics") or {}).items():
            features.setdefault(k, set()).add(str(v))
    out += [
        f"demographic:{k}"
        for k in sorted(features)
        if 1 < len(features[k]) <= MAX_DEMOGRAPHIC_VALUES
    ]
    return out


PART_SEP = "/"
"""A subset of one prompt kind's held-out part: ``consensus/unseen-statement``."""


def _field(rows: Sequence[Mapping], key: str) -> list[str]:
    return [str((r.get("provenance") or {}).get(key) or "") for r in rows]


def prompt_kinds(rows: Sequence[Mapping]) -> list[str]:
    """Subsets to report: ``all``, each ``provenance.kind`` present (consensus, divisive ...),
    then the held-out parts (``provenance.heldout_part``: ``new-wording``, ``unseen-statement``;
    :mod:`pluralign.data.split`) where both are present: over all prompts, and within each kind
    that has both (``consensus/new-wording``, ``consensus/unseen-statement``)."""
    kinds, parts = _field(rows, "kind"), _field(rows, "heldout_part")
    names = sorted({k for k in kinds if k})
    out = ["all", *names]

    def both(keep) -> list[str]:
        present = sorted({p for k, p in zip(kinds, parts, strict=True) if p and keep(k)})
        return present if len(present) >= 2 else []

    out += both(lambda k: True)
    for kind in names:
        out += [f"{kind}{PART_SEP}{p}" for p in both(lambda k, kind=kind: k == kind)]
    return out


def subset_mask(rows: Sequence[Mapping], subset: str) -> np.ndarray:
    """Which rows belong to a subset of :func:`prompt_kinds`."""
    kinds = np.asarray(_field(rows, "kind"), dtype=object)
    parts = np.asarray(_field(rows, "heldout_part"), dtype=object)
    if subset == "all":
        return np.ones(len(rows), bool)
    if PART_SEP in subset:
        kind, part = subset.split(PART_SEP, 1)
        return (kinds == kind) & (parts == part)
    from pluralign.data.split import HELDOUT_PARTS

    if subset in HELDOUT_PARTS and not (kinds == subset).any():
        return parts == subset
    return kinds == subset


def evaluate_margins(
    rows: Sequence[Mapping],
    before: Sequence[float] | np.ndarray,
    after: Sequence[float] | np.ndarray,
    *,
    groupings: Sequence[str] | None = None,
    n_boot: int = EvaluateSettings.n_boot,
    alpha: float = EvaluateSettings.alpha,
    seed: int = 0,
    min_group_size: int = 1,
    cluster: str | None = "participant",
    provenance: Mapping[str, Any] | None = None,
    implicit: Sequence[float] | np.ndarray | None = None,
    extra_settings: Mapping[str, Any] | None = None,
) -> EvaluationResult:
    """Accuracy before/after per subset (``all``, each prompt kind, the held-out parts:
    :func:`prompt_kinds`) and grouping.

    ``rows`` are preference-pair dicts (``weight``, ``group``, ``provenance``); ``before`` and
    ``after`` their margins (before: the base model, after: the trained one); ``implicit``
    (optional) the trained model's implicit reward margins, reported beside ``after``.
    ``cluster``: a provenance key whose value groups pairs that are resampled together
    (default: ``participant``, used when every row has one; None: resample pairs)."""
    before = np.asarray(before, dtype=float)
    after = np.asarray(after, dtype=float)
    if not (len(rows) == before.size == after.size):
        raise ValueError(
            f"{len(rows)} rows but {before.size} before and {after.size} after margins"
        )
    weights = np.asarray([float(r.get("weight", 1.0)) for r in rows])
    implicit_m = None if implicit is None else np.asarray(implicit, dtype=float)
    if implicit_m is not None and implicit_m.size != len(rows):
        raise ValueError(f"{len(rows)} rows but {implicit_m.size} implicit margins")
    groupings = list(groupings) if groupings is not None else default_groupings(rows)
    opts = {"n_boot": n_boot, "alpha": alpha, "seed": seed}
    clusters = None
    if cluster is not None:
        labels = [(r.get("provenance") or {}).get(cluster) for r in rows]
        if rows and all(v not in (None, "") for v in labels):
            clusters = np.asarray([str(v) for v in labels], dtype=object)
    overall, groups, gaps = [], [], []

    def cl(mask: np.ndarray):
        return None if clusters is None else clusters[mask]

    def score(subset: str, grouping: str, group: str, mask: np.ndarray) -> GroupScore:
        r: PairedBootstrap = paired_bootstrap(
            before[mask],
            after[mask],
            weights[mask],
            key=f"{subset}|{grouping}|{group}",
            clusters=cl(mask),
            **opts,
        )
        imp = None
        if implicit_m is not None:
            imp = paired_bootstrap(
                np.zeros(int(mask.sum())),
                implicit_m[mask],
                weights[mask],
                key=f"implicit|{subset}|{grouping}|{group}",
                clusters=cl(mask),
                **opts,
            ).after
        return GroupScore(
            subset, grouping, group, r.n, r.weight, r.before, r.after, r.improvement, r.units, imp
        )

    for subset in prompt_kinds(rows):
        in_subset = subset_mask(rows, subset)
        overall.append(score(subset, "all", "all", in_subset))
        for grouping in groupings:
            labels = np.asarray(group_labels(rows, grouping), dtype=object)
            names = sorted(set(labels[in_subset].tolist()))
            found = []
            for name in names:
                mask = in_subset & (labels == name)
                if mask.sum() >= min_group_size:
                    found.append(score(subset, grouping, name, mask))
            groups += sorted(found, key=worst_first_key)
            sub_labels = labels[in_subset].tolist()
            key = f"gap|{subset}|{grouping}"
            gaps.append(
                GapScore(
                    subset,
                    grouping,
                    worst_group_gap(
                        before[in_subset],
                        sub_labels,
                        weights[in_subset],
                        key=key,
                        min_group_size=min_group_size,
                        clusters=cl(in_subset),
                        **opts,
                    ),
                    worst_group_gap(
                        after[in_subset],
                        sub_labels,
                        weights[in_subset],
                        key=key,
                        min_group_size=min_group_size,
                        clusters=cl(in_subset),
                        **opts,
                    ),
                )
            )
    settings = {
        "n_boot": n_boot,
        "alpha": alpha,
        "seed": seed,
        "groupings": groupings,
        "min_group_size": min_group_size,
        "ci": "percentile bootstrap",
        "resampled": f"clusters of provenance.{cluster}" if clusters is not None else "pairs",
        "ties": "margin == 0 counts 0.5",
        "order": "groups of each subset and grouping worst first (accuracy after training)",
        **dict(extra_settings or {}),
    }
    margins = {"before": tuple(before.tolist()), "after": tuple(after.tolist())}
    return EvaluationResult(
        tuple(overall), tuple(groups), tuple(gaps), settings, dict(provenance or {}), margins
    )


def unique_margins(rows: Sequence[Mapping], score_fn) -> np.ndarray:
    """Call ``score_fn(unique_rows) -> margins`` once per distinct (prompt, chosen, rejected)
    and spread the margins back over ``rows`` (simulated panels repeat the same pair a lot)."""
    keys = [(r["prompt"], r["chosen"], r["rejected"]) for r in rows]
    unique: dict[tuple, int] = {}
    for k in keys:
        unique.setdefault(k, len(unique))
    uniq_rows = [{"prompt": k[0], "chosen": k[1], "rejected": k[2]} for k in unique]
    margins = np.asarray(score_fn(uniq_rows), dtype=float)
    if margins.shape != (len(uniq_rows),):
        raise ValueError(f"scorer returned {margins.shape}, expected ({len(uniq_rows)},)")
    return margins[[unique[k] for k in keys]]


def unique_rows(rows: Sequence[Mapping]) -> tuple[list[dict], np.ndarray]:
    """Distinct (prompt, chosen, rejected) triples in first-seen order, and each row's index
    into them (simulated panels repeat the same pair a lot; each is scored once)."""
    index: dict[tuple, int] = {}
    where = []
    for r in rows:
        where.append(index.setdefault((r["prompt"], r["chosen"], r["rejected"]), len(index)))
    uniq = [{"prompt": k[0], "chosen": k[1], "rejected": k[2]} for k in index]
    return uniq, np.asarray(where, dtype=int)


def evaluate_models(
    model_dir: str | Path,
    ref_dir: str | Path,
    pairs: Sequence[PreferencePair | Mapping[str, Any]],
    settings: EvaluateSettings | None = None,
    *,
    seed: int = 0,
    before_dir: str | Path | None = None,
    groupings: Sequence[str] | None = None,
    provenance: Mapping[str, Any] | None = None,
    logps: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
) -> EvaluationResult:
    """Score the held-out ``pairs`` (:class:`~pluralign.data.preferences.PreferencePair`, or
    their ``to_dict`` rows) with the models (summed completion log-probabilities, each model
    loaded once, each distinct pair scored once), then :func:`evaluate_margins` with the
    :class:`~pluralign.evaluate.settings.EvaluateSettings` (defaults when None).

    ``settings.margin="likelihood"`` (default): before = the base model's own preference
    β·[log π₀(y_w|x) − log π₀(y_l|x)] (π₀ = ``before_dir`` if given, else the reference
    ``ref_dir``), after = the trained model's; ``implicit`` beside them = the trained model's DPO
    implicit reward margin against the reference. ``"implicit"``: after = that implicit
    margin, before = ``before_dir`` against the reference, or exactly 0 (the reference against
    itself: accuracy 0.5 by the tie rule). ``groupings`` (default: every grouping the rows
    carry) and ``seed`` (of the bootstrap) as in :func:`evaluate_margins`. ``logps`` may hold
    already computed ``{"policy"|"ref"|"before": (chosen, rejected)}`` arrays over
    :func:`unique_rows`."""
    settings = settings or EvaluateSettings()
    rows = [p.to_dict() if isinstance(p, PreferencePair) else p for p in pairs]
    beta, margin = settings.beta, settings.margin
    kwargs: dict[str, Any] = {
        "groupings": groupings, "n_boot": settings.n_boot, "alpha": settings.alpha,
        "seed": seed, "min_group_size": settings.min_group_size, "cluster": settings.cluster,
        "provenance": provenance,
    }
    from pluralign.train import pair_logps

    if margin not in MARGINS:
        raise ValueError(f"margin must be one of {MARGINS}, got {margin!r}")
    uniq, where = unique_rows(rows)
    have = dict(logps or {})

    def lp(name: str, folder) -> tuple[np.ndarray, np.ndarray]:
        if name not in have:
            have[name] = pair_logps(str(folder), uniq)
        return have[name]

    policy_c, policy_r = lp("policy", model_dir)
    ref_c, ref_r = lp("ref", ref_dir)
    implicit = beta * ((policy_c - ref_c) - (policy_r - ref_r))
    if margin == "likelihood":
        base_c, base_r = lp("before", before_dir) if before_dir is not None else (ref_c, ref_r)
        before = beta * (base_c - base_r)
        after = beta * (policy_c - policy_r)
        extra = {"margin": "likelihood", "logp": "sum over reply tokens"}
        return evaluate_margins(
            rows, before[where], after[where], implicit=implicit[where],
            extra_settings=extra, **kwargs,
        )
    if before_dir is None:
        before = np.zeros(len(uniq))
    else:
        bc, br = lp("before", before_dir)
        before = beta * ((bc - ref_c) - (br - ref_r))
    extra = {"margin": "implicit", "logp": "sum over reply tokens"}
    return evaluate_margins(rows, before[where], implicit[where], extra_settings=extra, **kwargs)
