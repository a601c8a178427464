"""Integer programs over panel compositions, solved with HiGHS (``highspy``).

A *composition* ``c`` gives the number of panel members of every type: ``0 <= c_t <= n_t``,
``sum_t c_t = k`` and ``min_fv <= sum_{t has f=v} c_t <= max_fv`` for every quota. The oracle
answers "which feasible composition maximises ``sum_t w_t c_t``?" -- the pricing problem of the
column generation in :mod:`pluralign.panel.leximin` -- and reports HiGHS's proven upper bound, so
the optimality gap of the column generation is proven, not estimated.
"""

from __future__ import annotations

import numpy as np

from pluralign.errors import InfeasibleError

_BANNER_SHOWN = False


def highs():
    """A silent HiGHS instance (the copyright banner HiGHS prints once per process goes nowhere)."""
    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        import os
        import sys

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                h = highspy.Highs()
                h.setOptionValue("output_flag", False)
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN = True
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", 0)
    return h


def composition_model(inst, rows=None, *, quotas: bool = True):
    """A HiGHS model with one integer column per type (``0 <= c_t <= cap_t``) and the rows of a
    feasible composition: panel size, every quota (``rows``: a subset of ``inst.rows``; none
    without ``quotas``) and the household rows. Columns and rows in that order."""
    import highspy

    h = highs()
    T = inst.n_types
    inf = highspy.kHighsInf
    empty_i, empty_v = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
    for t in range(T):
        h.addCol(0.0, 0.0, float(inst.type_cap[t]), 0, empty_i, empty_v)
    h.changeColsIntegrality(
        T, np.arange(T, dtype=np.int32), np.full(T, highspy.HighsVarType.kInteger)
    )
    h.addRow(float(inst.k), float(inst.k), T, np.arange(T, dtype=np.int32), np.ones(T))
    for _f, _v, lo, hi, ts in (inst.rows if rows is None else rows) if quotas else ():
        h.addRow(
            float(lo),
            float(hi) if hi < inst.k else inf,
            len(ts),
            ts.astype(np.int32),
            np.ones(len(ts)),
        )
    for m, ts in inst.household_rows:
        h.addRow(-inf, float(m), len(ts), ts.astype(np.int32), np.ones(len(ts)))
    return h


class CompositionOracle:
    """The set of feasible compositions of an :class:`~pluralign.panel.instance.Instance`."""

    def __init__(self, inst, *, mip_rel_gap: float = 1e-9, time_limit: float | None = None):
        import highspy

        self.inst = inst
        self.calls = 0
        self.seconds = 0.0
        h = composition_model(inst)
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
        h.setOptionValue("mip_abs_gap", 1e-12)
        h.setOptionValue("mip_improving_solution_save", True)
        if time_limit:
            h.setOptionValue("time_limit", float(time_limit))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h

    def best(self, weights: np.ndarray) -> tuple[np.ndarray, float, float]:
        """The composition maximising ``weights @ c``: ``(c, value, proven_upper_bound)``."""
        import time

        import highspy

        h = self.h
        T = self.inst.n_types
        h.changeColsCost(T, np.arange(T, dtype=np.int32), np.asarray(weights, dtype=np.float64))
        start = time.perf_counter()
        h.run()
        self.seconds += time.perf_counter() - start
        self.calls += 1
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            raise InfeasibleError("no panel meets every quota")
        if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit):
            raise InfeasibleError(
                f"HiGHS could not solve the pricing problem: {h.modelStatusToString(status)}"
            )
        sol = np.asarray(h.getSolution().col_value)
        if len(sol) != T:
            raise InfeasibleError("HiGHS found no panel within the time limit")
        c = np.rint(sol).astype(np.int64)
        info = h.getInfo()
        value = float(np.dot(weights, c))
        bound = float(info.mip_dual_bound)
        if not np.isfinite(bound):
            bound = value
        return c, value, max(value, bound)

    def found(self) -> list[np.ndarray]:
        """Every improving composition HiGHS met during the last :meth:`best` (best last)."""
        return [
            np.rint(np.asarray(s.col_value)).astype(np.int64) for s in self.h.getSavedMipSolutions()
        ]

    def feasible(self) -> bool:
        """Whether any composition meets every quota."""
        import highspy

        h = self.h
        T = self.inst.n_types
        h.changeColsCost(T, np.arange(T, dtype=np.int32), np.zeros(T))
        h.run()
        return h.getModelStatus() != highspy.HighsModelStatus.kInfeasible
