"""The SDE-coefficient fit: its finite-Δt bias is the exact Ornstein–Uhlenbeck one and Richardson
extrapolation removes it; its replica-jackknife errors match the spread of independent fits; bad
inputs raise. Every draw comes from an explicit SeedSequence."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt.sde_fit import fit_sde
from mpi_dbm.rmt.sde_models import dyson_model, linear_drift_model


def _rngs(entropy: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(n)]


def test_single_lag_bias_is_the_exact_ornstein_uhlenbeck_one_and_richardson_removes_it() -> None:
    """OU dx = −γx dt + σ dB sampled exactly at γτ = 0.2: E[Δx|x]/τ = −x(1 − e^{−γτ})/τ and
    Var(Δx|x)/τ = σ²(1 − e^{−2γτ})/(2γτ) exactly; lags (1, 2) extrapolate to γ and σ² at O(τ²)."""
    g0, g1 = _rngs(16_03, 2)
    gamma, sigma, dt, steps = 1.0, 0.7, 0.2, 400
    rho = math.exp(-gamma * dt)
    x = np.empty((400, steps + 1, 1))
    x[:, 0, 0] = g0.normal(0.0, sigma / math.sqrt(2 * gamma), 400)
    kicks = g1.normal(0.0, sigma * math.sqrt((1 - rho**2) / (2 * gamma)), (400, steps))
    for k in range(steps):
        x[:, k + 1, 0] = rho * x[:, k, 0] + kicks[:, k]
    model = linear_drift_model()

    def rate(tau: float) -> float:
        return (1 - math.exp(-gamma * tau)) / tau

    def diffusion(tau: float) -> float:
        return sigma**2 * (1 - math.exp(-2 * gamma * tau)) / (2 * gamma * tau)

    one = fit_sde(x, dt, model, lags=1, min_gap=None)
    assert one["rate"].value == pytest.approx(rate(dt), abs=3 * one["rate"].error)
    assert one["diffusion"].value == pytest.approx(diffusion(dt), abs=3 * one["diffusion"].error)
    assert gamma - one["rate"].value > 5 * one["rate"].error  # the bias is resolved
    two = fit_sde(x, dt, model, lags=(1, 2), min_gap=None)
    assert two.per_lag[1, 0] == pytest.approx(rate(2 * dt), abs=4 * one["rate"].error)
    expected = 2 * rate(dt) - rate(2 * dt)  # = γ(1 − γ²τ²/3 + …)
    assert two["rate"].value == pytest.approx(expected, abs=3 * two["rate"].error)
    assert abs(two["rate"].value - gamma) < 0.03 * gamma
    assert two["diffusion"].value == pytest.approx(
        2 * diffusion(dt) - diffusion(2 * dt), abs=3 * two["diffusion"].error
    )


def test_jackknife_errors_match_the_spread_of_independent_fits() -> None:
    """Over 24 independent OU ensembles the stated error equals the scatter of the estimates."""
    gens = _rngs(16_05, 24)
    estimates, errors = [], []
    for g in gens:
        x = np.cumsum(g.normal(0.0, 0.3, (60, 200, 1)), axis=1)  # Brownian: rate 0, D2 = 0.09
        fit = fit_sde(x, 1.0, linear_drift_model(), lags=1, min_gap=None)
        estimates.append(fit["diffusion"].value)
        errors.append(fit["diffusion"].error)
    ratio = np.std(estimates, ddof=1) / np.mean(errors)
    # the sample sd of 24 values has a relative error ≈ 1/√46 ≈ 0.15
    assert 0.6 < ratio < 1.5, ratio
    assert np.mean(estimates) == pytest.approx(0.09, abs=3 * float(np.mean(errors)) / math.sqrt(24))


def test_bad_inputs_raise() -> None:
    model = dyson_model()
    with pytest.raises(ValueError, match="replicas, measurements, levels"):
        fit_sde(np.zeros((2, 3, 4, 5)), 0.1, model)
    with pytest.raises(ValueError, match="lag"):
        fit_sde(np.zeros((2, 2, 3)), 0.1, model, lags=(1, 2))
    with pytest.raises(ValueError, match="lags"):
        fit_sde(np.zeros((2, 9, 3)), 0.1, model, lags=(0,))
    with pytest.raises(rmt.InsufficientDataError):
        fit_sde(np.zeros((1, 9, 3)) + np.arange(3.0), 0.1, model)  # one replica: no jackknife
    with pytest.raises(rmt.InsufficientDataError):
        fit_sde(np.full((3, 9, 3), np.nan), 0.1, model)  # nothing finite
