"""Maximum-likelihood fit of the Brody parameter q of nearest-neighbour spacings (Brody 1973):
P(s) = (q + 1) b s^q e^{−b s^{q+1}}, q = 0 Poisson, q = 1 the GOE surmise.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize_scalar

from .fits_base import FitResult, _finish, _hessian_errors
from .surmise import brody_b, brody_cdf

__all__ = ["fit_brody"]


def _brody_nll(s: np.ndarray) -> Callable[[float], float]:
    logs = np.log(s)

    def nll(q: float) -> float:
        b = brody_b(q)
        return float(-np.sum(math.log(q + 1.0) + math.log(b) + q * logs - b * s ** (q + 1.0)))

    return nll


def fit_brody(
    s: np.ndarray,
    *,
    normalise: bool = True,
    errors: str = "hessian",
    n_blocks: int | None = None,
    bounds: tuple[float, float] = (-0.9, 4.0),
) -> FitResult:
    """ML fit of the Brody parameter q (Brody 1973): q = 0 Poisson, q = 1 GOE surmise.

    ``s``: spacings (> 0), divided by their mean when ``normalise`` (the law has ⟨s⟩ = 1).
    The bounds extend beyond [0, 1] so that estimates near the ends are not clipped.
    """
    raw = np.asarray(s, dtype=float).ravel()
    raw = raw[~np.isnan(raw)]
    if np.any(raw <= 0):
        raise ValueError("Brody fit needs strictly positive spacings (exact degeneracies found)")

    def est(v: np.ndarray) -> np.ndarray:
        v = v / v.mean() if normalise else v
        res = minimize_scalar(_brody_nll(v), bounds=bounds, method="bounded", options={"xatol": 1e-8})
        return np.array([res.x])

    data = raw / raw.mean() if normalise else raw

    def hess(theta: np.ndarray) -> np.ndarray:
        nll = _brody_nll(data)
        return _hessian_errors(lambda p: nll(float(p[0])), theta, np.array([1e-4]))

    return _finish(
        "brody",
        "ml",
        ("q",),
        raw[:, None],
        est,
        errors,
        n_blocks,
        lambda t, q: brody_cdf(t / raw.mean() if normalise else t, q),
        {"normalise": normalise, "bounds": bounds},
        hess,
    )
