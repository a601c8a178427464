"""Cross-group consensus: the one definition the aggregate, the constitution and a run share.

A statement is **cross-group consensus** under a :class:`ConsensusRule` (``method =
"posterior"``, the default) when

* every opinion group g cast S_g ≥ ``min_group_votes`` (3) votes on it (A_g agrees, D_g
  disagrees, passes included in S_g);
* the posterior probability that **every** opinion group has an agree share ≥
  ``min_agree_share`` (0.65) and a disagree share ≤ ``max_disagree_share`` (0.15) — the
  simulator's definition of a consensus statement — is at least ``min_posterior`` (0.25).
  Each group's shares have a Dirichlet prior worth ``prior_votes`` (15) votes centred on the
  statement's overall shares (empirical Bayes: each marginal is a Beta prior), updated by the
  group's votes (:func:`posterior_pass`); the groups are disjoint, so the probability that all
  pass is the product of theirs;
* the same holds over the **halves** of the opinion groups (``check_halves``): each group's
  participants split in two by 2-means on their opinion-map positions
  (:func:`pluralign.aggregate.clusters.halve_groups`), the probability that every half passes
  at least ``min_posterior``. The opinion groups found are often fewer than the latent ones
  (2–3 found of 4 on the simulator), and a statement the smallest latent group rejects passes
  inside a merged group; the finer split shows it;
* GAC = Π_g (A_g + 1)/(S_g + 2) ≥ ``min_gac`` (Polis's group-aware consensus; by default
  0.5^G for G groups).

**Small groups do not veto.** An opinion group takes part in the rule only when it cast at least
``min_group_votes`` votes on at least ``min_group_coverage`` (0.5) of the share of statements
the best-covered group did; a group that cannot be heard on most statements (a one-person group
casts at most one vote on a statement, fewer than the 3 every group needs, so before this it
blocked every statement) need not have voted and is not tested, nor are its halves, and its
votes are left out of the centre of the prior and of the GAC the threshold is checked on (that
threshold is 0.5^G over the G groups that take part).

The prior shrinks a small group's shares towards the statement's overall shares, so 3 of 4
agreeing says little either way, and the probability, not a point estimate, is thresholded.
More agreeing votes never lower any group's probability (a hypothesis test checks it).

``method = "interval"`` is the rule before this one (kept to check constitutions drafted with
it): in every group the lower end of the Wilson score interval (Wilson 1927) of A_g / S_g, at
z = ``interval_z`` standard errors, is at least ``min_group_agreement``, and no half's upper
bound is below ``min_subgroup_agreement``; ``interval_z = 0`` and no halves is the point-share
rule before that.

The rules and their measurement (precision/recall on the simulator and an independent planted
conversation, against the Bayes bound) are in docs/sensemaking.md §6; ``benchmarks/fidelity.py``
measures them. Candidates are ranked by GAC (Polis ``:group-aware-consensus``; Small et al.
2021), as Collective Constitutional AI kept the Polis statements with high agreement in every
group. :func:`consensus_candidates` is the definition; :func:`nearest_miss` says, when no
statement passes, which statement came closest and by how much it missed each threshold (the
message a run prints).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pluralign.errors import InputError

if TYPE_CHECKING:  # numpy loads in the functions: the CLI's help imports ConsensusRule
    import numpy as np


METHODS = ("posterior", "interval")
"""The rules :class:`ConsensusRule` can apply: ``posterior`` (the default) and ``interval``
(Wilson bounds; the default before the posterior rule, kept to check older constitutions)."""


@dataclass(frozen=True)
class ConsensusRule:
    """Thresholds of cross-group consensus (see the module docstring)."""

    min_group_agreement: float = 0.5
    """interval: lower Wilson bound (at ``interval_z``) of the agree share A_g / S_g every group
    must reach."""
    min_group_votes: int = 3
    """Votes every group must have cast on the statement."""
    min_gac: float | None = None
    """Group-aware consensus the statement needs; None means 0.5 ** n_groups."""
    interval_z: float = 1.0
    """interval: standard errors of the Wilson intervals (0: point estimates, no interval)."""
    min_subgroup_agreement: float | None = 0.7
    """interval: a half of an opinion group whose upper Wilson bound of the agree share is below
    this vetoes the statement (None: halves are not checked)."""
    method: str = "posterior"
    """``posterior`` or ``interval`` (:data:`METHODS`)."""
    min_agree_share: float = 0.65
    """posterior: the agree share a group must have (with ``max_disagree_share``)."""
    max_disagree_share: float = 0.15
    """posterior: the disagree share a group may have at most."""
    prior_votes: float = 15.0
    """posterior: the weight, in votes, of the prior centred on the statement's overall shares."""
    min_posterior: float = 0.25
    """posterior: the posterior probability of passing each group (and half) must reach."""
    check_halves: bool = True
    """posterior: require the same of each half of each opinion group."""
    min_group_coverage: float = 0.5
    """A group takes part in the rule when the share of statements it cast ``min_group_votes``
    votes on is at least this fraction of the best-covered group's share; a group below it (and
    its halves) neither needs votes nor vetoes (0: every group takes part, the rule before)."""

    def __post_init__(self) -> None:
        def unit(name: str) -> None:
            value = getattr(self, name)
            if not 0 <= value <= 1:
                raise InputError(f"{name} must be in [0, 1], got {value}", where=name)

        for name in ("min_group_agreement", "min_agree_share", "max_disagree_share",
                     "min_posterior", "min_group_coverage"):
            unit(name)
        if self.min_group_votes < 0:
            raise InputError("min_group_votes must be ≥ 0", where="min_group_votes")
        if self.min_gac is not None and not 0 <= self.min_gac <= 1:
            raise InputError(f"min_gac must be in [0, 1], got {self.min_gac}", where="min_gac")
        if not 0 <= self.interval_z <= 10:
            raise InputError(
                f"interval_z must be in [0, 10], got {self.interval_z}", where="interval_z"
            )
        sub = self.min_subgroup_agreement
        if sub is not None and not 0 <= sub <= 1:
            raise InputError(
                f"min_subgroup_agreement must be in [0, 1], got {sub}",
                where="min_subgroup_agreement",
            )
        if self.method not in METHODS:
            raise InputError(
                f"unknown consensus method {self.method!r}", where="consensus_method",
                hint=" or ".join(METHODS),
            )
        if not 0 <= self.prior_votes <= 10_000:
            raise InputError(
                f"prior_votes must be in [0, 10000], got {self.prior_votes}", where="prior_votes"
            )

    def gac_threshold(self, n_groups: int) -> float:
        return self.min_gac if self.min_gac is not None else 0.5**n_groups

    @property
    def agree_share(self) -> float:
        """The agree share the rule asks of every group (posterior: ``min_agree_share``;
        interval: ``min_group_agreement``), e.g. for statement routing's uncertainty."""
        return self.min_agree_share if self.method == "posterior" else self.min_group_agreement

    @property
    def uses_halves(self) -> bool:
        """Whether the rule looks at the halves of the opinion groups."""
        if self.method == "posterior":
            return self.check_halves
        return self.min_subgroup_agreement is not None


def group_shares(agree: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """A_g / S_g per (group, statement), 0 where a group cast no vote."""
    import numpy as np

    agree, seen = np.asarray(agree, float), np.asarray(seen, float)
    return np.divide(agree, seen, out=np.zeros_like(agree), where=seen > 0)


def wilson_interval(k, n, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (Wilson 1927) of a share k/n at ``z`` standard errors:

        (p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n),   p = k/n,

    elementwise; (0, 1) where n = 0 (nothing is known). ``z = 0`` gives (p, p). Unlike the
    normal interval it stays inside [0, 1] and is not empty at p = 0 or 1 (Brown, Cai &
    DasGupta 2001 recommend it for small n)."""
    import numpy as np

    k, n = np.asarray(k, float), np.asarray(n, float)
    safe = np.maximum(n, 1.0)  # n = 0 is overridden below
    p = np.where(n > 0, k / safe, 0.0)
    z2 = z * z
    centre = p + z2 / (2 * safe)
    half = z * np.sqrt(np.maximum(p * (1 - p) / safe + z2 / (4 * safe * safe), 0.0))
    den = 1 + z2 / safe
    low = np.where(n > 0, np.clip((centre - half) / den, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip((centre + half) / den, 0.0, 1.0), 1.0)
    return low, high


_EPS = 1e-9
"""Floor of a Dirichlet parameter: a share no vote and no prior gives mass to is (almost
surely) 0, the limit the formula takes there."""
_NODES = 32
"""Gauss–Legendre nodes of :func:`posterior_pass`'s one-dimensional integral."""


def overall_shares(agree, disagree, seen) -> tuple[np.ndarray, np.ndarray]:
    """The statement's agree and disagree shares over all the rows (groups) together, the
    centre of :func:`posterior_pass`'s prior; (1/3, 1/3) for a statement nobody voted on."""
    import numpy as np

    a, d, s = (np.asarray(x, float).sum(0) for x in (agree, disagree, seen))
    safe = np.maximum(s, 1.0)
    return np.where(s > 0, a / safe, 1 / 3), np.where(s > 0, d / safe, 1 / 3)


def posterior_pass(agree, disagree, seen, centre, rule: ConsensusRule) -> np.ndarray:
    """P(agree share ≥ ``rule.min_agree_share`` and disagree share ≤ ``rule.max_disagree_share``
    | the votes), per (row, statement).

    A row's shares (p_a, p_d, p_p) of agree, disagree and pass have the Dirichlet prior
    ``prior_votes`` · (a₀, d₀, 1 − a₀ − d₀), centred on the statement's overall shares
    ``centre`` = (a₀, d₀) (empirical Bayes: each marginal is a Beta prior worth ``prior_votes``
    votes), so the posterior is Dirichlet(α) with α = prior + (A, D, S − A − D). Under it p_a ~
    Beta(α_a, α_d + α_p) and, given p_a = x, p_d / (1 − x) ~ Beta(α_d, α_p), hence

        P = ∫_{a*}^{1} f(x) · I_{min(1, d*/(1 − x))}(α_d, α_p) dx,

    f the density of p_a and I the regularised incomplete beta function. With u = F(x) this is
    an integral over u ∈ [F(a*), 1] whose integrand is 1 from u = F(max(a*, 1 − d*)) on; the
    rest is computed by Gauss–Legendre quadrature (32 nodes; within 1e-4 of Monte Carlo on the
    unit tests)."""
    import numpy as np
    from scipy import special

    a, d, s = (np.asarray(x, float) for x in (agree, disagree, seen))
    a0, d0 = (np.asarray(x, float) for x in centre)
    k = rule.prior_votes
    alpha_a = np.maximum(k * a0 + a, _EPS)
    alpha_d = np.maximum(k * d0 + d, _EPS)
    alpha_p = np.maximum(k * np.maximum(1 - a0 - d0, 0) + s - a - d, _EPS)
    rest = alpha_d + alpha_p
    a_star, d_star = rule.min_agree_share, rule.max_disagree_share
    u0 = special.betainc(alpha_a, rest, a_star)  # P(p_a < a*)
    u1 = np.maximum(u0, special.betainc(alpha_a, rest, max(a_star, 1 - d_star)))
    t, w = np.polynomial.legendre.leggauss(_NODES)
    u = u0[..., None] + (u1 - u0)[..., None] * (t + 1) / 2
    x = special.betaincinv(alpha_a[..., None], rest[..., None], u)
    y = np.clip(d_star / np.maximum(1 - x, 1e-300), 0.0, 1.0)
    inner = special.betainc(alpha_d[..., None], alpha_p[..., None], y)
    return np.clip((1 - u1) + (u1 - u0) * (inner * w).sum(-1) / 2, 0.0, 1.0)


def taking_part(seen, rule: ConsensusRule) -> tuple[np.ndarray, np.ndarray]:
    """Which groups take part in ``rule`` (a boolean mask over the rows of ``seen``, votes per
    (group, statement)), and the same mask over their halves (group g's halves are rows 2g and
    2g + 1): a group takes part when the share of statements on which it cast at least
    ``min_group_votes`` votes is at least ``min_group_coverage`` times the largest such share of
    any group (every group when no group covers any statement).

    Halves are not held to it: they need no votes, so a half cannot veto by not voting, and the
    few votes of a small one move its posterior only a little."""
    import numpy as np

    seen = np.asarray(seen, float)
    cover = (seen >= rule.min_group_votes).mean(1) if seen.shape[1] else np.ones(len(seen))
    best = cover.max() if len(cover) else 0.0
    part = cover >= rule.min_group_coverage * best if best > 0 else np.ones(len(seen), bool)
    return part, np.repeat(part, 2)


def _rows(x, mask):
    """The rows of ``x`` in ``mask`` (all when ``mask`` is None; None stays None)."""
    import numpy as np

    if x is None or mask is None:
        return x
    return np.asarray(x)[mask]


def _half_counts(halves, need_disagree: bool):
    """(agree, disagree or None, seen) of the halves passed as (agree, seen) or
    (agree, disagree, seen)."""
    if halves is None:
        raise ValueError("consensus_candidates: this rule checks halves; pass halves=")
    if len(halves) == 3:
        return halves
    if need_disagree:
        raise ValueError("the posterior rule needs the halves' disagrees: (agree, disagree, seen)")
    return halves[0], None, halves[1]


def statement_scores(agree, seen, rule: ConsensusRule, halves=None, disagree=None):
    """Per statement the two scores the rule thresholds, (groups, halves), over the groups and
    halves that take part (:func:`taking_part`):

    * posterior: the posterior probability that every opinion group passes, Π_g P_g
      (:func:`posterior_pass`; the groups are disjoint sets of people, so with the prior fixed
      their posteriors are independent), and the same product over the halves — the halves
      split the same people more finely, so theirs is a second test, not a factor of the
      first;
    * interval: the lowest group's lower Wilson bound, and the lowest half's upper bound.

    The halves' score is None when the rule does not use them. A half with no vote on any
    statement (the empty half of a group too small to split) is left out."""
    import numpy as np

    group_rows, half_rows = taking_part(seen, rule)
    agree, seen, disagree = (_rows(x, group_rows) for x in (agree, seen, disagree))
    if halves is not None:
        halves = tuple(_rows(x, half_rows[: len(halves[0])]) for x in halves)
    seen = np.asarray(seen, float)
    half_scores = None
    if rule.method == "posterior":
        if disagree is None:
            raise ValueError("the posterior rule needs the groups' disagrees: pass disagree=")
        centre = overall_shares(agree, disagree, seen)
        scores = posterior_pass(agree, disagree, seen, centre, rule).prod(0)
        if rule.check_halves:
            ha, hd, hs = _half_counts(halves, True)
            rows = np.asarray(hs, float).sum(1) > 0
            half_scores = posterior_pass(np.asarray(ha)[rows], np.asarray(hd)[rows],
                                         np.asarray(hs)[rows], centre, rule).prod(0)
        return scores, half_scores
    scores = wilson_interval(agree, seen, rule.interval_z)[0].min(0)
    if rule.min_subgroup_agreement is not None:
        ha, _, hs = _half_counts(halves, False)
        half_scores = wilson_interval(ha, hs, rule.interval_z)[1].min(0)
    return scores, half_scores


def _thresholds(rule: ConsensusRule) -> tuple[float, float]:
    if rule.method == "posterior":
        return rule.min_posterior, rule.min_posterior
    return rule.min_group_agreement, rule.min_subgroup_agreement or 0.0


def consensus_candidates(
    agree: np.ndarray,
    seen: np.ndarray,
    gac: np.ndarray,
    rule: ConsensusRule,
    halves: tuple[np.ndarray, ...] | None = None,
    disagree: np.ndarray | None = None,
) -> np.ndarray:
    """Column indices of the statements that are cross-group consensus under ``rule``, by
    decreasing GAC (ties: column order). ``agree``, ``seen`` and ``disagree`` (required by the
    posterior rule) have shape (groups, statements); ``halves`` is (agree, disagree, seen) of the
    groups' halves (shape (halves, statements); the interval rule also takes (agree, seen)),
    required when the rule checks halves. Only the groups that take part (:func:`taking_part`)
    and their halves are tested; ``gac`` orders the result, and the GAC threshold is checked on
    the groups that take part."""
    import numpy as np

    scores, half_scores = statement_scores(agree, seen, rule, halves, disagree)
    group_rows, _ = taking_part(seen, rule)
    part_agree = np.asarray(_rows(agree, group_rows), float)
    part_seen = np.asarray(_rows(seen, group_rows), float)
    need, need_half = _thresholds(rule)
    ok = scores >= need
    ok &= (part_seen >= rule.min_group_votes).all(0)
    part_gac = np.prod((part_agree + 1) / (part_seen + 2), axis=0)  # stats.group_aware_consensus
    ok &= part_gac >= rule.gac_threshold(len(part_seen))
    if half_scores is not None:
        ok &= half_scores >= need_half
    idx = np.flatnonzero(ok)
    return idx[np.argsort(-np.asarray(gac)[idx], kind="stable")]


@dataclass(frozen=True)
class ConsensusMiss:
    """The statement closest to consensus and how far it was from each threshold."""

    statement: int
    lowest_group_agreement: float
    """The groups' score: the posterior probability that every group passes (posterior) or the
    lowest group's lower Wilson bound of its agree share (interval; the share at z = 0)."""
    fewest_group_votes: int
    gac: float
    rule: ConsensusRule
    gac_needed: float
    lowest_half_agreement: float | None = None
    """The halves' score: the posterior probability that every half passes (posterior) or the
    lowest half's upper Wilson bound of its agree share (interval); None: halves not
    checked."""

    def message(self, option=lambda field: field) -> str:
        """One line naming each threshold the statement missed, with the value that would let
        it pass; ``option`` turns a field name into the setting a user changes (e.g.
        ``constitution.min_group_agreement`` or ``--min-group-agreement``)."""
        misses = []
        r = self.rule
        half = self.lowest_half_agreement
        if r.method == "posterior":
            what = (f"agree share ≥ {r.min_agree_share:g} and disagree share ≤ "
                    f"{r.max_disagree_share:g}")
            low = self.lowest_group_agreement
            both = low if half is None else min(low, half)
            if both < r.min_posterior:
                where = f"{low:.1%} in every opinion group"
                if half is not None:
                    where += f", {half:.1%} in every half of them"
                misses.append(
                    f"the posterior probability of {what} is {where}, below "
                    f"{option('min_posterior')} = {r.min_posterior:g} (set it to "
                    f"{_floor3(both)} to admit it)"
                )
        elif self.lowest_group_agreement < r.min_group_agreement:
            misses.append(
                f"its least-agreeing group agreed {self.lowest_group_agreement:.1%}"
                + (f" (lower bound at z = {r.interval_z:g})" if r.interval_z else "")
                + ", below "
                f"{option('min_group_agreement')} = {r.min_group_agreement:g} (set it to "
                f"{_floor3(self.lowest_group_agreement)} to admit it)"
            )
        if self.fewest_group_votes < r.min_group_votes:
            misses.append(
                f"a group cast {self.fewest_group_votes} votes on it, fewer than "
                f"{option('min_group_votes')} = {r.min_group_votes}"
            )
        sub = r.min_subgroup_agreement
        if r.method == "interval" and sub is not None and half is not None and half < sub:
            misses.append(
                f"half of an opinion group rejects it (its agree share is at most {half:.1%}), "
                f"below {option('min_subgroup_agreement')} = {sub:g}"
            )
        if self.gac < self.gac_needed:
            misses.append(
                f"its group-aware consensus {self.gac:.4f} is below {option('min_gac')} = "
                f"{self.gac_needed:.4f}"
            )
        return f"the closest statement, {self.statement}: " + "; ".join(misses)


def _floor3(x: float) -> str:
    """``x`` rounded down to 3 decimals (a threshold that admits a share of ``x``)."""
    import numpy as np

    return f"{np.floor(x * 1000) / 1000:.3f}"


def nearest_miss(
    agree: np.ndarray,
    seen: np.ndarray,
    gac: np.ndarray,
    statements: np.ndarray,
    rule: ConsensusRule,
    halves: tuple[np.ndarray, ...] | None = None,
    disagree: np.ndarray | None = None,
) -> ConsensusMiss | None:
    """The statement nearest to passing ``rule``: among those every group (that takes part,
    :func:`taking_part`) voted on often enough (else all), the one
    whose score (:func:`statement_scores`: the posterior probability, the lower of the groups'
    and the halves'; or the lowest lower Wilson bound) is highest (ties: higher GAC). None when
    there are no statements."""
    import numpy as np

    seen = np.asarray(seen, float)
    if seen.shape[1] == 0:
        return None
    if halves is None and rule.uses_halves:  # the message then leaves the halves out
        rule_for_scores = replace(rule, check_halves=False, min_subgroup_agreement=None)
    else:
        rule_for_scores = rule
    low, half_scores = statement_scores(agree, seen, rule_for_scores, halves, disagree)
    rank = low
    if half_scores is not None and rule.method == "posterior":
        rank = np.minimum(low, half_scores)
    group_rows, _ = taking_part(seen, rule)
    part_seen = np.asarray(_rows(seen, group_rows), float)
    part_gac = np.prod((np.asarray(_rows(agree, group_rows), float) + 1) / (part_seen + 2), 0)
    votes = part_seen.min(0)
    pool = np.flatnonzero(votes >= rule.min_group_votes)
    if len(pool) == 0:
        pool = np.arange(seen.shape[1])
    j = pool[np.lexsort((-np.asarray(gac)[pool], -rank[pool]))[0]]
    half = None if half_scores is None else float(half_scores[j])
    return ConsensusMiss(
        statement=int(statements[j]),
        lowest_group_agreement=float(low[j]),
        fewest_group_votes=int(votes[j]),
        gac=float(part_gac[j]),
        rule=rule,
        gac_needed=rule.gac_threshold(len(part_seen)),
        lowest_half_agreement=half,
    )


RULE_FIELDS = tuple(ConsensusRule.__dataclass_fields__)
"""The fields of a :class:`ConsensusRule` (the keys a settings file or a draft records)."""
