"""Replacements for people who drop out, and a ranked list of alternates.

**Replacements.** When ``D`` of a panel of ``k`` drop out, the ``k - |D|`` who stay are kept and
``|D|`` replacements are drawn from the *candidates*: the pool minus the panel (the dropouts
declined), minus anyone excluded, minus (with a household column) everyone who shares a household
with a member who stays. A *completion* is a set of ``|D|`` candidates with which the panel meets
every quota again (and the household rule); with ``s_fv`` members who stay having ``f = v``, that
is a panel of ``|D|`` candidates meeting the quotas ``[max(0, min_fv - s_fv), max_fv - s_fv]``.
The replacements are drawn from the **LEXIMIN lottery over the feasible completions**: among
all ways to complete the panel, the candidates' chances of being called are as equal as the quotas
allow (maximise the smallest, then the next ...; Flanigan et al. 2021), computed by the same
solver as the panel itself (:func:`~pluralign.panel.select.select_panel` on the reduced problem;
any other method can be asked for). Each candidate's chance of being called is reported.

**Alternates** (``select --alternates K``) are a ranked reserve list drawn right after the panel,
for the common case of one dropout at a time: candidate ``c`` *covers* member ``d`` if the panel
with ``c`` instead of ``d`` meets every quota and the household rule. Rank by rank, among the
members with the fewest listed alternates covering them (and someone left who could), one
alternate is drawn uniformly at random from the candidates who cover at least one of them. So the
list first gives every replaceable member one cover, then a second, and so on, and within those
rules every candidate has the same chance. When ``d`` drops out, call the best-ranked alternate
who covers ``d``; for several dropouts at once, ``panel replace`` is the exact rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pluralign.errors import InfeasibleError, InputError, at
from pluralign.panel.inputs import Quota, Quotas


@dataclass(frozen=True, eq=False)
class Replacement:
    """The new panel after dropouts, and the lottery the replacements came from.

    ``candidates`` (pool order) and ``probabilities`` (same order): each candidate's chance of
    being drawn as a replacement; ``result`` is the lottery over completions (a
    :class:`~pluralign.panel.result.PanelResult` on the candidates); ``quotas`` the reduced quotas
    the replacements meet; ``relaxed`` the quota changes applied (``relax=True``), if any.
    """

    panel: tuple[str, ...]
    kept: tuple[str, ...]
    dropouts: tuple[str, ...]
    replacements: tuple[str, ...]
    candidates: tuple[str, ...]
    probabilities: np.ndarray
    result: object
    quotas: Quotas
    relaxed: tuple = ()
    stats: dict = field(default_factory=dict)


def _ids(pool: pd.DataFrame) -> list[str]:
    return list(pool["id"].astype(str).str.strip())


def check_panel(pool: pd.DataFrame, panel: list[str], panel_source: str, pool_source: str) -> None:
    """Every panel id is a pool id, once."""
    known = set(_ids(pool))
    seen: dict[str, int] = {}
    for line, pid in enumerate(panel, start=2):
        if pid not in known:
            raise InputError(
                f"panel member {pid!r} is not in the pool {pool_source}",
                where=at(panel_source, line, "id"),
            )
        if pid in seen:
            raise InputError(
                f"panel member {pid!r} listed twice (first on line {seen[pid]})",
                where=at(panel_source, line, "id"),
            )
        seen[pid] = line


def parse_dropouts(dropouts, panel: list[str], panel_source: str) -> tuple[str, ...]:
    """Dropout ids (a list or a comma-separated string), each on the panel, none twice."""
    if isinstance(dropouts, str):
        dropouts = [d for d in dropouts.split(",")]
    out = tuple(str(d).strip() for d in dropouts if str(d).strip())
    if not out:
        raise InputError("no dropout ids given", where="--dropouts", hint="--dropouts ID,ID")
    on_panel = set(panel)
    for d in out:
        if d not in on_panel:
            raise InputError(
                f"dropout {d!r} is not on the panel {panel_source} ({len(panel)} members)",
                where="--dropouts",
                hint="give ids from the panel's 'id' column, separated by commas",
            )
    dup = [d for d in out if out.count(d) > 1]
    if dup:
        raise InputError(f"dropout {dup[0]!r} given twice", where="--dropouts")
    return out


def reduced_quotas(quotas: Quotas, pool: pd.DataFrame, kept: list[str]) -> tuple[Quotas, dict]:
    """Quotas for the replacements given the members who stay, and the stayers' counts."""
    rows = pool[pool["id"].astype(str).str.strip().isin(set(kept))]
    counts = {}
    items = []
    for q in quotas.items:
        have = int((rows[q.feature].astype(str).str.strip() == q.value).sum())
        counts[q.feature, q.value] = have
        if have > q.max:
            raise InfeasibleError(
                f"the {len(kept)} members who stay already hold {have} seats of "
                f"{q.feature}={q.value}, above its max {q.max}: no replacement can fix that",
                where=quotas.source,
                hint="the panel did not meet these quotas; check the quotas file",
            )
        items.append(Quota(q.feature, q.value, max(0, q.min - have), q.max - have))
    return Quotas(tuple(items), source=quotas.source), counts


def replace_dropouts(
    pool: pd.DataFrame,
    quotas: Quotas,
    panel: list[str] | tuple[str, ...],
    dropouts,
    *,
    method: str = "leximin",
    seed: int = 0,
    households: str | None = None,
    exclude=(),
    relax: bool = False,
    gap: float = 1e-6,
    samples: int = 1000,
    time_limit: float | None = None,
    pool_source: str = "pool",
    panel_source: str = "panel",
) -> Replacement:
    """Draw replacements for ``dropouts`` keeping every quota (and households); see the module
    docstring for the rule. ``exclude`` lists further pool ids not to call (e.g. people who
    already declined)."""
    from pluralign.panel.feasibility import QuotaChange, QuotaInfeasibleError, apply_changes
    from pluralign.panel.households import household_ids
    from pluralign.panel.inputs import check_pool
    from pluralign.panel.instance import build_instance
    from pluralign.panel.select import select_panel

    check_pool(pool, source=pool_source)
    panel = [str(p).strip() for p in panel]
    if panel:  # the pool's values against the quotas, with the pool's own line numbers
        build_instance(pool, quotas, len(panel), pool_source=pool_source, check=False)
    check_panel(pool, panel, panel_source, pool_source)
    drop = parse_dropouts(dropouts, panel, panel_source)
    kept = [p for p in panel if p not in set(drop)]
    ids = _ids(pool)
    taken = set(panel) | {str(e).strip() for e in exclude}
    homes = None
    if households is not None:
        homes = dict(zip(ids, household_ids(pool, households, pool_source), strict=True))
        kept_homes = [homes[p] for p in kept]
        if len(set(kept_homes)) < len(kept_homes):
            raise InfeasibleError(
                "two members who stay share a household: the panel breaks the household rule",
                where=panel_source,
            )
        blocked = set(kept_homes)
        taken |= {p for p in ids if homes[p] in blocked}
    mask = ~pool["id"].astype(str).str.strip().isin(taken)
    candidates = pool[mask.to_numpy()].reset_index(drop=True)
    if len(candidates) < len(drop):
        raise InfeasibleError(
            f"only {len(candidates)} people can be called for {len(drop)} dropouts",
            where=pool_source,
            hint="recruit more volunteers or widen the pool",
        )
    reduced, have = reduced_quotas(quotas, pool, kept)
    changes: tuple = ()

    def draw(reduced: Quotas):
        return select_panel(
            candidates,
            reduced,
            len(drop),
            method,
            seed,
            gap=gap,
            samples=samples,
            time_limit=time_limit,
            pool_source=pool_source,
            households=households,
        )

    try:
        result = draw(reduced)
    except QuotaInfeasibleError as exc:
        # the same changes, in terms of the original quotas (add back what the stayers hold)
        changes = tuple(
            QuotaChange(
                c.feature,
                c.value,
                c.bound,
                c.old + have[c.feature, c.value],
                c.new + have[c.feature, c.value],
            )
            for c in exc.changes
        )
        if not relax or not changes:
            fix = " and ".join(map(str, changes))
            raise QuotaInfeasibleError(
                f"no {len(drop)} replacement(s) for {', '.join(drop)} keep the quotas on "
                f"{', '.join(map(repr, exc.features))}"
                + (f"; smallest relaxation: {fix}" if fix else ""),
                features=exc.features,
                changes=changes,
                where=quotas.source,
                hint="run again with --relax to apply that relaxation, or change the quotas",
            ) from None
        relaxed = apply_changes(quotas, changes)
        reduced, have = reduced_quotas(relaxed, pool, kept)
        result = draw(reduced)
    chosen = set(kept) | set(result.panel)
    new_panel = tuple(p for p in ids if p in chosen)
    return Replacement(
        panel=new_panel,
        kept=tuple(kept),
        dropouts=drop,
        replacements=tuple(result.panel),
        candidates=tuple(result.ids),
        probabilities=np.asarray(result.probabilities),
        result=result,
        quotas=reduced,
        relaxed=changes,
        stats={
            "method": method,
            "seed": seed,
            "candidates": len(candidates),
            "min_probability": float(result.probabilities.min()),
            "max_probability": float(result.probabilities.max()),
            "never_called": int((result.probabilities <= 1e-12).sum()),
            "solver_time_s": result.stats.get("solver_time_s"),
        },
    )


@dataclass(frozen=True)
class Alternate:
    """Rank ``rank`` (1 = first called) on the reserve list; ``covers``: the panel members this
    person can replace alone."""

    rank: int
    id: str
    covers: tuple[str, ...]


def alternates(
    pool: pd.DataFrame,
    quotas: Quotas,
    panel,
    count: int,
    *,
    seed: int = 0,
    households: str | None = None,
    pool_source: str = "pool",
) -> list[Alternate]:
    """A ranked reserve list of up to ``count`` alternates (module docstring); shorter when
    fewer candidates can replace anyone."""
    from pluralign.panel.households import household_ids

    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
        raise InputError(
            f"alternates must be a whole number >= 0, got {count!r}", where="--alternates"
        )
    ids = _ids(pool)
    index = {p: i for i, p in enumerate(ids)}
    members = [index[p] for p in panel]
    on_panel = np.zeros(len(ids), dtype=bool)
    on_panel[members] = True
    # P[i, r]: person i has the value of quota r
    P = np.column_stack(
        [(pool[q.feature].astype(str).str.strip() == q.value).to_numpy() for q in quotas.items]
    ).astype(np.int64)
    lo = np.array([q.min for q in quotas.items])
    hi = np.array([q.max for q in quotas.items])
    have = P[members].sum(axis=0)
    cand = np.flatnonzero(~on_panel)
    homes = None if households is None else np.array(household_ids(pool, households, pool_source))
    covers = np.zeros((len(members), len(cand)), dtype=bool)
    for a, d in enumerate(members):
        new = have - P[d] + P[cand]
        ok = ((new >= lo) & (new <= hi)).all(axis=1)
        if homes is not None:
            others = {homes[m] for m in members if m != d}
            ok &= ~np.isin(homes[cand], list(others))
        covers[a] = ok
    rng = np.random.default_rng([seed, 2])
    listed = np.zeros(len(cand), dtype=bool)
    cover_count = np.zeros(len(members), dtype=np.int64)
    out: list[Alternate] = []
    while len(out) < count:
        open_members = (covers & ~listed).any(axis=1)
        if not open_members.any():
            break
        least = cover_count[open_members].min()
        targets = open_members & (cover_count == least)
        eligible = np.flatnonzero(~listed & covers[targets].any(axis=0))
        pick = int(eligible[rng.integers(len(eligible))])
        listed[pick] = True
        cover_count += covers[:, pick]
        who = tuple(ids[members[a]] for a in np.flatnonzero(covers[:, pick]))
        out.append(Alternate(len(out) + 1, ids[cand[pick]], who))
    return out
