"""Fits of the laws with a bounded support: Wigner semicircle and Marchenko–Pastur.

Semicircle and Marchenko–Pastur laws have a bounded support with a square-root edge, so their
likelihood is non-regular: the score ∂ log ρ/∂R ∝ R/(R² − u²) has an infinite second moment
(infinite Fisher information), the ML radius is tied to the extreme levels (Smith, Biometrika 72,
67 (1985)), and finite-n spectra spill over the edge (Tracy–Widom tails). The default for these
is therefore a minimum-distance fit: minimise the Cramér–von Mises distance
Σ_i (F(x_(i); θ) − (i − ½)/N)² between the model CDF and the empirical CDF, started from the
method of moments (semicircle: c = mean, R = 2·std; MP: s² = mean, q = var/mean²). It uses the
whole bulk, is insensitive to a few outliers (the CDF is bounded), and its errors come from the
jackknife. ``method="moments"`` and ``method="ml"`` (support-constrained ML) are available for
comparison. Over 40 single 200×200 GOE spectra (R = 20): CDF fit 20.02 ± 0.12 (scatter), worst
1.4 % off; moments 20.02 ± 0.12; support-constrained ML 19.91 ± 0.28, worst 3.0 % off.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from .densities import (
    mp_cdf,
    mp_cdf_jacobian,
    mp_edges,
    mp_pdf,
    semicircle_cdf,
    semicircle_cdf_jacobian,
)
from .fits_base import FitResult, _ascending, _finish, _rows
from .minimise import Start, gauss_newton, nelder_mead

__all__ = ["fit_marchenko_pastur", "fit_semicircle"]


def _cvm_fit(
    cdf_jacobian: Callable[..., tuple[np.ndarray, np.ndarray]],
    xs: np.ndarray,
    start: Start,
    bounds: Sequence[tuple[float | None, float | None]],
    scales: Sequence[float],
) -> np.ndarray:
    """Minimum Cramér–von Mises distance Σ (F(x_(i); θ) − (i − ½)/N)² for sorted ``xs``,
    by Gauss–Newton on those residuals."""
    target = (np.arange(xs.size) + 0.5) / xs.size

    def residuals(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        try:
            f, jac = cdf_jacobian(xs, *theta)
        except ValueError:  # parameters outside the law's domain: an infinitely bad point
            return np.full(xs.size, np.inf), np.full((xs.size, len(theta)), np.nan)
        return f - target, jac

    return gauss_newton(residuals, start, bounds, scales)


# --------------------------------------------------------------------------- semicircle


def _semicircle_moments(x: np.ndarray) -> np.ndarray:
    return np.array([x.mean(), 2.0 * x.std()])


def _semicircle_cdf_fit(x: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    xs = _ascending(x)
    start = _semicircle_moments(xs) if start is None else start
    return _cvm_fit(semicircle_cdf_jacobian, xs, start, [(None, None), (1e-300, None)], (start[1], start[1]))


def _semicircle_ml(x: np.ndarray) -> np.ndarray:
    """Support-constrained ML: R = max|x − c| + e^δ, so every point stays inside the support."""

    def unpack(p: np.ndarray) -> tuple[float, float]:
        c = p[0]
        return c, float(np.max(np.abs(x - c)) + math.exp(p[1]))

    def nll(p: np.ndarray) -> float:
        c, r = unpack(p)
        u2 = (x - c) ** 2
        return float(x.size * math.log(r * r) - 0.5 * np.sum(np.log(r * r - u2)))

    c0, r0 = _semicircle_moments(x)
    d0 = float(np.max(np.abs(x - c0)))
    start = (c0, math.log(max(r0 - d0, 1e-3 * r0)))
    return np.array(unpack(nelder_mead(nll, start, [(None, None), (None, None)], (r0, 1.0))))


def fit_semicircle(
    x: np.ndarray, *, method: str = "cdf", errors: str = "jackknife", n_blocks: int | None = 50
) -> FitResult:
    """Fit of the Wigner semicircle (centre, radius) to eigenvalues.

    ``method``: ``"cdf"`` (default; minimum Cramér–von Mises distance from a moments start),
    ``"moments"`` (c = mean, R = 2·std; for an n×n GOE ⟨(λ − c)²⟩ = (n + 1)v so R is high by
    a factor √(1 + 1/n)), or ``"ml"`` (support-constrained ML; driven by the extreme levels,
    whose Tracy–Widom fluctuations make it 2–3× noisier). Errors by jackknife (module docstring).
    """
    estimators = {"cdf": _semicircle_cdf_fit, "moments": _semicircle_moments, "ml": _semicircle_ml}
    if method not in estimators:
        raise ValueError(f"method must be one of {sorted(estimators)}, got {method!r}")
    rows = _rows(x)
    return _finish(
        "semicircle",
        method,
        ("center", "radius"),
        rows,
        estimators[method],
        errors,
        n_blocks,
        semicircle_cdf,
        {},
        warm_start=method == "cdf",
    )


# --------------------------------------------------------------------------- Marchenko–Pastur


def _mp_moments(x: np.ndarray) -> np.ndarray:
    m = float(x.mean())
    return np.array([m, float(np.clip(x.var() / m**2, 1e-9, 1.0))])


def _mp_cdf_fit(x: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    xs = _ascending(x)
    start = _mp_moments(xs) if start is None else start
    return _cvm_fit(mp_cdf_jacobian, xs, start, [(1e-300, None), (1e-9, 1.0)], (start[0], 1.0))


def _mp_ml(x: np.ndarray) -> np.ndarray:
    """Support-constrained ML, started from the CDF fit widened until it covers every point."""

    def nll(p: np.ndarray) -> float:
        scale, q = p
        if not (scale > 0 and 0 < q <= 1):
            return math.inf
        lo, hi = mp_edges(scale, q)
        if x.min() <= lo or x.max() >= hi:
            return math.inf
        return float(-np.sum(np.log(mp_pdf(x, scale, q))))

    scale, q = _mp_cdf_fit(x)
    rq = 1.001 * max(1.0 - math.sqrt(x.min() / scale), math.sqrt(x.max() / scale) - 1.0, math.sqrt(q))
    if rq >= 1.0:  # no feasible q at this scale: take q = 1 and a support [0, 4s²] covering max(x)
        scale, rq = 1.001 * float(x.max()) / 4.0, 1.0
    return nelder_mead(nll, (scale, rq**2), [(1e-300, None), (1e-9, 1.0)], (scale, 1.0))


def fit_marchenko_pastur(
    x: np.ndarray, *, method: str = "cdf", errors: str = "jackknife", n_blocks: int | None = 50
) -> FitResult:
    """Fit of Marchenko–Pastur (scale s², ratio q ≤ 1) to eigenvalues of X = WᵀW/N_h.

    ``method``: ``"cdf"`` (default, minimum Cramér–von Mises distance), ``"moments"``
    (s² = mean, q = var/mean²; q is high by ≈ 1/N_h at finite size) or ``"ml"``
    (support-constrained ML). Use the smaller Gram matrix (no exact zeros).
    """
    estimators = {"cdf": _mp_cdf_fit, "moments": _mp_moments, "ml": _mp_ml}
    if method not in estimators:
        raise ValueError(f"method must be one of {sorted(estimators)}, got {method!r}")
    rows = _rows(x)
    return _finish(
        "marchenko_pastur",
        method,
        ("scale", "ratio"),
        rows,
        estimators[method],
        errors,
        n_blocks,
        mp_cdf,
        {},
        warm_start=method == "cdf",
    )
