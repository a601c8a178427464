"""Bridging matrix factorisation: bridging statements score above divisive ones."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from synthetic_votes import synthetic_votes

from pluralign.aggregate import BridgingModel, from_votes


def test_consensus_statements_get_the_highest_intercepts():
    votes, truth = synthetic_votes(n_per_group=(50, 50), n_divisive=10, n_consensus=3, seed=4)
    m = from_votes(votes)
    model = BridgingModel(seed=0).fit(m.values, m.seen)
    score = dict(zip(m.statements, model.statement_intercept_, strict=True))
    consensus = [score[s] for s in truth["consensus"]]
    divisive = [v for s, v in score.items() if s not in truth["consensus"]]
    assert min(consensus) > max(divisive)
    # the factor carries the divide: divisive statements load on it, with opposite signs
    f = dict(zip(m.statements, model.statement_factor_[:, 0], strict=True))
    assert f[0] * f[1] < 0


def test_deterministic_and_loss_decreases_with_iterations():
    votes, _ = synthetic_votes(seed=2)
    m = from_votes(votes)
    a = BridgingModel(seed=5, n_iter=3, tol=0).fit(m.values, m.seen)
    b = BridgingModel(seed=5, n_iter=20, tol=0).fit(m.values, m.seen)
    c = BridgingModel(seed=5, n_iter=20, tol=0).fit(m.values, m.seen)
    assert b.loss_ <= a.loss_
    np.testing.assert_array_equal(b.statement_intercept_, c.statement_intercept_)


def test_fit_is_a_stationary_point_of_the_documented_objective():
    # Gradients of sum (r - mu - i_u - i_s - f_u.f_s)^2 + 0.15 (i_u^2 + i_s^2 + mu^2)
    # + 0.03 (|f_u|^2 + |f_s|^2) must vanish at the fitted parameters.
    rng = np.random.default_rng(0)
    dense = rng.choice([-1.0, 1.0, 0.0, np.nan], size=(15, 8), p=[0.35, 0.35, 0.1, 0.2])
    seen = ~np.isnan(dense)
    values = sp.csr_matrix(np.where(seen, dense, 0))
    model = BridgingModel(n_factors=2, n_iter=3000, tol=0, seed=1)
    model.fit(values, sp.csr_matrix(seen.astype(float)))
    rated = seen & (np.nan_to_num(dense) != 0)  # passes are left out
    r = (np.nan_to_num(dense) + 1) / 2
    iu, fu = model.participant_intercept_, model.participant_factor_
    is_, fs = model.statement_intercept_, model.statement_factor_
    pred = model.mu_ + iu[:, None] + is_[None, :] + fu @ fs.T
    err = np.where(rated, r - pred, 0.0)
    assert abs(-2 * err.sum() + 2 * 0.15 * model.mu_) < 1e-5
    np.testing.assert_allclose(-2 * err.sum(1) + 2 * 0.15 * iu, 0, atol=1e-5)
    np.testing.assert_allclose(-2 * err.sum(0) + 2 * 0.15 * is_, 0, atol=1e-5)
    np.testing.assert_allclose(-2 * err @ fs + 2 * 0.03 * fu, 0, atol=1e-5)
    np.testing.assert_allclose(-2 * err.T @ fu + 2 * 0.03 * fs, 0, atol=1e-5)
