"""Cross-group consensus: the rule by hand, the closest miss, and one definition shared by
``aggregate``, the constitution and the run's constitution stage (football-concussions)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic_votes import synthetic_votes

from pluralign.aggregate import AggregateSettings, aggregate, from_votes
from pluralign.aggregate.consensus import ConsensusRule, consensus_candidates, nearest_miss
from pluralign.aggregate.stats import group_aware_consensus
from pluralign.constitution import DraftSettings, candidates
from pluralign.errors import InputError


def test_rule_by_hand():
    # two groups, four statements: (agree, seen) per group
    agree = np.array([[8, 5, 9, 2], [7, 6, 3, 2]])
    seen = np.array([[10, 10, 10, 2], [10, 12, 10, 2]])
    gac = group_aware_consensus(agree, seen)
    # 0: 80 % and 70 % -> consensus; 1: 50 % in both groups, below 60 %; 2: 30 % in group 2;
    # 3: 100 % but only 2 votes per group
    assert list(consensus_candidates(agree, seen, gac, ConsensusRule())) == [0]
    assert list(consensus_candidates(agree, seen, gac, ConsensusRule(min_group_votes=2))) == [3, 0]
    half = ConsensusRule(min_group_agreement=0.5)  # at least half: 50 % is enough
    assert list(consensus_candidates(agree, seen, gac, half)) == [0, 1]
    assert len(consensus_candidates(agree, seen, gac, ConsensusRule(min_gac=0.9))) == 0
    with pytest.raises(InputError, match="min_group_agreement"):
        ConsensusRule(min_group_agreement=1.5)


def test_nearest_miss_names_the_threshold_and_the_value_that_would_pass():
    agree = np.array([[8, 5, 9], [7, 6, 3]])
    seen = np.array([[10, 10, 10], [10, 12, 10]])
    gac = group_aware_consensus(agree, seen)
    miss = nearest_miss(agree, seen, gac, np.array([11, 12, 13]), ConsensusRule(0.75))
    assert miss.statement == 11 and miss.lowest_group_agreement == pytest.approx(0.7)
    text = miss.message(lambda f: f"constitution.{f}")
    assert "statement, 11" in text and "constitution.min_group_agreement = 0.75" in text
    assert "set it to 0.700" in text and "min_group_votes" not in text
    # too few votes everywhere: the message names that threshold
    miss = nearest_miss(agree, seen, gac, np.array([11, 12, 13]), ConsensusRule(min_group_votes=20))
    assert "fewer than min_group_votes = 20" in miss.message()


@pytest.mark.parametrize("share", [0.3, 0.6, 0.8])
def test_aggregate_lists_the_constitutions_candidates(share):
    votes, _ = synthetic_votes(n_per_group=(25, 20, 15), n_consensus=6, noise=0.3, seed=4)
    rule = ConsensusRule(min_group_agreement=share)
    r = aggregate(from_votes(votes), seed=0, settings=AggregateSettings(consensus=rule))
    draft = DraftSettings(min_group_agreement=share, embedder="tfidf")
    ids = [int(r.matrix.statements[j]) for j in candidates(r, draft)]
    assert r.consensus == ids[: r.settings.top_consensus]
    assert r.summary()["settings"]["consensus"]["min_group_agreement"] == share


def test_defaults_are_one_definition():
    d, a = DraftSettings(), AggregateSettings()
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
    assert "constitution.min_group_agreement = 0.6" in text and "set it to 0.5" in text
    listed = json.loads((tmp_path / "a/run/aggregate/summary.json").read_text())["consensus"]
    assert listed == []

    run = _football_run(polis_dir, tmp_path / "b", min_group_agreement=0.5)
    listed = json.loads((run / "aggregate" / "summary.json").read_text())["consensus"]
    clauses = yaml.safe_load((run / "constitution" / "constitution.yaml").read_text())["clauses"]
    drafted = [e["id"] for c in clauses for e in c["statements"]]
    assert listed and set(listed) <= set(drafted)
