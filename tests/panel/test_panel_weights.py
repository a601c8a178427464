"""Soft weights: raking the design weights 1/pi to population margins."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from panel_helpers import random_instance

from pluralign.errors import InputError
from pluralign.panel import panel_weights, pool_shares, select_panel, soft_weights


def test_one_feature_hand_case():
    sample = pd.DataFrame({"g": ["a", "a", "a", "b"]})
    w = soft_weights(sample, {"g": {"a": 0.5, "b": 0.5}})
    np.testing.assert_allclose(w.weights, [2 / 3, 2 / 3, 2 / 3, 2.0])
    assert w.converged and w.missing == ()


def test_design_weights_without_raking_need_equal_margins():
    # Sample already matches the target: weights are 1/pi scaled to mean 1.
    sample = pd.DataFrame({"g": ["a", "b", "a", "b"]})
    pi = np.array([0.5, 0.5, 0.25, 0.25])
    w = soft_weights(sample, {"g": {"a": 0.5, "b": 0.5}}, pi)
    np.testing.assert_allclose(w.weights, [2 / 3, 2 / 3, 4 / 3, 4 / 3])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(8, 40))
def test_margins_match_and_mean_is_one(seed, n):
    rng = np.random.default_rng(seed)
    sample = pd.DataFrame({"g": rng.choice(["a", "b"], n), "r": rng.choice(["x", "y", "z"], n)})
    for i, (g, r) in enumerate([(g, r) for g in "ab" for r in "xyz"]):
        sample.loc[i, ["g", "r"]] = [g, r]  # every cell present: raking converges
    pop = {"g": {"a": 0.3, "b": 0.7}, "r": {"x": 0.2, "y": 0.5, "z": 0.3}}
    pi = rng.uniform(0.05, 1.0, n)
    w = soft_weights(sample, pop, pi)
    assert w.converged
    assert w.weights.mean() == pytest.approx(1.0)
    for f, shares in pop.items():
        for v, s in shares.items():
            assert w.weights[(sample[f] == v).to_numpy()].sum() / n == pytest.approx(s, abs=1e-7)
    # Within one type, raking keeps the ratio of the design weights 1/pi.
    same = ((sample["g"] == sample.loc[0, "g"]) & (sample["r"] == sample.loc[0, "r"])).to_numpy()
    ratio = w.weights[same] * pi[same]
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)


def test_missing_value_is_reported_and_unknown_value_rejected():
    sample = pd.DataFrame({"g": ["a", "a", "b"]})
    w = soft_weights(sample, {"g": {"a": 0.4, "b": 0.4, "c": 0.2}})
    assert w.missing == (("g", "c"),)
    np.testing.assert_allclose(w.weights, [0.75, 0.75, 1.5])
    with pytest.raises(InputError, match="g='b' occurs in the sample but has no population"):
        soft_weights(sample, {"g": {"a": 1.0}})
    with pytest.raises(InputError, match="no column for feature 'r'"):
        soft_weights(sample, {"r": {"x": 1.0}})
    with pytest.raises(InputError, match="probabilities must be > 0"):
        soft_weights(sample, {"g": {"a": 0.5, "b": 0.5}}, np.array([0.5, 0.0, 0.5]))


def test_cap_limits_weights():
    sample = pd.DataFrame({"g": ["a"] * 9 + ["b"]})
    w = soft_weights(sample, {"g": {"a": 0.5, "b": 0.5}}, cap=2.0)
    assert w.weights.max() < soft_weights(sample, {"g": {"a": 0.5, "b": 0.5}}).weights.max()


def test_panel_weights_default_to_pool_shares():
    pool, quotas = random_instance(21, 30, 6, 2, 2, 1)
    r = select_panel(pool, quotas, 6, "leximin", seed=2)
    w = panel_weights(r, pool)
    members = pool[r.selected]
    target = pool_shares(pool, r.features)
    assert len(w.weights) == 6 and w.weights.mean() == pytest.approx(1.0)
    for f, shares in target.items():
        for v, s in shares.items():
            mask = (members[f] == v).to_numpy()
            if mask.any():
                assert w.weights[mask].sum() / 6 == pytest.approx(
                    s / sum(target[f][u] for u in target[f] if (members[f] == u).any()), abs=1e-6
                )
