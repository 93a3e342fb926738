"""The record of a fit (:class:`FitResult`) and the machinery every fit shares: data as rows,
errors (observed information or jackknife over rows) and the KS distance of the fitted law.

Input convention: ``x`` is 1-D (independent values) or 2-D (rows = realisations; the values of a
row are pooled). Errors are

* ``"hessian"`` — inverse observed Fisher information (numerical Hessian of the negative
  log-likelihood at the optimum); regular ML fits only; treats all values as independent;
* ``"jackknife"`` — delete-one (or blockwise, ``n_blocks``) jackknife of the whole fit over rows
  (2-D input; correct for correlated levels within a realisation) or over values (1-D input,
  blocks drawn by a fixed permutation). The levels of one spectrum are not independent: spectral
  rigidity makes its scale far steadier than an iid sample's, so the jackknife over values is
  conservative by several times (one 200×200 GOE, CDF fit: jackknife σ_R ≈ 0.85, while R
  scatters by 0.12 over 40 matrices, R = 20). Pass realisations as rows for usable errors;
* ``"none"``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import kstest

from ._base import freeze
from .resample import jackknife

__all__ = ["FitResult"]


@dataclass(frozen=True, eq=False)
class FitResult:
    """Fitted parameters with errors, and how they were obtained.

    ``fit["sigma"]`` is a value, ``fit.error("sigma")`` its error; ``fit.record()`` a flat dict.
    ``ks_distance`` is the Kolmogorov–Smirnov distance of the fitted law to the pooled sample.
    """

    model: str
    method: str
    names: tuple[str, ...]
    values: np.ndarray
    errors: np.ndarray
    error_method: str
    n: int
    options: Mapping[str, Any]
    ks_distance: float = math.nan

    def __getitem__(self, name: str) -> float:
        return float(self.values[self.names.index(name)])

    def error(self, name: str) -> float:
        """Error of one parameter."""
        return float(self.errors[self.names.index(name)])

    def record(self) -> dict[str, Any]:
        """Flat dict: model, method, error method, n, each value and ``<name>_err``, options."""
        out: dict[str, Any] = {
            "model": self.model,
            "method": self.method,
            "error_method": self.error_method,
            "n": self.n,
            "ks_distance": self.ks_distance,
        }
        for name, v, e in zip(self.names, self.values, self.errors, strict=True):
            out[name] = float(v)
            out[f"{name}_err"] = float(e)
        out["options"] = dict(self.options)
        return out


# --------------------------------------------------------------------------- helpers


def _rows(x: np.ndarray) -> np.ndarray:
    """Data as (units, values per unit), NaN dropped; 1-D or a single row → one value per unit."""
    a = np.asarray(x, dtype=float)
    if a.ndim == 2 and a.shape[0] == 1:
        a = a[0]
    rows: np.ndarray
    if a.ndim == 1:
        rows = a[~np.isnan(a)][:, None]
        return rows
    if a.ndim != 2:
        raise ValueError(f"expected 1-D or 2-D data, got shape {a.shape}")
    rows = a[~np.isnan(a).any(axis=1)]
    return rows


def _ascending(x: np.ndarray) -> np.ndarray:
    """``x`` sorted; returned as is when it already is (a jackknife replicate)."""
    return x if x.size < 2 or bool(np.all(x[1:] >= x[:-1])) else np.sort(x)


def _hessian(f: Callable[[np.ndarray], float], x: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of a scalar function."""
    k = x.size
    h = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ei = np.zeros(k)
            ej = np.zeros(k)
            ei[i] = steps[i]
            ej[j] = steps[j]
            val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * steps[i] * steps[j]
            )
            h[i, j] = h[j, i] = val
    return h


def _hessian_errors(nll: Callable[[np.ndarray], float], theta: np.ndarray, steps: np.ndarray) -> np.ndarray:
    """√diag of the inverse observed information; NaN if it is not positive definite."""
    return _inverse_information_errors(_hessian(nll, theta, steps))


def _inverse_information_errors(h: np.ndarray) -> np.ndarray:
    """√diag H⁻¹ of the observed information H; NaN if it is not positive definite."""
    try:
        cov = np.linalg.inv(h)
    except np.linalg.LinAlgError:
        return np.full(h.shape[0], np.nan)
    d = np.diag(cov)
    return np.where(d > 0, np.sqrt(np.abs(d)), np.nan)


def _jackknife_errors(
    rows: np.ndarray, estimator: Callable[[np.ndarray], np.ndarray], n_blocks: int | None
) -> tuple[np.ndarray, str]:
    """Jackknife over rows; each replicate gets the kept values in ascending order (sorted once),
    so the CDF fits need not sort 10⁶ values per replicate."""
    units = np.arange(rows.shape[0])
    if rows.shape[1] == 1 and n_blocks is not None and n_blocks < rows.shape[0]:
        # Single values may come sorted (one spectrum): contiguous or strided blocks would then
        # remove systematically placed levels. Assign them to blocks by a fixed permutation.
        units = np.random.default_rng(0).permutation(rows.shape[0])
    order = np.argsort(rows, axis=None, kind="stable")
    ascending, unit_of = rows.ravel()[order], order // rows.shape[1]

    def on_units(kept: np.ndarray) -> np.ndarray:
        keep = np.zeros(rows.shape[0], dtype=bool)
        keep[kept] = True
        return np.asarray(estimator(ascending[keep[unit_of]]), dtype=float)

    res = jackknife(units, on_units, n_blocks=n_blocks)
    method = res.method if rows.shape[1] > 1 else f"{res.method} over values (fixed permutation)"
    return np.atleast_1d(res.error), method


def _finish(
    model: str,
    method: str,
    names: Sequence[str],
    rows: np.ndarray,
    estimator: Callable[..., np.ndarray],  # (values), or (values, start) with warm_start
    errors: str,
    n_blocks: int | None,
    cdf: Callable[..., np.ndarray],
    options: Mapping[str, Any],
    hessian: Callable[[np.ndarray], np.ndarray] | None = None,
    warm_start: bool = False,
) -> FitResult:
    """Run ``estimator`` on the pooled values, attach errors and the KS distance.

    ``warm_start``: ``estimator(values, start)`` accepts a start, and the jackknife refits start
    from the pooled estimate (same minima, a few iterations each instead of a cold start).
    """
    pooled = rows.ravel()
    values = np.asarray(estimator(pooled), dtype=float)
    if errors == "hessian":
        if hessian is None:
            raise ValueError(f"Hessian errors are not available for {model} ({method}); use 'jackknife'")
        errs, err_method = hessian(values), "inverse observed Fisher information"
    elif errors == "jackknife":
        refit = (lambda v: estimator(v, values)) if warm_start else estimator
        errs, err_method = _jackknife_errors(rows, refit, n_blocks)
    elif errors == "none":
        errs, err_method = np.full(values.size, np.nan), "none"
    else:
        raise ValueError(f"errors must be 'hessian', 'jackknife' or 'none', got {errors!r}")

    def fitted_cdf(t: np.ndarray) -> np.ndarray:
        return cdf(t, *values)

    # scipy-stubs types kstest's cdf as float -> float; kstest calls it once on the sorted sample
    ks = float(kstest(pooled, fitted_cdf).statistic)  # type: ignore[arg-type]
    return FitResult(
        model,
        method,
        tuple(names),
        values,
        np.asarray(errs, dtype=float),
        err_method,
        int(pooled.size),
        freeze({**options, "n_blocks": n_blocks, "units": rows.shape[0]}),
        ks,
    )
