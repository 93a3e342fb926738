"""Surmises against their defining integrals and the tabulated constants (docs/rmt.md)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from mpi_dbm import rmt

ENSEMBLES = ("goe", "gue", "gse", "poisson")
# Tabulated values, docs/rmt.md and docs/physics.md §5.3.
S2_TABLE = {"goe": 4 / math.pi, "gue": 3 * math.pi / 8, "gse": 45 * math.pi / 128, "poisson": 2.0}
RTILDE_TABLE = {"goe": 0.53590, "gue": 0.60266, "gse": 0.67617, "poisson": 0.38629}


def moment(pdf, k: int, lo: float = 0.0, hi: float = math.inf) -> float:
    return quad(lambda s: s**k * pdf(s), lo, hi, epsabs=1e-13, epsrel=1e-12)[0]


@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_spacing_surmise_moments(ensemble: str) -> None:
    pdf = lambda s: rmt.spacing_pdf(s, ensemble)  # noqa: E731
    assert moment(pdf, 0) == pytest.approx(1.0, abs=1e-10)
    assert moment(pdf, 1) == pytest.approx(1.0, abs=1e-10)
    assert moment(pdf, 2) == pytest.approx(S2_TABLE[ensemble], abs=1e-10)
    assert rmt.MEAN_S2[ensemble] == pytest.approx(S2_TABLE[ensemble], rel=1e-15)


def test_wigner_coefficients_match_the_closed_forms() -> None:
    pi = math.pi
    expected = {
        1: (pi / 2, pi / 4),
        2: (32 / pi**2, 4 / pi),
        4: (2**18 / (3**6 * pi**3), 64 / (9 * pi)),
    }
    for beta, (a, b) in expected.items():
        assert rmt.wigner_coefficients(beta) == pytest.approx((a, b), rel=1e-13)


@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_spacing_cdf_and_ppf(ensemble: str) -> None:
    s = np.array([0.1, 0.5, 1.0, 2.0, 3.5])
    integral = [quad(lambda t: rmt.spacing_pdf(t, ensemble), 0, x)[0] for x in s]
    np.testing.assert_allclose(rmt.spacing_cdf(s, ensemble), integral, atol=1e-12)
    u = np.linspace(0.01, 0.99, 13)
    np.testing.assert_allclose(rmt.spacing_cdf(rmt.spacing_ppf(u, ensemble), ensemble), u, atol=1e-12)


@pytest.mark.parametrize(
    ("beta", "z"),
    [(1, 8 / 27), (2, 4 * math.pi / (81 * math.sqrt(3))), (4, 4 * math.pi / (729 * math.sqrt(3)))],
)
def test_ratio_normalisation_constants(beta: int, z: float) -> None:
    kernel = lambda r: (r + r * r) ** beta / (1 + r + r * r) ** (1 + 1.5 * beta)  # noqa: E731
    assert quad(kernel, 0, math.inf, epsabs=1e-14)[0] == pytest.approx(z, rel=1e-10)
    assert rmt.ratio_normalisation(beta) == pytest.approx(z, rel=1e-15)
    # The Gauss–Legendre path used for non-integer β reproduces the closed forms.
    assert rmt.ratio_normalisation(beta + 1e-12) == pytest.approx(z, rel=1e-9)


@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_rtilde_surmise_moments(ensemble: str) -> None:
    pdf = lambda r: rmt.rtilde_pdf(r, ensemble)  # noqa: E731
    assert moment(pdf, 0, 0, 1) == pytest.approx(1.0, abs=1e-12)
    mean = moment(pdf, 1, 0, 1)
    assert mean == pytest.approx(RTILDE_TABLE[ensemble], abs=5e-6)  # table rounded to 5 digits
    assert rmt.MEAN_RTILDE_SURMISE[ensemble] == pytest.approx(mean, abs=1e-12)
    assert rmt.rtilde_mean(ensemble) == pytest.approx(mean, abs=1e-12)
    # P(r) on [0, ∞) is normalised too, and the r → 1/r symmetry gives F(r) = 1 − F(1/r).
    assert quad(lambda r: rmt.ratio_pdf(r, ensemble), 0, math.inf)[0] == pytest.approx(1.0, abs=1e-9)
    r = np.array([0.2, 0.7, 1.0, 1.6, 9.0])
    np.testing.assert_allclose(rmt.ratio_cdf(r, ensemble), 1 - rmt.ratio_cdf(1 / r, ensemble), atol=1e-13)
    integral = [quad(lambda t: rmt.ratio_pdf(t, ensemble), 0, x)[0] for x in r]
    np.testing.assert_allclose(rmt.ratio_cdf(r, ensemble), integral, atol=1e-10)


def test_general_beta_ratio_surmise_is_monotone_between_the_ensembles() -> None:
    means = [rmt.rtilde_mean(b) for b in (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)]
    assert np.all(np.diff(means) > 0)
    assert means[1] == pytest.approx(RTILDE_TABLE["goe"], abs=5e-6)
    assert means[3] == pytest.approx(RTILDE_TABLE["gue"], abs=5e-6)
    assert means[5] == pytest.approx(RTILDE_TABLE["gse"], abs=5e-6)


@pytest.mark.parametrize("q", [0.0, 0.3, 1.0, 1.7])
def test_brody_normalisation_and_limits(q: float) -> None:
    pdf = lambda s: rmt.brody_pdf(s, q)  # noqa: E731
    assert moment(pdf, 0) == pytest.approx(1.0, abs=1e-9)
    assert moment(pdf, 1) == pytest.approx(1.0, abs=1e-9)
    s = np.linspace(0.05, 3, 7)
    np.testing.assert_allclose(rmt.brody_cdf(s, q), [quad(pdf, 0, x)[0] for x in s], atol=1e-10)


def test_brody_interpolates_poisson_and_goe() -> None:
    s = np.linspace(0, 4, 41)
    np.testing.assert_allclose(rmt.brody_pdf(s, 0.0), rmt.spacing_pdf(s, "poisson"), rtol=1e-13)
    np.testing.assert_allclose(rmt.brody_pdf(s, 1.0), rmt.spacing_pdf(s, "goe"), rtol=1e-13)
    assert rmt.brody_b(1.0) == pytest.approx(math.pi / 4, rel=1e-14)


def test_unknown_ensemble_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown ensemble"):
        rmt.spacing_pdf(1.0, "coe")
    assert rmt.canonical_ensemble("GOE") == "goe"
