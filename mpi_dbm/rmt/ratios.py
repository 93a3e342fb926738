"""Higher-order (n-th order) spacing ratios and their reference laws.

* Non-overlapping n-th order ratios of a sorted row λ_1 ≤ … ≤ λ_m (Tekur, Bhosale, Santhanam,
  Phys. Rev. B 98, 104305 (2018)):
  r_i^(n) = (λ_{i+2n} − λ_{i+n})/(λ_{i+n} − λ_i),  i = 1 … m − 2n,
  and r̃_i^(n) = min(r_i^(n), 1/r_i^(n)). The two n-th order spacings of one ratio share only the
  level λ_{i+n}; consecutive ratios overlap. n = 1 is the nearest-neighbour ratio
  (:func:`~mpi_dbm.rmt.spacing.spacing_ratios`). No unfolding is needed.
* Gaussian β-ensembles: P(r^(n)) is the nearest-neighbour ratio law with the effective index
  β' = n(n+1)/2·β + (n − 1) (Tekur et al. 2018, found numerically; for GOE and n = 2 it is exact in
  the bulk limit, β' = 4, because alternate levels of an orthogonal ensemble form a symplectic one:
  Mehta & Dyson, J. Math. Phys. 4, 713 (1963), for the circular ensembles, whose bulk statistics
  are the Gaussian ones). The reference law is the 3×3 surmise (Atas, Bogomolny, Giraud, Roux,
  PRL 110, 084101 (2013)) P(r; β') = (1/Z_β') (r + r²)^β'/(1 + r + r²)^{1+3β'/2}, with Z_β' by
  Gauss–Legendre quadrature for non-integer β' (:func:`~mpi_dbm.rmt.surmise.ratio_normalisation`).
  The surmise itself carries a small systematic error against N → ∞: for β' = 1, 2, 4,
  ⟨r̃⟩_surmise − ⟨r̃⟩_∞ = 0.0052, 0.0031, 0.0018 (Atas et al. 2013, Table I).
* Poisson levels: the two n-th order spacings are independent Gamma(n, 1) sums of n exponential
  spacings, so r^(n) is beta-prime(n, n) exactly:
  P(r) = r^{n−1}/(B(n, n)(1 + r)^{2n}),  F(r) = I_{r/(1+r)}(n, n)  (n = 1: 1/(1 + r)²).
  (The β' rule with β = 0 would give β' = n − 1, which is *not* this law for n > 1.)
* r̃^(n) = min(r, 1/r) has P(r̃) = 2P(r) on [0, 1] for all these laws (they are symmetric under
  r → 1/r), and ⟨r̃⟩ = ∫₀¹ (1 − F̃(r)) dr.
"""

from __future__ import annotations

import numpy as np
from scipy.special import betainc, betaln, xlogy

from ._base import Estimate, InsufficientDataError
from .spacing import mean_of_ratios, trimmed_levels
from .surmise import BETA, canonical_ensemble, ratio_cdf, ratio_pdf, rtilde_mean

__all__ = [
    "effective_beta",
    "mean_nth_ratio",
    "nth_order_ratios",
    "nth_ratio_cdf",
    "nth_ratio_pdf",
    "nth_rtilde_cdf",
    "nth_rtilde_mean",
    "nth_rtilde_pdf",
    "nth_rtildes",
]

_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(64)
_GL_NODES = 0.5 * (_GL_NODES + 1.0)  # on [0, 1]
_GL_WEIGHTS = 0.5 * _GL_WEIGHTS


def _order(n: int) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"the ratio order n must be a positive integer, got {n!r}")
    return int(n)


def nth_order_ratios(levels: np.ndarray, n: int, trim: float = 0) -> np.ndarray:
    """r_i^(n) = (λ_{i+2n} − λ_{i+n})/(λ_{i+n} − λ_i) per sorted, trimmed row.

    Shape (rows, m − 2n) for m kept levels per row; rows with NaN are dropped (as in
    :func:`~mpi_dbm.rmt.spacing.spacing_ratios`). A zero denominator gives NaN (0/0) or inf.
    """
    n = _order(n)
    x = trimmed_levels(levels, trim)
    if x.shape[1] < 2 * n + 1:
        raise InsufficientDataError(
            2 * n + 1, x.shape[1], f"levels per row after trimming for order-{n} ratios"
        )
    lower = x[:, n:-n] - x[:, : -2 * n]
    upper = x[:, 2 * n :] - x[:, n:-n]
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = upper / lower
    return out


def nth_rtildes(levels: np.ndarray, n: int, trim: float = 0) -> np.ndarray:
    """r̃_i^(n) = min(s_a, s_b)/max(s_a, s_b) of the two n-th order spacings; shape (rows, m − 2n).

    NaN where both spacings vanish (a degenerate cluster).
    """
    n = _order(n)
    x = trimmed_levels(levels, trim)
    if x.shape[1] < 2 * n + 1:
        raise InsufficientDataError(
            2 * n + 1, x.shape[1], f"levels per row after trimming for order-{n} ratios"
        )
    a = x[:, n:-n] - x[:, : -2 * n]
    b = x[:, 2 * n :] - x[:, n:-n]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), np.nan)


def effective_beta(n: int, beta: float | str) -> float:
    """β' = n(n+1)/2·β + (n − 1) (Tekur et al., PRB 98, 104305 (2018)); β or an ensemble name.

    Poisson is rejected: its n-th order ratio law is beta-prime(n, n), not a β'-surmise.
    """
    n = _order(n)
    if isinstance(beta, str):
        name = canonical_ensemble(beta)
        if name == "poisson":
            raise ValueError("Poisson n-th order ratios follow beta-prime(n, n), not a β' surmise")
        beta = BETA[name]
    beta = float(beta)
    if not beta > 0:
        raise ValueError(f"β must be positive, got {beta}")
    return 0.5 * n * (n + 1) * beta + (n - 1)


def _is_poisson(ensemble: str | float) -> bool:
    return isinstance(ensemble, str) and canonical_ensemble(ensemble) == "poisson"


def nth_ratio_pdf(r: np.ndarray, n: int, ensemble: str | float) -> np.ndarray:
    """P(r^(n)) on [0, ∞): the ratio surmise at β' for an ensemble (or a real β > 0), or
    beta-prime(n, n) = r^{n−1}/(B(n, n)(1 + r)^{2n}) for ``"poisson"``."""
    n = _order(n)
    r = np.asarray(r, dtype=float)
    if not _is_poisson(ensemble):
        return ratio_pdf(r, effective_beta(n, ensemble))
    rp = np.clip(r, 0.0, None)
    with np.errstate(divide="ignore"):
        log_p = xlogy(n - 1, rp) - 2 * n * np.log1p(rp) - betaln(n, n)
    val = np.exp(log_p) if n > 1 else 1.0 / (1.0 + rp) ** 2
    return np.where(r >= 0, val, 0.0)


def nth_ratio_cdf(r: np.ndarray, n: int, ensemble: str | float) -> np.ndarray:
    """CDF of :func:`nth_ratio_pdf` (Poisson: the regularised incomplete beta I_{r/(1+r)}(n, n))."""
    n = _order(n)
    r = np.clip(np.asarray(r, dtype=float), 0.0, None)
    if not _is_poisson(ensemble):
        return ratio_cdf(r, effective_beta(n, ensemble))
    with np.errstate(invalid="ignore"):
        u = np.where(np.isinf(r), 1.0, r / (1.0 + np.where(np.isinf(r), 0.0, r)))
    return np.asarray(betainc(n, n, u), dtype=float)


def nth_rtilde_pdf(r: np.ndarray, n: int, ensemble: str | float) -> np.ndarray:
    """P(r̃^(n)) = 2 P(r^(n)) on [0, 1]."""
    r = np.asarray(r, dtype=float)
    return np.where((r >= 0) & (r <= 1), 2.0 * nth_ratio_pdf(r, n, ensemble), 0.0)


def nth_rtilde_cdf(r: np.ndarray, n: int, ensemble: str | float) -> np.ndarray:
    """CDF of r̃^(n) on [0, 1]: 2 F(r)."""
    r = np.clip(np.asarray(r, dtype=float), 0.0, 1.0)
    return np.clip(2.0 * nth_ratio_cdf(r, n, ensemble), 0.0, 1.0)


def nth_rtilde_mean(n: int, ensemble: str | float) -> float:
    """⟨r̃^(n)⟩ of the reference law: ∫₀¹ (1 − F̃(r)) dr.

    For an ensemble it is the surmise mean at β' (closed forms at β' = 1, 2, 4); for Poisson the
    exact beta-prime(n, n) value (n = 1: 2 ln 2 − 1), by 64-point Gauss–Legendre quadrature.
    """
    n = _order(n)
    if not _is_poisson(ensemble):
        beta = effective_beta(n, ensemble)
        for name in ("goe", "gue", "gse"):
            if beta == BETA[name]:
                return rtilde_mean(name)
        return rtilde_mean(beta)
    return float(np.sum(_GL_WEIGHTS * (1.0 - nth_rtilde_cdf(_GL_NODES, n, "poisson"))))


def mean_nth_ratio(levels: np.ndarray, n: int, trim: float = 0, n_blocks: int = 20) -> Estimate:
    """⟨r̃^(n)⟩ with its standard error, as :func:`~mpi_dbm.rmt.spacing.mean_spacing_ratio`.

    Several rows: mean of the per-row means, error their standard error over rows (rows are
    independent realisations). One row: blockwise jackknife over ``n_blocks`` contiguous blocks,
    which absorbs the correlation of overlapping ratios (each r̃^(n) shares levels with the 2n − 1
    neighbouring ones on each side).
    """
    r = nth_rtildes(levels, n, trim)
    return mean_of_ratios(r, {"order": int(n), "trim": trim, "ratios_per_row": r.shape[1]}, n_blocks)
