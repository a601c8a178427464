"""A sortition instance reduced to *types*: pool members with the same value on every quota feature.

Members of one type are interchangeable for every quota, so a fair algorithm can give them the same
selection probability (Flanigan et al. 2021, Methods, note that LEXIMIN's probability vector is
unique and hence equal within a type). All optimisation works on *compositions* -- how many members
of each type a panel holds -- which shrinks the integer programs from one variable per person to
one per type.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pluralign.errors import InfeasibleError, InputError, at
from pluralign.panel.inputs import Quotas, check_pool


@dataclass(frozen=True)
class Instance:
    """A validated sortition problem.

    ``type_of[i]`` is the type of pool member ``i`` (pool order), ``type_size[t]`` the number of
    members of type ``t``, ``type_values[t]`` their values on ``features``. ``rows`` lists every
    quota as ``(feature, value, min, max, types)`` with the types having that value.
    """

    ids: tuple[str, ...]
    k: int
    features: tuple[str, ...]
    type_of: np.ndarray
    type_size: np.ndarray
    type_values: tuple[tuple[str, ...], ...]
    rows: tuple[tuple[str, str, int, int, np.ndarray], ...]
    quotas: Quotas

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def n_types(self) -> int:
        return len(self.type_size)

    def members(self, t: int) -> np.ndarray:
        """Pool indices (ascending) of the members of type ``t``."""
        return np.flatnonzero(self.type_of == t)

    def counts(self, panel_index: np.ndarray) -> np.ndarray:
        """Composition (members per type) of a panel given by pool indices."""
        return np.bincount(self.type_of[panel_index], minlength=self.n_types)

    def meets_quotas(self, composition: np.ndarray) -> bool:
        if int(composition.sum()) != self.k:
            return False
        return all(lo <= composition[ts].sum() <= hi for _, _, lo, hi, ts in self.rows)


def build_instance(
    pool: pd.DataFrame, quotas: Quotas, k: int, *, pool_source: str = "pool"
) -> Instance:
    """Validate ``pool`` against ``quotas`` for a panel of ``k`` and group members into types.

    Raises :class:`InputError` for a quota feature missing from the pool or a pool value without a
    quota, and :class:`InfeasibleError` (naming the feature and value) when no panel of ``k`` meets
    every quota.
    """
    check_pool(pool, source=pool_source)
    n = len(pool)
    if not isinstance(k, int | np.integer) or k < 1:
        raise InputError(f"panel size must be a whole number >= 1, got {k!r}")
    k = int(k)
    if k > n:
        raise InfeasibleError(
            f"panel size {k} is larger than the pool ({n} people)", where=pool_source
        )
    features = quotas.features
    for f in features:
        if f not in pool.columns:
            line = next(i + 2 for i, q in enumerate(quotas.items) if q.feature == f)
            raise InputError(
                f"unknown feature {f!r}: the pool has no such column "
                f"(columns: {', '.join(c for c in pool.columns if c != 'id')})",
                where=at(quotas.source, line, "feature"),
            )
    values = pool[list(features)].astype(str).apply(lambda s: s.str.strip())
    for f in features:
        known = set(quotas.values(f))
        bad = ~values[f].isin(known)
        if bad.any():
            i = int(bad.to_numpy().argmax())
            raise InputError(
                f"{f}={values[f].iloc[i]!r} (person {pool['id'].iloc[i]}) has no quota",
                where=at(pool_source, i + 2, f),
                hint=f"add a row '{f},{values[f].iloc[i]},0,{k}' to {quotas.source} "
                f"to allow any number, or fix the value (known: {', '.join(sorted(known))})",
            )
    keys = list(map(tuple, values.to_numpy()))
    type_index: dict[tuple[str, ...], int] = {}
    type_of = np.fromiter(
        (type_index.setdefault(key, len(type_index)) for key in keys), dtype=np.int64, count=n
    )
    type_values = tuple(type_index)
    type_size = np.bincount(type_of, minlength=len(type_values))
    rows = []
    for q in quotas.items:
        fi = features.index(q.feature)
        ts = np.array(
            [t for t, key in enumerate(type_values) if key[fi] == q.value], dtype=np.int64
        )
        rows.append((q.feature, q.value, q.min, q.max, ts))
    inst = Instance(
        ids=tuple(pool["id"].astype(str).str.strip()),
        k=k,
        features=features,
        type_of=type_of,
        type_size=type_size,
        type_values=type_values,
        rows=tuple(rows),
        quotas=quotas,
    )
    check_feasible(inst)
    return inst


def check_feasible(inst: Instance) -> None:
    """Raise :class:`InfeasibleError` naming the quota(s) at fault if no panel meets all quotas.

    Simple counting checks come first (a value with fewer pool members than its minimum; a feature
    whose minimums add up to more than k or whose maximums add up to less than k). If those pass but
    the quotas still conflict, an elastic integer program finds the smallest total change of the
    bounds that makes them feasible, and the error names the quotas it had to change.
    """
    src = inst.quotas.source
    for f, v, lo, _hi, ts in inst.rows:
        have = int(inst.type_size[ts].sum())
        if have < lo:
            raise InfeasibleError(
                f"quota {f}={v} needs at least {lo} panel members but the pool has only {have}",
                where=src,
                hint=f"lower the minimum for {f}={v} to {have} or recruit more volunteers",
            )
    for f in inst.features:
        rows = [r for r in inst.rows if r[0] == f]
        lo_sum = sum(r[2] for r in rows)
        hi_sum = sum(min(r[3], int(inst.type_size[r[4]].sum())) for r in rows)
        if lo_sum > inst.k:
            raise InfeasibleError(
                f"feature {f!r}: the minimums add up to {lo_sum}, more than the panel size "
                f"{inst.k}",
                where=src,
                hint=f"lower some minimums of {f!r} or raise the panel size",
            )
        if hi_sum < inst.k:
            raise InfeasibleError(
                f"feature {f!r}: at most {hi_sum} panel members can be placed (maximums, capped "
                f"by the pool), fewer than the panel size {inst.k}",
                where=src,
                hint=f"raise some maximums of {f!r} or lower the panel size",
            )
    from pluralign.panel.oracle import CompositionOracle

    oracle = CompositionOracle(inst)
    if oracle.feasible():
        return
    changes = oracle.elastic_changes()
    detail = "; ".join(
        f"{f}={v} [{lo},{hi}] would need {'min' if side == 'min' else 'max'} {new}"
        for f, v, lo, hi, side, new in changes
    )
    raise InfeasibleError(
        "no panel meets every quota together" + (f": {detail}" if detail else ""),
        where=src,
        hint="relax the quota(s) named above (the smallest change that makes them feasible)",
    )
