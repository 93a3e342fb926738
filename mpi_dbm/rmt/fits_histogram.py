"""Least-squares fit of a density to a Freedman–Diaconis histogram (the authors' method,
physics.md §5.1), kept for comparison with the likelihood and minimum-distance fits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import curve_fit
from scipy.stats import kstest

from ._base import freeze
from .densities import gaussian_cdf, gaussian_pdf, goe2_cdf, goe2_pdf
from .fits_base import FitResult, _rows
from .resample import jackknife
from .spacing import fd_bin_edges

__all__ = ["fit_histogram"]


def _abs_sigma(f: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    def g(x: np.ndarray, loc: float, sigma: float) -> np.ndarray:
        return f(x, loc, abs(sigma) if sigma != 0 else 1e-300)

    return g


def fit_histogram(
    x: np.ndarray,
    model: str = "goe2",
    *,
    p0: Sequence[float] | None = None,
    errors: str = "curve_fit",
    n_blocks: int | None = None,
) -> FitResult:
    """Least-squares fit of a density to a histogram (the authors' method, physics.md §5.1).

    Freedman–Diaconis bins (width 2·IQR/n^{1/3}; for 2-D input the width of the first column's
    histogram, reused for the pooled values), ``density=True``, ``curve_fit`` at bin centres,
    σ → |σ|. ``model``: ``"goe2"`` (x₀, σ) or ``"gaussian"`` (mean, σ). ``p0`` defaults to moments
    (the authors used (κ, 1) or (κ, σ_pred)). Errors: ``"curve_fit"`` (√diag pcov, residual-scaled)
    or ``"jackknife"`` (histogram and fit redone on every leave-one-out subsample, over rows).
    """
    funcs = {
        "goe2": (goe2_pdf, goe2_cdf, ("x0", "sigma"), 1.5),
        "gaussian": (gaussian_pdf, gaussian_cdf, ("mean", "sigma"), 1.0),
    }
    if model not in funcs:
        raise ValueError(f"model must be one of {sorted(funcs)}, got {model!r}")
    pdf, cdf, names, var_factor = funcs[model]
    rows = _rows(x)
    two_d = rows.shape[1] > 1
    f = _abs_sigma(pdf)

    def fit_rows(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pooled = r.ravel()
        edges = fd_bin_edges(pooled, r[:, 0] if two_d else None)
        dens, edges = np.histogram(pooled, bins=edges, density=True)
        centres = 0.5 * (edges[1:] + edges[:-1])
        start = (
            p0 if p0 is not None else (float(np.median(pooled)), float(pooled.std() / math.sqrt(var_factor)))
        )
        popt, pcov = curve_fit(f, centres, dens, p0=start)
        popt[1] = abs(popt[1])
        return popt, np.sqrt(np.abs(np.diag(pcov)))

    values, cf_errors = fit_rows(rows)
    if errors == "curve_fit":
        errs, err_method = cf_errors, "curve_fit covariance"
    elif errors == "jackknife":
        res = jackknife(rows, lambda r: fit_rows(r)[0], n_blocks=n_blocks)
        errs, err_method = np.asarray(res.error), res.method
    else:
        raise ValueError(f"errors must be 'curve_fit' or 'jackknife', got {errors!r}")
    pooled = rows.ravel()

    def fitted_cdf(t: np.ndarray) -> np.ndarray:
        return cdf(t, *values)

    # scipy-stubs types kstest's cdf as float -> float; kstest calls it once on the sorted sample
    ks = float(kstest(pooled, fitted_cdf).statistic)  # type: ignore[arg-type]
    return FitResult(
        model,
        "histogram least squares",
        names,
        values,
        errs,
        err_method,
        int(pooled.size),
        freeze(
            {
                "bins": "fd",
                "p0": None if p0 is None else tuple(p0),
                "n_blocks": n_blocks,
                "units": rows.shape[0],
            }
        ),
        ks,
    )
