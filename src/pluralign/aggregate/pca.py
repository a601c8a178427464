"""PCA of the vote matrix with Polis's sparsity-aware projection of participants.

Polis (``math/src/polismath/math/pca.clj`` and ``conversation.clj``) replaces each unseen vote by
its statement's mean vote, centres every column on that same mean, and finds the first two
principal components by power iteration. Because imputed cells equal the column mean, the
centred matrix is exactly zero where a vote is missing, so it stays sparse:

    X[i, j] = v[i, j] − μ_j   if participant i voted on statement j, else 0,
    μ_j = mean of the votes cast on statement j.

The components are the top right singular vectors of X (computed here by a sparse truncated SVD,
which finds the same vectors as Polis's power iteration, without its iteration cap). Participant
i is projected with only the statements they voted on and pushed outwards by how little they
voted:

    p_i = sqrt(n_statements / max(n_voted_i, 1)) · Σ_{j voted} (v[i, j] − μ_j) · c_j

(``sparsity-aware-project-ptpt``), so that a participant who voted on a few statements is not
pulled into the centre merely by their missing votes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def centred(values: sp.csr_matrix, seen: sp.csr_matrix, center: np.ndarray) -> sp.csr_matrix:
    """X = values − μ on the voted cells only (zero elsewhere), same sparsity as ``seen``."""
    seen = sp.csr_matrix(seen, dtype=np.float64)
    # values has explicit entries only for ±1; rebuild on the seen pattern so passes count.
    x = seen.multiply(-center[np.newaxis, :]).tocsr() + values.multiply(seen).tocsr()
    return sp.csr_matrix(x)


class PolisPCA:
    """Principal components of the mean-imputed vote matrix (scikit-learn style).

    Parameters:
        n_components: number of components (Polis uses 2).

    Fitted attributes:
        center_: per-statement mean vote μ (0 for a statement nobody voted on).
        components_: array (n_components, n_statements) of unit principal directions.
        explained_variance_: variance along each component (singular value² / (n − 1)).
        projection_: array (n_participants, n_components) of sparsity-aware projections.
    """

    def __init__(self, n_components: int = 2, n_excluded: int = 0):
        self.n_components = n_components
        self.n_excluded = n_excluded

    def fit(self, values: sp.spmatrix, seen: sp.spmatrix) -> PolisPCA:
        """Fit on a vote matrix given as ``values`` (±1/0) and ``seen`` (1 where voted)."""
        values, seen = (
            sp.csr_matrix(values, dtype=np.float64),
            sp.csr_matrix(seen, dtype=np.float64),
        )
        n, m = values.shape
        n_seen = np.asarray(seen.sum(axis=0)).ravel()
        total = np.asarray(values.multiply(seen).sum(axis=0)).ravel()
        self.center_ = np.divide(total, n_seen, out=np.zeros(m), where=n_seen > 0)
        x = centred(values, seen, self.center_)
        k = max(0, min(self.n_components, n, m))
        comps, sing = _top_right_singular_vectors(x, k)
        if k < self.n_components:  # pad so downstream code can rely on the shape
            comps = np.vstack([comps, np.zeros((self.n_components - k, m))])
            sing = np.concatenate([sing, np.zeros(self.n_components - k)])
        self.components_ = comps
        self.explained_variance_ = sing**2 / max(n - 1, 1)
        self.projection_ = self._project(x, seen)
        return self

    def transform(self, values: sp.spmatrix, seen: sp.spmatrix) -> np.ndarray:
        """Sparsity-aware projection of (new) participants on the fitted components."""
        seen = sp.csr_matrix(seen, dtype=np.float64)
        x = centred(sp.csr_matrix(values, dtype=np.float64), seen, self.center_)
        return self._project(x, seen)

    def _project(self, x: sp.csr_matrix, seen: sp.csr_matrix) -> np.ndarray:
        m = x.shape[1] + self.n_excluded
        n_voted = np.asarray(seen.sum(axis=1)).ravel() + self.n_excluded
        scale = np.sqrt(m / np.maximum(n_voted, 1))
        return np.asarray(x @ self.components_.T) * scale[:, np.newaxis]


def _top_right_singular_vectors(x: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k right singular vectors (rows) and singular values, with a deterministic sign: the
    largest-magnitude loading of each vector is positive."""
    n, m = x.shape
    if k == 0:
        return np.zeros((0, m)), np.zeros(0)
    if min(n, m) <= max(2 * k + 2, 200):
        # Small: exact eigen-decomposition of the Gram matrix.
        gram = (x.T @ x).toarray() if m <= n else None
        if gram is not None:
            evals, evecs = np.linalg.eigh(gram)
            order = np.argsort(evals)[::-1][:k]
            comps = evecs[:, order].T
            sing = np.sqrt(np.clip(evals[order], 0, None))
        else:
            _, s, vt = np.linalg.svd(x.toarray(), full_matrices=False)
            comps, sing = vt[:k], s[:k]
    else:
        from scipy.sparse.linalg import svds

        # A fixed start vector keeps ARPACK deterministic.
        v0 = np.ones(min(n, m)) / np.sqrt(min(n, m))
        _, s, vt = svds(x, k=k, v0=v0, tol=1e-8)
        order = np.argsort(s)[::-1]
        comps, sing = vt[order], s[order]
    idx = np.argmax(np.abs(comps), axis=1)
    signs = np.sign(comps[np.arange(len(comps)), idx])
    signs[signs == 0] = 1
    return comps * signs[:, np.newaxis], sing
