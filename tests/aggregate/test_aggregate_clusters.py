"""Two-level k-means: smoother by hand, recovery of separated groups, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.aggregate import KState, PolisClusterer
from pluralign.aggregate.clusters import (
    _silhouettes_batch,
    choose_refit,
    kmeans,
    kmeans_batch,
    silhouette,
    smooth_group_count,
)


def test_smoother_switches_only_after_buffer_fits():
    s = smooth_group_count(None, 3)
    assert s == KState(3, 1, 3)  # first fit: use the best k at once
    s = smooth_group_count(s, 2)
    assert s.smoothed_k == 3 and s.last_k_count == 1
    for _ in range(2):
        s = smooth_group_count(s, 2)
        assert s.smoothed_k == 3
    s = smooth_group_count(s, 2)  # fourth time in a row
    assert s == KState(2, 4, 2)


def blobs(sizes, centers, seed=0, spread=0.3):
    rng = np.random.default_rng(seed)
    pts = np.vstack([rng.normal(c, spread, (n, 2)) for n, c in zip(sizes, centers, strict=True)])
    truth = np.repeat(np.arange(len(sizes)), sizes)
    return pts, truth


def test_recovers_three_separated_groups_numbered_by_size():
    pts, truth = blobs([60, 120, 30], [(-4, 0), (4, 0), (0, 5)])
    cl = PolisClusterer(seed=1).fit(pts)
    assert cl.n_groups_ == 3
    assert set(cl.silhouettes_) == {2, 3, 4, 5}
    # group 0 is the largest (truth 1), group 2 the smallest (truth 2)
    for g, t in ((0, 1), (1, 0), (2, 2)):
        assert np.all(cl.labels_[truth == t] == g)
    assert len(cl.base_centers_) == 100
    np.testing.assert_allclose(cl.base_weights_.sum(), len(pts))


def test_max_groups_follows_polis_max_k_rule():
    pts, _ = blobs([20, 20], [(-3, 0), (3, 0)])
    cl = PolisClusterer(base_k=24).fit(pts)  # 24 base clusters -> max k = 2 + 24 // 12 = 4
    assert max(cl.silhouettes_) == 4


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**16), st.integers(5, 80))
def test_same_seed_same_groups_and_every_point_labelled(seed, n):
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(n, 2))
    a = PolisClusterer(seed=seed, n_init=2).fit(pts)
    b = PolisClusterer(seed=seed, n_init=2).fit(pts)
    np.testing.assert_array_equal(a.labels_, b.labels_)
    assert a.labels_.shape == (n,)
    assert 1 <= a.n_groups_ <= 5
    assert set(np.unique(a.labels_)) == set(range(a.n_groups_))
    sizes = np.bincount(a.labels_)
    assert np.all(np.diff(sizes) <= 0)  # numbered by size


def test_duplicate_points_do_not_break_base_clusters():
    pts = np.vstack([np.zeros((30, 2)), np.ones((30, 2)) * 5])
    cl = PolisClusterer().fit(pts)
    assert len(cl.base_centers_) == 2
    assert cl.n_groups_ == 2


def test_refits_feed_the_smoother_starting_from_two_groups():
    start = KState(2, 0, 2)
    # best k per re-fit: 5, 2, 5, 3 -> no k is best four times in a row: stay at 2, and keep
    # the re-fit whose 2-group clustering has the highest silhouette (the second)
    sils = [
        {2: 0.30, 3: 0.31, 5: 0.35},
        {2: 0.36, 3: 0.30, 5: 0.33},
        {2: 0.32, 3: 0.30, 5: 0.34},
        {2: 0.29, 3: 0.33, 5: 0.31},
    ]
    k, chosen, state = choose_refit(sils, start)
    assert (k, chosen) == (2, 1)
    assert state == KState(3, 1, 2)
    # all four re-fits find 3 best: switch to 3, keep the best 3-group clustering
    sils = [{2: 0.2, 3: 0.5}, {2: 0.2, 3: 0.6}, {2: 0.1, 3: 0.4}, {2: 0.3, 3: 0.45}]
    k, chosen, state = choose_refit(sils, start)
    assert (k, chosen, state) == (3, 1, KState(3, 4, 3))
    # a previous fit's state carries over: 3 best twice before, twice now -> switch
    k, _, state = choose_refit(sils[:2], KState(3, 2, 2))
    assert k == 3 and state == KState(3, 4, 3)
    # ties: fewer groups within a re-fit, the earlier re-fit across re-fits
    k, chosen, _ = choose_refit([{2: 0.4, 3: 0.4}, {2: 0.4, 3: 0.1}], start)
    assert (k, chosen) == (2, 0)
    # the smoothed k cannot be formed by any re-fit: the last re-fit's best k
    k, chosen, _ = choose_refit([{3: 0.2, 4: 0.3}], start)
    assert (k, chosen) == (4, 0)
    assert choose_refit([{}, {}], start)[0] is None


def test_clusterer_records_each_refit():
    pts, _ = blobs([60, 120, 30], [(-4, 0), (4, 0), (0, 5)])
    cl = PolisClusterer(seed=3, refits=5).fit(pts)
    assert cl.refit_best_k_ == [3] * 5
    assert cl.k_state_ == KState(3, 5, 3)
    assert 0 <= cl.refit_ < 5


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.integers(3, 40), st.integers(1, 6))
def test_batched_kmeans_is_lloyd_run_by_run(seed, n, k):
    rng = np.random.default_rng(seed)
    k = min(k, n)
    pts = rng.normal(size=(3, n, 2))
    w = rng.integers(1, 4, size=(3, n)).astype(float)
    init = pts[:, :k].copy()
    # kmeans() stops when the centres move less than 1e-4 × the data's mean variance
    stop = np.array([1e-4 * float(np.mean(np.var(p, axis=0))) for p in pts])
    labels, centers, inertia = kmeans_batch(pts, w, k, rng, stop, init=init)
    for b in range(3):
        lab, cen, inert = kmeans(pts[b], k, 0, weights=w[b], init=init[b])
        np.testing.assert_array_equal(labels[b], lab)
        np.testing.assert_allclose(centers[b], cen, atol=1e-12)
        assert inertia[b] == pytest.approx(inert, rel=1e-9, abs=1e-12)


def test_batched_kmeans_padding_is_ignored():
    pts, _ = blobs([30, 30], [(-3, 0), (3, 0)], seed=4)
    padded = np.vstack([pts, np.repeat(pts[:1], 10, axis=0)])[None]
    w = np.r_[np.ones(60), np.zeros(10)][None]
    labels, centers, inertia = kmeans_batch(padded, w, 2, np.random.default_rng(0), np.zeros(1))
    lab = labels[0, :60]
    assert len(set(lab[:30])) == 1 and len(set(lab[30:])) == 1 and lab[0] != lab[30]
    want = sum(((pts[lab == g] - pts[lab == g].mean(0)) ** 2).sum() for g in (0, 1))
    assert inertia[0] == pytest.approx(want)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**16), st.integers(3, 30), st.integers(2, 5))
def test_batched_silhouettes_match_the_definition(seed, m, k):
    rng = np.random.default_rng(seed)
    pts = rng.normal(size=(3, m, 2))
    labels = rng.integers(0, k, size=(3, m))
    n_valid = rng.integers(2, m + 1, size=3)
    valid = np.arange(m)[None, :] < n_valid[:, None]
    dist = np.sqrt(((pts[:, :, None] - pts[:, None]) ** 2).sum(-1))
    got = _silhouettes_batch(dist, valid, labels, k)
    want = [silhouette(pts[b, : n_valid[b]], labels[b, : n_valid[b]]) for b in range(3)]
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_silhouette_by_hand():
    # two clusters on a line: {0, 1} and {4}; a(0)=1, b(0)=4 -> 3/4; a(1)=1, b(1)=3 -> 2/3;
    # the singleton scores 0
    s = silhouette(np.array([[0.0, 0], [1, 0], [4, 0]]), np.array([0, 0, 1]))
    assert s == pytest.approx((3 / 4 + 2 / 3 + 0) / 3)
