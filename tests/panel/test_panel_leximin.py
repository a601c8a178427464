"""LEXIMIN and MAXIMIN against brute force over all feasible panels (exact optimum)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from panel_helpers import brute_leximin, feasible_panels, meets, random_instance

from pluralign.panel import Quota, Quotas, select_panel
from pluralign.panel.instance import build_instance
from pluralign.panel.leximin import column_generation
from pluralign.panel.relax import decompose, relaxed_leximin

CASES = [  # (seed, n, k, features, values, slack)
    (1, 8, 3, 2, 2, 0),
    (2, 9, 4, 2, 3, 0),
    (3, 9, 3, 3, 2, 1),
    (4, 10, 4, 2, 2, 0),
    (5, 8, 4, 3, 2, 0),
    (6, 10, 5, 2, 3, 1),
]


@pytest.mark.parametrize("case", CASES, ids=[f"seed{c[0]}" for c in CASES])
def test_leximin_equals_brute_force(case):
    seed, n, k, f, v, slack = case
    pool, quotas = random_instance(seed, n, k, f, v, slack)
    panels = feasible_panels(pool, quotas, k)
    expected = brute_leximin(n, panels)
    result = select_panel(pool, quotas, k, "leximin", seed=0, gap=1e-9)
    np.testing.assert_allclose(result.probabilities, expected, atol=1e-6)
    assert result.probabilities.sum() == pytest.approx(k)
    assert meets(pool, quotas, result.panel, k)


@pytest.mark.parametrize("relaxation", [True, False], ids=["relaxation", "levels"])
@pytest.mark.parametrize("case", CASES, ids=[f"seed{c[0]}" for c in CASES])
def test_both_leximin_roads_equal_brute_force(case, relaxation):
    seed, n, k, f, v, slack = case
    pool, quotas = random_instance(seed, n, k, f, v, slack)
    expected = brute_leximin(n, feasible_panels(pool, quotas, k))
    inst = build_instance(pool, quotas, k)
    dist = column_generation(inst, gap=1e-9, relaxation=relaxation)
    assert dist.stats["path"] == ("relaxation" if relaxation else "column-generation")
    np.testing.assert_allclose(dist.type_probability[inst.type_of], expected, atol=1e-6)
    assert all(inst.meets_quotas(c) for c in dist.compositions)


# Instances whose LP relaxation is not integral at its leximin point (found by search over random
# instances): the relaxed optimum is no lottery at all, so the walk must fail whatever the solver
# does, and the column generation must take over and still be exact.
FALLBACK_CASES = [(53, 9, 2, 4, 3, 1), (104, 9, 5, 3, 3, 0), (619, 7, 2, 3, 2, 1)]


@pytest.mark.parametrize("case", FALLBACK_CASES, ids=[f"seed{c[0]}" for c in FALLBACK_CASES])
def test_failed_relaxation_falls_back_to_exact_column_generation(case):
    from pluralign.panel.leximin import initial_columns
    from pluralign.panel.oracle import CompositionOracle

    seed, n, k, f, v, slack = case
    pool, quotas = random_instance(seed, n, k, f, v, slack)
    expected = brute_leximin(n, feasible_panels(pool, quotas, k))
    inst = build_instance(pool, quotas, k)
    _, impossible = initial_columns(inst, CompositionOracle(inst))
    q_star, _ = relaxed_leximin(inst, impossible)
    assert np.abs(q_star[inst.type_of] - expected).max() > 0.05  # the relaxation is not enough
    dist = column_generation(inst, gap=1e-9)
    assert dist.stats["path"] == "column-generation"
    assert dist.stats["relaxation_failed"]
    np.testing.assert_allclose(dist.type_probability[inst.type_of], expected, atol=1e-6)


@pytest.mark.parametrize("case", CASES[:4], ids=[f"seed{c[0]}" for c in CASES[:4]])
def test_walk_that_gives_up_is_repaired_by_column_generation(case, monkeypatch):
    # A walk can end on a face without panels although q* is a lottery; then column generation
    # towards q* must finish the job (the relaxation's optimum is still LEXIMIN).
    import pluralign.panel.relax as relax

    def gives_up(inst, q_target, **kwargs):
        return relax.Walk(failed="gave up on purpose")

    monkeypatch.setattr(relax, "decompose", gives_up)
    seed, n, k, f, v, slack = case
    pool, quotas = random_instance(seed, n, k, f, v, slack)
    expected = brute_leximin(n, feasible_panels(pool, quotas, k))
    inst = build_instance(pool, quotas, k)
    dist = column_generation(inst, gap=1e-9)
    assert dist.stats["path"] == "relaxation+column-generation"
    assert dist.stats["relaxation_failed"] == "gave up on purpose"
    assert dist.stats["repair_iterations"] >= 1
    np.testing.assert_allclose(dist.type_probability[inst.type_of], expected, atol=1e-6)
    assert all(inst.meets_quotas(c) for c in dist.compositions)


def test_relaxed_leximin_by_hand():
    # 2 women, 4 men, panel of 2 with exactly one of each: the relaxation is integral here and
    # its leximin is women 1/2, men 1/4; the walk decomposes it into panels exactly.
    pool = pd.DataFrame({"id": list("abcdef"), "g": ["w", "w", "m", "m", "m", "m"]})
    quotas = Quotas((Quota("g", "w", 1, 1), Quota("g", "m", 1, 1)))
    inst = build_instance(pool, quotas, 2)
    q, levels = relaxed_leximin(inst)
    np.testing.assert_allclose(q[inst.type_of], [0.5, 0.5, 0.25, 0.25, 0.25, 0.25])
    assert levels >= 1
    walk = decompose(inst, q, gap=1e-9)
    assert not walk.failed and walk.rest == 0.0
    assert sum(walk.weights) == pytest.approx(1.0)
    mix = sum(w * c for w, c in zip(walk.weights, walk.columns, strict=True))
    np.testing.assert_allclose(mix / inst.type_size, q, atol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[f"seed{c[0]}" for c in CASES])
def test_maximin_minimum_equals_brute_force(case):
    seed, n, k, f, v, slack = case
    pool, quotas = random_instance(seed, n, k, f, v, slack)
    panels = feasible_panels(pool, quotas, k)
    first = brute_leximin(n, panels, levels=1)
    selectable = first > 0  # people on no feasible panel are excluded, as in the paper
    best_min = first[selectable & np.isfinite(first)].min()
    result = select_panel(pool, quotas, k, "maximin", seed=0, gap=1e-9)
    assert result.probabilities[selectable].min() == pytest.approx(best_min, abs=1e-6)
    assert (result.probabilities[~selectable] == 0).all()


def test_hand_computed_two_groups():
    # 2 women, 4 men, panel of 2 with exactly one of each: women 1/2, men 1/4 each.
    pool = pd.DataFrame({"id": list("abcdef"), "g": ["w", "w", "m", "m", "m", "m"]})
    quotas = Quotas((Quota("g", "w", 1, 1), Quota("g", "m", 1, 1)))
    for method in ("leximin", "maximin"):
        r = select_panel(pool, quotas, 2, method, seed=3)
        np.testing.assert_allclose(r.probabilities, [0.5, 0.5, 0.25, 0.25, 0.25, 0.25])


def test_person_on_no_feasible_panel_gets_zero():
    # x has both rare values; quotas forbid them together with anybody, so x is never chosen.
    pool = pd.DataFrame(
        {"id": ["x", "a", "b", "c"], "g": ["w", "m", "m", "m"], "r": ["n", "s", "s", "s"]}
    )
    quotas = Quotas(
        (Quota("g", "w", 0, 1), Quota("g", "m", 1, 2), Quota("r", "n", 0, 0), Quota("r", "s", 0, 2))
    )
    r = select_panel(pool, quotas, 2, "leximin", seed=0)
    assert r.probability("x") == 0
    np.testing.assert_allclose(r.probabilities[1:], [2 / 3] * 3)
    assert r.report()["never_selected"] == 1


def test_explicit_panels_reproduce_probabilities():
    pool, quotas = random_instance(7, 10, 4, 2, 2, 1)
    r = select_panel(pool, quotas, 4, "leximin", seed=0)
    total = np.zeros(len(pool))
    mass = 0.0
    panels = list(r.panels())
    assert len(panels) == r.count_panels()
    index = {pid: i for i, pid in enumerate(r.ids)}
    for ids, prob in panels:
        assert meets(pool, quotas, ids, 4)
        mass += prob
        for pid in ids:
            total[index[pid]] += prob
    assert mass == pytest.approx(1.0)
    np.testing.assert_allclose(total, r.probabilities, atol=1e-9)


@pytest.mark.parametrize("polish", [True, False], ids=["polished", "interior-point-only"])
@pytest.mark.parametrize("seed", [1, 3, 5])
def test_nash_equals_brute_force(seed, polish, monkeypatch):
    import pluralign.panel.relax as relax

    if not polish:  # as for pools with more types than the dense SQP polish takes
        monkeypatch.setattr(relax, "POLISH_MAX_TYPES", 0)
    from scipy.optimize import minimize

    pool, quotas = random_instance(seed, 9, 4, 2, 2, 1)
    panels = feasible_panels(pool, quotas, 4)
    M = np.zeros((9, len(panels)))
    for j, panel in enumerate(panels):
        M[list(panel), j] = 1.0
    live = M.sum(axis=1) > 0

    def neg_log_welfare(x):  # softmax parametrisation of a distribution over explicit panels
        p = np.exp(x - x.max())
        p /= p.sum()
        q = M[live] @ p
        grad_p = -(1.0 / q) @ M[live]
        return -np.sum(np.log(q)), p * (grad_p - p @ grad_p)

    x0 = np.zeros(len(panels))
    best = min(
        minimize(neg_log_welfare, x0, jac=True, method="BFGS", tol=1e-12).fun,
        neg_log_welfare(x0)[0],
    )
    result = select_panel(pool, quotas, 4, "nash", seed=0)
    ours = np.sum(np.log(result.probabilities[live]))
    # within the proven (Frank-Wolfe) gap of the optimum, and that gap within the tolerance
    assert result.stats["gap"] <= 1e-4
    assert ours >= -best - result.stats["gap"] * live.sum() - 1e-9
    if polish:  # the polished relaxation lands on the optimum itself
        assert ours >= -best - 1e-7
    assert result.probabilities.sum() == pytest.approx(4)
    assert meets(pool, quotas, result.panel, 4)


def test_walk_tolerates_rounding_drift_off_an_equality_row():
    # Each step divides by the mass left, so x drifts off rows that every panel meets with
    # equality (here the panel size and exact quotas). The ratio test must not read that drift
    # as "no step possible": panels tight on a row bound no step there.
    pool = pd.DataFrame({"id": list("abcdef"), "g": ["w", "w", "m", "m", "m", "m"]})
    quotas = Quotas((Quota("g", "w", 1, 1), Quota("g", "m", 1, 1)))
    inst = build_instance(pool, quotas, 2)
    q, _ = relaxed_leximin(inst)
    drifted = q * (1 - 1e-7)  # sum of x is now 2 - 2e-7, off the equality rows by more than tol
    walk = decompose(inst, drifted, gap=1e-6)
    assert walk.failed != "the walk made no progress"
    assert walk.rest <= 1e-6  # all but the drift itself is decomposed into panels
    mix = sum(w * c for w, c in zip(walk.weights, walk.columns, strict=True))
    np.testing.assert_allclose(mix / inst.type_size, q, atol=1e-6)
