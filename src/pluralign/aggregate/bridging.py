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

LAMBDA_INTERCEPT = 0.15
LAMBDA_FACTOR = 0.03


def _solve_side(
    mask: sp.csr_matrix,
    resid: sp.csr_matrix,
    other_f: np.ndarray,
    other_i: np.ndarray,
    mu: float,
    lam_i: float,
    lam_f: float,
):
    """Ridge solve of (intercept, factors) for each row of ``mask`` given the other side."""
    m, k = other_f.shape
    phi = np.hstack([np.ones((m, 1)), other_f])  # features of each column: [1, f]
    outer = (phi[:, :, None] * phi[:, None, :]).reshape(m, -1)
    gram = np.asarray(mask @ outer).reshape(-1, k + 1, k + 1)
    gram += np.diag([lam_i] + [lam_f] * k)[None]
    # target for row u, column s: r − μ − i_s
    rhs = np.asarray(resid @ phi) - np.asarray(mask @ (phi * (mu + other_i)[:, None]))
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
        tol: float = 1e-6,
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
        rated = (values != 0).astype(np.float64) if self.pass_value is None else seen
        rated = sp.csr_matrix(rated)
        # ratings on the rated pattern: agree 1, disagree 0, pass pass_value
        r = rated.multiply(values.multiply(0.5)).tocsr() + rated.multiply(0.5).tocsr()
        if self.pass_value is not None:
            passes = seen - (values != 0).astype(np.float64)
            r = r + passes.multiply(self.pass_value - 0.5)
        r = sp.csr_matrix(r)
        mask_t, r_t = rated.T.tocsr(), r.T.tocsr()
        lam_i, lam_f, k = self.lambda_intercept, self.lambda_factor, self.n_factors
        rng = np.random.default_rng(self.seed)
        fu, fs = rng.normal(0, 0.1, (n, k)), rng.normal(0, 0.1, (m, k))
        iu, is_ = np.zeros(n), np.zeros(m)
        n_obs = rated.nnz
        n_u = np.asarray(rated.sum(axis=1)).ravel()
        n_s = np.asarray(rated.sum(axis=0)).ravel()
        r_sum = float(r.sum())
        mu = r_sum / (n_obs + lam_i) if n_obs else 0.0
        it = 0
        for it in range(1, self.n_iter + 1):  # noqa: B007
            iu, fu = _solve_side(rated, r, fs, is_, mu, lam_i, lam_f)
            old = is_
            is_, fs = _solve_side(mask_t, r_t, fu, iu, mu, lam_i, lam_f)
            # closed-form μ: Σ over rated cells of (r − i_u − i_s − f_u·f_s) / (N + λ_i)
            fit_wo_mu = iu @ n_u + is_ @ n_s + float((fu * np.asarray(rated @ fs)).sum())
            mu = (r_sum - fit_wo_mu) / (n_obs + lam_i) if n_obs else 0.0
            if np.max(np.abs(is_ - old), initial=0.0) <= self.tol:
                break
        err = r - self._predict(rated, iu, fu, is_, fs, mu)
        loss = float(
            err.multiply(err).sum()
            + lam_i * (iu @ iu + is_ @ is_ + mu**2)
            + lam_f * ((fu**2).sum() + (fs**2).sum())
        )
        self.mu_ = mu
        self.participant_intercept_, self.participant_factor_ = iu, fu
        self.statement_intercept_, self.statement_factor_ = is_, fs
        self.loss_, self.n_iter_ = loss, it
        return self

    @staticmethod
    def _predict(mask: sp.csr_matrix, iu, fu, is_, fs, mu) -> sp.csr_matrix:
        """Predictions on the rated cells only, as a sparse matrix with ``mask``'s pattern."""
        coo = mask.tocoo()
        vals = mu + iu[coo.row] + is_[coo.col] + np.einsum("ij,ij->i", fu[coo.row], fs[coo.col])
        return sp.csr_matrix((vals, (coo.row, coo.col)), shape=mask.shape)
