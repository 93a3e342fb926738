"""Binned Kramers–Moyal moments of the exact Wishart (Bru 1991) process follow its drift and
diffusion, reject a wrong Dyson index, and leave a bin reached by one replica without an error."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from mpi_dbm.rmt.km_bins import binned_moments
from mpi_dbm.rmt.sde_models import wishart_model


def test_binned_moments_follow_the_bru_drift_and_diffusion(wishart_levels: np.ndarray) -> None:
    """Pooled and per-level binned ⟨Δx|x⟩/τ and Var(Δx|x)/τ agree with the bin averages of
    D1 = σ²(n + Σ (x_i + x_j)/(x_i − x_j)) and D2 = 4σ²x (χ² p-value > 10⁻³)."""
    model = wishart_model(1.0, 8)
    for use, lags in ((None, 1), (None, (1, 2)), ([0], 1), ([3], (1, 2))):
        pts = wishart_levels[:, :-1][..., use if use is not None else slice(None)]
        edges = np.quantile(pts, np.linspace(0.0, 1.0, 13))
        bins = binned_moments(wishart_levels, 0.006, bins=edges, use=use, lags=lags, model=model, min_gap=2.0)
        assert bins.levels == (tuple(use) if use is not None else (0, 1, 2, 3))
        for which in ("drift", "diffusion"):
            chi2, dof = bins.chi2(which)
            assert dof >= 10
            assert stats.chi2.sf(chi2, dof) > 1e-3, (use, lags, which, chi2, dof)
        good = bins.counts >= 100
        np.testing.assert_allclose(bins.predicted_diffusion[good], 4 * bins.centres[good], rtol=1e-12)


def test_binned_moments_reject_a_wrong_dyson_index(wishart_levels: np.ndarray) -> None:
    """The same bins against the β = 2 drift (twice the repulsion) fail badly: the test has power."""
    model = wishart_model(1.0, 8)
    wrong = {"repulsion": 2.0, "constant": 8.0, "diffusion": 4.0}
    bins = binned_moments(wishart_levels, 0.006, bins=12, model=model, coefficients=wrong, min_gap=2.0)
    chi2, dof = bins.chi2("drift")
    assert stats.chi2.sf(chi2, dof) < 1e-6


def test_a_bin_with_data_in_one_replica_only_has_no_error_and_no_warning() -> None:
    """A bin that only one jackknife group reaches has no error (NaN), silently: no numpy
    'Degrees of freedom <= 0' warning leaks out of the jackknife."""
    import warnings

    rng = np.random.default_rng(np.random.SeedSequence(2026, spawn_key=(12, 1)))
    levels = rng.normal(size=(2, 50, 1)).cumsum(axis=1) * 0.01
    levels[0, :, 0] += 10.0  # replica 0 alone visits x ≈ 10, replica 1 alone x ≈ 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bins = binned_moments(levels, 0.1, bins=np.array([-1.0, 1.0, 9.0, 11.0]))
    assert bins.counts[0] > 0 and bins.counts[2] > 0
    assert np.isnan(bins.drift_error[[0, 2]]).all() and np.isfinite(bins.drift[[0, 2]]).all()


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="needs a model"):
        binned_moments(np.zeros((2, 9, 3)), 0.1, min_gap=2.0)
