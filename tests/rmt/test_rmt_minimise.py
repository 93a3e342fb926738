"""The fits' minimisers and the closed-form derivatives they use.

Gauss–Newton (CDF fits) and Newton (2×2 GOE likelihood) replaced Nelder–Mead for speed; these
tests hold them to the same minima: analytic derivatives against central differences, the
constrained optimum of a problem with a known answer, and objectives no worse than a
Nelder–Mead run to 1e-9 on samples of every shape the analysis meets.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt import fits_base, fits_bounded, fits_goe2
from mpi_dbm.rmt.densities import mp_cdf_jacobian, semicircle_cdf_jacobian
from mpi_dbm.rmt.minimise import gauss_newton, nelder_mead, newton


def central_difference(f, theta: np.ndarray, i: int, h: float) -> np.ndarray:
    step = np.zeros_like(theta)
    step[i] = h
    return (f(theta + step) - f(theta - step)) / (2 * h)


@pytest.mark.parametrize("scale, q", [(1.0, 1.0), (0.7, 0.25), (2.0, 0.5), (1.3, 0.97)])
def test_mp_cdf_jacobian_matches_central_differences(scale: float, q: float) -> None:
    lo, hi = rmt.mp_edges(scale, q)
    x = np.concatenate([np.linspace(lo + 1e-3, hi - 1e-3, 41), [lo - 1.0, hi + 1.0]])
    f, jac = mp_cdf_jacobian(x, scale, q)
    np.testing.assert_allclose(f, rmt.mp_cdf(x, scale, q), atol=1e-15)
    theta = np.array([scale, q])

    def cdf(t: np.ndarray) -> np.ndarray:
        return rmt.mp_cdf(x, *t)

    np.testing.assert_allclose(jac[:, 0], central_difference(cdf, theta, 0, 1e-6), atol=1e-7)
    if q < 1.0:  # at q = 1 only the one-sided derivative exists
        np.testing.assert_allclose(jac[:, 1], central_difference(cdf, theta, 1, 1e-7), atol=1e-6)
    else:
        step = np.array([0.0, 1e-7])
        np.testing.assert_allclose(jac[:, 1], (cdf(theta) - cdf(theta - step)) / 1e-7, atol=1e-5)
    assert np.all(jac[-2:] == 0.0)  # outside the support F is flat


def test_semicircle_cdf_jacobian_matches_central_differences() -> None:
    x = np.linspace(-4.0, 6.0, 57)
    theta = np.array([1.0, 3.0])
    f, jac = semicircle_cdf_jacobian(x, *theta)
    np.testing.assert_allclose(f, rmt.semicircle_cdf(x, *theta), atol=1e-15)
    for i in range(2):
        fd = central_difference(lambda t: rmt.semicircle_cdf(x, *t), theta, i, 1e-6)
        np.testing.assert_allclose(jac[:, i], fd, atol=1e-7)


def test_goe2_negative_log_likelihood_derivatives() -> None:
    x = np.random.default_rng(3).standard_normal(50) * 2.0 + 1.0
    nll = fits_goe2._goe2_nll(x)
    theta = np.array([0.7, 1.3])
    value, grad, hess = nll(theta)
    assert value == pytest.approx(-np.sum(np.log(rmt.goe2_pdf(x, *theta))), rel=1e-13)
    for i in range(2):
        assert grad[i] == pytest.approx(
            float(central_difference(lambda t: nll(t)[0], theta, i, 1e-6)), rel=1e-6
        )
        np.testing.assert_allclose(
            hess[:, i], central_difference(lambda t: nll(t)[1], theta, i, 1e-6), rtol=1e-6
        )


def test_gauss_newton_finds_a_bound_constrained_least_squares_optimum() -> None:
    # r(θ) = Aθ − b; the unconstrained optimum has θ₁ = 2, the box caps it at 1, and θ₀ then
    # solves the one-parameter problem with θ₁ held (known in closed form).
    rng = np.random.default_rng(0)
    a = rng.standard_normal((200, 2))
    b = a @ np.array([0.5, 2.0]) + 0.01 * rng.standard_normal(200)
    theta = gauss_newton(lambda t: (a @ t - b, a), [0.0, 0.0], [(None, None), (None, 1.0)], (1.0, 1.0))
    expected0 = float(a[:, 0] @ (b - a[:, 1] * 1.0) / (a[:, 0] @ a[:, 0]))
    assert theta[1] == 1.0
    assert theta[0] == pytest.approx(expected0, abs=1e-9)


def test_newton_shifts_an_indefinite_hessian_and_reaches_the_minimum() -> None:
    def rosenbrock(t: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        x, y = t
        value = (1 - x) ** 2 + 100 * (y - x * x) ** 2
        grad = np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])
        hess = np.array([[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200.0]])
        return value, grad, hess

    theta = newton(rosenbrock, [-1.2, 1.0], [(None, None), (None, None)], (1.0, 1.0))
    np.testing.assert_allclose(theta, [1.0, 1.0], atol=1e-8)


def cvm(cdf, xs: np.ndarray):
    target = (np.arange(xs.size) + 0.5) / xs.size

    def objective(theta: np.ndarray) -> float:
        try:
            return float(np.sum((cdf(xs, *theta) - target) ** 2))
        except ValueError:
            return math.inf

    return objective


@pytest.mark.parametrize(
    "n_h, n_v, count", [(10, 10, 2000), (20, 10, 300), (10, 5, 50), (3, 3, 40), (300, 100, 1)]
)
def test_mp_cdf_fit_is_at_least_as_good_as_nelder_mead(n_h: int, n_v: int, count: int) -> None:
    x = np.sort(rmt.wishart_eigenvalues(n_h, n_v, 11, count, scale=1.0).ravel())
    start = fits_bounded._mp_moments(x)
    objective = cvm(rmt.mp_cdf, x)
    reference = nelder_mead(objective, start, [(1e-300, None), (1e-9, 1.0)], (start[0], 1.0))
    fitted = fits_bounded._mp_cdf_fit(x)
    assert objective(fitted) <= objective(reference) + 1e-12 * objective(reference)
    np.testing.assert_allclose(fitted, reference, rtol=1e-6)


@pytest.mark.parametrize("n, count", [(8, 500), (200, 1), (3, 30)])
def test_semicircle_cdf_fit_is_at_least_as_good_as_nelder_mead(n: int, count: int) -> None:
    x = np.sort(rmt.goe_eigenvalues(n, 5, count).ravel() + 3.0)
    start = fits_bounded._semicircle_moments(x)
    objective = cvm(rmt.semicircle_cdf, x)
    reference = nelder_mead(objective, start, [(None, None), (1e-300, None)], (start[1], start[1]))
    fitted = fits_bounded._semicircle_cdf_fit(x)
    assert objective(fitted) <= objective(reference) + 1e-12 * objective(reference)
    np.testing.assert_allclose(fitted, reference, rtol=1e-6)


@pytest.mark.parametrize("count", [20, 2000])
def test_goe2_ml_is_at_least_as_good_as_nelder_mead(count: int) -> None:
    x = rmt.goe_eigenvalues(2, 7, count).ravel() * 1.7 + 0.3
    nll = fits_goe2._goe2_nll(x)
    start = (float(x.mean()), float(x.std()) / math.sqrt(1.5))
    reference = nelder_mead(lambda t: nll(t)[0], start, [(None, None), (1e-300, None)], (start[1], start[1]))
    fitted = fits_goe2._goe2_ml(x)
    assert nll(fitted)[0] <= nll(reference)[0] + 1e-12 * abs(nll(reference)[0])
    np.testing.assert_allclose(fitted, reference, rtol=1e-6)


def test_jackknife_replicates_get_sorted_values_and_the_same_errors() -> None:
    # The sorted-replicate jackknife must agree with the textbook one for an order-free estimator.
    rows = np.random.default_rng(5).standard_normal((40, 3))
    fit = rmt.fit_gaussian(rows, errors="jackknife", n_blocks=10)
    direct = rmt.jackknife(rows, lambda r: np.array([r.mean(), r.std()]), n_blocks=10)
    np.testing.assert_allclose(fit.errors, direct.error, rtol=1e-12)
    seen = []
    fits_base._jackknife_errors(rows, lambda v: seen.append(v) or np.array([v.mean()]), 10)
    assert all(np.all(np.diff(v) >= 0) for v in seen)


def test_nelder_mead_moves_a_parameter_that_starts_at_zero() -> None:
    # scipy's default simplex steps 5% of the start value: a centre started at 1e-16 never moved
    theta = nelder_mead(
        lambda t: (t[0] - 0.3) ** 2 + (t[1] - 2.0) ** 2, [1e-16, 1.0], [(None, None), (0, None)], (1, 1)
    )
    np.testing.assert_allclose(theta, [0.3, 2.0], atol=1e-7)


def test_semicircle_cdf_fit_of_centred_data_fits_the_centre_too() -> None:
    # Centred data start the centre at ~1e-16; an asymmetric sample has its CvM centre elsewhere.
    x = rmt.goe_eigenvalues(8, 2, 300).ravel()
    x = np.concatenate([x, np.full(200, x.max() * 0.9)])
    x = np.sort(x - x.mean())
    objective = cvm(rmt.semicircle_cdf, x)
    fitted = fits_bounded._semicircle_cdf_fit(x)
    start = fits_bounded._semicircle_moments(x)
    assert abs(fitted[0]) > 1e-3
    assert objective(fitted) < objective(np.array([0.0, start[1]]))
    reference = nelder_mead(objective, start, [(None, None), (1e-300, None)], (start[1], start[1]))
    np.testing.assert_allclose(fitted, reference, rtol=1e-6, atol=1e-8)
