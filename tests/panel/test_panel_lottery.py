"""The transparent uniform lottery: hand cases, its bound, tickets that meet quotas and households,
determinism, the public draw and the errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panel_helpers import household_instance, meets, random_instance

from pluralign.errors import InputError
from pluralign.panel import (
    Quota,
    Quotas,
    read_lottery,
    select_panel,
    ticket_from_seed,
    tickets_needed,
    uniform_lottery,
)

instances = st.tuples(
    st.integers(0, 10_000),  # seed of the instance
    st.integers(6, 12),  # n
    st.integers(2, 4),  # k
    st.integers(1, 3),  # features
    st.integers(2, 3),  # values per feature
    st.integers(0, 1),  # slack
)


def test_hand_case_rounds_exactly():
    # 2 women, 4 men, one of each: women 1/2, men 1/4 -- with 4 tickets every woman is on 2,
    # every man on 1, so the uniform lottery is exact.
    pool = pd.DataFrame({"id": list("abcdef"), "g": ["w", "w", "m", "m", "m", "m"]})
    quotas = Quotas((Quota("g", "w", 1, 1), Quota("g", "m", 1, 1)))
    r = select_panel(pool, quotas, 2, "leximin")
    lottery = uniform_lottery(r, 4)
    assert lottery.size == 4
    np.testing.assert_allclose(lottery.frequencies(), [0.5, 0.5, 0.25, 0.25, 0.25, 0.25])
    assert lottery.largest_change == pytest.approx(0.0, abs=1e-12)
    assert lottery.stats["largest_change"] == pytest.approx(0.0, abs=1e-12)
    assert sorted(map(sorted, lottery.tickets)) == [["a", "c"], ["a", "e"], ["b", "d"], ["b", "f"]]
    # 5 tickets cannot be exact: 5 men's seats for 4 men, so one man is on 2 tickets (0.4
    # instead of 0.25): 0.15 is the least possible change, and the rounding finds it
    five = uniform_lottery(r, 5)
    assert five.largest_change == pytest.approx(0.15)
    assert sorted(five.frequencies()) == pytest.approx([0.2, 0.2, 0.2, 0.4, 0.4, 0.6])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances, st.sampled_from(["leximin", "nash", "maximin"]), st.integers(1, 400))
def test_every_ticket_meets_quotas_and_households_and_the_bound_holds(inst, method, extra):
    s, n, k, f, v, slack = inst
    k = min(k, n // 2)
    pool, quotas = household_instance(s, n, k, f, v, slack)
    r = select_panel(pool, quotas, k, method, households="home")
    m = tickets_needed(r.probabilities) + extra
    lottery = uniform_lottery(r, m)
    assert lottery.size == m
    for ticket in lottery.tickets:
        assert meets(pool, quotas, ticket, k, "home")
    freq = lottery.frequencies()
    assert freq.sum() == pytest.approx(k)
    live = r.probabilities > 1e-12
    assert (freq[live] > 0).all() and (freq[~live] == 0).all()
    assert lottery.largest_change == pytest.approx(np.abs(freq - r.probabilities).max())
    # the documented bound (people alone in their household, here: every household of one)
    alone = pool.groupby("home")["id"].transform("size").to_numpy() == 1
    change = np.abs(freq - r.probabilities)
    assert change[alone].max(initial=0.0) < lottery.stats["bound"] + 1e-12


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances, st.integers(0, 300))
def test_bound_without_households(inst, extra):
    s, n, k, f, v, slack = inst
    k = min(k, n)
    pool, quotas = random_instance(s, n, k, f, v, slack)
    r = select_panel(pool, quotas, k, "leximin")
    m = tickets_needed(r.probabilities) + extra
    lottery = uniform_lottery(r, m)
    assert lottery.largest_change < lottery.stats["bound"] + 1e-12
    assert lottery.stats["type_change"] <= lottery.stats["type_change_beck_fiala"] + 1e-12
    assert all(meets(pool, quotas, t, k) for t in lottery.tickets)


def test_same_distribution_same_tickets_and_seed_picks_the_ticket():
    pool, quotas = household_instance(21, 14, 4, 2, 2, 1)
    a = select_panel(pool, quotas, 4, "leximin", seed=3, households="home")
    b = select_panel(pool, quotas, 4, "leximin", seed=3, households="home")
    la, lb = uniform_lottery(a, 200), uniform_lottery(b, 200)
    assert la.tickets == lb.tickets
    t = ticket_from_seed("beacon 2026-01-01T00:00Z 7f3a", 200)
    assert t == ticket_from_seed("beacon 2026-01-01T00:00Z 7f3a", 200)
    assert 1 <= t <= 200


def test_ticket_from_seed_is_the_documented_formula():
    # 1 + int(sha256(b"abc").hexdigest(), 16) % 1000, computed once by hand with hashlib
    assert ticket_from_seed("abc", 1000) == 966
    assert ticket_from_seed("beacon ü", 7) == 1  # UTF-8
    with pytest.raises(InputError, match="seed text is empty"):
        ticket_from_seed("", 10)


def test_too_few_tickets_is_refused_with_the_number_needed():
    pool, quotas = random_instance(11, 30, 6, 2, 2, 1)
    r = select_panel(pool, quotas, 6, "leximin")
    needed = tickets_needed(r.probabilities)
    assert needed == int(np.ceil(1 / r.probabilities[r.probabilities > 0].min() - 1e-9))
    with pytest.raises(InputError) as err:
        uniform_lottery(r, needed - 1)
    text = str(err.value)
    assert text.startswith("--uniform: ")
    assert f"M = {needed - 1} is smaller than the {needed} panels needed" in text
    with pytest.raises(InputError, match="whole number >= 1"):
        uniform_lottery(r, 0)


def test_lottery_csv_round_trip_and_errors(tmp_path):
    pool, quotas = random_instance(12, 12, 3, 2, 2, 1)
    lottery = uniform_lottery(select_panel(pool, quotas, 3), 50)
    path = tmp_path / "lottery.csv"
    lottery.write(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "ticket,ids" and lines[1].startswith("1,") and len(lines) == 51
    assert read_lottery(path).tickets == lottery.tickets
    bad = {
        "header": ("number,people\n1,a b\n", "line 1", "ticket,ids"),
        "order": ("ticket,ids\n1,a b\n3,c d\n", "line 3, column 'ticket'", "expected ticket 2"),
        "twice": ("ticket,ids\n1,a a\n", "line 2, column 'ids'", "one id twice"),
        "size": ("ticket,ids\n1,a b\n2,c\n", "line 3, column 'ids'", "has 1 people"),
    }
    for name, (text, where, what) in bad.items():
        p = tmp_path / f"{name}.csv"
        p.write_text(text)
        with pytest.raises(InputError) as err:
            read_lottery(p)
        assert where in str(err.value) and what in str(err.value), name


@pytest.mark.slow
def test_rounding_loses_little_on_a_biased_pool():
    # The benchmark's shape at a tenth of the size: the change at M = 1000 stays a few tickets.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from sortition import make_instance

    pool, quotas = make_instance(60, 8, seed=1)
    r = select_panel(pool, quotas, 8, "leximin")
    lottery = uniform_lottery(r, 1000)
    assert lottery.largest_change <= 5 / 1000
    assert lottery.stats["min_probability"] >= r.probabilities.min() - 5 / 1000
