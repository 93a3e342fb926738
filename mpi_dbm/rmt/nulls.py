"""Null models for spectral statistics: sampled GOE and Wishart spectra of a measured level set's
shape and scale, and the comparison of a measured statistic with its spread over null ensembles.

A spacing statistic of weight-matrix spectra (⟨r̃⟩, P(s), β, the Brody q) says little on its own:
the bulk of a Wishart (Gram) matrix WWᵀ of *unstructured* weights already has GOE spacing
statistics (local bulk universality), so a GOE-like ⟨r̃⟩ is the expected outcome of random weights
(arXiv:2603.27885). A measured value is informative only beside the same statistic on a null model
of the same size:

* **GOE null**: λ = c + eig(H), H an n×n GOE matrix with off-diagonal variance v (diagonal 2v),
  matched to the measured levels x by their pooled moments: c = ⟨x⟩ and, since an n×n GOE has
  E[(λ − c)²] = (n + 1) v per level, v = ⟨(x − c)²⟩/(n + 1).
* **Wishart null**: λ = c + eig(W Wᵀ/m), W an n×m matrix of iid N(0, s²) entries, ratio q = n/m.
  Marchenko–Pastur (Marchenko & Pastur, Math. USSR-Sb. 1, 457 (1967)) gives per level
  E[λ] = s² and Var[λ] = q s⁴ (exactly, pooled over levels of n×m matrices: E[λ] = s²,
  Var[λ] = s⁴(n + 1)/m), so a Gram spectrum at the origin has q = Var/⟨x⟩². Moments are not
  robust (outliers of a low-rank signal inflate Var), so for positive levels (s², q) come from
  the Cramér–von Mises fit of the Marchenko–Pastur CDF to the pooled levels, with c = 0. Levels
  that are not a Gram spectrum (some ≤ 0) get a shifted law matched in mean, variance and
  skewness (Marchenko–Pastur's is √q): q = skewness², s² = √(Var·m/(n + 1)), c = ⟨x⟩ − s². q is
  clipped to [Q_MIN, 1] (q > 1 would be the larger Gram matrix; below Q_MIN the law is close to a
  semicircle). q may also be given (the layer's known shape); then only s² and c are matched.

:func:`null_distribution` applies one statistic function (the one the measurement uses, returning
named values) to K null ensembles of the measured number of rows × levels; :func:`compare` turns
the K values into the null mean, the spread (sample standard deviation over ensembles) and a
two-sided test of the measured value: z = (x − mean)/spread and, because mean and spread are
themselves estimated from K draws, the prediction-interval p-value
p = 2·T_{K−1}(−|z|/√(1 + 1/K)) (Student t with K − 1 degrees of freedom). The measured value is
*distinguishable* from the null iff p < α. Every sampler draws from a Generator made from a
SeedSequence; nothing touches the global RNG.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import t as student_t

from ._base import InsufficientDataError, as_rows
from .ensembles import tridiagonal_eigenvalues
from .fits import fit_marchenko_pastur

__all__ = [
    "NULL_MODELS",
    "Q_MIN",
    "NullComparison",
    "NullModel",
    "compare",
    "goe_null",
    "gram_null",
    "laguerre_eigenvalues",
    "matched_null",
    "null_distribution",
    "wishart_null",
]

#: the sampled null models
NULL_MODELS = ("goe", "wishart")
#: smallest Wishart ratio q = n/m sampled (m ≤ n/Q_MIN columns)
Q_MIN = 0.1
#: most columns of the cluster Wishart null (beyond, W Wᵀ/m is GOE-like to within sampling noise)
M_MAX = 1_000_000
#: pooled values the Marchenko-Pastur fit of the Wishart match uses (quantiles beyond)
FIT_VALUES = 20_000
#: fewest finite null values a comparison rests on
_MIN_NULL_VALUES = 3

#: a statistic of level rows (rows, n) -> named values (NaN where it cannot be computed)
Statistic = Callable[[np.ndarray], Mapping[str, float]]


@dataclass(frozen=True)
class NullModel:
    """A null model matched to a level set: ``sample(rng, rows)`` gives sorted (rows, n) levels."""

    name: str
    n: int
    params: Mapping[str, Any]

    def sample(self, rng: np.random.Generator, rows: int) -> np.ndarray:
        p = self.params
        if self.name == "goe":
            return goe_null(self.n, rows, rng, centre=p["centre"], v=p["v"])
        return wishart_null(self.n, rows, rng, q=p["q"], scale=p["scale"], shift=p["shift"])

    def record(self) -> dict[str, Any]:
        return {"model": self.name, "n": self.n, **dict(self.params)}


def goe_null(n: int, rows: int, rng: np.random.Generator, *, centre: float, v: float) -> np.ndarray:
    """Sorted levels c + eig(H), H n×n GOE (off-diagonal variance v, diagonal 2v); (rows, n).

    Sampled from the β = 1 Hermite tridiagonal model (Dumitriu & Edelman, J. Math. Phys. 43, 5830
    (2002)), the same eigenvalue law: diagonal N(0, 2v), off-diagonal √v·χ_{n−k}, k = 1 … n − 1.
    """
    if v <= 0:
        raise ValueError(f"the GOE variance v must be positive, got {v}")
    d = rng.normal(0.0, math.sqrt(2.0 * v), (rows, n))
    e = math.sqrt(v) * np.sqrt(rng.chisquare(np.arange(n - 1, 0, -1), (rows, n - 1)))
    return centre + tridiagonal_eigenvalues(d, e)


def wishart_columns(n: int, q: float) -> int:
    """m = round(n/q) ≥ n columns of the n×m matrix W."""
    return max(n, round(n / q))


def laguerre_eigenvalues(n: int, m: int, rng: np.random.Generator, rows: int) -> np.ndarray:
    """Sorted eigenvalues of W Wᵀ, W n×m (m ≥ n) with iid N(0, 1) entries, shape (rows, n), from
    the β = 1 Laguerre bidiagonal model (Dumitriu & Edelman 2002): W Wᵀ has the eigenvalues of
    B Bᵀ, B lower bidiagonal n×n with a_i = B_ii ~ χ_{m−i} and b_i = B_{i+1,i} ~ χ_{n−1−i}
    (i = 0 … n − 1); B Bᵀ is tridiagonal with diagonal a_i² + b_{i−1}² and off-diagonal a_i b_i.
    O(n) random numbers and O(n²) work per matrix, whatever m."""
    if m < n:
        raise ValueError(f"the Laguerre model needs m >= n, got n = {n}, m = {m}")
    i = np.arange(n)
    a = np.sqrt(rng.chisquare(m - i, (rows, n)))
    b = np.sqrt(rng.chisquare(n - 1 - i[:-1], (rows, n - 1)))
    d = a**2
    d[:, 1:] += b**2
    return tridiagonal_eigenvalues(d, a[:, :-1] * b)


def wishart_null(
    n: int, rows: int, rng: np.random.Generator, *, q: float, scale: float, shift: float = 0.0
) -> np.ndarray:
    """Sorted levels shift + eig(W Wᵀ/m), W n×m with iid N(0, scale) entries, m = round(n/q);
    (rows, n). Marchenko–Pastur with ratio q and scale s² = ``scale``. Sampled through the
    Laguerre bidiagonal model (:func:`laguerre_eigenvalues`), so the cost does not grow with m."""
    if not 0 < q <= 1 or scale <= 0:
        raise ValueError(f"need 0 < q <= 1 and scale > 0, got q = {q}, scale = {scale}")
    m = wishart_columns(n, q)
    return shift + laguerre_eigenvalues(n, m, rng, rows) * (scale / m)


def _pooled(levels: np.ndarray) -> tuple[int, np.ndarray]:
    x = as_rows(levels)
    if x.size < 3:
        raise InsufficientDataError(3, x.size, "levels to match a null model's scale")
    return x.shape[1], x.ravel()


def _quantile_sample(x: np.ndarray, size: int = FIT_VALUES) -> np.ndarray:
    """At most ``size`` pooled values at evenly spaced quantiles (the CDF, deterministically)."""
    return x if x.size <= size else np.quantile(x, (np.arange(size) + 0.5) / size)


def _wishart_params(x: np.ndarray, n: int, q: float | None) -> dict[str, Any]:
    mean, var = float(x.mean()), float(x.var())
    if q is not None:  # the shape is known: scale and shift from mean and variance
        ratio, how = float(np.clip(q, Q_MIN, 1.0)), "given q; s^2, c from mean and variance"
        s2 = math.sqrt(var * wishart_columns(n, ratio) / (n + 1))
        shift = mean - s2
    elif x.min() > 0:  # a Gram spectrum: Marchenko-Pastur CDF fit at the origin
        fit = fit_marchenko_pastur(_quantile_sample(x), errors="none")
        ratio, s2, shift = float(np.clip(fit["ratio"], Q_MIN, 1.0)), float(fit["scale"]), 0.0
        how = "Marchenko-Pastur CDF fit (s^2, q), c = 0"
    else:  # not a Gram spectrum: shifted MP matched in mean, variance and skewness sqrt(q)
        skew = float(np.mean((x - mean) ** 3)) / var**1.5
        ratio = float(np.clip(skew**2, Q_MIN, 1.0))
        s2 = math.sqrt(var * wishart_columns(n, ratio) / (n + 1))
        shift, how = mean - s2, "shifted: q = skewness^2, s^2 = sqrt(var/q), c = mean - s^2"
    return {
        "q": ratio,
        "q_moments": var / mean**2 if mean != 0 else math.inf,
        "scale": s2,
        "shift": shift,
        "m": float(wishart_columns(n, ratio)),
        "match": how,
    }


def matched_null(name: str, levels: np.ndarray, q: float | None = None) -> NullModel:
    """The GOE or Wishart null of the module docstring matched to ``levels`` (rows, n);
    ``q`` fixes the Wishart ratio (the layer's known shape)."""
    n, x = _pooled(levels)
    if not x.var() > 0:
        raise ValueError("the levels have no spread: no null model of their scale")
    if name == "goe":
        mean = float(x.mean())
        return NullModel("goe", n, {"centre": mean, "v": float(np.mean((x - mean) ** 2)) / (n + 1)})
    if name != "wishart":
        raise ValueError(f"unknown null model {name!r}; expected one of {NULL_MODELS}")
    return NullModel("wishart", n, _wishart_params(x, n, q))


def gram_null(levels: np.ndarray) -> NullModel:
    """The Wishart null of a small cluster of levels (rows, n), n ≥ 2: the unshifted Gram matrix
    W Wᵀ/m (W n×m, iid N(0, s²)) whose eigenvalues have the cluster's pooled mean and variance.
    Pooled over the n levels, E[λ] = s² and Var[λ] = s⁴(n + 1)/m, so s² = ⟨x⟩ and
    m = (n + 1)⟨x⟩²/Var, clipped to [n, M_MAX]. Where m would be < n (or ⟨x⟩ ≤ 0) it is n (the
    square Gram matrix) and the scale and a shift c match mean and variance:
    s² = √(Var·n/(n + 1)), c = ⟨x⟩ − s². Every statistic compared (⟨s²⟩/⟨s⟩², P(s), β, ⟨r̃⟩) is
    invariant under shift and scale, so m is the only parameter that matters."""
    n, x = _pooled(levels)
    mean, var = float(x.mean()), float(x.var())
    if n < 2 or not var > 0:
        raise ValueError("a Gram null needs a cluster of n >= 2 levels with spread")
    m_matched = (n + 1) * mean**2 / var if mean > 0 else 0.0
    if m_matched >= n:
        m = int(min(round(m_matched), M_MAX))
        scale, shift, how = mean, 0.0, "unshifted: s^2 = mean, m = (n+1) mean^2/var"
    else:
        m = n
        scale = math.sqrt(var * n / (n + 1))
        shift, how = mean - scale, "m = n (matched m < n): s^2, c from mean and variance"
    params = {"q": n / m, "scale": scale, "shift": shift, "m": float(m), "m_matched": m_matched, "match": how}
    return NullModel("wishart", n, params)


def null_distribution(
    statistic: Statistic, model: NullModel, rows: int, k: int, seed: np.random.SeedSequence
) -> dict[str, np.ndarray]:
    """``statistic`` on k null ensembles of ``rows`` realisations each: name -> (k,) values.

    Ensemble i draws from Generator(PCG64(seed.spawn(k)[i])), so the values do not depend on k's
    chunking and a larger k extends a smaller one.
    """
    if k < 1 or rows < 1:
        raise ValueError(f"need k >= 1 ensembles of rows >= 1, got k = {k}, rows = {rows}")
    values: dict[str, list[float]] = {}
    for child in seed.spawn(k):
        got = statistic(model.sample(np.random.Generator(np.random.PCG64(child)), rows))
        for name, v in got.items():
            values.setdefault(name, []).append(float(v))
    return {name: np.asarray(v, dtype=float) for name, v in values.items()}


@dataclass(frozen=True)
class NullComparison:
    """A measured value against K null values: mean, spread, z, prediction-interval p."""

    measured: float
    mean: float
    spread: float
    k: int
    z: float
    pvalue: float
    alpha: float

    @property
    def distinguishable(self) -> bool | None:
        """p < alpha; None when the comparison could not be made (NaN p)."""
        return bool(self.pvalue < self.alpha) if math.isfinite(self.pvalue) else None

    def record(self) -> dict[str, Any]:
        return {
            "measured": self.measured,
            "mean": self.mean,
            "spread": self.spread,
            "k": self.k,
            "z": self.z,
            "p": self.pvalue,
            "distinguishable": self.distinguishable,
        }


def compare(measured: float, null_values: np.ndarray, alpha: float = 0.01) -> NullComparison:
    """Two-sided test of ``measured`` against the finite ``null_values`` (module docstring):
    z = (x − mean)/spread, p = 2·T_{K−1}(−|z|/√(1 + 1/K)). NaN p with fewer than 3 null values
    or a NaN measurement; a zero spread gives p = 1 (equal) or 0 (different)."""
    v = np.asarray(null_values, dtype=float)
    v = v[np.isfinite(v)]
    k = int(v.size)
    if k < _MIN_NULL_VALUES or not math.isfinite(measured):
        mean = float(v.mean()) if k else math.nan
        return NullComparison(float(measured), mean, math.nan, k, math.nan, math.nan, alpha)
    mean, spread = float(v.mean()), float(v.std(ddof=1))
    if spread == 0:
        same = measured == mean
        return NullComparison(
            float(measured), mean, 0.0, k, 0.0 if same else math.inf, 1.0 if same else 0.0, alpha
        )
    z = (measured - mean) / spread
    p = float(2.0 * student_t.sf(abs(z) / math.sqrt(1.0 + 1.0 / k), k - 1))
    return NullComparison(float(measured), mean, spread, k, float(z), p, alpha)
