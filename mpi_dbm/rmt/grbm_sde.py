"""The GRBM's Dyson SDE for the eigenvalues of X = WᵀW (``/spectra/X``) and its fit.

The Dyson-Brownian-motion picture of the eigenvalues of X under SGD, with strength α/|B|, is that
of G. Aarts, B. Lucini, C. Park, Phys. Rev. E 111, 015303 (2025), arXiv:2407.16427, and of
arXiv:2411.13512 and arXiv:2412.20496; the equation below is derived here from the GRBM update
ΔW = ασ_h² W(C_φ − Ĉ) (second-order perturbation theory and Itô calculus, time t = nα): with
c_k = 1/(μ² − σ_h² x_k), T = α/|B| and eigenvectors aligned with those of the target,

    dx_k = { g · 2σ_h² x_k (1/κ_k − c_k)
             + a · σ_h⁴ Σ_{l≠k} (x_k + x_l)² c_k c_l/(x_k − x_l)
             + b · σ_h⁴ c_k Σ_l x_l c_l (1 + δ_kl) } dt  +  √(c · 8σ_h⁴ x_k² c_k²) dB_k,

predicted g = 1 (gradient), a = T (repulsion), b = T (Itô term of dWᵀdW) and c = T (diffusion);
the Dyson index is β = a/c = 1. The diffusion is not ∝ x here: the noise on W is W·ΔĈ (the
sampled model covariance), not isotropic.

The fit is :func:`~.sde_fit.fit_sde` with the model of :func:`grbm_model`; its finite-Δt bias
and gap cut are in the :mod:`.sde_fit` docstring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from ._base import freeze
from .sde_fit import SdeFit, fit_sde
from .sde_increments import _select
from .sde_models import SdeModel, _differences

__all__ = ["fit_grbm_dyson", "grbm_model", "grbm_relaxation_rates"]


def _grbm_constants(kappa: np.ndarray, mu: float, sigma_h: float) -> tuple[np.ndarray, np.ndarray]:
    """κ per level index of the ascending spectrum of X (x* = (μ² − κ)/σ_h² ascending) and x*."""
    k = np.sort(np.asarray(kappa, dtype=float))[::-1]
    if np.any(k >= mu**2):
        raise ValueError(f"the GRBM fixed point needs μ² > max κ (μ² = {mu**2}, max κ = {k.max()})")
    return k, (mu**2 - k) / sigma_h**2


def grbm_relaxation_rates(kappa: np.ndarray, mu: float, sigma_h: float = 1.0) -> np.ndarray:
    """γ_k = 2σ_h²(μ² − κ_k)/κ_k² per level index of the ascending spectrum of X: the linearised
    relaxation rate of δx_k around x*_k = (μ² − κ_k)/σ_h² (the drift term below, expanded)."""
    k, _ = _grbm_constants(kappa, mu, sigma_h)
    return np.asarray(2.0 * sigma_h**2 * (mu**2 - k) / k**2)


def _offset_groups(
    x_star: np.ndarray, fitted: np.ndarray, offsets: Literal["cluster", "level"] | None
) -> tuple[list[np.ndarray], list[str]]:
    """The level masks and names of the free drift constants of :func:`grbm_model`: one per
    cluster of equal x* (``"cluster"``) or per level (``"level"``) among the ``fitted`` levels."""
    n_levels = len(x_star)
    groups: list[np.ndarray]
    offset_names: list[str]
    if offsets == "cluster":
        keys = np.round(x_star, 9)
        groups = [np.isclose(keys, v, rtol=1e-9, atol=0.0) for v in np.unique(keys[fitted])]
        offset_names = [f"offset_{v:.4g}" for v in np.unique(keys[fitted])]
    elif offsets == "level":
        groups = [np.arange(n_levels) == m for m in np.flatnonzero(fitted)]
        offset_names = [f"offset_{m}" for m in np.flatnonzero(fitted)]
    elif offsets is None:
        groups, offset_names = [], []
    else:
        raise ValueError(f"offsets must be 'cluster', 'level' or None, got {offsets!r}")
    return groups, offset_names


def grbm_model(
    kappa: np.ndarray,
    mu: float,
    sigma_h: float = 1.0,
    *,
    temperature: float | None = None,
    offsets: Literal["cluster", "level"] | None = "cluster",
    levels: Sequence[int] | None = None,
) -> SdeModel:
    """The GRBM's Dyson SDE for the ascending eigenvalues of X = WᵀW (module docstring).

    Drift terms (c_k = 1/(μ² − σ_h² x_k), κ_k the target eigenvalue of level k, ascending x):
      "gradient"  2σ_h² x_k (1/κ_k − c_k)                        predicted 1
      "repulsion" σ_h⁴ Σ_{l≠k} (x_k + x_l)² c_k c_l/(x_k − x_l)  predicted T = α/|B|
      "ito"       σ_h⁴ c_k Σ_l x_l c_l (1 + δ_kl)                 predicted T  (``offsets=None``)
    Diffusion D2_k = c · 8σ_h⁴ x_k² c_k², predicted c = T; β = a/c, predicted 1 (a degenerate
    pair is locally the β = 1 DBM: repulsion 4T(x*/κ)²/s against D2 = 8T(x*/κ)²).

    From ΔW = ασ_h² W(C_φ − Ĉ) with independent chain samples, Cov(ΔĈ_ij, ΔĈ_kl) =
    (C_ik C_jl + C_il C_jk)/|B|, in t = nα. The aligned-eigenvector assumption misses O(T)
    rotation terms of the drift (mean shifts need the fixed-basis expansion instead),
    smooth in x and, by the rotation symmetry inside a degenerate eigenspace, equal for the
    members of a cluster. ``offsets="cluster"`` (default) therefore replaces "ito" by one free
    drift constant per cluster of equal x* ("offset_<x*>"), which absorbs them; the repulsion is
    then fixed by the antisymmetric (spacing) part of the drift inside each pair — the
    universal part. ``"level"``: one constant per level (also absorbs the mean of 1/s, much
    larger errors). ``levels``: the level indices that will be fitted (offsets only for their
    clusters; default all). PCD chain autocorrelation multiplies the noise of (k, l) by
    (1 + ρ_kρ_l)/(1 − ρ_kρ_l), ρ = (σ_h² x/μ²)^k_Gibbs: ≤ 3 % for the default lattice's top
    level, < 10⁻⁴ for x < 2.5.
    """
    k, x_star = _grbm_constants(kappa, mu, sigma_h)
    s2, s4 = sigma_h**2, sigma_h**4
    n_levels = len(k)
    groups, offset_names = _offset_groups(x_star, _select(levels, n_levels), offsets)
    indicators = [g.astype(float) for g in groups]

    def basis(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        if x.shape[-1] != n_levels:
            raise ValueError(f"the GRBM model has {n_levels} levels, the data {x.shape[-1]}")
        c = 1.0 / (mu**2 - s2 * x)
        gradient = 2.0 * s2 * x * (1.0 / k - c)
        d = _differences(x)
        pair = (x[..., :, None] + x[..., None, :]) ** 2 * c[..., :, None] * c[..., None, :]
        repulsion = s4 * np.sum(pair / d, axis=-1)
        terms = [gradient, repulsion]
        if offsets is None:
            terms.append(s4 * c * (np.sum(x * c, axis=-1, keepdims=True) + x * c))
        terms += [np.broadcast_to(g, x.shape) for g in indicators]
        return np.stack(terms, axis=-1)

    def shape(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        return 8.0 * s4 * (x / (mu**2 - s2 * x)) ** 2

    names = ("gradient", "repulsion", *(("ito",) if offsets is None else ()), *offset_names)
    predicted: dict[str, float] = {"gradient": 1.0, "beta": 1.0}
    if temperature is not None:
        predicted.update(repulsion=temperature, diffusion=temperature)
        if offsets is None:
            predicted["ito"] = temperature
    return SdeModel(
        name="grbm",
        drift_names=names,
        drift_basis=basis,
        diffusion_shape=shape,
        predicted=freeze(predicted),
        beta_factor=1.0,
        lower_bound=0.0,
        description=f"GRBM Dyson SDE, x* = {np.round(x_star, 4).tolist()}",
    )


def fit_grbm_dyson(
    levels: np.ndarray,
    dt: float,
    *,
    kappa: np.ndarray,
    mu: float,
    sigma_h: float = 1.0,
    temperature: float | None = None,
    start: int = 0,
    max_rate_dt: float = 0.12,
    use: Sequence[int] | None = None,
    lags: Sequence[int] = (1, 2),
    offsets: Literal["cluster", "level"] | None = "cluster",
    min_gap: float | None = 2.0,
    max_groups: int = 100,
) -> SdeFit:
    """Fit the GRBM Dyson SDE (:func:`grbm_model`) to recorded ``/spectra/X`` trajectories.

    ``levels``: (replicas, measurements, N_v) ascending eigenvalues of X = WᵀW of one
    (α, |B|) point (N_h ≥ N_v); ``dt`` = measure_every·α (time t = nα between measurements);
    ``start``: measurements to drop (transient); ``temperature``: α/|B| for the predictions.
    Only levels whose relaxation rate γ_k = 2σ_h²Ω_k obeys γ_k·dt ≤ ``max_rate_dt`` are fitted
    (unless ``use`` is given): the Kramers–Moyal estimate of a faster level is dominated by its
    finite-Δt bias (relative −γτ/2 at one lag; ℓ over a pair's rms spacing is √(γτ)); on the exact
    matrix OU the default fit is within 1 % of the truth up to γΔt = 0.1 (:mod:`.sde_fit` docstring).
    All levels enter the drift terms. Compared numbers: "repulsion" (= T),
    "diffusion" (= T), "beta" (= 1, the Dyson index) and "gradient" (= 1).

    On a quick ``grbm-long`` sweep (96 replicas, Δt = 1, t ∈ [100, 1000], PCD k = 3) this gives
    repulsion/T = 1.04(4), 0.95(4), diffusion/T = 1.021(3), 1.009(3) (→ 0.996(7) at α/|B| → 0),
    β = 1.02(4), 0.94(4) at α/|B| = 0.0016, 0.00078; one lag instead: diffusion/T = 0.93.
    """
    x = np.asarray(levels, dtype=float)
    if x.ndim != 3:
        raise ValueError(f"levels must be (replicas, measurements, levels), got shape {x.shape}")
    if use is None:
        rates = grbm_relaxation_rates(kappa, mu, sigma_h)
        use = [int(i) for i in np.flatnonzero(rates * dt <= max_rate_dt)]
        if not use:
            raise ValueError(f"no level relaxes slowly enough for dt = {dt} (γ dt ≤ {max_rate_dt})")
    model = grbm_model(kappa, mu, sigma_h, temperature=temperature, offsets=offsets, levels=use)
    return fit_sde(x[:, start:], dt, model, lags=lags, use=use, min_gap=min_gap, max_groups=max_groups)
