"""Opinion groups: Polis's k-means with a silhouette-chosen group count, fitted once.

Polis (``math/src/polismath/math/conversation.clj``, ``clusters.clj``) clusters the participants
"in the conversation" in the 2-D PCA projection:

1. **Base clusters**: k-means with k = 100 (``:base-k``).
2. **Opinion groups**: for every k in 2 … min(5, 2 + ⌊n_base / 12⌋) (``max-k-fn``), k-means of
   the base-cluster centres weighted by their member counts; each k is scored by the mean
   silhouette over the base-cluster centres (unweighted Euclidean distances) and the best wins.
3. **Smoothing** (``:group-k-smoother``): a running conversation switches to a new k only after
   it was the best 4 updates in a row; a conversation starts at 2 groups (max-k is 2 while it
   has fewer than 24 base clusters).

Polis runs this on every update, each k-means warm-started from the previous update's clusters
(``clean-start-clusters``; a new conversation starts from the first k distinct points), so the
groups it reports are one of several k-means local optima, picked by the conversation's
history. A fit from the final votes has no such history. This module keeps Polis's definitions
and replaces what only the history can decide (``docs/algorithms.md`` §3 gives the measurements
across eleven public conversations behind each choice):

a. **The groups are the lowest-inertia k-means of the participants** (their distinct positions,
   weighted by multiplicity), the best of ``n_init`` k-means++ starts. With that many starts it
   is the global optimum, whatever the seed. Polis's base clusters are a speed device for its
   updates; fitting the groups on one random base clustering made the split depend on that
   base clustering. Above ``direct_max`` distinct positions the groups are fitted, as in Polis,
   on the centres of one base clustering (weighted by member counts).
b. **The silhouette is Polis's, over base clusters**: each base cluster takes the group most of
   its members are in, and the silhouette is computed over the base-cluster centres. It is
   averaged over ``silhouette_fits`` base clusterings (k-means++ seeding of ``base_k`` centres,
   members assigned to the nearest, centres at their members' mean) so that it does not hinge
   on one of them.
c. **The group count stays at ``min_groups``** (2, where a Polis conversation starts) unless
   another k's silhouette exceeds it by more than ``k_margin``, in place of the smoother, which
   keeps a conversation at its group count unless another one keeps winning.

Groups are numbered by size (0 = largest). Randomness comes only from ``seed``.
"""

from __future__ import annotations

import numpy as np

from pluralign.aggregate.kmeans import (
    assign,
    kmeans,
    kmeans_batch,
    lloyd_stop,
    plusplus_batch,
    silhouettes_batch,
)


def _park_unused(centres: np.ndarray, ks: list[int], runs: int, far: np.ndarray) -> None:
    """Runs are grouped by k (``runs`` each); park the centres a run with k < max(ks) does not
    use far from every point, where no point joins them, so they stay put and cost nothing."""
    for i, k in enumerate(ks):
        centres[i * runs : (i + 1) * runs, k:] = far


def best_kmeans(
    atoms: np.ndarray,
    weights: np.ndarray,
    bases: list[tuple[np.ndarray, np.ndarray]],
    ks: range | list[int],
    n_init: int,
    rng: np.random.Generator,
    keep: int = 3,
    warm: int = 10,
) -> dict[int, np.ndarray]:
    """Lowest-inertia weighted k-means of ``atoms`` for every k in ``ks``; returns {k: labels}.

    ``n_init`` k-means++ starts per k, spread over the base clusterings ``bases``, first run (at
    most ``warm`` Lloyd sweeps) on the base-cluster centres, weighted by their members' weight
    as Polis fits its groups; each result is scored by its inertia on the atoms themselves, and
    the ``keep`` best per k are refined by Lloyd on the atoms, the best of those kept. All runs
    of all k go through one batched computation (see :func:`_park_unused`).
    """
    ks = list(ks)
    d = atoms.shape[1]
    kmax, per_base = max(ks), -(-max(1, n_init) // len(bases))
    runs = per_base * len(bases)  # starts per k
    far = atoms.max(0) + 10.0 * (np.ptp(atoms, axis=0) + 1.0)
    m = max(len(c) for _, c in bases)
    pts = np.empty((len(bases), m, d))
    wts = np.zeros((len(bases), m))
    for b, (labels, centres) in enumerate(bases):
        pts[b, : len(centres)], pts[b, len(centres) :] = centres, centres[0]
        wts[b, : len(centres)] = np.bincount(labels, weights=weights, minlength=len(centres))
    pick = np.tile(np.repeat(np.arange(len(bases)), per_base), len(ks))
    pts, wts = pts[pick], wts[pick]
    seeds = plusplus_batch(pts, wts, kmax, rng)
    _park_unused(seeds, ks, runs, far)
    stop = np.array([lloyd_stop(c) for _, c in bases])[pick]
    _, centres, _ = kmeans_batch(pts, wts, kmax, rng, stop, max_iter=warm, init=seeds)
    # score every candidate by its inertia on the atoms (chunked (runs, kmax, atoms) distances)
    scores = np.empty(len(centres))
    for lo in range(0, len(centres), 64):
        c = centres[lo : lo + 64]
        d2 = (atoms[None, None, :, 0] - c[:, :, None, 0]) ** 2
        for j in range(1, d):
            d2 += (atoms[None, None, :, j] - c[:, :, None, j]) ** 2
        scores[lo : lo + 64] = d2.min(1) @ weights
    keep = max(1, min(keep, runs))
    top = np.concatenate(
        [
            i * runs + np.argsort(scores[i * runs : (i + 1) * runs], kind="stable")[:keep]
            for i in range(len(ks))
        ]
    )
    n = len(atoms)
    labels, _, inertia = kmeans_batch(
        np.broadcast_to(atoms, (len(top), n, d)),
        np.broadcast_to(weights, (len(top), n)),
        kmax,
        rng,
        np.full(len(top), lloyd_stop(atoms)),
        init=centres[top],
    )
    return {
        k: labels[i * keep + int(np.argmin(inertia[i * keep : (i + 1) * keep]))]
        for i, k in enumerate(ks)
    }


def seeded_base_clusterings(
    points: np.ndarray, weights: np.ndarray, k: int, runs: int, rng: np.random.Generator
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``runs`` base clusterings of weighted points: k-means++ seeds of ``k`` centres, each point
    assigned to its nearest seed, each centre moved to its members' weighted mean (empty ones
    dropped). Returns (labels, centres) per run."""
    n, d = points.shape
    seeds = plusplus_batch(
        np.broadcast_to(points, (runs, n, d)), np.broadcast_to(weights, (runs, n)), k, rng
    )
    out = []
    for c in seeds:
        labels, _ = assign(points, c)
        _, labels = np.unique(labels, return_inverse=True)
        size = np.bincount(labels, weights=weights)
        centres = np.column_stack(
            [np.bincount(labels, weights=weights * points[:, j]) / size for j in range(d)]
        )
        out.append((labels, centres))
    return out


def base_silhouettes(
    bases: list[tuple[np.ndarray, np.ndarray]], fits: dict[int, np.ndarray], weights: np.ndarray
) -> dict[int, float]:
    """Polis's silhouette of each grouping in ``fits`` ({k: labels of the weighted points}), over
    base clusters: each base cluster takes the group holding most of its members' weight; the
    silhouette is over the base-cluster centres, averaged over the base clusterings."""
    m = max(len(c) for _, c in bases)
    pts = np.zeros((len(bases), m, bases[0][1].shape[1]))
    valid = np.zeros((len(bases), m), dtype=bool)
    for b, (_, centres) in enumerate(bases):
        pts[b, : len(centres)], valid[b, : len(centres)] = centres, True
    dist = np.sqrt(np.maximum(((pts[:, :, None, :] - pts[:, None, :, :]) ** 2).sum(-1), 0))
    out = {}
    for k, labels in fits.items():
        base_group = np.zeros((len(bases), m), dtype=np.int64)
        for b, (base_labels, centres) in enumerate(bases):
            nb = len(centres)
            votes = np.bincount(base_labels * k + labels, weights=weights, minlength=nb * k)
            base_group[b, :nb] = votes.reshape(nb, k).argmax(1)
        out[k] = float(silhouettes_batch(dist, valid, base_group, k).mean())
    return out


def choose_group_count(silhouettes: dict[int, float], min_groups: int, margin: float) -> int:
    """The best-silhouette k (ties → fewer groups), unless it beats ``min_groups`` by no more
    than ``margin``: then ``min_groups``."""
    best = max(silhouettes, key=lambda k: (silhouettes[k], -k))
    base = silhouettes.get(min_groups)
    if best != min_groups and base is not None and silhouettes[best] - base <= margin:
        return min_groups
    return best


class PolisClusterer:
    """Opinion groups of participants' projections (scikit-learn style).

    Parameters:
        base_k: base clusters (Polis: 100); also sets the largest k tried (Polis's max-k rule).
        min_groups, max_groups: range of group counts tried (Polis: 2 … 5).
        seed: seed for every k-means++ start.
        n_init: k-means++ starts of each group k-means (lowest inertia kept).
        silhouette_fits: base clusterings the silhouette is averaged over.
        k_margin: silhouette a group count other than ``min_groups`` must gain over it.
        direct_max: most distinct positions fitted directly; above it the groups are fitted
            on the centres of one base clustering, as in Polis.

    Fitted attributes:
        labels_: opinion group of each point (0 = largest group).
        n_groups_: group count chosen; silhouettes_: {k: silhouette} for every k tried.
        groupings_: {k: each point's group} for every k tried (numbered as fitted, not by
            size), so another ``k_margin`` can be tried with :func:`choose_group_count`.
        group_centers_: (weighted) centre of each group.
        base_labels_, base_centers_, base_weights_: the (first) base clustering: each point's
            base cluster, and each base cluster's centre and member count.
    """

    def __init__(
        self,
        base_k: int = 100,
        min_groups: int = 2,
        max_groups: int = 5,
        seed: int = 0,
        n_init: int = 16,
        silhouette_fits: int = 6,
        k_margin: float = 0.03,
        direct_max: int = 10_000,
    ):
        self.base_k = base_k
        self.min_groups = min_groups
        self.max_groups = max_groups
        self.seed = seed
        self.n_init = n_init
        self.silhouette_fits = silhouette_fits
        self.k_margin = k_margin
        self.direct_max = direct_max

    def fit(self, points: np.ndarray) -> PolisClusterer:
        points = np.asarray(points, dtype=np.float64)
        if len(points) == 0:
            raise ValueError("no participants to cluster")
        rng = np.random.default_rng(self.seed)
        distinct, inverse, counts = np.unique(
            points, axis=0, return_inverse=True, return_counts=True
        )
        inverse = inverse.ravel()
        base_k = max(1, min(self.base_k, len(distinct)))
        if len(distinct) <= base_k:  # every distinct position is its own base cluster
            atoms, weights, atom_of = distinct, counts.astype(np.float64), inverse
            bases = [(np.arange(len(atoms)), atoms)]
        elif len(distinct) <= self.direct_max:
            atoms, weights, atom_of = distinct, counts.astype(np.float64), inverse
            runs = max(1, self.silhouette_fits)
            bases = seeded_base_clusterings(atoms, weights, base_k, runs, rng)
        else:  # Polis's own scaling: the groups are fitted on one base clustering's centres
            base_labels, centres, _ = kmeans(points, base_k, int(rng.integers(2**31)), n_init=1)
            used, atom_of = np.unique(base_labels, return_inverse=True)
            atoms, weights = centres[used], np.bincount(atom_of).astype(np.float64)
            bases = [(np.arange(len(atoms)), atoms)]
        n_base = len(bases[0][1])
        top = min(self.max_groups, 2 + n_base // 12, len(atoms))
        ks = range(self.min_groups, top + 1)
        fits = best_kmeans(atoms, weights, bases, ks, self.n_init, rng) if len(ks) else {}
        self.silhouettes_ = base_silhouettes(bases, fits, weights) if fits else {}
        self.groupings_ = {k: labels[atom_of] for k, labels in fits.items()}
        if fits:
            k = choose_group_count(self.silhouettes_, self.min_groups, self.k_margin)
            atom_group = fits[k]
        else:  # too few distinct positions to split
            atom_group = np.zeros(len(atoms), dtype=np.int64)
        # number groups by size, largest first (ties: lower label first)
        _, atom_group = np.unique(atom_group, return_inverse=True)
        sizes = np.bincount(atom_group, weights=weights)
        order = np.lexsort((np.arange(len(sizes)), -sizes))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self.labels_ = rank[atom_group][atom_of]
        self.n_groups_ = len(sizes)
        self.group_centers_ = np.vstack(
            [points[self.labels_ == g].mean(0) for g in range(self.n_groups_)]
        )
        first_labels, first_centres = bases[0]
        self.base_labels_ = first_labels[atom_of]
        self.base_centers_ = first_centres
        self.base_weights_ = np.bincount(self.base_labels_, minlength=len(first_centres)).astype(
            np.float64
        )
        return self


def halve_groups(
    projection: np.ndarray, groups: np.ndarray, n_groups: int, seed: int, n_init: int = 10
) -> np.ndarray:
    """Each opinion group split in two by 2-means of its members' positions: participant →
    half (2g and 2g + 1 for group g; −1 where ``groups`` is −1).

    The halves are where :mod:`pluralign.aggregate.consensus` looks for a latent group that the
    clustering merged into a larger one (a statement that group rejects passes in the merged
    group's share). A group of fewer than 4 members is not split (all in 2g). Deterministic
    for a given ``seed``; the larger half of each group gets the even label.
    """
    halves = np.full(len(groups), -1, dtype=np.int64)
    for g in range(n_groups):
        idx = np.flatnonzero(groups == g)
        if len(idx) < 4:
            halves[idx] = 2 * g
            continue
        labels, _, _ = kmeans(projection[idx], 2, seed=seed + g, n_init=n_init)
        if (labels == 1).sum() > (labels == 0).sum():
            labels = 1 - labels
        halves[idx] = 2 * g + labels
    return halves
