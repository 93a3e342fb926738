"""Regular maximum-likelihood fits of one-point densities: the 2×2 GOE density ρ(x; x₀, σ)
(physics.md §5.3; Newton on the analytic gradient and Hessian) and the Gaussian, with errors
from the observed information or the jackknife (:mod:`.fits_base`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import erf

from .densities import gaussian_cdf, goe2_cdf
from .fits_base import FitResult, _finish, _inverse_information_errors, _rows
from .minimise import newton

__all__ = ["fit_gaussian", "fit_goe2"]


#: largest standardised deviation |x − x₀|/σ the 2×2 GOE likelihood evaluates (t² stays finite)
_GOE2_T_MAX = 1e150


def _goe2_nll(x: np.ndarray) -> Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]:
    """−Σ log ρ(xᵢ; x₀, σ) of the 2×2 GOE density with its gradient and Hessian in (x₀, σ).

    ρ = e^{−t²/2} φ(t)/(4√π σ), φ(t) = 2e^{−t²/2} + √(2π) t erf(t/√2), t = (x − x₀)/σ, so the
    per-point loss is ℓ(t) + log σ with ℓ = t²/2 − log φ, ℓ' = t − φ'/φ,
    ℓ'' = 1 − φ''/φ + (φ'/φ)², φ' = √(2π) erf(t/√2), φ'' = 2e^{−t²/2}; and ∂t/∂x₀ = −1/σ,
    ∂t/∂σ = −t/σ.

    A trial point with some |t| > T_MAX (a Newton step towards σ → 0 or a far x₀) has ρ = 0 to
    double precision at that value, i.e. −log ρ = +∞: it is returned as such without forming
    t², which would overflow (the exponent stays bounded by T_MAX²/2 ≈ 5·10²⁹⁹).
    """
    n, const = x.size, x.size * math.log(4.0 * math.sqrt(math.pi))
    lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)

    def nll(theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
        x0, sigma = float(theta[0]), float(theta[1])
        if not (sigma > 0 and max(abs(hi - x0), abs(lo - x0)) <= _GOE2_T_MAX * sigma):
            return math.inf, np.full(2, np.nan), np.full((2, 2), np.nan)
        t = (x - x0) / sigma
        g = np.exp(-0.5 * t * t)
        d1 = math.sqrt(2.0 * math.pi) * erf(t / math.sqrt(2.0))
        phi = 2.0 * g + t * d1
        ratio = d1 / phi
        l1 = t - ratio
        l2 = 1.0 - 2.0 * g / phi + ratio * ratio
        value = float(np.sum(0.5 * t * t - np.log(phi))) + n * math.log(sigma) + const
        s1, s1t = float(l1.sum()), float(l1 @ t)
        grad = np.array([-s1, n - s1t]) / sigma
        h01 = float(l2 @ t) + s1
        h11 = float(l2 @ (t * t)) + 2.0 * s1t - n
        hess = np.array([[float(l2.sum()), h01], [h01, h11]]) / sigma**2
        return value, grad, hess

    return nll


def _goe2_ml(x: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    if start is None:  # moments: ⟨x⟩ = x₀, Var = 1.5 σ²
        start = np.array([float(np.mean(x)), float(np.std(x)) / math.sqrt(1.5)])
    return newton(_goe2_nll(x), start, [(None, None), (1e-300, None)], (start[1], start[1]))


def fit_goe2(x: np.ndarray, *, errors: str = "hessian", n_blocks: int | None = None) -> FitResult:
    """Maximum-likelihood fit of the 2×2 GOE one-point density ρ(x; x₀, σ) (physics.md §5.3).

    ``x``: both eigenvalues of each realisation, as shape (n, 2) (jackknife over realisations is
    then the correct error) or pooled 1-D. ⟨S⟩ = √π σ links σ to the pair spacing.
    """
    rows = _rows(x)

    def hess(theta: np.ndarray) -> np.ndarray:
        return _inverse_information_errors(_goe2_nll(rows.ravel())(theta)[2])

    return _finish(
        "goe2", "ml", ("x0", "sigma"), rows, _goe2_ml, errors, n_blocks, goe2_cdf, {}, hess, warm_start=True
    )


def fit_gaussian(x: np.ndarray, *, errors: str = "hessian", n_blocks: int | None = None) -> FitResult:
    """ML Gaussian fit: μ = mean, σ = population std; Hessian errors σ/√N and σ/√(2N)."""
    rows = _rows(x)

    def est(v: np.ndarray) -> np.ndarray:
        return np.array([v.mean(), v.std()])

    def hess(theta: np.ndarray) -> np.ndarray:
        n = rows.size
        return np.array([theta[1] / math.sqrt(n), theta[1] / math.sqrt(2 * n)])

    return _finish("gaussian", "ml", ("mean", "sigma"), rows, est, errors, n_blocks, gaussian_cdf, {}, hess)
