"""Order-combination rule and bootstrap win rates, on hand-computed cases."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.llm.judge import _to_model
from pluralign.llm.judge_stats import combine_orders, win_rate


@pytest.mark.parametrize(
    "first,second,expected",
    [
        ("a", "a", "a"),
        ("b", "b", "b"),
        ("a", "b", "tie"),
        ("b", "tie", "tie"),
        ("tie", "tie", "tie"),
        (None, "a", "failure"),
        ("b", None, "failure"),
    ],
)
def test_combine_orders(first, second, expected):
    assert combine_orders(first, second) == expected


def test_to_model_maps_positions_back():
    # A shown first: "1" is A. B shown first: "1" is B.
    assert _to_model("1", True) == "a" and _to_model("2", True) == "b"
    assert _to_model("1", False) == "b" and _to_model("2", False) == "a"
    assert _to_model("tie", False) == "tie" and _to_model(None, True) is None


def test_win_rate_hand_computed():
    # 2 B wins, 1 A win, 1 tie, 1 failure: (2 + 0.5) / 4 = 0.625
    r = win_rate(["b", "b", "a", "tie", "failure"], n_boot=500, seed=1)
    assert (r.n, r.wins_b, r.wins_a, r.ties, r.failures) == (4, 2, 1, 1, 1)
    assert r.win_rate_b == pytest.approx(0.625)
    assert 0.0 <= r.ci_low <= 0.625 <= r.ci_high <= 1.0


def test_win_rate_all_failures_and_degenerate():
    r = win_rate(["failure", "failure"])
    assert r.n == 0 and r.win_rate_b is None and r.failures == 2
    r = win_rate(["b"] * 7)
    assert r.win_rate_b == r.ci_low == r.ci_high == 1.0


def test_win_rate_rejects_unknown_verdicts():
    with pytest.raises(ValueError, match="unknown"):
        win_rate(["b", "maybe"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "tie", "failure"]), min_size=1, max_size=30),
    st.integers(0, 10),
)
def test_win_rate_interval_contains_estimate_and_is_seeded(vs, seed):
    r = win_rate(vs, n_boot=200, seed=seed)
    if r.n:
        assert r.ci_low <= r.win_rate_b + 1e-12 and r.win_rate_b <= r.ci_high + 1e-12
        assert r == win_rate(vs, n_boot=200, seed=seed)
        assert r.wins_a + r.wins_b + r.ties == r.n
