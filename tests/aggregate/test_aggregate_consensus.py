"""Cross-group consensus: the rule by hand, the closest miss, and one definition shared by
``aggregate``, the constitution and the run's constitution stage (football-concussions)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from synthetic_votes import synthetic_votes

from pluralign.aggregate import AggregateSettings, aggregate, from_votes
from pluralign.aggregate.consensus import (
    ConsensusRule,
    consensus_candidates,
    nearest_miss,
    wilson_interval,
)
from pluralign.aggregate.stats import group_aware_consensus
from pluralign.constitution import ConstitutionSettings, candidates
from pluralign.errors import InputError

# the rule on point estimates, without halves (the rule before the interval bounds)
POINT = {"interval_z": 0.0, "min_subgroup_agreement": None}


def test_point_rule_by_hand():
    # two groups, four statements: (agree, seen) per group
    agree = np.array([[8, 5, 9, 2], [7, 6, 3, 2]])
    seen = np.array([[10, 10, 10, 2], [10, 12, 10, 2]])
    gac = group_aware_consensus(agree, seen)
    # 0: 80 % and 70 % -> consensus; 1: 50 % in both groups, below 60 %; 2: 30 % in group 2;
    # 3: 100 % but only 2 votes per group
    rule = ConsensusRule(0.6, **POINT)
    assert list(consensus_candidates(agree, seen, gac, rule)) == [0]
    rule2 = ConsensusRule(0.6, min_group_votes=2, **POINT)
    assert list(consensus_candidates(agree, seen, gac, rule2)) == [3, 0]
    half = ConsensusRule(min_group_agreement=0.5, **POINT)  # at least half: 50 % is enough
    assert list(consensus_candidates(agree, seen, gac, half)) == [0, 1]
    assert len(consensus_candidates(agree, seen, gac, ConsensusRule(min_gac=0.9, **POINT))) == 0
    with pytest.raises(InputError, match="min_group_agreement"):
        ConsensusRule(min_group_agreement=1.5)
    with pytest.raises(InputError, match="min_subgroup_agreement"):
        ConsensusRule(min_subgroup_agreement=-0.1)
    with pytest.raises(InputError, match="interval_z must be"):
        ConsensusRule(interval_z=-1)


def test_wilson_interval_by_hand():
    # (p + z²/2n ± z√(p(1−p)/n + z²/4n²)) / (1 + z²/n), worked by hand:
    # 5 of 5 at z = 1: (1.1 ± 0.1) / 1.2 = (0.8333, 1); 3 of 5: (0.7 ± √0.058) / 1.2
    # = (0.3826, 0.7840); 0 of 2: (0.25 ± 0.25) / 1.5 = (0, 0.3333); 12 of 30:
    # (0.41667 ± √0.0082778) / 1.03333 = (0.3152, 0.4913)
    low, high = wilson_interval([5, 3, 0, 12], [5, 5, 2, 30], 1.0)
    assert low == pytest.approx([0.83333, 0.38264, 0.0, 0.31520], abs=1e-4)
    assert high == pytest.approx([1.0, 0.78403, 0.33333, 0.49128], abs=1e-4)
    # the textbook 95 % case, 8 of 10: (0.490, 0.943)
    low, high = wilson_interval(8, 10, 1.96)
    assert (round(float(low), 3), round(float(high), 3)) == (0.49, 0.943)
    # nothing seen: nothing known; z = 0: the share itself
    assert [float(x) for x in wilson_interval(0, 0, 1.0)] == [0.0, 1.0]
    assert [float(x) for x in wilson_interval(3, 4, 0.0)] == [0.75, 0.75]


def test_bounds_and_halves_by_hand():
    # one group; statement 0: 5 of 5 agree (lower bound 0.83); 1: 3 of 5 (0.38 < 0.5);
    # 2: 18 of 20 overall but one half agrees 3 of 8: upper bound (0.4375 + √0.033203) / 1.125
    # = 0.5509 < 0.7, a veto; 3: 18 of 20, a half votes 0 of 1: upper bound (0.5 + 0.5) / 2
    # = 0.5 < 0.7, a veto; 4: like 3 with that half's one vote an agree (upper bound 1)
    agree = np.array([[5, 3, 18, 18, 19]])
    seen = np.array([[5, 5, 20, 20, 20]])
    gac = group_aware_consensus(agree, seen)
    halves = (np.array([[5, 3, 15, 18, 18], [0, 0, 3, 0, 1]]),
              np.array([[5, 5, 12, 19, 19], [0, 0, 8, 1, 1]]))
    rule = ConsensusRule(min_gac=0)
    assert list(consensus_candidates(agree, seen, gac, rule, halves)) == [4, 0]
    no_halves = ConsensusRule(min_gac=0, min_subgroup_agreement=None)
    assert sorted(consensus_candidates(agree, seen, gac, no_halves)) == [0, 2, 3, 4]
    with pytest.raises(ValueError, match="halves"):
        consensus_candidates(agree, seen, gac, rule)
    miss = nearest_miss(agree[:, 2:3], seen[:, 2:3], gac[2:3], np.array([7]), rule,
                        (halves[0][:, 2:3], halves[1][:, 2:3]))
    assert miss.lowest_half_agreement == pytest.approx(0.5509, abs=1e-4)
    assert "half of an opinion group rejects it" in miss.message()


@settings(max_examples=200, deadline=None)
@given(
    hst.lists(hst.tuples(hst.integers(0, 40), hst.integers(0, 40)), min_size=2, max_size=2),
    hst.lists(hst.tuples(hst.integers(0, 20), hst.integers(0, 20)), min_size=4, max_size=4),
    hst.integers(0, 3),
    hst.integers(1, 10),
)
def test_more_agreeing_votes_never_remove_a_statement(groups, halves, where, extra):
    """Adding ``extra`` agree votes from one half (and so its group) never turns a statement
    that is consensus into one that is not, under the default rule."""
    a = np.array([[min(k, n)] for k, n in groups], float)
    s = np.array([[n] for _, n in groups], float)
    ha = np.array([[min(k, n)] for k, n in halves], float)
    hs = np.array([[n] for _, n in halves], float)
    # the halves' counts are the groups' (group g = halves 2g, 2g + 1)
    a, s = ha.reshape(2, 2).sum(1, keepdims=True), hs.reshape(2, 2).sum(1, keepdims=True)
    rule = ConsensusRule(min_gac=0)
    before = len(consensus_candidates(a, s, group_aware_consensus(a, s), rule, (ha, hs)))
    ha2, hs2 = ha.copy(), hs.copy()
    ha2[where] += extra
    hs2[where] += extra
    a2 = ha2.reshape(2, 2).sum(1, keepdims=True)
    s2 = hs2.reshape(2, 2).sum(1, keepdims=True)
    after = len(consensus_candidates(a2, s2, group_aware_consensus(a2, s2), rule, (ha2, hs2)))
    assert after >= before


def test_nearest_miss_names_the_threshold_and_the_value_that_would_pass():
    agree = np.array([[8, 5, 9], [7, 6, 3]])
    seen = np.array([[10, 10, 10], [10, 12, 10]])
    gac = group_aware_consensus(agree, seen)
    miss = nearest_miss(agree, seen, gac, np.array([11, 12, 13]), ConsensusRule(0.75, **POINT))
    assert miss.statement == 11 and miss.lowest_group_agreement == pytest.approx(0.7)
    text = miss.message(lambda f: f"constitution.{f}")
    assert "statement, 11" in text and "constitution.min_group_agreement = 0.75" in text
    assert "set it to 0.700" in text and "min_group_votes" not in text
    # too few votes everywhere: the message names that threshold
    rule = ConsensusRule(min_group_votes=20, **POINT)
    miss = nearest_miss(agree, seen, gac, np.array([11, 12, 13]), rule)
    assert "fewer than min_group_votes = 20" in miss.message()


@pytest.mark.parametrize("share", [0.3, 0.6, 0.8])
def test_aggregate_lists_the_constitutions_candidates(share):
    votes, _ = synthetic_votes(n_per_group=(25, 20, 15), n_consensus=6, noise=0.3, seed=4)
    rule = ConsensusRule(min_group_agreement=share)
    r = aggregate(from_votes(votes), seed=0, settings=AggregateSettings(consensus=rule))
    draft = ConstitutionSettings(min_group_agreement=share, embedder="tfidf")
    ids = [int(r.matrix.statements[j]) for j in candidates(r, draft)]
    assert r.consensus == ids[: r.settings.top_consensus]
    assert r.summary()["settings"]["consensus"]["min_group_agreement"] == share


def test_defaults_are_one_definition():
    d, a = ConstitutionSettings(), AggregateSettings()
    assert d.rule == a.consensus == ConsensusRule()


def _football_run(polis_dir, tmp_path, **constitution):
    from pluralign.run.config import parse_pipeline_config
    from pluralign.run.pipeline import build_stages
    from pluralign.run.runner import run_stages

    cfg = parse_pipeline_config(
        {
            "inputs": {"polis": str(polis_dir / "football-concussions")},
            "run_dir": str(tmp_path / "run"),
            "constitution": {"embedder": "tfidf", **constitution},
        }
    )
    stages = [s for s in build_stages(cfg) if s.name in ("aggregate", "constitution")]
    run_stages(stages, cfg.run_dir, seed=0)
    return cfg.run_dir


def test_run_and_aggregate_agree_on_football(polis_dir, tmp_path):
    """football-concussions: ``aggregate`` listed consensus statements ([1, 8, 11]: a majority
    of each group) while ``pluralign run`` stopped with "the constitution has no clauses" (at
    least 60 % of each group): two definitions. Now one: by default no statement is consensus
    and the run says which threshold to change and how far the closest statement was; with the
    threshold lowered the run drafts exactly what aggregate lists."""
    import yaml

    with pytest.raises(InputError) as err:
        _football_run(polis_dir, tmp_path / "a")
    text = str(err.value)
    assert "no statement is cross-group consensus" in text
    # the interval rule: the closest statement's lowest group bound and a half's veto
    assert "constitution.min_group_agreement = 0.5" in text and "set it to 0.491" in text
    assert "constitution.min_subgroup_agreement = 0.7" in text
    listed = json.loads((tmp_path / "a/run/aggregate/summary.json").read_text())["consensus"]
    assert listed == []

    # the majority rule on point shares (no bounds, no halves) admits [1, 8, 11]
    run = _football_run(polis_dir, tmp_path / "b", min_group_agreement=0.5, interval_z=0,
                        min_subgroup_agreement=None)
    listed = json.loads((run / "aggregate" / "summary.json").read_text())["consensus"]
    clauses = yaml.safe_load((run / "constitution" / "constitution.yaml").read_text())["clauses"]
    drafted = [e["id"] for c in clauses for e in c["statements"]]
    assert listed and set(listed) <= set(drafted)
