"""Level-statistics surmises: nearest-neighbour spacings, spacing ratios, Brody.

Spacings are in units of the mean spacing (⟨s⟩ = 1).

* Wigner surmise (exact for 2×2 matrices; Mehta, *Random Matrices*, §1.5):
  P_β(s) = a_β s^β exp(-b_β s²), b_β = [Γ((β+2)/2)/Γ((β+1)/2)]², a_β = 2 b_β^{(β+1)/2}/Γ((β+1)/2).
  β = 1: (π/2) s e^{-πs²/4};  β = 2: (32/π²) s² e^{-4s²/π};  β = 4: (2¹⁸/(3⁶π³)) s⁴ e^{-64s²/(9π)}.
  Poisson: e^{-s}.
* Spacing ratio r = s_n/s_{n-1} (Atas, Bogomolny, Giraud, Roux, PRL 110, 084101 (2013), exact
  for 3×3; Oganesyan & Huse, PRB 75, 155111 (2007) for r̃ = min(r, 1/r)):
  P_β(r) = (1/Z_β) (r + r²)^β / (1 + r + r²)^{1+3β/2}, Z₁ = 8/27, Z₂ = 4π/(81√3), Z₄ = 4π/(729√3);
  Poisson P(r) = 1/(1 + r)²;  P(r̃) = 2 P(r) on [0, 1].
* Brody (1973) interpolation Poisson (q = 0) ↔ GOE (q = 1):
  P_q(s) = (q + 1) b s^q exp(-b s^{q+1}), b = Γ((q + 2)/(q + 1))^{q+1}.

An *ensemble* is one of ``"poisson", "goe", "gue", "gse"`` (case-insensitive); ratio functions also
accept a real β > 0 for the β-surmise (the 3×3 Gaussian β-ensemble).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy.special import gamma, gammainc, gammaincinv, gammaln

__all__ = [
    "BETA",
    "ENSEMBLES",
    "MEAN_RTILDE_LARGE_N",
    "MEAN_RTILDE_SURMISE",
    "MEAN_S2",
    "brody_b",
    "brody_cdf",
    "brody_pdf",
    "canonical_ensemble",
    "ratio_cdf",
    "ratio_normalisation",
    "ratio_pdf",
    "rtilde_cdf",
    "rtilde_mean",
    "rtilde_pdf",
    "spacing_cdf",
    "spacing_pdf",
    "spacing_ppf",
    "wigner_cdf",
    "wigner_coefficients",
    "wigner_pdf",
]

ENSEMBLES: tuple[str, ...] = ("goe", "gue", "gse", "poisson")
BETA: dict[str, int] = {"poisson": 0, "goe": 1, "gue": 2, "gse": 4}

#: ⟨s²⟩ of the surmises (mean spacing 1).
MEAN_S2: dict[str, float] = {
    "poisson": 2.0,
    "goe": 4.0 / math.pi,
    "gue": 3.0 * math.pi / 8.0,
    "gse": 45.0 * math.pi / 128.0,
}
#: ⟨r̃⟩ of the ratio surmise (exact for 3×3 matrices and for Poisson).
MEAN_RTILDE_SURMISE: dict[str, float] = {
    "poisson": 2.0 * math.log(2.0) - 1.0,
    "goe": 4.0 - 2.0 * math.sqrt(3.0),
    "gue": 2.0 * math.sqrt(3.0) / math.pi - 0.5,
    "gse": 32.0 * math.sqrt(3.0) / (15.0 * math.pi) - 0.5,
}
#: ⟨r̃⟩ for N → ∞ as (value, uncertainty), Atas et al. (2013), Table I.
MEAN_RTILDE_LARGE_N: dict[str, tuple[float, float]] = {
    "poisson": (2.0 * math.log(2.0) - 1.0, 0.0),
    "goe": (0.5307, 1e-4),
    "gue": (0.5996, 1e-4),
    "gse": (0.6744, 1e-4),
}

_RATIO_Z = {
    1.0: 8.0 / 27.0,
    2.0: 4.0 * math.pi / (81.0 * math.sqrt(3.0)),
    4.0: 4.0 * math.pi / (729.0 * math.sqrt(3.0)),
}
_GL_NODES, _GL_WEIGHTS = np.polynomial.legendre.leggauss(48)
_GL_NODES = 0.5 * (_GL_NODES + 1.0)  # on [0, 1]
_GL_WEIGHTS = 0.5 * _GL_WEIGHTS


def canonical_ensemble(ensemble: str) -> str:
    """Lower-case ensemble name; raises ValueError for an unknown one."""
    name = str(ensemble).lower()
    if name not in BETA:
        raise ValueError(f"unknown ensemble {ensemble!r}; expected one of {ENSEMBLES}")
    return name


# --------------------------------------------------------------------------- Wigner surmise


def wigner_coefficients(beta: float) -> tuple[float, float]:
    """(a_β, b_β) of P_β(s) = a_β s^β exp(-b_β s²), normalised with ⟨s⟩ = 1; any real β > -1."""
    if beta <= -1:
        raise ValueError(f"beta must exceed -1, got {beta}")
    b = math.exp(2.0 * (gammaln((beta + 2.0) / 2.0) - gammaln((beta + 1.0) / 2.0)))
    a = 2.0 * b ** ((beta + 1.0) / 2.0) / gamma((beta + 1.0) / 2.0)
    return a, b


def wigner_pdf(s: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """Wigner surmise P_β(s) = a_β s^β exp(-b_β s²) (zero for s < 0)."""
    a, b = wigner_coefficients(beta)
    s = np.asarray(s, dtype=float)
    sp = np.clip(s, 0.0, None)
    return np.where(s >= 0, a * sp**beta * np.exp(-b * sp**2), 0.0)


def wigner_cdf(s: np.ndarray, beta: float = 1.0) -> np.ndarray:
    """CDF of the Wigner surmise: regularised incomplete gamma P((β+1)/2, b_β s²)."""
    _, b = wigner_coefficients(beta)
    s = np.clip(np.asarray(s, dtype=float), 0.0, None)
    return gammainc((beta + 1.0) / 2.0, b * s**2)


def spacing_pdf(s: np.ndarray, ensemble: str) -> np.ndarray:
    """Nearest-neighbour spacing surmise of an ensemble (Poisson: e^{-s})."""
    name = canonical_ensemble(ensemble)
    if name == "poisson":
        s = np.asarray(s, dtype=float)
        return np.where(s >= 0, np.exp(-np.clip(s, 0.0, None)), 0.0)
    return wigner_pdf(s, BETA[name])


def spacing_cdf(s: np.ndarray, ensemble: str) -> np.ndarray:
    """CDF of :func:`spacing_pdf` (Poisson: 1 - e^{-s})."""
    name = canonical_ensemble(ensemble)
    if name == "poisson":
        cdf: np.ndarray = -np.expm1(-np.clip(np.asarray(s, dtype=float), 0.0, None))
        return cdf
    return wigner_cdf(s, BETA[name])


def spacing_ppf(u: np.ndarray, ensemble: str) -> np.ndarray:
    """Quantile function of :func:`spacing_pdf`."""
    name = canonical_ensemble(ensemble)
    u = np.asarray(u, dtype=float)
    ppf: np.ndarray
    if name == "poisson":
        ppf = -np.log1p(-u)
        return ppf
    beta = BETA[name]
    _, b = wigner_coefficients(beta)
    ppf = np.sqrt(gammaincinv((beta + 1.0) / 2.0, u) / b)
    return ppf


# --------------------------------------------------------------------------- ratio surmise


def _ratio_beta(ensemble: str | float) -> float | None:
    """β of the ratio surmise, or None for Poisson."""
    if isinstance(ensemble, str):
        name = canonical_ensemble(ensemble)
        return None if name == "poisson" else float(BETA[name])
    beta = float(ensemble)
    if beta <= 0:
        raise ValueError(f"the ratio β-surmise needs β > 0, got {beta} (use 'poisson' for β = 0)")
    return beta


def _ratio_kernel(r: np.ndarray, beta: float) -> np.ndarray:
    kernel: np.ndarray = (r + r * r) ** beta / (1.0 + r + r * r) ** (1.0 + 1.5 * beta)
    return kernel


@lru_cache(maxsize=64)
def ratio_normalisation(beta: float) -> float:
    """Z_β = ∫₀^∞ (r + r²)^β/(1 + r + r²)^{1+3β/2} dr; closed form for β = 1, 2, 4 (Atas et al.)."""
    beta = float(beta)
    if beta in _RATIO_Z:
        return _RATIO_Z[beta]
    # r → 1/r maps [1, ∞) onto [0, 1] with the same integrand, so Z = 2 ∫₀¹.
    return float(2.0 * np.sum(_GL_WEIGHTS * _ratio_kernel(_GL_NODES, beta)))


def _ratio_cdf_unit(x: np.ndarray, beta: float) -> np.ndarray:
    """∫₀^x P_β(r) dr for x in [0, 1] (Gauss–Legendre, exact to rounding for this smooth kernel)."""
    t = x[..., None] * _GL_NODES
    cdf: np.ndarray = x * np.sum(_GL_WEIGHTS * _ratio_kernel(t, beta), axis=-1) / ratio_normalisation(beta)
    return cdf


def ratio_pdf(r: np.ndarray, ensemble: str | float) -> np.ndarray:
    """P(r) of r = s_n/s_{n-1} on [0, ∞): the β-surmise, or 1/(1 + r)² for Poisson."""
    r = np.asarray(r, dtype=float)
    rp = np.clip(r, 0.0, None)
    beta = _ratio_beta(ensemble)
    val = 1.0 / (1.0 + rp) ** 2 if beta is None else _ratio_kernel(rp, beta) / ratio_normalisation(beta)
    return np.where(r >= 0, val, 0.0)


def ratio_cdf(r: np.ndarray, ensemble: str | float) -> np.ndarray:
    """CDF of :func:`ratio_pdf`; uses F(r) = 1 - F(1/r), from the r → 1/r symmetry."""
    r = np.clip(np.asarray(r, dtype=float), 0.0, None)
    beta = _ratio_beta(ensemble)
    if beta is None:
        return r / (1.0 + r)
    inside = r <= 1.0
    x = np.where(inside, r, 1.0 / np.where(inside, 1.0, r))
    f = _ratio_cdf_unit(x, beta)
    return np.where(inside, f, 1.0 - f)


def rtilde_pdf(r: np.ndarray, ensemble: str | float) -> np.ndarray:
    """P(r̃) = 2 P(r) on [0, 1] for r̃ = min(r, 1/r)."""
    r = np.asarray(r, dtype=float)
    return np.where((r >= 0) & (r <= 1), 2.0 * ratio_pdf(r, ensemble), 0.0)


def rtilde_cdf(r: np.ndarray, ensemble: str | float) -> np.ndarray:
    """CDF of r̃ on [0, 1]: 2 F(r) (Poisson: 2r/(1 + r))."""
    r = np.clip(np.asarray(r, dtype=float), 0.0, 1.0)
    return np.clip(2.0 * ratio_cdf(r, ensemble), 0.0, 1.0)


def rtilde_mean(ensemble: str | float) -> float:
    """⟨r̃⟩ of the surmise: ∫₀¹ (1 - F̃(r)) dr (Gauss–Legendre); equals MEAN_RTILDE_SURMISE."""
    if isinstance(ensemble, str):
        return MEAN_RTILDE_SURMISE[canonical_ensemble(ensemble)]
    return float(np.sum(_GL_WEIGHTS * (1.0 - rtilde_cdf(_GL_NODES, ensemble))))


# --------------------------------------------------------------------------- Brody


def brody_b(q: float) -> float:
    """b(q) = Γ((q + 2)/(q + 1))^{q+1}, which gives ⟨s⟩ = 1; q > -1."""
    if q <= -1:
        raise ValueError(f"Brody q must exceed -1, got {q}")
    return math.exp((q + 1.0) * gammaln((q + 2.0) / (q + 1.0)))


def brody_pdf(s: np.ndarray, q: float) -> np.ndarray:
    """Brody distribution P_q(s) = (q + 1) b s^q exp(-b s^{q+1}) (a Weibull law of mean 1)."""
    b = brody_b(q)
    s = np.asarray(s, dtype=float)
    sp = np.clip(s, 0.0, None)
    return np.where(s >= 0, (q + 1.0) * b * sp**q * np.exp(-b * sp ** (q + 1.0)), 0.0)


def brody_cdf(s: np.ndarray, q: float) -> np.ndarray:
    """CDF of the Brody distribution: 1 - exp(-b s^{q+1})."""
    b = brody_b(q)
    s = np.clip(np.asarray(s, dtype=float), 0.0, None)
    return -np.expm1(-b * s ** (q + 1.0))
