"""The histogram least-squares fit (the authors' method) recovers 2×2 GOE and Gaussian parameters."""

from __future__ import annotations

import numpy as np

from mpi_dbm.rmt.fits_base import FitResult
from mpi_dbm.rmt.fits_histogram import fit_histogram


def within(fit: FitResult, name: str, target: float, k: float = 3.0) -> bool:
    return abs(fit[name] - target) <= k * fit.error(name)


def test_goe2_histogram_fit_with_the_authors_jackknife(pairs) -> None:
    fit = fit_histogram(pairs[:400], "goe2", errors="jackknife")  # delete-one, 400 refits
    assert fit.error_method == "delete-one jackknife"
    assert within(fit, "x0", 1.7)
    assert within(fit, "sigma", 0.3)
    cf = fit_histogram(pairs, "goe2")
    assert within(cf, "sigma", 0.3)
    assert cf.record()["method"] == "histogram least squares"


def test_gaussian_histogram_fit() -> None:
    x = np.random.default_rng(8).normal(-0.4, 2.5, 5000)
    hist = fit_histogram(x, "gaussian")
    assert within(hist, "mean", -0.4) and within(hist, "sigma", 2.5)
