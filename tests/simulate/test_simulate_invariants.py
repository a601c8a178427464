"""Invariants of any simulated assembly (hypothesis over small configs) and hand-computed
population arithmetic."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.simulate import Population, SimulationSettings, simulate_assembly


@settings(max_examples=12, deadline=None)
@given(
    participants=st.integers(1, 40),
    statements=st.integers(2, 40),
    seed=st.integers(0, 2**32 - 1),
    vote_rate=st.floats(0.05, 1.0),
    seed_share=st.floats(0.0, 1.0),
    change_rate=st.floats(0.0, 0.3),
)
def test_any_simulation_is_a_consistent_conversation(
    participants, statements, seed, vote_rate, seed_share, change_rate
):
    sim = simulate_assembly(
        SimulationSettings(
            participants=participants,
            statements=statements,
            seed=seed,
            vote_rate=vote_rate,
            seed_share=seed_share,
            change_rate=change_rate,
        )
    )
    votes, st_ = sim.votes, sim.statements
    assert len(sim.pool) == len(sim.people) == participants
    assert len(st_) == statements and st_["slug"].is_unique
    assert list(st_["comment-id"]) == list(range(statements))
    assert set(votes["vote"]) <= {-1, 0, 1}
    assert votes["voter-id"].between(1, participants).all()  # the moderator never votes
    assert votes["comment-id"].between(0, statements - 1).all()
    # people only vote on statements that exist, and (except authors) only on accepted ones
    created = st_.set_index("comment-id")["timestamp"]
    assert (votes["timestamp"].to_numpy() >= created.loc[votes["comment-id"]].to_numpy()).all()
    authors = st_.set_index("comment-id")["author-id"]
    hidden = st_.set_index("comment-id")["moderated"] != 1
    on_hidden = votes[hidden.loc[votes["comment-id"]].to_numpy()]
    assert (
        on_hidden["voter-id"].to_numpy() == authors.loc[on_hidden["comment-id"]].to_numpy()
    ).all()
    # every volunteer who arrived after the seeds cast at least one vote
    pv = sim.polis.participants.set_index("participant")
    assert (pv.loc[sim.people["participant"], "n-votes"] >= 1).all()
    assert pv.loc[0, "n-votes"] == 0
    assert np.allclose(sim.membership.sum(axis=1), 1.0)
    truth_groups = {p["group"] for p in sim.truth["participants"]}
    assert truth_groups <= set(sim.group_ids)


def test_pool_shares_by_hand():
    population = Population(
        shares={"x": {"a": 0.5, "b": 0.5}, "y": {"c": 0.2, "d": 0.8}},
        propensity={"x": {"a": 3.0, "b": 1.0}},  # y: no bias
        group_logits={
            "x": {"a": (0.0, np.log(3.0)), "b": (0.0, 0.0)},
            "y": {"c": (0.0, 0.0), "d": (0.0, 0.0)},
        },
        group_base=(0.0, 0.0),
    )
    pool = population.pool_shares()
    assert pool["x"] == {"a": 0.75, "b": 0.25}
    assert pool["y"] == {"c": 0.2, "d": 0.8}
    # P(group 1 | a) = 3/4, P(group 1 | b) = 1/2
    probs = population.group_probabilities(pd.DataFrame({"x": ["a", "b"], "y": ["c", "d"]}))
    assert np.allclose(probs, [[0.25, 0.75], [0.5, 0.5]])
    # population: 0.5·3/4 + 0.5·1/2 = 0.625; volunteers: 0.75·3/4 + 0.25·1/2 = 0.6875
    assert np.allclose(population.group_shares(), [0.375, 0.625])
    assert np.allclose(population.group_shares(volunteers=True), [0.3125, 0.6875])
