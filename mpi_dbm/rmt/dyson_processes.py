"""Exact simulators of level processes: Dyson Brownian motion, the Wishart (Bru) process and
independent Brownian motions (the null model), sampled exactly at every step.

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
"""

from __future__ import annotations

import numpy as np

from ._base import as_generator
from .ensembles import goe

__all__ = ["dyson_brownian_motion", "independent_brownian_motions", "wishart_process"]


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
