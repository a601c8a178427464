"""Small sortition instances and an independent brute-force LEXIMIN for the panel tests."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from pluralign.panel import Quota, Quotas


def random_instance(
    seed: int, n: int = 8, k: int = 3, features: int = 2, values: int = 2, slack: int = 0
) -> tuple[pd.DataFrame, Quotas]:
    """A pool of ``n`` with random values, and quotas built around a random panel's counts
    (so at least that panel is feasible), widened by ``slack`` seats."""
    rng = np.random.default_rng(seed)
    names = [f"f{j}" for j in range(features)]
    data = {"id": [f"p{i}" for i in range(n)]}
    for f in names:
        data[f] = [f"v{x}" for x in rng.integers(0, values, size=n)]
    pool = pd.DataFrame(data)
    panel = rng.choice(n, size=k, replace=False)
    items = []
    for f in names:
        for v in sorted(set(pool[f])):
            count = int((pool[f].iloc[panel] == v).sum())
            items.append(Quota(f, v, max(0, count - slack), min(k, count + slack)))
    return pool, Quotas(tuple(items))


def household_instance(
    seed: int, n: int = 8, k: int = 3, features: int = 2, values: int = 2, slack: int = 0
) -> tuple[pd.DataFrame, Quotas]:
    """:func:`random_instance` with a column ``home``: people share households (about two a
    household, some alone), and the quotas are built around a panel from distinct households."""
    rng = np.random.default_rng(seed)
    homes = [f"h{x}" for x in rng.integers(0, max(k, (n + 1) // 2), size=n)]
    distinct = list(dict.fromkeys(homes))
    while len(distinct) < k:  # enough households for a panel
        i = int(rng.integers(n))
        homes[i] = f"x{i}"
        distinct = list(dict.fromkeys(homes))
    pool, _ = random_instance(seed, n, k, features, values, slack)
    pool["home"] = homes
    first = [homes.index(h) for h in distinct]
    panel = rng.choice(first, size=k, replace=False)
    items = []
    for f in [c for c in pool.columns if c.startswith("f")]:
        for v in sorted(set(pool[f])):
            count = int((pool[f].iloc[panel] == v).sum())
            items.append(Quota(f, v, max(0, count - slack), min(k, count + slack)))
    return pool, Quotas(tuple(items))


def feasible_panels(
    pool: pd.DataFrame, quotas: Quotas, k: int, households: str | None = None
) -> list[tuple[int, ...]]:
    """Every k-subset of the pool meeting every quota (pool row indices); with ``households``,
    only subsets with at most one person per value of that column."""
    out = []
    for panel in itertools.combinations(range(len(pool)), k):
        rows = pool.iloc[list(panel)]
        if households is not None and rows[households].nunique() < k:
            continue
        if all(q.min <= int((rows[q.feature] == q.value).sum()) <= q.max for q in quotas.items):
            out.append(panel)
    return out


def meets(pool: pd.DataFrame, quotas: Quotas, ids, k: int, households: str | None = None) -> bool:
    """Whether the people ``ids`` form a panel of ``k`` meeting every quota (and, with
    ``households``, from ``k`` different households)."""
    rows = pool[pool["id"].isin(set(ids))]
    if households is not None and rows[households].nunique() < len(rows):
        return False
    return len(rows) == k == len(ids) and all(
        q.min <= int((rows[q.feature] == q.value).sum()) <= q.max for q in quotas.items
    )


def brute_nash(n: int, panels: list[tuple[int, ...]]) -> tuple[float, np.ndarray]:
    """Maximum of ``sum_i log pi_i`` over lotteries of ``panels`` (people on some panel), by
    BFGS on a softmax parametrisation; and the mask of those people."""
    from scipy.optimize import minimize

    M = np.zeros((n, len(panels)))
    for j, panel in enumerate(panels):
        M[list(panel), j] = 1.0
    live = M.sum(axis=1) > 0

    def neg_log_welfare(x):
        p = np.exp(x - x.max())
        p /= p.sum()
        q = M[live] @ p
        grad_p = -(1.0 / q) @ M[live]
        return -np.sum(np.log(q)), p * (grad_p - p @ grad_p)

    x0 = np.zeros(len(panels))
    best = min(
        minimize(neg_log_welfare, x0, jac=True, method="BFGS", tol=1e-12).fun,
        neg_log_welfare(x0)[0],
    )
    return -best, live


def _lp(c, A_ub, b_ub, P):
    res = linprog(
        c,
        A_ub=A_ub,
        b_ub=b_ub,
        A_eq=np.r_[np.ones(P), 0.0][None, :],
        b_eq=[1.0],
        bounds=[(0, None)] * P + [(None, None)],
        method="highs",
    )
    assert res.status == 0, res.message
    return res


def brute_leximin(n: int, panels: list[tuple[int, ...]], levels: int | None = None) -> np.ndarray:
    """Textbook LEXIMIN over explicit panels: maximise the minimum over unfixed people; fix every
    person whose probability cannot exceed it (one LP each); repeat. People on no panel get 0.
    ``levels=1`` gives the MAXIMIN value for everyone fixed at the first level."""
    P = len(panels)
    M = np.zeros((n, P))
    for j, panel in enumerate(panels):
        M[list(panel), j] = 1.0
    fixed = np.full(n, np.nan)
    fixed[M.sum(axis=1) == 0] = 0.0
    done = 0
    while np.isnan(fixed).any() and (levels is None or done < levels):
        done += 1
        un = np.isnan(fixed)
        # variables: p (P), z ; constraints: -M p + z <= 0 (unfixed), -M p <= -fixed (fixed)
        A = np.c_[-M, un.astype(float)]
        b = np.where(un, 0.0, -np.nan_to_num(fixed))
        z = -_lp(np.r_[np.zeros(P), -1.0], A, b, P).fun
        for i in np.flatnonzero(un):
            A2 = np.c_[-M, np.zeros(n)]
            b2 = np.where(un, -z + 1e-9, -np.nan_to_num(fixed))
            c = np.r_[-M[i], 0.0]
            best = -_lp(c, A2, b2, P).fun
            if best <= z + 1e-7:
                fixed[i] = z
        if levels == 1:
            fixed[np.isnan(fixed)] = np.inf
    return fixed
