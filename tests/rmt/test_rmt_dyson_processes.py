"""The exact simulators' levels follow their known SDEs: Dyson 1962 (β = 1 DBM and the matrix
OU pair), Bru 1991 (Wishart process) and independent Brownian motions (no repulsion), checked by
the Kramers–Moyal fit against theory, never against the estimator itself. Step sizes keep the
finite-Δt bias below the statistical error (mpi_dbm.rmt.sde_fit docstring); every draw comes from
an explicit SeedSequence."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt.dyson_processes import dyson_brownian_motion, independent_brownian_motions, wishart_process
from mpi_dbm.rmt.sde_fit import SdeFit, fit_sde
from mpi_dbm.rmt.sde_models import dyson_model, wishart_model


def _rngs(entropy: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(n)]


def _check(fit: SdeFit, name: str, rel: float = 0.05, pulls: float = 3.0) -> None:
    est, pred = fit[name], fit.model.predicted[name]
    assert abs(est.value - pred) <= rel * abs(pred), (name, est, pred)
    assert abs(est.value - pred) <= pulls * est.error, (name, est, pred)


def test_dyson_brownian_motion_coefficients_recovered() -> None:
    """β = 1 DBM from a GOE start: a = σ²/2, b = 0, c = σ², β = 1 within 5 % and 3σ."""
    g0, g1 = _rngs(16_01, 2)
    sigma = 1.3
    start = rmt.goe(6, g0, size=1500, v=1.0)
    levels = dyson_brownian_motion(start, 120, 0.03, g1, sigma=sigma)  # σ²τ/⟨s⟩² ≈ 0.01
    fit = fit_sde(levels, 0.03, dyson_model(sigma))
    for name in ("repulsion", "diffusion", "beta"):
        _check(fit, name)
    assert abs(fit["constant"].value) <= 3 * fit["constant"].error
    assert fit.extrapolated and fit.n_replicas == 1500
    assert fit["repulsion"].error < 0.02 * sigma**2 / 2


def test_wishart_process_coefficients_recovered(wishart_levels: np.ndarray) -> None:
    """Bru: a = σ², b = nσ², c = 4σ² (D2 = 4σ²x), β = 4a/c = 1 within 5 % and 3σ."""
    fit = fit_sde(wishart_levels, 0.006, wishart_model(1.0, 8))
    for name in ("repulsion", "constant", "diffusion", "beta"):
        _check(fit, name)


def test_independent_motions_have_no_repulsion() -> None:
    """Labelled or sorted (as spectra are stored), independent Brownian motions fit a ≈ 0."""
    g0, g1, g2 = _rngs(16_02, 3)
    start = np.sort(g0.uniform(0.0, 6.0, (2000, 6)), axis=-1)
    for sort, rng in ((False, g1), (True, g2)):
        levels = independent_brownian_motions(start, 120, 0.005, rng, sigma=1.0, sort=sort)
        fit = fit_sde(levels, 0.005, dyson_model(1.0))
        rep = fit["repulsion"]
        assert abs(rep.value) <= 3 * rep.error, (sort, rep)
        assert rep.error < 0.05 * 0.5  # a DBM with the same noise (a = 0.5) would be ≥ 20σ away
        assert abs(fit["beta"].value) <= 3 * fit["beta"].error
        _check(fit, "diffusion")


def test_confined_pair_repulsion_at_the_grbm_step() -> None:
    """A 2×2 matrix OU pair (the local picture of a GRBM pair) sampled at γΔt = 0.05, as the
    slow GRBM pairs at Δt = 1: the extrapolated fit recovers a = σ²/2, γ and c = σ²."""
    g0, g1 = _rngs(16_06, 2)
    gamma, sigma = 1.0, 1.0
    start = rmt.goe(2, g0, size=400, v=sigma**2 / (4 * gamma))  # the stationary GOE
    levels = dyson_brownian_motion(start, 2000, 0.05, g1, sigma=sigma, rate=gamma)
    fit = fit_sde(levels, 0.05, dyson_model(sigma, rate=gamma))
    for name in ("repulsion", "rate", "diffusion", "beta"):
        _check(fit, name)
    single = fit_sde(levels, 0.05, dyson_model(sigma, rate=gamma), lags=1)
    assert single["diffusion"].value < 0.95 * sigma**2  # what Richardson removes: −γτ·(1 + …)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ValueError, match="symmetric"):
        dyson_brownian_motion(np.arange(4.0).reshape(2, 2), 3, 0.1, 1)
    with pytest.raises(ValueError, match="p ≤ n"):
        wishart_process(np.zeros((2, 3)), 3, 0.1, 1)
