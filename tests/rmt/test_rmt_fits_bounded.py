"""Semicircle and Marchenko–Pastur fits recover the parameters of GOE and Wishart spectra."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt.fits_base import FitResult
from mpi_dbm.rmt.fits_bounded import fit_marchenko_pastur, fit_semicircle


def within(fit: FitResult, name: str, target: float, k: float = 3.0) -> bool:
    return abs(fit[name] - target) <= k * fit.error(name)


@pytest.mark.parametrize("method", ["cdf", "moments"])
def test_mp_fit_of_one_large_wishart_matrix(method: str) -> None:
    x = rmt.wishart_eigenvalues(1000, 500, 3, 1, scale=2.0)  # s² = 2, q = 1/2
    fit = fit_marchenko_pastur(x, method=method)
    assert fit["scale"] == pytest.approx(2.0, rel=0.02)
    assert fit["ratio"] == pytest.approx(0.5, rel=0.02)


def test_mp_fit_of_many_wishart_matrices_with_jackknife_errors() -> None:
    x = rmt.wishart_eigenvalues(400, 100, 4, 20, scale=0.7)  # q = 1/4
    fit = fit_marchenko_pastur(x)
    assert fit["scale"] == pytest.approx(0.7, rel=0.02)
    assert fit["ratio"] == pytest.approx(0.25, rel=0.02)
    assert fit.error_method == "delete-one jackknife"  # 20 matrices, one unit each
    assert within(fit, "scale", 0.7)
    assert fit.ks_distance < 0.02


def test_mp_support_constrained_ml_covers_every_level() -> None:
    x = rmt.wishart_eigenvalues(400, 200, 5, 5, scale=1.0)
    fit = fit_marchenko_pastur(x, method="ml", errors="none")
    lo, hi = rmt.mp_edges(fit["scale"], fit["ratio"])
    assert lo < x.min() and hi > x.max()
    assert fit["ratio"] == pytest.approx(0.5, rel=0.05)


@pytest.mark.parametrize("method", ["cdf", "moments"])
def test_semicircle_fit_of_one_200x200_goe_recovers_the_radius(method: str) -> None:
    """R = 2√(n v) = 20 for n = 200, v = 1/2; a single spectrum breathes by ≈ 0.5 % (tr H²)."""
    x = rmt.goe_eigenvalues(200, 2024, 1)[0]
    fit = fit_semicircle(x, method=method)
    assert fit["radius"] == pytest.approx(20.0, rel=0.02)
    assert abs(fit["center"]) < 0.02 * 20.0


def test_semicircle_moment_radius_is_the_exact_finite_n_second_moment() -> None:
    """⟨(λ − c)²⟩ = (n + 1)v exactly (physics.md §5.3), so R_moments = 2√((n + 1)v)."""
    n, v = 50, 0.5
    x = rmt.goe_eigenvalues(n, 77, 200, v=v)
    fit = fit_semicircle(x, method="moments")
    assert within(fit, "radius", 2 * math.sqrt((n + 1) * v))
    assert within(fit, "center", 0.0)
    cdf = fit_semicircle(x)  # the CDF fit of a finite-n spectrum: within 1 % of 2√(nv)
    assert cdf["radius"] == pytest.approx(2 * math.sqrt(n * v), rel=0.01)
    assert within(cdf, "center", 0.0)


def test_semicircle_rejects_an_unknown_method_and_hessian_errors() -> None:
    with pytest.raises(ValueError):
        fit_semicircle(np.arange(10.0), method="bogus")
    with pytest.raises(ValueError):
        fit_semicircle(np.arange(10.0), errors="hessian")  # non-regular likelihood
