"""Unfolding of level sequences to unit mean spacing.

The staircase N(E) = #{λ_i ≤ E} of each row (the step midpoint, N(λ_i) = i + ½, is used as
the target) is replaced by a smooth Ñ and e_i = Ñ(λ_i), s_i = e_{i+1} − e_i, ⟨s⟩ ≈ 1
(Mehta, *Random Matrices*, §16; Gómez et al., PRE 66, 036209 (2002)):

* ``semicircle`` / ``marchenko_pastur`` — analytic: Ñ = n·F(λ) with the fitted (or given) law,
  pooled over rows (n levels per row);
* ``polynomial`` — per row, least-squares polynomial of degree ``degree`` to the staircase;
* ``spline`` — per row, least-squares cubic spline with ``n_knots`` interior knots at quantiles;
* ``ensemble`` — the staircase averaged over realisations: the empirical CDF of all levels pooled
  over rows, smoothed by a monotone (PCHIP) interpolation through ``n_knots`` + 1 pooled quantiles,
  applied to each row.

``trim`` (count, or fraction per side) drops edge levels: for the polynomial and spline fits they
are also left out of the fit (extreme levels dominate them). Every result carries the method and
its parameters; store them with the results. Local unfoldings (many knots, high degree) fake
rigidity in long-range statistics; nearest-neighbour spacings are robust to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator, make_lsq_spline

from ._base import as_rows, freeze, trim_count
from .densities import mp_cdf, semicircle_cdf
from .fits import FitResult, fit_marchenko_pastur, fit_semicircle

__all__ = [
    "UNFOLDINGS",
    "Unfolding",
    "unfold",
    "unfold_ensemble",
    "unfold_marchenko_pastur",
    "unfold_polynomial",
    "unfold_semicircle",
    "unfold_spline",
]


@dataclass(frozen=True, eq=False)
class Unfolding:
    """Unfolded levels (rows × kept levels) with the method and parameters that produced them."""

    levels: np.ndarray
    method: str
    params: Mapping[str, Any]

    @property
    def spacings(self) -> np.ndarray:
        """Unfolded nearest-neighbour spacings, shape (rows, kept − 1)."""
        return np.diff(self.levels, axis=1)

    @property
    def mean_spacing(self) -> float:
        """⟨s⟩ over all unfolded spacings (≈ 1 for a good unfolding)."""
        return float(np.mean(self.spacings))

    def record(self) -> dict[str, Any]:
        """Flat dict of the method, its parameters and ⟨s⟩, for storing next to results."""
        return {"method": self.method, **dict(self.params), "mean_spacing": self.mean_spacing}


def _prepare(levels: np.ndarray, trim: float) -> tuple[np.ndarray, int, slice]:
    x = as_rows(levels)
    n = x.shape[1]
    k = trim_count(trim, n)
    if n - 2 * k < 2:
        raise ValueError("unfolding needs at least two levels per row after trimming")
    return x, n, slice(k, n - k)


def _staircase(n: int) -> np.ndarray:
    return np.arange(n) + 0.5


def _result(e: np.ndarray, method: str, params: Mapping[str, Any]) -> Unfolding:
    e = np.asarray(e, dtype=float)
    e.setflags(write=False)
    return Unfolding(e, method, freeze(params))


def _unfold_by_law(
    levels: np.ndarray,
    method: str,
    fit: Callable[..., FitResult],
    cdf: Callable[..., np.ndarray],
    params: dict[str, float | None],
    trim: float,
) -> Unfolding:
    """e_i = n·F(λ_i; θ) for a law with a closed-form CDF; parameters given as None are taken from
    the law's CDF fit to all pooled levels."""
    x, n, keep = _prepare(levels, trim)
    fitted = any(v is None for v in params.values())
    if fitted:
        result = fit(x, errors="none")
        theta = {name: result[name] if v is None else v for name, v in params.items()}
    else:
        theta = {name: v for name, v in params.items() if v is not None}  # all given
    e = n * cdf(x[:, keep], *theta.values())
    return _result(e, method, {**{k: float(v) for k, v in theta.items()}, "fitted": fitted, "trim": trim})


def unfold_semicircle(
    levels: np.ndarray,
    *,
    center: float | None = None,
    radius: float | None = None,
    trim: float = 0.1,
) -> Unfolding:
    """e_i = n·F_sc(λ_i); centre and radius fitted to all pooled levels (CDF fit) unless given."""
    params = {"center": center, "radius": radius}
    return _unfold_by_law(levels, "semicircle", fit_semicircle, semicircle_cdf, params, trim)


def unfold_marchenko_pastur(
    levels: np.ndarray, *, scale: float | None = None, ratio: float | None = None, trim: float = 0.1
) -> Unfolding:
    """e_i = n·F_MP(λ_i); s² and q fitted to the pooled levels (CDF fit) unless given."""
    params = {"scale": scale, "ratio": ratio}
    return _unfold_by_law(levels, "marchenko_pastur", fit_marchenko_pastur, mp_cdf, params, trim)


def unfold_polynomial(levels: np.ndarray, *, degree: int = 7, trim: float = 0.1) -> Unfolding:
    """Per row: least-squares polynomial (degree ``degree``) to the staircase of the kept levels."""
    x, n, keep = _prepare(levels, trim)
    y = _staircase(n)[keep]
    if degree >= y.size:
        raise ValueError(f"degree {degree} needs more than {y.size} kept levels")
    e = np.stack([np.polynomial.Polynomial.fit(row, y, degree)(row) for row in x[:, keep]])
    return _result(e, "polynomial", {"degree": degree, "trim": trim})


def unfold_spline(levels: np.ndarray, *, n_knots: int | None = None, trim: float = 0.1) -> Unfolding:
    """Per row: least-squares cubic spline to the staircase, interior knots at quantiles.

    Default ``n_knots`` = max(1, kept // 30): one knot per ~30 levels.
    """
    x, n, keep = _prepare(levels, trim)
    y = _staircase(n)[keep]
    m = y.size
    knots = max(1, m // 30) if n_knots is None else int(n_knots)
    if m < knots + 5:
        raise ValueError(f"{knots} interior knots need at least {knots + 5} kept levels, have {m}")
    rows = []
    for row in x[:, keep]:
        inner = np.quantile(row, np.linspace(0.0, 1.0, knots + 2)[1:-1])
        t = np.concatenate([np.repeat(row[0], 4), inner, np.repeat(row[-1], 4)])
        rows.append(make_lsq_spline(row, y, t, k=3)(row))
    return _result(np.stack(rows), "spline", {"n_knots": knots, "degree": 3, "trim": trim})


def unfold_ensemble(levels: np.ndarray, *, n_knots: int | None = None, trim: float = 0.1) -> Unfolding:
    """Ensemble unfolding: e_i = n·F̄(λ_i), F̄ the pooled empirical CDF of all rows, smoothed.

    F̄ is a PCHIP (monotone) interpolation through ``n_knots`` + 1 pooled quantiles. Default
    ``n_knots`` = max(4, min(n // 2, rows·n // 400)): at most one knot per two mean spacings and
    at least ~400 pooled levels per knot interval, so the smoothed CDF adds ≲ 5 % noise per
    interval.
    """
    x, n, keep = _prepare(levels, trim)
    rows = x.shape[0]
    knots = max(4, min(n // 2, rows * n // 400)) if n_knots is None else int(n_knots)
    p = np.linspace(0.0, 1.0, knots + 1)
    q = np.quantile(x.ravel(), p)
    q, idx = np.unique(q, return_index=True)
    cdf = PchipInterpolator(q, p[idx], extrapolate=False)
    e = n * np.clip(np.nan_to_num(cdf(x[:, keep]), nan=0.0), 0.0, 1.0)
    return _result(e, "ensemble", {"n_knots": knots, "rows": rows, "trim": trim})


UNFOLDINGS: dict[str, Callable[..., Unfolding]] = {
    "semicircle": unfold_semicircle,
    "marchenko_pastur": unfold_marchenko_pastur,
    "polynomial": unfold_polynomial,
    "spline": unfold_spline,
    "ensemble": unfold_ensemble,
}


def unfold(levels: np.ndarray, method: str = "semicircle", **params: Any) -> Unfolding:
    """Dispatch to ``unfold_<method>`` (one of :data:`UNFOLDINGS`) with its keyword parameters."""
    if method not in UNFOLDINGS:
        raise ValueError(f"unknown unfolding {method!r}; expected one of {sorted(UNFOLDINGS)}")
    return UNFOLDINGS[method](levels, **params)
