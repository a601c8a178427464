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
    overall_shares,
    posterior_pass,
    statement_scores,
    taking_part,
    wilson_interval,
)
from pluralign.aggregate.stats import group_aware_consensus
from pluralign.constitution import ConstitutionSettings, candidates
from pluralign.errors import InputError

# the rule on point estimates, without halves (the rule before the interval bounds)
POINT = {"method": "interval", "interval_z": 0.0, "min_subgroup_agreement": None}
INTERVAL = {"method": "interval"}


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
    rule = ConsensusRule(min_gac=0, **INTERVAL)
    assert list(consensus_candidates(agree, seen, gac, rule, halves)) == [4, 0]
    no_halves = ConsensusRule(min_gac=0, min_subgroup_agreement=None, **INTERVAL)
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
    that is consensus into one that is not, under the interval rule."""
    a = np.array([[min(k, n)] for k, n in groups], float)
    s = np.array([[n] for _, n in groups], float)
    ha = np.array([[min(k, n)] for k, n in halves], float)
    hs = np.array([[n] for _, n in halves], float)
    # the halves' counts are the groups' (group g = halves 2g, 2g + 1)
    a, s = ha.reshape(2, 2).sum(1, keepdims=True), hs.reshape(2, 2).sum(1, keepdims=True)
    rule = ConsensusRule(min_gac=0, **INTERVAL)
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
    rule = ConsensusRule(min_group_agreement=share, **INTERVAL)
    r = aggregate(from_votes(votes), seed=0, settings=AggregateSettings(consensus=rule))
    draft = ConstitutionSettings(min_group_agreement=share, consensus_method="interval",
                          embedder="tfidf")
    ids = [int(r.matrix.statements[j]) for j in candidates(r, draft)]
    assert r.consensus == ids[: r.settings.top_consensus]
    assert r.summary()["settings"]["consensus"]["min_group_agreement"] == share


def test_a_rule_written_before_the_posterior_rule_reads_back_as_it_was():
    old = {"min_group_agreement": 0.5, "min_group_votes": 3, "min_gac": None, "interval_z": 1.0,
           "min_subgroup_agreement": 0.7}  # an aggregate summary.json of the interval release
    assert AggregateSettings(consensus=old).consensus.method == "interval"
    now = AggregateSettings().to_dict()["consensus"]
    assert AggregateSettings(consensus=now).consensus == ConsensusRule()
    # written by the posterior release before small groups stopped vetoing: every group took part
    posterior = {k: v for k, v in now.items() if k != "min_group_coverage"}
    assert AggregateSettings(consensus=posterior).consensus.min_group_coverage == 0.0
    assert AggregateSettings(consensus=old).consensus.min_group_coverage == 0.0
    # a hand-written rule (a few keys) takes today's default
    assert AggregateSettings(consensus={"min_posterior": 0.3}).consensus.min_group_coverage == 0.5


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
    # the posterior rule: the closest statement's probability and the value that admits it
    assert "below constitution.min_posterior = 0.25 (set it to" in text
    listed = json.loads((tmp_path / "a/run/aggregate/summary.json").read_text())["consensus"]
    assert listed == []

    # the majority rule on point shares (no bounds, no halves) admits [1, 8, 11]
    run = _football_run(polis_dir, tmp_path / "b", consensus_method="interval",
                        min_group_agreement=0.5, interval_z=0, min_subgroup_agreement=None)
    listed = json.loads((run / "aggregate" / "summary.json").read_text())["consensus"]
    clauses = yaml.safe_load((run / "constitution" / "constitution.yaml").read_text())["clauses"]
    drafted = [e["id"] for c in clauses for e in c["statements"]]
    assert listed and set(listed) <= set(drafted)


# the posterior rule (the default): P(agree share >= 0.65 and disagree share <= 0.15 | votes)
# under a Dirichlet prior worth 15 votes centred on the statement's overall shares


def _beta_tail(a: int, b: int, x: float = 0.65) -> float:
    """P(Beta(a, b) >= x) for integers a, b by the binomial identity
    I_x(a, b) = P(Binomial(a + b - 1, x) >= a): an independent hand computation."""
    from math import comb

    n = a + b - 1
    return sum(comb(n, k) * x**k * (1 - x) ** (n - k) for k in range(a))


def test_posterior_pass_by_hand():
    rule = ConsensusRule()
    # no disagree anywhere: the disagree share is 0, P = P(p_a >= 0.65). Overall 16 of 20 agree
    # (4 pass): prior (12, 0, 3); group 0 votes 9 agree 1 pass -> Beta(21, 4), group 1 7 and 3
    # -> Beta(19, 6)
    a, d, s = np.array([[9], [7]]), np.array([[0], [0]]), np.array([[10], [10]])
    p = posterior_pass(a, d, s, overall_shares(a, d, s), rule)[:, 0]
    assert p == pytest.approx([_beta_tail(21, 4, 0.65), _beta_tail(19, 6, 0.65)], abs=1e-6)
    assert p == pytest.approx([0.98674, 0.89559], abs=1e-4)
    # no pass anywhere: p_d = 1 - p_a, so P = P(p_a >= 0.85). Overall 32 agree, 8 disagree of
    # 40: prior (12, 3, 0); 18 and 2 -> Beta(30, 5), 14 and 6 -> Beta(26, 9)
    a, d, s = np.array([[18], [14]]), np.array([[2], [6]]), np.array([[20], [20]])
    p = posterior_pass(a, d, s, overall_shares(a, d, s), rule)[:, 0]
    assert p == pytest.approx([_beta_tail(30, 5, 0.85), _beta_tail(26, 9, 0.85)], abs=1e-6)
    assert p == pytest.approx([0.59238, 0.05866], abs=1e-4)
    # no votes in a row: the prior alone; no prior (prior_votes 0) and 3 agrees of 3: Beta(3, 0)
    # is sure of agreement
    flat = ConsensusRule(prior_votes=0)
    assert posterior_pass([[3]], [[0]], [[3]], ([1.0], [0.0]), flat)[0, 0] == pytest.approx(1.0)


def test_posterior_pass_matches_monte_carlo():
    """Agree, disagree and pass all present: the quadrature against 400,000 Dirichlet draws."""
    rule = ConsensusRule()
    rng = np.random.default_rng(0)
    cases = [(20, 2, 25, 0.7, 0.1), (5, 1, 8, 0.6, 0.15), (30, 10, 40, 0.75, 0.25),
             (50, 5, 60, 0.8, 0.05), (0, 0, 0, 0.7, 0.1)]
    for a, d, s, a0, d0 in cases:
        p = posterior_pass([[a]], [[d]], [[s]], ([a0], [d0]), rule)[0, 0]
        alpha = [15 * a0 + a, 15 * d0 + d, 15 * (1 - a0 - d0) + s - a - d]
        x = rng.dirichlet(alpha, 400_000)
        mc = ((x[:, 0] >= 0.65) & (x[:, 1] <= 0.15)).mean()
        assert p == pytest.approx(mc, abs=0.003), (a, d, s)


def test_posterior_rule_by_hand():
    """Two groups; their halves are 0-1 (group 0: half 1 empty) and 2-3 (group 1). The score is
    the probability that every group passes (the product), and the same over the halves."""
    t = _beta_tail
    # statement 0: 9 agree 1 pass and 7 agree 3 pass: 0.987 × 0.896 = 0.884; halves 9/1,
    #   4/1 and 3/2 agree/pass: Beta(21, 4), (16, 4), (15, 5): 0.789
    # statement 1: 18/2 and 14/6 agree/disagree: 0.592 × 0.059 = 0.035 < 0.25
    # statement 2: like 0 with group 1's agrees in half 2 (6/0; half 3 1 agree 3 pass):
    #   halves Beta(21, 4), (18, 3), (13, 6): 0.629
    # statement 3: 10/0 and 6 agree 4 pass: Beta(22, 3), (18, 7): 0.787; half 3 votes 4
    #   passes: halves Beta(22, 3), (18, 3), (12, 7): 0.444, passes at 0.25, not at 0.5
    # statement 4: 2 agree of 2 in group 0: fewer than 3 votes
    agree = np.array([[9, 18, 9, 10, 2], [7, 14, 7, 6, 6]])
    disagree = np.array([[0, 2, 0, 0, 0], [0, 6, 0, 0, 0]])
    seen = np.array([[10, 20, 10, 10, 2], [10, 20, 10, 10, 6]])
    halves = (np.array([[9, 18, 9, 10, 2], [0] * 5, [4, 7, 6, 6, 3], [3, 7, 1, 0, 3]]),
              np.array([[0, 2, 0, 0, 0], [0] * 5, [0, 3, 0, 0, 0], [0, 3, 0, 0, 0]]),
              np.array([[10, 20, 10, 10, 2], [0] * 5, [5, 10, 6, 6, 3], [5, 10, 4, 4, 3]]))
    gac = group_aware_consensus(agree, seen)
    rule = ConsensusRule()
    scores, half_scores = statement_scores(agree, seen, rule, halves, disagree)
    assert scores[:4] == pytest.approx([
        t(21, 4) * t(19, 6), t(30, 5, 0.85) * t(26, 9, 0.85), t(21, 4) * t(19, 6),
        t(22, 3) * t(18, 7)], abs=1e-6)
    assert half_scores[:4] == pytest.approx([
        t(21, 4) * t(16, 4) * t(15, 5), t(30, 5, 0.85) * t(19, 6, 0.85) ** 2,
        t(21, 4) * t(18, 3) * t(13, 6), t(22, 3) * t(18, 3) * t(12, 7)], abs=1e-6)
    assert scores[1] == pytest.approx(0.03475, abs=1e-4)
    assert half_scores[3] == pytest.approx(0.44408, abs=1e-4)
    got = consensus_candidates(agree, seen, gac, rule, halves, disagree)
    assert sorted(got) == [0, 2, 3]
    assert list(gac[got]) == sorted(gac[got], reverse=True)  # by decreasing GAC
    strict = ConsensusRule(min_posterior=0.5)
    assert sorted(consensus_candidates(agree, seen, gac, strict, halves, disagree)) == [0, 2]
    # without halves the veto is gone
    no_halves = ConsensusRule(min_posterior=0.5, check_halves=False)
    assert sorted(consensus_candidates(agree, seen, gac, no_halves, None, disagree)) == [0, 2, 3]
    with pytest.raises(ValueError, match="disagree"):
        consensus_candidates(agree, seen, gac, rule, halves)
    with pytest.raises(ValueError, match="halves"):
        consensus_candidates(agree, seen, gac, rule, None, disagree)
    miss = nearest_miss(agree[:, 1:2], seen[:, 1:2], gac[1:2], np.array([7]), rule,
                        tuple(h[:, 1:2] for h in halves), disagree[:, 1:2])
    assert miss.lowest_group_agreement == pytest.approx(scores[1], abs=1e-9)
    text = miss.message(lambda f: f"--{f.replace('_', '-')}")
    assert "statement, 7" in text and "is 3.5% in every opinion group" in text
    assert f"{miss.lowest_half_agreement:.1%} in every half of them" in text
    assert "below --min-posterior = 0.25 (set it to 0.0" in text
    with pytest.raises(InputError, match="unknown consensus method"):
        ConsensusRule(method="vote")
    with pytest.raises(InputError, match="min_posterior"):
        ConsensusRule(min_posterior=2)


def _counts(draw):
    """(agree, disagree, seen) of two groups × two halves from drawn (agree, disagree, pass)."""
    h = np.array(draw, float).reshape(4, 3, 1)  # half, (a, d, p), statement
    ha, hd = h[:, 0], h[:, 1]
    hs = h.sum(1)
    g = lambda x: x.reshape(2, 2, 1).sum(1)  # noqa: E731
    return (ha, hd, hs), (g(ha), g(hd), g(hs))


@settings(max_examples=300, deadline=None)
@given(
    hst.lists(hst.integers(0, 25), min_size=12, max_size=12),
    hst.integers(0, 3),
    hst.integers(1, 10),
    hst.sampled_from([0.0, 5.0, 15.0, 40.0]),
)
def test_posterior_more_agreeing_votes_never_remove_a_statement(draw, where, extra, prior):
    """Adding ``extra`` agree votes in one half (and so its group, and the overall shares the
    prior is centred on) never turns consensus into not consensus under the posterior rule, and
    never lowers any group's or half's posterior probability."""
    rule = ConsensusRule(min_gac=0, prior_votes=prior)
    (ha, hd, hs), (a, d, s) = _counts(draw)
    before_scores = posterior_pass(a, d, s, overall_shares(a, d, s), rule)
    before_halves = posterior_pass(ha, hd, hs, overall_shares(a, d, s), rule)
    before = len(consensus_candidates(a, s, group_aware_consensus(a, s), rule, (ha, hd, hs), d))
    more = np.array(draw).reshape(4, 3)
    more[where, 0] += extra
    (ha, hd, hs), (a, d, s) = _counts(more.ravel())
    after_scores = posterior_pass(a, d, s, overall_shares(a, d, s), rule)
    after_halves = posterior_pass(ha, hd, hs, overall_shares(a, d, s), rule)
    after = len(consensus_candidates(a, s, group_aware_consensus(a, s), rule, (ha, hd, hs), d))
    assert after >= before
    assert (after_scores >= before_scores - 1e-9).all()
    assert (after_halves >= before_halves - 1e-9).all()


# small groups do not veto (min_group_coverage): a group that cast min_group_votes votes on less
# than half the share of statements the best-covered group did takes no part


def test_a_one_person_group_does_not_veto_by_hand():
    """Statement 0 of test_posterior_rule_by_hand (two groups voting 9 agree 1 pass and 7 agree
    3 pass: 0.987 × 0.896 = 0.884; halves 0.789), and beside them a group of one person, who did
    not vote on statement 0 and disagreed with statement 1.

    The two groups cast ≥ 3 votes on every statement (coverage 1), the one person on none
    (coverage 0 < 0.5 × 1), so that group takes no part: not in the vote count, not in the
    product, not in the centre of the prior (so the two groups' probabilities are the
    hand-computed ones), and the GAC threshold is 0.5² over the two groups that take part (GAC
    (10/12)(8/12) = 0.556). Before (min_group_coverage 0) it needs 3 votes on each statement and
    blocks both."""
    t = _beta_tail
    agree = np.array([[9, 9], [7, 7], [0, 0]])
    disagree = np.array([[0, 0], [0, 0], [0, 1]])
    seen = np.array([[10, 10], [10, 10], [0, 1]])
    halves = (np.array([[9, 9], [0, 0], [4, 4], [3, 3], [0, 0], [0, 0]]),
              np.array([[0, 0], [0, 0], [0, 0], [0, 0], [0, 1], [0, 0]]),
              np.array([[10, 10], [0, 0], [5, 5], [5, 5], [0, 1], [0, 0]]))
    gac = group_aware_consensus(agree, seen)
    rule = ConsensusRule()
    assert rule.min_group_coverage == 0.5
    assert list(taking_part(seen, rule)[0]) == [True, True, False]
    scores, half_scores = statement_scores(agree, seen, rule, halves, disagree)
    assert scores == pytest.approx([t(21, 4) * t(19, 6)] * 2, abs=1e-6)
    assert scores[0] == pytest.approx(0.884, abs=1e-3)
    assert half_scores == pytest.approx([t(21, 4) * t(16, 4) * t(15, 5)] * 2, abs=1e-6)
    assert sorted(consensus_candidates(agree, seen, gac, rule, halves, disagree)) == [0, 1]
    before = ConsensusRule(min_group_coverage=0)
    assert len(consensus_candidates(agree, seen, gac, before, halves, disagree)) == 0
    miss = nearest_miss(agree, seen, gac, np.array([5, 6]), before, halves, disagree)
    assert miss.fewest_group_votes == 0 and "a group cast 0 votes" in miss.message()
    # a group with 3 votes on one statement of two (coverage 0.5) takes part, and blocks the
    # statement it did not vote on enough
    three = np.array([[10, 10], [10, 10], [3, 1]])
    assert list(taking_part(three, rule)[0]) == [True, True, True]
    # when no group covers any statement every group takes part, as before
    assert taking_part(np.array([[2, 1], [0, 2]]), rule)[0].all()
    with pytest.raises(InputError, match="min_group_coverage"):
        ConsensusRule(min_group_coverage=1.5)


@settings(max_examples=200, deadline=None)
@given(
    hst.lists(hst.integers(0, 25), min_size=36, max_size=36),
    hst.lists(hst.sampled_from([None, 1, -1, 0]), min_size=3, max_size=3),
    hst.sampled_from([0.0, 15.0, 40.0]),
    hst.booleans(),
    hst.sampled_from(["posterior", "interval"]),
)
def test_adding_a_one_person_group_never_removes_consensus(draw, votes, prior, halves, method):
    """Two groups (two halves each; three statements) and then a one-person group added, voting
    anything or nothing on each statement: whenever some statement was consensus, the same
    statements still are, so a single person never removes all consensus."""
    rule = ConsensusRule(prior_votes=prior, check_halves=halves, method=method)
    h = np.array(draw, float).reshape(4, 3, 3)  # half, (a, d, p), statement
    ha, hd, hs = h[:, 0], h[:, 1], h.sum(1)
    a, d, s = (x.reshape(2, 2, 3).sum(1) for x in (ha, hd, hs))
    before = consensus_candidates(a, s, group_aware_consensus(a, s), rule, (ha, hd, hs), d)
    one = np.array([[v == 1 for v in votes], [v == -1 for v in votes],
                    [v is not None for v in votes]], float)  # the person's agree, disagree, seen
    a2, d2, s2 = (np.vstack([x, one[i]]) for i, x in enumerate((a, d, s)))
    ha2, hd2, hs2 = (np.vstack([x, one[i], np.zeros(3)]) for i, x in enumerate((ha, hd, hs)))
    after = consensus_candidates(a2, s2, group_aware_consensus(a2, s2), rule, (ha2, hd2, hs2),
                                 d2)
    if len(before):
        assert sorted(after) == sorted(before)
