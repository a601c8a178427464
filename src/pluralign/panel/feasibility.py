"""Infeasible quotas: which features conflict, and the smallest relaxation that resolves them.

When no panel meets every quota, two things help an organiser:

* **the conflicting features** -- a smallest set of features whose quotas alone already admit no
  panel (an *irreducible infeasible subset*, found by the deletion filter of Chinneck & Dravnieks
  1991: drop a feature whenever the rest is still infeasible; what remains is irreducible);
* **the smallest relaxation** -- the least total change of quota bounds after which a panel exists:
  the elastic program (Chinneck 2008)

      min  sum_q (a_q + b_q)   s.t.  min_q - a_q <= sum_{t in q} c_t <= max_q + b_q,
           sum_t c_t = k,  0 <= c_t <= cap_t,  household rows,  c integer,  0 <= a_q <= min_q.

  It is solved over integer compositions (HiGHS branch and cut), not only its LP relaxation, so the
  relaxed quotas are guaranteed to admit a panel; ``a`` and ``b`` are integral at the optimum. Each
  positive ``a_q`` reads "lower min of f=v from x to y", each ``b_q`` "raise max of f=v from x to
  y". Among the relaxations of least total, a second program picks one whose largest single
  change ``max_q max(a_q, b_q)`` is least (two bounds moved by 1 rather than one by 2). The
  household rule and the panel size are never relaxed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pluralign.errors import InfeasibleError
from pluralign.panel.inputs import Quota, Quotas


@dataclass(frozen=True)
class QuotaChange:
    """One bound of one quota moved: ``bound`` is ``'min'`` or ``'max'``."""

    feature: str
    value: str
    bound: str
    old: int
    new: int

    def __str__(self) -> str:
        verb = "lower" if self.new < self.old else "raise"
        return f"{verb} {self.bound} of {self.feature}={self.value} from {self.old} to {self.new}"

    def as_dict(self) -> dict:
        return {
            "feature": self.feature,
            "value": self.value,
            "bound": self.bound,
            "old": self.old,
            "new": self.new,
            "text": str(self),
        }


class QuotaInfeasibleError(InfeasibleError):
    """No panel meets the quotas. ``features`` conflict; ``changes`` is the smallest relaxation
    (empty when none exists: the pool or its households are too small for the panel)."""

    def __init__(self, message, *, features=(), changes=(), where=None, hint=None):
        self.features = tuple(features)
        self.changes = tuple(changes)
        super().__init__(message, where=where, hint=hint)


def _feasible(inst, rows=None, *, quotas: bool = True) -> bool:
    import highspy

    from pluralign.panel.oracle import composition_model

    h = composition_model(inst, rows, quotas=quotas)
    h.run()
    return h.getModelStatus() != highspy.HighsModelStatus.kInfeasible


def smallest_relaxation(inst) -> list[QuotaChange]:
    """The quota changes of least total size that make ``inst`` feasible (the elastic program of
    the module docstring); empty when ``inst`` is feasible; raises :class:`InfeasibleError` when
    no relaxation of the quotas helps (too few people or households for the panel size)."""
    import highspy

    from pluralign.panel.oracle import composition_model

    inf = highspy.kHighsInf
    h = composition_model(inst, quotas=False)
    T = inst.n_types
    cols = []
    for _f, _v, lo, hi, ts in inst.rows:
        a, b = h.getNumCol(), h.getNumCol() + 1
        cols.append((a, b))
        empty_i, empty_v = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        h.addCol(1.0, 0.0, float(lo), 0, empty_i, empty_v)
        h.addCol(1.0, 0.0, float(max(inst.k - hi, 0)), 0, empty_i, empty_v)
        idx = np.concatenate([ts, [a]]).astype(np.int32)
        h.addRow(float(lo), inf, len(idx), idx, np.ones(len(idx)))
        idx = np.concatenate([ts, [b]]).astype(np.int32)
        h.addRow(-inf, float(hi), len(idx), idx, np.r_[np.ones(len(ts)), -1.0])
    extra = np.arange(T, h.getNumCol(), dtype=np.int32)
    h.changeColsIntegrality(len(extra), extra, np.full(len(extra), highspy.HighsVarType.kInteger))
    h.changeObjectiveSense(highspy.ObjSense.kMinimize)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise _no_relaxation(inst)
    total = round(h.getInfo().objective_function_value)
    if total > 1:
        # among the relaxations of least total, one whose largest single change is least:
        # several small moves rather than one bound pushed far (e.g. a minimum lowered to 0)
        n = len(extra)
        empty_i, empty_v = np.array([], dtype=np.int32), np.array([], dtype=np.float64)
        h.changeColsCost(n, extra, np.zeros(n))
        h.addRow(-inf, float(total), n, extra, np.ones(n))
        d = h.getNumCol()
        h.addCol(1.0, 0.0, float(total), 0, empty_i, empty_v)
        for j in extra:
            h.addRow(-inf, 0.0, 2, np.array([j, d], dtype=np.int32), np.array([1.0, -1.0]))
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:  # pragma: no cover
            raise InfeasibleError("the tie-break of the smallest relaxation found no solution")
    sol = np.asarray(h.getSolution().col_value)
    out = []
    for (f, v, lo, hi, _ts), (a, b) in zip(inst.rows, cols, strict=True):
        if sol[a] > 0.5:
            out.append(QuotaChange(f, v, "min", lo, lo - int(round(sol[a]))))
        if sol[b] > 0.5:
            out.append(QuotaChange(f, v, "max", hi, hi + int(round(sol[b]))))
    return out


def _no_relaxation(inst) -> InfeasibleError:
    if inst.households is None:
        return InfeasibleError(f"panel size {inst.k} is larger than the pool ({inst.n} people)")
    homes = len(set(inst.households.of))
    return InfeasibleError(
        f"a panel of {inst.k} needs {inst.k} different households, but the pool has only "
        f"{homes} households (column {inst.households.column!r})",
        hint="lower the panel size or recruit people from more households",
    )


def conflicting_features(inst) -> tuple[str, ...]:
    """A smallest set of features whose quotas alone admit no panel (deletion filter)."""
    keep = list(inst.features)
    for f in list(keep):
        rest = [g for g in keep if g != f]
        if not _feasible(inst, [r for r in inst.rows if r[0] in rest]):
            keep = rest
    return tuple(keep)


def apply_changes(quotas: Quotas, changes) -> Quotas:
    """``quotas`` with the bounds ``changes`` name moved (a new :class:`Quotas`)."""
    moved = {(c.feature, c.value, c.bound): c.new for c in changes}
    items = tuple(
        Quota(
            q.feature,
            q.value,
            moved.get((q.feature, q.value, "min"), q.min),
            moved.get((q.feature, q.value, "max"), q.max),
        )
        for q in quotas.items
    )
    return Quotas(items, source=f"{quotas.source} (relaxed)" if changes else quotas.source)


def _reason(inst) -> str | None:
    """A counting reason for infeasibility within one quota or feature, or None."""
    cap = inst.type_cap
    apart = "" if inst.households is None else " (at most one per household)"
    for f, v, lo, _hi, ts in inst.rows:
        have = int(cap[ts].sum())
        if have < lo:
            return (
                f"quota {f}={v} needs at least {lo} panel members but the pool has only "
                f"{have}{apart}"
            )
    for f in inst.features:
        rows = [r for r in inst.rows if r[0] == f]
        lo_sum = sum(r[2] for r in rows)
        hi_sum = sum(min(r[3], int(cap[r[4]].sum())) for r in rows)
        if lo_sum > inst.k:
            return (
                f"feature {f!r}: the minimums add up to {lo_sum}, more than the panel size {inst.k}"
            )
        if hi_sum < inst.k:
            return (
                f"feature {f!r}: at most {hi_sum} panel members can be placed (maximums, capped "
                f"by the pool), fewer than the panel size {inst.k}"
            )
    return None


def _names(features) -> str:
    quoted = [repr(f) for f in features]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def check_feasible(inst) -> None:
    """Raise :class:`QuotaInfeasibleError` naming the conflicting features and the smallest
    relaxation if no panel meets every quota (and the household rule)."""
    reason = _reason(inst)
    if reason is None and _feasible(inst):
        return
    if not _feasible(inst, quotas=False):
        raise _no_relaxation(inst)
    features = conflicting_features(inst)
    changes = smallest_relaxation(inst)
    if reason is None:
        reason = f"no panel of {inst.k} meets the quotas on {_names(features)} together"
        if inst.households is not None:
            reason += " (with at most one person per household)"
    fix = " and ".join(map(str, changes))
    raise QuotaInfeasibleError(
        f"{reason}; smallest relaxation: {fix}" if fix else reason,
        features=features,
        changes=changes,
        where=inst.quotas.source,
        hint="run again with --relax to apply that relaxation (relax=True in the API), "
        "or change the quotas",
    )
