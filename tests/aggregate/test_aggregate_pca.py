"""PCA with mean imputation and Polis's sparsity-aware projection, against dense computation."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from pluralign.aggregate import PolisPCA


def sparse_pair(dense: np.ndarray):
    seen = ~np.isnan(dense)
    values = np.where(seen, dense, 0.0)
    return sp.csr_matrix(values), sp.csr_matrix(seen.astype(float))


def dense_reference(dense: np.ndarray, n_excluded: int = 0):
    """Polis as written: impute column means, centre, PCA, then project voted cells only."""
    mu = np.array([np.nanmean(c) if np.any(~np.isnan(c)) else 0.0 for c in dense.T])
    filled = np.where(np.isnan(dense), mu, dense)
    _, s, vt = np.linalg.svd(filled - mu, full_matrices=False)
    comps = vt[:2]
    proj = np.zeros((len(dense), 2))
    for i, row in enumerate(dense):
        voted = ~np.isnan(row)
        proj[i] = (row[voted] - mu[voted]) @ comps[:, voted].T
        proj[i] *= np.sqrt((dense.shape[1] + n_excluded) / max(voted.sum() + n_excluded, 1))
    return mu, comps, s[:2], proj


def test_hand_computed_projection_scaling():
    # 3 participants, 2 statements; participant 2 saw only statement 0.
    dense = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, np.nan]])
    pca = PolisPCA().fit(*sparse_pair(dense))
    np.testing.assert_allclose(pca.center_, [1 / 3, 0.0])
    c = pca.components_[0]
    # participant 2: (1 - 1/3) * c0, scaled by sqrt(2 / 1)
    np.testing.assert_allclose(pca.projection_[2, 0], np.sqrt(2) * (2 / 3) * c[0])
    # participant 0 voted everything: plain projection of the centred row
    np.testing.assert_allclose(pca.projection_[0, 0], (2 / 3) * c[0] + 1.0 * c[1])


@settings(max_examples=40, deadline=None)
@given(arrays(np.int8, (12, 6), elements=st.integers(-2, 1)), st.integers(0, 3))
def test_matches_dense_reference(cells, n_excluded):
    dense = np.where(cells == -2, np.nan, cells.astype(float))
    pca = PolisPCA(n_excluded=n_excluded).fit(*sparse_pair(dense))
    mu, comps, sing, proj = dense_reference(dense, n_excluded)
    np.testing.assert_allclose(pca.center_, mu, atol=1e-12)
    np.testing.assert_allclose(pca.explained_variance_, sing**2 / 11, atol=1e-8)
    # components are defined up to sign (and rotation when singular values tie): compare the
    # spanned subspace through the projection onto the first component when it is unique
    gap = sing[0] - (sing[1] if len(sing) > 1 else 0)
    if sing[0] > 1e-6 and gap > 1e-3:
        sign = np.sign(pca.components_[0] @ comps[0])
        np.testing.assert_allclose(pca.components_[0], sign * comps[0], atol=1e-6)
        np.testing.assert_allclose(pca.projection_[:, 0], sign * proj[:, 0], atol=1e-6)


def test_transform_equals_fit_projection_and_is_deterministic():
    rng = np.random.default_rng(3)
    dense = rng.choice([-1.0, 0.0, 1.0, np.nan], size=(300, 250))
    values, seen = sparse_pair(dense)
    a = PolisPCA().fit(values, seen)
    b = PolisPCA().fit(values, seen)
    np.testing.assert_array_equal(a.projection_, b.projection_)
    np.testing.assert_allclose(a.transform(values, seen), a.projection_)
    # large path (sparse SVD) agrees with the dense reference
    _, comps, _, proj = dense_reference(dense)
    sign = np.sign(a.components_[0] @ comps[0])
    np.testing.assert_allclose(a.projection_[:, 0], sign * proj[:, 0], atol=1e-6)
