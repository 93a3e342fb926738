"""SGD of a Gaussian RBM follows the GRBM Dyson equation derived in mpi_dbm.rmt.grbm_sde (the fitted
repulsion and diffusion equal T = α/|B|, β = 1); level selection by γΔt and the predictions."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm.rmt.grbm_sde import fit_grbm_dyson, grbm_model, grbm_relaxation_rates
from mpi_dbm.rmt.sde_fit import SdeFit


def _rngs(entropy: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng(s) for s in np.random.SeedSequence(entropy).spawn(n)]


def _check(fit: SdeFit, name: str, rel: float = 0.05, pulls: float = 3.0) -> None:
    est, pred = fit[name], fit.model.predicted[name]
    assert abs(est.value - pred) <= rel * abs(pred), (name, est, pred)
    assert abs(est.value - pred) <= pulls * est.error, (name, est, pred)


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
    fit = fit_grbm_dyson(levels, 10 * lr, kappa=kappa, mu=mu, temperature=t)
    assert fit.model.drift_names[:2] == ("gradient", "repulsion")
    for name in ("repulsion", "diffusion", "beta", "gradient"):
        _check(fit, name, rel=0.10)


def test_grbm_level_selection_and_prediction() -> None:
    """γΔt decides which levels are fitted; predictions carry T; bad inputs raise."""
    kappa = 4.0 + 4.0 * np.sin(np.pi * np.arange(10) / 10) ** 2
    rates = grbm_relaxation_rates(kappa, 3.0)
    np.testing.assert_allclose(
        rates[[0, 1, 3, 9]],
        [2 / 64, 2 * (9 - kappa[4]) / kappa[4] ** 2, 2 * (9 - kappa[3]) / kappa[3] ** 2, 10 / 16],
        rtol=1e-3,
    )
    model = grbm_model(kappa, 3.0, temperature=0.002, levels=[0, 1, 2])
    assert model.drift_names == ("gradient", "repulsion", "offset_1", "offset_1.382")
    assert model.predicted["repulsion"] == model.predicted["diffusion"] == 0.002
    with pytest.raises(ValueError, match="μ²"):
        grbm_model(kappa, 2.0)
    with pytest.raises(ValueError, match="slowly"):
        fit_grbm_dyson(np.ones((2, 5, 10)), 100.0, kappa=kappa, mu=3.0)
