"""Weighted least squares: the one fit of the package (weighted means, straight lines, lines
through the origin) and the error of a ratio.

Model y = a + b·x (or y = b·x through the origin, or the constant y = a: a weighted mean),
weights w_i = 1/σ_i², points with a non-finite x, y or σ, or σ ≤ 0, left out. The estimate is
the usual normal-equation solution, its covariance C = (Aᵀ W A)⁻¹ (Bevington & Robinson, *Data
Reduction and Error Analysis*, 3rd ed., §6–7), and χ²/dof = Σ w_i (y_i − ŷ_i)² / (N − p) with p
the number of parameters.

Error convention (one, with one switch):

- `birge=True`: the errors are √C_kk · max(1, √(χ²/dof)), i.e. scaled up by the Birge ratio
  when the points scatter more than their errors allow (Birge, Phys. Rev. 40, 207 (1932); the
  PDG's scale factor), and never scaled down; with dof = 0 there is no scaling.
- `birge=False`: the errors are √C_kk, the errors the inputs imply, and χ²/dof is reported
  next to them for the reader to judge. `analysis.scaling.proportional_fit` (the analysis's
  pooled slopes of physics.md §5.1) uses this: its table shows χ²/dof beside each slope.

The reproduction (mpi_dbm/reproduce) uses `birge=True` for its weighted means and its
straight-line extrapolations, and the proportional fit (`birge=False`) for its pooled slopes,
as the analysis does.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["WeightedFit", "ratio", "weighted_fit", "weighted_mean"]


@dataclass(frozen=True)
class WeightedFit:
    """y = intercept + slope·x (intercept 0 and its error 0 for a fit through the origin)."""

    intercept: float
    intercept_error: float
    slope: float
    slope_error: float
    chi2: float  # Σ w (y − ŷ)²
    dof: int  # points − parameters
    n: int  # points used

    @property
    def chi2_dof(self) -> float:
        """χ²/dof; NaN when dof = 0 (the fit passes through every point)."""
        return self.chi2 / self.dof if self.dof > 0 else math.nan


def _finite(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray, err: Sequence[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xa, ya, ea = (np.asarray(v, dtype=float) for v in (x, y, err))
    ok = np.isfinite(xa) & np.isfinite(ya) & np.isfinite(ea) & (ea > 0)
    return xa[ok], ya[ok], 1.0 / ea[ok] ** 2


def weighted_fit(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    err: Sequence[float] | np.ndarray,
    *,
    intercept: bool = True,
    birge: bool = True,
) -> WeightedFit | None:
    """Weighted least-squares line y = a + b·x (`intercept=False`: y = b·x); see the module
    docstring for the error convention. None when the data cannot determine the parameters
    (fewer usable points than parameters, all x equal for a line, all x zero through the origin)."""
    xs, ys, w = _finite(x, y, err)
    if intercept:
        if xs.size < 2 or np.ptp(xs) == 0:
            return None
        A = np.stack([np.ones_like(xs), xs], axis=1)
        cov = np.linalg.inv(A.T @ (A * w[:, None]))
        a, b = cov @ (A.T @ (w * ys))
        a_err, b_err = math.sqrt(cov[0, 0]), math.sqrt(cov[1, 1])
        chi2 = float(np.sum(w * (ys - a - b * xs) ** 2))
        dof = xs.size - 2
    else:
        sxx = np.sum(w * xs * xs)
        if xs.size < 1 or not sxx > 0:
            return None
        a, b = 0.0, float(np.sum(w * xs * ys) / sxx)
        a_err, b_err = 0.0, float(1.0 / math.sqrt(sxx))
        chi2 = float(np.sum(w * (ys - b * xs) ** 2))
        dof = xs.size - 1
    scale = math.sqrt(max(chi2 / dof, 1.0)) if birge and dof > 0 else 1.0
    return WeightedFit(float(a), a_err * scale, float(b), b_err * scale, chi2, dof, int(xs.size))


def weighted_mean(
    values: Sequence[float] | np.ndarray, errors: Sequence[float] | np.ndarray
) -> tuple[float, float]:
    """Σ wᵢvᵢ/Σ wᵢ ± (Σ wᵢ)^(−1/2) with the Birge scaling (module docstring): the constant fit.
    (NaN, NaN) when no value has a finite value and a positive error."""
    fit = weighted_fit(np.ones(len(values)), values, errors, intercept=False, birge=True)
    return (math.nan, math.nan) if fit is None else (fit.slope, fit.slope_error)


def ratio(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """(a ± σ_a)/(b ± σ_b) with the errors combined as independent: σ_r = |r|·√((σ_a/a)² + (σ_b/b)²)."""
    r = a[0] / b[0]
    return r, abs(r) * math.hypot(a[1] / a[0], b[1] / b[0])
