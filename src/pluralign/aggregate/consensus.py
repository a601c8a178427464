"""Cross-group consensus: the one definition the aggregate, the constitution and a run share.

A statement is **cross-group consensus** under a :class:`ConsensusRule` when, in every opinion
group g (A_g agrees among S_g votes seen, passes included),

* S_g ≥ ``min_group_votes`` (every group voted on it enough to tell),
* A_g / S_g ≥ ``min_group_agreement`` (at least that share of every group agreed; 0.6 by
  default: on the simulator's truth it keeps precision at 0.67–0.80 where a bare majority,
  0.5, falls to 0.45–0.55 at the same recall, docs/algorithms.md §5), and
* GAC = Π_g (A_g + 1)/(S_g + 2) ≥ ``min_gac`` (Polis's group-aware consensus; by default
  0.5^G for G groups, which the agreement threshold already implies).

Candidates are ranked by GAC (Polis ``:group-aware-consensus``; Small et al. 2021), as
Collective Constitutional AI kept the Polis statements with high agreement in every group.
:func:`consensus_candidates` is the definition; :func:`nearest_miss` says, when no statement
passes, which statement came closest and by how much it missed each threshold (the message a
run prints). A later, interval-aware selection extends :class:`ConsensusRule`, not a copy.
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

    min_group_agreement: float = 0.6
    """Agree share (A_g / S_g) every group must reach."""
    min_group_votes: int = 3
    """Votes every group must have cast on the statement."""
    min_gac: float | None = None
    """Group-aware consensus the statement needs; None means 0.5 ** n_groups."""

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

    def gac_threshold(self, n_groups: int) -> float:
        return self.min_gac if self.min_gac is not None else 0.5**n_groups


def group_shares(agree: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """A_g / S_g per (group, statement), 0 where a group cast no vote."""
    import numpy as np

    agree, seen = np.asarray(agree, float), np.asarray(seen, float)
    return np.divide(agree, seen, out=np.zeros_like(agree), where=seen > 0)


def consensus_candidates(
    agree: np.ndarray, seen: np.ndarray, gac: np.ndarray, rule: ConsensusRule
) -> np.ndarray:
    """Column indices of the statements that are cross-group consensus under ``rule``, by
    decreasing GAC (ties: column order). ``agree`` and ``seen`` have shape (groups, statements)."""
    import numpy as np

    seen = np.asarray(seen, float)
    ok = (group_shares(agree, seen) >= rule.min_group_agreement).all(0)
    ok &= (seen >= rule.min_group_votes).all(0)
    ok &= np.asarray(gac) >= rule.gac_threshold(len(seen))
    idx = np.flatnonzero(ok)
    return idx[np.argsort(-np.asarray(gac)[idx], kind="stable")]


@dataclass(frozen=True)
class ConsensusMiss:
    """The statement closest to consensus and how far it was from each threshold."""

    statement: int
    lowest_group_agreement: float
    fewest_group_votes: int
    gac: float
    rule: ConsensusRule
    gac_needed: float

    def message(self, option=lambda field: field) -> str:
        """One line naming each threshold the statement missed, with the value that would let
        it pass; ``option`` turns a field name into the setting a user changes (e.g.
        ``constitution.min_group_agreement`` or ``--min-group-agreement``)."""
        misses = []
        r = self.rule
        if self.lowest_group_agreement < r.min_group_agreement:
            misses.append(
                f"its least-agreeing group agreed {self.lowest_group_agreement:.1%}, below "
                f"{option('min_group_agreement')} = {r.min_group_agreement:g} (set it to "
                f"{_floor3(self.lowest_group_agreement)} to admit it)"
            )
        if self.fewest_group_votes < r.min_group_votes:
            misses.append(
                f"a group cast {self.fewest_group_votes} votes on it, fewer than "
                f"{option('min_group_votes')} = {r.min_group_votes}"
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
) -> ConsensusMiss | None:
    """The statement nearest to passing ``rule``: among those every group voted on often
    enough (else all), the one whose least-agreeing group agreed most (ties: higher GAC).
    None when there are no statements."""
    import numpy as np

    seen = np.asarray(seen, float)
    if seen.shape[1] == 0:
        return None
    share = group_shares(agree, seen)
    low, votes = share.min(0), seen.min(0)
    pool = np.flatnonzero(votes >= rule.min_group_votes)
    if len(pool) == 0:
        pool = np.arange(seen.shape[1])
    j = pool[np.lexsort((-np.asarray(gac)[pool], -low[pool]))[0]]
    return ConsensusMiss(
        statement=int(statements[j]),
        lowest_group_agreement=float(low[j]),
        fewest_group_votes=int(votes[j]),
        gac=float(gac[j]),
        rule=rule,
        gac_needed=rule.gac_threshold(len(seen)),
    )
