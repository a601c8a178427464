"""The group-robust objective (GR-DPO / GR-IPO, Ramesh et al. 2024): its math by hand, its
reduction to weighted DPO, the trainer's loss (G4) and group sums, and the α step (G5)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.errors import InputError
from pluralign.train.group_robust import (
    GroupRobustState,
    group_loss_estimates,
    group_shares,
    initial_log_weights,
    mirror_ascent_step,
    row_factors,
)


def test_shares_and_initial_weights():
    names, shares = group_shares(["b", "a", "b", "c"], [1.0, 2.0, 3.0, 0.0])
    assert names == ["a", "b"]  # c has no weight: it is no group of the objective
    np.testing.assert_allclose(shares, [2 / 6, 4 / 6])
    np.testing.assert_allclose(np.exp(initial_log_weights(shares)), [0.5, 0.5])
    np.testing.assert_allclose(np.exp(initial_log_weights(shares, "proportional")), shares)
    with pytest.raises(ValueError, match="weight 0"):
        group_shares(["a"], [0.0])


def test_mirror_ascent_step_by_hand():
    """α = (1/2, 1/2), L̂ = (0.2, 0.6), η = 1: α' ∝ (e^0.2, e^0.6) = (1.221403, 1.822119)."""
    new = np.exp(mirror_ascent_step(np.log([0.5, 0.5]), np.array([0.2, 0.6]), 1.0))
    np.testing.assert_allclose(new, [1.221403 / 3.043522, 1.822119 / 3.043522], rtol=1e-6)
    assert new[1] > 0.5  # the group with the higher loss gains weight


def test_group_loss_estimates_and_update_by_hand():
    """Rows (group, w, ℓ): (a, 2, 0.5), (a, 1, 0.8), (b, 1, 1.4), and group c without a row in
    this batch: W_B = 4, W_{B,a} = 3, W_{B,b} = 1. (G3): L̂_a = (2·0.5 + 0.8)/3 = 0.6,
    L̂_b = 1.4/1 = 1.4, L̂_c = 0 (no estimate). (G5′): c sleeps, keeping α_c = 0.25; a and b
    share their mass 0.75 in the ratio 0.5·e^{0.5·0.6} : 0.25·e^{0.5·1.4}."""
    sums = np.array([2 * 0.5 + 1 * 0.8, 1 * 1.4, 0.0])
    group_weights = np.array([3.0, 1.0, 0.0])
    np.testing.assert_allclose(group_loss_estimates(sums, group_weights), [0.6, 1.4, 0.0])
    shares = np.array([0.5, 0.25, 0.25])  # the whole data's π (only the proportional init uses it)
    state = GroupRobustState(("a", "b", "c"), shares, np.log([0.5, 0.25, 0.25]), 0.5)
    after = state.updated(sums, group_weights)
    a, b = 0.5 * math.exp(0.5 * 0.6), 0.25 * math.exp(0.5 * 1.4)  # 0.674929, 0.503438
    np.testing.assert_allclose(
        after.weights, [0.75 * a / (a + b), 0.75 * b / (a + b), 0.25], rtol=1e-12
    )
    np.testing.assert_allclose(after.weights, [0.429575, 0.320425, 0.25], rtol=1e-5)
    assert after.step == 1 and after.log_row()["losses"] == {"a": 0.6, "b": 1.4}
    # with c present as well (a row of loss 0.9), (G5′) is (G5): every group renormalised
    full = state.updated(np.append(sums[:2], 0.9), np.array([3.0, 1.0, 1.0]))
    c = 0.25 * math.exp(0.5 * 0.9)
    np.testing.assert_allclose(full.weights, np.array([a, b, c]) / (a + b + c), rtol=1e-12)
    # (G4): factors α_g·W_B/W_{B,g} = (0.5·4/3, 0.25·4/1, 0), and Σ wᵢ·f_g·ℓᵢ / W_B equals
    # Σ_g α_g L̂_g = 0.5·0.6 + 0.25·1.4 = 0.65
    f = state.factors(group_weights)
    np.testing.assert_allclose(f, [2 / 3, 1.0, 0.0])
    rows = [(0, 2, 0.5), (0, 1, 0.8), (1, 1, 1.4)]
    by_rows = sum(w * f[g] * lo for g, w, lo in rows) / 4.0
    assert by_rows == pytest.approx(0.65)
    assert by_rows == pytest.approx(
        float(state.weights @ group_loss_estimates(sums, group_weights))
    )
    with pytest.raises(ValueError, match="one loss sum"):
        group_loss_estimates(sums, group_weights[:2])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.floats(0.01, 5), st.floats(0, 4)), min_size=1, max_size=12
    ),
    st.lists(st.floats(-3, 3), min_size=4, max_size=4),
)
def test_batch_estimates_are_group_means_and_the_loss_their_alpha_sum(rows, logw):
    """For any batch: each present group's L̂_g lies within its rows' losses (it is their
    weighted mean: bounded, unlike an importance-weighted estimate), and the row-reweighted loss
    (G4) equals Σ_g α_g·L̂_g."""
    logw = np.array(logw) - np.log(np.exp(logw).sum())
    g = np.array([r[0] for r in rows])
    w = np.array([r[1] for r in rows])
    loss = np.array([r[2] for r in rows])
    sums = np.array([(w * loss)[g == k].sum() for k in range(4)])
    gw = np.array([w[g == k].sum() for k in range(4)])
    est = group_loss_estimates(sums, gw)
    for k in range(4):
        if (g == k).any():
            assert loss[g == k].min() - 1e-9 <= est[k] <= loss[g == k].max() + 1e-9
        else:
            assert est[k] == 0
    f = row_factors(logw, gw)
    assert (w * f[g] * loss).sum() / w.sum() == pytest.approx(
        float(np.exp(logw) @ est), rel=1e-9, abs=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-3, 3), min_size=2, max_size=6).flatmap(
        lambda logw: st.tuples(
            st.just(logw), st.lists(st.floats(0, 5), min_size=len(logw), max_size=len(logw))
        )
    ),
    st.floats(0, 3),
)
def test_mirror_ascent_invariants(case, eta):
    """α stays on the simplex, and log(α_g/α_h) moves by exactly η·(L̂_g − L̂_h); with groups
    absent (G5′) they keep their α, the present ones keep their total and move relative to each
    other by η·(L̂_g − L̂_h) as before."""
    logw, losses = np.array(case[0]), np.array(case[1])
    logw = logw - np.log(np.exp(logw).sum())
    new = mirror_ascent_step(logw, losses, eta)
    assert np.exp(new).sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(
        (new - new[0]) - (logw - logw[0]), eta * (losses - losses[0]), atol=1e-9
    )
    present = np.arange(logw.size) % 2 == 0  # groups 1, 3, 5 have no row in this batch
    slept = mirror_ascent_step(logw, losses, eta, present)
    np.testing.assert_array_equal(slept[~present], logw[~present])
    assert np.exp(slept[present]).sum() == pytest.approx(np.exp(logw[present]).sum(), rel=1e-9)
    p = np.flatnonzero(present)
    np.testing.assert_allclose(
        (slept[p] - slept[p[0]]) - (logw[p] - logw[p[0]]), eta * (losses[p] - losses[p[0]]),
        atol=1e-9,
    )
    np.testing.assert_array_equal(mirror_ascent_step(logw, losses, eta, present & False), logw)


def test_one_group_never_moves_and_state_round_trips(tmp_path):
    state = GroupRobustState.start(["x", "x"], [1.0, 3.0], 2.0, "uniform")
    after = state.updated(np.array([5.0]), np.array([4.0]))
    assert after.names == ("x",) and after.weights.tolist() == [1.0]
    two = GroupRobustState.start(["a", "b", "b"], [1.0, 0.3, 0.4], 0.7, "proportional")
    two = two.updated(np.array([0.123456789, 0.98765]), np.array([1.0, 0.7]))
    two.write(tmp_path)
    back = GroupRobustState.read(tmp_path)
    assert back.names == two.names and back.step == 1 and back.init == "proportional"
    assert back.log_weights.tolist() == two.log_weights.tolist()  # float64 exactly
    same = GroupRobustState.start(["a", "b", "b"], [1.0, 0.3, 0.4], 0.7, "proportional")
    back.check_resumable(same, "here")
    for other in (
        GroupRobustState.start(["a", "b"], [1.0, 0.5], 0.7, "proportional"),  # other shares
        GroupRobustState.start(["a", "b", "b"], [1.0, 0.3, 0.4], 0.5, "proportional"),
        GroupRobustState.start(["a", "c", "c"], [1.0, 0.3, 0.4], 0.7, "proportional"),
    ):
        with pytest.raises(InputError, match="other groups or settings"):
            back.check_resumable(other, "here")
    with pytest.raises(InputError, match="weighted run"):
        GroupRobustState.read(tmp_path / "nowhere")
    for fmt in ("pluralign.group_robust/1", "pluralign.group_robust/2"):
        old = {**back.to_dict(), "format": fmt}
        with pytest.raises(InputError, match="earlier update"):
            GroupRobustState.from_dict(old, "old/group_robust.json")
