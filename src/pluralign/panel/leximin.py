"""MAXIMIN and LEXIMIN selection by column generation on HiGHS.

Following Flanigan, Gölz, Gupta, Hennig & Procaccia, "Fair algorithms for selecting citizens'
assemblies", Nature 596 (2021), Methods and Supplementary Information (section "LEXIMIN"), but on
types (see :mod:`pluralign.panel.instance`): a distribution ``p`` over feasible compositions ``c``
gives every member of type ``t`` the probability ``q_t = sum_c p_c c_t / n_t``.

One *level* solves, for the types not yet fixed (``U``) and the fixed ones (``F``, values ``f``),

    primal   max z   s.t.  sum_c p_c c_t / n_t >= z   (t in U)
                           sum_c p_c c_t / n_t >= f_t (t in F),   sum_c p_c = 1,  p >= 0

    dual     min  y0 - sum_{t in F} f_t y_t   s.t.  sum_t y_t c_t / n_t <= y0  for every c,
                                                     sum_{t in U} y_t = 1,  y >= 0.

The master LP holds only the compositions found so far; its optimum ``z`` is a *lower* bound.
Pricing -- a MILP over all compositions, :class:`~pluralign.panel.oracle.CompositionOracle` --
finds ``V = max_c sum_t y_t c_t / n_t``; ``(y, V)`` is dual feasible, so ``V - sum_F f_t y_t`` is
an *upper* bound (HiGHS's proven MILP bound is used for ``V``). When upper minus lower bound is
at most ``gap`` the level is solved; otherwise the maximising composition joins the master.
By complementary slackness every type with ``y_t > 0`` has ``q_t = z`` in every optimal
distribution, so those types are fixed at ``z`` and the next level starts; LEXIMIN ends when every
type is fixed. MAXIMIN stops after the first level.

Types that no feasible panel can contain are fixed at probability 0 first (as in the paper, the
minimum is taken over people who can be selected at all).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from pluralign.panel.instance import Instance
from pluralign.panel.oracle import CompositionOracle, highs


@dataclass(frozen=True)
class Distribution:
    """A distribution over compositions with the solver's statistics."""

    compositions: np.ndarray  # (S, T) int
    probabilities: np.ndarray  # (S,)
    type_probability: np.ndarray  # (T,)
    stats: dict


def finish(inst: Instance, comps: list[np.ndarray], p: np.ndarray, stats: dict) -> Distribution:
    """Drop zero-probability compositions, merge duplicates, renormalise; compute ``q_t``."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
    keep = p > 1e-12
    C = np.array([comps[i] for i in np.flatnonzero(keep)], dtype=np.int64).reshape(-1, inst.n_types)
    p = p[keep]
    C, inverse = np.unique(C, axis=0, return_inverse=True)
    p = np.bincount(inverse.ravel(), weights=p, minlength=len(C))
    p = p / p.sum()
    q = (p @ C) / inst.type_size
    return Distribution(C, p, q, stats)


class _Master:
    """The restricted master LP (primal form above) with incremental columns and row changes."""

    def __init__(self, inst: Instance):
        import highspy

        self.inst = inst
        self.inf = highspy.kHighsInf
        self.h = h = highs()
        # Presolve would rebuild the LP on every solve; without it HiGHS warm-starts from the last
        # basis after columns are added or rows changed.
        h.setOptionValue("presolve", "off")
        h.setOptionValue("simplex_strategy", 4)
        T = inst.n_types
        empty_i, empty_v = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        for _ in range(T):
            h.addRow(0.0, self.inf, 0, empty_i, empty_v)
        h.addRow(1.0, 1.0, 0, empty_i, empty_v)
        h.addCol(1.0, -self.inf, self.inf, T, np.arange(T, dtype=np.int32), -np.ones(T))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.columns: list[np.ndarray] = []
        self.keys: set[bytes] = set()

    def add(self, c: np.ndarray) -> bool:
        key = c.tobytes()
        if key in self.keys:
            return False
        self.keys.add(key)
        self.columns.append(c)
        ts = np.flatnonzero(c)
        idx = np.concatenate([ts, [self.inst.n_types]]).astype(np.int32)
        vals = np.concatenate([c[ts] / self.inst.type_size[ts], [1.0]])
        self.h.addCol(0.0, 0.0, self.inf, len(idx), idx, vals)
        return True

    def fix(self, types: np.ndarray, value: float) -> None:
        for t in types:
            self.h.changeCoeff(int(t), 0, 0.0)
            self.h.changeRowBounds(int(t), float(value), self.inf)

    def lower_bounds(self, types: np.ndarray, values: np.ndarray) -> None:
        """Rows ``q_t - z >= value`` (z kept): a target to reach instead of a level to raise."""
        for t, v in zip(types, values, strict=True):
            self.h.changeRowBounds(int(t), float(v), self.inf)

    def solve(self) -> tuple[float, np.ndarray, float, np.ndarray]:
        """``(z, y, y0, p)`` of the current master LP."""
        import highspy

        h = self.h
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            # A warm start can end in a numerically wrong verdict on a degenerate master;
            # solving again from scratch settles it.
            h.clearSolver()
            h.run()
            status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"master LP not solved: {h.modelStatusToString(status)}")
        sol = h.getSolution()
        T = self.inst.n_types
        duals = np.asarray(sol.row_dual)
        y = np.clip(-duals[:T], 0.0, None)
        y0 = float(duals[T])
        p = np.asarray(sol.col_value)[1:]
        z = float(sol.col_value[0])
        return z, y, y0, p


@dataclass
class _Level:
    z: float
    y: np.ndarray
    center: np.ndarray | None
    p: np.ndarray
    best_ub: float
    iterations: int
    timed_out: bool


def _solve_level(
    master: _Master,
    oracle: CompositionOracle,
    offsets: np.ndarray,
    done,
    *,
    smoothing: float,
    deadline: float | None,
) -> _Level:
    """Column generation on the current master until ``done(z, best_upper_bound)``.

    ``offsets`` are the rows' right-hand sides (``f_t`` for fixed types, ``q*_t`` for a target,
    0 for a level's free types); the upper bound of the master's optimum at duals ``y`` is
    ``V(y) - offsets @ y``.
    """
    inst = master.inst
    sizes = inst.type_size.astype(np.float64)
    best_ub, center = np.inf, None
    iterations = 0
    timed_out = False
    while True:
        iterations += 1
        z, y, y0, p = master.solve()
        # Wentges smoothing: price at a point between the master's dual and the dual with the
        # best bound so far; this damps the oscillation of the duals (fewer rounds).
        trial = y if center is None else smoothing * center + (1.0 - smoothing) * y
        for attempt in (trial, y):
            c, _value, bound = oracle.best(attempt / sizes)
            ub = bound - float(offsets @ attempt)
            if ub < best_ub:
                best_ub, center = ub, attempt
            if float((y / sizes) @ c) > y0 + 1e-9 or attempt is y:
                break
        if done(z, best_ub):
            break
        if deadline is not None and time.perf_counter() > deadline:
            timed_out = True
            break
        if not master.add(c) and float((y / sizes) @ c) <= y0 + 1e-9:
            break  # pragma: no cover - no improving column although the bound is not tight
        # Other improving compositions met by the MILP are good columns too (fewer rounds).
        for other in oracle.found():
            if other.sum() == inst.k and float((y / sizes) @ other) > y0 + 1e-9:
                master.add(other)
    return _Level(z, y, center, p, best_ub, iterations, timed_out)


def initial_columns(
    inst: Instance, oracle: CompositionOracle
) -> tuple[list[np.ndarray], np.ndarray]:
    """Compositions covering every type that can be on a panel; and a mask of types that cannot.

    For each still uncovered type ``t``: maximise ``c_t`` plus a small bonus for other uncovered
    types. If even that gives ``c_t = 0``, no feasible panel contains a member of type ``t``.
    """
    T = inst.n_types
    covered = np.zeros(T, dtype=bool)
    impossible = np.zeros(T, dtype=bool)
    columns: list[np.ndarray] = []
    bonus = 1.0 / (2.0 * inst.k + 2.0)
    for t in range(T):
        if covered[t] or impossible[t]:
            continue
        w = np.where(~covered & ~impossible, bonus, 0.0)
        w[t] = 1.0
        c, _, _ = oracle.best(w)
        if c[t] == 0:
            impossible[t] = True
            continue
        covered |= c > 0
        columns.append(c)
    return columns, impossible


def column_generation(
    inst: Instance,
    *,
    levels: str = "leximin",
    gap: float = 1e-6,
    time_limit: float | None = None,
    progress=None,
    smoothing: float = 0.5,
    fix_threshold: float = 1e-5,
    relaxation: bool = True,
) -> Distribution:
    """Solve MAXIMIN (``levels='maximin'``) or LEXIMIN (``'leximin'``) on ``inst``.

    ``gap`` is the absolute optimality gap (in probability) at which a level stops; the largest
    gap proven at any level is reported as ``stats['gap']``. ``progress(done, total)`` is called
    as the work advances.

    LEXIMIN first takes the road of :mod:`pluralign.panel.relax` (leximin over the LP relaxation,
    then an exact decomposition into panels; ``stats['path'] == 'relaxation'``). If the walk of
    that decomposition gives up, column generation towards the relaxed optimum ``q*`` decides:
    it either reaches ``q*`` (``'relaxation+column-generation'``) or proves that ``q*`` is no
    lottery, and then the level-by-level column generation runs (``'column-generation'``), seeded
    with every panel found so far. ``relaxation=False`` goes to the levels directly.
    """
    start = time.perf_counter()
    deadline = None if time_limit is None else start + time_limit
    T = inst.n_types
    oracle = CompositionOracle(inst)
    columns, impossible = initial_columns(inst, oracle)
    master = _Master(inst)
    for c in columns:
        master.add(c)
    relax_stats: dict = {}

    def stats_for(path: str, **extra) -> dict:
        return {
            "path": path,
            **extra,
            "pricing_calls": oracle.calls + relax_stats.get("relaxation_steps", 0),
            "pricing_time_s": round(oracle.seconds + relax_stats.get("relaxation_time_s", 0), 4),
            "gap_tolerance": gap,
            "solver_time_s": round(time.perf_counter() - start, 4),
            "types": T,
            "impossible_types": int(impossible.sum()),
            **relax_stats,
        }

    if levels == "leximin" and relaxation:
        from pluralign.panel.relax import decompose, relaxed_leximin

        q_star, relaxed_levels = relaxed_leximin(inst, impossible)
        walk = decompose(
            inst,
            q_star,
            gap=gap,
            deadline=deadline,
            progress=None
            if progress is None
            else (lambda rest: progress(int(1000 * (1.0 - rest)), 1000)),
        )
        relax_stats = {
            "relaxation_levels": relaxed_levels,
            "relaxation_steps": walk.steps,
            "relaxation_time_s": round(walk.milp_time_s, 4),
        }
        if walk.columns and walk.rest <= gap:
            dist = finish(inst, walk.columns, np.array(walk.weights), {})
            deficit = float(np.max(q_star - dist.type_probability, initial=0.0))
            if deficit <= gap:
                stats = stats_for(
                    "relaxation",
                    levels=relaxed_levels,
                    iterations=walk.steps,
                    gap=max(deficit, 0.0),
                    timed_out=False,
                )
                return replace(dist, stats=stats)
            relax_stats["relaxation_failed"] = f"decomposition off by {deficit:.2e}"
        else:
            relax_stats["relaxation_failed"] = walk.failed or "walk did not finish"
        for c in walk.columns:
            master.add(c)
        # Repair: column generation towards q* itself (rows q_t - z >= q*_t, z <= 0). z >= -gap
        # proves q* is a lottery after all (the walk was unlucky); an upper bound below -gap
        # proves it is none (the relaxation is not integral there): then the levels below.
        live = np.flatnonzero(~impossible)
        master.lower_bounds(live, q_star[live])
        if impossible.any():
            master.fix(np.flatnonzero(impossible), 0.0)
        repair = _solve_level(
            master,
            oracle,
            q_star,  # 0 for the impossible types
            # half the gap: dropping negligible panels in finish() may cost a little more
            lambda z, ub: z >= -0.5 * gap or ub < -gap,
            smoothing=smoothing,
            deadline=deadline,
        )
        relax_stats["repair_iterations"] = repair.iterations
        if repair.z >= -0.5 * gap:
            dist = finish(inst, master.columns, repair.p, {})
            deficit = float(np.max(q_star - dist.type_probability, initial=0.0))
            stats = stats_for(
                "relaxation+column-generation",
                levels=relaxed_levels,
                iterations=walk.steps + repair.iterations,
                gap=max(deficit, 0.0),
                timed_out=False,
            )
            return replace(dist, stats=stats)
        master.lower_bounds(live, np.zeros(len(live)))
        if repair.timed_out:
            # Out of time: the fairest lottery (max-min) over the panels found so far.
            z, _y, _y0, p = master.solve()
            stats = stats_for(
                "relaxation+column-generation",
                levels=relaxed_levels,
                iterations=walk.steps + repair.iterations,
                # the smallest probability's distance to the relaxation's bound on it
                gap=max(0.0, float(q_star[live].min()) - z),
                timed_out=True,
            )
            return finish(inst, master.columns, p, stats)
    fixed = np.full(T, np.nan)
    if impossible.any():
        fixed[impossible] = 0.0
        master.fix(np.flatnonzero(impossible), 0.0)
    n_levels = iterations = 0
    worst_gap = 0.0
    p = None
    timed_out = False
    while np.isnan(fixed).any():
        n_levels += 1
        unfixed = np.isnan(fixed)
        fixed_values = np.where(unfixed, 0.0, fixed)
        lv = _solve_level(
            master,
            oracle,
            fixed_values,
            lambda z, ub: ub - z <= gap,
            smoothing=smoothing,
            deadline=deadline,
        )
        iterations += lv.iterations
        z, p, center, y = lv.z, lv.p, lv.center, lv.y
        level_gap, timed_out = max(0.0, lv.best_ub - lv.z), lv.timed_out
        worst_gap = max(worst_gap, level_gap)
        if levels == "maximin" or timed_out:
            break
        # Complementary slackness: types with a positive optimal dual cannot get more than z.
        duals = center if center is not None else y
        newly = unfixed & (duals > fix_threshold)
        if not newly.any():
            newly[np.flatnonzero(unfixed)[np.argmax(duals[unfixed])]] = True
        value = max(0.0, z)
        fixed[newly] = value
        master.fix(np.flatnonzero(newly), value)
        if progress is not None:
            progress(int((~np.isnan(fixed)).sum()), T)
    if p is None:  # pragma: no cover - every instance has at least one level
        raise RuntimeError("column generation did not run")
    stats = stats_for(
        "column-generation",
        levels=n_levels,
        iterations=iterations,
        gap=float(worst_gap),
        timed_out=timed_out,
    )
    return finish(inst, master.columns, p, stats)
