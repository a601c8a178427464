"""Statement routing (pluralign.web.routing): the priority weight and the separation against
hand-computed values, invariants of the weight, and the weighted draw's frequencies."""

from __future__ import annotations

import math

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
