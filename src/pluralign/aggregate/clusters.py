"""Opinion groups: Polis's two-level k-means.

Polis (``math/src/polismath/math/conversation.clj``, ``clusters.clj``) clusters participants in
the 2-D PCA projection in two steps:

1. **Base clusters**: k-means with k = 100 (``:base-k``) over the participants "in the
   conversation", so that a few thousand participants become at most 100 weighted points.
2. **Opinion groups**: k-means over the base-cluster centres, each weighted by its member count,
   for every k in 2 … min(5, 2 + ⌊n_base / 12⌋) (``max-k-fn``); the k with the highest silhouette
   coefficient over the base-cluster centres (unweighted Euclidean distances) wins.

3. **Smoothing**: a running conversation only switches to a new best k after it was best
   ``group_k_buffer`` = 4 times in a row (``:group-k-smoother``); pass the previous fit's
   ``k_state_`` as ``k_state`` to get that behaviour across re-aggregations. A first fit uses the
   best k directly.

Each participant belongs to the group of their base cluster. Groups are numbered by size
(0 = largest). Randomness (k-means initialisation) comes only from ``seed``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class KState:
    """Polis's group-count smoother state: the last best k, how often in a row, the k in use."""

    last_k: int
    last_k_count: int
    smoothed_k: int


def smooth_group_count(state: KState | None, best_k: int, buffer: int = 4) -> KState:
    """Next smoother state after a fit whose best silhouette was at ``best_k``."""
    same = state is not None and state.last_k == best_k
    count = state.last_k_count + 1 if same else 1
    smoothed = best_k if count >= buffer or state is None else state.smoothed_k
    return KState(last_k=best_k, last_k_count=count, smoothed_k=smoothed)


def _assign(points: np.ndarray, centers: np.ndarray, chunk: int = 1 << 16):
    """Nearest centre of each point and the squared distance to it (chunked to bound memory)."""
    n = len(points)
    if len(centers) > 8 and n > 256:  # many centres: a k-d tree query beats the full table
        from scipy.spatial import cKDTree

        dist, labels = cKDTree(centers).query(points, k=1)
        return labels.astype(np.int64), dist**2
    labels = np.empty(n, dtype=np.int64)
    d2 = np.empty(n)
    c2 = (centers**2).sum(1)
    for start in range(0, n, chunk):
        x = points[start : start + chunk]
        dist = (x**2).sum(1)[:, None] - 2 * x @ centers.T + c2[None, :]
        lab = dist.argmin(1)
        labels[start : start + chunk] = lab
        d2[start : start + chunk] = np.maximum(dist[np.arange(len(x)), lab], 0)
    return labels, d2


def _plusplus(points: np.ndarray, k: int, rng: np.random.Generator, w: np.ndarray):
    """k-means++ seeding (Arthur & Vassilvitskii 2007), weighted: P(x) ∝ w(x) · D(x)²."""
    n = len(points)
    centers = np.empty((k, points.shape[1]))

    def draw(p: np.ndarray) -> int:
        cum = np.cumsum(p)
        if cum[-1] <= 0:
            return int(rng.integers(n))
        return int(min(np.searchsorted(cum, rng.random() * cum[-1], side="right"), n - 1))

    centers[0] = points[draw(w)]
    d2 = ((points - centers[0]) ** 2).sum(1)
    for c in range(1, k):
        centers[c] = points[draw(w * d2)]
        np.minimum(d2, ((points - centers[c]) ** 2).sum(1), out=d2)
    return centers


def kmeans(
    points: np.ndarray,
    k: int,
    seed: int,
    weights: np.ndarray | None = None,
    n_init: int = 10,
    max_iter: int = 50,
    tol: float = 1e-4,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted Lloyd k-means, best (lowest weighted inertia) of ``n_init`` k-means++ starts.

    Iterates until no label changes, the centres move less than ``tol`` × mean variance, or
    ``max_iter``. Returns (labels, centres, inertia). A centre left without points keeps its
    position.
    Deterministic for a given ``seed``.
    """
    points = np.asarray(points, dtype=np.float64)
    w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=np.float64)
    rng = np.random.default_rng(seed)
    dim = points.shape[1]
    # stop when the centres move less than tol × the data's mean variance (as scikit-learn)
    stop = tol * float(np.mean(np.var(points, axis=0))) if len(points) > 1 else 0.0
    best: tuple[np.ndarray, np.ndarray, float] | None = None
    for _ in range(n_init):
        centers = _plusplus(points, k, rng, w)
        previous = None
        for _ in range(max_iter):
            labels, _ = _assign(points, centers)
            if previous is not None and np.array_equal(labels, previous):
                break
            previous = labels
            cw = np.bincount(labels, weights=w, minlength=k)
            sums = np.column_stack(
                [np.bincount(labels, weights=w * points[:, d], minlength=k) for d in range(dim)]
            )
            new = np.where(cw[:, None] > 0, sums / np.maximum(cw, 1e-300)[:, None], centers)
            shift = float(((new - centers) ** 2).sum())
            centers = new
            if shift <= stop:
                break
        labels, d2 = _assign(points, centers)
        inertia = float((w * d2).sum())
        if best is None or inertia < best[2]:
            best = (labels, centers, inertia)
    assert best is not None
    return best


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette coefficient s = (b − a) / max(a, b) over points (Rousseeuw 1987), with
    Euclidean distances; a point alone in its cluster scores 0 (as in Polis). −1 when there are
    fewer than two clusters."""
    labels = np.asarray(labels)
    uniq, inv = np.unique(labels, return_inverse=True)
    n, g = len(points), len(uniq)
    if g < 2:
        return -1.0
    dist = np.sqrt(np.maximum(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1), 0))
    onehot = np.zeros((n, g))
    onehot[np.arange(n), inv] = 1
    sums = dist @ onehot  # total distance from each point to each cluster
    sizes = onehot.sum(0)
    own = sizes[inv]
    a = np.where(own > 1, sums[np.arange(n), inv] / np.maximum(own - 1, 1), 0.0)
    mean_other = sums / sizes[None, :]
    mean_other[np.arange(n), inv] = np.inf
    b = mean_other.min(1)
    s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return float(s.mean())


class PolisClusterer:
    """Base clusters then opinion groups, as Polis computes them (scikit-learn style).

    Parameters:
        base_k: number of base clusters (Polis: 100).
        min_groups, max_groups: range of group counts tried (Polis: 2 … 5).
        seed: seed for k-means initialisation.
        k_state: smoother state of a previous fit (``k_state_``), or None for a first fit.
        group_k_buffer: fits in a row a new best k needs before it is used (Polis: 4).
        n_init, base_n_init: k-means restarts (best inertia kept) for the group and the base
            step (base: 1 restart above 20 000 participants). Polis runs k-means once per
            update, warm-started from the previous update's clusters; without that history a
            few seeded restarts make the result depend less on one initialisation.

    Fitted attributes:
        base_labels_: base cluster of each point.
        base_centers_, base_weights_: centre and member count of each base cluster.
        base_group_: group of each base cluster.
        labels_: opinion group of each point (0 = largest group).
        group_centers_: weighted centre of each group.
        silhouettes_: {k: silhouette} for every k tried.
        n_groups_: group count used; k_state_: smoother state to pass to the next fit.
    """

    def __init__(
        self,
        base_k: int = 100,
        min_groups: int = 2,
        max_groups: int = 5,
        seed: int = 0,
        k_state: KState | None = None,
        group_k_buffer: int = 4,
        n_init: int = 10,
        base_n_init: int = 3,
    ):
        self.base_k = base_k
        self.min_groups = min_groups
        self.max_groups = max_groups
        self.seed = seed
        self.k_state = k_state
        self.group_k_buffer = group_k_buffer
        self.n_init = n_init
        self.base_n_init = base_n_init

    def fit(self, points: np.ndarray) -> PolisClusterer:
        points = np.asarray(points, dtype=np.float64)
        n = len(points)
        if n == 0:
            raise ValueError("no participants to cluster")
        n_distinct = len(np.unique(points, axis=0))
        base_k = max(1, min(self.base_k, n_distinct))
        if base_k == 1:
            base_labels, base_centers = np.zeros(n, dtype=int), points.mean(axis=0, keepdims=True)
        else:
            # Restarts cost O(n · base_k) each: fewer for very large conversations.
            n_init = self.base_n_init if n <= 20_000 else 1
            base_labels, base_centers, _ = kmeans(points, base_k, self.seed, n_init=n_init)
        # k-means can leave a cluster empty on duplicate points: drop and relabel.
        used, base_labels = np.unique(base_labels, return_inverse=True)
        base_centers = base_centers[used]
        weights = np.bincount(base_labels).astype(np.float64)
        n_base = len(base_centers)
        max_k = min(self.max_groups, 2 + n_base // 12, n_base)
        self.silhouettes_: dict[int, float] = {}
        clusterings: dict[int, np.ndarray] = {}
        for k in range(self.min_groups, max_k + 1):
            labels, _, _ = kmeans(base_centers, k, self.seed, weights=weights, n_init=self.n_init)
            clusterings[k] = labels
            self.silhouettes_[k] = silhouette(base_centers, labels)
        if clusterings:
            best = max(self.silhouettes_, key=lambda k: (self.silhouettes_[k], -k))
            self.k_state_ = smooth_group_count(self.k_state, best, self.group_k_buffer)
            k = self.k_state_.smoothed_k
            if k not in clusterings:
                k = best
            base_group = clusterings[k]
        else:
            self.k_state_ = None
            base_group = np.zeros(n_base, dtype=int)
        # Number groups by size, largest first (ties by first base cluster index).
        sizes = np.bincount(base_group, weights=weights)
        order = np.lexsort((np.arange(len(sizes)), -sizes))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        base_group = rank[base_group]
        self.base_labels_ = base_labels
        self.base_centers_ = base_centers
        self.base_weights_ = weights
        self.base_group_ = base_group
        self.labels_ = base_group[base_labels]
        self.n_groups_ = int(base_group.max()) + 1
        self.group_centers_ = np.vstack(
            [
                np.average(base_centers[base_group == g], axis=0, weights=weights[base_group == g])
                for g in range(self.n_groups_)
            ]
        )
        return self
