"""The simulator: a summarised graph recovers the known wisdom ordering."""

from __future__ import annotations

import pytest

from pluralign.moralgraph.simulate import ValuesSimulationSettings, load_bank, recovery, simulate
from pluralign.moralgraph.summary import summarize


def test_bank_is_well_formed():
    contexts, cards, truth = load_bank()
    assert len(contexts) >= 4 and len({c.id for c in cards}) == len(cards)
    assert all(len(order) >= 4 for order in truth.values())
    assert all(c.title and c.policies for c in cards)


def test_same_seed_same_votes():
    a = simulate(ValuesSimulationSettings(participants=30, seed=5))
    b = simulate(ValuesSimulationSettings(participants=30, seed=5))
    c = simulate(ValuesSimulationSettings(participants=30, seed=6))
    assert a.edges == b.edges and a.edges != c.edges
    assert len(a.edges) == 30 * 6 and len(a.articulations) == 30


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_graph_recovers_the_ordering(seed):
    sim = simulate(ValuesSimulationSettings(participants=200, noise=0.2, seed=seed))
    graph = summarize(sim.edges, sim.cards)
    result = recovery(graph, sim.truth)
    for r in result.values():
        assert r.winner_correct, r
        assert r.kendall_tau >= 0.8, r
        assert r.ranked == len(sim.truth[r.context])


def test_pure_noise_yields_no_confident_graph():
    sim = simulate(ValuesSimulationSettings(participants=200, noise=1.0, seed=0))
    graph = summarize(sim.edges, sim.cards)
    # random answers: likelihoods hover near 0 and entropy is high, so (almost) nothing passes
    assert len(graph.edges) <= 2


def test_config_validation():
    import dataclasses

    from pluralign.contract import Settings
    from pluralign.errors import InputError
    from pluralign.moralgraph.settings import MoralGraphSettings

    stage, engine = MoralGraphSettings(), ValuesSimulationSettings()  # one home of the defaults
    assert isinstance(engine, Settings) and isinstance(engine, MoralGraphSettings)
    assert (engine.participants, engine.votes_per_participant, engine.noise) == (
        stage.participants, stage.votes_per_participant, stage.noise)
    assert all(f.metadata["help"] for f in dataclasses.fields(engine))
    with pytest.raises(dataclasses.FrozenInstanceError):
        engine.seed = 1
    for kwargs, where in (({"noise": 1.5}, "field 'noise' of the values simulation settings: "
                           "must be <= 1, got 1.5"),
                          ({"participants": 0}, "field 'participants' of the values simulation "
                           "settings: must be >= 1, got 0"),
                          ({"forward": -0.1}, "field 'forward'"),
                          ({"votes_per_participant": 0}, "field 'votes_per_participant'")):
        with pytest.raises(InputError, match=where):
            ValuesSimulationSettings(**kwargs)
