"""One-point eigenvalue densities and their CDFs (all normalised to 1).

* Wigner semicircle, centre c, radius R (n×n GOE with off-diagonal variance v: R = 2√(n v)):
  ρ(x) = 2/(πR²) √(R² − (x − c)²);  F(x) = 1/2 + [t√(1 − t²) + arcsin t]/π, t = (x − c)/R.
* Marchenko–Pastur for X = WᵀW/N_h, W of shape N_h×N_v with iid entries of variance s²,
  q = N_v/N_h ≤ 1 (Marchenko & Pastur 1967): x± = s²(1 ± √q)²,
  ρ(x) = √((x₊ − x)(x − x₋)) / (2π s² q x).
* 2×2 GOE one-point density (physics.md §5.3) for H = x₀ + [[a, b], [b, c]], a, c ~ N(0, σ²),
  b ~ N(0, σ²/2), u = x − x₀:
  ρ(x) = e^{-u²/2σ²}/(4√π σ) [2 e^{-u²/2σ²} + √(2π) (u/σ) erf(u/(√2σ))];
  F(x) = 1/2 + erf(t)/2 − (√2/4) e^{-t²/2} erf(t/√2), t = u/σ. Variance 1.5 σ².
* Gaussian N(μ, σ²).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import erf, ndtr

__all__ = [
    "gaussian_cdf",
    "gaussian_pdf",
    "goe2_cdf",
    "goe2_pdf",
    "mp_cdf",
    "mp_cdf_jacobian",
    "mp_edges",
    "mp_pdf",
    "semicircle_cdf",
    "semicircle_cdf_jacobian",
    "semicircle_pdf",
]


def _positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


# --------------------------------------------------------------------------- semicircle


def semicircle_pdf(x: np.ndarray, center: float = 0.0, radius: float = 1.0) -> np.ndarray:
    """ρ(x) = 2/(πR²) √(R² − (x − c)²) on [c − R, c + R], zero outside."""
    _positive("radius", radius)
    u = np.asarray(x, dtype=float) - center
    return 2.0 / (math.pi * radius**2) * np.sqrt(np.clip(radius**2 - u * u, 0.0, None))


def semicircle_cdf(x: np.ndarray, center: float = 0.0, radius: float = 1.0) -> np.ndarray:
    """F(x) = 1/2 + [t√(1 − t²) + arcsin t]/π with t = (x − c)/R clipped to [−1, 1]."""
    _positive("radius", radius)
    t = np.clip((np.asarray(x, dtype=float) - center) / radius, -1.0, 1.0)
    return 0.5 + (t * np.sqrt(1.0 - t * t) + np.arcsin(t)) / math.pi


def semicircle_cdf_jacobian(
    x: np.ndarray, center: float = 0.0, radius: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """F = :func:`semicircle_cdf` and its derivatives, shape (len(x), 2): ∂F/∂c = −ρ(x),
    ∂F/∂R = −t ρ(x) (F depends on t = (x − c)/R only)."""
    _positive("radius", radius)
    t = np.clip((np.asarray(x, dtype=float) - center) / radius, -1.0, 1.0)
    root = np.sqrt(1.0 - t * t)
    f = 0.5 + (t * root + np.arcsin(t)) / math.pi
    jac = np.empty((f.size, 2), order="F")  # columns contiguous for Jᵀr
    jac[:, 0] = root * (-2.0 / (math.pi * radius))
    jac[:, 1] = jac[:, 0] * t
    return f, jac


# --------------------------------------------------------------------------- Marchenko–Pastur


def _check_mp(scale: float, ratio: float) -> None:
    _positive("scale", scale)
    if not 0.0 < ratio <= 1.0:
        raise ValueError(f"Marchenko–Pastur ratio q = N_v/N_h must lie in (0, 1], got {ratio}")


def mp_edges(scale: float, ratio: float) -> tuple[float, float]:
    """Support edges x± = s²(1 ± √q)²."""
    _check_mp(scale, ratio)
    rq = math.sqrt(ratio)
    return scale * (1.0 - rq) ** 2, scale * (1.0 + rq) ** 2


def mp_pdf(x: np.ndarray, scale: float = 1.0, ratio: float = 1.0) -> np.ndarray:
    """ρ(x) = √((x₊ − x)(x − x₋)) / (2π s² q x) on [x₋, x₊] (scale = s², ratio = q ≤ 1)."""
    lo, hi = mp_edges(scale, ratio)
    x = np.asarray(x, dtype=float)
    inside = (x > lo) & (x < hi) & (x > 0)
    xs = np.where(inside, x, 1.0)
    val = np.sqrt(np.clip((hi - xs) * (xs - lo), 0.0, None)) / (2.0 * math.pi * scale * ratio * xs)
    return np.where(inside, val, 0.0)


def _mp_terms(x: np.ndarray, scale: float, ratio: float) -> tuple[np.ndarray, ...]:
    """Unclipped F, θ, sin θ and arctan(k tan(θ/2)) of :func:`mp_cdf` (π/2 for θ > 0 at q = 1)."""
    _check_mp(scale, ratio)
    q = ratio
    m, h = scale * (1.0 + q), 2.0 * scale * math.sqrt(q)
    c = np.clip((m - np.asarray(x, dtype=float)) / h, -1.0, 1.0)
    theta = np.arccos(c)
    sin = np.sqrt((1.0 - c) * (1.0 + c))
    if q < 1.0:
        k = (1.0 + math.sqrt(q)) / (1.0 - math.sqrt(q))
        with np.errstate(divide="ignore"):  # tan(θ/2) = √((1 − cos θ)/(1 + cos θ)) → ∞ at θ = π
            atan = np.arctan(k * np.sqrt((1.0 - c) / (1.0 + c)))
    else:
        atan = np.where(theta > 0.0, math.pi / 2.0, 0.0)
    f = (
        sin / (math.pi * math.sqrt(q))
        + (1.0 + q) * theta / (2.0 * math.pi * q)
        - (1.0 - q) / (math.pi * q) * atan
    )
    return f, theta, sin, atan


def mp_cdf(x: np.ndarray, scale: float = 1.0, ratio: float = 1.0) -> np.ndarray:
    """Closed-form CDF of :func:`mp_pdf`.

    With x = m − h cos θ (m = s²(1 + q), h = 2s²√q, θ ∈ [0, π]) and k = (1 + √q)/(1 − √q):
    F = sin θ/(π√q) + (1 + q) θ/(2πq) − (1 − q)/(πq) · arctan(k tan(θ/2)); the last term is
    absent for q = 1.
    """
    cdf: np.ndarray = np.clip(_mp_terms(x, scale, ratio)[0], 0.0, 1.0)
    return cdf


def mp_cdf_jacobian(x: np.ndarray, scale: float = 1.0, ratio: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """F = :func:`mp_cdf` and its derivatives, shape (len(x), 2): ∂F/∂s², ∂F/∂q.

    F(x; s², q) = G(x/s²; q) gives ∂F/∂s² = −sin θ/(π√q s²). Differentiating under the integral
    (ρ vanishes at x₋) with ∫ dt/√P = θ and ∫ dt/(t√P) = 2 arctan(k tan(θ/2))/(1 − q) in the
    substitution above: ∂F/∂q = [θ + 2 arctan(k tan(θ/2))]/(2πq) − F/q inside the support, 0 outside.
    The q-derivative at q = 1 is the one-sided limit from below.
    """
    q = ratio
    f, theta, sin, atan = _mp_terms(x, scale, q)
    inside = (f > 0.0) & (f < 1.0)
    f = np.clip(f, 0.0, 1.0)
    jac = np.empty((f.size, 2), order="F")  # columns contiguous for Jᵀr
    jac[:, 0] = sin * (-1.0 / (math.pi * math.sqrt(q) * scale))
    jac[:, 1] = np.where(inside, (theta + 2.0 * atan) / (2.0 * math.pi * q) - f / q, 0.0)
    return f, jac


# --------------------------------------------------------------------------- 2×2 GOE


def goe2_pdf(x: np.ndarray, x0: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """2×2 GOE one-point density ρ(x; x₀, σ) of physics.md §5.3 (normalised to 1)."""
    _positive("sigma", sigma)
    t = (np.asarray(x, dtype=float) - x0) / sigma
    g = np.exp(-0.5 * t * t)
    return (
        g
        / (4.0 * math.sqrt(math.pi) * sigma)
        * (2.0 * g + math.sqrt(2.0 * math.pi) * t * erf(t / math.sqrt(2.0)))
    )


def goe2_cdf(x: np.ndarray, x0: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """F(x) = 1/2 + erf(t)/2 − (√2/4) e^{-t²/2} erf(t/√2), t = (x − x₀)/σ (closed form)."""
    _positive("sigma", sigma)
    t = (np.asarray(x, dtype=float) - x0) / sigma
    return 0.5 + 0.5 * erf(t) - math.sqrt(2.0) / 4.0 * np.exp(-0.5 * t * t) * erf(t / math.sqrt(2.0))


# --------------------------------------------------------------------------- Gaussian


def gaussian_pdf(x: np.ndarray, mean: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """N(μ, σ²) density."""
    _positive("sigma", sigma)
    t = (np.asarray(x, dtype=float) - mean) / sigma
    return np.exp(-0.5 * t * t) / (math.sqrt(2.0 * math.pi) * sigma)


def gaussian_cdf(x: np.ndarray, mean: float = 0.0, sigma: float = 1.0) -> np.ndarray:
    """N(μ, σ²) CDF."""
    _positive("sigma", sigma)
    return ndtr((np.asarray(x, dtype=float) - mean) / sigma)
