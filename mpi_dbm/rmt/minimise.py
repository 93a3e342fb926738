"""The local minimisers of the fits: bounded Nelder–Mead, box-constrained Gauss–Newton, Newton.

Nelder–Mead needs only function values (likelihoods with awkward derivatives). Gauss–Newton
serves least-squares objectives Σ rᵢ(θ)² whose residual Jacobian is known in closed form — the
minimum-distance CDF fits, where each evaluation runs over every pooled eigenvalue (10⁶ in the
paper's data set) and Nelder–Mead's ~80 evaluations per fit dominated `mpi-dbm analyze`. Newton
serves likelihoods with a closed-form gradient and Hessian (the 2×2 GOE density).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

Bounds = Sequence[tuple[float | None, float | None]]
Start = Sequence[float] | np.ndarray  # a start point; read with np.asarray
ResidualsAndJacobian = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


def nelder_mead(
    f: Callable[[np.ndarray], float], start: Start, bounds: Bounds, scales: Sequence[float]
) -> np.ndarray:
    """Bounded Nelder–Mead in units of ``scales`` (typical parameter sizes), to ~1e-9 relative.

    The initial simplex steps each parameter by 5% of its scale. (scipy's default steps 5% of
    the start value, so a parameter started at ~0 — the centre of centred data — never moved.)
    """
    sc = np.asarray(scales, dtype=float)
    u0 = np.asarray(start, dtype=float) / sc
    ub = [
        (None if lo is None else lo / s_, None if hi is None else hi / s_)
        for (lo, hi), s_ in zip(bounds, sc, strict=True)
    ]

    def g(u: np.ndarray) -> float:
        return f(u * sc)

    f0 = g(u0)
    fatol = 1e-12 * max(1.0, abs(f0)) if math.isfinite(f0) else 1e-12
    upper = np.array([math.inf if hi is None else hi for _, hi in ub])
    steps = np.where(u0 + 0.05 <= upper, 0.05, -0.05)  # step down from an upper bound
    simplex = np.vstack([u0, u0 + np.diag(steps)])
    res = minimize(
        g,
        u0,
        method="Nelder-Mead",
        bounds=ub,
        options={
            "xatol": 1e-9,
            "fatol": fatol,
            "maxiter": 4000,
            "maxfev": 8000,
            "initial_simplex": simplex,
        },
    )
    x: np.ndarray = np.asarray(res.x, dtype=float) * sc
    return x


def gauss_newton(
    residuals: ResidualsAndJacobian,
    start: Start,
    bounds: Bounds,
    scales: Sequence[float],
    *,
    xtol: float = 1e-9,
    max_iter: int = 200,
) -> np.ndarray:
    """Minimise Σ r(θ)² in a box by Gauss–Newton steps with step halving (projected, active set).

    ``residuals(θ)`` returns (r, J) with J[i, j] = ∂rᵢ/∂θⱼ. Each iteration solves
    (JᵀJ) d = −Jᵀr over the parameters not held at a bound by a gradient pointing outward,
    projects θ + d onto the box and halves d until Σr² does not increase. Stops when the step
    moves every parameter by less than ``xtol`` × its scale (or no step decreases the objective).
    Convergence is linear at a rate ~ (residual size × curvature)/(JᵀJ), fast for CDF fits.
    """
    lo, hi, sc, theta = _box(bounds, scales, start)
    r, jac = residuals(theta)
    cost = float(r @ r)
    for _ in range(max_iter):
        grad = jac.T @ r
        held = ((theta <= lo) & (grad > 0)) | ((theta >= hi) & (grad < 0))
        free = ~held
        if not free.any():
            break
        jf = jac if free.all() else jac[:, free]
        normal = jf.T @ jf
        step = np.zeros_like(theta)
        try:
            step[free] = -np.linalg.solve(normal, grad[free])
        except np.linalg.LinAlgError:
            step[free] = -np.linalg.lstsq(normal, grad[free], rcond=None)[0]
        if not np.all(np.isfinite(step)) or np.all(np.abs(step) <= xtol * sc):
            break  # converged: the next step would not move any parameter by xtol × its scale
        length = 1.0
        while True:
            trial = np.clip(theta + length * step, lo, hi)
            r_new, jac_new = residuals(trial)
            cost_new = float(r_new @ r_new)
            if cost_new <= cost and np.all(np.isfinite(jac_new)):
                break
            length *= 0.5
            if np.all(np.abs(length * step) <= xtol * sc):
                return theta
        moved = np.abs(trial - theta)
        theta, r, jac, cost = trial, r_new, jac_new, cost_new
        if np.all(moved <= xtol * sc):
            break
    return theta


def newton(
    value_gradient_hessian: Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]],
    start: Start,
    bounds: Bounds,
    scales: Sequence[float],
    *,
    xtol: float = 1e-9,
    max_iter: int = 200,
) -> np.ndarray:
    """Minimise a smooth f by Newton steps with step halving, for interior minima of a box.

    The Hessian is shifted by μ𝟙 (μ doubled from 10⁻³·max|diag|) where it is not positive
    definite, so every step is a descent direction; trial points are clipped to the box and
    halved until f does not increase. Stops when the step moves every parameter by less than
    ``xtol`` × its scale.
    """
    lo, hi, sc, theta = _box(bounds, scales, start)
    value, grad, hess = value_gradient_hessian(theta)
    for _ in range(max_iter):
        step = -_solve_positive_definite(hess, grad)
        if not np.all(np.isfinite(step)) or np.all(np.abs(step) <= xtol * sc):
            break
        length = 1.0
        while True:
            trial = np.clip(theta + length * step, lo, hi)
            new = value_gradient_hessian(trial)
            if new[0] <= value:
                break
            length *= 0.5
            if np.all(np.abs(length * step) <= xtol * sc):
                return theta
        theta, (value, grad, hess) = trial, new
    return theta


def _solve_positive_definite(hess: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """(H + μ𝟙)⁻¹ rhs with the smallest μ ∈ {0, 10⁻³·max|diag H|·2ᵏ} making H + μ𝟙 positive definite."""
    if not (np.all(np.isfinite(hess)) and np.all(np.isfinite(rhs))):
        return np.full(rhs.shape, np.nan)
    shift, base = 0.0, 1e-3 * max(float(np.max(np.abs(np.diag(hess)))), 1e-300)
    for _ in range(200):
        try:
            chol = np.linalg.cholesky(hess + shift * np.eye(hess.shape[0]))
        except np.linalg.LinAlgError:
            shift = base if shift == 0.0 else 2.0 * shift
            continue
        return np.linalg.solve(chol.T, np.linalg.solve(chol, rhs))
    return np.full(rhs.shape, np.nan)


def _box(
    bounds: Bounds, scales: Sequence[float], start: Start
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper bounds as arrays (±∞ for None), |scales|, and the start clipped to the box."""
    lo = np.array([-math.inf if b is None else b for b, _ in bounds], dtype=float)
    hi = np.array([math.inf if b is None else b for _, b in bounds], dtype=float)
    return lo, hi, np.abs(np.asarray(scales, dtype=float)), np.clip(np.asarray(start, dtype=float), lo, hi)
