"""Statement routing (pluralign.web.routing): the priority weight and the separation against
hand-computed values, invariants of the weight, and the weighted draw's frequencies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pluralign.web import routing
from pluralign.web.routing import Candidate, choose, priority, separation


def test_priority_by_hand():
    # a new statement: p = 1/2, importance = (1 - 1/2) * 1^2 = 0.5, novelty 1 + 8 = 9
    assert priority(0, 0, 0) == pytest.approx((0.5 * 9) ** 2)
    # 8 agree, 1 disagree, 1 pass, separation 0.5: S = 10, p = 2/12,
    # importance = 10/12 * 1.5^2 = 1.875, novelty = 1 + 8 * 2^-2 = 3
    assert priority(8, 1, 1, 0.5) == pytest.approx((1.875 * 3) ** 2)
    # long after: the novelty factor tends to 1; agree or disagree weigh the same
    assert priority(500, 0, 0) == pytest.approx((501 / 502) ** 2, rel=1e-6)
    assert priority(0, 500, 0, 1.0) == pytest.approx((4 * 501 / 502) ** 2, rel=1e-6)


counts = st.integers(min_value=0, max_value=400)


@given(counts, counts, counts, st.floats(min_value=0, max_value=2))
def test_priority_shows_fewer_passed_and_more_separating_statements(a, d, p, e):
    w = priority(a, d, p, e)
    assert w > 0 and math.isfinite(w)
    assert priority(a, d, p, e + 0.25) > w  # telling groups apart raises the weight
    # one more pass instead of one more agree lowers it (same number of votes)
    assert priority(a, d, p + 1, e) < priority(a + 1, d, p, e)
    assert priority(a, d, p, e) == pytest.approx(priority(d, a, p, e))  # no side is favoured


def test_novelty_decays_with_votes():
    weights = [priority(n, 0, 0) / ((n + 1) / (n + 2)) ** 2 for n in (0, 5, 10, 20, 40)]
    assert weights == sorted(weights, reverse=True)
    assert weights[0] / weights[-1] == pytest.approx((9 / (1 + 8 * 2**-8)) ** 2)


def test_separation_by_hand():
    # group means (A - D) / (S + 2): 5/7 and -5/7 -> 10/7
    assert separation([5, 0], [0, 5], [5, 5]) == pytest.approx(10 / 7)
    assert separation([3, 3, 0], [0, 0, 0], [3, 3, 1]) == pytest.approx(3 / 5)
    assert separation([4], [0], [4]) == 0.0  # one group tells nothing apart
    assert separation([0, 0], [0, 0], [0, 0]) == 0.0
    sep = routing.group_separations([7, 9], [[5, 2], [0, 2]], [[0, 0], [5, 0]], [[5, 2], [5, 2]])
    assert sep == {7: pytest.approx(10 / 7), 9: pytest.approx(0.0)}


def test_the_draw_is_proportional_to_the_weights():
    # Efraimidis-Spirakis: P(i) = w_i / sum(w); one statement passed by everyone so far
    heavy, light = Candidate(1, agree=6, disagree=4), Candidate(2, passes=10)
    w1, w2 = priority(6, 4, 0), priority(0, 0, 10)
    wins = sum(choose([heavy, light], participant=k, round_=0).key == 1 for k in range(4000))
    assert wins / 4000 == pytest.approx(w1 / (w1 + w2), abs=0.02)
    # equal weights: random and priority alike pick each about equally often
    same = [Candidate(k) for k in range(4)]
    for policy in routing.POLICIES:
        picks = [choose(same, k, 3, policy=policy).key for k in range(4000)]
        assert all(abs(picks.count(k) / 4000 - 0.25) < 0.03 for k in range(4))


def test_choose_is_deterministic_and_honours_seed_first():
    pool = [Candidate(1, agree=3), Candidate(2, is_seed=True), Candidate(3)]
    assert choose(pool, "p", 0) == choose(list(reversed(pool)), "p", 0)
    assert choose(pool, "p", 0, seed_first=True).key == 2
    assert choose([Candidate(1), Candidate(3)], "p", 0, seed_first=True) is not None
    assert choose([], "p", 0) is None
    with pytest.raises(ValueError, match="unknown routing policy"):
        choose(pool, "p", 0, policy="fewest")


def test_consensus_uncertainty_by_hand():
    # group 1: A=6 of S=8 -> mu = 7/10, sigma^2 = 0.21/11, Phi((0.7-0.6)/sigma) = 0.76539;
    # group 2: A=3 of 8 -> mu = 4/10, sigma^2 = 0.24/11, Phi(-0.2/sigma) = 0.08787;
    # P = 0.067253, 4 P (1 - P) = 0.25092
    assert routing.consensus_uncertainty([6, 3], [8, 8]) == pytest.approx(0.25092, abs=1e-4)
    assert routing.consensus_uncertainty([6], [8]) == 0.0  # one group: no consensus question
    settled = routing.consensus_uncertainty([400, 400], [400, 400])
    rejected = routing.consensus_uncertainty([0, 400], [400, 400])
    assert settled < 1e-6 and rejected < 1e-6
    # one group certain, the other exactly at the threshold (mu = 0.6): a coin flip
    assert routing.consensus_uncertainty([5000, 5], [5000, 8]) == pytest.approx(1.0, abs=1e-3)
    unc = routing.group_uncertainties([4, 5], [[6, 400], [3, 400]], [[8, 400], [8, 400]])
    assert unc[4] == pytest.approx(0.25092, abs=1e-4) and unc[5] < 1e-6
    # the weight adds it to the separation; a caller that does not weigh it passes 0
    assert priority(3, 2, 1, 0.5, 0.25) == pytest.approx(priority(3, 2, 1, 0.75))
    # a custom weight gets the candidate itself (the benchmark's peers)
    pool = [Candidate(1), Candidate(2, uncertainty=1.0)]
    picks = [choose(pool, k, 0, weight=lambda c: 1e6 if c.uncertainty else 1e-6) for k in range(50)]
    assert {c.key for c in picks} == {2}


# ---------------------------------------------------------------- the gain policy

from hypothesis import settings  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from pluralign.web.routing import GroupModel, gain_weight  # noqa: E402


def _split_model():
    # two groups of equal size, two statements: group 0 agreed 8 of 8, group 1 disagreed 8 of 8
    # on both; theta_0 = (9, 1, 1)/11, theta_1 = (1, 9, 1)/11 (agree, disagree, pass)
    return GroupModel([10, 20], [[8, 8], [0, 0]], [[0, 0], [8, 8]], [[8, 8], [8, 8]])


def test_group_model_by_hand():
    model = _split_model()
    assert model.theta[0, 0] == pytest.approx([9 / 11, 1 / 11, 1 / 11])
    assert model.theta[1, 1] == pytest.approx([1 / 11, 9 / 11, 1 / 11])
    # no votes yet: posterior (1/2, 1/2), predictive q = (5, 5, 1)/11;
    # I(G; V) = H(q) - H(V | G) = -(10/11) ln(5/11) + (9/11) ln(9/11) + (1/11) ln(1/11)
    #         = 0.334604 nats, / ln 2 = 0.482731
    assert model.posterior({}) == pytest.approx([0.5, 0.5])
    assert model.gains({}) == pytest.approx([0.482731, 0.482731], abs=1e-6)
    # after an agree on statement 10: posterior (9, 1)/10; q = (8.2, 1.8, 1)/11 on statement
    # 20: H(q) = 0.733176, H(V | G) = 0.600166 nats -> 0.133010 / ln 2 = 0.191892
    assert model.posterior({10: 1}) == pytest.approx([0.9, 0.1])
    assert model.gains({10: 1})[1] == pytest.approx(0.191892, abs=1e-6)
    # a pass is equally likely in both groups: it tells nothing
    assert model.posterior({10: 0}) == pytest.approx([0.5, 0.5])
    # statements the model does not know (proposed since the last aggregation) are skipped
    assert model.posterior({99: 1}) == pytest.approx([0.5, 0.5])
    # group sizes are the prior: (3 + 1)/(4 + 2), (1 + 1)/(4 + 2)
    sized = GroupModel([10], [[8], [0]], [[0], [8]], [[8], [8]], sizes=[3, 1])
    assert sized.posterior({}) == pytest.approx([4 / 6, 2 / 6])
    # one group: nothing to tell apart, no consensus question
    one = GroupModel([10], [[8]], [[0]], [[8]])
    assert one.gains({}) == pytest.approx([0.0]) and one.uncertainty == pytest.approx([0.0])


def test_group_model_uncertainty_is_the_consensus_uncertainty():
    model = GroupModel([4, 5], [[6, 400], [3, 400]], [[1, 0], [4, 0]], [[8, 400], [8, 400]])
    assert model.uncertainty[0] == pytest.approx(routing.consensus_uncertainty([6, 3], [8, 8]))
    assert model.uncertainty[1] < 1e-6


def test_gain_weight_by_hand():
    # a new statement: p = 1/2, novelty 9, gain 0.4, uncertainty 0.25:
    # (0.5 * 9 * (0.05 + 0.4 + 0.25))^2 = 3.15^2
    assert gain_weight(0, 0, 0, 0.4, 0.25) == pytest.approx(3.15**2)
    # 8 agree, 1 disagree, 1 pass: p = 2/12, novelty 3; nothing left to learn: the floor
    assert gain_weight(8, 1, 1, 0.0, 0.0) == pytest.approx((10 / 12 * 3 * 0.05) ** 2)


def test_gain_policy_prefers_what_places_this_participant():
    # statement 1 splits the groups, statement 2 does not (both groups agree): a new
    # participant mostly sees 1; the candidates carry the model's gains
    model = GroupModel([1, 2], [[8, 8], [0, 8]], [[0, 0], [8, 0]], [[8, 8], [8, 8]])
    gains = model.gains({})
    assert gains[0] > 0.4 and gains[1] < 1e-9
    pool = [
        Candidate(k, 8, 8, 0, gain=float(g), uncertainty=float(u))
        for k, g, u in zip((1, 2), gains, model.uncertainty, strict=True)
    ]
    picks = [choose(pool, k, 0, policy=routing.GAIN).key for k in range(2000)]
    w1, w2 = (
        gain_weight(8, 8, 0, float(g), float(u))
        for g, u in zip(gains, model.uncertainty, strict=True)
    )
    assert picks.count(1) / 2000 == pytest.approx(w1 / (w1 + w2), abs=0.03)
    assert picks.count(2) > 0  # never starved


group_counts = hnp.arrays(
    dtype=np.int64,
    shape=st.tuples(st.integers(2, 4), st.integers(1, 6)),
    elements=st.integers(0, 30),
)


@settings(max_examples=60, deadline=None)
@given(group_counts, group_counts, st.data())
def test_group_model_invariants(agree, disagree, data):
    g = min(agree.shape[0], disagree.shape[0])
    m = min(agree.shape[1], disagree.shape[1])
    agree, disagree = agree[:g, :m], disagree[:g, :m]
    passes = data.draw(hnp.arrays(np.int64, (g, m), elements=st.integers(0, 30)))
    model = GroupModel(range(m), agree, disagree, agree + disagree + passes)
    votes = data.draw(st.dictionaries(st.integers(0, m - 1), st.sampled_from([1, -1, 0])))
    post = model.posterior(votes)
    assert post.sum() == pytest.approx(1.0) and (post >= 0).all()
    gains = model.gains(votes)
    assert ((gains >= 0) & (gains <= 1 + 1e-9)).all()
    # a statement every group votes on alike tells nothing about the group
    same = GroupModel(range(2), [[5, 1]] * g, [[2, 1]] * g, [[9, 3]] * g)
    assert same.gains(votes if all(k < 2 for k in votes) else {}) == pytest.approx([0, 0], abs=1e-9)
    w = [
        gain_weight(int(a), int(d), int(p), float(x), float(u))
        for a, d, p, x, u in zip(
            agree[0], disagree[0], passes[0], gains, model.uncertainty, strict=True
        )
    ]
    assert all(v > 0 and math.isfinite(v) for v in w)
