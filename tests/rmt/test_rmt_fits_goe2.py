"""ML fits of the 2×2 GOE density and the Gaussian recover the parameters of synthetic samples."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt.fits_base import FitResult
from mpi_dbm.rmt.fits_goe2 import fit_gaussian, fit_goe2


def within(fit: FitResult, name: str, target: float, k: float = 3.0) -> bool:
    return abs(fit[name] - target) <= k * fit.error(name)


def test_goe2_ml_fit_recovers_centre_and_sigma(pairs) -> None:
    for errors in ("hessian", "jackknife"):
        fit = fit_goe2(pairs, errors=errors, n_blocks=100)
        assert within(fit, "x0", 1.7), errors
        assert within(fit, "sigma", 0.3), errors
        assert fit.error("sigma") < 0.02 * 0.3


def test_goe2_fitted_sigma_matches_the_mean_pair_spacing(pairs) -> None:
    """physics.md §6 item 5: √π σ_fit = ⟨S⟩ within errors."""
    fit = fit_goe2(pairs, errors="jackknife", n_blocks=100)
    s = rmt.pair_spacing(pairs)
    err = math.hypot(math.sqrt(math.pi) * fit.error("sigma"), s.std(ddof=1) / math.sqrt(s.size))
    assert abs(math.sqrt(math.pi) * fit["sigma"] - s.mean()) < 3 * err


def test_goe2_jackknife_fits_of_three_pairs_raise_no_overflow() -> None:
    """Newton trial steps towards σ → 0 on a few pairs used to overflow t² (RuntimeWarning at
    about half of the seeds); the likelihood there is +∞ and the fit must say so silently."""
    for seed in range(40):
        pairs = rmt.sample_levels("goe", 2, 9000 + seed, 3)
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            fit = fit_goe2(pairs, errors="jackknife", n_blocks=3)
        assert fit["sigma"] > 0 and np.all(np.isfinite(fit.values)), seed


def test_gaussian_fits() -> None:
    x = np.random.default_rng(8).normal(-0.4, 2.5, 5000)
    ml = fit_gaussian(x)
    assert ml.error("sigma") == pytest.approx(ml["sigma"] / math.sqrt(2 * x.size))
    assert within(ml, "mean", -0.4) and within(ml, "sigma", 2.5)
