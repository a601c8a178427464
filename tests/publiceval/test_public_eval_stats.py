"""Statistics of the public evaluation against hand-computed cases, plus invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.publiceval.stats import (
    Rating,
    agreement,
    cohens_kappa,
    judge_verdicts,
    people_verdicts,
    score,
    summarise,
)


def R(prompt, choice, who="1", clause="c1", group="g0"):  # noqa: N802
    return Rating(prompt, clause, who, group, choice)


def test_win_rate_counts_neither_as_half():
    rs = [R("p", "b", "1"), R("p", "b", "2"), R("p", "a", "3"), R("p", "neither", "4")]
    sc = score(rs, n_boot=200)
    assert (sc.n, sc.participants, sc.wins_a, sc.wins_b, sc.neither) == (4, 4, 1, 2, 1)
    assert sc.win_rate_b == pytest.approx((2 + 0.5) / 4)
    assert sc.ci_low <= sc.win_rate_b <= sc.ci_high


def test_unanimous_ratings_have_a_degenerate_interval_and_no_ratings_none():
    sc = score([R("p", "b", str(i)) for i in range(5)], n_boot=100)
    assert (sc.win_rate_b, sc.ci_low, sc.ci_high) == (1.0, 1.0, 1.0)
    empty = score([])
    assert empty.n == 0 and empty.win_rate_b is None and empty.ci_low is None


def test_bootstrap_resamples_participants_not_ratings():
    # one person rated B ten times, another A once: resampling people gives draws of 0, 10/11
    # or 1 only (the mixture), never e.g. 0.5 as resampling single ratings would
    rs = [R(f"p{i}", "b", "heavy") for i in range(10)] + [R("q", "a", "light")]
    sc = score(rs, n_boot=400, alpha=0.0)
    assert sc.win_rate_b == pytest.approx(10 / 11)
    assert sc.ci_low == pytest.approx(0.0) and sc.ci_high == pytest.approx(1.0)


def test_summarise_splits_by_clause_and_group():
    rs = [
        R("p", "b", "1", "c1", "g0"),
        R("p", "a", "2", "c1", "g1"),
        R("q", "b", "2", "c2", "g1"),
        R("q", "b", "3", "c2", ""),
    ]
    doc = summarise(rs, n_boot=50)
    assert doc["overall"]["win_rate_b"] == pytest.approx(3 / 4)
    assert doc["per_clause"]["c1"]["win_rate_b"] == pytest.approx(0.5)
    assert doc["per_clause"]["c2"]["win_rate_b"] == pytest.approx(1.0)
    assert set(doc["per_group"]) == {"g0", "g1", "(none)"}
    assert doc["per_group"]["g1"]["n"] == 2 and doc["per_group"]["g1"]["participants"] == 1


def test_group_interval_does_not_depend_on_other_groups():
    g0 = [R(f"p{i}", "ab"[i % 2], str(i), group="g0") for i in range(9)]
    g1 = [R("x", "b", "99", group="g1")]
    alone = summarise(g0, n_boot=300, seed=3)["per_group"]["g0"]
    with_other = summarise(g0 + g1, n_boot=300, seed=3)["per_group"]["g0"]
    assert alone == with_other


def test_unknown_choice_is_an_error():
    with pytest.raises(ValueError, match="unknown choices"):
        score([R("p", "B")])


def test_people_verdict_is_the_sign_of_b_minus_a():
    rs = [
        R("p", "b"),
        R("p", "b"),
        R("p", "a"),
        R("q", "a"),
        R("q", "neither"),
        R("r", "a"),
        R("r", "b"),
        R("s", "neither"),
    ]
    assert people_verdicts(rs) == {"p": "b", "q": "a", "r": "tie", "s": "tie"}


def test_cohens_kappa_by_hand():
    # 10 items: people a a a a b b b b tie tie, judge a a a b b b b tie tie a
    x = list("aaaabbbb") + ["tie", "tie"]
    y = list("aaabbbb") + ["tie", "tie", "a"]
    # p_o = (3 + 3 + 1) / 10 = 0.7; p_e = (4*4 + 4*4 + 2*2) / 100 = 0.36
    assert cohens_kappa(x, y) == pytest.approx((0.7 - 0.36) / (1 - 0.36))
    assert cohens_kappa(["a", "b"], ["a", "b"]) == pytest.approx(1.0)
    assert cohens_kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)
    assert cohens_kappa(["a", "a"], ["a", "a"]) is None  # p_e = 1: undefined
    assert cohens_kappa([], []) is None


def test_agreement_on_shared_prompts_only():
    people = {"p": "b", "q": "a", "r": "tie", "only-people": "b"}
    judge = judge_verdicts(
        [
            {"prompt": "p ", "verdict": "b"},
            {"prompt": "q", "verdict": "b"},
            {"prompt": "r", "verdict": "tie"},
            {"prompt": "only-judge", "verdict": "a"},
            {"prompt": "failed", "verdict": "failure"},
        ]
    )
    ag = agreement(people, judge)
    assert ag.n == 3 and ag.agree == pytest.approx(2 / 3)
    # people b a tie, judge b b tie: p_o = 2/3, p_e = (1*2 + 1*0 + 1*1)/9 = 1/3
    assert ag.kappa == pytest.approx((2 / 3 - 1 / 3) / (1 - 1 / 3))
    assert ag.confusion["a"]["b"] == 1 and ag.confusion["b"]["b"] == 1
    assert agreement({}, judge).agree is None


def test_judge_verdict_over_several_clauses_is_the_net_sign():
    items = [
        {"prompt": "p", "verdict": "b"},
        {"prompt": "p", "verdict": "b"},
        {"prompt": "p", "verdict": "a"},
        {"prompt": "q", "verdict": "a"},
        {"prompt": "q", "verdict": "b"},
    ]
    assert judge_verdicts(items) == {"p": "b", "q": "tie"}


labels = st.lists(st.sampled_from(["a", "b", "tie"]), min_size=1, max_size=30)


@given(labels, st.randoms(use_true_random=False))
@settings(max_examples=60, deadline=None)
def test_kappa_bounds_and_symmetry(x, rnd):
    y = [rnd.choice(["a", "b", "tie"]) for _ in x]
    k = cohens_kappa(x, y)
    if k is not None:
        assert -1.0 - 1e-9 <= k <= 1.0 + 1e-9
        assert k == pytest.approx(cohens_kappa(y, x))
    assert cohens_kappa(x, x) in (None, pytest.approx(1.0))


@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "neither"]), st.integers(0, 4)),
        min_size=1,
        max_size=25,
    )
)
@settings(max_examples=40, deadline=None)
def test_win_rate_and_interval_stay_in_unit_range(rows):
    sc = score([R("p", c, str(w)) for c, w in rows], n_boot=100)
    assert 0.0 <= sc.win_rate_b <= 1.0
    assert 0.0 <= sc.ci_low <= sc.ci_high <= 1.0
    by_hand = sum({"a": 0, "b": 1, "neither": 0.5}[c] for c, _ in rows) / len(rows)
    assert math.isclose(sc.win_rate_b, by_hand)
