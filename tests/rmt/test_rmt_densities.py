"""Densities: normalisation, moments and closed-form CDFs against quadrature; 2×2 GOE sampling."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import kstest

from mpi_dbm import rmt


def moments(pdf, lo: float, hi: float, points=None) -> tuple[float, float, float]:
    m = [quad(lambda x, k=k: x**k * pdf(x), lo, hi, points=points, limit=200)[0] for k in range(3)]
    return m[0], m[1], m[2] - m[1] ** 2


@pytest.mark.parametrize(("c", "r"), [(0.0, 1.0), (3.2, 0.4)])
def test_semicircle(c: float, r: float) -> None:
    norm, mean, var = moments(lambda x: rmt.semicircle_pdf(x, c, r), c - r, c + r)
    assert norm == pytest.approx(1.0, abs=1e-9)
    assert mean == pytest.approx(c, abs=1e-9)
    assert var == pytest.approx(r**2 / 4, rel=1e-8)  # ⟨(λ − c)²⟩ = R²/4
    x = c + r * np.array([-1.2, -0.7, 0.0, 0.4, 0.99, 1.5])
    integral = [quad(lambda t: rmt.semicircle_pdf(t, c, r), c - r, min(v, c + r))[0] for v in x]
    np.testing.assert_allclose(rmt.semicircle_cdf(x, c, r), integral, atol=1e-10)


@pytest.mark.parametrize(("scale", "q"), [(1.0, 1.0), (0.7, 0.5), (2.0, 0.1)])
def test_marchenko_pastur(scale: float, q: float) -> None:
    lo, hi = rmt.mp_edges(scale, q)
    assert (lo, hi) == pytest.approx((scale * (1 - math.sqrt(q)) ** 2, scale * (1 + math.sqrt(q)) ** 2))
    norm, mean, var = moments(lambda x: rmt.mp_pdf(x, scale, q), lo, hi)
    assert norm == pytest.approx(1.0, abs=1e-6)
    assert mean == pytest.approx(scale, rel=1e-6)  # MP moments: mean s², variance s⁴ q
    assert var == pytest.approx(scale**2 * q, rel=1e-5)
    x = lo + (hi - lo) * np.array([0.01, 0.2, 0.5, 0.9, 1.0])
    integral = [quad(lambda t: rmt.mp_pdf(t, scale, q), lo, v, limit=200)[0] for v in x]
    np.testing.assert_allclose(rmt.mp_cdf(x, scale, q), integral, atol=1e-7)
    with pytest.raises(ValueError):
        rmt.mp_pdf(1.0, scale, 1.5)


@pytest.mark.parametrize(("x0", "sigma"), [(0.0, 1.0), (4.0, 0.3)])
def test_goe2_density(x0: float, sigma: float) -> None:
    norm, mean, var = moments(lambda x: rmt.goe2_pdf(x, x0, sigma), -np.inf, np.inf)
    assert norm == pytest.approx(1.0, abs=1e-10)
    assert mean == pytest.approx(x0, abs=1e-9)
    assert var == pytest.approx(1.5 * sigma**2, rel=1e-9)  # physics.md §5.3
    x = x0 + sigma * np.array([-3.0, -0.5, 0.0, 0.8, 2.5])
    integral = [quad(lambda t: rmt.goe2_pdf(t, x0, sigma), -np.inf, v)[0] for v in x]
    np.testing.assert_allclose(rmt.goe2_cdf(x, x0, sigma), integral, atol=1e-10)


def test_goe2_density_describes_sampled_2x2_goe() -> None:
    """H = x₀ + [[a, b], [b, c]], a, c ~ N(0, σ²), b ~ N(0, σ²/2): one eigenvalue per matrix."""
    rng = np.random.default_rng(20240501)
    x0, sigma, m = 1.3, 0.4, 20_000
    lam = rmt.goe_eigenvalues(2, rng, m, v=sigma**2 / 2) + x0
    one = lam[np.arange(m), rng.integers(0, 2, m)]  # independent draws from ρ(x; x₀, σ)
    assert kstest(one, lambda t: rmt.goe2_cdf(t, x0, sigma)).pvalue > 1e-3
    s = rmt.pair_spacing(lam)  # Rayleigh with ⟨S⟩ = √π σ
    assert abs(s.mean() - math.sqrt(math.pi) * sigma) < 4 * s.std(ddof=1) / math.sqrt(m)
    assert kstest(s / (math.sqrt(math.pi) * sigma), lambda t: rmt.spacing_cdf(t, "goe")).pvalue > 1e-3


def test_gaussian() -> None:
    norm, mean, var = moments(lambda x: rmt.gaussian_pdf(x, 2.0, 0.5), -np.inf, np.inf)
    assert (norm, mean, var) == pytest.approx((1.0, 2.0, 0.25), abs=1e-10)
    assert rmt.gaussian_cdf(2.0, 2.0, 0.5) == pytest.approx(0.5)
