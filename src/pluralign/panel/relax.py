"""LEXIMIN through the LP relaxation: a compact leximin, then an exact decomposition into panels.

The column generation of :mod:`pluralign.panel.leximin` solves one master LP per level and needs
many pricing MILPs per level; on a 2,000-person pool with ~500 types that takes many minutes.
This module takes a shorter road that is exact whenever it succeeds, and tells when it does not.

**1. Leximin over the relaxation.** Let ``P`` be the LP relaxation of the composition polytope,
``x_t`` the expected number of type-``t`` members on the panel (``q_t = x_t / n_t``)::

    P = { x : 0 <= x_t <= n_t,  sum_t x_t = k,  min_fv <= sum_{t has f=v} x_t <= max_fv }

and ``Q = conv{feasible integer compositions} ⊆ P``. The expected composition of every
distribution over panels lies in ``Q``, and every point of ``Q`` is such an expectation, so
LEXIMIN is the leximin-optimal point of ``{q : x in Q}``. Over ``P`` the same leximin is a
sequence of small LPs with one variable per type (no column generation): maximise ``z`` subject to
``q_t >= z`` for the types not yet fixed and ``q_t >= f_t`` for the fixed ones; every type whose
constraint has a positive dual is at ``z`` in every optimum (complementary slackness) and is fixed.
This takes milliseconds. Call the result ``q*``.

**2. Decomposition.** Because ``Q ⊆ P``, ``q*`` is leximin-optimal over ``Q`` as soon as it lies in
``Q``. A walk over faces of ``P`` writes ``x* = n ∘ q*`` as a convex combination of integer
compositions (a Carathéodory decomposition): at ``x`` take an integer composition ``c`` on the
minimal face of ``P`` that contains ``x`` (every bound and quota tight at ``x`` stays tight; a MILP
that also keeps ``c`` close to ``x`` in L1, for long steps), step away from it,
``x ← (x - λ c) / (1 - λ)`` with the largest ``λ`` that keeps ``x`` in ``P``, and repeat. Each step
makes at least one more constraint tight, so at most ``dim P + 1`` steps are needed.

The walk fails if it reaches a face without an integer point: then ``q*`` may lie outside ``Q``
(the relaxation is not integral there) and :func:`~pluralign.panel.leximin.column_generation`
falls back to the level-by-level column generation, seeded with the panels found here. When it
succeeds, the reported gap is ``max_t (q*_t - q_t)``: no type is further than that below the
LEXIMIN optimum, a proven bound.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from pluralign.panel.instance import Instance
from pluralign.panel.oracle import highs

_EMPTY_I = np.array([], dtype=np.int32)
_EMPTY_V = np.array([], dtype=np.float64)


def _constraint_matrix(inst: Instance) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of ``P`` other than the bounds: the panel size, every quota, then the household rows
    (``A``, lo, hi)."""
    T = inst.n_types
    A = np.zeros((1 + len(inst.rows), T))
    A[0] = 1.0
    lo = [float(inst.k)]
    hi = [float(inst.k)]
    for r, (_f, _v, qlo, qhi, ts) in enumerate(inst.rows, start=1):
        A[r, ts] = 1.0
        lo.append(float(qlo))
        hi.append(float(min(qhi, inst.k)))
    if inst.household_rows:  # at most m members from the m households of a class
        H = np.zeros((len(inst.household_rows), T))
        for r, (m, ts) in enumerate(inst.household_rows):
            H[r, ts] = 1.0
            lo.append(0.0)
            hi.append(float(m))
        A = np.vstack([A, H])
    return A, np.array(lo), np.array(hi)


def relaxed_leximin(
    inst: Instance, impossible: np.ndarray | None = None, *, dual_threshold: float = 1e-9
) -> tuple[np.ndarray, int]:
    """The leximin-optimal ``q`` over the LP relaxation ``P`` and the number of levels (LPs).

    ``impossible`` marks types no feasible panel contains; they are held at 0.
    """
    import highspy

    T = inst.n_types
    sizes = inst.type_size.astype(np.float64)
    impossible = np.zeros(T, dtype=bool) if impossible is None else np.asarray(impossible)
    inf = highspy.kHighsInf
    h = highs()
    h.setOptionValue("primal_feasibility_tolerance", 1e-10)
    h.setOptionValue("dual_feasibility_tolerance", 1e-10)
    top = inst.type_cap / sizes  # 1 unless households cap the type
    for t in range(T):
        h.addCol(0.0, 0.0, 0.0 if impossible[t] else float(top[t]), 0, _EMPTY_I, _EMPTY_V)
    h.addCol(1.0, -inf, inf, 0, _EMPTY_I, _EMPTY_V)  # z
    A, lo, hi = _constraint_matrix(inst)
    for r in range(len(A)):
        ts = np.flatnonzero(A[r]).astype(np.int32)
        h.addRow(lo[r], hi[r], len(ts), ts, sizes[ts])
    base = h.getNumRow()
    for t in range(T):  # q_t - z >= 0 for the types still free
        h.addRow(0.0, inf, 2, np.array([t, T], dtype=np.int32), np.array([1.0, -1.0]))
    h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    fixed = np.full(T, np.nan)
    fixed[impossible] = 0.0
    for t in np.flatnonzero(impossible):
        h.changeCoeff(base + int(t), T, 0.0)
    levels = 0
    while np.isnan(fixed).any():
        levels += 1
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:  # pragma: no cover - P is non-empty
            raise RuntimeError(f"relaxed leximin LP not solved: {h.modelStatusToString(status)}")
        sol = h.getSolution()
        z = float(sol.col_value[T])
        duals = np.abs(np.asarray(sol.row_dual)[base:])
        free = np.isnan(fixed)
        newly = free & (duals > dual_threshold)
        if not newly.any():
            newly[np.flatnonzero(free)[np.argmax(duals[free])]] = True
        fixed[newly] = z
        for t in np.flatnonzero(newly):
            h.changeCoeff(base + int(t), T, 0.0)
            h.changeRowBounds(base + int(t), z, inf)
    q = np.clip(np.asarray(h.getSolution().col_value[:T]), 0.0, top)
    q[impossible] = 0.0
    return q, levels


@dataclass
class Walk:
    """Outcome of :func:`decompose`: panels found, their weights, the mass left undecomposed."""

    columns: list[np.ndarray] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)
    rest: float = 1.0
    steps: int = 0
    failed: str = ""
    milp_time_s: float = 0.0


class _FaceMILP:
    """Integer compositions on a given face of ``P``, nearest (L1, scaled by type size) to ``x``."""

    def __init__(
        self,
        inst: Instance,
        A: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        cost: np.ndarray | None = None,
    ):
        import highspy

        T = inst.n_types
        self.T, self.A, self.lo, self.hi = T, A, lo, hi
        self.inf = inf = highspy.kHighsInf
        self.sizes = sizes = inst.type_size.astype(np.float64)
        self.caps = caps = inst.type_cap.astype(np.float64)
        h = highs()
        # The objective only steers towards long steps; any point on the face is correct.
        h.setOptionValue("mip_rel_gap", 1e-3)
        for t in range(T):
            h.addCol(0.0, 0.0, caps[t], 0, _EMPTY_I, _EMPTY_V)
        idx = np.arange(T, dtype=np.int32)
        h.changeColsIntegrality(T, idx, np.full(T, highspy.HighsVarType.kInteger))
        cost = 1.0 / sizes if cost is None else cost
        for t in range(T):  # d_t >= |c_t - x_t|, weighted by 1/n_t (or ``cost``)
            h.addCol(float(cost[t]), 0.0, inf, 0, _EMPTY_I, _EMPTY_V)
        for r in range(len(A)):
            ts = np.flatnonzero(A[r]).astype(np.int32)
            h.addRow(lo[r], hi[r], len(ts), ts, np.ones(len(ts)))
        self.first_abs = h.getNumRow()
        for t in range(T):
            pair = np.array([t, T + t], dtype=np.int32)
            h.addRow(-inf, 0.0, 2, pair, np.array([1.0, -1.0]))  # c_t - d_t <= x_t
            h.addRow(0.0, inf, 2, pair, np.array([1.0, 1.0]))  # c_t + d_t >= x_t
        self.idx = idx
        self.h = h

    def solve(self, x: np.ndarray, tol: float) -> np.ndarray | None:
        """An integer composition on the minimal face of ``P`` containing ``x``, or None."""
        import highspy

        h, T, inf = self.h, self.T, self.inf
        at_zero = x <= tol
        at_full = x >= self.caps - tol
        h.changeColsBounds(
            T, self.idx, np.where(at_full, self.caps, 0.0), np.where(at_zero, 0.0, self.caps)
        )
        ax = self.A @ x
        tight_lo = ax <= self.lo + tol
        tight_hi = ax >= self.hi - tol
        for r in range(len(self.A)):
            h.changeRowBounds(
                r,
                self.hi[r] if tight_hi[r] else self.lo[r],
                self.lo[r] if tight_lo[r] else self.hi[r],
            )
        rows = self.first_abs + 2 * np.arange(T)
        h.changeRowsBounds(
            2 * T,
            np.concatenate([rows, rows + 1]).astype(np.int32),
            np.concatenate([np.full(T, -inf), x]),
            np.concatenate([x, np.full(T, inf)]),
        )
        h.run()
        status = h.getModelStatus()
        sol = np.asarray(h.getSolution().col_value)
        if (
            status
            not in (
                highspy.HighsModelStatus.kOptimal,
                highspy.HighsModelStatus.kTimeLimit,
            )
            or len(sol) < T
        ):
            return None
        return np.rint(sol[:T]).astype(np.int64)


def decompose(
    inst: Instance,
    q_target: np.ndarray,
    *,
    gap: float,
    deadline: float | None = None,
    progress=None,
    seed: int | None = None,
) -> Walk:
    """Write ``n ∘ q_target`` (a point of ``P``) as a convex combination of compositions.

    Stops when the undecomposed mass is below ``gap / 100`` (its share of any probability is then
    negligible against ``gap``), when a face has no integer point (``failed`` says so) or at
    ``deadline`` (a :func:`time.perf_counter` value). Each step divides by the mass left, which
    amplifies rounding errors in ``x`` by ``1 / rest``; the tolerance for "tight" grows with it.
    A walk that stops early leaves ``rest`` undecomposed: scaling the weights up by
    ``1 / (1 - rest)`` costs any type at most ``rest`` of probability. With ``seed``, the L1
    weights of the face MILP are perturbed (``U(0.5, 1.5) / n_t``), which sends the walk through
    other points: a second try when one walk ends on a face without panels.
    """
    A, lo, hi = _constraint_matrix(inst)
    sizes = inst.type_size.astype(np.float64)
    caps = inst.type_cap.astype(np.float64)
    cost = None
    if seed is not None:  # another walk: the same faces, other points chosen on them
        cost = np.random.default_rng(seed).uniform(0.5, 1.5, inst.n_types) / sizes
    milp = _FaceMILP(inst, A, lo, hi, cost)
    x = np.clip(np.asarray(q_target, dtype=np.float64) * sizes, 0.0, caps)
    walk = Walk()
    limit = 4 * inst.n_types + 8
    while walk.rest > gap / 100.0:
        if walk.steps >= limit:
            walk.failed = f"no convergence after {walk.steps} steps"
            break
        if deadline is not None and time.perf_counter() > deadline:
            walk.failed = "time limit"
            break
        tol = max(1e-9, 1e-13 * float(sizes.max()) / walk.rest)
        start = time.perf_counter()
        c = milp.solve(x, tol)
        walk.milp_time_s += time.perf_counter() - start
        walk.steps += 1
        if c is None:
            walk.failed = "a face of the relaxation holds no panel"
            break
        ax, ac = A @ x, A @ c
        # Ratio test. c is integer and the bounds are integers, so "c has slack" is exact; a row
        # where c is tight bounds no λ (x keeps its own slack there, rounding drift included),
        # and the MILP made c tight wherever x is, so every bound below is positive.
        with np.errstate(divide="ignore", invalid="ignore"):
            bounds = [
                np.where(c > x, x / c, np.inf),  # x_t - λ c_t >= 0
                np.where(c < x, (caps - x) / (caps - c), np.inf),  # <= cap_t (1 - λ)
                np.where(ac > lo, np.maximum(ax - lo, 0.0) / (ac - lo), np.inf),
                np.where(ac < hi, np.maximum(hi - ax, 0.0) / (hi - ac), np.inf),
            ]
        lam = float(min(1.0, *(float(np.min(b, initial=np.inf)) for b in bounds)))
        lam = max(lam, 0.0)
        if lam >= 1.0 - 1e-12 or np.abs(c - x).max() <= tol:
            walk.columns.append(c)
            walk.weights.append(walk.rest)
            walk.rest = 0.0
            break
        if lam <= 0.0:
            walk.failed = "the walk made no progress"
            break
        walk.columns.append(c)
        walk.weights.append(walk.rest * lam)
        walk.rest *= 1.0 - lam
        x = np.clip((x - lam * c) / (1.0 - lam), 0.0, caps)
        if progress is not None:
            progress(walk.rest)
    return walk


POLISH_MAX_TYPES = 1000


def relaxed_nash(inst: Instance, impossible: np.ndarray | None = None) -> np.ndarray:
    """The ``q`` maximising Nash welfare ``sum_t n_t log q_t`` over the LP relaxation ``P``.

    A smooth concave program with one variable per type and a diagonal Hessian, solved by
    scipy's interior-point ``trust-constr`` on sparse matrices from the relaxed LEXIMIN point
    (which is positive wherever a type can be selected). Types in ``impossible`` are held at 0
    and left out of the objective (their log would be -inf), as in the paper.
    """
    import scipy.sparse as sp
    from scipy.optimize import Bounds, LinearConstraint, minimize

    T = inst.n_types
    sizes = inst.type_size.astype(np.float64)
    impossible = np.zeros(T, dtype=bool) if impossible is None else np.asarray(impossible)
    A, lo, hi = _constraint_matrix(inst)
    q0, _ = relaxed_leximin(inst, impossible)
    top = inst.type_cap / sizes  # 1 unless households cap the type
    # Types at their upper bound in every point of P (e.g. when the panel needs every household)
    # leave the barrier of the interior-point method no interior: hold them there, like the
    # impossible types at 0, and optimise over the others.
    pinned = _pinned_at_top(inst, A, lo, hi, ~impossible & (q0 >= top - 1e-9))
    live = ~impossible & ~pinned
    if not live.any():
        return q0  # every selectable type at its bound (one possible panel): nothing to improve
    held = np.where(pinned, top, 0.0)
    # In probabilities (q in [0, 1]) the problem is better scaled than in counts; the held types
    # move to the right-hand sides, so the program has one variable per live type.
    AQ = A * sizes[np.newaxis, :]
    shift = AQ[:, ~live] @ held[~live]
    AQ, lo, hi = AQ[:, live], lo - shift, hi - shift
    w, top_live = sizes[live], top[live]
    everyone = np.ones(len(w), dtype=bool)

    def objective(x):
        return -float(np.sum(w * np.log(np.maximum(x, 1e-300))))

    def gradient(x):
        return -w / np.maximum(x, 1e-12)

    def hessian(x):
        return sp.diags(w / np.maximum(x, 1e-12) ** 2)

    with warnings.catch_warnings():
        # The quota rows of one feature add up to the panel-size row: a rank-deficient
        # constraint matrix, which scipy handles (by SVD) and announces; nothing for the user.
        warnings.filterwarnings("ignore", message="Singular Jacobian matrix", category=UserWarning)
        res = minimize(
            objective,
            q0[live],
            jac=gradient,
            hess=hessian,
            method="trust-constr",
            bounds=Bounds(np.zeros(len(w)), top_live),
            constraints=[LinearConstraint(sp.csr_matrix(AQ), lo, hi)],
            options={"gtol": 1e-12, "xtol": 1e-14, "barrier_tol": 1e-12, "maxiter": 5000},
        )
    x = np.clip(np.asarray(res.x), 0.0, top_live)
    # The interior-point method stops with its barrier not quite at zero (seen: 2e-6 off in q);
    # a few SQP steps from there land on the active constraints exactly. SLSQP is dense (cubic
    # in the number of types): above POLISH_MAX_TYPES the Frank-Wolfe check decides alone.
    if T <= POLISH_MAX_TYPES:
        x = _sqp_polish(x, objective, gradient, everyone, top_live, AQ, lo, hi)
    q = held.copy()
    q[live] = x
    return q


def _pinned_at_top(inst: Instance, A, lo, hi, candidates: np.ndarray) -> np.ndarray:
    """Which ``candidates`` (types at their upper bound) stay there in every point of ``P``:
    one LP each, minimising the type's count."""
    import highspy

    pinned = np.zeros(inst.n_types, dtype=bool)
    if not candidates.any():
        return pinned
    T = inst.n_types
    h = highs()
    for t in range(T):
        h.addCol(0.0, 0.0, float(inst.type_cap[t]), 0, _EMPTY_I, _EMPTY_V)
    for r in range(len(A)):
        ts = np.flatnonzero(A[r]).astype(np.int32)
        h.addRow(lo[r], hi[r], len(ts), ts, np.ones(len(ts)))
    idx = np.arange(T, dtype=np.int32)
    for t in np.flatnonzero(candidates):
        cost = np.zeros(T)
        cost[t] = 1.0
        h.changeColsCost(T, idx, cost)
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            pinned[t] = h.getInfo().objective_function_value >= inst.type_cap[t] - 1e-9
    return pinned


def _sqp_polish(q, objective, gradient, live, top, AQ, lo, hi) -> np.ndarray:
    """SLSQP from ``q`` on ``lo <= AQ q <= hi``, ``0 <= q <= top``; ``q`` itself unless the
    result is feasible (to 1e-9 in counts) and no worse."""
    from scipy.optimize import minimize

    eq = lo == hi
    polish = minimize(
        objective,
        np.clip(q, 1e-12, top),
        jac=gradient,
        method="SLSQP",
        bounds=[(1e-12, float(u)) if ok else (0.0, 0.0) for ok, u in zip(live, top, strict=True)],
        constraints=[
            {"type": "eq", "fun": lambda q: AQ[eq] @ q - lo[eq], "jac": lambda q: AQ[eq]},
            {"type": "ineq", "fun": lambda q: AQ[~eq] @ q - lo[~eq], "jac": lambda q: AQ[~eq]},
            {"type": "ineq", "fun": lambda q: hi[~eq] - AQ[~eq] @ q, "jac": lambda q: -AQ[~eq]},
        ],
        options={"ftol": 1e-15, "maxiter": 200},
    )
    polished = np.clip(np.asarray(polish.x), 0.0, top)
    rows = AQ @ polished
    feasible = bool((rows >= lo - 1e-9).all() and (rows <= hi + 1e-9).all())
    return polished if feasible and objective(polished) <= objective(q) else q
