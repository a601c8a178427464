"""Infeasible quotas: the conflicting features and the smallest relaxation, against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from pluralign.errors import InfeasibleError
from pluralign.panel import (
    Quota,
    QuotaInfeasibleError,
    Quotas,
    apply_changes,
    conflicting_features,
    select_panel,
    smallest_relaxation,
)
from pluralign.panel.instance import build_instance


def _random_quotas(seed: int, n: int = 9, k: int = 3, homes: bool = False):
    """A random pool and random (often infeasible) quotas."""
    rng = np.random.default_rng(seed)
    pool = pd.DataFrame({"id": [f"p{i}" for i in range(n)]})
    for f in ("a", "b", "c"):
        pool[f] = [f"v{x}" for x in rng.integers(0, 2, size=n)]
    if homes:
        pool["home"] = [f"h{x}" for x in rng.integers(0, n - 2, size=n)]
    items = []
    for f in ("a", "b", "c"):
        for v in ("v0", "v1"):
            lo = int(rng.integers(0, k + 1))
            items.append(Quota(f, v, lo, int(rng.integers(lo, k + 1))))
    return pool, Quotas(tuple(items)), k


def _brute(pool, quotas, k, column):
    """Per k-subset (distinct households with ``column``): count of people per quota value."""
    X = np.column_stack([(pool[q.feature] == q.value).to_numpy() for q in quotas.items])
    homes = None if column is None else pool[column].to_numpy()
    subsets = [
        p
        for p in itertools.combinations(range(len(pool)), k)
        if homes is None or len(set(homes[list(p)])) == k
    ]
    counts = np.array([X[list(p)].sum(axis=0) for p in subsets]).reshape(-1, X.shape[1])
    return counts


def _feasible(counts, quotas, names=None) -> bool:
    keep = [names is None or q.feature in names for q in quotas.items]
    lo = np.array([q.min for q in quotas.items])[keep]
    hi = np.array([q.max for q in quotas.items])[keep]
    c = counts[:, keep]
    return bool(((c >= lo) & (c <= hi)).all(axis=1).any())


@pytest.mark.parametrize("homes", [False, True], ids=["alone", "households"])
def test_smallest_relaxation_and_conflict_equal_brute_force(homes):
    tried = 0
    for seed in range(200):
        pool, quotas, k = _random_quotas(seed, homes=homes)
        column = "home" if homes else None
        inst = build_instance(pool, quotas, k, households=column, check=False)
        if pool.get("home", pool["id"]).nunique() < k:
            continue
        counts = _brute(pool, quotas, k, column)
        if _feasible(counts, quotas):
            assert smallest_relaxation(inst) == []
            continue
        tried += 1
        lo = np.array([q.min for q in quotas.items])
        hi = np.array([q.max for q in quotas.items])
        violation = np.maximum(lo - counts, 0) + np.maximum(counts - hi, 0)
        best = int(violation.sum(axis=1).min())
        # the tie-break: the least largest single change among the relaxations of least total
        widest = int(violation[violation.sum(axis=1) == best].max(axis=1).min())
        changes = smallest_relaxation(inst)
        assert sum(abs(c.new - c.old) for c in changes) == best
        assert max(abs(c.new - c.old) for c in changes) == widest
        relaxed = apply_changes(quotas, changes)
        assert _feasible(counts, relaxed)  # the relaxation really works
        # the conflicting features alone admit no panel; without any one of them, a panel exists
        features = conflicting_features(inst)
        assert not _feasible(counts, quotas, set(features))
        for f in features:
            assert _feasible(counts, quotas, set(features) - {f})
        with pytest.raises(QuotaInfeasibleError) as err:
            select_panel(pool, quotas, k, households=column)
        assert err.value.features == features and list(err.value.changes) == changes
        if tried >= 12:
            break
    assert tried >= 12


def test_relax_wording_and_report():
    # two people aged 65+ in the pool, but the quotas want three of them on a panel of 3
    pool = pd.DataFrame(
        {"id": list("abcdef"), "age": ["65+", "<65", "65+", "<65", "<65", "<65"],
         "g": ["w", "m", "w", "m", "w", "m"]}
    )  # fmt: skip
    quotas = Quotas(
        (Quota("age", "65+", 3, 3), Quota("age", "<65", 0, 3), Quota("g", "w", 0, 3),
         Quota("g", "m", 0, 3))
    )  # fmt: skip
    with pytest.raises(InfeasibleError) as err:
        select_panel(pool, quotas, 3)
    text = str(err.value)
    assert "quota age=65+ needs at least 3 panel members but the pool has only 2" in text
    assert "smallest relaxation: lower min of age=65+ from 3 to 2" in text
    assert "--relax" in text
    r = select_panel(pool, quotas, 3, relax=True)
    assert r.stats["relaxed"] == [
        {"feature": "age", "value": "65+", "bound": "min", "old": 3, "new": 2,
         "text": "lower min of age=65+ from 3 to 2"}
    ]  # fmt: skip
    # nobody over 65 allowed and at most 2 under 65: a max has to rise
    capped = Quotas((Quota("age", "65+", 0, 0), Quota("age", "<65", 0, 2), *quotas.items[2:]))
    with pytest.raises(InfeasibleError, match="raise max of age=") as err:
        select_panel(pool, capped, 3)
