"""Per-group vote statistics: representativeness, group-aware consensus, overall agreement.

Definitions follow Polis (``math/src/polismath/math/repness.clj``, ``stats.clj`` and
``conversation.clj``). For a group g and a statement, with A agrees, D disagrees and S votes seen
(agree + disagree + pass) among the group's members:

    pa = (A + 1) / (S + 2)                 pd = (D + 1) / (S + 2)            (Laplace-smoothed)
    pat = prop_test(A, S)                  pdt = prop_test(D, S)
    ra = pa / ((A_rest + 1) / (S_rest + 2))   rd likewise                    (representativeness)
    rat = two_prop_test(A, A_rest, S, S_rest) rdt likewise

where "rest" pools every other group, and

    prop_test(s, n) = 2 √(n + 1) · ((s + 1) / (n + 1) − ½)
    two_prop_test(s₁, s₂, n₁, n₂) = (p₁ − p₂) / √(p̂ (1 − p̂) (1/n₁' + 1/n₂'))
        with s', n' = s + 1, n + 1;  p₁ = s₁'/n₁', p₂ = s₂'/n₂', p̂ = (s₁' + s₂') / (n₁' + n₂')
        (0 when p̂ = 1).

A z above 1.2816 is significant at 90 % (one-sided). Group-aware consensus (Polis
``:group-aware-consensus``; Small et al. 2021) is GAC = Π_g (A_g + 1) / (S_g + 2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Z90 = 1.2816
"""One-sided 90 % critical value of the standard normal (Polis ``z-sig-90?``)."""


def prop_test(succ: np.ndarray | float, n: np.ndarray | float) -> np.ndarray:
    """Polis's one-proportion z-test of ``succ`` successes in ``n`` trials against ½."""
    succ, n = np.asarray(succ, dtype=float) + 1, np.asarray(n, dtype=float) + 1
    return 2 * np.sqrt(n) * (succ / n - 0.5)


def two_prop_test(succ_in, succ_out, n_in, n_out) -> np.ndarray:
    """Polis's two-proportion z-test (group vs rest), each count plus one."""
    s1, s2 = np.asarray(succ_in, float) + 1, np.asarray(succ_out, float) + 1
    n1, n2 = np.asarray(n_in, float) + 1, np.asarray(n_out, float) + 1
    p1, p2 = s1 / n1, s2 / n2
    phat = (s1 + s2) / (n1 + n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.sqrt(phat * (1 - phat) * (1 / n1 + 1 / n2))
        z = np.where(phat >= 1, 0.0, (p1 - p2) / np.where(denom > 0, denom, 1))
    return z


@dataclass(frozen=True, eq=False)
class GroupStats:
    """Repness statistics, each array of shape (n_groups, n_statements)."""

    agree: np.ndarray
    disagree: np.ndarray
    seen: np.ndarray
    pa: np.ndarray
    pd: np.ndarray
    pat: np.ndarray
    pdt: np.ndarray
    ra: np.ndarray
    rd: np.ndarray
    rat: np.ndarray
    rdt: np.ndarray


def group_stats(agree: np.ndarray, disagree: np.ndarray, seen: np.ndarray) -> GroupStats:
    """All Polis per-group statistics from vote counts of shape (n_groups, n_statements)."""
    a, d, s = (np.asarray(x, dtype=float) for x in (agree, disagree, seen))
    a_rest, d_rest, s_rest = a.sum(0) - a, d.sum(0) - d, s.sum(0) - s
    pa, pd_ = (a + 1) / (s + 2), (d + 1) / (s + 2)
    return GroupStats(
        agree=a,
        disagree=d,
        seen=s,
        pa=pa,
        pd=pd_,
        pat=prop_test(a, s),
        pdt=prop_test(d, s),
        ra=pa / ((a_rest + 1) / (s_rest + 2)),
        rd=pd_ / ((d_rest + 1) / (s_rest + 2)),
        rat=two_prop_test(a, a_rest, s, s_rest),
        rdt=two_prop_test(d, d_rest, s, s_rest),
    )


def group_aware_consensus(agree: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """GAC(s) = Π_g (A_g + 1) / (S_g + 2), one value per statement."""
    return np.prod((np.asarray(agree, float) + 1) / (np.asarray(seen, float) + 2), axis=0)


@dataclass(frozen=True)
class RepStatement:
    """A statement representative of a group, with the side ("agree"/"disagree") it stands for.

    ``p_success`` is pa or pd, ``p_test`` pat or pdt, ``repness`` ra or rd, ``repness_test`` rat
    or rdt; ``best_agree`` marks the group's best agreed-with statement Polis always lists first.
    """

    statement: int
    repful_for: str
    n_success: int
    n_trials: int
    p_success: float
    p_test: float
    repness: float
    repness_test: float
    best_agree: bool = False

    @property
    def metric(self) -> float:
        """Polis's ranking metric: repness · repness_test · p_success · p_test."""
        return self.repness * self.repness_test * self.p_success * self.p_test


def _finalize(st: GroupStats, g: int, j: int, statement: int, best_agree: bool = False):
    if st.rat[g, j] > st.rdt[g, j]:
        vals = (st.agree, st.pa, st.pat, st.ra, st.rat, "agree")
    else:
        vals = (st.disagree, st.pd, st.pdt, st.rd, st.rdt, "disagree")
    n, p, pt, r, rt, side = vals
    return RepStatement(
        statement=int(statement),
        repful_for=side,
        n_success=int(n[g, j]),
        n_trials=int(st.seen[g, j]),
        p_success=float(p[g, j]),
        p_test=float(pt[g, j]),
        repness=float(r[g, j]),
        repness_test=float(rt[g, j]),
        best_agree=best_agree,
    )


def _beats_best_agree(st: GroupStats, g: int, j: int, best: int | None) -> bool:
    if st.agree[g, j] == 0 and st.disagree[g, j] == 0:
        return False
    score = st.ra[g, j] * st.rat[g, j] * st.pa[g, j] * st.pat[g, j]
    if best is not None and st.ra[g, best] > 1.0:
        return score > st.ra[g, best] * st.rat[g, best] * st.pa[g, best] * st.pat[g, best]
    if best is not None:
        return st.pa[g, j] * st.pat[g, j] > st.pa[g, best] * st.pat[g, best]
    return bool(st.pat[g, j] > Z90 or (st.ra[g, j] > 1.0 and st.pa[g, j] > 0.5))


def representative_statements(
    st: GroupStats, statements: np.ndarray, max_per_group: int = 5
) -> dict[int, list[RepStatement]]:
    """Polis's ``select-rep-comments``: per group, the statements that pass both 90 % tests
    (pat and rat, or pdt and rdt), ranked by :attr:`RepStatement.metric`, the group's best
    agreed-with statement first, at most ``max_per_group``, agrees before disagrees. A group with
    no passing statement gets its best one (by repness test) so no group is left empty."""
    n_groups, m = st.pa.shape
    passes = ((st.rat > Z90) & (st.pat > Z90)) | ((st.rdt > Z90) & (st.pdt > Z90))
    out: dict[int, list[RepStatement]] = {}
    for g in range(n_groups):
        best: RepStatement | None = None
        best_agree: int | None = None
        sufficient: list[RepStatement] = []
        for j in range(m):
            if passes[g, j]:
                sufficient.append(_finalize(st, g, j, statements[j]))
            if not sufficient:
                z = max(st.rat[g, j], st.rdt[g, j])
                if best is None or z > best.repness_test:
                    best = _finalize(st, g, j, statements[j])
            if _beats_best_agree(st, g, j, best_agree):
                best_agree = j
        head: list[RepStatement] = []
        if best_agree is not None:
            b = best_agree
            head = [
                RepStatement(
                    statement=int(statements[b]),
                    repful_for="agree",
                    n_success=int(st.agree[g, b]),
                    n_trials=int(st.seen[g, b]),
                    p_success=float(st.pa[g, b]),
                    p_test=float(st.pat[g, b]),
                    repness=float(st.ra[g, b]),
                    repness_test=float(st.rat[g, b]),
                    best_agree=True,
                )
            ]
        if not sufficient:
            out[g] = head or ([best] if best else [])
            continue
        rest = [r for r in sufficient if not head or r.statement != head[0].statement]
        rest.sort(key=lambda r: -r.metric)
        chosen = (head + rest)[:max_per_group]
        out[g] = [r for r in chosen if r.repful_for == "agree"] + [
            r for r in chosen if r.repful_for == "disagree"
        ]
    return out


def polis_consensus(
    agree: np.ndarray, disagree: np.ndarray, seen: np.ndarray, statements: np.ndarray, top: int = 5
) -> dict[str, list[int]]:
    """Polis's ``select-consensus-comments`` over all voters: statements with pa > ½ and
    pat > 1.2816 ranked by pa·pat (top ``top``), and likewise for disagreement."""
    out = {}
    for side, n in (("agree", agree), ("disagree", disagree)):
        p = (np.asarray(n, float) + 1) / (np.asarray(seen, float) + 2)
        z = prop_test(n, seen)
        ok = np.flatnonzero((p > 0.5) & (z > Z90))
        ranked = ok[np.argsort(-(p * z)[ok], kind="stable")][:top]
        out[side] = [int(statements[j]) for j in ranked]
    return out
