"""The Dumitriu–Edelman β-Hermite samplers (rmt/ensembles.py) against dense GOE/GUE/GSE sampling.

Dumitriu & Edelman, J. Math. Phys. 43, 5830 (2002): the tridiagonal model with diagonal N(0, 1)
and off-diagonal χ_{β(n−k)}/√2 has the eigenvalue density ∝ Π|λ_i − λ_j|^β exp(−Σλ²/2), i.e. the
GOE with v = 1/2 (β = 1), the GUE with v = 1 (β = 2) and the GSE pair means with v = 1 (β = 4).
Each comparison is a two-sample KS test of independent values (one per matrix) at level 10⁻³.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from mpi_dbm import rmt

ALPHA = 1e-3
N = 10
SIZE = 3000
#: dense sampler and its off-diagonal variance v with the β-Hermite model's eigenvalue law
DENSE = {1: (rmt.goe_eigenvalues, 0.5), 2: (rmt.gue_eigenvalues, 1.0), 4: (rmt.gse_eigenvalues, 1.0)}


def _pair(beta: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    dense, v = DENSE[beta]
    return (
        rmt.beta_hermite_eigenvalues(N, beta, np.random.default_rng(seed), SIZE),
        dense(N, np.random.default_rng(seed + 1), SIZE, v=v),
    )


@pytest.mark.parametrize("beta", [1, 2, 4])
def test_largest_eigenvalue_has_the_dense_law(beta: int) -> None:
    tri, dense = _pair(beta, 100 + beta)
    assert ks_2samp(tri[:, -1], dense[:, -1]).pvalue > ALPHA


@pytest.mark.parametrize("beta", [1, 2, 4])
def test_middle_spacing_ratio_has_the_dense_law(beta: int) -> None:
    """r̃ of the central three levels (scale-free), one per matrix."""
    tri, dense = _pair(beta, 200 + beta)
    mid = N // 2 - 1
    r_tri = rmt.spacing_ratios(tri[:, mid : mid + 3])[:, 0]
    r_dense = rmt.spacing_ratios(dense[:, mid : mid + 3])[:, 0]
    assert ks_2samp(r_tri, r_dense).pvalue > ALPHA


def test_the_test_tells_the_ensembles_apart() -> None:
    """Power: the same KS test rejects a β = 1 tridiagonal sample against dense GUE ratios."""
    tri = rmt.beta_hermite_eigenvalues(N, 1, np.random.default_rng(5), SIZE)
    gue = rmt.gue_eigenvalues(N, np.random.default_rng(6), SIZE, v=1.0)
    mid = N // 2 - 1
    r_tri = rmt.spacing_ratios(tri[:, mid : mid + 3])[:, 0]
    r_gue = rmt.spacing_ratios(gue[:, mid : mid + 3])[:, 0]
    assert ks_2samp(r_tri, r_gue).pvalue < ALPHA


@pytest.mark.parametrize("n", [1, 2, 5, 8, 9, 30])
def test_tridiagonal_eigenvalues_equal_dense_diagonalisation(n: int) -> None:
    d, e = rmt.beta_hermite_tridiagonal(n, 2.0, 3, 40)
    assert d.shape == (40, n) and e.shape == (40, n - 1)
    h = np.zeros((40, n, n))
    i = np.arange(n)
    h[:, i, i] = d
    h[:, i[:-1], i[1:]] = e
    h[:, i[1:], i[:-1]] = e
    np.testing.assert_allclose(rmt.tridiagonal_eigenvalues(d, e), np.linalg.eigvalsh(h), atol=1e-12)


def test_sample_levels_dispatches_and_is_reproducible() -> None:
    a = rmt.sample_levels("gse", 12, 9, 50, sampler="tridiagonal")
    b = rmt.beta_hermite_eigenvalues(12, 4.0, np.random.default_rng(9), 50)
    assert np.array_equal(a, b)
    assert np.all(np.diff(a, axis=1) >= 0)
    assert rmt.sample_levels("poisson", 5, 1, 3, sampler="tridiagonal").shape == (3, 5)
    with pytest.raises(ValueError, match="sampler"):
        rmt.sample_levels("goe", 5, 1, 3, sampler="qr")
    with pytest.raises(ValueError, match="beta"):
        rmt.beta_hermite_tridiagonal(5, 0.0, 1, 3)


def test_references_sample_the_tridiagonal_model_and_share_one_cache_entry() -> None:
    auto = rmt.reference_ratios("gue", 9, 0, 5_000)
    assert auto is rmt.reference_ratios("GUE", np.int64(9), n_ratios=5_000, sampler="tridiagonal")
    assert rmt.reference_mean_ratio("gue", 9, 0, 5_000).params["sampler"] == "tridiagonal"
    assert rmt.reference_ratios("gue", 9, 0, 5_000, sampler="dense") is not auto
