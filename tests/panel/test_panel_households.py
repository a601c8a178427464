"""At most one person per household, for every method, against brute force on small instances."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panel_helpers import brute_leximin, brute_nash, feasible_panels, household_instance, meets

from pluralign.errors import InfeasibleError, InputError
from pluralign.panel import Quota, Quotas, select_panel
from pluralign.panel.instance import build_instance
from pluralign.panel.leximin import column_generation

CASES = [  # (seed, n, k, features, values, slack)
    (1, 8, 3, 2, 2, 0),
    (2, 9, 3, 2, 2, 1),
    (3, 9, 4, 2, 2, 1),
    (4, 10, 3, 3, 2, 0),
    (5, 8, 3, 1, 3, 1),
]
IDS = [f"seed{c[0]}" for c in CASES]


def test_households_refine_types_by_hand():
    # a and b share a home (one woman, one man); c, d and e live alone.
    pool = pd.DataFrame(
        {"id": list("abcde"), "g": ["w", "m", "w", "m", "m"], "home": ["1", "1", "2", "3", "4"]}
    )
    quotas = Quotas((Quota("g", "w", 1, 1), Quota("g", "m", 1, 1)))
    inst = build_instance(pool, quotas, 2, households="home")
    # types: (w, home {w,m}), (m, home {w,m}), w alone, m alone
    assert inst.n_types == 4
    assert list(inst.type_cap) == [1, 1, 1, 2]
    assert [(m, list(ts)) for m, ts in inst.household_rows] == [(1, [0, 1])]
    assert not inst.meets_quotas(np.array([1, 1, 0, 0]))  # a and b together
    assert inst.meets_quotas(np.array([1, 0, 0, 1]))
    r = select_panel(pool, quotas, 2, "leximin", households="home")
    expected = brute_leximin(5, feasible_panels(pool, quotas, 2, "home"))
    np.testing.assert_allclose(r.probabilities, expected, atol=1e-7)
    # without the rule a and b could sit together; with it, never
    assert all(not {"a", "b"} <= set(ids) for ids, _ in r.panels())


@pytest.mark.parametrize("relaxation", [True, False], ids=["relaxation", "levels"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_leximin_with_households_equals_brute_force(case, relaxation):
    seed, n, k, f, v, slack = case
    pool, quotas = household_instance(seed, n, k, f, v, slack)
    expected = brute_leximin(n, feasible_panels(pool, quotas, k, "home"))
    inst = build_instance(pool, quotas, k, households="home")
    dist = column_generation(inst, gap=1e-9, relaxation=relaxation)
    np.testing.assert_allclose(dist.type_probability[inst.type_of], expected, atol=1e-6)
    assert all(inst.meets_quotas(c) for c in dist.compositions)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_maximin_and_nash_with_households_equal_brute_force(case):
    seed, n, k, f, v, slack = case
    pool, quotas = household_instance(seed, n, k, f, v, slack)
    panels = feasible_panels(pool, quotas, k, "home")
    first = brute_leximin(n, panels, levels=1)
    selectable = first > 0
    r = select_panel(pool, quotas, k, "maximin", gap=1e-9, households="home")
    assert r.probabilities[selectable].min() == pytest.approx(
        first[selectable & np.isfinite(first)].min(), abs=1e-6
    )
    assert (r.probabilities[~selectable] == 0).all()
    best, live = brute_nash(n, panels)
    nash = select_panel(pool, quotas, k, "nash", households="home")
    ours = float(np.sum(np.log(nash.probabilities[live])))
    assert ours >= best - nash.stats["gap"] * live.sum() - 1e-7
    assert ours <= best + 1e-6  # no lottery beats the optimum over all explicit panels
    for result in (r, nash):
        assert meets(pool, quotas, result.panel, k, "home")


@pytest.mark.parametrize("case", CASES[:3], ids=IDS[:3])
def test_explicit_panels_keep_households_and_probabilities(case):
    seed, n, k, f, v, slack = case
    pool, quotas = household_instance(seed, n, k, f, v, slack)
    r = select_panel(pool, quotas, k, "leximin", households="home")
    total = np.zeros(n)
    mass = 0.0
    index = {pid: i for i, pid in enumerate(r.ids)}
    panels = list(r.panels())
    assert len(panels) == r.count_panels()
    for ids, prob in panels:
        assert meets(pool, quotas, ids, k, "home")
        mass += prob
        for pid in ids:
            total[index[pid]] += prob
    assert mass == pytest.approx(1.0)
    np.testing.assert_allclose(total, r.probabilities, atol=1e-9)
    for seed2 in range(20):  # drawn panels too
        assert meets(pool, quotas, r.draw(seed2), k, "home")


def _exact_legacy(pool: pd.DataFrame, quotas: Quotas, k: int, home: str) -> np.ndarray:
    """LEGACY's exact selection probabilities, person by person (no types): a recursion over
    the people drawn so far, conditioned on the runs that do not get stuck (the restarts)."""
    n = len(pool)
    values = {q.feature: pool[q.feature].to_numpy() for q in quotas.items}
    homes = pool[home].to_numpy()
    rows = [(values[q.feature] == q.value, q.min, q.max) for q in quotas.items]
    ok = np.zeros(n, dtype=object)
    ok[:] = Fraction(0)
    success = Fraction(0)

    def walk(chosen: tuple[int, ...], prob: Fraction) -> None:
        nonlocal success
        if len(chosen) == k:
            if all(lo <= mask[list(chosen)].sum() <= hi for mask, lo, hi in rows):
                success += prob
                for i in chosen:
                    ok[i] += prob
            return
        taken = {homes[i] for i in chosen}
        avail = np.array(
            [
                i not in chosen
                and homes[i] not in taken
                and all(not mask[i] or mask[list(chosen)].sum() < hi for mask, _lo, hi in rows)
                for i in range(n)
            ]
        )
        if not avail.any():
            return
        ratios = []
        for mask, lo, _hi in rows:
            need = lo - int(mask[list(chosen)].sum())
            have = int((mask & avail).sum())
            if need > have:
                return  # stuck
            ratios.append(Fraction(need, have) if have else None)
        best = max((r for r in ratios if r is not None), default=Fraction(0))
        if best > 0:
            tops = [j for j, r in enumerate(ratios) if r == best]
            for j in tops:
                people = np.flatnonzero(rows[j][0] & avail)
                for i in people:
                    walk((*chosen, int(i)), prob / len(tops) / len(people))
        else:
            people = np.flatnonzero(avail)
            for i in people:
                walk((*chosen, int(i)), prob / len(people))

    walk((), Fraction(1))
    return np.array([float(x / success) for x in ok])


@pytest.mark.parametrize("case", CASES[:4], ids=IDS[:4])
def test_legacy_with_households_matches_the_exact_procedure(case):
    seed, n, k, f, v, slack = case
    pool, quotas = household_instance(seed, n, k, f, v, slack)
    exact = _exact_legacy(pool, quotas, k, "home")
    samples = 3000
    r = select_panel(pool, quotas, k, "legacy", seed=seed, samples=samples, households="home")
    # binomial standard error at most 0.5 / sqrt(samples) ~ 0.009: 5 of them
    np.testing.assert_allclose(r.probabilities, exact, atol=0.046)
    assert meets(pool, quotas, r.panel, k, "home")
    inst = build_instance(pool, quotas, k, households="home")
    assert all(inst.meets_quotas(c) for c in r.compositions)


def test_missing_or_empty_household_column_names_file_line_and_column(tmp_path):
    pool = pd.DataFrame({"id": list("abc"), "g": ["w", "m", "m"], "home": ["1", "", "2"]})
    quotas = Quotas((Quota("g", "w", 0, 2), Quota("g", "m", 0, 2)))
    with pytest.raises(InputError) as err:
        select_panel(pool, quotas, 2, households="address", pool_source="pool.csv")
    assert "pool.csv, line 1, column 'address'" in str(err.value)
    assert "no household column 'address'" in str(err.value)
    with pytest.raises(InputError) as err:
        select_panel(pool, quotas, 2, households="home", pool_source="pool.csv")
    assert "pool.csv, line 3, column 'home'" in str(err.value) and "empty household" in str(
        err.value
    )


def test_too_few_households_for_the_panel():
    pool = pd.DataFrame({"id": list("abcd"), "g": ["w", "m", "w", "m"], "home": list("1122")})
    quotas = Quotas((Quota("g", "w", 0, 3), Quota("g", "m", 0, 3)))
    with pytest.raises(InfeasibleError, match="needs 3 different households.*only 2 households"):
        select_panel(pool, quotas, 3, households="home")


def test_households_make_quotas_infeasible_and_relax_fixes_it():
    # Both women share a home with a man: two women means... only one woman per home is fine,
    # but the two women live together, so at most one woman can sit.
    pool = pd.DataFrame(
        {"id": list("abcde"), "g": ["w", "w", "m", "m", "m"], "home": ["1", "1", "2", "3", "4"]}
    )
    quotas = Quotas((Quota("g", "w", 2, 2), Quota("g", "m", 1, 3)))
    with pytest.raises(InfeasibleError) as err:
        select_panel(pool, quotas, 3, households="home")
    assert "at most one per household" in str(err.value)
    assert "lower min of g=w from 2 to 1" in str(err.value)
    r = select_panel(pool, quotas, 3, households="home", relax=True)
    assert [c["text"] for c in r.stats["relaxed"]] == ["lower min of g=w from 2 to 1"]
    assert r.quotas.get("g", "w").min == 1
    assert meets(pool, r.quotas, r.panel, 3, "home")


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(0, 5000),
    st.sampled_from(["leximin", "maximin", "nash", "legacy"]),
    st.integers(0, 1000),
)
def test_same_seed_same_panel_with_households(instance_seed, method, seed):
    pool, quotas = household_instance(instance_seed, 10, 3, 2, 2, 1)
    a = select_panel(pool, quotas, 3, method, seed=seed, samples=30, households="home")
    b = select_panel(pool, quotas, 3, method, seed=seed, samples=30, households="home")
    assert a.panel == b.panel
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    assert meets(pool, quotas, a.panel, 3, "home")
