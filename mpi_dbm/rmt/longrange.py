"""Long-range spectral statistics of unfolded levels: Σ²(L), Δ₃(L), form factor K(τ).

Levels must be unfolded to unit mean spacing (:mod:`~mpi_dbm.rmt.unfold`); pass the
:class:`~mpi_dbm.rmt.unfold.Unfolding` so its method and parameters are recorded with the result
(a bare array is taken as already unfolded and recorded as such). Use a global unfolding (the
analytic semicircle / Marchenko–Pastur law, or ``ensemble``): per-row polynomial or spline
unfoldings absorb long-wavelength level fluctuations and fake rigidity at large L.

Statistics (Mehta, *Random Matrices*, 3rd ed., ch. 16; Bohigas & Giannoni, Ann. Phys. 89, 393
(1975)), with n(a, L) the number of levels in [a, a + L]:

* number variance Σ²(L) = ⟨(n(a, L) − ⟨n⟩)²⟩ over window positions a and realisations;
* spectral rigidity Δ₃(L) = ⟨min_{A,B} (1/L) ∫_a^{a+L} [N(E) − A E − B]² dE⟩, N the unfolded
  staircase. The minimum is the exact least-squares fit: with t_k the k-th level in the window
  (k = 1…n) measured from its centre,
  L·Δ₃ = Σ_k (2k−1)(L/2 − t_k) − (Σ_k (L/2 − t_k))²/L − 3 (Σ_k (L²/4 − t_k²))²/L³;
* form factor K(τ) = ⟨|Σ_j w_j e^{2πiτx_j} − ⟨·⟩|²⟩ / ⟨Σ_j w_j²⟩ (connected part: the ensemble
  mean of the sum is subtracted), with an optional Gaussian window w_j = exp(−(x_j − x_c)²/2σ²)
  that suppresses the spectrum edges; K → 1 for τ → ∞.

References through the two-level cluster function Y₂(r) (Mehta, ch. 6 and 16), s(r) = sin(πr)/(πr):

* GUE: Y₂ = s²;  GOE: Y₂ = s² + s′(r) ∫_r^∞ s(t) dt, ∫_r^∞ s = ½ − Si(πr)/π;  Poisson: Y₂ = 0.
* Σ²(L) = L − 2 ∫₀^L (L − r) Y₂(r) dr;
  Δ₃(L) = L/15 − (1/(15L⁴)) ∫₀^L (L − r)³ (2L² − 9Lr − 3r²) Y₂(r) dr  (Poisson: L and L/15);
  both evaluated here by composite Gauss–Legendre quadrature (exact finite-L forms).
* Large-L asymptotics (Mehta, ch. 16; γ = Euler's constant):
  Σ²_GUE ≈ (1/π²)(ln 2πL + γ + 1),  Σ²_GOE ≈ (2/π²)(ln 2πL + γ + 1 − π²/8),
  Δ₃_GUE ≈ (1/2π²)(ln 2πL + γ − 5/4),  Δ₃_GOE ≈ (1/π²)(ln 2πL + γ − 5/4 − π²/8)
  (the GUE Δ₃ has 1/2π², i.e. 1/βπ²: the exact quadrature above converges to it, not to 1/π²).
* K(τ) = 1 − ∫ Y₂(r) e^{2πiτr} dr: GUE τ (τ < 1), 1 (τ ≥ 1); GOE 2τ − τ ln(1 + 2τ) (τ ≤ 1),
  2 − τ ln((2τ + 1)/(2τ − 1)) (τ > 1); Poisson 1.

GSE references are not implemented (ValueError).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import sici

from ._base import InsufficientDataError, as_rows, freeze
from .resample import jackknife
from .surmise import canonical_ensemble
from .unfold import Unfolding

__all__ = [
    "FormFactor",
    "LongRangeStatistic",
    "cluster_function",
    "form_factor",
    "form_factor_reference",
    "number_variance",
    "number_variance_asymptotic",
    "number_variance_reference",
    "rigidity",
    "rigidity_asymptotic",
    "rigidity_reference",
]

_EULER_GAMMA = 0.5772156649015329
_GL_X, _GL_W = np.polynomial.legendre.leggauss(24)
_PANEL = 0.5  # quadrature panel length in units of the mean spacing (Y₂ oscillates with period 1)


@dataclass(frozen=True, eq=False)
class LongRangeStatistic:
    """Σ²(L) or Δ₃(L) per window length with standard errors over realisations.

    ``params`` holds the window placement and the unfolding record (method and parameters).
    """

    statistic: str
    lengths: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    rows: int
    params: Mapping[str, Any]

    def record(self) -> dict[str, Any]:
        """Plain dict for storing next to results."""
        return {
            "statistic": self.statistic,
            "lengths": self.lengths.tolist(),
            "values": self.values.tolist(),
            "errors": self.errors.tolist(),
            "rows": self.rows,
            "params": dict(self.params),
        }


@dataclass(frozen=True, eq=False)
class FormFactor:
    """Connected form factor K(τ): ensemble mean, standard error, and the per-row terms.

    ``per_row[m]`` is realisation m's contribution (its mean over rows is ``values``), so any
    average over a τ range has the honest error ``per_row[:, sel].mean(1).std(ddof=1)/√rows``
    (:meth:`binned`).
    """

    taus: np.ndarray
    values: np.ndarray
    errors: np.ndarray
    per_row: np.ndarray
    params: Mapping[str, Any]

    def binned(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(bin centres, mean K per bin, standard error per bin) over τ bins ``edges``.

        The error is over realisations, so the correlation of neighbouring τ is accounted for.
        """
        edges = np.asarray(edges, dtype=float)
        rows = self.per_row.shape[0]
        centres, means, errors = [], [], []
        for lo, hi in itertools.pairwise(edges):
            sel = (self.taus >= lo) & (self.taus < hi)
            if not sel.any():
                raise ValueError(f"no τ in the bin [{lo}, {hi})")
            per = self.per_row[:, sel].mean(axis=1)
            centres.append(0.5 * (lo + hi))
            means.append(per.mean())
            errors.append(per.std(ddof=1) / np.sqrt(rows))
        return np.array(centres), np.array(means), np.array(errors)


# --------------------------------------------------------------------------- input handling


def _unfolded_rows(unfolded: Unfolding | np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
    if isinstance(unfolded, Unfolding):
        return as_rows(unfolded.levels), {"unfolding": unfolded.record()}
    return as_rows(unfolded), {"unfolding": {"method": "none (levels given unfolded)"}}


def _lengths(lengths: np.ndarray | float) -> np.ndarray:
    L = np.atleast_1d(np.asarray(lengths, dtype=float))
    if L.ndim != 1 or not np.all(L > 0):
        raise ValueError("window lengths L must be positive")
    return L


def _usable_range(x: np.ndarray, margin: float) -> tuple[float, float]:
    """[lo, hi] covered by every row: [max first level + margin, min last level − margin].

    Windows at fixed unfolded positions, common to all rows, are not conditioned on any row's own
    levels, so the count at each position follows the ensemble's law and can be centred on its
    ensemble mean, which absorbs residual density errors of the unfolding.
    """
    return float(np.max(x[:, 0])) + margin, float(np.min(x[:, -1])) - margin


def _window_starts(lo: float, hi: float, L: float, n_windows: int, margin: float) -> np.ndarray:
    if hi - lo < L:
        # the usable range (common unfolded range minus the margins) must hold one window
        raise InsufficientDataError(
            math.ceil(L + 2 * margin),
            math.floor(hi - lo + 2 * margin),
            f"unfolded spacings common to all rows for L={L:g}",
        )
    return lo + (hi - lo - L) * (np.arange(n_windows) + 0.5) / n_windows


def _per_row_statistic(x: np.ndarray, L: np.ndarray, n_windows: int, margin: float, kind: str) -> np.ndarray:
    """(rows, len(L), n_windows) window values: counts (Σ²) or Δ₃ of each window."""
    rows, m = x.shape
    out = np.empty((rows, L.size, n_windows))
    lo, hi = _usable_range(x, margin)
    starts = [_window_starts(lo, hi, float(length), n_windows, margin) for length in L]
    j = np.arange(m, dtype=float)
    zero = np.zeros(1)
    for r, row in enumerate(x):
        p1 = np.concatenate([zero, np.cumsum(row)])
        p2 = np.concatenate([zero, np.cumsum(row * row)])
        pj = np.concatenate([zero, np.cumsum(j * row)])
        for i, length in enumerate(L):
            a = starts[i]
            b = a + length
            i0 = np.searchsorted(row, a, side="right")
            i1 = np.searchsorted(row, b, side="right")
            n = (i1 - i0).astype(float)
            if kind == "count":
                out[r, i] = n
                continue
            c = a + 0.5 * length
            s1 = p1[i1] - p1[i0]
            s2 = p2[i1] - p2[i0]
            sj = pj[i1] - pj[i0]
            t1 = s1 - n * c  # Σ t_k
            t2 = s2 - 2.0 * c * s1 + n * c * c  # Σ t_k²
            i_ff = b * n * n - 2.0 * sj - (1.0 - 2.0 * i0) * s1  # Σ (2k−1)(L/2 − t_k)
            i_f = 0.5 * n * length - t1
            i_ft = 0.5 * (0.25 * n * length**2 - t2)
            out[r, i] = (i_ff - i_f**2 / length - 12.0 * i_ft**2 / length**3) / length
    return out


def _summarise(
    values: np.ndarray, statistic: str, L: np.ndarray, params: dict[str, Any], n_blocks: int
) -> LongRangeStatistic:
    """values: (rows, len(L), windows) per-window terms whose mean is the statistic."""
    rows = values.shape[0]
    per_row = values.mean(axis=2)  # (rows, len(L))
    if rows >= 2:
        mean = per_row.mean(axis=0)
        err = per_row.std(axis=0, ddof=1) / np.sqrt(rows)
        method = "mean over rows, SEM"
    else:
        # One long spectrum: blockwise jackknife over contiguous blocks of windows.
        units = values[0].T  # (windows, len(L))
        res = jackknife(units, lambda u: u.mean(axis=0), n_blocks=min(n_blocks, units.shape[0]))
        mean, err = np.asarray(res.estimate), np.asarray(res.error)
        method = "single row, blockwise jackknife over windows"
    for arr in (L, mean, err):
        arr.setflags(write=False)
    return LongRangeStatistic(statistic, L, mean, err, rows, freeze({**params, "error": method}))


def number_variance(
    unfolded: Unfolding | np.ndarray,
    lengths: np.ndarray | float,
    *,
    n_windows: int = 200,
    margin: float = 2.0,
    n_blocks: int = 20,
) -> LongRangeStatistic:
    """Σ²(L) of unfolded levels: variance of the level count in windows of length L.

    ``n_windows`` windows with evenly spaced starts at fixed unfolded positions inside the range
    every row covers, [max first + margin, min last − margin] of the kept unfolded levels (the
    margin keeps windows off the trimmed edges, where a level sits by construction). With several
    rows, the count at each window position is centred on its ensemble mean (variance with
    M/(M − 1)); Σ² is the mean over rows of each row's mean squared deviation, with its standard
    error over rows (rows are independent realisations). One row: centred on its mean count,
    error by a blockwise jackknife over contiguous windows.
    """
    x, params = _unfolded_rows(unfolded)
    L = _lengths(lengths)
    counts = _per_row_statistic(x, L, n_windows, margin, "count")
    rows = counts.shape[0]
    if rows >= 2:
        # Centre each window position on its ensemble mean (absorbs residual density errors of
        # the unfolding); M/(M − 1) makes the variance unbiased.
        dev2 = (counts - counts.mean(axis=0, keepdims=True)) ** 2 * (rows / (rows - 1.0))
        centre = "ensemble mean count per window position"
    else:
        dev2 = (counts - counts.mean(axis=2, keepdims=True)) ** 2
        centre = "mean count over the windows of the row"
    params.update({"n_windows": n_windows, "margin": margin, "centre": centre})
    return _summarise(dev2, "number_variance", L, params, n_blocks)


def rigidity(
    unfolded: Unfolding | np.ndarray,
    lengths: np.ndarray | float,
    *,
    n_windows: int = 200,
    margin: float = 2.0,
    n_blocks: int = 20,
) -> LongRangeStatistic:
    """Δ₃(L) of unfolded levels by the exact least-squares line over each window.

    Windows as in :func:`number_variance`; each window's Δ₃ from the closed form in the module
    docstring (no grid), averaged over windows and rows, with its standard error over rows.
    """
    x, params = _unfolded_rows(unfolded)
    L = _lengths(lengths)
    d3 = _per_row_statistic(x, L, n_windows, margin, "delta3")
    params.update({"n_windows": n_windows, "margin": margin, "fit": "exact least squares"})
    return _summarise(d3, "rigidity", L, params, n_blocks)


def form_factor(
    unfolded: Unfolding | np.ndarray,
    taus: np.ndarray,
    *,
    window: str = "gaussian",
    width: float | None = None,
    centre: float | None = None,
) -> FormFactor:
    """Connected spectral form factor K(τ) of unfolded levels, averaged over realisations.

    S_m(τ) = Σ_j w_j exp(2πiτ x_j) per row m; K(τ) = Σ_m |S_m − S̄|²/(M − 1) / ⟨Σ_j w_j²⟩
    (S̄ the mean over the M rows; the factor M/(M − 1) makes the subtraction unbiased).
    ``window``: ``"gaussian"`` (w = exp(−(x − centre)²/2σ²), σ = ``width``, default a sixth of
    the common unfolded range, centre default its middle) or ``"none"`` (w = 1: the hard edges
    leak into small τ). The window smooths K over δτ ≈ 1/(2πσ).
    """
    x, params = _unfolded_rows(unfolded)
    rows = x.shape[0]
    if rows < 2:
        raise InsufficientDataError(2, rows, "realisations for the connected form factor")
    t = np.atleast_1d(np.asarray(taus, dtype=float))
    lo, hi = float(np.max(x[:, 0])), float(np.min(x[:, -1]))
    if window == "gaussian" and (centre is None or width is None) and not hi > lo:
        raise InsufficientDataError(
            1, 0, "unfolded range common to all rows (or give the window's centre and width)"
        )
    if window == "gaussian":
        c = 0.5 * (lo + hi) if centre is None else float(centre)
        sigma = (hi - lo) / 6.0 if width is None else float(width)
        if not sigma > 0:
            raise ValueError(f"window width must be positive, got {sigma}")
        w = np.exp(-0.5 * ((x - c) / sigma) ** 2)
        params.update({"window": "gaussian", "centre": c, "width": sigma})
    elif window == "none":
        w = np.ones_like(x)
        params.update({"window": "none"})
    else:
        raise ValueError(f"unknown window {window!r}; expected 'gaussian' or 'none'")
    s = np.empty((rows, t.size), dtype=complex)
    for m in range(rows):
        s[m] = np.exp(2j * np.pi * np.outer(t, x[m])) @ w[m]
    norm = float(np.mean(np.sum(w * w, axis=1)))
    per_row = np.abs(s - s.mean(axis=0)) ** 2 * (rows / (rows - 1.0)) / norm
    values = per_row.mean(axis=0)
    errors = per_row.std(axis=0, ddof=1) / np.sqrt(rows)
    for arr in (t, values, errors, per_row):
        arr.setflags(write=False)
    return FormFactor(t, values, errors, per_row, freeze({**params, "rows": rows}))


# --------------------------------------------------------------------------- references


def _reference_name(ensemble: str) -> str:
    name = canonical_ensemble(ensemble)
    if name == "gse":
        raise ValueError("GSE long-range references are not implemented; use 'goe', 'gue' or 'poisson'")
    return name


def cluster_function(r: np.ndarray, ensemble: str) -> np.ndarray:
    """Two-level cluster function Y₂(r) (Mehta ch. 6): GUE s², GOE s² + s′∫_r^∞ s, Poisson 0."""
    name = _reference_name(ensemble)
    r = np.abs(np.asarray(r, dtype=float))
    if name == "poisson":
        return np.zeros_like(r)
    s = np.sinc(r)  # sin(πr)/(πr)
    if name == "gue":
        return np.asarray(s * s, dtype=float)
    small = r < 1e-2
    rs = np.where(small, 1.0, r)
    pr = np.pi * r
    ds = np.where(small, -(np.pi**2) * r / 3.0 + np.pi**4 * r**3 / 30.0, (np.cos(pr) - s) / rs)
    tail = 0.5 - sici(pr)[0] / np.pi  # ∫_r^∞ s(t) dt
    return np.asarray(s * s + ds * tail, dtype=float)


def _integrate(length: float, weight: Callable[[np.ndarray], np.ndarray], ensemble: str) -> float:
    """∫₀^L weight(r) Y₂(r) dr by composite Gauss–Legendre (panels of ½ spacing, 24 nodes)."""
    panels = max(1, int(np.ceil(length / _PANEL)))
    edges = np.linspace(0.0, length, panels + 1)
    half = 0.5 * np.diff(edges)
    r = (edges[:-1] + half)[:, None] + half[:, None] * _GL_X
    return float(np.sum(half[:, None] * _GL_W * weight(r) * cluster_function(r, ensemble)))


def number_variance_reference(lengths: np.ndarray | float, ensemble: str) -> np.ndarray:
    """Exact N → ∞ Σ²(L) = L − 2∫₀^L (L − r) Y₂(r) dr (Poisson: L)."""
    name = _reference_name(ensemble)
    L = _lengths(lengths)
    if name == "poisson":
        return L.copy()

    def one(x: float) -> float:
        return x - 2.0 * _integrate(x, lambda r: x - r, name)

    return np.array([one(float(x)) for x in L])


def rigidity_reference(lengths: np.ndarray | float, ensemble: str) -> np.ndarray:
    """Exact N → ∞ Δ₃(L) = L/15 − (1/15L⁴)∫₀^L (L − r)³(2L² − 9Lr − 3r²) Y₂(r) dr (Poisson L/15)."""
    name = _reference_name(ensemble)
    L = _lengths(lengths)
    if name == "poisson":
        return L / 15.0

    def one(x: float) -> float:
        kernel = lambda r: (x - r) ** 3 * (2 * x * x - 9 * x * r - 3 * r * r)  # noqa: E731
        return x / 15.0 - _integrate(x, kernel, name) / (15.0 * x**4)

    return np.array([one(float(x)) for x in L])


def number_variance_asymptotic(lengths: np.ndarray | float, ensemble: str) -> np.ndarray:
    """Large-L Σ²: GUE (1/π²)(ln 2πL + γ + 1), GOE (2/π²)(ln 2πL + γ + 1 − π²/8), Poisson L."""
    name = _reference_name(ensemble)
    L = _lengths(lengths)
    g = np.log(2 * np.pi * L) + _EULER_GAMMA
    if name == "poisson":
        return L.copy()
    if name == "gue":
        return (g + 1.0) / np.pi**2
    return 2.0 * (g + 1.0 - np.pi**2 / 8.0) / np.pi**2


def rigidity_asymptotic(lengths: np.ndarray | float, ensemble: str) -> np.ndarray:
    """Large-L Δ₃: GUE (1/2π²)(ln 2πL + γ − 5/4), GOE (1/π²)(ln 2πL + γ − 5/4 − π²/8), Poisson L/15."""
    name = _reference_name(ensemble)
    L = _lengths(lengths)
    g = np.log(2 * np.pi * L) + _EULER_GAMMA - 1.25
    if name == "poisson":
        return L / 15.0
    if name == "gue":
        return g / (2.0 * np.pi**2)
    return (g - np.pi**2 / 8.0) / np.pi**2


def form_factor_reference(taus: np.ndarray, ensemble: str) -> np.ndarray:
    """N → ∞ K(τ), τ ≥ 0: GUE min(τ, 1); GOE 2τ − τ ln(1 + 2τ) (τ ≤ 1),
    2 − τ ln((2τ + 1)/(2τ − 1)) (τ > 1); Poisson 1."""
    name = _reference_name(ensemble)
    t = np.abs(np.asarray(taus, dtype=float))
    if name == "poisson":
        return np.ones_like(t)
    if name == "gue":
        return np.asarray(np.minimum(t, 1.0), dtype=float)
    inner = t <= 1.0
    big = np.where(inner, 2.0, t)
    goe = np.where(inner, 2.0 * t - t * np.log1p(2.0 * t), 2.0 - big * np.log((2 * big + 1) / (2 * big - 1)))
    return np.asarray(goe, dtype=float)
