"""Weighted Lloyd k-means (single and batched runs) and the silhouette coefficient.

The building blocks of :mod:`pluralign.aggregate.clusters`: k-means++ seeding (Arthur &
Vassilvitskii 2007), Lloyd's algorithm with point weights (Polis clusters base clusters weighted
by their member counts), many independent runs at once as one numpy computation, and the mean
silhouette s = (b − a) / max(a, b) (Rousseeuw 1987) with a point alone in its cluster scoring 0,
as in Polis (``math/src/polismath/math/clusters.clj``).
"""

from __future__ import annotations

import numpy as np


def assign(points: np.ndarray, centers: np.ndarray, chunk: int = 1 << 16):
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
            labels, _ = assign(points, centers)
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
        labels, d2 = assign(points, centers)
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


def plusplus_batch(
    points: np.ndarray, weights: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Weighted k-means++ seeding of B point sets at once: points (B, n, d), weights (B, n);
    returns centres (B, k, d)."""
    b, n, d = points.shape
    rows = np.arange(b)
    u = rng.random((k, b))
    xs = [np.ascontiguousarray(points[:, :, j]) for j in range(d)]  # (B, n) each

    def draw(p: np.ndarray, c: int) -> np.ndarray:
        # inverse-CDF draw in every row at once: row r's normalised cumulative sums, shifted
        # by r, form one sorted array, searched for u + r
        cum = np.cumsum(p, axis=1)
        total = cum[:, -1].copy()
        empty = total <= 0
        total[empty] = 1.0
        cum /= total[:, None]
        cum += rows[:, None]
        idx = np.searchsorted(cum.ravel(), u[c] + rows, side="right") - rows * n
        if empty.any():  # every weighted point already is a centre: any point will do
            idx = np.where(empty, (u[c] * n).astype(np.int64), idx)
        return np.clip(idx, 0, n - 1, out=idx)

    def sq_dist(idx: np.ndarray) -> np.ndarray:
        out = (xs[0] - xs[0][rows, idx][:, None]) ** 2
        for j in range(1, d):
            out += (xs[j] - xs[j][rows, idx][:, None]) ** 2
        return out

    chosen = np.empty((b, k), dtype=np.int64)
    chosen[:, 0] = draw(weights, 0)
    d2 = sq_dist(chosen[:, 0])
    for c in range(1, k):
        chosen[:, c] = draw(weights * d2, c)
        np.minimum(d2, sq_dist(chosen[:, c]), out=d2)
    return points[rows[:, None], chosen]


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
    centers = plusplus_batch(points, weights, k, rng) if init is None else np.array(init)

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


def lloyd_stop(points: np.ndarray, tol: float = 1e-4) -> float:
    """Lloyd's stopping shift: ``tol`` × the data's mean per-dimension variance (scikit-learn)."""
    return tol * float(np.mean(np.var(points, axis=0))) if len(points) > 1 else 0.0


def silhouettes_batch(
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
