r"""Statement routing: which statement a participant sees next.

Two policies (an assembly setting, ``routing``):

``priority`` (the default), after Polis's comment routing
    (compdemocracy/polis, ``math/src/polismath/math/conversation.clj``: ``importance-metric`` and
    ``priority-metric``; Small et al., "Polis: Scaling deliberation by mapping high dimensional
    opinion spaces", 2021). Each statement the participant has not voted on gets a weight

    .. math::

        p = \frac{P + 1}{S + 2}, \qquad
        w = \Big((1 - p)\,(1 + E)^2 \cdot \big(1 + 8 \cdot 2^{-S/5}\big)\Big)^2

    with ``P`` and ``S`` its pass and total votes so far and ``E`` its *separation*: how far
    apart the opinion groups stand on it, :func:`separation` (0 until groups exist).
    ``1 - p`` shows fewer of the statements most people pass on; ``(1 + E)^2`` favours those
    that tell groups apart; the novelty factor ``1 + 8·2^(-S/5)`` (9 for a new statement, about
    2 after 15 votes) brings new statements in front quickly. Polis's own weight is
    ``((1 - p)(1 + E)·a·novelty)^2`` with ``a = (A + 1)/(S + 2)`` the agree rate and ``E`` the
    statement's PCA extremity; in ``benchmarks/routing.py`` (simulated assemblies, on the seeds
    used while choosing) that form needed *more* votes than random order before the opinion
    groups settled, because the agree-rate factor spends votes on statements everyone agrees
    with, which place nobody. Dropping it and squaring the separation (taken straight from the
    groups: "tell groups apart") is what the benchmark measures as the default; the figures
    are in docs/web.md.

    The statement is drawn at random in proportion to ``w`` (Efraimidis & Spirakis, "Weighted
    random sampling with a reservoir", 2006: the largest ``u^(1/w)`` wins), with ``u`` a hash of
    participant, statement and how many votes the participant has cast: a reload shows the same
    statement, different participants see different ones, and no statement is ever starved.

``random``
    Uniformly at random among the statements not voted on yet (the baseline of
    ``benchmarks/routing.py``).

With ``seed_first`` (an organiser option) a participant sees every seed statement before any
statement proposed by participants; the policy orders each of the two sets.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PRIORITY, GAIN, RANDOM = "priority", "gain", "random"
POLICIES = (PRIORITY, GAIN, RANDOM)
DEFAULT_POLICY = PRIORITY


@dataclass(frozen=True)
class Candidate:
    """A statement the participant may see, with what the policy weighs."""

    key: int
    """The statement's id (stable: it salts the random draw)."""
    agree: int = 0
    disagree: int = 0
    passes: int = 0
    separation: float = 0.0
    is_seed: bool = False
    uncertainty: float = 0.0
    """How unsure the votes so far leave its consensus status (:func:`consensus_uncertainty`);
    0 unless the caller weighs it (the gain policy does, from :class:`GroupModel`)."""
    gain: float = 0.0
    """What a vote on it would tell about *this* participant's group (:meth:`GroupModel.gains`,
    in [0, 1]); the gain policy weighs it."""


def priority(
    agree: int, disagree: int, passes: int, separation: float = 0.0, uncertainty: float = 0.0
) -> float:
    """The weight ``w`` of a statement (module docstring): larger is shown sooner.
    ``uncertainty`` (:func:`consensus_uncertainty`) adds to the separation when given."""
    seen = agree + disagree + passes
    pass_rate = (passes + 1) / (seen + 2)
    importance = (1.0 - pass_rate) * (1.0 + separation + uncertainty) ** 2
    novelty = 1.0 + 8.0 * 2.0 ** (-seen / 5.0)
    return (importance * novelty) ** 2


EPSILON = 0.05
"""The gain weight's floor: a statement that neither places the participant nor is undecided
keeps a small weight, so it is still shown, later (no statement is starved)."""


def gain_weight(agree: int, disagree: int, passes: int, gain: float, uncertainty: float) -> float:
    """The weight of a statement under the gain policy (module docstring)."""
    seen = agree + disagree + passes
    pass_rate = (passes + 1) / (seen + 2)
    novelty = 1.0 + 8.0 * 2.0 ** (-seen / 5.0)
    return ((1.0 - pass_rate) * novelty * (EPSILON + gain + uncertainty)) ** 2


def separation(agree: Sequence[float], disagree: Sequence[float], seen: Sequence[float]) -> float:
    """How far apart the opinion groups stand on one statement, in [0, 2].

    Per group ``g`` the mean vote with a prior of two neutral votes,
    ``r_g = (A_g - D_g) / (S_g + 2)``; the separation is ``max_g r_g - min_g r_g`` (0 with fewer
    than two groups). The prior keeps a group that has barely seen the statement near 0, so a
    statement looks divisive only once each side has voted on it.
    """
    means = [(a - d) / (s + 2.0) for a, d, s in zip(agree, disagree, seen, strict=True)]
    return max(means) - min(means) if len(means) >= 2 else 0.0


def consensus_uncertainty(
    agree: Sequence[float], seen: Sequence[float], share: float = 0.6
) -> float:
    """How unsure the groups' votes so far leave whether a statement is cross-group consensus,
    in [0, 1]: ``4 P (1 - P)`` with ``P = prod_g Phi((mu_g - share) / sigma_g)`` the chance that
    every group's agree share is at least ``share`` (the consensus rule's
    ``agree_share``, :mod:`pluralign.aggregate.consensus`), from the Beta(A_g + 1,
    S_g - A_g + 1) posterior of group g's share in its normal approximation,
    ``mu_g = (A_g + 1) / (S_g + 2)``, ``sigma_g^2 = mu_g (1 - mu_g) / (S_g + 3)``.

    1 when the status is a coin flip, near 0 once settled either way (or with fewer than two
    groups): more votes on the statement are worth most where it is near 1.
    """
    if len(agree) < 2:
        return 0.0
    p = 1.0
    for a, s in zip(agree, seen, strict=True):
        mu = (a + 1.0) / (s + 2.0)
        sigma = math.sqrt(mu * (1.0 - mu) / (s + 3.0))
        p *= 0.5 * (1.0 + math.erf((mu - share) / (sigma * math.sqrt(2.0))))
    return 4.0 * p * (1.0 - p)


def uniform(*parts: object) -> float:
    """A number in (0, 1) fixed by ``parts`` (sha256; the same on every process and run)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / 2.0**64


def choose(
    candidates: Iterable[Candidate],
    participant: object,
    round_: int,
    *,
    policy: str = DEFAULT_POLICY,
    seed_first: bool = False,
    weight=None,
) -> Candidate | None:
    """The statement to show next among ``candidates`` (not yet voted on by ``participant``);
    ``round_`` is how many votes the participant has cast (it changes the draw). None when
    there is no candidate. ``weight(candidate)`` replaces :func:`priority` under the priority
    policy (the benchmark compares other weights)."""
    pool = list(candidates)
    if seed_first and any(c.is_seed for c in pool):
        pool = [c for c in pool if c.is_seed]
    if not pool:
        return None
    if policy == RANDOM:
        return max(pool, key=lambda c: uniform(participant, c.key, round_))
    if policy not in (PRIORITY, GAIN):
        raise ValueError(f"unknown routing policy {policy!r}; use one of {POLICIES}")

    def weigh(c: Candidate) -> float:
        if policy == GAIN:
            return gain_weight(c.agree, c.disagree, c.passes, c.gain, c.uncertainty)
        return priority(c.agree, c.disagree, c.passes, c.separation, c.uncertainty)

    weigh = weight or weigh

    def key(c: Candidate) -> float:  # log(u^(1/w)) = log(u) / w: the same order, no underflow
        w = weigh(c)
        return math.log(uniform(participant, c.key, round_)) / w

    return max(pool, key=key)


def group_separations(statements: Sequence[int], agree, disagree, seen) -> dict[int, float]:
    """:func:`separation` of every statement from per-group counts of shape (groups,
    statements), e.g. an aggregation's ``stats`` (:class:`pluralign.aggregate.stats.GroupStats`)
    with ``statements`` its statement numbers."""
    return {
        int(s): separation(
            [row[j] for row in agree], [row[j] for row in disagree], [row[j] for row in seen]
        )
        for j, s in enumerate(statements)
    }


def group_uncertainties(
    statements: Sequence[int], agree, seen, share: float = 0.6
) -> dict[int, float]:
    """:func:`consensus_uncertainty` of every statement from per-group counts of shape
    (groups, statements)."""
    return {
        int(s): consensus_uncertainty([row[j] for row in agree], [row[j] for row in seen], share)
        for j, s in enumerate(statements)
    }


TEMPERATURE = 1.0
"""The posterior's temperature: each vote's log-likelihood is divided by it (1: naive Bayes)."""


class GroupModel:
    """What the latest opinion groups say about each statement, for the gain policy.

    From per-group counts of shape (groups, statements) (an aggregation's
    :class:`~pluralign.aggregate.stats.GroupStats`) with ``keys`` the statements' keys in column
    order: each group's vote distribution on each statement, ``theta[g, j, v] = (n_gjv + 1) /
    (S_gj + 3)`` for v in (agree, disagree, pass) (a uniform Dirichlet prior), each group's share
    of the participants (``sizes``, uniform if not given), and each statement's
    :func:`consensus_uncertainty`. Built once per aggregation; :meth:`gains` is what a request
    computes (O(groups × statements) numpy, well under a millisecond for 1,000 statements).
    """

    def __init__(
        self, keys, agree, disagree, seen, sizes=None, share: float = 0.6, temperature=None
    ):
        import numpy as np

        self.temperature = float(TEMPERATURE if temperature is None else temperature)
        agree, disagree, seen = (np.asarray(x, dtype=float) for x in (agree, disagree, seen))
        passes = np.clip(seen - agree - disagree, 0.0, None)
        self.keys = tuple(int(k) for k in keys)
        self.column = {k: j for j, k in enumerate(self.keys)}
        self.n_groups = int(agree.shape[0]) if agree.ndim == 2 else 0
        counts = np.stack([agree, disagree, passes], axis=-1)  # (G, m, 3)
        self.theta = (counts + 1.0) / (counts.sum(-1, keepdims=True) + 3.0)
        self.log_theta = np.log(self.theta)
        self.neg_entropy = (self.theta * self.log_theta).sum(-1)  # (G, m)
        sizes = np.ones(self.n_groups) if sizes is None else np.asarray(sizes, dtype=float)
        self.log_prior = np.log((sizes + 1.0) / (sizes.sum() + self.n_groups))
        self.uncertainty = np.array(
            [consensus_uncertainty(agree[:, j], seen[:, j], share) for j in range(len(self.keys))]
        ) if self.n_groups >= 2 else np.zeros(len(self.keys))

    def posterior(self, votes: dict[int, int]):
        """The chance of each group for a participant who cast ``votes`` (key -> 1 agree, -1
        disagree, 0 pass): the prior times each vote's likelihood under the group's
        distribution (naive Bayes; statements the model does not know are skipped)."""
        import numpy as np

        cols, vals = [], []
        for key, value in votes.items():
            j = self.column.get(int(key))
            if j is not None:
                cols.append(j)
                vals.append(0 if value > 0 else 1 if value < 0 else 2)
        log_post = self.log_prior + self.log_theta[:, cols, vals].sum(axis=1) / self.temperature
        post = np.exp(log_post - log_post.max())
        return post / post.sum()

    def gains(self, votes: dict[int, int]):
        """Per statement (column order), the expected information a vote on it gives about the
        participant's group: the mutual information ``I(G; V) = H(V) - H(V | G)`` under the
        participant's :meth:`posterior`, divided by ``log(groups)`` (so in [0, 1]; 0 with
        fewer than two groups, or once the participant's group is certain)."""
        import numpy as np

        if self.n_groups < 2:
            return np.zeros(len(self.keys))
        post = self.posterior(votes)
        q = np.einsum("g,gmv->mv", post, self.theta)  # the vote's predictive distribution
        mutual = post @ self.neg_entropy - (q * np.log(q)).sum(-1)
        return np.clip(mutual, 0.0, None) / math.log(self.n_groups)
