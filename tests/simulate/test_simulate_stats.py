"""Statistical properties of the simulator: the truth it records really shows in the votes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pluralign.simulate import SimulationSettings, classify, load_bank, simulate_assembly
from pluralign.simulate.population import Population


@pytest.fixture(scope="module")
def sim():
    return simulate_assembly(
        SimulationSettings(participants=800, statements=60, seed=11, vote_rate=0.6)
    )


@pytest.fixture(scope="module")
def latest(sim):
    votes = sim.polis.latest_votes()
    votes = votes[votes["voter-id"] > 0].copy()
    votes["group"] = votes["voter-id"].map(
        dict(zip(sim.people["participant"], sim.people["group"], strict=True))
    )
    return votes


def _per_group(latest: pd.DataFrame, ids: list[int]) -> pd.DataFrame:
    chosen = latest[latest["comment-id"].isin(ids)]
    return (
        chosen.groupby(["comment-id", "group"])["vote"]
        .agg(
            n="size",
            agree=lambda v: (v == 1).mean(),
            disagree=lambda v: (v == -1).mean(),
            mean="mean",
        )
        .reset_index()
    )


def test_bank_size_topics_and_categories():
    bank = load_bank()
    opinions = bank.opinions
    assert len(opinions) >= 150
    topics = {s.topic for s in opinions}
    assert len(topics) >= 8
    assert {
        "privacy",
        "honesty",
        "refusals",
        "political-neutrality",
        "children",
        "medical-legal",
        "creativity",
        "autonomy",
    } <= topics
    categories = pd.Series([s.category for s in opinions]).value_counts()
    assert categories["consensus"] >= 20 and categories["divisive"] >= 20
    for s in bank.statements:
        assert np.allclose(s.profile.sum(axis=1), 1.0)


def test_classify_rule_by_hand():
    consensus = np.array([[0.7, 0.1, 0.2], [0.8, 0.05, 0.15]])
    divisive = np.array([[0.7, 0.1, 0.2], [0.1, 0.6, 0.3]])  # net +0.6 and -0.5
    against = np.array([[0.1, 0.7, 0.2], [0.05, 0.8, 0.15]])
    mixed = np.array([[0.5, 0.3, 0.2], [0.4, 0.3, 0.3]])
    assert classify(consensus) == "consensus"
    assert classify(divisive) == "divisive"
    assert classify(against) == "consensus-against"
    assert classify(mixed) == "mixed"
    # the edge of the rule: agree 0.65 passes, 0.64 does not
    assert classify(np.array([[0.65, 0.15, 0.2]] * 2)) == "consensus"
    assert classify(np.array([[0.64, 0.15, 0.21]] * 2)) == "mixed"


def test_consensus_statements_agreed_in_every_group(sim, latest):
    ids = sim.truth["consensus"]
    assert len(ids) >= 8
    stats = _per_group(latest, ids)
    # pooled over all consensus statements, every latent group agrees clearly
    pooled = latest[latest["comment-id"].isin(ids)].groupby("group")["vote"]
    assert (pooled.apply(lambda v: (v == 1).mean()) > 0.6).all()
    assert (pooled.apply(lambda v: (v == -1).mean()) < 0.15).all()
    # and each well-sampled statement is agreed by a majority of every group
    solid = stats[stats["n"] >= 40]
    assert len(solid) >= 4 * 6
    assert (solid["agree"] > 0.5).all(), solid[solid["agree"] <= 0.5]


def test_divisive_statements_split_groups(sim, latest):
    ids = sim.truth["divisive"]
    assert len(ids) >= 3
    stats = _per_group(latest, ids)
    solid = stats[stats["n"] >= 40]
    complete = solid.groupby("comment-id").size() == 4  # well sampled in every group
    solid = solid[solid["comment-id"].isin(complete[complete].index)]
    assert solid["comment-id"].nunique() >= 3
    by = solid.groupby("comment-id")["mean"]
    spread = by.max() - by.min()
    assert (spread > 0.4).all(), spread
    # some group on balance agrees and another disagrees (individuals mix groups, which pulls
    # the observed group means towards each other, hence margins below the rule's 0.40)
    assert (by.max() > 0.1).all() and (by.min() < -0.1).all()
    assert by.max().mean() > 0.3 and by.min().mean() < -0.3
    consensus = _per_group(latest, sim.truth["consensus"])
    c_spread = (
        consensus[consensus["n"] >= 40]
        .groupby("comment-id")["mean"]
        .agg(lambda m: m.max() - m.min())
    )
    assert spread.median() > 2 * c_spread.median()


def test_missingness_follows_vote_rate(sim):
    people = sim.people
    voted = sim.polis.participants.set_index("participant")["n-votes"]
    # own statements are voted at writing time; count only the votes on offered statements
    authored = sim.statements[sim.statements["author-id"] > 0].groupby("author-id").size()
    own = people["participant"].map(authored).fillna(0).to_numpy()
    rate = (voted.loc[people["participant"]].to_numpy() - own) / people["offered"].to_numpy()
    assert abs(rate.mean() - sim.config.vote_rate) < 0.04
    assert rate.std() > 0.1  # light and heavy voters
    matrix = sim.polis.vote_matrix().iloc[1:]
    missing = matrix.isna().to_numpy().mean()
    assert 0.2 < missing < 0.8  # each participant sees a subset
    # seed statements, up from the start, collect more votes than later participants' ones
    counts = sim.polis.latest_votes().groupby("comment-id").size()
    seed = sim.statements.set_index("comment-id")["is_seed"]
    assert counts[seed[seed].index].mean() > 2 * counts[seed[~seed].index].mean()


def test_passes_changes_and_authored_statements(sim):
    events = sim.votes
    latest = sim.polis.latest_votes()
    assert (latest["vote"] == 0).mean() > 0.05
    changed = len(events) - len(latest)
    assert 0.01 < changed / len(latest) < 0.06  # change_rate 0.03
    authored = sim.statements[~sim.statements["is_seed"]]
    assert len(authored) == 60 - round(60 * sim.config.seed_share)
    assert (authored["author-id"] > 0).all()
    assert (sim.statements.loc[sim.statements["topic"] == "off-topic", "moderated"] == -1).all()
    # moderators only show accepted statements to others: rejected ones only have author votes
    rejected = set(sim.statements.loc[sim.statements["moderated"] != 1, "comment-id"])
    on_rejected = events[events["comment-id"].isin(rejected)]
    authors = dict(zip(sim.statements["comment-id"], sim.statements["author-id"], strict=True))
    assert (on_rejected["voter-id"] == on_rejected["comment-id"].map(authors)).all()


def test_pool_self_selection_bias_direction():
    population = Population()
    sim = simulate_assembly(
        SimulationSettings(participants=3000, statements=10, seed=5, vote_rate=0.2)
    )
    pool = sim.pool
    share = lambda f, v: (pool[f] == v).mean()  # noqa: E731
    stated = population.shares
    assert share("education", "postgraduate") > 1.5 * stated["education"]["postgraduate"]
    assert share("education", "secondary") < 0.75 * stated["education"]["secondary"]
    assert share("age_band", "65+") < 0.7 * stated["age_band"]["65+"]
    assert share("age_band", "25-34") > 1.2 * stated["age_band"]["25-34"]
    # the expected pool shares the simulator documents are what it draws
    expected = population.pool_shares()
    for feature, values in expected.items():
        for value, p in values.items():
            assert abs(share(feature, value) - p) < 4 * np.sqrt(p * (1 - p) / len(pool)) + 1e-3
    # latent groups follow demographics: the pool leans to the groups of the young/educated
    pool_groups = sim.people["group"].value_counts(normalize=True)
    pop_groups = dict(zip(sim.group_ids, population.group_shares(), strict=True))
    assert pool_groups["tradition"] < pop_groups["tradition"]
    assert pool_groups["fairness"] > pop_groups["fairness"]


def test_group_shares_exact_sum_matches_sampling():
    population = Population()
    rng = np.random.default_rng(0)
    people = population.draw(20000, rng, volunteers=False)
    sampled = population.group_probabilities(people).mean(axis=0)
    assert np.allclose(sampled, population.group_shares(), atol=0.01)
    assert np.isclose(population.group_shares().sum(), 1.0)
