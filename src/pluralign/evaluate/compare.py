"""Compare two evaluated runs on the same held-out pairs: per-group differences with paired
intervals, mean and worst-group accuracy, and the trade-off between them.

``pluralign evaluate --compare RUN_A RUN_B`` reads each run's ``evaluate/metrics.json`` and the
per-pair margins beside it (``margins.json``), and the held-out pairs the metrics name (the file's
sha256 must match; a run folder's ``data/heldout.jsonl`` is tried too). Both runs must have been
evaluated on the same pairs with the same kind of margin.

For every subset (``all``, each prompt kind) and grouping, each group's accuracy after training
in A and in B and the difference B − A come with a percentile-bootstrap interval in which A and
B are resampled with the **same** indices (paired; whole participants when the metrics resampled
participants), so the interval reflects the pairing (docs/evaluation.md). Beside the groups:

* **mean accuracy** (grouping ``all``) of A and B and its difference, paired the same way;
* **worst-group accuracy** min_g acc_g of A and of B (each its own worst group) and the
  difference, resampling within each group (stratified, as the worst-group gap) with the same
  indices for A and B.

A positive difference means B did better. :func:`tradeoff_png` draws mean against worst-group
accuracy, one point per run with both intervals (the cost of robustness in mean accuracy is the
horizontal distance, its gain for the worst group the vertical one).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pluralign.errors import InputError
from pluralign.evaluate.metrics import (
    Interval,
    _boot_means,
    _interval,
    _seeded,
    _units,
    group_labels,
    pair_scores,
    paired_bootstrap,
)
from pluralign.evaluate.run import MARGINS_FILE
from pluralign.evaluate.settings import EvaluateSettings


@dataclass(frozen=True)
class EvaluatedRun:
    """One run's evaluation: its label, metrics, held-out rows and per-pair margins."""

    label: str
    folder: Path
    metrics: Mapping[str, Any]
    rows: list[dict[str, Any]]
    before: np.ndarray
    after: np.ndarray


def _metrics_path(run: Path) -> Path:
    for path in (run / "evaluate" / "metrics.json", run / "metrics.json", run):
        if path.is_file():
            return path
    raise InputError(
        "no evaluate/metrics.json", where=str(run), hint="give a run folder or an evaluate folder"
    )


def load_run(run: str | Path, label: str | None = None) -> EvaluatedRun:
    """Read a run folder (or an evaluate output folder) for :func:`compare_runs`."""
    from pluralign.io import read_json, sha256_file

    run = Path(run)
    path = _metrics_path(run)
    metrics = read_json(path, what="metrics")
    if not isinstance(metrics, dict) or "groups" not in metrics or "overall" not in metrics:
        raise InputError("not a pluralign evaluate metrics file", where=str(path))
    margins_path = path.parent / MARGINS_FILE
    if not margins_path.is_file():
        raise InputError(
            f"no {MARGINS_FILE} beside the metrics",
            where=str(path.parent),
            hint="evaluate the run again with this version of pluralign (it writes the margins)",
        )
    margins = read_json(margins_path, what="margins")
    data = ((metrics.get("provenance") or {}).get("inputs") or {}).get("data") or {}
    candidates = [Path(data["path"])] if data.get("path") else []
    candidates.append(path.parent.parent / "data" / "heldout.jsonl")
    rows_path = next(
        (
            p
            for p in candidates
            if p.is_file() and (not data.get("sha256") or sha256_file(p) == data["sha256"])
        ),
        None,
    )
    if rows_path is None:
        raise InputError(
            "the held-out pairs these metrics were computed on are gone or changed",
            where=str(path),
            hint=f"looked for {', '.join(map(str, candidates))}",
        )
    from pluralign.data.preferences import read_jsonl

    rows = [p.to_dict() for p in read_jsonl(rows_path).pairs]
    arrays = {}
    for key in ("before", "after"):
        values = margins.get(key) if isinstance(margins, dict) else None
        if not isinstance(values, list) or len(values) != len(rows):
            raise InputError(
                f"'{key}' must hold one margin per held-out pair ({len(rows)})",
                where=str(margins_path),
            )
        arrays[key] = np.asarray(values, dtype=float)
    return EvaluatedRun(label or run.name, run, metrics, rows, arrays["before"], arrays["after"])


@dataclass(frozen=True)
class GroupDifference:
    """One group's accuracy after training in A and B and B − A (paired interval)."""

    subset: str
    grouping: str
    group: str
    n: int
    a: Interval
    b: Interval
    difference: Interval


@dataclass(frozen=True)
class WorstGroup:
    """Worst-group accuracy of A and B on one subset and grouping, and B − A."""

    subset: str
    grouping: str
    a: Interval
    b: Interval
    difference: Interval
    worst_a: str
    worst_b: str


@dataclass(frozen=True)
class Comparison:
    """Everything ``evaluate --compare`` measured (A = baseline, B = the other run)."""

    labels: tuple[str, str]
    overall: tuple[GroupDifference, ...]
    groups: tuple[GroupDifference, ...]
    worst: tuple[WorstGroup, ...]
    before: tuple[GroupDifference, ...] = ()
    settings: Mapping[str, Any] = field(default_factory=dict)

    def worst_of(self, subset: str, grouping: str) -> WorstGroup:
        for w in self.worst:
            if (w.subset, w.grouping) == (subset, grouping):
                return w
        raise KeyError((subset, grouping))

    def overall_of(self, subset: str) -> GroupDifference:
        for g in self.overall:
            if g.subset == subset:
                return g
        raise KeyError(subset)

    def to_dict(self) -> dict[str, Any]:
        def diff(g: GroupDifference) -> dict[str, Any]:
            return {
                "subset": g.subset,
                "grouping": g.grouping,
                "group": g.group,
                "n": g.n,
                "a": g.a.to_dict(),
                "b": g.b.to_dict(),
                "difference": g.difference.to_dict(),
            }

        return {
            "format": "pluralign.compare/1",
            "a": self.labels[0],
            "b": self.labels[1],
            "overall": [diff(g) for g in self.overall],
            "worst": [
                {
                    "subset": w.subset,
                    "grouping": w.grouping,
                    "a": {**w.a.to_dict(), "group": w.worst_a},
                    "b": {**w.b.to_dict(), "group": w.worst_b},
                    "difference": w.difference.to_dict(),
                }
                for w in self.worst
            ],
            "groups": [diff(g) for g in self.groups],
            "before": [diff(g) for g in self.before],
            "settings": dict(self.settings),
        }

    def to_json(self) -> str:
        from pluralign.evaluate.run import _nan_to_none

        return json.dumps(_nan_to_none(self.to_dict()), indent=2) + "\n"


def _cluster_key(metrics: Mapping[str, Any]) -> str | None:
    resampled = str((metrics.get("settings") or {}).get("resampled") or "")
    prefix = "clusters of provenance."
    return resampled[len(prefix) :] if resampled.startswith(prefix) else None


def _margin_kind(metrics: Mapping[str, Any]) -> str:
    """The margin a run was evaluated with (``pluralign evaluate`` records it in the
    provenance's settings)."""
    settings = metrics.get("settings") or {}
    prov = (metrics.get("provenance") or {}).get("settings") or {}
    return str(settings.get("margin") or prov.get("margin") or "implicit")


def _same_pairs(a: EvaluatedRun, b: EvaluatedRun) -> None:
    def key(r: Mapping[str, Any]) -> tuple:
        return (r["prompt"], r["chosen"], r["rejected"], float(r.get("weight", 1.0)))

    if len(a.rows) != len(b.rows) or any(
        key(x) != key(y) for x, y in zip(a.rows, b.rows, strict=True)
    ):
        raise InputError(
            f"{a.label} and {b.label} were evaluated on different held-out pairs",
            hint="compare runs evaluated on the same data/heldout.jsonl",
        )
    kinds = [_margin_kind(r.metrics) for r in (a, b)]
    if kinds[0] != kinds[1]:
        raise InputError(
            f"{a.label} used {kinds[0]} margins but {b.label} {kinds[1]}",
            hint="evaluate both with the same --margin",
        )


def worst_group_paired(
    margins_a: np.ndarray,
    margins_b: np.ndarray,
    groups: Sequence[str],
    weights: np.ndarray,
    *,
    clusters: Sequence[str] | None = None,
    n_boot: int = EvaluateSettings.n_boot,
    alpha: float = EvaluateSettings.alpha,
    seed: int = 0,
    key: str = "",
    min_group_size: int = 1,
) -> tuple[Interval, Interval, Interval, str, str] | None:
    """min_g acc_g of A and of B and their difference B − A, with intervals from a bootstrap
    that resamples rows (or ``clusters``) within each group, the same indices for A and B.
    None when no group has ``min_group_size`` pairs and positive weight."""
    sa, sb = pair_scores(margins_a), pair_scores(margins_b)
    labels = np.asarray([str(g) for g in groups], dtype=object)
    names = sorted(
        g
        for g in set(labels.tolist())
        if (labels == g).sum() >= min_group_size and weights[labels == g].sum() > 0
    )
    if not names:
        return None
    rng = _seeded(seed, key)
    cl = None if clusters is None else np.asarray([str(c) for c in clusters], dtype=object)
    acc_a, acc_b, draws_a, draws_b = [], [], [], []
    for g in names:
        mask = labels == g
        w = weights[mask]
        acc_a.append(float((sa[mask] * w).sum() / w.sum()))
        acc_b.append(float((sb[mask] * w).sum() / w.sum()))
        swa, ww = _units(sa[mask], w, None if cl is None else cl[mask])
        swb, _ = _units(sb[mask], w, None if cl is None else cl[mask])
        idx = rng.integers(0, ww.size, size=(n_boot, ww.size))
        draws_a.append(_boot_means(swa, ww, idx))
        draws_b.append(_boot_means(swb, ww, idx))
    wa, wb = np.nanmin(np.vstack(draws_a), axis=0), np.nanmin(np.vstack(draws_b), axis=0)
    ea, eb = min(acc_a), min(acc_b)
    return (
        _interval(ea, wa, alpha),
        _interval(eb, wb, alpha),
        _interval(eb - ea, wb - wa, alpha),
        names[int(np.argmin(acc_a))],
        names[int(np.argmin(acc_b))],
    )


def compare_runs(
    a: EvaluatedRun,
    b: EvaluatedRun,
    *,
    n_boot: int = EvaluateSettings.n_boot,
    alpha: float = EvaluateSettings.alpha,
    seed: int = 0,
    min_group_size: int = 1,
    groupings: Sequence[str] | None = None,
) -> Comparison:
    """Per-group, mean and worst-group accuracy of B against A (module docstring)."""
    from pluralign.evaluate.run import prompt_kinds, subset_mask

    _same_pairs(a, b)
    rows = a.rows
    weights = np.asarray([float(r.get("weight", 1.0)) for r in rows])
    cluster = _cluster_key(a.metrics)
    clusters = None
    if cluster is not None:
        values = [(r.get("provenance") or {}).get(cluster) for r in rows]
        if all(v not in (None, "") for v in values):
            clusters = np.asarray([str(v) for v in values], dtype=object)
    if groupings is None:
        groupings = list((a.metrics.get("settings") or {}).get("groupings") or ["group"])
    opts = {"n_boot": n_boot, "alpha": alpha, "seed": seed}

    def diff(subset, grouping, group, mask, x, y, tag="") -> GroupDifference:
        r = paired_bootstrap(
            x[mask],
            y[mask],
            weights[mask],
            key=f"compare{tag}|{subset}|{grouping}|{group}",
            clusters=None if clusters is None else clusters[mask],
            **opts,
        )
        return GroupDifference(subset, grouping, group, r.n, r.before, r.after, r.improvement)

    overall, per_group, worst, before = [], [], [], []
    for subset in prompt_kinds(rows):
        in_subset = subset_mask(rows, subset)
        overall.append(diff(subset, "all", "all", in_subset, a.after, b.after))
        before.append(diff(subset, "all", "all", in_subset, a.before, a.after, "|before"))
        for grouping in groupings:
            labels = np.asarray(group_labels(rows, grouping), dtype=object)
            found = []
            for name in sorted(set(labels[in_subset].tolist())):
                mask = in_subset & (labels == name)
                if mask.sum() >= min_group_size:
                    found.append(diff(subset, grouping, name, mask, a.after, b.after))
            per_group += sorted(found, key=_worst_first)
            w = worst_group_paired(
                a.after[in_subset],
                b.after[in_subset],
                labels[in_subset].tolist(),
                weights[in_subset],
                clusters=None if clusters is None else clusters[in_subset],
                key=f"compare-worst|{subset}|{grouping}",
                min_group_size=min_group_size,
                **opts,
            )
            if w is not None:
                worst.append(WorstGroup(subset, grouping, *w))
    settings = {
        **opts,
        "min_group_size": min_group_size,
        "groupings": list(groupings),
        "resampled": f"clusters of provenance.{cluster}" if clusters is not None else "pairs",
        "paired": "A and B resampled with the same indices",
        "difference": "B - A",
        "order": "groups worst first by A's accuracy",
        "before": "tie" if np.all(a.before == 0) else "measured",
    }
    return Comparison(
        (a.label, b.label), tuple(overall), tuple(per_group), tuple(worst), tuple(before), settings
    )


def _worst_first(g: GroupDifference):
    """A's accuracy first (the baseline), then B's, then the name; no estimate last (the report's
    worst-first rule, :func:`pluralign.evaluate.run.worst_first_key`)."""
    est = g.a.estimate
    return (not math.isfinite(est), est if math.isfinite(est) else 0.0, g.b.estimate, g.group)


@dataclass(frozen=True)
class TradeoffPoint:
    """One run on the trade-off plot."""

    label: str
    mean: Interval
    worst: Interval
    worst_group: str = ""
    series: str = ""
    """Points of one series (e.g. ``group-robust`` over several seeds) share a colour and one
    legend entry."""


def tradeoff_points(comparison: Comparison, subset: str, grouping: str) -> list[TradeoffPoint]:
    """The base model (A's before), A and B as points of :func:`tradeoff_png`."""
    w = comparison.worst_of(subset, grouping)
    o = comparison.overall_of(subset)
    base = next(g for g in comparison.before if g.subset == subset)
    points = [
        TradeoffPoint(comparison.labels[0], o.a, w.a, w.worst_a),
        TradeoffPoint(comparison.labels[1], o.b, w.b, w.worst_b),
    ]
    if comparison.settings.get("before") == "measured":
        # not the 0.5 tie of implicit margins (every before margin 0)
        points.insert(0, TradeoffPoint("base model", base.a, _interval_nan(), ""))
    return points


def _interval_nan() -> Interval:
    nan = float("nan")
    return Interval(nan, nan, nan)


def tradeoff_png(points: Sequence[TradeoffPoint], path: str | Path, *, title: str = "") -> Path:
    """Mean (x) against worst-group (y) accuracy with 95 % intervals, one labelled point per run
    (or one colour per ``series``); points without a worst-group value are drawn as a vertical
    line at their mean. PNG."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2, 4.2), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    colours = ["#1f6feb", "#d1242f", "#1a7f37", "#8250df", "#bf8700", "#6e7781"]
    keys: dict[str, str] = {}
    for p in points:
        if not math.isfinite(p.worst.estimate):
            ax.axvline(p.mean.estimate, color="#9aa5b1", linestyle="--", linewidth=1)
            ax.annotate(
                p.label,
                (p.mean.estimate, 0.6),
                xycoords=("data", "axes fraction"),
                fontsize=8,
                color="#57606a",
                rotation=90,
                ha="right",
            )
            continue
        key = p.series or p.label
        first = key not in keys
        colour = keys.setdefault(key, colours[len(keys) % len(colours)])
        if p.series:
            label = p.series if first else None
        else:
            label = f"{p.label} (worst: {p.worst_group})" if p.worst_group else p.label
        ax.errorbar(
            p.mean.estimate,
            p.worst.estimate,
            xerr=[[p.mean.estimate - p.mean.low], [p.mean.high - p.mean.estimate]],
            yerr=[[p.worst.estimate - p.worst.low], [p.worst.high - p.worst.estimate]],
            fmt="o",
            color=colour,
            capsize=3,
            label=label,
            alpha=0.85,
        )
    ax.set_xlabel("mean accuracy (95% CI)")
    ax.set_ylabel("worst-group accuracy (95% CI)")
    lo = min([0.4] + [v for p in points for v in (p.mean.low, p.worst.low) if math.isfinite(v)])
    hi = max([0.6] + [v for p in points for v in (p.mean.high, p.worst.high) if math.isfinite(v)])
    pad = 0.03
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(lo - pad, hi + pad)
    ax.plot([0, 1], [0, 1], color="#d0d7de", linewidth=1, zorder=0)  # worst = mean
    ax.grid(True, color="#eaeef2")
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    path = Path(path)
    from pluralign.io import atomic_open

    with atomic_open(path, "wb") as fh:
        fig.savefig(fh, format="png", metadata={"Software": None})
    return path
