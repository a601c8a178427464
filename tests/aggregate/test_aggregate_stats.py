"""Polis statistics (hand-computed) and invariants of GAC and repness."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from pluralign.aggregate.stats import (
    group_aware_consensus,
    group_stats,
    polis_consensus,
    prop_test,
    representative_statements,
    two_prop_test,
)


def test_prop_test_by_hand():
    # 3 of 4: 2 * sqrt(5) * (4/5 - 1/2)
    assert math.isclose(float(prop_test(3, 4)), 2 * math.sqrt(5) * 0.3)
    assert math.isclose(float(prop_test(0, 0)), 1.0)  # (1/1 - 1/2) * 2 * sqrt(1)


def test_two_prop_test_by_hand():
    # in: 8 of 10, out: 2 of 10 -> s'=(9,3), n'=(11,11)
    p1, p2, ph = 9 / 11, 3 / 11, 12 / 22
    expected = (p1 - p2) / math.sqrt(ph * (1 - ph) * (2 / 11))
    assert math.isclose(float(two_prop_test(8, 2, 10, 10)), expected)
    assert float(two_prop_test(4, 4, 4, 4)) == 0.0  # p-hat == 1 -> 0 by Polis's convention


def test_gac_by_hand():
    agree = np.array([[8, 0], [3, 2]])
    seen = np.array([[10, 4], [4, 2]])
    np.testing.assert_allclose(
        group_aware_consensus(agree, seen), [(9 / 12) * (4 / 6), (1 / 6) * (3 / 4)]
    )


def test_group_stats_pool_the_other_groups():
    agree = np.array([[8], [1], [1]])
    disagree = np.array([[1], [5], [4]])
    seen = np.array([[10], [7], [6]])
    s = group_stats(agree, disagree, seen)
    assert math.isclose(s.pa[0, 0], 9 / 12)
    assert math.isclose(s.ra[0, 0], (9 / 12) / (3 / 15))
    assert math.isclose(s.rdt[1, 0], float(two_prop_test(5, 5, 7, 16)))


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), min_size=1, max_size=5))
def test_gac_in_unit_interval_and_monotone(groups):
    agree = np.array([[min(a, s)] for a, s in groups])
    seen = np.array([[s] for _, s in groups])
    gac = group_aware_consensus(agree, seen)[0]
    assert 0 < gac < 1
    more = agree.copy()
    if more[0, 0] < seen[0, 0]:
        more[0, 0] += 1
        assert group_aware_consensus(more, seen)[0] > gac


def test_representative_statements_pick_the_group_side():
    # statement 0: group 0 agrees, group 1 disagrees; statement 1: everyone agrees
    agree = np.array([[40, 38], [2, 35]])
    disagree = np.array([[2, 1], [36, 2]])
    seen = np.array([[44, 40], [40, 40]])
    reps = representative_statements(group_stats(agree, disagree, seen), np.array([7, 9]))
    first = {g: [(r.statement, r.repful_for) for r in reps[g]] for g in reps}
    assert (7, "agree") in first[0]
    assert (7, "disagree") in first[1]
    assert all(r.statement != 9 or r.best_agree for g in reps for r in reps[g])
    assert len(reps[0]) <= 5


def test_polis_consensus_requires_majority_and_significance():
    agree = np.array([30, 3, 12])
    disagree = np.array([2, 30, 10])
    seen = np.array([35, 35, 25])
    out = polis_consensus(agree, disagree, seen, np.array([1, 2, 3]))
    assert out == {"agree": [1], "disagree": [2]}
