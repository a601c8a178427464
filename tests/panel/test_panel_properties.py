"""Invariants of every selection method, on random small instances (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from panel_helpers import meets, random_instance

from pluralign.panel import select_panel

instances = st.tuples(
    st.integers(0, 10_000),  # seed of the instance
    st.integers(6, 14),  # n
    st.integers(2, 5),  # k
    st.integers(1, 3),  # features
    st.integers(2, 3),  # values per feature
    st.integers(0, 1),  # slack
)
SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check(result, pool, quotas, k):
    p = result.probabilities
    assert p.sum() == np.float64(k) or abs(p.sum() - k) < 1e-8
    assert (p >= -1e-12).all() and (p <= 1 + 1e-9).all()
    assert meets(pool, quotas, result.panel, k)
    assert abs(result.composition_probabilities.sum() - 1) < 1e-9
    for comp in result.compositions:
        assert comp.sum() == k


@SETTINGS
@given(instances, st.sampled_from(["leximin", "maximin", "nash"]), st.integers(0, 2**31 - 1))
def test_optimising_methods_meet_quotas(inst, method, seed):
    s, n, k, f, v, slack = inst
    k = min(k, n)
    pool, quotas = random_instance(s, n, k, f, v, slack)
    result = select_panel(pool, quotas, k, method, seed=seed)
    _check(result, pool, quotas, k)
    for draw in range(3):  # every panel drawn from the distribution meets the quotas
        assert meets(pool, quotas, result.draw(seed + draw), k)


@SETTINGS
@given(instances, st.integers(0, 2**31 - 1))
def test_legacy_meets_quotas(inst, seed):
    s, n, k, f, v, slack = inst
    k = min(k, n)
    pool, quotas = random_instance(s, n, k, f, v, slack)
    result = select_panel(pool, quotas, k, "legacy", seed=seed, samples=50)
    _check(result, pool, quotas, k)


@settings(max_examples=6, deadline=None)
@given(instances, st.sampled_from(["leximin", "maximin", "nash", "legacy"]), st.integers(0, 1000))
def test_same_seed_same_panel(inst, method, seed):
    s, n, k, f, v, slack = inst
    k = min(k, n)
    pool, quotas = random_instance(s, n, k, f, v, slack)
    a = select_panel(pool, quotas, k, method, seed=seed, samples=30)
    b = select_panel(pool, quotas, k, method, seed=seed, samples=30)
    assert a.panel == b.panel
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_different_seeds_draw_different_panels():
    pool, quotas = random_instance(11, 30, 6, 2, 2, 1)
    panels = {select_panel(pool, quotas, 6, "leximin", seed=s).panel for s in range(6)}
    assert len(panels) > 1


def test_leximin_is_at_least_as_fair_as_legacy():
    pool, quotas = random_instance(12, 40, 8, 3, 2, 1)
    lex = select_panel(pool, quotas, 8, "leximin", seed=0)
    leg = select_panel(pool, quotas, 8, "legacy", seed=0, samples=300)
    selectable = lex.probabilities > 0
    assert lex.probabilities[selectable].min() >= leg.probabilities[selectable].min() - 1e-9


def test_time_limit_returns_a_valid_lottery():
    pool, quotas = random_instance(13, 40, 8, 3, 2, 1)
    r = select_panel(pool, quotas, 8, "leximin", seed=1, time_limit=0.0)
    assert r.stats["timed_out"] is True
    _check(r, pool, quotas, 8)
    # the fairest lottery over the panels found so far: the start panels cover everyone who can
    # be selected, so nobody selectable is left at zero, and the proven gap bounds the minimum
    full = select_panel(pool, quotas, 8, "leximin", seed=1)
    selectable = full.probabilities > 0
    assert r.probabilities[selectable].min() > 0
    best = full.probabilities[selectable].min()
    assert r.probabilities[selectable].min() >= best - r.stats["gap"] - 1e-9


def _built(inst):
    """The validated :class:`Instance` of a drawn ``instances`` tuple."""
    from pluralign.panel.instance import build_instance

    s, n, k, f, v, slack = inst
    k = min(k, n)
    pool, quotas = random_instance(s, n, k, f, v, slack)
    return build_instance(pool, quotas, k)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances)
def test_relaxation_and_levels_agree_on_leximin(inst):
    # LEXIMIN's probability vector is unique: both roads (relaxation + decomposition, and
    # level-by-level column generation) must find it, whichever the first one takes.
    from pluralign.panel.leximin import column_generation

    instance = _built(inst)
    fast = column_generation(instance, gap=1e-9)
    slow = column_generation(instance, gap=1e-9, relaxation=False)
    np.testing.assert_allclose(fast.type_probability, slow.type_probability, atol=1e-6)
    assert all(instance.meets_quotas(c) for c in fast.compositions)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances)
def test_nash_roads_agree(inst):
    # Nash welfare is strictly concave in the probabilities of the selectable types, so its
    # optimal probability vector is unique: the relaxation road and the column generation must
    # reach the same welfare within their proven gaps.
    from pluralign.panel.nash import nash

    instance = _built(inst)
    fast = nash(instance, gap=1e-6)
    slow = nash(instance, gap=1e-6, relaxation=False)
    live = slow.type_probability > 0
    size = instance.type_size[live]

    def welfare(d):
        return float(size @ np.log(d.type_probability[live]))

    n_live = float(size.sum())
    # each road's proven gap bounds its distance to the optimum, which is >= the other's welfare
    assert welfare(fast) >= welfare(slow) - fast.stats["gap"] * n_live - 1e-7
    assert welfare(slow) >= welfare(fast) - slow.stats["gap"] * n_live - 1e-7
    assert fast.stats["path"] in ("relaxation", "column-generation")
    assert all(instance.meets_quotas(c) for c in fast.compositions)
