"""``select_panel``: one entry point for every selection algorithm."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from pluralign.errors import InputError
from pluralign.panel.inputs import Quotas
from pluralign.panel.instance import Instance, build_instance
from pluralign.panel.result import PanelResult
from pluralign.panel.settings import METHODS


def select_panel(
    pool: pd.DataFrame,
    quotas: Quotas,
    k: int,
    method: str = "leximin",
    seed: int = 0,
    *,
    gap: float = 1e-6,
    samples: int = 1000,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
    pool_source: str = "pool",
    households: str | None = None,
    relax: bool = False,
) -> PanelResult:
    """Choose a panel of ``k`` from ``pool`` meeting ``quotas`` by the lottery ``method``.

    * ``leximin`` -- maximise the smallest selection probability, then the second smallest, ...
      (Flanigan et al. 2021); column generation with a proven optimality gap ``gap`` per level.
    * ``maximin`` -- maximise only the smallest probability (first level of LEXIMIN).
    * ``nash`` -- maximise the geometric mean of the probabilities (Nash welfare); stops when the
      proven gap in ``sum log pi`` is below ``100 * gap`` per person.
    * ``legacy`` -- the greedy procedure used in practice before; probabilities are estimated from
      ``samples`` runs and the panel is one run of the procedure with ``seed``.

    ``households`` names a pool column: no panel of the lottery holds two people with the same
    value there (every method). With ``relax``, infeasible quotas are first relaxed by the
    smallest change (:mod:`pluralign.panel.feasibility`); ``stats['relaxed']`` lists the changes
    and ``result.quotas`` holds the quotas used.

    Raises :class:`~pluralign.errors.InputError` for inconsistent inputs and
    :class:`~pluralign.panel.feasibility.QuotaInfeasibleError` (naming the conflicting features
    and the smallest relaxation) when no panel meets the quotas.
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}", hint=f"choose one of {', '.join(METHODS)}")
    if gap <= 0:
        raise InputError(f"gap must be > 0, got {gap}")
    inst, changes = feasible_instance(
        pool, quotas, k, pool_source=pool_source, households=households, relax=relax
    )
    result = select_instance(
        inst, method, seed, gap=gap, samples=samples, time_limit=time_limit, progress=progress
    )
    if relax:
        result.stats["relaxed"] = [c.as_dict() for c in changes]
    return result


def feasible_instance(
    pool: pd.DataFrame,
    quotas: Quotas,
    k: int,
    *,
    pool_source: str = "pool",
    households: str | None = None,
    relax: bool = False,
) -> tuple[Instance, list]:
    """The validated instance, its quotas relaxed first when ``relax`` and they are infeasible;
    and the :class:`~pluralign.panel.feasibility.QuotaChange` list applied (empty if none)."""
    from pluralign.panel.feasibility import QuotaInfeasibleError, apply_changes

    try:
        return build_instance(pool, quotas, k, pool_source=pool_source, households=households), []
    except QuotaInfeasibleError as exc:
        if not relax or not exc.changes:
            raise
        changes = list(exc.changes)
    relaxed = apply_changes(quotas, changes)
    inst = build_instance(pool, relaxed, k, pool_source=pool_source, households=households)
    return inst, changes


def select_instance(
    inst: Instance,
    method: str,
    seed: int,
    *,
    gap: float = 1e-6,
    samples: int = 1000,
    time_limit: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PanelResult:
    """:func:`select_panel` on an already validated :class:`Instance`."""
    if method == "legacy":
        from pluralign.panel.legacy import legacy, legacy_composition

        if samples < 1:
            raise InputError(f"samples must be >= 1, got {samples}")
        dist = legacy(inst, samples=samples, seed=seed)
        rng = np.random.default_rng(seed)
        comp = legacy_composition(inst, rng)
        panel = None
    elif method == "nash":
        from pluralign.panel.nash import nash

        dist = nash(inst, gap=max(gap, 1e-6) * 100, time_limit=time_limit)
        panel = ()
    else:
        from pluralign.panel.leximin import column_generation

        dist = column_generation(
            inst, levels=method, gap=gap, time_limit=time_limit, progress=progress
        )
        panel = ()
    result = PanelResult(
        method=method,
        k=inst.k,
        seed=seed,
        ids=inst.ids,
        probabilities=dist.type_probability[inst.type_of],
        type_of=inst.type_of,
        compositions=dist.compositions,
        composition_probabilities=dist.probabilities,
        panel=panel,
        features=inst.features,
        stats=dict(dist.stats),
        groups=inst.groups,
        households=None if inst.households is None else inst.households.of,
        quotas=inst.quotas,
    )
    if panel is None:  # legacy: the run's own composition, its members uniformly at random
        object.__setattr__(result, "panel", result.realise(comp, rng))
    elif not panel:
        object.__setattr__(result, "panel", result.draw(seed))
    return result
