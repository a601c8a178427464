"""Preference accuracy from implicit reward margins, per group, with bootstrap intervals.

For a held-out pair (x, y_w, y_l) the DPO implicit reward margin of a policy π against its
reference π_ref is (Rafailov et al. 2023, "Direct Preference Optimization", eq. 5 and §5)::

    m = β · [(log π(y_w|x) − log π_ref(y_w|x)) − (log π(y_l|x) − log π_ref(y_l|x))]

The pair counts as *correct* when m > 0, as half correct when m = 0 (a tie: the policy has no
preference, e.g. the untrained policy, which *is* the reference, scores every pair 0.5) and wrong
when m < 0. Accuracy is the weighted mean of these scores with the pairs' weights.

Confidence intervals are percentile bootstrap intervals (Efron & Tibshirani 1993, ch. 13): draw
``n_boot`` resamples with replacement (within each group separately when a statistic spans
several groups), recompute the statistic on each, and report the ``α/2`` and ``1 − α/2``
quantiles. The resampled units are the rows, or whole clusters (e.g. all pairs of one
participant, whose choices are not independent: a cluster bootstrap, Davison & Hinkley 1997,
§3.8) when cluster labels are given. Before and after are resampled with the same indices
(paired), so the interval of the improvement is meaningful. Each statistic's generator is seeded
from ``(seed, crc32(key))`` so a result does not depend on which other groups were evaluated.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pluralign.data.groups import group_labels  # noqa: F401  (re-exported)
from pluralign.evaluate.settings import EvaluateSettings


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile-bootstrap interval."""

    estimate: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def pair_scores(margins: Sequence[float] | np.ndarray, tie_tolerance: float = 0.0) -> np.ndarray:
    """1 where the margin is > tolerance, 0 where < −tolerance, 0.5 for ties."""
    m = np.asarray(margins, dtype=float)
    if not np.all(np.isfinite(m)):
        raise ValueError("margins must be finite")
    return np.where(m > tie_tolerance, 1.0, np.where(m < -tie_tolerance, 0.0, 0.5))


def _weights(weights: Sequence[float] | np.ndarray | None, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,):
        raise ValueError(f"expected {n} weights, got shape {w.shape}")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and >= 0")
    return w


def preference_accuracy(
    margins: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    tie_tolerance: float = 0.0,
) -> float:
    """Weighted share of pairs whose margin favours the chosen response (ties count half).
    NaN for no pairs or zero total weight."""
    s = pair_scores(margins, tie_tolerance)
    w = _weights(weights, s.size)
    total = w.sum()
    return float((s * w).sum() / total) if total > 0 else float("nan")


def _seeded(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def _units(
    scores: np.ndarray, weights: np.ndarray, clusters: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Per resampling unit, Σ w·s and Σ w: one unit per row, or per cluster (e.g. person)."""
    if clusters is None:
        return scores * weights, weights
    labels = np.asarray([str(c) for c in clusters], dtype=object)
    if labels.shape != scores.shape:
        raise ValueError("one cluster label per margin is needed")
    codes = np.unique(labels, return_inverse=True)[1]
    return (np.bincount(codes, weights=scores * weights), np.bincount(codes, weights=weights))


def _boot_means(sw: np.ndarray, ww: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Weighted mean Σ w·s / Σ w of each resample of units (rows of ``idx``)."""
    total = ww[idx].sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, sw[idx].sum(axis=1) / total, np.nan)


def _interval(estimate: float, draws: np.ndarray, alpha: float) -> Interval:
    draws = draws[np.isfinite(draws)]
    if draws.size == 0 or not np.isfinite(estimate):
        return Interval(float(estimate), float("nan"), float("nan"))
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2])
    return Interval(float(estimate), float(low), float(high))


def bootstrap_accuracy(
    margins: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    n_boot: int = EvaluateSettings.n_boot,
    alpha: float = EvaluateSettings.alpha,
    seed: int = 0,
    key: str = "",
    tie_tolerance: float = 0.0,
    clusters: Sequence[str] | None = None,
) -> Interval:
    """Accuracy with a percentile-bootstrap interval: rows resampled with replacement, or whole
    clusters (``clusters``: one label per row, e.g. the participant) when given."""
    s = pair_scores(margins, tie_tolerance)
    w = _weights(weights, s.size)
    if s.size == 0 or w.sum() <= 0:
        return Interval(float("nan"), float("nan"), float("nan"))
    estimate = float((s * w).sum() / w.sum())
    sw, ww = _units(s, w, clusters)
    idx = _seeded(seed, key).integers(0, sw.size, size=(n_boot, sw.size))
    return _interval(estimate, _boot_means(sw, ww, idx), alpha)


@dataclass(frozen=True)
class PairedBootstrap:
    """Before, after and after − before for one set of pairs, resampled together; ``units`` is
    the number of resampled units (pairs, or clusters such as participants)."""

    n: int
    weight: float
    before: Interval
    after: Interval
    improvement: Interval
    units: int = 0


def paired_bootstrap(
    before: Sequence[float] | np.ndarray,
    after: Sequence[float] | np.ndarray,
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    n_boot: int = EvaluateSettings.n_boot,
    alpha: float = EvaluateSettings.alpha,
    seed: int = 0,
    key: str = "",
    tie_tolerance: float = 0.0,
    clusters: Sequence[str] | None = None,
) -> PairedBootstrap:
    """Accuracy before and after training on the same pairs, with paired bootstrap intervals
    (rows, or whole ``clusters``, resampled with the same indices for before and after)."""
    sb = pair_scores(before, tie_tolerance)
    sa = pair_scores(after, tie_tolerance)
    if sb.shape != sa.shape:
        raise ValueError("before and after margins differ in length")
    w = _weights(weights, sa.size)
    n = sa.size
    if n == 0 or w.sum() <= 0:
        nan = Interval(float("nan"), float("nan"), float("nan"))
        return PairedBootstrap(n, float(w.sum()), nan, nan, nan, 0)
    eb = float((sb * w).sum() / w.sum())
    ea = float((sa * w).sum() / w.sum())
    swb, ww = _units(sb, w, clusters)
    swa, _ = _units(sa, w, clusters)
    idx = _seeded(seed, key).integers(0, ww.size, size=(n_boot, ww.size))
    db = _boot_means(swb, ww, idx)
    da = _boot_means(swa, ww, idx)
    return PairedBootstrap(
        n,
        float(w.sum()),
        _interval(eb, db, alpha),
        _interval(ea, da, alpha),
        _interval(ea - eb, da - db, alpha),
        int((ww > 0).sum()),
    )


@dataclass(frozen=True)
class GapResult:
    """Worst-group gap: best group's accuracy minus the worst group's, with its interval."""

    gap: Interval
    worst_group: str
    best_group: str
    groups: tuple[str, ...]


def worst_group_gap(
    margins: Sequence[float] | np.ndarray,
    groups: Sequence[str],
    weights: Sequence[float] | np.ndarray | None = None,
    *,
    n_boot: int = EvaluateSettings.n_boot,
    alpha: float = EvaluateSettings.alpha,
    seed: int = 0,
    key: str = "",
    tie_tolerance: float = 0.0,
    min_group_size: int = 1,
    clusters: Sequence[str] | None = None,
) -> GapResult | None:
    """``max_g acc_g − min_g acc_g`` over groups with at least ``min_group_size`` pairs.

    The interval resamples rows (or ``clusters``) within each group (stratified bootstrap) and
    recomputes the gap. None when fewer than two groups qualify."""
    s = pair_scores(margins, tie_tolerance)
    w = _weights(weights, s.size)
    labels = np.asarray([str(g) for g in groups], dtype=object)
    if labels.shape != s.shape:
        raise ValueError("one group label per margin is needed")
    names = sorted(
        g
        for g in set(labels.tolist())
        if (labels == g).sum() >= min_group_size and w[labels == g].sum() > 0
    )
    if len(names) < 2:
        return None
    rng = _seeded(seed, key)
    cl = None if clusters is None else np.asarray([str(c) for c in clusters], dtype=object)
    accs, draws = [], []
    for g in names:
        mask = labels == g
        sg, wg = s[mask], w[mask]
        accs.append(float((sg * wg).sum() / wg.sum()))
        sw, ww = _units(sg, wg, None if cl is None else cl[mask])
        idx = rng.integers(0, sw.size, size=(n_boot, sw.size))
        draws.append(_boot_means(sw, ww, idx))
    accs_arr = np.asarray(accs)
    stacked = np.vstack(draws)
    gaps = np.nanmax(stacked, axis=0) - np.nanmin(stacked, axis=0)
    gap = _interval(float(accs_arr.max() - accs_arr.min()), gaps, alpha)
    return GapResult(
        gap, names[int(accs_arr.argmin())], names[int(accs_arr.argmax())], tuple(names)
    )
