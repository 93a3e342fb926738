"""Dyson Brownian motion measured: Kramers–Moyal drift and diffusion of recorded level trajectories.

Exact simulators
----------------
* Dyson Brownian motion, β = 1 (Dyson, J. Math. Phys. 3, 1191 (1962)). H(t) = H(0) + G(t) with G a
  symmetric matrix Brownian motion whose increments are GOE-shaped: over dt the off-diagonal entries
  change by N(0, σ²dt/2), the diagonal ones by N(0, σ²dt). Second-order perturbation theory of
  λ_i(H + dH) in the eigenbasis of H (where dH keeps its law, the GOE being rotation invariant) and
  Itô calculus give

      dλ_i = σ dB_i + (σ²/2) Σ_{j≠i} dt/(λ_i − λ_j),

  i.e. drift D1_i = a Σ_{j≠i} 1/(λ_i − λ_j) with a = σ²/2, diffusion D2 = σ² (constant) and
  β = 2a/D2 = 1 (in the normalisation dλ = √(2/β) dB + Σ dt/(λ_i − λ_j) up to a time scale).
  Sampling H every Δt is exact in law.
* Wishart (Bru) process (M.-F. Bru, J. Theor. Probab. 4, 725 (1991)). W(t) an n×p matrix Brownian
  motion, dW_ab dW_cd = σ² δ_ac δ_bd dt, p ≤ n, and x_i the eigenvalues of X = WᵀW. With
  W = U S Vᵀ and dŴ = Ūᵀ dW V (Ū the completed n×n basis; dŴ has the law of dW),
  dX̃ = dŴᵀS + S dŴ + nσ² 𝟙 dt in the eigenbasis of X, so dX̃_ii = 2√x_i dŴ_ii + nσ²dt and
  Var(dX̃_ij) = σ²(x_i + x_j) dt; second-order perturbation theory then gives

      dx_i = 2σ √x_i dB_i + σ² (n + Σ_{j≠i} (x_i + x_j)/(x_i − x_j)) dt,

  i.e. D1_i = a Σ_{j≠i} (x_i + x_j)/(x_i − x_j) + b with a = σ², b = nσ², and D2 = c·x with c = 4σ².
  The Dyson index is β = 4a/c = 1: writing (x_i + x_j)/(x_i − x_j) = 2x_i/(x_i − x_j) − 1, the
  pair drift is (β/2)(D2/2)·∂_i log Π|x_i − x_j| exactly when β = 4a/c.
* Independent Brownian motions (no repulsion), labelled or sorted: the null model.

Estimators (Kramers–Moyal; H. Risken, *The Fokker–Planck Equation*, 2nd ed. (1989), §4.7;
R. Friedrich et al., Phys. Rep. 506, 87 (2011))
----------------------------------------------------------------------------------------------
For levels x(t) recorded every Δt (array (replicas, measurements, levels)) and a lag of m
measurements, τ = mΔt, Δx_i = x_i(t + τ) − x_i(t):

    D1(x) ≈ ⟨Δx | x⟩/τ,     D2(x) ≈ ⟨Δx² | x⟩/τ          (dx = D1 dt + √D2 dB).

* :func:`binned_moments`: both, binned in x (one level index, a set, or pooled), with
  delete-one-replica jackknife errors (ratio estimators on per-replica sums), and — for a figure —
  the model's D1 and D2 averaged over the same points of every bin (the drift depends on all
  levels, so the model curve is a bin average, not a function of x alone).
* :func:`fit_sde`: a regression of the SDE coefficients, D1_i(x) = Σ_m θ_m f_m(x)_i and
  D2_i(x) = c·h(x)_i (:class:`SdeModel` supplies f and h). Weighted least squares with weights
  1/h (Var(Δx | x) = D2 τ): θ = A⁻¹b, A = Σ τ f fᵀ/h, b = Σ f Δx/h; then c from the weighted
  residuals, c = Σ (Δx − τ fᵀθ)²/(τ h) / N = (Σ Δx²/(τh) − θᵀb)/N. Increments along one trajectory
  are correlated through x, so the errors are a jackknife over independent replicas (delete-one,
  or blocks of replicas when there are many), never the WLS formula.

Finite-Δt bias (P. E. Kloeden, E. Platen, *Numerical Solution of SDEs* (1992), ch. 5; for
Kramers–Moyal estimates: M. Ragwitz, H. Kantz, Phys. Rev. Lett. 87, 254501 (2001)). With L the
generator of the diffusion, Itô–Taylor expansion gives, per level,

    ⟨Δx_i | x⟩/τ  = D1_i + (τ/2) L D1_i + O(τ²),
    ⟨Δx_i² | x⟩/τ = D2_i + τ [D1_i² + ½ L D2_i + D2_i ∂_i D1_i] + O(τ²)

(the fit uses the residual (Δx − τ D1)², which removes the D1² term). Examples:
Ornstein–Uhlenbeck D1 = −γx: ⟨Δx|x⟩/τ = −x(1 − e^{−γτ})/τ, relative bias −γτ/2; a level at
distance s from its nearest neighbour in the DBM: relative bias σ²τ/(2s²) of the repulsion, so the
expansion fails where the gap is comparable to the diffusion length. Hence:
(1) start points whose nearest-level gap (or distance to a hard edge such as x = 0 of a Wishart
    spectrum) is below ``min_gap`` (default 2) times the rms change of that gap over the longest
    lag, ℓ² = τ_max ĉ₀ (h_i + h_j) (ĉ₀ a preliminary diffusion coefficient), are left out of the
    fit. Selection on the starting configuration does not bias a conditional moment; without
    the cut the near-collisions, where 1/s has unbounded leverage, pull the fitted repulsion of
    the β = 1 DBM down by ≈ 45 % (σ²τ/⟨s⟩² = 0.005, n = 6);
(2) ``lags=(1, 2)`` (default) fits every coefficient at τ and 2τ and returns the Richardson
    extrapolation 2θ(τ) − θ(2τ), whose bias is O(τ²) (OU: −γ²τ²/3 relative).
Measured on the exact 2×2 matrix OU pair (rate γ, 8 × 400 replicas × 2000 steps): at
γΔt = 0.02, 0.05, 0.1 the default fit gives the repulsion/(σ²/2) = 0.995(6), 0.994(5), 0.993(10)
and the diffusion/σ² = 1.002, 1.001, 0.993 (±0.001), where a single lag gives +4.4, +5.6, +7.5 %
and −3.2, −7.0, −12.8 %. Tests keep σ²τ/⟨s⟩² ≲ 10⁻² (γΔt ≤ 0.05 for confined levels).

GRBM application (eigenvalues of X = WᵀW, ``/spectra/X``). The Dyson-Brownian-motion picture of
the eigenvalues of X under SGD, with strength α/|B|, is that of G. Aarts, B. Lucini, C. Park,
Phys. Rev. E 111, 015303 (2025), arXiv:2407.16427, and of arXiv:2411.13512 and arXiv:2412.20496;
the equation below is derived here from the GRBM update ΔW = ασ_h² W(C_φ − Ĉ) (second-order
perturbation theory and Itô calculus, time t = nα): with c_k = 1/(μ² − σ_h² x_k), T = α/|B| and
eigenvectors aligned with those of the target,

    dx_k = { g · 2σ_h² x_k (1/κ_k − c_k)
             + a · σ_h⁴ Σ_{l≠k} (x_k + x_l)² c_k c_l/(x_k − x_l)
             + b · σ_h⁴ c_k Σ_l x_l c_l (1 + δ_kl) } dt  +  √(c · 8σ_h⁴ x_k² c_k²) dB_k,

predicted g = 1 (gradient), a = T (repulsion), b = T (Itô term of dWᵀdW) and c = T (diffusion);
the Dyson index is β = a/c = 1. The diffusion is not ∝ x here: the noise on W is W·ΔĈ (the
sampled model covariance), not isotropic. See :func:`grbm_model` and :func:`fit_grbm_dyson`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ._base import Estimate, InsufficientDataError, as_generator, freeze
from .ensembles import goe

__all__ = [
    "KramersMoyalBins",
    "SdeFit",
    "SdeModel",
    "binned_moments",
    "dyson_brownian_motion",
    "dyson_model",
    "fit_grbm_dyson",
    "fit_sde",
    "grbm_model",
    "grbm_relaxation_rates",
    "independent_brownian_motions",
    "linear_drift_model",
    "wishart_model",
    "wishart_process",
]

Basis = Callable[[np.ndarray], np.ndarray]
_CHUNK_ELEMENTS = 4_000_000  # basis entries evaluated per batch of replicas (bounds memory)

# -- exact simulators ----------------------------------------------------------------------------


def _replicated(start: np.ndarray, core_ndim: int, replicas: int | None) -> np.ndarray:
    s = np.array(start, dtype=float)
    if s.ndim == core_ndim:
        s = np.broadcast_to(s, (1 if replicas is None else int(replicas), *s.shape)).copy()
    elif s.ndim != core_ndim + 1:
        raise ValueError(f"start must have {core_ndim} or {core_ndim + 1} dimensions, got shape {s.shape}")
    elif replicas is not None and replicas != s.shape[0]:
        raise ValueError(f"replicas={replicas} but start holds {s.shape[0]} replicas")
    return s


def _check_steps(n_steps: int, dt: float) -> None:
    if n_steps < 1:
        raise ValueError(f"n_steps must be positive, got {n_steps}")
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")


def dyson_brownian_motion(
    start: np.ndarray,
    n_steps: int,
    dt: float,
    rng: np.random.Generator | int,
    *,
    sigma: float = 1.0,
    rate: float = 0.0,
    centre: float = 0.0,
    replicas: int | None = None,
) -> np.ndarray:
    """β = 1 Dyson Brownian motion sampled exactly every dt: eigenvalues of a GOE matrix process.

    ``start``: H(0), one symmetric (n, n) matrix (copied to ``replicas`` replicas) or (R, n, n).
    ``rate`` = 0: H(t + dt) = H(t) + G with G a GOE matrix of off-diagonal variance σ²dt/2 and
    diagonal variance σ²dt, so dλ_i = σ dB_i + (σ²/2) Σ_{j≠i} dt/(λ_i − λ_j).
    ``rate`` = γ > 0 (matrix Ornstein–Uhlenbeck, the local picture of a degenerate cluster,
    a linearised fixed point): H(t + dt) = c + e^{−γdt}(H(t) − c) + G with G of off-diagonal variance
    (σ²/2)(1 − e^{−2γdt})/(2γ) (exact AR(1) of every entry), so
    dλ_i = σ dB_i + [−γ(λ_i − c) + (σ²/2) Σ_{j≠i} 1/(λ_i − λ_j)] dt; stationary law: GOE with
    off-diagonal variance σ²/(4γ) around c. Returns ascending levels (R, n_steps + 1, n).
    """
    _check_steps(n_steps, dt)
    if rate < 0:
        raise ValueError(f"rate must be non-negative, got {rate}")
    gen = as_generator(rng)
    h = _replicated(start, 2, replicas)
    if h.shape[-1] != h.shape[-2] or not np.allclose(h, np.swapaxes(h, -1, -2)):
        raise ValueError("start must be a symmetric matrix (or a stack of them)")
    r, n = h.shape[0], h.shape[-1]
    decay = float(np.exp(-rate * dt))
    v = 0.5 * sigma**2 * (dt if rate == 0 else -np.expm1(-2.0 * rate * dt) / (2.0 * rate))
    shift = centre * (1.0 - decay) * np.eye(n)
    out = np.empty((r, n_steps + 1, n))
    out[:, 0] = np.linalg.eigvalsh(h)
    for k in range(1, n_steps + 1):
        if rate:
            h *= decay
            h += shift
        h += goe(n, gen, size=r, v=v)
        out[:, k] = np.linalg.eigvalsh(h)
    return out


def wishart_process(
    start: np.ndarray,
    n_steps: int,
    dt: float,
    rng: np.random.Generator | int,
    *,
    sigma: float = 1.0,
    replicas: int | None = None,
) -> np.ndarray:
    """Eigenvalues of X = WᵀW for an n×p matrix Brownian motion W (Bru's Wishart process), exact.

    ``start``: W(0), (n, p) or (R, n, p), with p ≤ n. Each step adds iid N(0, σ²dt) entries, so
    dx_i = 2σ√x_i dB_i + σ²(n + Σ_{j≠i} (x_i + x_j)/(x_i − x_j)) dt. Returns ascending x
    (squared singular values of W, accurate near 0), shape (R, n_steps + 1, p).
    """
    _check_steps(n_steps, dt)
    gen = as_generator(rng)
    w = _replicated(start, 2, replicas)
    r, n, p = w.shape
    if p > n:
        raise ValueError(f"the Wishart process needs p ≤ n, got an {n}×{p} start")
    out = np.empty((r, n_steps + 1, p))
    step = sigma * np.sqrt(dt)
    out[:, 0] = np.linalg.svd(w, compute_uv=False)[:, ::-1] ** 2
    for k in range(1, n_steps + 1):
        w += gen.normal(0.0, step, w.shape)
        out[:, k] = np.linalg.svd(w, compute_uv=False)[:, ::-1] ** 2
    return out


def independent_brownian_motions(
    start: np.ndarray,
    n_steps: int,
    dt: float,
    rng: np.random.Generator | int,
    *,
    sigma: float = 1.0,
    replicas: int | None = None,
    sort: bool = False,
) -> np.ndarray:
    """Levels x_i(t) = x_i(0) + σ B_i(t), independent (no repulsion), shape (R, n_steps + 1, n).

    ``sort=False`` keeps the labels (columns are trajectories); ``sort=True`` records them
    ascending at every time, as a spectrum is recorded (sorted paths reflect off each other).
    """
    _check_steps(n_steps, dt)
    gen = as_generator(rng)
    x0 = _replicated(start, 1, replicas)
    r, n = x0.shape
    steps = gen.normal(0.0, sigma * np.sqrt(dt), (r, n_steps, n))
    out = np.concatenate([x0[:, None, :], x0[:, None, :] + np.cumsum(steps, axis=1)], axis=1)
    return np.sort(out, axis=-1) if sort else out


# -- SDE models ----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SdeModel:
    """A linear-in-coefficients SDE for L levels: D1_i = Σ_m θ_m f_m(x)_i, D2_i = c·h(x)_i.

    ``drift_basis`` maps x (N, L) to f (N, L, P); ``diffusion_shape`` maps x (N, L) to h > 0
    (N, L). ``predicted`` holds theory values of the coefficients (names from ``drift_names``,
    ``"diffusion"`` for c and ``"beta"``), ``beta_factor`` the ratio β = factor·θ_repulsion/c of
    the model's normalisation (needs a drift term named ``"repulsion"``), ``lower_bound`` a hard
    edge of the levels (x ≥ 0 for a Gram matrix) treated like a neighbour by the gap cut.
    """

    name: str
    drift_names: tuple[str, ...]
    drift_basis: Basis
    diffusion_shape: Basis
    predicted: Mapping[str, float] = field(default_factory=freeze)
    beta_factor: float | None = None
    lower_bound: float | None = None
    description: str = ""

    def drift(self, x: np.ndarray, coefficients: Mapping[str, float]) -> np.ndarray:
        """D1(x) for the given drift coefficients, shape of x."""
        theta = np.array([coefficients[name] for name in self.drift_names])
        return np.asarray(self.drift_basis(np.asarray(x, dtype=float)) @ theta)

    def diffusion(self, x: np.ndarray, coefficients: Mapping[str, float]) -> np.ndarray:
        """D2(x) = c·h(x), shape of x."""
        return coefficients["diffusion"] * self.diffusion_shape(np.asarray(x, dtype=float))


def _differences(x: np.ndarray) -> np.ndarray:
    """x_i − x_j (..., L, L) with the diagonal replaced by inf, so that Σ_j g/(x_i − x_j) skips j = i."""
    d = x[..., :, None] - x[..., None, :]
    return np.where(np.eye(x.shape[-1], dtype=bool), np.inf, d)


def dyson_model(sigma: float | None = None, *, rate: float | None = None, centre: float = 0.0) -> SdeModel:
    """Dyson model: D1_i = a Σ_{j≠i} 1/(x_i − x_j) + b [− γ (x_i − centre)], D2 = c; β = 2a/c.

    ``rate``: include the linear confinement term ("rate", coefficient γ) of the matrix
    Ornstein–Uhlenbeck process. With ``sigma`` (and ``rate``) the predictions of
    :func:`dyson_brownian_motion` are attached: a = σ²/2, b = 0, c = σ², β = 1 (and γ).
    """
    confined = rate is not None

    def basis(x: np.ndarray) -> np.ndarray:
        d = _differences(x)
        terms = [np.sum(1.0 / d, axis=-1), np.ones_like(x)]
        if confined:
            terms.append(centre - x)
        return np.stack(terms, axis=-1)

    predicted: dict[str, float] = {}
    if sigma is not None:
        predicted = {"repulsion": sigma**2 / 2, "constant": 0.0, "diffusion": sigma**2, "beta": 1.0}
    if rate is not None:
        predicted["rate"] = float(rate)
    return SdeModel(
        name="dyson" + ("-ou" if confined else ""),
        drift_names=("repulsion", "constant", *(("rate",) if confined else ())),
        drift_basis=basis,
        diffusion_shape=np.ones_like,
        predicted=freeze(predicted),
        beta_factor=2.0,
        description="D1_i = a Σ 1/(x_i − x_j) + b" + (" − γ(x_i − centre)" if confined else "") + ", D2 = c",
    )


def _wishart_basis(x: np.ndarray) -> np.ndarray:
    d = _differences(x)
    s = x[..., :, None] + x[..., None, :]
    return np.stack([np.sum(s / d, axis=-1), np.ones_like(x)], axis=-1)


def wishart_model(sigma: float | None = None, n: int | None = None) -> SdeModel:
    """Wishart/Bru model: D1_i = a Σ_{j≠i} (x_i + x_j)/(x_i − x_j) + b, D2 = c·x; β = 4a/c.

    With ``sigma`` and ``n`` (rows of W) the predictions a = σ², b = nσ², c = 4σ², β = 1 are
    attached (Bru 1991). The levels have the hard edge x ≥ 0.
    """
    predicted: dict[str, float] = {}
    if sigma is not None:
        predicted = {"repulsion": sigma**2, "diffusion": 4 * sigma**2, "beta": 1.0}
        if n is not None:
            predicted["constant"] = n * sigma**2
    return SdeModel(
        name="wishart",
        drift_names=("repulsion", "constant"),
        drift_basis=_wishart_basis,
        diffusion_shape=lambda x: np.asarray(x, dtype=float).copy(),
        predicted=freeze(predicted),
        beta_factor=4.0,
        lower_bound=0.0,
        description="D1_i = a Σ (x_i + x_j)/(x_i − x_j) + b, D2 = c x (Bru 1991)",
    )


def linear_drift_model(centre: float = 0.0) -> SdeModel:
    """Independent Ornstein–Uhlenbeck levels: D1 = −γ (x − centre) + b, D2 = c (names "rate", "constant").

    No repulsion term: for checking the finite-Δt bias, ⟨Δx|x⟩/τ = −(x − x̄)(1 − e^{−γτ})/τ exactly.
    """
    return SdeModel(
        name="ornstein-uhlenbeck",
        drift_names=("rate", "constant"),
        drift_basis=lambda x: np.stack([centre - x, np.ones_like(x)], axis=-1),
        diffusion_shape=np.ones_like,
        description="D1 = −γ(x − centre) + b, D2 = c",
    )


# -- GRBM ----------------------------------------------------------------------------------------


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
    fitted = _select(levels, n_levels)
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


# -- increments, cuts and sufficient statistics -------------------------------------------------


def _as_trajectories(levels: np.ndarray, max_lag: int) -> np.ndarray:
    x = np.asarray(levels, dtype=float)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"levels must be (replicas, measurements, levels), got shape {x.shape}")
    if x.shape[1] <= max_lag:
        raise ValueError(f"{x.shape[1]} measurements leave no increment at lag {max_lag}")
    return x


def _lags(lags: int | Sequence[int]) -> tuple[int, ...]:
    out = (int(lags),) if isinstance(lags, (int, np.integer)) else tuple(int(m) for m in lags)
    if not out or min(out) < 1 or len(set(out)) != len(out):
        raise ValueError(f"lags must be distinct positive integers, got {lags}")
    return out


def _gap_ok(
    x0: np.ndarray, h: np.ndarray, scale: float, tau: float, min_gap: float, lower: float | None
) -> np.ndarray:
    """True where the nearest-level gap (and the distance to a hard edge) exceeds min_gap·ℓ,
    ℓ² = τ ĉ₀ (h_i + h_j) (h_i alone for the edge)."""
    order = np.argsort(x0, axis=-1)
    xs = np.take_along_axis(x0, order, axis=-1)
    hs = np.take_along_axis(h, order, axis=-1)
    ok = np.ones_like(xs, dtype=bool)
    if xs.shape[-1] > 1:
        gap = np.diff(xs, axis=-1)
        pair_ok = gap**2 >= min_gap**2 * tau * scale * (hs[..., 1:] + hs[..., :-1])
        ok[..., 1:] &= pair_ok
        ok[..., :-1] &= pair_ok
    if lower is not None:
        ok &= (xs - lower) ** 2 >= min_gap**2 * tau * scale * hs
    back = np.empty_like(ok)
    np.put_along_axis(back, order, ok, axis=-1)
    return back


@dataclass(frozen=True)
class _Stats:
    """Per-replica WLS sufficient statistics, one slot per lag: A (R, K, P, P), b (R, K, P),
    q (R, K) = Σ Δx²/(τh), n (R,) increments used."""

    A: np.ndarray
    b: np.ndarray
    q: np.ndarray
    n: np.ndarray


def _select(use: Sequence[int] | None, n_levels: int) -> np.ndarray:
    mask = np.zeros(n_levels, dtype=bool)
    if use is None:
        mask[:] = True
    else:
        idx = np.asarray(list(use), dtype=int)
        if idx.size == 0 or idx.min() < -n_levels or idx.max() >= n_levels:
            raise ValueError(f"level indices {list(use)} out of range for {n_levels} levels")
        mask[idx] = True
    return mask


def _statistics(
    x: np.ndarray,
    dt: float,
    model: SdeModel,
    lags: tuple[int, ...],
    use: np.ndarray,
    min_gap: float | None,
    scale: float,
) -> tuple[_Stats, int]:
    r, m, n_levels = x.shape
    max_lag = max(lags)
    p = len(model.drift_names)
    A = np.zeros((r, len(lags), p, p))
    b = np.zeros((r, len(lags), p))
    q = np.zeros((r, len(lags)))
    counts = np.zeros(r, dtype=np.int64)
    excluded = 0
    chunk = max(1, _CHUNK_ELEMENTS // max(1, (m - max_lag) * n_levels * (p + n_levels)))
    for lo in range(0, r, chunk):
        sl = slice(lo, min(r, lo + chunk))
        x0 = x[sl, : m - max_lag]
        valid = np.isfinite(x0).all(axis=-1)
        for lag in lags:
            valid &= np.isfinite(x[sl, lag : m - max_lag + lag]).all(axis=-1)
        x0 = np.where(valid[..., None], x0, np.arange(n_levels, dtype=float))  # harmless filler
        with np.errstate(divide="ignore", invalid="ignore"):  # exact degeneracies: cut below
            f = model.drift_basis(x0)
        h = model.diffusion_shape(x0)
        keep = valid[..., None] & use
        if min_gap is not None:
            ok = _gap_ok(x0, h, scale, max_lag * dt, min_gap, model.lower_bound)
            excluded += int(np.count_nonzero(keep & ~ok))
            keep &= ok
        w = np.where(keep, 1.0 / np.where(keep, h, 1.0), 0.0)
        f = np.where(keep[..., None], f, 0.0)
        counts[sl] = keep.sum(axis=(1, 2))
        fw = f * w[..., None]
        for j, lag in enumerate(lags):
            tau = lag * dt
            dx = np.where(keep, x[sl, lag : m - max_lag + lag] - x[sl, : m - max_lag], 0.0)
            A[sl, j] = tau * np.einsum("rmlp,rmlq->rpq", fw, f)
            b[sl, j] = np.einsum("rmlp,rml->rp", fw, dx)
            q[sl, j] = np.einsum("rml,rml->r", dx * dx, w) / tau
    return _Stats(A, b, q, counts), excluded


def _solve(A: np.ndarray, b: np.ndarray, q: np.ndarray, n: float) -> np.ndarray:
    """(θ, c) per lag from summed statistics: θ = A⁻¹b, c = (q − θᵀb)/n. Shape (K, P + 1)."""
    out = np.empty((A.shape[0], A.shape[1] + 1))
    for j in range(A.shape[0]):
        theta = np.linalg.solve(A[j], b[j])
        out[j, :-1] = theta
        out[j, -1] = (q[j] - theta @ b[j]) / n
    return out


def _extrapolate(per_lag: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Intercept at τ = 0 of a straight line through the per-lag estimates (Richardson for 2 lags)."""
    if len(taus) == 1:
        return np.asarray(per_lag[0])
    design = np.stack([np.ones_like(taus), taus], axis=1)
    coef, *_ = np.linalg.lstsq(design, per_lag, rcond=None)
    return np.asarray(coef[0])


def _groups(r: int, max_groups: int) -> list[np.ndarray]:
    if r < 2:
        raise InsufficientDataError(2, r, "replicas (for the replica jackknife)")
    if r <= max_groups:
        return [np.array([i]) for i in range(r)]
    return np.array_split(np.arange(r), max_groups)


def _preliminary_scale(x: np.ndarray, dt: float, model: SdeModel) -> float:
    """ĉ₀ = ⟨Δx²/(Δt h)⟩ at lag 1 over all valid points (for the gap cut only)."""
    x0, x1 = x[:, :-1], x[:, 1:]
    valid = np.isfinite(x0).all(axis=-1) & np.isfinite(x1).all(axis=-1)
    a, d = x0[valid], (x1 - x0)[valid]
    if a.size == 0:
        raise InsufficientDataError(1, 0, "finite increments")
    h = model.diffusion_shape(a)
    good = h > 0
    return float(np.mean(d[good] ** 2 / (dt * h[good])))


# -- the fit -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class SdeFit:
    """Fitted SDE coefficients with jackknife errors over replicas.

    ``coefficients`` maps every drift-term name, ``"diffusion"`` and (if the model defines it)
    ``"beta"`` to an :class:`Estimate`; ``per_lag`` holds the raw estimates (drift…, diffusion)
    at every lag, ``covariance`` the jackknife covariance of (drift…, diffusion) as returned.
    """

    model: SdeModel
    coefficients: Mapping[str, Estimate]
    covariance: np.ndarray
    per_lag: np.ndarray
    lags: tuple[int, ...]
    dt: float
    extrapolated: bool
    n_replicas: int
    n_increments: int
    n_excluded: int
    method: str

    def __getitem__(self, name: str) -> Estimate:
        return self.coefficients[name]

    def values(self) -> dict[str, float]:
        """Coefficient values by name (for :meth:`SdeModel.drift` / :meth:`SdeModel.diffusion`)."""
        return {k: e.value for k, e in self.coefficients.items()}

    def pull(self, name: str) -> float:
        """(fitted − predicted)/error for a coefficient with a prediction (NaN without one)."""
        if name not in self.model.predicted:
            return float("nan")
        e = self.coefficients[name]
        return (e.value - self.model.predicted[name]) / e.error if e.error > 0 else float("inf")

    def table(self) -> list[dict[str, Any]]:
        """One row per coefficient: name, value, error, predicted (or None), ratio, pull."""
        rows = []
        for name, e in self.coefficients.items():
            pred = self.model.predicted.get(name)
            rows.append(
                {
                    "name": name,
                    "value": e.value,
                    "error": e.error,
                    "predicted": pred,
                    "ratio": e.value / pred if pred else None,
                    "pull": self.pull(name) if pred is not None else None,
                }
            )
        return rows

    def record(self) -> dict[str, Any]:
        """Plain dict for storing next to results."""
        return {
            "model": self.model.name,
            "coefficients": {k: e.record() for k, e in self.coefficients.items()},
            "predicted": dict(self.model.predicted),
            "lags": list(self.lags),
            "dt": self.dt,
            "extrapolated": self.extrapolated,
            "n_replicas": self.n_replicas,
            "n_increments": self.n_increments,
            "n_excluded": self.n_excluded,
            "method": self.method,
        }


def fit_sde(
    levels: np.ndarray,
    dt: float,
    model: SdeModel,
    *,
    lags: int | Sequence[int] = (1, 2),
    extrapolate: bool = True,
    use: Sequence[int] | None = None,
    min_gap: float | None = 2.0,
    max_groups: int = 100,
) -> SdeFit:
    """Fit the drift and diffusion coefficients of ``model`` to level trajectories.

    ``levels``: (replicas, measurements, levels), recorded every ``dt`` (NaN rows are skipped);
    ``use``: the level indices whose increments are fitted (all levels always enter the
    drift terms); ``lags``: increments over these multiples of dt — with several lags and
    ``extrapolate``, every coefficient is extrapolated linearly in τ to τ = 0 (Richardson);
    ``min_gap``: the gap cut of the module docstring (None keeps every start point).
    Errors: delete-one-replica jackknife (contiguous blocks of replicas beyond ``max_groups``),
    applied to the whole pipeline (fit, extrapolation, β).
    """
    lag_t = _lags(lags)
    x = _as_trajectories(levels, max(lag_t))
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    use_mask = _select(use, x.shape[-1])
    scale = _preliminary_scale(x, dt, model) if min_gap is not None else 1.0
    stats, excluded = _statistics(x, dt, model, lag_t, use_mask, min_gap, scale)
    taus = np.array(lag_t, dtype=float) * dt
    names = model.drift_names
    p = len(names)
    rep_index = names.index("repulsion") if (model.beta_factor and "repulsion" in names) else None

    def estimate(A: np.ndarray, b: np.ndarray, q: np.ndarray, n: float) -> tuple[np.ndarray, np.ndarray]:
        per_lag = _solve(A, b, q, n)
        out = per_lag[0] if not extrapolate else _extrapolate(per_lag, taus)
        beta = np.array([model.beta_factor * out[rep_index] / out[-1]] if rep_index is not None else [])
        return np.concatenate([out, beta]), per_lag

    total_n = float(stats.n.sum())
    if total_n < p + 1:
        raise InsufficientDataError(p + 1, int(total_n), "increments after the cuts")
    groups = _groups(x.shape[0], max_groups)
    A, b, q = stats.A.sum(axis=0), stats.b.sum(axis=0), stats.q.sum(axis=0)
    full, per_lag = estimate(A, b, q, total_n)
    reps = np.stack(
        [
            estimate(
                A - stats.A[g].sum(axis=0),
                b - stats.b[g].sum(axis=0),
                q - stats.q[g].sum(axis=0),
                total_n - float(stats.n[g].sum()),
            )[0]
            for g in groups
        ]
    )
    n_groups = len(groups)
    centred = reps - reps.mean(axis=0)
    cov = (n_groups - 1) / n_groups * centred.T @ centred
    err = np.sqrt(np.diag(cov))
    method = f"WLS, {'delete-one' if n_groups == x.shape[0] else f'{n_groups}-block'} replica jackknife" + (
        f", Richardson over lags {list(lag_t)}" if extrapolate and len(lag_t) > 1 else f", lag {lag_t[0]}"
    )
    all_names = [*names, "diffusion", *(["beta"] if rep_index is not None else [])]
    params = freeze({"lags": list(lag_t), "dt": dt, "min_gap": min_gap})
    coefficients = {
        name: Estimate(float(full[i]), float(err[i]), x.shape[0], method, params)
        for i, name in enumerate(all_names)
    }
    return SdeFit(
        model=model,
        coefficients=freeze(coefficients),
        covariance=cov[: p + 1, : p + 1],
        per_lag=per_lag,
        lags=lag_t,
        dt=float(dt),
        extrapolated=bool(extrapolate and len(lag_t) > 1),
        n_replicas=x.shape[0],
        n_increments=int(total_n),
        n_excluded=excluded,
        method=method,
    )


# -- binned conditional moments -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class KramersMoyalBins:
    """Binned conditional moments D1(x) = ⟨Δx|x⟩/τ and D2(x) = ⟨Δx²|x⟩/τ with jackknife errors.

    ``centres`` are the mean x of each bin's points; ``predicted_drift`` / ``predicted_diffusion``
    the model's D1, D2 averaged over the same points (NaN without a model). Empty bins are NaN.
    """

    edges: np.ndarray
    centres: np.ndarray
    counts: np.ndarray
    drift: np.ndarray
    drift_error: np.ndarray
    diffusion: np.ndarray
    diffusion_error: np.ndarray
    predicted_drift: np.ndarray
    predicted_diffusion: np.ndarray
    levels: tuple[int, ...]
    lags: tuple[int, ...]
    tau: float  # the shortest lag in time units

    def chi2(self, which: str = "drift", min_count: int = 100) -> tuple[float, int]:
        """Σ ((measured − predicted)/error)² over bins with ≥ ``min_count`` increments and a finite
        error (a jackknife error over a handful of points is itself unreliable), and their number."""
        if which not in ("drift", "diffusion"):
            raise ValueError(f"which must be 'drift' or 'diffusion', got {which!r}")
        value, error, pred = (
            (self.drift, self.drift_error, self.predicted_drift)
            if which == "drift"
            else (self.diffusion, self.diffusion_error, self.predicted_diffusion)
        )
        good = np.isfinite(value) & np.isfinite(pred) & (error > 0) & (self.counts >= min_count)
        return float(np.sum(((value[good] - pred[good]) / error[good]) ** 2)), int(good.sum())


def binned_moments(
    levels: np.ndarray,
    dt: float,
    *,
    bins: int | np.ndarray = 20,
    use: Sequence[int] | None = None,
    lags: int | Sequence[int] = 1,
    model: SdeModel | None = None,
    coefficients: Mapping[str, float] | None = None,
    min_gap: float | None = None,
    centred: bool = True,
    max_groups: int = 100,
) -> KramersMoyalBins:
    """Kramers–Moyal moments of the increments of the levels ``use`` (default: all, pooled), binned in x.

    D1 = ⟨Δx⟩/τ per bin; D2 = ⟨Δx²⟩/τ, or with ``centred`` (default) the bin's conditional
    variance (⟨Δx²⟩ − ⟨Δx⟩²)/τ, which removes the O(τ) bias term D1²τ of the raw moment.
    ``lags``: one lag, or several (same start points) whose moments are extrapolated bin by bin
    linearly in τ to τ = 0 (Richardson; what :func:`fit_sde` does to the coefficients).
    ``bins``: a number of equal-width bins over the data range, or the edges. With ``model``,
    the model's D1 and D2 (``coefficients``, default ``model.predicted``) are averaged over each
    bin's points, and ``min_gap`` applies the gap cut of :func:`fit_sde` (at the longest lag) to
    both. Errors: delete-one-replica jackknife of the ratio estimators (blocks beyond
    ``max_groups`` replicas).
    """
    lag_t = _lags(lags)
    max_lag = max(lag_t)
    x = _as_trajectories(levels, max_lag)
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    if min_gap is not None and model is None:
        raise ValueError("the gap cut needs a model (for the diffusion shape h)")
    taus = np.array(lag_t, dtype=float) * dt
    intercept = (
        np.linalg.pinv(np.stack([np.ones_like(taus), taus], axis=1))[0] if len(taus) > 1 else np.ones(1)
    )
    r, m, n_levels = x.shape
    use_mask = _select(use, n_levels)
    x0 = x[:, : m - max_lag]
    ends = [x[:, lag : m - max_lag + lag] for lag in lag_t]
    valid = np.isfinite(x0).all(axis=-1)
    for e in ends:
        valid &= np.isfinite(e).all(axis=-1)
    keep = valid[..., None] & use_mask
    x0 = np.where(valid[..., None], x0, np.arange(n_levels, dtype=float))
    if model is not None and min_gap is not None:
        scale = _preliminary_scale(x, dt, model)
        keep &= _gap_ok(x0, model.diffusion_shape(x0), scale, float(taus[-1]), min_gap, model.lower_bound)
    pts = x0[keep]
    if pts.size == 0:
        raise InsufficientDataError(1, 0, "increments to bin")
    edges = (
        np.linspace(pts.min(), pts.max(), int(bins) + 1) if np.ndim(bins) == 0 else np.asarray(bins, float)
    )
    n_bins = len(edges) - 1
    which = np.clip(np.searchsorted(edges, x0, side="right") - 1, 0, n_bins - 1)
    keep &= (x0 >= edges[0]) & (x0 <= edges[-1])
    replica = np.broadcast_to(np.arange(r)[:, None, None], x0.shape)
    index = (replica * n_bins + which)[keep]

    def per_replica(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(index, weights, minlength=r * n_bins).reshape(r, n_bins)

    columns = [per_replica(None), per_replica(x0[keep])]
    for e in ends:
        d = (e - x0)[keep]
        columns += [per_replica(d), per_replica(d * d)]
    sums = np.stack(columns, axis=1)  # (R, 2 + 2K, bins)
    total = sums.sum(axis=0)

    def moments(s: np.ndarray) -> np.ndarray:
        out = np.zeros((2, n_bins))
        with np.errstate(invalid="ignore", divide="ignore"):
            for k, tau in enumerate(taus):
                m1 = s[2 + 2 * k] / s[0]
                m2 = s[3 + 2 * k] / s[0] - (m1 * m1 if centred else 0.0)
                out += intercept[k] * np.stack([m1 / tau, m2 / tau])
        return out

    full = moments(total)
    groups = _groups(r, max_groups)
    reps = np.stack([moments(total - sums[g].sum(axis=0)) for g in groups])
    n_groups = len(groups)
    var = np.full(reps.shape[1:], np.nan)
    decided = np.isfinite(reps).sum(axis=0) >= 2  # a bin empty in all but one group has no error
    var[decided] = np.nanvar(reps[:, decided], axis=0)
    err = np.sqrt((n_groups - 1) * var)
    counts = total[0].astype(np.int64)
    err[:, counts == 0] = np.nan
    pred = np.full((2, n_bins), np.nan)
    if model is not None:
        coef = dict(model.predicted if coefficients is None else coefficients)
        bin_of = which[keep]
        with np.errstate(invalid="ignore", divide="ignore"):
            pred[0] = np.bincount(bin_of, model.drift(x0, coef)[keep], minlength=n_bins) / total[0]
            pred[1] = np.bincount(bin_of, model.diffusion(x0, coef)[keep], minlength=n_bins) / total[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = total[1] / total[0]
    return KramersMoyalBins(
        edges=edges,
        centres=centres,
        counts=counts,
        drift=full[0],
        drift_error=err[0],
        diffusion=full[1],
        diffusion_error=err[1],
        predicted_drift=pred[0],
        predicted_diffusion=pred[1],
        levels=tuple(int(i) for i in np.flatnonzero(use_mask)),
        lags=lag_t,
        tau=float(taus[0]),
    )


# -- GRBM ----------------------------------------------------------------------------------------


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
    matrix OU the default fit is within 1 % of the truth up to γΔt = 0.1 (module docstring).
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
