"""Opinion groups: group-count rule by hand, recovery of separated groups, determinism, and the
batched k-means / silhouette against their one-run definitions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.aggregate import PolisClusterer
from pluralign.aggregate.clusters import base_silhouettes, best_kmeans, choose_group_count
from pluralign.aggregate.kmeans import kmeans, kmeans_batch, silhouette, silhouettes_batch


def test_group_count_stays_at_two_unless_another_clearly_wins():
    sils = {2: 0.40, 3: 0.42, 4: 0.38}
    assert choose_group_count(sils, 2, margin=0.03) == 2  # 3 wins by 0.02 only
    assert choose_group_count(sils, 2, margin=0.01) == 3
    assert choose_group_count({2: 0.30, 3: 0.36, 5: 0.37}, 2, margin=0.03) == 5  # best wins
    assert choose_group_count({2: 0.5, 3: 0.5}, 2, margin=0.0) == 2  # ties: fewer groups
    assert choose_group_count({3: 0.2, 4: 0.3}, 2, margin=0.5) == 4  # 2 not tried


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


def test_groups_are_the_lowest_inertia_kmeans_whatever_the_seed():
    # two elongated blobs where a careless 2-means cuts across both: every seed finds the
    # lowest-inertia split (brute force over the order along x: the optimum is a cut there)
    rng = np.random.default_rng(5)
    pts = np.vstack(
        [rng.normal((-3, 0), (1.0, 0.4), (80, 2)), rng.normal((3, 0), (1.0, 0.4), (50, 2))]
    )
    order = np.argsort(pts[:, 0])
    costs = [
        sum(((p - p.mean(0)) ** 2).sum() for p in (pts[order[:i]], pts[order[i:]]))
        for i in range(1, len(pts))
    ]
    best = int(np.argmin(costs)) + 1
    want = np.zeros(len(pts), dtype=int)
    want[order[best:]] = 1
    for seed in range(5):
        cl = PolisClusterer(seed=seed).fit(pts)
        assert cl.n_groups_ == 2
        got = cl.groupings_[2]
        assert (got == want).all() or (got == 1 - want).all()


def test_best_kmeans_matches_many_plain_restarts():
    # overlapping blobs of unequal size (the shape of an opinion map), duplicates weighted
    pts, _ = blobs([90, 40, 20], [(-2, 0), (2, 0.5), (0, 3)], seed=2, spread=1.0)
    rng = np.random.default_rng(2)
    w = rng.integers(1, 3, len(pts)).astype(float)
    fits = best_kmeans(pts, w, [(np.arange(len(pts)), pts)], [2, 3], 16, rng)
    for k, labels in fits.items():
        inertia = sum(
            w[labels == g]
            @ ((pts[labels == g] - np.average(pts[labels == g], 0, w[labels == g])) ** 2).sum(1)
            for g in range(k)
        )
        plain = min(kmeans(pts, k, s, weights=w, n_init=1)[2] for s in range(40))
        assert inertia <= plain + 1e-9


def test_base_silhouette_is_polis_silhouette_over_base_centres():
    # base clusters {0,1}, {2}, {3,4}; the grouping puts 0,1,2 in group 0 and 3,4 in group 1
    w = np.ones(5)
    base = (np.array([0, 0, 1, 2, 2]), np.array([[0.0, 0.5], [1, 0], [5, 0.5]]))
    got = base_silhouettes([base], {2: np.array([0, 0, 0, 1, 1])}, w)
    assert got[2] == pytest.approx(silhouette(base[1], np.array([0, 0, 1])))
    # a base cluster takes its members' majority group
    got = base_silhouettes([base], {2: np.array([0, 1, 1, 1, 1])}, w * [3, 1, 1, 1, 1])
    assert got[2] == pytest.approx(silhouette(base[1], np.array([0, 1, 1])))


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
    got = silhouettes_batch(dist, valid, labels, k)
    want = [silhouette(pts[b, : n_valid[b]], labels[b, : n_valid[b]]) for b in range(3)]
    np.testing.assert_allclose(got, want, atol=1e-12)


def test_silhouette_by_hand():
    # two clusters on a line: {0, 1} and {4}; a(0)=1, b(0)=4 -> 3/4; a(1)=1, b(1)=3 -> 2/3;
    # the singleton scores 0
    s = silhouette(np.array([[0.0, 0], [1, 0], [4, 0]]), np.array([0, 0, 1]))
    assert s == pytest.approx((3 / 4 + 2 / 3 + 0) / 3)
