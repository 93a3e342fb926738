"""Unfolding: unit mean spacing, the Wigner surmise P₁ for GOE bulks, Poisson for Poisson levels."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy.stats import kstest

from mpi_dbm import rmt

TRIM = 0.2  # drop 20 % of the levels at each edge: the bulk


@pytest.fixture(scope="module")
def goe_levels() -> np.ndarray:
    return rmt.goe_eigenvalues(200, 20240611, 60)  # 60 × (200×200) GOE, v = 1/2, R = 20


def ks_p(s: np.ndarray, ensemble: str) -> float:
    s = s.ravel()
    return float(kstest(s / s.mean(), lambda t: rmt.spacing_cdf(t, ensemble)).pvalue)


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("semicircle", {}),
        ("semicircle", {"center": 0.0, "radius": 20.0}),  # the analytic law, nothing fitted
        ("polynomial", {"degree": 7}),
        ("spline", {}),
        ("ensemble", {}),
    ],
)
def test_unfolded_goe_bulk_follows_the_goe_surmise(goe_levels, method: str, params: dict) -> None:
    u = rmt.unfold(goe_levels, method, trim=TRIM, **params)
    s = u.spacings
    assert s.shape == (60, 119)
    # The unfolded bulk has unit mean spacing; finite-n corrections to the density are O(1/n).
    assert u.mean_spacing == pytest.approx(1.0, abs=0.01)
    # 7140 spacings: the KS test resolves CDF differences ≳ 0.02 — the surmise must not be rejected,
    # Poisson must be (its KS distance to GOE spacings is ≈ 0.2).
    assert ks_p(s, "goe") > 0.01
    assert ks_p(s, "poisson") < 1e-30
    rec = u.record()
    assert rec["method"] == method
    assert rec["trim"] == TRIM
    for key, value in params.items():
        assert rec[key] == value


def test_fitted_semicircle_unfolding_records_the_fit(goe_levels) -> None:
    u = rmt.unfold_semicircle(goe_levels, trim=TRIM)
    assert u.params["fitted"] is True
    assert u.params["radius"] == pytest.approx(20.0, rel=0.01)
    assert u.params["center"] == pytest.approx(0.0, abs=0.1)


def test_unfolded_poisson_levels_follow_poisson() -> None:
    # Uncorrelated levels with a non-uniform density: x = 10·u^{1.5}.
    raw = rmt.poisson_levels(300, 8, 30)
    levels = 10 * (raw / raw[:, -1:]) ** 1.5
    for method in ("polynomial", "spline", "ensemble"):
        s = rmt.unfold(levels, method, trim=0.1).spacings
        assert ks_p(s, "poisson") > 0.01, method
        assert ks_p(s, "goe") < 1e-30, method


def test_marchenko_pastur_unfolding_of_wishart_spectra() -> None:
    x = rmt.wishart_eigenvalues(400, 200, 9, 30, scale=0.7)
    u = rmt.unfold_marchenko_pastur(x, trim=0.1)
    assert u.mean_spacing == pytest.approx(1.0, abs=0.01)
    assert ks_p(u.spacings, "goe") > 0.01
    assert u.params["ratio"] == pytest.approx(0.5, rel=0.02)
    assert u.params["scale"] == pytest.approx(0.7, rel=0.02)


def test_result_is_frozen_and_read_only(goe_levels) -> None:
    u = rmt.unfold_polynomial(goe_levels[:2], degree=5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        u.method = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        u.levels[0, 0] = 1.0
    with pytest.raises(TypeError):
        u.params["degree"] = 3  # type: ignore[index]
    with pytest.raises(ValueError, match="unknown unfolding"):
        rmt.unfold(goe_levels, "gaussian")
