"""The one weighted least-squares fit: estimates, errors and the Birge-ratio convention."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm.analysis.scaling import proportional_fit
from mpi_dbm.analysis.weighted import ratio, weighted_fit, weighted_mean


def test_exact_line_is_recovered_with_the_input_errors():
    x = np.array([0.0, 1.0, 2.0, 3.0])
    err = np.array([0.1, 0.2, 0.1, 0.3])
    fit = weighted_fit(x, 1.5 + 0.25 * x, err)
    assert fit is not None and fit.n == 4 and fit.dof == 2
    assert fit.intercept == pytest.approx(1.5) and fit.slope == pytest.approx(0.25)
    # chi2 = 0 < 1: no Birge scaling, errors = sqrt of the diagonal of (A^T W A)^-1
    w = 1 / err**2
    a = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(a.T @ (a * w[:, None]))
    assert fit.intercept_error == pytest.approx(math.sqrt(cov[0, 0]))
    assert fit.slope_error == pytest.approx(math.sqrt(cov[1, 1]))


def test_birge_scaling_only_when_the_scatter_exceeds_the_errors():
    x = np.arange(6.0)
    y = 2.0 * x + np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])  # residuals far beyond err = 0.1
    scaled = weighted_fit(x, y, np.full(6, 0.1), birge=True)
    plain = weighted_fit(x, y, np.full(6, 0.1), birge=False)
    assert scaled is not None and plain is not None
    assert scaled.chi2_dof > 1
    assert scaled.slope == plain.slope
    assert scaled.slope_error == pytest.approx(plain.slope_error * math.sqrt(plain.chi2_dof))


def test_through_the_origin_matches_the_closed_form_and_proportional_fit():
    rng = np.random.default_rng(3)
    x = rng.uniform(1, 2, 20)
    err = rng.uniform(0.05, 0.2, 20)
    y = 1.7 * x + err * rng.standard_normal(20)
    fit = weighted_fit(x, y, err, intercept=False, birge=False)
    w = 1 / err**2
    assert fit is not None and fit.intercept == 0.0 and fit.dof == 19
    assert fit.slope == float(np.sum(w * x * y) / np.sum(w * x * x))
    assert fit.slope_error == 1 / math.sqrt(np.sum(w * x * x))
    prop = proportional_fit("y", list(x), list(y), list(err), 1.7)
    assert prop is not None
    assert (prop.slope, prop.slope_error, prop.chi2_dof, prop.n_points) == (
        fit.slope, fit.slope_error, fit.chi2_dof, 20,
    )  # fmt: skip


def test_bad_points_are_dropped_and_underdetermined_fits_are_none():
    fit = weighted_fit([0, 1, 2, np.nan], [1, 2, 3, 4], [0.1, 0.1, 0.1, 0.1])
    assert fit is not None and fit.n == 3
    assert weighted_fit([0, 1], [1, 2], [0.1, 0.0]) is None  # one usable point for two parameters
    assert weighted_fit([1, 1, 1], [1, 2, 3], [0.1, 0.1, 0.1]) is None  # all x equal
    assert weighted_fit([0, 0], [1, 2], [0.1, 0.1], intercept=False) is None
    two = weighted_fit([0, 1], [1, 2], [0.1, 0.1])
    assert two is not None and two.dof == 0 and math.isnan(two.chi2_dof)


def test_weighted_mean_is_the_constant_fit():
    m, e = weighted_mean([1.0, 2.0], [1.0, 1.0])
    assert m == 1.5 and e == pytest.approx(1 / math.sqrt(2))  # chi2/dof = 0.5: not scaled
    m, e = weighted_mean([1.0, 3.0], [0.1, 0.1])  # chi2/dof = 200: scaled by sqrt(200)
    assert m == 2.0 and e == pytest.approx(0.1 / math.sqrt(2) * math.sqrt(200))
    assert weighted_mean([5.0], [0.5]) == (5.0, 0.5)
    assert all(math.isnan(v) for v in weighted_mean([1.0, np.nan], [0.0, 1.0]))


def test_ratio_propagates_relative_errors():
    r, e = ratio((6.0, 0.3), (2.0, 0.2))
    assert r == 3.0 and e == pytest.approx(3.0 * math.hypot(0.05, 0.1))
