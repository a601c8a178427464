"""Soft weights: re-weight any group of panel members (or participants) to the population.

Given people ``i`` in a sample (the drawn panel, or the members who actually voted), their
selection probabilities ``pi_i`` and target shares ``P_f(v)`` for every feature ``f`` and value
``v`` (the population's, or the pool's when no population is known), the weight is

    w_i = d_i * prod_f a_f(x_if),      d_i = 1 / pi_i                    (Horvitz & Thompson 1952)

where the factors ``a_f(v)`` are found by raking / iterative proportional fitting (Deming & Stephan
1940): repeatedly, for each feature, scale the weights of the people with ``f = v`` so that their
weighted share equals ``P_f(v)``. At convergence, for every feature and value,

    sum_{i: x_if = v} w_i / sum_i w_i = P_f(v),

i.e. weighted counts of the sample match the population margins; weights are then scaled to mean
1, so an unweighted sample has weights 1. ``d_i`` corrects the unequal selection chances of the
lottery (relative to the pool); the raking corrects the pool's departures from the population (a
self-selected pool over-represents some groups). Target values absent from the sample cannot be
represented: they are listed in ``missing`` and the shares of that feature's other values are
renormalised. ``cap`` optionally trims weights at ``cap`` times the mean (re-raking after trimming),
the usual guard against a few people carrying huge weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pluralign.errors import InputError
from pluralign.panel.inputs import check_population


@dataclass(frozen=True, eq=False)
class Weights:
    """Weights (sample order, mean 1) and how they were obtained."""

    weights: np.ndarray
    iterations: int
    converged: bool
    max_error: float
    missing: tuple[tuple[str, str], ...]

    def as_series(self, index) -> pd.Series:
        return pd.Series(self.weights, index=index, name="weight")


def pool_shares(pool: pd.DataFrame, features) -> dict[str, dict[str, float]]:
    """Share of each value of each feature in ``pool`` (the target when no population is known)."""
    return {
        f: {str(v): float(s) for v, s in pool[f].astype(str).value_counts(normalize=True).items()}
        for f in features
    }


def soft_weights(
    sample: pd.DataFrame,
    population: Mapping[str, Mapping[str, float]],
    probabilities: np.ndarray | None = None,
    *,
    cap: float | None = None,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> Weights:
    """Weights re-weighting ``sample`` (one row per person, one column per feature) to
    ``population`` shares; see the module docstring for the formula.

    ``probabilities`` are the people's selection probabilities (``None``: all equal).
    """
    population = check_population(population)
    n = len(sample)
    if n == 0:
        raise InputError("cannot weight an empty sample")
    for f in population:
        if f not in sample.columns:
            raise InputError(f"the sample has no column for feature {f!r}")
    if probabilities is None:
        base = np.ones(n)
    else:
        prob = np.asarray(probabilities, dtype=np.float64)
        if prob.shape != (n,) or not (prob > 0).all():
            raise InputError("selection probabilities must be > 0, one per person in the sample")
        base = 1.0 / prob
    groups = []
    missing = []
    for f, shares in population.items():
        values = sample[f].astype(str).to_numpy()
        unknown = sorted(set(values) - {v for v, s in shares.items() if s > 0})
        if unknown:
            raise InputError(
                f"{f}={unknown[0]!r} occurs in the sample but has no population share",
                hint=f"add {unknown[0]!r} to the population shares of {f!r}",
            )
        present = {v: s for v, s in shares.items() if s > 0 and (values == v).any()}
        missing += [(f, v) for v, s in shares.items() if s > 0 and v not in present]
        total = sum(present.values())
        groups.append([(values == v, s / total) for v, s in present.items()])
    w = base.copy()
    converged, it, err = False, 0, np.inf
    for _ in range(2 if cap else 1):
        for it in range(1, max_iter + 1):  # noqa: B007 - `it` is reported
            for feature in groups:
                total = w.sum()
                for mask, share in feature:
                    w[mask] *= share * total / w[mask].sum()
            total = w.sum()
            err = max(
                abs(w[mask].sum() / total - share) for feature in groups for mask, share in feature
            )
            if err <= tol:
                converged = True
                break
        if cap:
            w = np.minimum(w, cap * w.mean())
    w = w * (n / w.sum())
    return Weights(w, it, converged, float(err), tuple(missing))


def panel_weights(
    result, pool: pd.DataFrame, population=None, *, cap: float | None = None
) -> Weights:
    """Soft weights of the drawn panel of ``result``, in pool order of the panel members.

    ``population`` defaults to the pool's own shares on the quota features (``result.features``).
    """
    ids = pool["id"].astype(str).str.strip().to_numpy()
    chosen = np.isin(ids, np.array(result.panel))
    if population is None:
        population = pool_shares(pool, result.features)
    return soft_weights(pool[chosen], population, result.probabilities[chosen], cap=cap)
