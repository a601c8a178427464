"""Benchmark: statement routing against random order (issue 14).

    PYTHONPATH=src python benchmarks/routing.py --jobs 2        # the eleven Polis conversations
    PYTHONPATH=src python benchmarks/routing.py --conversations brexit-consensus
    PYTHONPATH=src python benchmarks/routing.py --simulated     # simulated, held-out seeds 3..8
    PYTHONPATH=src python benchmarks/routing.py --simulated --seeds 0 1 2 --population default
    PYTHONPATH=src python benchmarks/routing.py --replay imputed --policies random gain
    PYTHONPATH=src python benchmarks/routing.py --cost          # one routing call per policy
    PYTHONPATH=src python benchmarks/routing.py --replay full --jobs 2 --full-seeds 0 1 2 \
        --rows-out rows.jsonl                                   # completed matrices, with CIs
    PYTHONPATH=src python benchmarks/routing.py --summarise rows.jsonl more-rows.jsonl

**Recorded conversations** (the default): every conversation in ../shared/data/polis (CC BY 4.0
The Computational Democracy Project) is replayed. Only the votes the recording holds can be
cast (the latest vote per participant and statement; statements moderated out dropped), so a
policy decides the *order* in which each participant meets the statements they answered, never
asks anything new. The reference is the aggregation of all recorded votes. In each round every
participant with votes left (in a new random order) casts one, chosen by
:func:`pluralign.web.routing.choose` (the web app's code) among their remaining ones; the votes
so far are aggregated after every 1/50 of them. *groups* and *consensus* are counted as for the
simulation (below). Policies: random order (the baseline, mean of two seeds), the order Polis
itself showed them in (the recording's: Polis's own routing, with the statements' real arrival
times), the default priority, and candidates. Conversations at even positions in the sorted list
were looked at while choosing; those at odd positions are held out, and the means are printed
for both. A conversation without reference consensus statements has no consensus saving.

**Imputed replay** (``--replay imputed``; ``both``, the default, runs it after the recorded
one): every missing vote of a participant the reference clusters is drawn once from their
reference group's vote distribution (:func:`imputed`), each participant casts as many votes as
in the recording, and the policy may show any statement; the reference is the aggregation of
the completed matrix. It shows what routing can do when it may choose freely, in a
conversation whose groups are as clear as the recording's (the imputed votes carry no opinion
beyond the group).

**Full replay** (``--replay full``; the measure issue 14's target is checked on): each
conversation is completed (``--impute group``, the default: every clustered participant's
missing votes drawn from their recorded group's distribution, :func:`imputed`; ``--impute
knn``: from their ten nearest participants on the recording's opinion map, :func:`imputed_knn`)
and every participant may vote on every statement, so any routing can be replayed and every
figure is a real "votes needed" (no participant runs out of recorded votes, no figure is
capped at the total). The reference is the aggregation of the completed matrix. Each round
every participant casts one vote, drawn by the policy's weights from the counts at the start
of the round (the keyed weighted draw of the web app, vectorised; :func:`full_replay`), and
the votes so far are aggregated after the rounds of :func:`check_rounds`. Policies: random,
the web app's default, and Polis's published comment priority (:func:`w_polis`). Each seed
fixes both the completion and the draws; a policy's saving is paired with random's on the same
seed, and is printed per conversation and pooled (mean over conversations) as mean ± 95 %
t-interval over the seeds, with the *floor*: votes cast by the end of round 7, before which
nobody is clustered, so ``1 - floor / random`` is the most any policy can save.

**Simulated assemblies** (``--simulated``): a seeded synthetic assembly
(:func:`pluralign.simulate.simulate_assembly`: four latent opinion groups, consensus and
divisive statements, people who pass a lot or little) gives every participant's vote
probabilities on every accepted statement; each participant's vote on each statement is drawn
once, so every policy meets the same people. The *reference* is the aggregation
(:func:`pluralign.aggregate.aggregate`, the web app's settings) of all those votes: everyone on
everything.

The conversation runs in rounds: in each round every participant (in a new random order)
votes on one statement chosen by the policy (:func:`pluralign.web.routing.choose`, the code the
web app runs) among those available and not voted on yet. Seed statements are there from the
start; participants' statements arrive during the first fifth of the rounds, in the order the
simulation wrote them. Counts update after every vote; the separation the priority policy uses
comes from the latest aggregation (every second round; the web app refreshes it in the
background every 30 s). At each aggregation the votes so far are compared with the reference:

* **groups**: votes until the opinion groups (the web app's clustering, number of groups
  included) have an adjusted Rand index ≥ 0.9 against the reference groups at two
  aggregations in a row (every participant counts; one not clustered yet is a class of its
  own);
* **consensus**: votes until every reference consensus statement is recognised as consensus
  by the aggregation's own rule (:mod:`pluralign.aggregate.consensus`), listing them all.

It prints, per seed (or conversation) and policy, the votes needed for each, and the mean saving
against random (``1 - votes(policy) / votes(random)``). Target of issue 14: ≥ 30 % fewer votes
than random.

Populations: ``polarised`` (the default here: people hold their group's views strongly,
conviction ~ Beta(30, 1)) and ``default`` (the simulator's own default, Beta(6, 2)). In the
default population the groups found from *all* votes are themselves fragile (two independent
draws of the same people's votes give groups with ARI 0.2-0.7), so every policy needs almost
every vote before the groups match the reference: there is nothing for routing to save. Seeds
0-2 and 10-12 were used while designing the policy; the default seeds 3-8 were run only once
the policy was fixed. The simulations differ in size by seed so that no single shape is
tuned for.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from pluralign.aggregate import AggregateSettings, aggregate, from_votes  # noqa: E402
from pluralign.simulate import SimulationSettings, simulate_assembly  # noqa: E402
from pluralign.web import routing  # noqa: E402

ARI_TARGET = 0.9
MIN_VOTES = 7  # the web app's default (Polis's)
SIZES = ((150, 60), (250, 80), (200, 100))  # (participants, statements), by seed % 3
POPULATIONS = {"polarised": (30.0, 1.0), "default": SimulationSettings().conviction}
ARRIVAL = 0.2  # participants' statements arrive during this share of the rounds
EVERY = 2  # rounds between aggregations


def polis_weight(c: routing.Candidate) -> float:
    """Polis's own priority (conversation.clj): with the agree-rate factor, E to the first
    power; a peer, to show what dropping the agree rate changes."""
    seen = c.agree + c.disagree + c.passes
    p, a = (c.passes + 1) / (seen + 2), (c.agree + 1) / (seen + 2)
    return ((1 - p) * (1 + c.separation) * a * (1 + 8 * 2 ** (-seen / 5))) ** 2


POLICIES = {
    "random": dict(policy=routing.RANDOM),
    "priority (default)": dict(policy=routing.PRIORITY),
    "priority, no separation": dict(policy=routing.PRIORITY, use_separation=False),
    "Polis's weight": dict(policy=routing.PRIORITY, weight=polis_weight),
    "oracle separation": dict(policy=routing.PRIORITY, oracle=True),
}


@dataclass
class Conversation:
    """One simulated assembly: the fixed votes and when each statement becomes available."""

    numbers: np.ndarray  # statement numbers (accepted statements), column order
    is_seed: np.ndarray
    arrives: np.ndarray  # round from which each statement can be shown
    votes: np.ndarray  # (participants, statements) in {1, -1, 0}: everyone's vote on everything
    reference: object  # AggregateResult of all votes


def conversation(seed: int, population: str) -> Conversation:
    n_people, n_statements = SIZES[seed % len(SIZES)]
    sim = simulate_assembly(
        SimulationSettings(
            participants=n_people,
            statements=n_statements,
            seed=seed,
            conviction=POPULATIONS[population],
        )
    )
    st = sim.statements[sim.statements["moderated"] == 1].sort_values("timestamp", kind="stable")
    probs = sim.vote_probabilities(slugs=list(st["slug"]))  # (people, statements, 3)
    rng = np.random.default_rng(10_000 + seed)
    choice = (rng.random(probs.shape[:2])[:, :, None] > probs.cumsum(axis=2)).sum(axis=2)
    votes = np.array([1, -1, 0])[choice.clip(0, 2)]
    is_seed = st["is_seed"].to_numpy(dtype=bool)
    order = np.cumsum(~is_seed) * (~is_seed)  # 1.. for participants' statements, by time
    rounds = len(st)
    arrives = np.where(is_seed, 0, np.ceil(order / max((~is_seed).sum(), 1) * rounds * ARRIVAL))
    numbers = st["comment-id"].to_numpy()
    everything = np.ones_like(votes, dtype=bool)
    reference = aggregate(_matrix(votes, numbers, everything), 0, _settings(all_consensus=False))
    return Conversation(numbers, is_seed, arrives.astype(int), votes, reference)


def _settings(all_consensus: bool = True) -> AggregateSettings:
    """The web app's aggregation; for the partial votes every statement recognised as
    consensus is listed (not only the top five), the criterion above."""
    return AggregateSettings(min_votes=MIN_VOTES, top_consensus=10**6 if all_consensus else 5)


def _matrix(votes: np.ndarray, numbers: np.ndarray, cast: np.ndarray):
    people, cols = np.nonzero(cast)
    frame = pd.DataFrame(
        {"participant": people + 1, "statement": numbers[cols], "value": votes[people, cols]}
    )
    return from_votes(frame, statements=[int(n) for n in numbers], source="simulation")


def _labels(result, n: int) -> np.ndarray:
    """Each participant's group, with every unclustered participant in a class of its own."""
    labels = np.full(n, -1, dtype=np.int64)
    labels[result.matrix.participants - 1] = result.groups
    loners = labels < 0
    labels[loners] = result.n_groups + np.arange(loners.sum())
    return labels


def _note_found(found, previous, result, ref_labels, ref_consensus, n, total):
    """Record in ``found`` the votes at which the groups (ARI >= target at two checks in a row:
    the first of them) and the consensus statements were first found; returns the new
    ``previous`` (this check's total if the groups matched, else None)."""
    from sklearn.metrics import adjusted_rand_score

    if found["groups"] is None:
        ok = adjusted_rand_score(ref_labels, _labels(result, n)) >= ARI_TARGET
        if ok and previous is not None:
            found["groups"] = previous
        previous = total if ok else None
    if found["consensus"] is None and ref_consensus <= set(result.consensus):
        found["consensus"] = total
    return previous


def run(
    conv: Conversation, *, policy: str, seed: int, use_separation=True, weight=None, oracle=False
):
    """Votes needed until the groups reach the ARI target and until consensus is found.

    ``oracle``: the separation is not estimated from the votes so far but known from the
    start: each statement's PCA extremity in the reference (the norm of its loadings, scaled
    by the square root of the number of statements). No real assembly has it; it shows how
    much any estimate of "which statements tell groups apart" could save."""

    n, m = conv.votes.shape
    ref_labels = _labels(conv.reference, n)
    ref_consensus = set(conv.reference.consensus)
    settings = _settings()
    cast = np.zeros((n, m), dtype=bool)
    tally = np.zeros((m, 3), dtype=np.int64)  # agree, disagree, pass
    known = np.linalg.norm(conv.reference.pca.components_, axis=0) * np.sqrt(m)
    separation = known if oracle else np.zeros(m)
    rng = np.random.default_rng(seed)
    found: dict[str, int | None] = {"groups": None, "consensus": None}
    total, previous = 0, None  # previous: votes at the last aggregation, if its ARI was ok
    for round_ in range(m):
        available = conv.arrives <= round_
        for i in rng.permutation(n):
            open_ = np.nonzero(available & ~cast[i])[0]
            if not len(open_):
                continue
            pick = routing.choose(
                [
                    routing.Candidate(
                        int(j),
                        int(tally[j, 0]),
                        int(tally[j, 1]),
                        int(tally[j, 2]),
                        float(separation[j]) if use_separation else 0.0,
                        bool(conv.is_seed[j]),
                    )
                    for j in open_
                ],
                participant=int(i),
                round_=int(cast[i].sum()),
                policy=policy,
                weight=weight,
            )
            j = pick.key
            cast[i, j] = True
            value = conv.votes[i, j]
            tally[j, 0 if value > 0 else 1 if value < 0 else 2] += 1
            total += 1
        if round_ % EVERY and round_ < m - 1:
            continue
        result = aggregate(_matrix(conv.votes, conv.numbers, cast), 0, settings)
        seps = routing.group_separations(
            result.matrix.statements, result.stats.agree, result.stats.disagree, result.stats.seen
        )
        if not oracle:
            separation = np.array([seps.get(int(s), 0.0) for s in conv.numbers])
        previous = _note_found(found, previous, result, ref_labels, ref_consensus, n, total)
        if all(v is not None for v in found.values()):
            break
    return {k: total if v is None else v for k, v in found.items()}  # None: every vote needed


# ------------------------------------------------------------------ Polis conversations (replay)

POLIS = Path(os.environ.get("PLURALIGN_POLIS_DATA", ROOT.parent / "shared" / "data" / "polis"))
if not POLIS.is_dir():
    POLIS = Path("/work/shared/data/polis")
CHECKS = 50  # aggregations per replay, evenly spaced in votes


def polis_names() -> list[str]:
    return sorted(p.name for p in POLIS.iterdir() if (p / "votes.csv").is_file())


def polis_conversation(name: str) -> Replay:
    """The latest vote of each participant on each statement not moderated out."""
    folder = POLIS / name
    v = pd.read_csv(folder / "votes.csv").sort_values("timestamp", kind="stable")
    c = pd.read_csv(folder / "comments.csv")
    v = v.drop_duplicates(["voter-id", "comment-id"], keep="last")
    v = v[~v["comment-id"].isin(c.loc[c["moderated"] < 0, "comment-id"])]
    people, numbers = np.unique(v["voter-id"]), np.unique(v["comment-id"])
    pi, si = np.searchsorted(people, v["voter-id"]), np.searchsorted(numbers, v["comment-id"])
    shape = (len(people), len(numbers))
    observed = np.zeros(shape, dtype=bool)
    observed[pi, si] = True
    votes = np.zeros(shape, dtype=np.int64)
    votes[pi, si] = v["vote"].to_numpy()
    order = np.full(shape, np.iinfo(np.int64).max)
    order[pi, si] = np.arange(len(v))  # when Polis showed it (its own routing)
    reference = aggregate(_matrix(votes, numbers, observed), 0, _settings(all_consensus=False))
    return Replay(numbers, observed, votes, order, reference)


@dataclass
class Replay:
    """A recorded conversation: who voted what; a policy may only reorder each participant's
    own recorded votes (nobody is asked a statement they never answered)."""

    numbers: np.ndarray
    observed: np.ndarray  # (participants, statements): voted in the recording
    votes: np.ndarray  # the recorded vote where observed
    order: np.ndarray  # the recording's order of the votes
    reference: object  # AggregateResult of all recorded votes
    budget: np.ndarray | None = None
    """Votes each participant casts (None: all their observed ones; the imputed replay gives
    each participant as many as they cast in the recording)."""


def _group_shares(ref, conv: Replay) -> np.ndarray:
    """Each group's smoothed vote shares on each statement of ``conv`` (in ``conv.numbers``
    order), from the aggregation ``ref``: ``(A_g + 1, D_g + 1, P_g + 1) / (S_g + 3)`` for agree,
    disagree and pass, of shape (groups, statements, 3). Both completions draw from it."""
    cols = np.searchsorted(np.asarray(ref.matrix.statements), conv.numbers)
    st = ref.stats
    agree, disagree, seen = (
        np.asarray(x, float)[:, cols] for x in (st.agree, st.disagree, st.seen)
    )
    shares = np.stack([agree, disagree, seen - agree - disagree], -1) + 1.0
    return shares / shares.sum(-1, keepdims=True)


def imputed(conv: Replay, seed: int = 0) -> Replay:
    """The conversation with every missing vote imputed, so a policy may show anyone anything.

    Every participant the reference clusters gets a vote on every statement: their recorded
    vote where there is one, else one drawn once (seeded) from their reference group's vote
    distribution on that statement, ``(A_g + 1, D_g + 1, P_g + 1) / (S_g + 3)`` (the groups of
    all recorded votes). Participants the reference does not cluster keep only their recorded
    votes. Each participant casts as many votes as in the recording (``budget``): the policy
    chooses which. The reference is the aggregation of the completed matrix (its groups and
    consensus are "the groups found from all votes" of the imputed conversation)."""
    ref = conv.reference
    n, m = conv.observed.shape
    labels = np.full(n, -1, dtype=np.int64)
    labels[ref.matrix.participants - 1] = ref.groups
    probs = _group_shares(ref, conv)
    rng = np.random.default_rng(20_000 + seed)
    fill = (labels[:, None] >= 0) & ~conv.observed
    people, statements = np.nonzero(fill)
    cum = probs[labels[people], statements].cumsum(-1)
    drawn = (rng.random(len(people))[:, None] > cum).sum(-1).clip(0, 2)
    votes = conv.votes.copy()
    votes[people, statements] = np.array([1, -1, 0])[drawn]
    observed = conv.observed | fill
    reference = aggregate(_matrix(votes, conv.numbers, observed), 0, _settings(all_consensus=False))
    return Replay(conv.numbers, observed, votes, conv.order, reference, conv.observed.sum(1))


def features(result, numbers: np.ndarray) -> dict[str, np.ndarray]:
    """Per statement (in ``numbers`` order) what a policy may weigh, from one aggregation: the
    groups' separation (:func:`routing.group_separations`) and Polis's PCA extremity (the norm
    of the statement's loadings times the square root of the number of statements)."""
    sep = routing.group_separations(
        result.matrix.statements, result.stats.agree, result.stats.disagree, result.stats.seen
    )
    cols = np.searchsorted(numbers, np.asarray(result.matrix.statements))
    extremity = np.zeros(len(numbers))
    loadings = np.linalg.norm(result.pca.components_, axis=0)
    extremity[cols] = loadings * np.sqrt(len(cols))
    unc = routing.group_uncertainties(
        result.matrix.statements,
        result.stats.agree,
        result.stats.seen,
        _settings().consensus.min_group_agreement,
    )
    share = _settings().consensus.min_group_agreement
    votes = _settings().consensus.min_group_votes
    open_ = {
        int(s): open_consensus(result.stats.agree[:, j], result.stats.seen[:, j], share, votes)
        for j, s in enumerate(result.matrix.statements)
    }
    return {
        "separation": np.array([sep.get(int(s), 0.0) for s in numbers]),
        "extremity": extremity,
        "uncertainty": np.array([unc.get(int(s), 0.0) for s in numbers]),
        "open": np.array([open_.get(int(s), 0.0) for s in numbers]),
    }


OPEN_Z = 1.645  # one-sided 95 % bounds
OPEN_BOOST = 8.0


def open_consensus(agree, seen, share: float, min_votes: int) -> float:
    """1 when a statement's consensus status is still open, else 0 (an upper/lower-confidence
    rule): every group's agree share *could* reach ``share`` (its upper bound ``mu_g + z
    sigma_g``, the Beta posterior of :func:`routing.consensus_uncertainty`, is at least
    ``share``) but not every group is known to (lower bound at least ``share`` with at least
    ``min_votes`` votes). Fewer than two groups: 0."""
    if len(agree) < 2:
        return 0.0
    possible = decided = True
    for a, s in zip(agree, seen, strict=True):
        mu = (a + 1.0) / (s + 2.0)
        sd = np.sqrt(mu * (1.0 - mu) / (s + 3.0))
        possible &= bool(mu + OPEN_Z * sd >= share)
        decided &= bool(mu - OPEN_Z * sd >= share and s >= min_votes)
    return float(possible and not decided)


def open_weight(c: routing.Candidate) -> float:
    """The default priority times ``1 + 8`` for a statement whose consensus status is open
    (:func:`open_consensus`, carried in the candidate's ``uncertainty``); a candidate."""
    return routing.priority(c.agree, c.disagree, c.passes, c.separation) * (
        1.0 + OPEN_BOOST * c.uncertainty
    )


def replay(
    conv: Replay,
    *,
    policy: str,
    seed: int,
    feature=None,
    uncertainty=False,
    oracle=False,
    recorded=False,
    weight=None,
    model_class=None,
):
    """Votes needed (groups, consensus) when every participant casts their recorded votes in
    the order the policy gives, one per round, aggregating every ``1/CHECKS`` of the votes.

    ``feature``: which of :func:`features` fills the candidates' ``separation`` (None: 0);
    ``uncertainty``: the candidates carry their consensus uncertainty too; ``oracle``: the
    feature taken from the reference (all votes) instead of the latest aggregation;
    ``recorded``: the order Polis showed them in (its own routing, the recording's order)."""

    n, m = conv.observed.shape
    ref_labels = _labels(conv.reference, n)
    ref_consensus = set(conv.reference.consensus)
    settings = _settings()
    budget = conv.observed.sum(1) if conv.budget is None else conv.budget
    total_all = int(budget.sum())
    every = max(1, -(-total_all // CHECKS))
    cast = np.zeros_like(conv.observed)
    tally = np.zeros((m, 3), dtype=np.int64)
    known = features(conv.reference, conv.numbers)
    zero = np.zeros(m)
    weigh = (known[feature] if oracle else zero) if feature else zero
    unsure = zero
    rng = np.random.default_rng(seed)
    found: dict[str, int | None] = {"groups": None, "consensus": None if ref_consensus else 0}
    total, previous, left = 0, None, budget.copy()
    model = None  # the gain policy's GroupModel, from the latest aggregation
    gains, model_cols = np.zeros(m), np.zeros(0, dtype=np.int64)
    while total < total_all and not all(v is not None for v in found.values()):
        for i in rng.permutation(np.flatnonzero(left)):
            open_ = np.flatnonzero(conv.observed[i] & ~cast[i])
            if recorded:
                j = open_[np.argmin(conv.order[i, open_])]
            else:
                if model is not None:
                    mine = np.flatnonzero(cast[i])
                    gains[model_cols] = model.gains(
                        dict(zip(mine.tolist(), conv.votes[i, mine].tolist(), strict=True))
                    )
                j = routing.choose(
                    [
                        routing.Candidate(
                            int(j),
                            *map(int, tally[j]),
                            float(weigh[j]),
                            False,
                            float(unsure[j]),
                            float(gains[j]),
                        )
                        for j in open_
                    ],
                    participant=int(i),
                    round_=int(cast[i].sum()),
                    policy=policy,
                    weight=weight,
                ).key
            cast[i, j], left[i] = True, left[i] - 1
            value = conv.votes[i, j]
            tally[j, 0 if value > 0 else 1 if value < 0 else 2] += 1
            total += 1
            if total % every and total < total_all:
                continue
            result = aggregate(_matrix(conv.votes, conv.numbers, cast), 0, settings)
            if (feature or uncertainty) and not oracle:
                now = features(result, conv.numbers)
                weigh = now[feature] if feature else zero
                unsure = now[uncertainty if isinstance(uncertainty, str) else "uncertainty"]
                unsure = unsure if uncertainty else zero
            if policy == routing.GAIN or model_class is not None:
                model = group_model(result, conv.numbers, model_class or routing.GroupModel)
                model_cols = np.asarray(model.keys, dtype=np.int64)
                if policy == routing.GAIN:
                    unsure = np.zeros(m)
                    unsure[model_cols] = model.uncertainty
            previous = _note_found(found, previous, result, ref_labels, ref_consensus, n, total)
    return {k: total_all if v is None else v for k, v in found.items()}


class OpenByGroupModel(routing.GroupModel):
    """A candidate's model: :meth:`gains` is what this participant's vote would add to the
    statements whose consensus status is open (:func:`open_consensus`), by group: ``C_j =
    sum_g pi_g open_j / (1 + S_gj)``, with ``pi`` the participant's group posterior, so a
    vote counts most from a group that has barely voted on an open statement."""

    def __init__(self, keys, agree, disagree, seen, sizes=None, share=0.6, min_votes=3):
        super().__init__(keys, agree, disagree, seen, sizes=sizes, share=share)
        seen = np.asarray(seen, float)
        opened = np.array(
            [
                open_consensus(np.asarray(agree)[:, j], seen[:, j], share, min_votes)
                for j in range(seen.shape[1])
            ]
        )
        self.value = opened[None, :] / (1.0 + seen)  # (groups, statements)

    def gains(self, votes):
        if self.n_groups < 2:
            return np.zeros(len(self.keys))
        return self.posterior(votes) @ self.value


def open_by_group_weight(c: routing.Candidate) -> float:
    """The default priority times ``1 + 8 C`` (:class:`OpenByGroupModel`, carried in the
    candidate's ``gain``); a candidate."""
    return routing.priority(c.agree, c.disagree, c.passes, c.separation) * (
        1.0 + OPEN_BOOST * c.gain
    )


def group_model(result, numbers: np.ndarray, cls=routing.GroupModel) -> routing.GroupModel:
    """The gain policy's model from one aggregation, keyed by column (``numbers`` order), as
    the web app builds it (:func:`pluralign.web.results.routing_results`)."""
    st = result.stats
    cols = np.searchsorted(numbers, np.asarray(result.matrix.statements))
    inside = result.groups[result.in_conv & (result.groups >= 0)]
    return cls(
        cols,
        st.agree,
        st.disagree,
        st.seen,
        sizes=np.bincount(inside, minlength=result.n_groups),
        share=_settings().consensus.min_group_agreement,
    )


REPLAY_POLICIES = {
    "random": dict(policy=routing.RANDOM),
    "Polis's recorded order": dict(policy=routing.RANDOM, recorded=True),
    "priority (default)": dict(policy=routing.PRIORITY, feature="separation"),
    "priority + uncertainty": dict(policy=routing.PRIORITY, feature="separation", uncertainty=True),
    "priority + open consensus": dict(
        policy=routing.PRIORITY, feature="separation", uncertainty="open", weight=open_weight
    ),
    "gain": dict(policy=routing.GAIN),
    "priority + open consensus by group": dict(
        policy=routing.PRIORITY,
        feature="separation",
        weight=open_by_group_weight,
        model_class=OpenByGroupModel,
    ),
}
REPLAYS = ("recorded", "imputed")
DEFAULT_NAME = "priority (default)"
RANDOM_SEEDS = (0, 1)  # random order is averaged over these


def _polis_one(job: tuple[str, str, tuple[str, ...]]):
    """(name, replay kind, votes, reference consensus count, {policy: votes needed}) of one
    conversation, replayed as recorded or imputed (:func:`imputed`)."""
    name, kind, policies = job
    conv = polis_conversation(name)
    if kind == "imputed":
        conv = imputed(conv)
    out = {}
    for policy, options in REPLAY_POLICIES.items():
        if policy not in policies:
            continue
        seeds = (
            RANDOM_SEEDS
            if options["policy"] == routing.RANDOM and not options.get("recorded")
            else (0,)
        )
        runs = [replay(conv, seed=seed, **options) for seed in seeds]
        out[policy] = {k: float(np.mean([r[k] for r in runs])) for k in ("groups", "consensus")}
    total = int(conv.observed.sum() if conv.budget is None else conv.budget.sum())
    return name, kind, total, len(conv.reference.consensus), out


def main_polis(names: list[str], jobs: int, kinds=REPLAYS, policies=None) -> int:
    """The replay of the recorded Polis conversations (the default): ``kinds`` of replay
    (recorded votes only, imputed), ``policies`` the names of REPLAY_POLICIES to run (random
    always runs: it is the baseline)."""
    from concurrent.futures import ProcessPoolExecutor

    policies = tuple(policies or REPLAY_POLICIES)  # given without random: rows only (the
    # replays are deterministic, so random's rows of an earlier run of the same code serve)
    all_names = polis_names()
    chosen_on = set(all_names[0::2])  # looked at while choosing; the others held out
    t0 = time.perf_counter()
    print(f"{'conversation':<28} {'replay':<8} {'policy':<24} {'groups':>7} {'consensus':>9}")
    savings: dict[tuple[str, str], dict[str, dict[str, list[float]]]] = {}
    names = sorted(names, key=lambda n: -(POLIS / n / "votes.csv").stat().st_size)  # big first
    jobs_ = [(name, kind, policies) for name in names for kind in kinds]
    with ProcessPoolExecutor(max_workers=jobs) as pool:  # in order, as they finish
        rows = pool.map(_polis_one, jobs_) if jobs > 1 else map(_polis_one, jobs_)
        for name, kind, total, n_consensus, out in rows:
            part = "chosen on" if name in chosen_on else "held out"
            base = out.get("random")
            for policy, res in out.items():
                print(
                    f"{name[:28]:<28} {kind:<8} {policy:<24} {res['groups']:>7.0f} "
                    f"{res['consensus']:>9.0f}   of {total} ({n_consensus} consensus; {part})",
                    flush=True,
                )
                for key in ("groups", "consensus"):
                    if base is None or (key == "consensus" and not n_consensus):
                        continue  # no baseline, or nothing to find: no saving to measure
                    for bucket in (part, "all"):
                        savings.setdefault((kind, bucket), {}).setdefault(policy, {}).setdefault(
                            key, []
                        ).append(1 - res[key] / base[key])
    print(f"\nmean saving against random ({time.perf_counter() - t0:.0f} s):")
    ok = {}
    for kind in kinds:
        for bucket in ("chosen on", "held out", "all"):
            for policy, per in savings.get((kind, bucket), {}).items():
                if policy == "random":
                    continue
                line = "   ".join(
                    f"{k}: {np.mean(v) * 100:+.0f} % (n={len(v)})" for k, v in per.items()
                )
                print(f"  {kind:<8} {bucket:<10} {policy:<24} {line}")
                if bucket == "all" and policy == DEFAULT_NAME:
                    ok[kind] = all(np.mean(v) >= 0.30 for v in per.values())
    for kind, yes in ok.items():
        print(
            f"{kind} replay: the default needs >= 30 % fewer votes than random for both:",
            "YES" if yes else "NO",
        )
    return 0 if ok and all(ok.values()) else 1


def main_simulated(seeds: list[int], population: str) -> int:
    """The simulated assemblies (``--simulated``)."""
    savings: dict[str, dict[str, list[float]]] = {}
    t0 = time.perf_counter()
    print(f"population={population} conviction~Beta{POPULATIONS[population]}")
    print(f"{'seed':>4} {'people':>6} {'stmts':>5}  {'policy':<24} {'groups':>7} {'consensus':>9}")
    for seed in seeds:
        conv = conversation(seed, population)
        n, m = conv.votes.shape
        base = None
        for name, options in POLICIES.items():
            res = run(conv, seed=seed, **options)
            base = base or res
            print(
                f"{seed:>4} {n:>6} {m:>5}  {name:<24} {res['groups']:>7} {res['consensus']:>9}"
                f"   of {n * m} (reference: {conv.reference.n_groups} groups)",
                flush=True,
            )
            for key in ("groups", "consensus"):
                savings.setdefault(name, {}).setdefault(key, []).append(1 - res[key] / base[key])
    took = time.perf_counter() - t0
    print(f"\nmean saving against random over seeds {seeds} ({took:.0f} s):")
    ok = False
    for name, per in savings.items():
        if name == "random":
            continue
        line = "   ".join(f"{k}: {np.mean(v) * 100:+.0f} %" for k, v in per.items())
        print(f"  {name:<24} {line}")
        if name == "priority (default)":
            ok = all(np.mean(v) >= 0.30 for v in per.values())
    print("the default needs >= 30 % fewer votes than random for both:", "YES" if ok else "NO")
    return 0 if ok else 1


def main_cost(statements: int = 1000, participants: int = 1000, calls: int = 200) -> int:
    """Cost of one routing decision on the web vote path, gain against priority: a model of
    three groups over ``statements`` statements (counts as from ``participants`` people who
    voted on everything), a participant who voted on half of them; per call what the web
    app does (votes.next_statement without the database): the candidates, the participant's
    gains under the gain policy, the draw."""
    rng = np.random.default_rng(0)
    groups = 3
    sizes = rng.multinomial(participants, [0.5, 0.3, 0.2])
    shares = rng.dirichlet([1, 1, 1], size=(groups, statements))  # agree, disagree, pass
    counts = np.stack(
        [rng.multinomial(sizes[g], shares[g, j]) for g in range(groups) for j in range(statements)]
    ).reshape(groups, statements, 3)
    keys = np.arange(1, statements + 1)
    t0 = time.perf_counter()
    model = routing.GroupModel(keys, counts[..., 0], counts[..., 1], counts.sum(-1), sizes=sizes)
    built = time.perf_counter() - t0
    totals = counts.sum(0)
    separation = dict(zip(keys.tolist(), rng.random(statements).tolist(), strict=True))
    voted = rng.choice(keys, statements // 2, replace=False)
    mine = dict(zip(voted.tolist(), rng.choice([1, -1, 0], len(voted)).tolist(), strict=True))
    open_ = [int(k) for k in keys if int(k) not in mine]

    def one(policy: str, who: int) -> None:
        gain, unsure = {}, {}
        if policy == routing.GAIN:
            gain = dict(zip(model.keys, model.gains(mine).tolist(), strict=True))
            unsure = dict(zip(model.keys, model.uncertainty.tolist(), strict=True))
        pool = [
            routing.Candidate(
                k,
                *map(int, totals[k - 1]),
                separation[k],
                False,
                unsure.get(k, 0.0),
                gain.get(k, 0.0),
            )
            for k in open_
        ]
        routing.choose(pool, who, len(mine), policy=policy)

    out = {}
    for policy in (routing.PRIORITY, routing.GAIN, routing.RANDOM):
        t0 = time.perf_counter()
        for who in range(calls):
            one(policy, who)
        out[policy] = (time.perf_counter() - t0) / calls * 1e3
    print(
        f"{statements} statements, {participants} participants, {groups} groups, "
        f"{len(open_)} candidates per call; model built in {built * 1e3:.0f} ms "
        "(once per aggregation, in the background)"
    )
    for policy, ms in out.items():
        print(f"  {policy:<9} {ms:6.2f} ms per call  ({ms / out[routing.PRIORITY]:.2f} x priority)")
    return 0


# ------------------------------------------------- full replay: imputed complete matrices, seeds

# ``--replay full``: the measure this benchmark's target is checked on. A recorded replay can
# only reorder the votes each participant cast (about 7 before they are clustered), which caps
# what any routing can gain; the imputed replay above keeps each participant's recorded vote
# count, so random order often never reaches the groups (its figure is then the total). Here
# every conversation is completed (:func:`imputed_knn`) and every participant may vote on
# everything, so any policy can be replayed and every figure is a real "votes needed".

KNN = 10  # neighbours whose votes complete a participant's row
FULL_SEEDS = (0, 1, 2, 3, 4)


def imputed_knn(conv: Replay, seed: int = 0, k: int = KNN) -> Replay:
    """The conversation completed participant by participant: every participant the recording's
    aggregation clusters gets a vote on every statement, their recorded vote where there is
    one, else one drawn (seeded) from the votes on that statement of their ``k`` nearest
    participants on the recording's opinion map (PCA projection) who voted on it, plus one
    prior vote split as their group votes on it, ``(A_g + 1, D_g + 1, P_g + 1) / (S_g + 3)``.

    Unlike :func:`imputed` (the group's distribution alone), a completed row keeps what sets a
    participant apart within their group (their neighbours' views), so the groups of the
    completed matrix are not the recorded groups by construction. Participants the recording
    does not cluster keep only their own votes. ``budget`` is None: anyone may vote on anything.
    """
    ref = conv.reference
    n, m = conv.observed.shape
    rows = np.asarray(ref.matrix.participants) - 1
    labels = np.full(n, -1, dtype=np.int64)
    labels[rows] = ref.groups
    where = np.zeros((n, ref.projection.shape[1]))
    where[rows] = ref.projection
    prior = _group_shares(ref, conv)
    onehot = (
        np.stack([conv.votes == 1, conv.votes == -1, conv.votes == 0], -1)
        & conv.observed[..., None]
    )
    rng = np.random.default_rng(30_000 + seed)
    votes, observed = conv.votes.copy(), conv.observed.copy()
    clustered = np.flatnonzero(labels >= 0)
    dist = np.linalg.norm(where[clustered, None, :] - where[None, :, :], axis=-1)  # (c, n)
    for j in range(m):
        voters = np.flatnonzero(conv.observed[:, j])
        need = clustered[~conv.observed[clustered, j]]
        if not len(need):
            continue
        d = dist[np.searchsorted(clustered, need)][:, voters]
        kk = min(k, len(voters))
        near = voters[np.argpartition(d, kk - 1, axis=1)[:, :kk]] if kk else None
        counts = prior[labels[need], j].copy()
        if kk:
            counts += onehot[near, j].sum(1)
        cum = (counts / counts.sum(1, keepdims=True)).cumsum(1)
        drawn = (rng.random(len(need))[:, None] > cum).sum(1).clip(0, 2)
        votes[need, j] = np.array([1, -1, 0])[drawn]
        observed[need, j] = True
    reference = aggregate(_matrix(votes, conv.numbers, observed), 0, _settings(all_consensus=False))
    return Replay(conv.numbers, observed, votes, conv.order, reference, None)


def check_rounds(m: int) -> set[int]:
    """After which rounds the full replay aggregates: every one of the first 15 (the
    clustering needs 7 votes a participant, so consensus and the groups are found from round
    7 on), every second to 30, then 25 evenly spaced to the last (``m`` statements)."""
    late = np.linspace(31, max(m, 31), 25).round().astype(int)
    return {r for r in (*range(1, 16), *range(16, 31, 2), *late.tolist()) if r <= m}


def _novelty(seen):
    return 1.0 + 8.0 * 2.0 ** (-seen / 5.0)


def w_random(tally, feats, rnd):
    return np.ones(len(tally))


def w_polis(tally, feats, rnd):
    """Polis's published comment priority (conversation.clj ``priority-metric``):
    ``((1 - p)(1 + E) a (1 + 8·2^(-S/5)))²`` with the pass rate p, the agree rate a
    (both with one prior vote each way) and E the statement's extremity on the opinion map."""
    a_, d_, p_ = tally.T
    s = a_ + d_ + p_
    p, a = (p_ + 1) / (s + 2), (a_ + 1) / (s + 2)
    return ((1 - p) * (1 + feats["extremity"]) * a * _novelty(s)) ** 2


def w_priority(tally, feats, rnd):
    """The web app's default (:func:`routing.priority`), vectorised."""
    a_, d_, p_ = tally.T
    s = a_ + d_ + p_
    p = (p_ + 1) / (s + 2)
    return ((1 - p) * (1 + feats["separation"]) ** 2 * _novelty(s)) ** 2


def w_place_then_open(tally, feats, rnd):
    """A candidate: while a participant has cast fewer than ``MIN_VOTES`` + 3 votes, the
    statements that place them (the pass-rate penalty times ``(1 + E)⁴``, E the extremity); then
    the statements whose consensus status is still open (:func:`open_consensus`) first, by the
    pass-rate penalty; everything else keeps a small weight."""
    a_, d_, p_ = tally.T
    s = a_ + d_ + p_
    p = (p_ + 1) / (s + 2)
    if rnd < MIN_VOTES + 3:
        return (1 - p) * (1 + feats["extremity"]) ** 4
    return (1 - p) * (0.05 + feats["open"] + 0.2 * feats["extremity"])


def w_alternate(tally, feats, rnd):
    """A candidate: rounds take turns. Even rounds place participants: the pass-rate penalty
    times ``(1 + E)²`` (E the extremity). Odd rounds look for consensus: the pass-rate penalty
    times the agree rate, squared, times ``1 + 4`` while a statement's consensus status is
    open (:func:`open_consensus`; before there are groups, the agree rate alone)."""
    a_, d_, p_ = tally.T
    s = a_ + d_ + p_
    p, a = (p_ + 1) / (s + 2), (a_ + 1) / (s + 2)
    if rnd % 2 == 0:
        return ((1 - p) * (1 + feats["extremity"])) ** 2
    return ((1 - p) * a) ** 2 * (1 + 4 * feats["open"])


def w_extreme(tally, feats, rnd):
    """A probe for the groups alone: the pass-rate penalty times ``(1 + E)⁸`` (E the
    extremity), no novelty: every participant is sent to the statements that spread the
    opinion map most."""
    a_, d_, p_ = tally.T
    p = (p_ + 1) / (a_ + d_ + p_ + 2)
    return (1 - p) * (1 + feats["extremity"]) ** 8


def _group_model_cols(result, numbers: np.ndarray):
    """Per group and statement (``numbers`` order) the smoothed vote shares ``theta`` (G, m,
    3), the counts of agree and votes (G, m), and the groups' sizes, from one aggregation;
    statements it does not know get one prior vote each way."""
    st = result.stats
    cols = np.searchsorted(numbers, np.asarray(result.matrix.statements))
    g = int(np.asarray(st.agree).shape[0])
    agree, disagree, seen = (np.zeros((g, len(numbers))) for _ in range(3))
    agree[:, cols], disagree[:, cols], seen[:, cols] = (
        np.asarray(x, float) for x in (st.agree, st.disagree, st.seen)
    )
    counts = np.stack([agree, disagree, seen - agree - disagree], -1)
    theta = (counts + 1.0) / (counts.sum(-1, keepdims=True) + 3.0)
    inside = result.groups[result.in_conv & (result.groups >= 0)]
    return theta, agree, disagree, seen, np.bincount(inside, minlength=g)


NEED_TEMPERATURE = 2.0  # each vote's log-likelihood / this: a posterior slower to be sure
NEED_WEIGHT = 2.0


def w_need(tally, feats, rnd, ctx):
    """A candidate, per participant: ``(1 - p) · novelty · (0.05 + I + 2 N)``, squared.

    ``I`` is the expected information of a vote on the statement about *this* participant's
    group (the mutual information under their posterior, as :meth:`routing.GroupModel.gains`,
    with each vote's log-likelihood tempered by 2); ``N`` the consensus need: while the
    statement's consensus status is open under the posterior rule's shares (every group's agree
    share could still be >= 0.65 and its disagree share <= 0.15 at a one-sided 95 % bound, not
    every group known to be), ``Σ_g π_g / (1 + S_g / 3)``: a vote counts most where the
    participant's likely group has few votes on it (the rule needs every group)."""
    a_, d_, p_ = tally.T
    s = a_ + d_ + p_
    base = (1 - (p_ + 1) / (s + 2)) * _novelty(s)
    model = ctx["model"]
    who = ctx["who"]
    if model is None:
        return np.broadcast_to(base**2, (len(who), len(base)))
    theta, agree, disagree, seen, sizes = model
    g = theta.shape[0]
    if g < 2:
        return np.broadcast_to(base**2, (len(who), len(base)))
    log_theta = np.log(theta)
    cast, value = ctx["cast"][who], ctx["value"][who]
    loglik = np.zeros((len(who), g))
    for v in range(3):
        loglik += (cast & (value == v)).astype(float) @ log_theta[:, :, v].T
    log_post = np.log((sizes + 1.0) / (sizes.sum() + g)) + loglik / NEED_TEMPERATURE
    post = np.exp(log_post - log_post.max(1, keepdims=True))
    post /= post.sum(1, keepdims=True)  # (who, G)
    q = np.einsum("ig,gmv->imv", post, theta)
    neg_h = (theta * log_theta).sum(-1)  # (G, m)
    mutual = np.clip(post @ neg_h - (q * np.log(q)).sum(-1), 0, None) / np.log(g)
    mu_a = (agree + 1) / (seen + 2)
    sd_a = np.sqrt(mu_a * (1 - mu_a) / (seen + 3))
    mu_d = (disagree + 1) / (seen + 2)
    sd_d = np.sqrt(mu_d * (1 - mu_d) / (seen + 3))
    possible = ((mu_a + OPEN_Z * sd_a >= 0.65) & (mu_d - OPEN_Z * sd_d <= 0.15)).all(0)
    sure = ((mu_a - OPEN_Z * sd_a >= 0.65) & (mu_d + OPEN_Z * sd_d <= 0.15)).all(0)
    open_ = (possible & ~sure).astype(float)  # (m,)
    need = post @ (1.0 / (1.0 + seen / 3.0)) * open_  # (who, m)
    return (base * (0.05 + mutual + NEED_WEIGHT * need)) ** 2


w_need.per_participant = True


def _open_posterior(agree, disagree, seen) -> np.ndarray:
    """1 where a statement's consensus status is open under the posterior rule's shares (every
    group's agree share could still be >= 0.65 and its disagree share <= 0.15, at one-sided 95
    % bounds of their Beta posteriors, but not every group is known to be), else 0."""
    mu_a = (agree + 1) / (seen + 2)
    sd_a = np.sqrt(mu_a * (1 - mu_a) / (seen + 3))
    mu_d = (disagree + 1) / (seen + 2)
    sd_d = np.sqrt(mu_d * (1 - mu_d) / (seen + 3))
    possible = ((mu_a + OPEN_Z * sd_a >= 0.65) & (mu_d - OPEN_Z * sd_d <= 0.15)).all(0)
    sure = ((mu_a - OPEN_Z * sd_a >= 0.65) & (mu_d + OPEN_Z * sd_d <= 0.15)).all(0)
    return (possible & ~sure).astype(float)


def w_info(tally, feats, rnd, ctx):
    """A candidate, the same for every participant (so which statements a participant has
    voted on says nothing about their group): ``((1 - p) · novelty · (0.05 + I + 2 N))²``
    with ``I`` the information a vote on the statement gives about the group of a participant
    drawn from the population (the mutual information between group and vote under the
    groups' sizes, over log G) and ``N`` the consensus need: ``1 / (1 + min_g S_g / 3)``
    while the statement's consensus status is open (:func:`_open_posterior`), else 0."""
    a_, d_, p_ = tally.T
    s = a_ + d_ + p_
    base = (1 - (p_ + 1) / (s + 2)) * _novelty(s)
    model = ctx["model"]
    if model is None or model[0].shape[0] < 2:
        return base**2
    theta, agree, disagree, seen, sizes = model
    g = theta.shape[0]
    prior = (sizes + 1.0) / (sizes.sum() + g)
    q = np.einsum("g,gmv->mv", prior, theta)
    mutual = (prior @ (theta * np.log(theta)).sum(-1) - (q * np.log(q)).sum(-1)) / np.log(g)
    need = _open_posterior(agree, disagree, seen) / (1.0 + seen.min(0) / 3.0)
    return (base * (0.05 + np.clip(mutual, 0, None) + NEED_WEIGHT * need)) ** 2


w_info.per_participant = True  # it reads the groups' model (the weights are shared)


def w_common_random(tally, feats, rnd, ctx):
    """A probe: one random order of the statements, the same for every participant (a
    statement's score is its place in it): after r rounds everyone has voted on the same r
    statements, so which statements a participant voted on tells the clustering nothing."""
    return ctx["order"]


w_common_random.per_participant = True
w_common_random.deterministic = True


def _consensus_chance(agree, disagree, seen) -> np.ndarray:
    """Per statement, the chance (normal approximations of the groups' Beta posteriors, groups
    independent) that every group's agree share is >= 0.65 and its disagree share <= 0.15, the
    posterior rule's shares (:mod:`pluralign.aggregate.consensus`)."""
    from scipy.stats import norm

    mu_a = (agree + 1) / (seen + 2)
    sd_a = np.sqrt(mu_a * (1 - mu_a) / (seen + 3))
    mu_d = (disagree + 1) / (seen + 2)
    sd_d = np.sqrt(mu_d * (1 - mu_d) / (seen + 3))
    return (norm.cdf((mu_a - 0.65) / sd_a) * norm.cdf((0.15 - mu_d) / sd_d)).prod(0)


def _information(model) -> np.ndarray:
    """Per statement, the information a vote gives about the group of a participant drawn from
    the population: the mutual information between group and vote under the groups' sizes,
    over log G (in [0, 1])."""
    theta, _a, _d, _s, sizes = model
    g = theta.shape[0]
    prior = (sizes + 1.0) / (sizes.sum() + g)
    q = np.einsum("g,gmv->mv", prior, theta)
    mutual = prior @ (theta * np.log(theta)).sum(-1) - (q * np.log(q)).sum(-1)
    return np.clip(mutual, 0.0, None) / np.log(g)


TRACK_EXPLORE = 2  # every second vote after the first MIN_VOTES explores


def tracks(common_first: int = MIN_VOTES, agree_explore: bool = False, explore_first: int = 0):
    """:func:`w_tracks` with its first ``common_first`` votes common (then alternating), the
    exploring draw times the agree rate squared when ``agree_explore``; with ``explore_first``
    the first that many votes explore instead (then common and exploring alternate)."""

    def weight(tally, feats, rnd, ctx):
        if rnd < explore_first or (explore_first and (rnd - explore_first) % 2):
            rnd = common_first  # an exploring vote
        elif explore_first:
            rnd = common_first + 1  # a common vote
        return w_tracks(tally, feats, rnd, ctx, common_first, agree_explore)

    weight.per_participant = weight.deterministic = True
    weight.__doc__ = w_tracks.__doc__
    return weight


def w_tracks(tally, feats, rnd, ctx, common_first=MIN_VOTES, agree_explore=False):
    """A candidate, in two tracks. *Common* votes (the first ``MIN_VOTES`` of everyone, then
    every second): every participant gets the same statement, the unvoted one with the highest
    ``I + U`` (``I`` the group information, :func:`_information`; ``U = 4P(1 - P)`` with ``P``
    :func:`_consensus_chance`, so a likely-but-unsure consensus statement is settled by
    everyone at once; ties, and the start, in one fixed random order). So the votes the
    clustering sees form a dense block, the same statements for everyone, whichever group
    they are in. *Exploring* votes: the keyed weighted draw over ``((1 - p) · novelty)²``,
    which spreads votes so ``I`` and ``U`` can be estimated for the statements nobody was sent
    to together."""
    a_, d_, p_ = tally.T
    s = a_ + d_ + p_
    who, rng, order = ctx["who"], ctx["rng"], ctx["order"]
    m = len(s)
    if rnd >= common_first and (rnd - common_first) % TRACK_EXPLORE == 0:
        w = ((1 - (p_ + 1) / (s + 2)) * _novelty(s)) ** 2
        if agree_explore:
            w = w * ((a_ + 1) / (s + 2)) ** 2
        return np.log(rng.random((len(who), m))) / w
    score = order / (10.0 * m)  # ties: one fixed random order, the same for everyone
    model = ctx["model"]
    if model is not None and model[0].shape[0] >= 2:
        _t, agree, disagree, seen, _sizes = model
        chance = _consensus_chance(agree, disagree, seen)
        score = score + _information(model) + 4 * chance * (1 - chance)
    return np.broadcast_to(score, (len(who), m))


w_tracks.per_participant = True
w_tracks.deterministic = True


FULL_POLICIES = {
    "random": w_random,
    "two tracks": w_tracks,
    "two tracks, alternating from the start": tracks(0),
    "two tracks, agree-weighted exploring": tracks(MIN_VOTES, True),
    "two tracks, alternating, agree-weighted": tracks(0, True),
    "two tracks, exploring first": tracks(explore_first=MIN_VOTES),
    "common random order": w_common_random,
    "gain + consensus need": w_need,
    "group information + consensus need": w_info,
    "priority (default)": w_priority,
    "Polis's priority": w_polis,
    "place, then open consensus": w_place_then_open,
    "alternate": w_alternate,
    "extremity only": w_extreme,
}


def full_replay(conv: Replay, weight, seed: int) -> dict[str, int]:
    """Votes needed (groups, consensus) on a completed conversation: in each round every
    participant with statements left casts one, drawn by the policy's weights (the keyed
    weighted draw of :func:`routing.choose`, ``max log(u)/w``, vectorised over the round; the
    counts are those at the start of the round, as the web app's 2-second cache holds them),
    and the votes so far are aggregated after the rounds of :func:`check_rounds` (the features
    the policies weigh come from the latest aggregation)."""

    n, m = conv.observed.shape
    ref_labels = _labels(conv.reference, n)
    ref_consensus = set(conv.reference.consensus)
    settings = _settings()
    value = np.where(conv.votes > 0, 0, np.where(conv.votes < 0, 1, 2))
    cast = np.zeros_like(conv.observed)
    tally = np.zeros((m, 3))
    feats = {k: np.zeros(m) for k in ("separation", "extremity", "open", "uncertainty")}
    rng = np.random.default_rng(seed)
    found: dict[str, int | None] = {"groups": None, "consensus": None if ref_consensus else 0}
    total, previous, checks = 0, None, check_rounds(m)
    model = None  # per-participant policies: the latest groups' vote shares
    order = np.random.default_rng(10_000 + seed).permutation(m).astype(float)
    for rnd in range(m):
        left = conv.observed & ~cast
        who = np.flatnonzero(left.any(1))
        if not len(who):
            break
        if getattr(weight, "per_participant", False):
            ctx = dict(who=who, cast=cast, value=value, model=model, order=order, rng=rng)
            w = weight(tally, feats, rnd, ctx)
        else:
            w = weight(tally, feats, rnd)
        if getattr(weight, "deterministic", False):  # the highest score wins (ties at random)
            noise = rng.random((len(who), m)) * 1e-9
            key = np.where(left[who], np.broadcast_to(w, (len(who), m)) + noise, -np.inf)
        else:
            w = np.maximum(w, 1e-12)
            key = np.where(left[who], np.log(rng.random((len(who), m))) / w, -np.inf)
        j = key.argmax(1)
        cast[who, j] = True
        np.add.at(tally, (j, value[who, j]), 1)
        total += len(who)
        if rnd + 1 not in checks and left.sum() > len(who):
            continue
        result = aggregate(_matrix(conv.votes, conv.numbers, cast), 0, settings)
        feats = features(result, conv.numbers)
        if getattr(weight, "per_participant", False) and result.n_groups >= 2:
            model = _group_model_cols(result, conv.numbers)
        previous = _note_found(found, previous, result, ref_labels, ref_consensus, n, total)
        if all(v is not None for v in found.values()):
            break
    return {k: total if v is None else v for k, v in found.items()}


IMPUTATIONS = ("group", "knn")


def completed(conv: Replay, seed: int, how: str) -> Replay:
    """``conv`` with every clustered participant's row completed (``how``: ``group``,
    :func:`imputed`; ``knn``, :func:`imputed_knn`) and no vote budget: anyone may vote on
    anything."""
    if how == "knn":
        return imputed_knn(conv, seed)
    full = imputed(conv, seed)
    return Replay(full.numbers, full.observed, full.votes, full.order, full.reference, None)


def _full_one(job):
    """The rows of one conversation and seed: each policy's votes needed, with the
    conversation's size and its floor (the votes cast by the end of round ``MIN_VOTES``:
    nobody is clustered with fewer, so neither measure can be met before it)."""
    name, seed, policies, how = job
    conv = completed(polis_conversation(name), seed, how)
    floor = int(np.minimum(conv.observed.sum(1), MIN_VOTES).sum())
    base = dict(
        conversation=name,
        seed=seed,
        impute=how,
        votes=int(conv.observed.sum()),
        floor=floor,
        n_consensus=len(conv.reference.consensus),
    )
    return [
        {**base, "policy": p, **full_replay(conv, FULL_POLICIES[p], seed)}
        for p in ("random", *policies)
    ]


def _ci(values) -> str:
    """Mean and 95 % t-interval half-width, in percent."""
    from scipy import stats

    v = np.asarray(values, float) * 100
    if len(v) < 2:
        return f"{v.mean():+.0f} %"
    half = stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return f"{v.mean():+.0f} ± {half:.0f} %"


def main_full(names, seeds, policies, jobs: int, how: str = "group", rows_out=None) -> int:
    """The full replay (``--replay full``): one row per conversation, seed and policy (also
    appended to ``rows_out`` as JSON lines, so a long run can be made in parts and summarised
    with ``--summarise``), then :func:`summarise`."""
    import json
    from concurrent.futures import ProcessPoolExecutor

    policies = [p for p in (policies or FULL_POLICIES) if p != "random"]
    t0 = time.perf_counter()
    names = sorted(names, key=lambda n: -(POLIS / n / "votes.csv").stat().st_size)
    jobs_ = [(name, seed, tuple(policies), how) for name in names for seed in seeds]
    print(f"completed by {how}; seeds {list(seeds)}")
    print(f"{'conversation':<28} {'seed':>4} {'policy':<28} {'groups':>7} {'consensus':>9}")
    rows = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for part in pool.map(_full_one, jobs_) if jobs > 1 else map(_full_one, jobs_):
            for r in part:
                print(
                    f"{r['conversation'][:28]:<28} {r['seed']:>4} {r['policy']:<28} "
                    f"{r['groups']:>7} {r['consensus']:>9}   of {r['votes']} (floor "
                    f"{r['floor']}; {r['n_consensus']} consensus)",
                    flush=True,
                )
                rows.append(r)
                if rows_out:
                    with open(rows_out, "a") as f:
                        f.write(json.dumps(r) + "\n")
    print(f"({time.perf_counter() - t0:.0f} s)")
    return summarise(rows)


ROW_KEYS = ("conversation", "seed", "policy", "groups", "consensus", "floor", "n_consensus")


def read_rows(paths) -> list[dict]:
    """The rows of ``--rows-out`` files; a bad line stops with its file, line and what is
    wrong."""
    import json

    rows = []
    for path in paths:
        try:
            lines = Path(path).read_text().splitlines()
        except OSError as e:
            raise SystemExit(f"{path}: cannot read: {e.strerror}") from None
        for number, line in enumerate(lines, 1):
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{number}: not a JSON row ({e.msg})") from None
            missing = [k for k in ROW_KEYS if k not in row] if isinstance(row, dict) else ROW_KEYS
            if missing:
                raise SystemExit(f"{path}:{number}: row without {', '.join(missing)}")
            rows.append(row)
    return rows


def summarise(rows: list[dict]) -> int:
    """Per conversation and pooled (chosen-on, held-out, all), each policy's saving against
    random, paired by seed (same completed matrix, same draws), as mean ± 95 % t-interval over
    the seeds; pooled = the mean over conversations, per seed, then over seeds. A conversation
    without reference consensus statements gives no consensus saving. The floor's saving,
    ``1 - floor / random``, is the most any policy could save."""
    chosen_on = set(polis_names()[0::2])
    by = {(r["conversation"], r["seed"], r["policy"]): r for r in rows}
    names = sorted({r["conversation"] for r in rows})
    policies = list(dict.fromkeys(r["policy"] for r in rows if r["policy"] != "random"))
    saving: dict = {}  # (name, policy, key) -> {seed: saving}
    for (name, seed, policy), r in by.items():
        base = by.get((name, seed, "random"))
        if base is None:
            continue
        for key in ("groups", "consensus"):
            if key == "consensus" and not r["n_consensus"]:
                continue
            if policy == "random":
                saving.setdefault((name, "floor", key), {})[seed] = 1 - r["floor"] / r[key]
            else:
                saving.setdefault((name, policy, key), {})[seed] = 1 - r[key] / base[key]
    seeds = sorted({r["seed"] for r in rows})
    print(f"\nsaving against random, mean ± 95 % CI over seeds {seeds}:")
    for name in names:
        part = "chosen on" if name in chosen_on else "held out"
        for policy in (*policies, "floor"):
            line = "   ".join(
                f"{k}: {_ci(list(saving[(name, policy, k)].values()))}"
                for k in ("groups", "consensus")
                if (name, policy, k) in saving
            )
            print(f"  {name[:28]:<28} {part:<9} {policy:<28} {line}")
    ok = {}
    for bucket in ("chosen on", "held out", "all"):
        inside = [
            n for n in names if bucket == "all" or (n in chosen_on) == (bucket == "chosen on")
        ]
        for policy in (*policies, "floor"):
            parts = []
            for key in ("groups", "consensus"):
                convs = [n for n in inside if (n, policy, key) in saving]
                common = [s for s in seeds if all(s in saving[(n, policy, key)] for n in convs)]
                if not convs or not common:
                    continue
                pooled = [np.mean([saving[(n, policy, key)][s] for n in convs]) for s in common]
                parts.append(f"{key}: {_ci(pooled)} (n={len(convs)})")
                if bucket == "all" and policy != "floor":
                    ok.setdefault(policy, []).append(np.mean(pooled) >= 0.30)
            print(f"  pooled {bucket:<9} {policy:<28} {'   '.join(parts)}")
    for policy, yes in ok.items():
        print(
            f"{policy}: >= 30 % fewer votes than random on both, pooled:",
            "YES" if all(yes) else "NO",
        )
    return 0 if ok and all(all(v) for v in ok.values()) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--simulated", action="store_true", help="simulated assemblies instead")
    ap.add_argument("--conversations", nargs="+", help="Polis conversations (default: all)")
    ap.add_argument("--jobs", type=int, default=1, help="conversations replayed in parallel")
    ap.add_argument("--seeds", type=int, nargs="+", default=[3, 4, 5, 6, 7, 8])
    ap.add_argument("--population", choices=sorted(POPULATIONS), default="polarised")
    ap.add_argument(
        "--replay",
        choices=(*REPLAYS, "both", "full"),
        default="both",
        help="recorded votes only, imputed (recorded vote counts), both, or full (completed "
        "matrices, anyone votes on anything; seeds and CIs)",
    )
    ap.add_argument("--full-seeds", type=int, nargs="+", default=list(FULL_SEEDS))
    ap.add_argument("--full-policies", nargs="+", choices=sorted(FULL_POLICIES))
    ap.add_argument("--impute", choices=IMPUTATIONS, default="group", help="(--replay full)")
    ap.add_argument("--rows-out", help="(--replay full) append each row to this JSON-lines file")
    ap.add_argument("--summarise", nargs="+", help="summarise JSON-lines files of --rows-out")
    ap.add_argument("--policies", nargs="+", choices=sorted(REPLAY_POLICIES), help="(replays)")
    ap.add_argument("--cost", action="store_true", help="time one routing call per policy")
    args = ap.parse_args(argv)
    if args.cost:
        return main_cost()
    if args.simulated:
        return main_simulated(args.seeds, args.population)
    if args.summarise:
        return summarise(read_rows(args.summarise))
    if args.replay == "full":
        names = args.conversations or polis_names()
        return main_full(
            names, args.full_seeds, args.full_policies, args.jobs, args.impute, args.rows_out
        )
    kinds = REPLAYS if args.replay == "both" else (args.replay,)
    return main_polis(args.conversations or polis_names(), args.jobs, kinds, args.policies)


if __name__ == "__main__":
    sys.exit(main())
