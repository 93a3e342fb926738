"""Tracy–Widom CDFs against their known moments and tails; largest eigenvalues of sampled GOE, GUE
and Wishart matrices against TW₁/TW₂ with the matching centring and scale."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt import edge

ENTROPY = 2001_29_295  # Johnstone, Ann. Stat. 29, 295 (2001)


def rng(key: int) -> np.random.Generator:
    """An independent stream per test, whatever the test order."""
    return np.random.default_rng(np.random.SeedSequence(ENTROPY, spawn_key=(key,)))


@pytest.mark.parametrize("beta", [1, 2])
def test_moments_from_the_fredholm_determinants_match_the_literature(beta: int) -> None:
    mean, var = edge.tracy_widom_moments(beta)
    ref_mean, ref_var = {1: (-1.2065335745820, 1.607781034581), 2: (-1.771086807411, 0.8131947928329)}[beta]
    assert mean == pytest.approx(ref_mean, abs=1e-6)
    assert var == pytest.approx(ref_var, abs=1e-6)
    assert edge.TW_MOMENTS[beta] == (ref_mean, ref_var)


def test_cdf_is_monotone_with_the_known_tails() -> None:
    s = np.linspace(-6, 5, 45)
    for beta in (1, 2):
        f = edge.tracy_widom_cdf(s, beta)
        assert np.all(np.diff(f) > 0)
        assert edge.tracy_widom_cdf(-20.0, beta) == 0.0
        assert edge.tracy_widom_cdf(20.0, beta) == 1.0
        np.testing.assert_allclose(edge.tracy_widom_cdf_fast(s, beta), f, atol=5e-8)
    # Right tails: 1 − F ≈ tr K for large s (first term of the Fredholm series), with
    # Ai(x) ≈ e^{−2x^{3/2}/3}/(2√π x^{1/4}): 1 − F₂(s) ≈ e^{−4s^{3/2}/3}/(16π s^{3/2}) and
    # 1 − F₁(s) ≈ ½∫_s^∞ Ai ≈ e^{−2s^{3/2}/3}/(4√π s^{3/4}), to relative O(s^{−3/2}) ≈ 4 % at s = 8.
    for s_, beta, lead in (
        (8.0, 2, math.exp(-4 / 3 * 8**1.5) / (16 * math.pi * 8**1.5)),
        (8.0, 1, math.exp(-2 / 3 * 8**1.5) / (4 * math.sqrt(math.pi) * 8**0.75)),
    ):
        tail = 1.0 - float(edge.tracy_widom_cdf(s_, beta))
        assert tail == pytest.approx(lead, rel=0.1)
    # F₁ lies above F₂ on the left (TW₁ has the larger mean), e.g. at the TW₂ mean.
    assert edge.tracy_widom_cdf(-1.77, 1) < edge.tracy_widom_cdf(-1.77, 2)
    with pytest.raises(ValueError, match="β = 1 and 2"):
        edge.tracy_widom_cdf(0.0, 4)


def test_scalings() -> None:
    mu, sigma = edge.wigner_edge_scaling(200, 0.5)
    assert mu == pytest.approx(20.0) and sigma == pytest.approx(math.sqrt(0.5) * 200 ** (-1 / 6))
    mu, sigma = edge.wishart_edge_scaling(101, 25, scale=2.0)  # √(n − 1) = 10, √p = 5
    assert mu == pytest.approx(2.0 * 225 / 101)
    assert sigma == pytest.approx(2.0 * 15 * (0.1 + 0.2) ** (1 / 3) / 101)


def test_goe_largest_eigenvalue_follows_tw1_and_not_tw2() -> None:
    # 300 dense N = 200 GOE matrices in the project's normalisation (v = 1/2). At N = 200 the
    # finite-N shift of the scaled mean is ≈ −0.07 (measured: −0.069 ± 0.028 from 2000 β-Hermite
    # samples), below the 0.073 standard error of 300 samples, so KS at p > 0.01 is a fair test.
    n, v = 200, 0.5
    lam = rmt.goe_eigenvalues(n, rng(1), 300, v=v)[:, -1]
    mu, sigma = edge.wigner_edge_scaling(n, v)
    x = (lam - mu) / sigma
    res = edge.edge_test(x, 1)
    assert res.ks_pvalue > 0.01, res
    assert abs(res.z_mean) < 3 and abs(res.z_variance) < 3, res
    assert edge.edge_test(x, 2).ks_pvalue < 1e-6


def test_gue_largest_eigenvalue_follows_tw2_and_is_rejected_by_tw1() -> None:
    # The β = 2 Hermite (tridiagonal) model has the GUE eigenvalue law with v = 1 (E|H_ij|² = 1):
    # only the top eigenvalue is computed, so 1500 matrices of N = 200 take ≈ 1 s.
    n = 200
    lam = edge.hermite_largest_eigenvalues(n, 2.0, rng(2), 1500)
    mu, sigma = edge.wigner_edge_scaling(n, 1.0)
    x = (lam - mu) / sigma
    tw2 = edge.edge_test(x, 2)
    assert tw2.ks_pvalue > 0.01, tw2
    assert abs(tw2.z_mean) < 3 and abs(tw2.z_variance) < 3, tw2
    tw1 = edge.edge_test(x, 1)
    assert tw1.ks_pvalue < 1e-20, tw1
    # The means differ by 0.56 = 17 standard errors of 1500 samples, the variances by a factor 2.
    assert tw1.z_mean < -10 and tw1.z_variance < -10, tw1


def test_dense_gue_scaling_matches_the_tridiagonal_model() -> None:
    # The project's dense GUE (v = 1/2) with the same scaling formula: 150 matrices, N = 100.
    n, v = 100, 0.5
    lam = rmt.gue_eigenvalues(n, rng(3), 150, v=v)[:, -1]
    mu, sigma = edge.wigner_edge_scaling(n, v)
    res = edge.edge_test((lam - mu) / sigma, 2)
    assert res.ks_pvalue > 0.01, res
    assert abs(res.z_mean) < 3, res


def test_wishart_largest_eigenvalue_follows_johnstone() -> None:
    # X = WᵀW/N_h, W of shape 100 × 50 with entry variance 0.7; Johnstone's μ_np, σ_np with
    # n = N_h, p = N_v (accurate for n, p ≥ 5 per Johnstone's simulations).
    n_h, n_v, scale = 100, 50, 0.7
    lam = rmt.wishart_eigenvalues(n_h, n_v, rng(4), 400, scale=scale)[:, -1]
    mu, sigma = edge.wishart_edge_scaling(n_h, n_v, scale)
    res = edge.edge_test((lam - mu) / sigma, 1)
    assert res.ks_pvalue > 0.01, res
    assert abs(res.z_mean) < 3 and abs(res.z_variance) < 3, res
    # Real Wishart is β = 1: the complex-class law TW₂ is rejected.
    assert edge.edge_test((lam - mu) / sigma, 2).ks_pvalue < 1e-6


def test_edge_test_needs_data() -> None:
    with pytest.raises(rmt.InsufficientDataError):
        edge.edge_test(np.array([0.0, 1.0]), 1)
