"""Cross-group consensus: the one definition the aggregate, the constitution and a run share.

A statement is **cross-group consensus** under a :class:`ConsensusRule` when, in every opinion
group g (A_g agrees among S_g votes seen, passes included),

* S_g ≥ ``min_group_votes`` (every group voted on it enough to tell),
* L_z(A_g, S_g) ≥ ``min_group_agreement`` (0.5): the lower end of the Wilson score
  interval (Wilson 1927) of the group's agree share, at z = ``interval_z`` (1.0) standard
  errors, is at least that share. A group of 5 that all agree has L = 0.83; 3 of 5 (60 %)
  has L = 0.38 and fails. With ``interval_z = 0`` the bound is the share itself;
* every **half** of every opinion group (each group's participants split in two by 2-means on
  their opinion-map positions, :func:`pluralign.aggregate.clusters.halve_groups`) fails to show
  that it rejects the statement: the upper end of the half's Wilson interval U_z ≥
  ``min_subgroup_agreement`` (0.7). A half that voted 12 of 30 agree (U = 0.49) vetoes, and so
  does a half whose only vote is not an agree (U = 0.5); 1 of 2 (U = 0.79) does not. Any
  number of votes can veto, so that more agreeing votes never remove a statement; and
* GAC = Π_g (A_g + 1)/(S_g + 2) ≥ ``min_gac`` (Polis's group-aware consensus; by default
  0.5^G for G groups).

Why the halves: the opinion groups found are often fewer than the latent ones (2–3 found of 4
on the simulator), and a statement the smallest latent group rejects then passes inside a merged
group; its half shows it. Why bounds: a group of 4 agreeing 3 to 1 says little. The rule and
its measurement (precision/recall on the simulator and an independent planted conversation) are
in docs/sensemaking.md §6; ``benchmarks/fidelity.py`` measures it.

Candidates are ranked by GAC (Polis ``:group-aware-consensus``; Small et al. 2021), as
Collective Constitutional AI kept the Polis statements with high agreement in every group.
:func:`consensus_candidates` is the definition; :func:`nearest_miss` says, when no statement
passes, which statement came closest and by how much it missed each threshold (the message a
run prints).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pluralign.errors import InputError

if TYPE_CHECKING:  # numpy loads in the functions: the CLI's help imports ConsensusRule
    import numpy as np


@dataclass(frozen=True)
class ConsensusRule:
    """Thresholds of cross-group consensus (see the module docstring)."""

    min_group_agreement: float = 0.5
    """Lower Wilson bound (at ``interval_z``) of the agree share A_g / S_g every group must
    reach."""
    min_group_votes: int = 3
    """Votes every group must have cast on the statement."""
    min_gac: float | None = None
    """Group-aware consensus the statement needs; None means 0.5 ** n_groups."""
    interval_z: float = 1.0
    """Standard errors of the Wilson intervals (0: point estimates, no interval)."""
    min_subgroup_agreement: float | None = 0.7
    """A half of an opinion group whose upper Wilson bound of the agree share is below this
    vetoes the statement (None: halves are not checked)."""

    def __post_init__(self) -> None:
        if not 0 <= self.min_group_agreement <= 1:
            raise InputError(
                f"min_group_agreement must be in [0, 1], got {self.min_group_agreement}",
                where="min_group_agreement",
            )
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

    def gac_threshold(self, n_groups: int) -> float:
        return self.min_gac if self.min_gac is not None else 0.5**n_groups


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


def consensus_candidates(
    agree: np.ndarray,
    seen: np.ndarray,
    gac: np.ndarray,
    rule: ConsensusRule,
    halves: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """Column indices of the statements that are cross-group consensus under ``rule``, by
    decreasing GAC (ties: column order). ``agree`` and ``seen`` have shape (groups, statements);
    ``halves`` is (agree, seen) of the groups' halves (shape (halves, statements)), required
    unless ``rule.min_subgroup_agreement`` is None."""
    import numpy as np

    seen = np.asarray(seen, float)
    low, _ = wilson_interval(agree, seen, rule.interval_z)
    ok = (low >= rule.min_group_agreement).all(0)
    ok &= (seen >= rule.min_group_votes).all(0)
    ok &= np.asarray(gac) >= rule.gac_threshold(len(seen))
    if rule.min_subgroup_agreement is not None:
        if halves is None:
            raise ValueError("consensus_candidates: this rule checks halves; pass halves=")
        _, high = wilson_interval(halves[0], halves[1], rule.interval_z)
        ok &= (high >= rule.min_subgroup_agreement).all(0)
    idx = np.flatnonzero(ok)
    return idx[np.argsort(-np.asarray(gac)[idx], kind="stable")]


@dataclass(frozen=True)
class ConsensusMiss:
    """The statement closest to consensus and how far it was from each threshold."""

    statement: int
    lowest_group_agreement: float
    """The lowest group's lower Wilson bound of its agree share (the share itself at z = 0)."""
    fewest_group_votes: int
    gac: float
    rule: ConsensusRule
    gac_needed: float
    lowest_half_agreement: float | None = None
    """The lowest upper Wilson bound of a half's agree share (None: halves not checked)."""

    def message(self, option=lambda field: field) -> str:
        """One line naming each threshold the statement missed, with the value that would let
        it pass; ``option`` turns a field name into the setting a user changes (e.g.
        ``constitution.min_group_agreement`` or ``--min-group-agreement``)."""
        misses = []
        r = self.rule
        if self.lowest_group_agreement < r.min_group_agreement:
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
        sub, half = r.min_subgroup_agreement, self.lowest_half_agreement
        if sub is not None and half is not None and half < sub:
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
    halves: tuple[np.ndarray, np.ndarray] | None = None,
) -> ConsensusMiss | None:
    """The statement nearest to passing ``rule``: among those every group voted on often
    enough (else all), the one whose least-agreeing group's lower bound is highest (ties:
    higher GAC). None when there are no statements."""
    import numpy as np

    seen = np.asarray(seen, float)
    if seen.shape[1] == 0:
        return None
    low = wilson_interval(agree, seen, rule.interval_z)[0].min(0)
    votes = seen.min(0)
    pool = np.flatnonzero(votes >= rule.min_group_votes)
    if len(pool) == 0:
        pool = np.arange(seen.shape[1])
    j = pool[np.lexsort((-np.asarray(gac)[pool], -low[pool]))[0]]
    half = None
    if rule.min_subgroup_agreement is not None and halves is not None:
        half = float(wilson_interval(halves[0], halves[1], rule.interval_z)[1][:, j].min())
    return ConsensusMiss(
        statement=int(statements[j]),
        lowest_group_agreement=float(low[j]),
        fewest_group_votes=int(votes[j]),
        gac=float(gac[j]),
        rule=rule,
        gac_needed=rule.gac_threshold(len(seen)),
        lowest_half_agreement=half,
    )
