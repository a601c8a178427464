"""A sortition instance reduced to *types*: pool members with the same value on every quota feature.

Members of one type are interchangeable for every quota, so a fair algorithm can give them the same
selection probability (Flanigan et al. 2021, Methods, note that LEXIMIN's probability vector is
unique and hence equal within a type). All optimisation works on *compositions* -- how many members
of each type a panel holds -- which shrinks the integer programs from one variable per person to
one per type. With a household column (:mod:`pluralign.panel.households`) the types are refined
by household class, and each type gets a *cap* (the most members a panel can hold) and household
rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pluralign.errors import InfeasibleError, InputError, at
from pluralign.panel.households import Households, build_households, household_ids, refine_types
from pluralign.panel.inputs import Quotas, check_pool


@dataclass(frozen=True)
class Instance:
    """A validated sortition problem.

    ``type_of[i]`` is the type of pool member ``i`` (pool order), ``type_size[t]`` the number of
    members of type ``t``, ``type_values[t]`` their values on ``features``. ``rows`` lists every
    quota as ``(feature, value, min, max, types)`` with the types having that value.
    ``type_cap[t]`` is the most members of type ``t`` a panel can hold (``type_size`` without
    households); ``household_rows`` are ``(m, types)``: those types' counts add up to at most
    ``m``; ``households`` holds the household structure (``None`` without a household column).
    """

    ids: tuple[str, ...]
    k: int
    features: tuple[str, ...]
    type_of: np.ndarray
    type_size: np.ndarray
    type_values: tuple[tuple[str, ...], ...]
    rows: tuple[tuple[str, str, int, int, np.ndarray], ...]
    quotas: Quotas
    type_cap: np.ndarray | None = None
    household_rows: tuple[tuple[int, np.ndarray], ...] = ()
    households: Households | None = None

    def __post_init__(self):
        if self.type_cap is None:
            object.__setattr__(self, "type_cap", self.type_size)

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

    @property
    def groups(self) -> tuple:
        """The :class:`~pluralign.panel.households.HouseholdGroup` of every multi-person class."""
        return () if self.households is None else self.households.groups

    def meets_quotas(self, composition: np.ndarray) -> bool:
        """Whether a composition is feasible: size, caps, quotas and household rows."""
        c = np.asarray(composition)
        if int(c.sum()) != self.k or (c < 0).any() or (c > self.type_cap).any():
            return False
        if any(c[ts].sum() > m for m, ts in self.household_rows):
            return False
        return all(lo <= c[ts].sum() <= hi for _, _, lo, hi, ts in self.rows)

    def meets(self, panel_index) -> bool:
        """Whether an explicit panel (pool indices) meets the quotas and the household rule."""
        from pluralign.panel.households import shares_household

        index = np.asarray(panel_index, dtype=np.int64)
        if len(set(index.tolist())) != len(index) or len(index) != self.k:
            return False
        homes = None if self.households is None else self.households.of
        return not shares_household(homes, index) and self.meets_quotas(self.counts(index))


def build_instance(
    pool: pd.DataFrame,
    quotas: Quotas,
    k: int,
    *,
    pool_source: str = "pool",
    households: str | None = None,
    check: bool = True,
) -> Instance:
    """Validate ``pool`` against ``quotas`` for a panel of ``k`` and group members into types.

    ``households`` names a pool column: at most one member of each household on any panel.
    Raises :class:`InputError` for a quota feature missing from the pool, a pool value without a
    quota or a missing household column, and (with ``check``)
    :class:`~pluralign.panel.feasibility.QuotaInfeasibleError` naming the conflicting features and
    the smallest relaxation when no panel of ``k`` meets every quota.
    """
    if pool_source == "pool":  # read_pool remembers the file a frame came from
        pool_source = pool.attrs.get("source", pool_source)
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
                f"no column {f!r}, which {quotas.source} (line {line}) has quotas for "
                f"(columns: {', '.join(c for c in pool.columns if c != 'id')})",
                where=at(pool_source, 1),
                hint=f"add the column to the pool, or remove the {f!r} rows from the quotas",
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
    homes, members = None, None
    if households is not None:
        homes = household_ids(pool, households, pool_source)
        keys, members = refine_types(keys, homes)
    type_index: dict[tuple[str, ...], int] = {}
    type_of = np.fromiter(
        (type_index.setdefault(key, len(type_index)) for key in keys), dtype=np.int64, count=n
    )
    type_values = tuple(key if households is None else _values(key) for key in type_index)
    type_size = np.bincount(type_of, minlength=len(type_values))
    rows = []
    for q in quotas.items:
        fi = features.index(q.feature)
        ts = np.array(
            [t for t, key in enumerate(type_values) if key[fi] == q.value], dtype=np.int64
        )
        rows.append((q.feature, q.value, q.min, q.max, ts))
    house = None
    if homes is not None:
        house = build_households(households, homes, members, type_of, type_size)
    inst = Instance(
        ids=tuple(pool["id"].astype(str).str.strip()),
        k=k,
        features=features,
        type_of=type_of,
        type_size=type_size,
        type_values=type_values,
        rows=tuple(rows),
        quotas=quotas,
        type_cap=None if house is None else house.cap,
        household_rows=() if house is None else house.rows,
        households=house,
    )
    if check:
        from pluralign.panel.feasibility import check_feasible

        check_feasible(inst)
    return inst


def _values(key: tuple) -> tuple[str, ...]:
    """Feature values of a refined type key (``(values, household class)`` or ``values``)."""
    return key[0] if key and isinstance(key[0], tuple) else key
