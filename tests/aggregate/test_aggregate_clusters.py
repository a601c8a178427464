"""Two-level k-means: smoother by hand, recovery of separated groups, determinism."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pluralign.aggregate import KState, PolisClusterer
from pluralign.aggregate.clusters import smooth_group_count


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
