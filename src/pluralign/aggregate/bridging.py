"""Bridging scores by matrix factorisation, as in Community Notes (Birdwatch).

Each vote is a rating r ∈ {0, 1} (disagree 0, agree 1; passes are left out by default, since a
pass says nothing about agreement). The model (Wojcik et al. 2022, "Birdwatch: Crowd Wisdom and
Bridging Algorithms can Inform Understanding and Reduce the Spread of Misinformation",
arXiv:2210.15723, eq. 1–2) predicts

    r̂_us = μ + i_u + i_s + f_u · f_s

and minimises the L2-regularised squared error

    Σ_(u,s) rated (r_us − r̂_us)² + λ_i (Σ_u i_u² + Σ_s i_s² + μ²) + λ_f (Σ_u |f_u|² + Σ_s |f_s|²)

with λ_i = 0.15 and λ_f = 0.03 (the paper's constants: intercepts are regularised five times
more than factors, so agreement that the factors — the opinion axes — can explain is attributed
to them and not to the intercept). The statement intercept i_s is the **bridging score**: how
much a statement is agreed with beyond what each voter's position on the opinion axes predicts,
i.e. agreement across the divide.

Fitted by alternating least squares: with statement parameters fixed, each participant's
(i_u, f_u) solves a (1 + k) × (1 + k) ridge system, and vice versa; μ has a closed form. Factors
start from a seeded normal draw (scale 0.1); ``n_iter`` sweeps (default 50) or until no
statement intercept moves by more than ``tol`` in a sweep.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from pluralign.aggregate.settings import LAMBDA_FACTOR, LAMBDA_INTERCEPT

__all__ = ["LAMBDA_FACTOR", "LAMBDA_INTERCEPT", "BridgingModel"]


class _Side:
    """One side of the rating matrix in CSR form (rows = participants, or rows = statements):
    each rating's row and column index, so the per-row sums of the ridge systems are weighted
    ``np.bincount`` over the ratings (one pass each, no sparse-matrix construction per sweep)."""

    def __init__(self, ratings: sp.csr_matrix):
        ratings.sort_indices()
        self.cols, self.r, self.indptr = ratings.indices, ratings.data, ratings.indptr
        self.shape = ratings.shape
        self.rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        self.counts = np.diff(self.indptr).astype(np.float64)

    def row_sums(self, per_rating: np.ndarray) -> np.ndarray:
        """Σ over each row's ratings of ``per_rating`` (one value per rating)."""
        return np.bincount(self.rows, weights=per_rating, minlength=self.shape[0])

    def solve(self, other_f, other_i, mu, lam_i, lam_f):
        """Ridge solve of (intercept, factors) per row given the other side's parameters:
        minimise Σ_s (r − μ − i_s − i_u − f_u·f_s)² + λ_i i_u² + λ_f |f_u|² for every row u."""
        n, k = self.shape[0], other_f.shape[1]
        f = other_f[self.cols]  # features of each rating's column: [1, f]
        gram = np.empty((n, k + 1, k + 1))
        gram[:, 0, 0] = self.counts
        for a in range(k):
            gram[:, 0, a + 1] = gram[:, a + 1, 0] = self.row_sums(f[:, a])
            for b in range(a, k):
                gram[:, a + 1, b + 1] = gram[:, b + 1, a + 1] = self.row_sums(f[:, a] * f[:, b])
        gram[:, 0, 0] += lam_i
        for a in range(k):
            gram[:, a + 1, a + 1] += lam_f
        resid = self.r - mu - other_i[self.cols]
        rhs = np.empty((n, k + 1))
        rhs[:, 0] = self.row_sums(resid)
        for a in range(k):
            rhs[:, a + 1] = self.row_sums(resid * f[:, a])
        if k == 1:  # 2 × 2 systems (positive definite): Cramer's rule, cheaper than LAPACK
            g00, g01, g11 = gram[:, 0, 0], gram[:, 0, 1], gram[:, 1, 1]
            det = g00 * g11 - g01 * g01
            icpt = (g11 * rhs[:, 0] - g01 * rhs[:, 1]) / det
            return icpt, ((g00 * rhs[:, 1] - g01 * rhs[:, 0]) / det)[:, None]
        sol = np.linalg.solve(gram, rhs[:, :, None])[:, :, 0]
        return sol[:, 0], sol[:, 1:]


class BridgingModel:
    """Community Notes-style matrix factorisation over agree/disagree votes (scikit-learn style).

    Parameters:
        n_factors: factor dimension k (1 or 2; Community Notes uses 1).
        lambda_intercept, lambda_factor: L2 weights λ_i, λ_f (default 0.15, 0.03).
        pass_value: rating given to a pass, or None to leave passes out (default).
        n_iter, tol: ALS sweeps, and the largest change of a statement intercept in a sweep
            below which fitting stops.
        seed: seed of the initial factors.

    Fitted attributes:
        mu_: global intercept μ.
        participant_intercept_, participant_factor_: i_u and f_u per participant (row).
        statement_intercept_, statement_factor_: i_s and f_s per statement (column);
            ``statement_intercept_`` is the bridging score.
        loss_: final value of the objective; n_iter_: sweeps run.
    """

    def __init__(
        self,
        n_factors: int = 1,
        lambda_intercept: float = LAMBDA_INTERCEPT,
        lambda_factor: float = LAMBDA_FACTOR,
        pass_value: float | None = None,
        n_iter: int = 50,
        tol: float = 1e-3,
        seed: int = 0,
    ):
        self.n_factors = n_factors
        self.lambda_intercept = lambda_intercept
        self.lambda_factor = lambda_factor
        self.pass_value = pass_value
        self.n_iter = n_iter
        self.tol = tol
        self.seed = seed

    def fit(self, values: sp.spmatrix, seen: sp.spmatrix) -> BridgingModel:
        """Fit on votes (``values`` ±1/0, ``seen`` 1 where voted)."""
        values = sp.csr_matrix(values, dtype=np.float64)
        seen = sp.csr_matrix(seen, dtype=np.float64)
        n, m = values.shape
        # every seen cell holds v + 3 ∈ {2, 3, 4} (values' pattern is within seen's)
        both = (values + 3 * seen).tocoo()
        v = both.data - 3
        keep = v != 0 if self.pass_value is None else np.ones(len(v), dtype=bool)
        rows, cols = both.row[keep].astype(np.int64), both.col[keep].astype(np.int64)
        pass_r = 0.5 if self.pass_value is None else self.pass_value
        r = np.where(v[keep] > 0, 1.0, np.where(v[keep] < 0, 0.0, pass_r))
        # explicit zeros (disagree) are kept: the structure is the rated pattern
        ratings = sp.csr_matrix((r, (rows, cols)), shape=(n, m))
        if ratings.nnz != len(r):  # pragma: no cover - (row, col) pairs are unique
            raise ValueError("duplicate ratings")
        users = _Side(ratings)
        by_statement = ratings.tocsc()
        stmts = _Side(
            sp.csr_matrix(
                (by_statement.data, by_statement.indices, by_statement.indptr), shape=(m, n)
            )
        )
        lam_i, lam_f, k = self.lambda_intercept, self.lambda_factor, self.n_factors
        rng = np.random.default_rng(self.seed)
        fu, fs = rng.normal(0, 0.1, (n, k)), rng.normal(0, 0.1, (m, k))
        iu, is_ = np.zeros(n), np.zeros(m)
        n_obs = len(r)
        n_u = np.bincount(rows, minlength=n).astype(np.float64)
        n_s = np.bincount(cols, minlength=m).astype(np.float64)
        r_sum = float(r.sum())
        mu = r_sum / (n_obs + lam_i) if n_obs else 0.0
        it = 0
        for it in range(1, self.n_iter + 1):  # noqa: B007
            iu, fu = users.solve(fs, is_, mu, lam_i, lam_f)
            old = is_
            is_, fs = stmts.solve(fu, iu, mu, lam_i, lam_f)
            # closed-form μ: Σ over rated cells of (r − i_u − i_s − f_u·f_s) / (N + λ_i)
            fit_wo_mu = iu @ n_u + is_ @ n_s + float(np.einsum("ij,ij->", fu[rows], fs[cols]))
            mu = (r_sum - fit_wo_mu) / (n_obs + lam_i) if n_obs else 0.0
            if np.max(np.abs(is_ - old), initial=0.0) <= self.tol:
                break
        pred = mu + iu[rows] + is_[cols] + np.einsum("ij,ij->i", fu[rows], fs[cols])
        loss = float(
            ((r - pred) ** 2).sum()
            + lam_i * (iu @ iu + is_ @ is_ + mu**2)
            + lam_f * ((fu**2).sum() + (fs**2).sum())
        )
        self.mu_ = mu
        self.participant_intercept_, self.participant_factor_ = iu, fu
        self.statement_intercept_, self.statement_factor_ = is_, fs
        self.loss_, self.n_iter_ = loss, it
        return self
