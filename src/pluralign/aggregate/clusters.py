"""Opinion groups: Polis's two-level k-means.

Polis (``math/src/polismath/math/conversation.clj``, ``clusters.clj``) clusters participants in
the 2-D PCA projection in two steps:

1. **Base clusters**: k-means with k = 100 (``:base-k``) over the participants "in the
   conversation", so that a few thousand participants become at most 100 weighted points.
2. **Opinion groups**: k-means over the base-cluster centres, each weighted by its member count,
   for every k in 2 … min(5, 2 + ⌊n_base / 12⌋) (``max-k-fn``); the k with the highest silhouette
   coefficient over the base-cluster centres (unweighted Euclidean distances) wins.

3. **Smoothing**: a running conversation only switches to a new best k after it was best
   ``group_k_buffer`` = 4 times in a row (``:group-k-smoother``). Polis gets its stability from
   running continuously (each update warm-starts k-means from the previous one and feeds the
   smoother). A one-shot fit has no history, so steps 1–2 are re-fitted ``refits`` = 4 times
   with independent k-means++ starts; the smoother runs over the re-fits as over four updates,
   starting from ``min_groups`` (a Polis conversation starts at 2 groups: max-k is 2 while it
   has fewer than 24 base clusters) or from a previous fit's ``k_state_``; so another k is used
   only when all four re-fits find it best. Of the re-fits, the one whose clustering at that k
   has the highest silhouette (Polis's criterion for comparing clusterings) is kept.

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
    init: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted Lloyd k-means, best (lowest weighted inertia) of ``n_init`` k-means++ starts,
    or one run from the centres ``init`` when given.

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
    for _ in range(1 if init is not None else n_init):
        if init is not None:
            centers = np.array(init, dtype=np.float64)
        else:
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


def _plusplus_batch(
    points: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Weighted k-means++ seeding of B point sets at once: points (B, n, d), weights (B, n);
    returns centres (B, k, d)."""
    b, n, d = points.shape
    rows = np.arange(b)
    u = rng.random((k, b))

    def draw(p: np.ndarray, c: int) -> np.ndarray:
        cum = np.cumsum(p, axis=1)
        total = cum[:, -1]
        idx = (cum <= (u[c] * total)[:, None]).sum(1)
        if not total.all():  # every weighted point already is a centre: any point will do
            idx = np.where(total > 0, idx, (u[c] * n).astype(np.int64))
        return np.minimum(idx, n - 1, out=idx)

    centers = np.empty((b, k, d))
    centers[:, 0] = points[rows, draw(weights, 0)]
    d2 = ((points - centers[:, :1]) ** 2).sum(-1)
    for c in range(1, k):
        centers[:, c] = points[rows, draw(weights * d2, c)]
        np.minimum(d2, ((points - centers[:, c : c + 1]) ** 2).sum(-1), out=d2)
    return centers


def kmeans_batch(
    points: np.ndarray,
    weights: np.ndarray,
    k: int,
    rng: np.random.Generator,
    stop: np.ndarray,
    max_iter: int = 50,
    init: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Many independent weighted k-means runs at once (one k-means++ start each, or the
    centres ``init`` (B, k, d) when given).

    ``points`` (B, n, d) and ``weights`` (B, n) hold B point sets (pad a smaller set with
    zero-weight copies of one of its points: they are never drawn and move no centre). Each run
    is Lloyd's algorithm exactly as :func:`kmeans`: stop when no label changes, the centres move
    less than ``stop[b]`` (squared), or after ``max_iter`` sweeps. Runs that have stopped drop out
    of the arrays, so the cost follows the slowest runs only. Returns labels (B, n),
    centres (B, k, d) and weighted inertia (B,).
    """
    b, n, d = points.shape
    rows = np.arange(b)
    centers = _plusplus_batch(points, weights, k, rng) if init is None else np.array(init)

    coords = [np.ascontiguousarray(points[:, :, j]) for j in range(d)]  # (B, n) each

    def sq_dist(xs: list[np.ndarray], cs: list[np.ndarray]) -> np.ndarray:
        """Squared distances (runs, k, n) from each centre to each point."""
        out = (xs[0][:, None, :] - cs[0][:, :, None]) ** 2
        for j in range(1, d):
            out += (xs[j][:, None, :] - cs[j][:, :, None]) ** 2
        return out

    # Lloyd sweeps on the runs still going; a run that stops is written out and dropped.
    out = [np.ascontiguousarray(centers[:, :, j]) for j in range(d)]
    run, xs, cs, stop_a = rows, coords, [c.copy() for c in out], stop
    w_flat = weights.ravel()
    wx_flat = [(weights * x).ravel() for x in coords]
    offset = (rows * k)[:, None]
    labels = np.full((b, n), -1)
    for _ in range(max_iter):
        lab = sq_dist(xs, cs).argmin(1)
        same = (lab == labels).all(1)  # labels unchanged: converged, centres stay
        labels = lab
        flat = (lab + offset).ravel()
        size = len(run) * k
        cw = np.bincount(flat, weights=w_flat, minlength=size).reshape(-1, k)
        empty = cw <= 0  # a centre left without points keeps its position
        cw[empty] = 1.0
        shift = 0.0
        for j in range(d):
            new = np.bincount(flat, weights=wx_flat[j], minlength=size).reshape(-1, k) / cw
            np.copyto(new, cs[j], where=empty)
            shift = shift + ((new - cs[j]) ** 2).sum(1)
            cs[j] = new
        done = same | (shift <= stop_a)
        if done.any():
            for j in range(d):
                out[j][run[done]] = cs[j][done]
            keep = ~done
            run, stop_a, labels = run[keep], stop_a[keep], labels[keep]
            xs, cs = [a[keep] for a in xs], [a[keep] for a in cs]
            w_flat = w_flat.reshape(-1, n)[keep].ravel()
            wx_flat = [a.reshape(-1, n)[keep].ravel() for a in wx_flat]
            offset = offset[: len(run)]
            if len(run) == 0:
                break
    else:
        for j in range(d):
            out[j][run] = cs[j]
    centers = np.stack(out, -1)
    dist = sq_dist(coords, out)
    labels = dist.argmin(1)
    d2 = np.take_along_axis(dist, labels[:, None, :], 1)[:, 0, :]
    inertia = (weights * np.maximum(d2, 0)).sum(1)
    return labels, centers, inertia


def _stop(points: np.ndarray, tol: float = 1e-4) -> float:
    """Lloyd's stopping shift: ``tol`` × the data's mean per-dimension variance (scikit-learn)."""
    return tol * float(np.mean(np.var(points, axis=0))) if len(points) > 1 else 0.0


def _silhouettes_batch(
    dist: np.ndarray, valid: np.ndarray, labels: np.ndarray, k: int
) -> np.ndarray:
    """:func:`silhouette` of R labelings at once: ``dist`` (R, m, m) distances, ``valid``
    (R, m) marks real points (padding excluded), ``labels`` (R, m) in 0 … k−1. Empty clusters
    do not count; fewer than two non-empty clusters give −1."""
    r, m = labels.shape
    onehot = np.zeros((r, m, k))
    np.put_along_axis(onehot, labels[:, :, None], valid[:, :, None].astype(float), axis=2)
    sums = np.matmul(dist, onehot)  # (R, m, k): total distance to each cluster
    sizes = onehot.sum(1)  # (R, k)
    own = np.take_along_axis(sizes, labels, 1)
    to_own = np.take_along_axis(sums, labels[:, :, None], 2)[:, :, 0]
    a = np.where(own > 1, to_own / np.maximum(own - 1, 1), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_other = np.where(sizes[:, None, :] > 0, sums / sizes[:, None, :], np.inf)
    np.put_along_axis(mean_other, labels[:, :, None], np.inf, axis=2)
    b = mean_other.min(2)
    with np.errstate(invalid="ignore"):  # b = inf with one cluster: scored −1 below
        s = np.where(own > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    s = np.where(valid, s, 0.0).sum(1) / valid.sum(1)
    return np.where((sizes > 0).sum(1) >= 2, s, -1.0)


def choose_refit(
    silhouettes: list[dict[int, float]], state: KState, buffer: int = 4
) -> tuple[int | None, int, KState]:
    """Polis's group-count smoother run over re-fits, then the re-fit to keep.

    ``silhouettes`` holds each re-fit's {k: silhouette}; each re-fit's best k (ties → fewer
    groups) updates ``state`` as one conversation update would. The group count is the smoothed
    k, and the re-fit kept is the one whose clustering at that k has the highest silhouette
    (ties → the earlier). If no re-fit could form the smoothed k, the last re-fit's best k is
    used. Returns (k, index, state); k is None when no re-fit tried any k.
    """
    for sil in silhouettes:
        if sil:
            state = smooth_group_count(state, max(sil, key=lambda k: (sil[k], -k)), buffer)
    k = state.smoothed_k
    having = [i for i, sil in enumerate(silhouettes) if k in sil]
    if not having:
        if not any(silhouettes):
            return None, 0, state
        k = state.last_k
        having = [i for i, sil in enumerate(silhouettes) if k in sil]
    return k, max(having, key=lambda i: (silhouettes[i][k], -i)), state


@dataclass
class _Refit:
    base_labels: np.ndarray
    base_centers: np.ndarray
    weights: np.ndarray
    clusterings: dict[int, np.ndarray]
    silhouettes: dict[int, float]

    @property
    def best_k(self) -> int:
        return max(self.silhouettes, key=lambda k: (self.silhouettes[k], -k))


class PolisClusterer:
    """Base clusters then opinion groups, as Polis computes them (scikit-learn style).

    Parameters:
        base_k: number of base clusters (Polis: 100).
        min_groups, max_groups: range of group counts tried (Polis: 2 … 5).
        seed: seed for k-means initialisation.
        k_state: smoother state of a previous fit (``k_state_``), or None for a first fit.
        group_k_buffer: fits in a row a new best k needs before it is used (Polis: 4).
        n_init: k-means++ starts of each group k-means (best weighted inertia kept).
        refits: independent fits of the whole two-level clustering (base clusters, then groups
            for every k). Polis runs once per update, warm-started from the previous update,
            and its group-count smoother needs a new k to be best ``group_k_buffer`` updates in
            a row. Without that history the re-fits stand in for the updates: the smoother
            runs over them (starting from ``min_groups``, or from ``k_state``), and of the
            re-fits the one whose clustering at the smoothed k has the highest silhouette is
            kept. Above 20 000 points the re-fits share one base clustering.
        base_n_init: k-means++ starts of each base k-means (default 1: variety comes from
            the re-fits).

    Fitted attributes:
        base_labels_: base cluster of each point.
        base_centers_, base_weights_: centre and member count of each base cluster.
        base_group_: group of each base cluster.
        labels_: opinion group of each point (0 = largest group).
        group_centers_: weighted centre of each group.
        silhouettes_: {k: silhouette} for every k tried, in the re-fit kept.
        refit_best_k_: best k (highest silhouette) of each re-fit, in order.
        refit_: index of the re-fit kept.
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
        n_init: int = 5,
        refits: int = 4,
        base_n_init: int = 1,
    ):
        self.base_k = base_k
        self.min_groups = min_groups
        self.max_groups = max_groups
        self.seed = seed
        self.k_state = k_state
        self.group_k_buffer = group_k_buffer
        self.n_init = n_init
        self.refits = refits
        self.base_n_init = base_n_init

    def _base_clusterings(self, points: np.ndarray, base_k: int, rng) -> list[tuple]:
        n = len(points)
        r = max(1, self.refits)
        if base_k == 1:
            one = (np.zeros(n, dtype=np.int64), points.mean(axis=0, keepdims=True))
            return [one] * r
        if n > 20_000:  # one base clustering shared by all re-fits (cost O(n · base_k) each)
            labels, centers, _ = kmeans(points, base_k, int(rng.integers(2**31)), n_init=1)
            return [(labels, centers)] * r
        runs = r * max(1, self.base_n_init)
        if runs * n * base_k <= 200_000:  # small: all runs at once; else k-d tree per run
            pts = np.broadcast_to(points, (runs, *points.shape))
            labels, centers, inertia = kmeans_batch(
                pts, np.ones((runs, n)), base_k, rng, np.full(runs, _stop(points))
            )
            out = []
            for i in range(r):
                block = slice(i * self.base_n_init, (i + 1) * self.base_n_init)
                j = block.start + int(np.argmin(inertia[block]))
                out.append((labels[j], centers[j]))
            return out
        # larger: seed all runs at once, then Lloyd per run with k-d tree assignment
        pts = np.broadcast_to(points, (runs, *points.shape))
        starts = _plusplus_batch(pts, np.ones((runs, n)), base_k, rng)
        fits = [kmeans(points, base_k, 0, init=c) for c in starts]
        out = []
        for i in range(r):
            block = fits[i * self.base_n_init : (i + 1) * self.base_n_init]
            best = min(block, key=lambda f: f[2])
            out.append(best[:2])
        return out

    def fit(self, points: np.ndarray) -> PolisClusterer:
        points = np.asarray(points, dtype=np.float64)
        n = len(points)
        if n == 0:
            raise ValueError("no participants to cluster")
        rng = np.random.default_rng(self.seed)
        n_distinct = len(np.unique(points, axis=0))
        base_k = max(1, min(self.base_k, n_distinct))
        refits = []
        for base_labels, base_centers in self._base_clusterings(points, base_k, rng):
            # k-means can leave a cluster empty on duplicate points: drop and relabel.
            used, base_labels = np.unique(base_labels, return_inverse=True)
            refits.append(
                _Refit(
                    base_labels, base_centers[used], np.bincount(base_labels).astype(float), {}, {}
                )
            )
        self._group_clusterings(refits, rng)
        state = self.k_state
        if state is None:  # a conversation starts with the fewest groups (Polis: max-k is 2)
            state = KState(self.min_groups, 0, self.min_groups)
        k, chosen, state = choose_refit([f.silhouettes for f in refits], state, self.group_k_buffer)
        if k is None:
            base_group = np.zeros(len(refits[0].base_centers), dtype=int)
        else:
            base_group = refits[chosen].clusterings[k]
        fit = refits[chosen]
        self.k_state_ = state if k is not None else None
        self.silhouettes_ = dict(fit.silhouettes)
        self.refit_best_k_ = [f.best_k for f in refits if f.silhouettes]
        self.refit_ = chosen
        base_centers, weights = fit.base_centers, fit.weights
        # Number groups by size, largest first (ties by first base cluster index).
        sizes = np.bincount(base_group, weights=weights)
        order = np.lexsort((np.arange(len(sizes)), -sizes))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        base_group = rank[base_group]
        self.base_labels_ = fit.base_labels
        self.base_centers_ = base_centers
        self.base_weights_ = weights
        self.base_group_ = base_group
        self.labels_ = base_group[fit.base_labels]
        self.n_groups_ = int(base_group.max()) + 1
        self.group_centers_ = np.vstack(
            [
                np.average(base_centers[base_group == g], axis=0, weights=weights[base_group == g])
                for g in range(self.n_groups_)
            ]
        )
        return self

    def _group_clusterings(self, refits: list[_Refit], rng: np.random.Generator) -> None:
        """Weighted k-means of every re-fit's base centres for each k (``n_init`` starts, best
        inertia kept), all re-fits and starts at once; then silhouettes."""
        max_ks = [
            min(self.max_groups, 2 + len(f.base_centers) // 12, len(f.base_centers)) for f in refits
        ]
        top = max(max_ks)
        if top < self.min_groups:
            return
        m = max(len(f.base_centers) for f in refits)
        reps = max(1, self.n_init)
        pts = np.empty((len(refits), m, refits[0].base_centers.shape[1]))
        wts = np.zeros((len(refits), m))
        for i, f in enumerate(refits):
            nb = len(f.base_centers)
            pts[i, :nb], pts[i, nb:] = f.base_centers, f.base_centers[0]
            wts[i, :nb] = f.weights
        stop = np.array([_stop(f.base_centers) for f in refits])
        pts_b, wts_b, stop_b = (np.repeat(a, reps, axis=0) for a in (pts, wts, stop))
        valid = wts > 0
        dist = np.sqrt(np.maximum(((pts[:, :, None, :] - pts[:, None, :, :]) ** 2).sum(-1), 0))
        for k in range(self.min_groups, top + 1):
            labels, _, inertia = kmeans_batch(pts_b, wts_b, k, rng, stop_b)
            best = np.arange(len(refits)) * reps + inertia.reshape(-1, reps).argmin(1)
            sil = _silhouettes_batch(dist, valid, labels[best], k)
            for i, f in enumerate(refits):
                if k <= max_ks[i]:
                    f.clusterings[k] = labels[best[i], : len(f.base_centers)]
                    f.silhouettes[k] = float(sil[i])
