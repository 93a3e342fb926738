"""Finite-size calibrations of rmt.calibration: deterministic, cached, and close to the
large-N values they correct."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm.rmt import calibration


def test_exports():
    assert set(calibration.__all__) == {"goe_shape_reference", "mp_fit_reference", "semicircle_fit_factor"}


def test_semicircle_fit_factor_is_near_one_and_reproducible():
    c, ce = calibration.semicircle_fit_factor(30, n_matrices=200, seed=1)
    assert 0 < ce < 0.02
    assert abs(c - 1.0) < 0.05  # the finite-n bias is a few per cent at n = 30
    calibration.semicircle_fit_factor.cache_clear()
    assert calibration.semicircle_fit_factor(30, n_matrices=200, seed=1) == (c, ce)  # pure in its arguments
    assert calibration.semicircle_fit_factor(30, n_matrices=200, seed=2) != (c, ce)


def test_mp_fit_reference_recovers_scale_and_ratio():
    ref = calibration.mp_fit_reference(40, 20, 0.01, n_matrices=200, seed=5)
    assert ref["scale"] == pytest.approx(0.01, rel=0.03)
    assert ref["ratio"] == pytest.approx(0.5, abs=0.05)
    assert ref.error("scale") > 0 and ref.error("ratio") > 0
    assert calibration.mp_fit_reference(40, 20, 0.01, n_matrices=200, seed=5) is ref  # cached


def test_goe_shape_reference_is_standardised_and_read_only():
    z = calibration.goe_shape_reference(6, n_matrices=500, seed=4)
    assert z.shape == (500, 6)
    assert abs(float(z.mean())) < 1e-12 and math.isclose(float(z.std()), 1.0, rel_tol=1e-12)
    assert np.all(np.diff(z, axis=1) >= 0)  # each matrix's levels ascending
    with pytest.raises(ValueError):
        z[0, 0] = 1.0
