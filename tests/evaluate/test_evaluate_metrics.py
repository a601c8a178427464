"""Preference accuracy, group scores, worst-group gap and bootstrap intervals: hand-computed cases
and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.evaluate import (
    bootstrap_accuracy,
    evaluate_margins,
    pair_scores,
    paired_bootstrap,
    preference_accuracy,
    worst_group_gap,
)


def test_accuracy_hand_computed():
    # margins: +, -, 0 (tie = 0.5), +  → (1 + 0 + 0.5 + 1) / 4
    assert preference_accuracy([0.3, -1.0, 0.0, 2.0]) == pytest.approx(2.5 / 4)
    assert pair_scores([0.3, -1.0, 0.0]).tolist() == [1.0, 0.0, 0.5]


def test_weighted_accuracy_hand_computed():
    # weights 2, 1, 1: (2·1 + 1·0 + 1·0.5) / 4
    assert preference_accuracy([1.0, -1.0, 0.0], [2, 1, 1]) == pytest.approx(2.5 / 4)
    # a weight of 0 removes the pair
    assert preference_accuracy([1.0, -1.0], [1, 0]) == 1.0


def test_tie_tolerance():
    assert preference_accuracy([1e-9, -1e-9], tie_tolerance=1e-6) == 0.5
    assert preference_accuracy([1e-9, -1e-9]) == 0.5  # one right, one wrong


def test_untrained_policy_scores_one_half():
    assert preference_accuracy(np.zeros(7)) == 0.5


def test_bad_inputs():
    with pytest.raises(ValueError):
        preference_accuracy([np.nan])
    with pytest.raises(ValueError):
        preference_accuracy([1.0, 2.0], [1.0])
    with pytest.raises(ValueError):
        preference_accuracy([1.0], [-1.0])
    assert np.isnan(preference_accuracy([]))


def test_worst_group_gap_hand_computed():
    margins = [1, 1, -1, 1, -1, -1, 1]
    groups = ["a", "a", "a", "b", "b", "b", "c"]
    # a: 2/3, b: 1/3, c: 1 → gap 1 - 1/3, worst b, best c
    r = worst_group_gap(margins, groups, n_boot=200, seed=3)
    assert r.gap.estimate == pytest.approx(2 / 3)
    assert (r.worst_group, r.best_group) == ("b", "c")
    assert r.groups == ("a", "b", "c")
    assert worst_group_gap([1, -1], ["a", "a"]) is None  # one group only
    # min_group_size drops the singleton group c
    r2 = worst_group_gap(margins, groups, n_boot=50, min_group_size=2)
    assert r2.gap.estimate == pytest.approx(1 / 3) and r2.groups == ("a", "b")


def test_bootstrap_is_deterministic_by_seed():
    rng = np.random.default_rng(0)
    m = rng.normal(0.2, 1, 300)
    a = bootstrap_accuracy(m, n_boot=300, seed=7, key="x")
    b = bootstrap_accuracy(m, n_boot=300, seed=7, key="x")
    c = bootstrap_accuracy(m, n_boot=300, seed=8, key="x")
    assert a == b
    assert (a.low, a.high) != (c.low, c.high)
    assert a.estimate == c.estimate == preference_accuracy(m)


def test_paired_bootstrap_improvement():
    before = np.zeros(50)
    after = np.r_[np.ones(40), -np.ones(10)]
    r = paired_bootstrap(before, after, n_boot=400, seed=1)
    assert r.before.estimate == 0.5 and r.before.low == 0.5 and r.before.high == 0.5
    assert r.after.estimate == pytest.approx(0.8)
    assert r.improvement.estimate == pytest.approx(0.3)
    # paired resampling: the improvement's interval is the after interval shifted by 0.5
    assert r.improvement.low == pytest.approx(r.after.low - 0.5)
    assert r.improvement.high == pytest.approx(r.after.high - 0.5)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=1, max_size=60), st.integers(0, 2**31))
def test_interval_is_ordered_and_within_unit(margins, seed):
    r = bootstrap_accuracy(margins, n_boot=100, seed=seed)
    assert 0 <= r.low <= r.high <= 1
    assert 0 <= r.estimate <= 1


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-3, 3, allow_nan=False), min_size=2, max_size=40),
    st.lists(st.floats(0.1, 5), min_size=40, max_size=40),
)
def test_accuracy_is_invariant_to_weight_scale(margins, weights):
    w = np.asarray(weights[: len(margins)])
    assert preference_accuracy(margins, w) == pytest.approx(preference_accuracy(margins, 3 * w))


def test_bootstrap_coverage_is_near_nominal():
    """Percentile intervals of a Bernoulli(0.7) accuracy cover 0.7 about 95 % of the time."""
    rng = np.random.default_rng(123)
    trials, n, covered = 300, 120, 0
    for t in range(trials):
        margins = np.where(rng.random(n) < 0.7, 1.0, -1.0)
        r = bootstrap_accuracy(margins, n_boot=400, seed=t)
        covered += r.low <= 0.7 <= r.high
    assert 0.90 <= covered / trials <= 0.985


def _rows(groups, kinds, weights=None):
    weights = weights or [1.0] * len(groups)
    return [
        {
            "prompt": "p",
            "chosen": "c",
            "rejected": "r",
            "weight": w,
            "group": g,
            "provenance": {"kind": k, "demographics": {"gender": "f" if i % 2 else "m"}},
        }
        for i, (g, k, w) in enumerate(zip(groups, kinds, weights, strict=True))
    ]


def test_evaluate_margins_hand_computed():
    rows = _rows(
        ["a", "a", "b", "b", "a", "b"],
        ["consensus", "consensus", "consensus", "consensus", "divisive", "divisive"],
    )
    after = [1.0, 1.0, 1.0, -1.0, 1.0, -1.0]
    res = evaluate_margins(rows, np.zeros(6), after, n_boot=100, seed=0)
    assert [g.subset for g in res.overall] == ["all", "consensus", "divisive"]
    assert res.score("all", "all", "all").after.estimate == pytest.approx(4 / 6)
    assert res.score("consensus", "group", "a").after.estimate == 1.0
    assert res.score("consensus", "group", "b").after.estimate == 0.5
    assert res.score("divisive", "group", "a").after.estimate == 1.0
    assert res.score("divisive", "group", "b").after.estimate == 0.0
    assert res.score("divisive", "group", "b").before.estimate == 0.5
    assert res.score("consensus", "group", "b").improvement.estimate == 0.0
    # gender: odd rows f → rows 1, 3, 5: margins 1, -1, -1
    assert res.score("all", "demographic:gender", "f").after.estimate == pytest.approx(1 / 3)
    gap = next(g for g in res.gaps if (g.subset, g.grouping) == ("divisive", "group"))
    assert gap.after.gap.estimate == 1.0 and gap.after.worst_group == "b"
    assert gap.before.gap.estimate == 0.0


def test_held_out_parts_are_subsets_of_their_own():
    # consensus: rows 0-2 new wordings, row 3 an unseen statement; divisive: one part only
    rows = _rows(["a", "a", "b", "b", "a", "b"],
                 ["consensus"] * 4 + ["divisive"] * 2)
    for r, part in zip(rows, ["new-wording"] * 3 + ["unseen-statement"] + ["new-wording"] * 2,
                       strict=True):
        r["provenance"]["heldout_part"] = part
    after = [1.0, -1.0, 1.0, 1.0, -1.0, -1.0]
    res = evaluate_margins(rows, np.zeros(6), after, n_boot=50, seed=0)
    assert [g.subset for g in res.overall] == [
        "all", "consensus", "divisive", "new-wording", "unseen-statement",
        "consensus/new-wording", "consensus/unseen-statement"]
    assert res.score("new-wording", "all", "all").n == 5
    assert res.score("new-wording", "all", "all").after.estimate == pytest.approx(2 / 5)
    assert res.score("unseen-statement", "all", "all").after.estimate == 1.0
    assert res.score("consensus/new-wording", "all", "all").after.estimate == pytest.approx(2 / 3)
    assert res.score("consensus/new-wording", "group", "a").after.estimate == 0.5
    assert res.score("consensus/unseen-statement", "group", "b").n == 1
    # one part only: no part subsets
    plain = evaluate_margins(rows[4:], np.zeros(2), after[4:], n_boot=10, seed=0)
    assert [g.subset for g in plain.overall] == ["all", "divisive"]


def test_evaluate_margins_json_round_trip_and_nan_as_null():
    import json

    rows = _rows(["a", "b"], ["", ""])
    res = evaluate_margins(rows, [0, 0], [1, -1], n_boot=20)
    data = json.loads(res.to_json())
    assert data["format"] == "pluralign.evaluate/1"
    assert {g["group"] for g in data["groups"] if g["grouping"] == "group"} == {"a", "b"}
    # a single pair per group: the interval is degenerate but finite
    assert data["groups"][0]["after"]["low"] is not None
    empty = evaluate_margins(_rows(["a"], [""], [0.0]), [0], [1], n_boot=10)
    assert json.loads(empty.to_json())["overall"][0]["after"]["estimate"] is None


def test_evaluate_margins_length_mismatch():
    with pytest.raises(ValueError, match="rows"):
        evaluate_margins(_rows(["a"], [""]), [0, 0], [1, 1])


def test_cluster_bootstrap_hand_checks():
    rng = np.random.default_rng(5)
    m = rng.normal(0.3, 1, 40)
    plain = bootstrap_accuracy(m, n_boot=300, seed=2, key="k")
    # one cluster per row: the same resamples, the same interval
    singles = bootstrap_accuracy(
        m, n_boot=300, seed=2, key="k", clusters=[f"p{i:02d}" for i in range(40)]
    )
    assert singles == plain
    # every person's pair copied 5 times: clustered intervals equal those of the 40 originals,
    # while resampling the 200 copies as if independent gives a narrower (wrong) interval
    copies = np.repeat(m, 5)
    people = np.repeat([f"p{i:02d}" for i in range(40)], 5)
    clustered = bootstrap_accuracy(copies, n_boot=300, seed=2, key="k", clusters=people)
    assert clustered == plain
    naive = bootstrap_accuracy(copies, n_boot=300, seed=2, key="k")
    assert naive.high - naive.low < clustered.high - clustered.low


def test_evaluate_margins_clusters_by_participant():
    rows = [
        {"weight": 1.0, "group": "a", "provenance": {"participant": f"p{i // 3}"}}
        for i in range(30)
    ]
    after = np.where(np.arange(30) % 2 == 0, 1.0, -1.0)
    res = evaluate_margins(rows, np.zeros(30), after, n_boot=50, seed=0)
    assert res.settings["resampled"] == "clusters of provenance.participant"
    flat = evaluate_margins(rows, np.zeros(30), after, n_boot=50, seed=0, cluster=None)
    assert flat.settings["resampled"] == "pairs"
    assert (
        res.score("all", "all", "all").after.estimate
        == flat.score("all", "all", "all").after.estimate
    )
