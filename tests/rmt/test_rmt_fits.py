"""Density and spacing-law fits recover the parameters of synthetic samples."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mpi_dbm import rmt


def within(fit: rmt.FitResult, name: str, target: float, k: float = 3.0) -> bool:
    return abs(fit[name] - target) <= k * fit.error(name)


# --------------------------------------------------------------------------- Marchenko–Pastur


@pytest.mark.parametrize("method", ["cdf", "moments"])
def test_mp_fit_of_one_large_wishart_matrix(method: str) -> None:
    x = rmt.wishart_eigenvalues(1000, 500, 3, 1, scale=2.0)  # s² = 2, q = 1/2
    fit = rmt.fit_marchenko_pastur(x, method=method)
    assert fit["scale"] == pytest.approx(2.0, rel=0.02)
    assert fit["ratio"] == pytest.approx(0.5, rel=0.02)


def test_mp_fit_of_many_wishart_matrices_with_jackknife_errors() -> None:
    x = rmt.wishart_eigenvalues(400, 100, 4, 20, scale=0.7)  # q = 1/4
    fit = rmt.fit_marchenko_pastur(x)
    assert fit["scale"] == pytest.approx(0.7, rel=0.02)
    assert fit["ratio"] == pytest.approx(0.25, rel=0.02)
    assert fit.error_method == "delete-one jackknife"  # 20 matrices, one unit each
    assert within(fit, "scale", 0.7)
    assert fit.ks_distance < 0.02


def test_mp_support_constrained_ml_covers_every_level() -> None:
    x = rmt.wishart_eigenvalues(400, 200, 5, 5, scale=1.0)
    fit = rmt.fit_marchenko_pastur(x, method="ml", errors="none")
    lo, hi = rmt.mp_edges(fit["scale"], fit["ratio"])
    assert lo < x.min() and hi > x.max()
    assert fit["ratio"] == pytest.approx(0.5, rel=0.05)


# --------------------------------------------------------------------------- semicircle


@pytest.mark.parametrize("method", ["cdf", "moments"])
def test_semicircle_fit_of_one_200x200_goe_recovers_the_radius(method: str) -> None:
    """R = 2√(n v) = 20 for n = 200, v = 1/2; a single spectrum breathes by ≈ 0.5 % (tr H²)."""
    x = rmt.goe_eigenvalues(200, 2024, 1)[0]
    fit = rmt.fit_semicircle(x, method=method)
    assert fit["radius"] == pytest.approx(20.0, rel=0.02)
    assert abs(fit["center"]) < 0.02 * 20.0


def test_semicircle_moment_radius_is_the_exact_finite_n_second_moment() -> None:
    """⟨(λ − c)²⟩ = (n + 1)v exactly (physics.md §5.3), so R_moments = 2√((n + 1)v)."""
    n, v = 50, 0.5
    x = rmt.goe_eigenvalues(n, 77, 200, v=v)
    fit = rmt.fit_semicircle(x, method="moments")
    assert within(fit, "radius", 2 * math.sqrt((n + 1) * v))
    assert within(fit, "center", 0.0)
    cdf = rmt.fit_semicircle(x)  # the CDF fit of a finite-n spectrum: within 1 % of 2√(nv)
    assert cdf["radius"] == pytest.approx(2 * math.sqrt(n * v), rel=0.01)
    assert within(cdf, "center", 0.0)


# --------------------------------------------------------------------------- 2×2 GOE


@pytest.fixture(scope="module")
def pairs() -> np.ndarray:
    # x₀ = 1.7, σ = 0.3: diagonal variance σ², off-diagonal σ²/2 (physics.md §5.3)
    return rmt.goe_eigenvalues(2, 31, 2000, v=0.3**2 / 2) + 1.7


def test_goe2_ml_fit_recovers_centre_and_sigma(pairs) -> None:
    for errors in ("hessian", "jackknife"):
        fit = rmt.fit_goe2(pairs, errors=errors, n_blocks=100)
        assert within(fit, "x0", 1.7), errors
        assert within(fit, "sigma", 0.3), errors
        assert fit.error("sigma") < 0.02 * 0.3


def test_goe2_fitted_sigma_matches_the_mean_pair_spacing(pairs) -> None:
    """physics.md §6 item 5: √π σ_fit = ⟨S⟩ within errors."""
    fit = rmt.fit_goe2(pairs, errors="jackknife", n_blocks=100)
    s = rmt.pair_spacing(pairs)
    err = math.hypot(math.sqrt(math.pi) * fit.error("sigma"), s.std(ddof=1) / math.sqrt(s.size))
    assert abs(math.sqrt(math.pi) * fit["sigma"] - s.mean()) < 3 * err


def test_goe2_histogram_fit_with_the_authors_jackknife(pairs) -> None:
    fit = rmt.fit_histogram(pairs[:400], "goe2", errors="jackknife")  # delete-one, 400 refits
    assert fit.error_method == "delete-one jackknife"
    assert within(fit, "x0", 1.7)
    assert within(fit, "sigma", 0.3)
    cf = rmt.fit_histogram(pairs, "goe2")
    assert within(cf, "sigma", 0.3)
    assert cf.record()["method"] == "histogram least squares"


def test_goe2_jackknife_fits_of_three_pairs_raise_no_overflow() -> None:
    """Newton trial steps towards σ → 0 on a few pairs used to overflow t² (RuntimeWarning at
    about half of the seeds); the likelihood there is +∞ and the fit must say so silently."""
    for seed in range(40):
        pairs = rmt.sample_levels("goe", 2, 9000 + seed, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            fit = rmt.fit_goe2(pairs, errors="jackknife", n_blocks=3)
        assert fit["sigma"] > 0 and np.all(np.isfinite(fit.values)), seed


def test_gaussian_fits() -> None:
    x = np.random.default_rng(8).normal(-0.4, 2.5, 5000)
    ml = rmt.fit_gaussian(x)
    assert ml.error("sigma") == pytest.approx(ml["sigma"] / math.sqrt(2 * x.size))
    assert within(ml, "mean", -0.4) and within(ml, "sigma", 2.5)
    hist = rmt.fit_histogram(x, "gaussian")
    assert within(hist, "mean", -0.4) and within(hist, "sigma", 2.5)


# --------------------------------------------------------------------------- Brody


def test_brody_q_is_one_for_goe_pairs_and_zero_for_poisson() -> None:
    goe = rmt.fit_brody(rmt.pair_spacing(rmt.goe_eigenvalues(2, 12, 4000)))
    assert within(goe, "q", 1.0)  # the 2×2 GOE spacing is exactly P₁ = Brody(q = 1)
    poisson = rmt.fit_brody(np.diff(rmt.poisson_levels(4001, 13, 1)).ravel())
    assert within(poisson, "q", 0.0)
    assert goe.error("q") < 0.05 and poisson.error("q") < 0.05
    jk = rmt.fit_brody(rmt.pair_spacing(rmt.goe_eigenvalues(2, 12, 4000)), errors="jackknife", n_blocks=40)
    assert jk.error("q") == pytest.approx(goe.error("q"), rel=0.35)  # 40 blocks: ±~25 % scatter


def test_brody_q_of_an_unfolded_goe_bulk_is_close_to_one() -> None:
    """Large-N GOE spacings are not exactly the surmise (P(s) ≈ (π²/6)s vs (π/2)s at small s):
    the Brody ML lands a few per cent below 1 (≈ 0.96 for N → ∞), far from Poisson."""
    s = rmt.unfold_semicircle(rmt.goe_eigenvalues(200, 14, 40), trim=0.2).spacings.ravel()
    fit = rmt.fit_brody(s)
    assert 0.85 < fit["q"] < 1.0 + 3 * fit.error("q")
    assert fit["q"] > 20 * fit.error("q")


def test_fit_result_record() -> None:
    fit = rmt.fit_gaussian(np.arange(10.0))
    rec = fit.record()
    assert rec["model"] == "gaussian" and rec["method"] == "ml"
    assert rec["mean"] == pytest.approx(4.5) and "sigma_err" in rec
    with pytest.raises(ValueError):
        rmt.fit_semicircle(np.arange(10.0), method="bogus")
    with pytest.raises(ValueError):
        rmt.fit_semicircle(np.arange(10.0), errors="hessian")  # non-regular likelihood
