"""Kramers–Moyal drift and diffusion of level trajectories against exactly simulated processes.

Every process here has a known SDE for its levels (Dyson 1962; Bru 1991; independent Brownian
motions; Ornstein–Uhlenbeck with its exact discrete-time moments; SGD of a Gaussian RBM with the
Dyson equation derived in mpi_dbm.rmt.dyson), so the fitted coefficients are compared with theory, never
with the estimator itself. Step sizes are chosen so that the finite-Δt bias is below the
statistical error (module docstring); every draw comes from an explicit SeedSequence.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mpi_dbm import rmt
from mpi_dbm.rmt import dyson


def _rngs(entropy: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(n)]


def _check(fit: dyson.SdeFit, name: str, rel: float = 0.05, pulls: float = 3.0) -> None:
    est, pred = fit[name], fit.model.predicted[name]
    assert abs(est.value - pred) <= rel * abs(pred), (name, est, pred)
    assert abs(est.value - pred) <= pulls * est.error, (name, est, pred)


@pytest.fixture(scope="module")
def wishart_levels() -> np.ndarray:
    """Bru process: n = 8, p = 4, σ = 1, W(0) with N(0, 1) entries; 4σ²τ·8x̄/⟨s²⟩ ≈ 0.007."""
    g0, g1 = _rngs(16_04, 2)
    return dyson.wishart_process(g0.normal(0.0, 1.0, (2000, 8, 4)), 150, 0.006, g1, sigma=1.0)


def test_dyson_brownian_motion_coefficients_recovered() -> None:
    """β = 1 DBM from a GOE start: a = σ²/2, b = 0, c = σ², β = 1 within 5 % and 3σ."""
    g0, g1 = _rngs(16_01, 2)
    sigma = 1.3
    start = rmt.goe(6, g0, size=1500, v=1.0)
    levels = dyson.dyson_brownian_motion(start, 120, 0.03, g1, sigma=sigma)  # σ²τ/⟨s⟩² ≈ 0.01
    fit = dyson.fit_sde(levels, 0.03, dyson.dyson_model(sigma))
    for name in ("repulsion", "diffusion", "beta"):
        _check(fit, name)
    assert abs(fit["constant"].value) <= 3 * fit["constant"].error
    assert fit.extrapolated and fit.n_replicas == 1500
    assert fit["repulsion"].error < 0.02 * sigma**2 / 2


def test_wishart_process_coefficients_recovered(wishart_levels: np.ndarray) -> None:
    """Bru: a = σ², b = nσ², c = 4σ² (D2 = 4σ²x), β = 4a/c = 1 within 5 % and 3σ."""
    fit = dyson.fit_sde(wishart_levels, 0.006, dyson.wishart_model(1.0, 8))
    for name in ("repulsion", "constant", "diffusion", "beta"):
        _check(fit, name)


def test_independent_motions_have_no_repulsion() -> None:
    """Labelled or sorted (as spectra are stored), independent Brownian motions fit a ≈ 0."""
    g0, g1, g2 = _rngs(16_02, 3)
    start = np.sort(g0.uniform(0.0, 6.0, (2000, 6)), axis=-1)
    for sort, rng in ((False, g1), (True, g2)):
        levels = dyson.independent_brownian_motions(start, 120, 0.005, rng, sigma=1.0, sort=sort)
        fit = dyson.fit_sde(levels, 0.005, dyson.dyson_model(1.0))
        rep = fit["repulsion"]
        assert abs(rep.value) <= 3 * rep.error, (sort, rep)
        assert rep.error < 0.05 * 0.5  # a DBM with the same noise (a = 0.5) would be ≥ 20σ away
        assert abs(fit["beta"].value) <= 3 * fit["beta"].error
        _check(fit, "diffusion")


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
    model = dyson.linear_drift_model()

    def rate(tau: float) -> float:
        return (1 - math.exp(-gamma * tau)) / tau

    def diffusion(tau: float) -> float:
        return sigma**2 * (1 - math.exp(-2 * gamma * tau)) / (2 * gamma * tau)

    one = dyson.fit_sde(x, dt, model, lags=1, min_gap=None)
    assert one["rate"].value == pytest.approx(rate(dt), abs=3 * one["rate"].error)
    assert one["diffusion"].value == pytest.approx(diffusion(dt), abs=3 * one["diffusion"].error)
    assert gamma - one["rate"].value > 5 * one["rate"].error  # the bias is resolved
    two = dyson.fit_sde(x, dt, model, lags=(1, 2), min_gap=None)
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
        fit = dyson.fit_sde(x, 1.0, dyson.linear_drift_model(), lags=1, min_gap=None)
        estimates.append(fit["diffusion"].value)
        errors.append(fit["diffusion"].error)
    ratio = np.std(estimates, ddof=1) / np.mean(errors)
    # the sample sd of 24 values has a relative error ≈ 1/√46 ≈ 0.15
    assert 0.6 < ratio < 1.5, ratio
    assert np.mean(estimates) == pytest.approx(0.09, abs=3 * float(np.mean(errors)) / math.sqrt(24))


def test_confined_pair_repulsion_at_the_grbm_step() -> None:
    """A 2×2 matrix OU pair (the local picture of a GRBM pair) sampled at γΔt = 0.05, as the
    slow GRBM pairs at Δt = 1: the extrapolated fit recovers a = σ²/2, γ and c = σ²."""
    g0, g1 = _rngs(16_06, 2)
    gamma, sigma = 1.0, 1.0
    start = rmt.goe(2, g0, size=400, v=sigma**2 / (4 * gamma))  # the stationary GOE
    levels = dyson.dyson_brownian_motion(start, 2000, 0.05, g1, sigma=sigma, rate=gamma)
    fit = dyson.fit_sde(levels, 0.05, dyson.dyson_model(sigma, rate=gamma))
    for name in ("repulsion", "rate", "diffusion", "beta"):
        _check(fit, name)
    single = dyson.fit_sde(levels, 0.05, dyson.dyson_model(sigma, rate=gamma), lags=1)
    assert single["diffusion"].value < 0.95 * sigma**2  # what Richardson removes: −γτ·(1 + …)


def test_binned_moments_follow_the_bru_drift_and_diffusion(wishart_levels: np.ndarray) -> None:
    """Pooled and per-level binned ⟨Δx|x⟩/τ and Var(Δx|x)/τ agree with the bin averages of
    D1 = σ²(n + Σ (x_i + x_j)/(x_i − x_j)) and D2 = 4σ²x (χ² p-value > 10⁻³)."""
    model = dyson.wishart_model(1.0, 8)
    for use, lags in ((None, 1), (None, (1, 2)), ([0], 1), ([3], (1, 2))):
        pts = wishart_levels[:, :-1][..., use if use is not None else slice(None)]
        edges = np.quantile(pts, np.linspace(0.0, 1.0, 13))
        bins = dyson.binned_moments(
            wishart_levels, 0.006, bins=edges, use=use, lags=lags, model=model, min_gap=2.0
        )
        assert bins.levels == (tuple(use) if use is not None else (0, 1, 2, 3))
        for which in ("drift", "diffusion"):
            chi2, dof = bins.chi2(which)
            assert dof >= 10
            assert stats.chi2.sf(chi2, dof) > 1e-3, (use, lags, which, chi2, dof)
        good = bins.counts >= 100
        np.testing.assert_allclose(bins.predicted_diffusion[good], 4 * bins.centres[good], rtol=1e-12)


def test_binned_moments_reject_a_wrong_dyson_index(wishart_levels: np.ndarray) -> None:
    """The same bins against the β = 2 drift (twice the repulsion) fail badly: the test has power."""
    model = dyson.wishart_model(1.0, 8)
    wrong = {"repulsion": 2.0, "constant": 8.0, "diffusion": 4.0}
    bins = dyson.binned_moments(wishart_levels, 0.006, bins=12, model=model, coefficients=wrong, min_gap=2.0)
    chi2, dof = bins.chi2("drift")
    assert stats.chi2.sf(chi2, dof) < 1e-6


def _grbm_sgd(
    rng: np.random.Generator,
    kappa: np.ndarray,
    mu: float,
    lr: float,
    batch: int,
    replicas: int,
    steps: int,
    every: int,
) -> np.ndarray:
    """SGD of a Gaussian RBM (σ_h = 1, N_h = N_v) with exact independent model samples:
    W ← W + αW(C_φ − Ĉ), Ĉ = (1/|B|) Σ_b φ_b φ_bᵀ with φ_b ~ N(0, C), C = (μ² − WᵀW)⁻¹, started at the
    fixed point W*ᵀW* = μ² − K_φ with K_φ = diag(κ). |B|·Ĉ is Wishart(|B|, C), drawn exactly as
    (LA)(LA)ᵀ with C = LLᵀ and A the Bartlett factor (A_ii = √χ²_{|B|−i}, A_ij ~ N(0, 1) for i > j;
    Bartlett, Proc. R. Soc. Edinb. 53, 260 (1933)). Returns the ascending eigenvalues of WᵀW
    every `every` steps."""
    n = len(kappa)
    c_phi = np.diag(1.0 / kappa)
    w = np.broadcast_to(np.diag(np.sqrt(mu**2 - kappa)), (replicas, n, n)).copy()
    diag, (low_i, low_j) = np.arange(n), np.tril_indices(n, -1)
    dof = batch - diag
    a = np.zeros((replicas, n, n))
    out = np.empty((replicas, steps // every + 1, n))
    out[:, 0] = np.linalg.eigvalsh(np.swapaxes(w, 1, 2) @ w)
    for step in range(1, steps + 1):
        chol = np.linalg.cholesky(np.linalg.inv(mu**2 * np.eye(n) - np.swapaxes(w, 1, 2) @ w))
        a[:, diag, diag] = np.sqrt(rng.chisquare(dof, (replicas, n)))
        a[:, low_i, low_j] = rng.standard_normal((replicas, len(low_i)))
        la = chol @ a
        w += lr * w @ (c_phi - la @ np.swapaxes(la, 1, 2) / batch)
        if step % every == 0:
            out[:, step // every] = np.linalg.eigvalsh(np.swapaxes(w, 1, 2) @ w)
    return out


def test_grbm_sgd_levels_follow_the_predicted_dyson_equation() -> None:
    """SGD of a 4×4 GRBM with a degenerate target pair (κ = 4, 6, 6, 8; μ = 3): the pair's
    repulsion and the diffusion equal T = α/|B| and β = 1 (the derived GRBM Dyson equation), within 10 % (the
    statistics of a fast test) and 3σ."""
    (g,) = _rngs(16_07, 1)
    kappa, mu, lr, batch = np.array([4.0, 6.0, 6.0, 8.0]), 3.0, 0.03, 32
    levels = _grbm_sgd(g, kappa, mu, lr, batch, replicas=256, steps=3000, every=10)
    t = lr / batch
    fit = dyson.fit_grbm_dyson(levels, 10 * lr, kappa=kappa, mu=mu, temperature=t)
    assert fit.model.drift_names[:2] == ("gradient", "repulsion")
    for name in ("repulsion", "diffusion", "beta", "gradient"):
        _check(fit, name, rel=0.10)


def test_grbm_level_selection_and_prediction() -> None:
    """γΔt decides which levels are fitted; predictions carry T; bad inputs raise."""
    kappa = 4.0 + 4.0 * np.sin(np.pi * np.arange(10) / 10) ** 2
    rates = dyson.grbm_relaxation_rates(kappa, 3.0)
    np.testing.assert_allclose(
        rates[[0, 1, 3, 9]],
        [2 / 64, 2 * (9 - kappa[4]) / kappa[4] ** 2, 2 * (9 - kappa[3]) / kappa[3] ** 2, 10 / 16],
        rtol=1e-3,
    )
    model = dyson.grbm_model(kappa, 3.0, temperature=0.002, levels=[0, 1, 2])
    assert model.drift_names == ("gradient", "repulsion", "offset_1", "offset_1.382")
    assert model.predicted["repulsion"] == model.predicted["diffusion"] == 0.002
    with pytest.raises(ValueError, match="μ²"):
        dyson.grbm_model(kappa, 2.0)
    with pytest.raises(ValueError, match="slowly"):
        dyson.fit_grbm_dyson(np.ones((2, 5, 10)), 100.0, kappa=kappa, mu=3.0)


def test_bad_inputs_raise() -> None:
    model = dyson.dyson_model()
    with pytest.raises(ValueError, match="replicas, measurements, levels"):
        dyson.fit_sde(np.zeros((2, 3, 4, 5)), 0.1, model)
    with pytest.raises(ValueError, match="lag"):
        dyson.fit_sde(np.zeros((2, 2, 3)), 0.1, model, lags=(1, 2))
    with pytest.raises(ValueError, match="lags"):
        dyson.fit_sde(np.zeros((2, 9, 3)), 0.1, model, lags=(0,))
    with pytest.raises(ValueError, match="symmetric"):
        dyson.dyson_brownian_motion(np.arange(4.0).reshape(2, 2), 3, 0.1, 1)
    with pytest.raises(ValueError, match="p ≤ n"):
        dyson.wishart_process(np.zeros((2, 3)), 3, 0.1, 1)
    with pytest.raises(ValueError, match="needs a model"):
        dyson.binned_moments(np.zeros((2, 9, 3)), 0.1, min_gap=2.0)
    with pytest.raises(rmt.InsufficientDataError):
        dyson.fit_sde(np.zeros((1, 9, 3)) + np.arange(3.0), 0.1, model)  # one replica: no jackknife
    with pytest.raises(rmt.InsufficientDataError):
        dyson.fit_sde(np.full((3, 9, 3), np.nan), 0.1, model)  # nothing finite


def test_a_bin_with_data_in_one_replica_only_has_no_error_and_no_warning() -> None:
    """A bin that only one jackknife group reaches has no error (NaN), silently: no numpy
    'Degrees of freedom <= 0' warning leaks out of the jackknife."""
    import warnings

    rng = np.random.default_rng(np.random.SeedSequence(2026, spawn_key=(12, 1)))
    levels = rng.normal(size=(2, 50, 1)).cumsum(axis=1) * 0.01
    levels[0, :, 0] += 10.0  # replica 0 alone visits x ≈ 10, replica 1 alone x ≈ 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bins = dyson.binned_moments(levels, 0.1, bins=np.array([-1.0, 1.0, 9.0, 11.0]))
    assert bins.counts[0] > 0 and bins.counts[2] > 0
    assert np.isnan(bins.drift_error[[0, 2]]).all() and np.isfinite(bins.drift[[0, 2]]).all()
