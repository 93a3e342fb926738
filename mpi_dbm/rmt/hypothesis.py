"""Statistical tests of level statistics against the Poisson/GOE/GUE/GSE hypotheses.

* Kolmogorov–Smirnov and Pearson χ² of a sample of mean-normalised spacings s against the spacing
  surmises, or of spacing ratios r̃ against the ratio surmise (exact for n = 3) or — for clusters
  of n levels — against a matched-size synthetic sample (two-sample KS, χ² homogeneity test),
  because finite-n ⟨r̃⟩ differs from the surmise (GOE: 0.5359 at n = 3, ≈ 0.530 at n = 8).
* β from ⟨r̃⟩: monotone (PCHIP) interpolation of β against ⟨r̃⟩ through the anchors Poisson (β = 0),
  GOE (1), GUE (2), GSE (4) at the matched size. Only the anchors are exact; in between it is an
  interpolation.
* β from the small-s exponent: ML on the spacings s < s_max of the truncated family
  P(s) ∝ s^β C_β(s), with C_β Brody's exp(−b s^{β+1}) for β ≤ 1 and Wigner's exp(−b_β s²) for
  β ≥ 1 (exact at Poisson and at the three surmises), which removes the bias of a bare power law;
  or the Brody parameter (``fits.fit_brody``).
* :func:`verdict`: per ensemble the KS and χ² p-values and a decision at significance α
  (Bonferroni over the two tests: consistent iff min(p_KS, p_χ²) ≥ α/2).

Caveats: normalising s by its own mean makes the KS p-value conservative (a Lilliefors-type
effect; the χ² test accounts for it with one degree of freedom fewer). Values in one row are
correlated (neighbouring r̃ share a spacing; neighbouring spacings anticorrelate). Against a
matched-size reference the design effect is measured on the reference rows (the null), so r̃
p-values are calibrated; against the analytic surmise it is measured on the data rows, so pass
2-D samples (rows = realisations) — flattened r̃ would be treated as independent, which roughly
doubles the nominal rejection rate at n = 8…100.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.optimize import minimize_scalar
from scipy.special import gammainc, gammaln
from scipy.stats import chi2 as chi2_dist
from scipy.stats import chi2_contingency, ks_2samp, kstest, kstwobign

from ._base import Estimate, InsufficientDataError, as_rows, freeze
from .ensembles import reference_mean_ratio, reference_ratios, resolve_sampler
from .resample import jackknife
from .spacing import spacing_ratios
from .surmise import (
    ENSEMBLES,
    MEAN_RTILDE_LARGE_N,
    MEAN_RTILDE_SURMISE,
    brody_b,
    canonical_ensemble,
    rtilde_cdf,
    spacing_cdf,
    spacing_ppf,
    wigner_coefficients,
)

__all__ = [
    "GoodnessOfFit",
    "Verdict",
    "beta_from_mean_ratio",
    "beta_from_small_s",
    "design_effect",
    "goodness_of_fit",
    "ratio_verdict",
    "verdict",
]


@dataclass(frozen=True)
class GoodnessOfFit:
    """KS and χ² of one sample against one ensemble.

    ``design_effect`` is the variance inflation of binned counts from correlated values within a
    realisation (1 for independent values); both p-values are corrected by it.
    """

    ensemble: str
    quantity: str
    reference: str
    n: int
    ks_statistic: float
    ks_pvalue: float
    chi2: float
    chi2_dof: int
    chi2_pvalue: float
    design_effect: float = 1.0

    @property
    def pvalue(self) -> float:
        """The smaller of the two p-values."""
        return min(self.ks_pvalue, self.chi2_pvalue)


def _clean(sample: np.ndarray) -> np.ndarray:
    x = np.asarray(sample, dtype=float).ravel()
    finite: np.ndarray = x[np.isfinite(x)]
    return finite


def _complete_rows(sample: np.ndarray) -> np.ndarray | None:
    """Rows (realisations) without NaN, or None for 1-D input or one value per row."""
    a = np.asarray(sample, dtype=float)
    if a.ndim != 2 or a.shape[1] < 2:
        return None
    complete: np.ndarray = a[np.isfinite(a).all(axis=1)]
    return complete


def _n_bins(n: int, bins: int | None) -> int:
    if bins is not None:
        return int(bins)
    return int(np.clip(round(2.0 * n**0.4), 3, min(50, max(3, n // 5))))


def _counts(x: np.ndarray, inner_edges: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(inner_edges, x, side="right"), minlength=inner_edges.size + 1)


def design_effect(rows: np.ndarray | None, edges: np.ndarray, kind: str = "cumulative") -> float:
    """Design effect (Rao & Scott, JASA 76, 221 (1981)) of counts from correlated values in rows.

    For a count C of values per row (m values each) with probability p,
    deff = Var_rows(C)/(m p(1 − p)): 1 when the values within a row are independent, > 1 for
    positive correlation (neighbouring r̃ share a spacing), < 1 for negative correlation
    (neighbouring spacings of a rigid spectrum). ``kind="cumulative"`` averages over the counts
    #(x ≤ t), t in ``edges`` (the KS correction); ``kind="cells"`` returns the first-order
    Rao–Scott factor Σ_j (1 − p_j) d_j/(k − 1) over the k cells cut by ``edges`` (the χ²
    correction).
    """
    if rows is None or rows.shape[0] < 10 or rows.shape[1] < 2:
        return 1.0
    m = rows.shape[1]
    if kind == "cumulative":
        counts = np.stack([(rows <= t).sum(axis=1) for t in edges], axis=1)
    elif kind == "cells":
        idx = np.searchsorted(edges, rows, side="right")
        counts = np.stack([(idx == j).sum(axis=1) for j in range(edges.size + 1)], axis=1)
    else:
        raise ValueError(f"kind must be 'cumulative' or 'cells', got {kind!r}")
    p = counts.mean(axis=0) / m
    ok = (p > 0) & (p < 1)
    if not ok.any():
        return 1.0
    d = counts.var(axis=0, ddof=1)[ok] / (m * p[ok] * (1.0 - p[ok]))
    if kind == "cumulative":
        val = float(np.mean(d))
    else:
        val = float(np.sum((1.0 - p[ok]) * d) / max(int(ok.sum()) - 1, 1))
    return max(val, 0.05)


def _ks_pvalue(d: float, n_eff: float) -> float:
    """Asymptotic KS p-value with Stephens' finite-n correction, for an effective sample size."""
    rn = math.sqrt(n_eff)
    return float(kstwobign.sf((rn + 0.12 + 0.11 / rn) * d))


def _use_surmise(quantity: str, n: int | None, trim: float) -> bool:
    return quantity == "s" or n is None or (n == 3 and trim == 0)


_Tests = tuple[float, float, float, int, str, float]  # KS D, KS p, χ², dof, reference, deff


def _against_surmise(
    x: np.ndarray, rows: np.ndarray | None, name: str, quantity: str, k: int, u: np.ndarray, ddof: int
) -> _Tests:
    """KS and χ² (``k`` cells, inner quantiles ``u``) of ``x`` against the spacing or r̃ surmise,
    with the design effect of the data ``rows`` (:func:`goodness_of_fit`)."""
    law = spacing_cdf if quantity == "s" else rtilde_cdf

    def cdf(t: np.ndarray) -> np.ndarray:
        return law(t, name)

    if quantity == "s":
        inner = spacing_ppf(u, name)
    else:
        grid = np.linspace(0.0, 1.0, 4097)
        inner = np.interp(u, cdf(grid), grid)
    deff = design_effect(rows, inner)
    # scipy-stubs types kstest's cdf as float -> float; kstest calls it once on the sorted sample
    ks = kstest(x, cdf)  # type: ignore[arg-type]
    d = float(ks.statistic)
    p_ks = float(ks.pvalue) if deff <= 1.0 else _ks_pvalue(d, x.size / deff)
    expected = x.size * np.diff(np.concatenate([[0.0], cdf(inner), [1.0]]))
    stat = float(np.sum((_counts(x, inner) - expected) ** 2 / expected))
    stat /= max(design_effect(rows, inner, "cells"), 1.0)
    dof = k - 1 - ddof
    return d, p_ks, stat, dof, "surmise", deff


def _against_reference(
    x: np.ndarray, name: str, n: int, trim: float, u: np.ndarray, n_reference: int
) -> _Tests:
    """Two-sample KS and χ² homogeneity test of r̃ values ``x`` against r̃ of matched ``n``-level
    synthetic spectra (cells at the reference's quantiles ``u``; :func:`goodness_of_fit`)."""
    ref_rows = reference_ratios(name, int(n), trim, n_reference)
    ref = _clean(ref_rows)
    inner = np.quantile(ref, u)
    complete = _complete_rows(ref_rows)
    deff = design_effect(complete, inner)
    ks2 = ks_2samp(x, ref)
    d = float(ks2.statistic)
    if deff <= 1.0:
        p_ks = float(ks2.pvalue)
    else:
        n1, n2 = x.size / deff, ref.size / deff
        p_ks = _ks_pvalue(d, n1 * n2 / (n1 + n2))
    table = np.stack([_counts(x, inner), _counts(ref, inner)])
    table = table[:, table.sum(axis=0) > 0]
    res = chi2_contingency(table, correction=False)
    stat, dof = (
        float(res.statistic) / max(design_effect(complete, inner, "cells"), 1.0),
        int(res.dof),
    )
    how = resolve_sampler(name, int(n), "auto")
    return d, p_ks, stat, dof, f"sampled n={n}, trim={trim}, {ref.size} ratios ({how})", deff


def goodness_of_fit(
    sample: np.ndarray,
    ensemble: str,
    quantity: str = "s",
    *,
    n: int | None = None,
    trim: float = 0,
    normalise: bool = True,
    bins: int | None = None,
    n_reference: int = 100_000,
) -> GoodnessOfFit:
    """KS and χ² tests of ``sample`` against ``ensemble``.

    ``quantity="s"``: nearest-neighbour spacings (divided by their mean when ``normalise``) against
    the spacing surmise (exact for 2×2 matrices). ``quantity="r"``: r̃ values against the ratio
    surmise (``n`` None, or n = 3 without trim) or against r̃ of matched n-level synthetic spectra
    with the same ``trim`` (two-sample KS and χ² homogeneity test; ``n_reference`` ratios).
    χ² uses ~2N^{2/5} bins, equiprobable under the hypothesis.

    A 2-D sample (rows = realisations) lets the tests account for correlations inside a row:
    KS uses the effective size N/deff and χ² is divided by deff (first-order Rao–Scott), with the
    design effect from the matched reference (the null hypothesis) or else from the data rows.
    The correction is applied only when deff > 1 (r̃). For rigid spectra (unfolded spacings,
    deff ≈ 0.55) the independent-value p-values are kept: conservative, and tolerant of the ≈1 %
    difference between the Wigner surmise and the exact large-N spacing law, which a sharpened
    test would detect from a few thousand spacings.
    """
    name = canonical_ensemble(ensemble)
    if quantity not in ("s", "r"):
        raise ValueError(f"quantity must be 's' or 'r', got {quantity!r}")
    x = _clean(sample)
    rows = _complete_rows(sample)
    if x.size < 10:
        raise InsufficientDataError(10, x.size, "values")
    ddof = 0
    if quantity == "s" and normalise:
        mean = x.mean()
        x = x / mean
        rows = None if rows is None else rows / mean
        ddof = 1
    k = _n_bins(x.size, bins)
    u = np.linspace(0.0, 1.0, k + 1)[1:-1]

    if _use_surmise(quantity, n, trim):
        d, p_ks, stat, dof, reference, deff = _against_surmise(x, rows, name, quantity, k, u, ddof)
    else:
        assert n is not None  # _use_surmise is true for n = None
        d, p_ks, stat, dof, reference, deff = _against_reference(x, name, n, trim, u, n_reference)
    p_chi2 = float(chi2_dist.sf(stat, dof))
    return GoodnessOfFit(name, quantity, reference, int(x.size), d, p_ks, stat, int(dof), p_chi2, deff)


# --------------------------------------------------------------------------- β estimates


def _anchors(n: int | None, trim: float, n_reference: int) -> tuple[np.ndarray, np.ndarray, str]:
    """(⟨r̃⟩, its error) at β = 0, 1, 2, 4 and the source of the anchors."""
    names = ("poisson", "goe", "gue", "gse")
    if n is None:
        consts = [MEAN_RTILDE_LARGE_N[e] for e in names]
        return np.array([v for v, _ in consts]), np.array([e for _, e in consts]), "large-N constants"
    if n == 3 and trim == 0:
        return (
            np.array([MEAN_RTILDE_SURMISE[e] for e in names]),
            np.zeros(4),
            "surmise (exact, n=3)",
        )
    ests = [reference_mean_ratio(e, int(n), trim, n_reference) for e in names[1:]]
    vals = np.array([MEAN_RTILDE_SURMISE["poisson"], *(e.value for e in ests)])
    errs = np.array([0.0, *(e.error for e in ests)])
    return vals, errs, f"matched-size sampling (n={n}, trim={trim})"


def beta_from_mean_ratio(
    mean: float,
    error: float = 0.0,
    *,
    n: int | None = None,
    trim: float = 0,
    n_reference: int = 100_000,
) -> Estimate:
    """β from ⟨r̃⟩ by interpolating β(⟨r̃⟩) through the Poisson/GOE/GUE/GSE anchors (β = 0, 1, 2, 4).

    Anchors: the matched-size references for an ``n``-level cluster (Poisson exact for any n),
    the surmise for n = 3, the large-N constants for ``n=None``. The error propagates ``error``
    and the anchor uncertainties through the slope of the interpolant. Values outside the anchor
    range are extrapolated (β < 0 means "more Poissonian than Poisson").
    """
    r, r_err, source = _anchors(n, trim, n_reference)
    curve = PchipInterpolator(r, np.array([0.0, 1.0, 2.0, 4.0]), extrapolate=True)
    slope = float(curve.derivative()(mean))
    anchor_err = float(np.interp(mean, r, r_err))
    err = abs(slope) * math.hypot(error, anchor_err)
    return Estimate(
        float(curve(mean)),
        err,
        0,
        "interpolated <r~>(beta)",
        freeze({"mean_ratio": float(mean), "mean_ratio_error": float(error), "anchors": source}),
    )


def _small_s_log_z(beta: float, s_max: float) -> tuple[float, float, float]:
    """(log Z, b, power) of the truncated reference family s^β exp(−b s^power) on [0, s_max]."""
    if beta <= 1.0:  # Brody: power β + 1, ∫ = (1 − e^{−b s_max^{β+1}})/((β + 1) b)
        b, power = brody_b(beta), beta + 1.0
        z = -math.expm1(-b * s_max**power) / (power * b)
        return math.log(max(z, 1e-300)), b, power
    # Wigner: power 2, ∫ = Γ(a) P(a, b s_max²)/(2 b^a) with a = (β + 1)/2
    _, b = wigner_coefficients(beta)
    a = (beta + 1.0) / 2.0
    log_z = gammaln(a) + math.log(max(gammainc(a, b * s_max**2), 1e-300)) - math.log(2.0) - a * math.log(b)
    return log_z, b, 2.0


def _small_s_nll(s: np.ndarray, s_max: float) -> Callable[[float], float]:
    sum_log = float(np.log(s).sum())
    logs = np.log(s)

    def nll(beta: float) -> float:
        log_z, b, power = _small_s_log_z(beta, s_max)
        return -(beta * sum_log - b * float(np.sum(np.exp(power * logs)))) + s.size * log_z

    return nll


def beta_from_small_s(
    s: np.ndarray,
    *,
    s_max: float = 1.0,
    normalise: bool = True,
    bounds: tuple[float, float] = (-0.9, 8.0),
) -> Estimate:
    """β from the small-s level repulsion P(s) ∝ s^β: ML on the spacings s < s_max.

    The truncated model is s^β times the correction factor of the matching surmise: Brody's
    exp(−b s^{β+1}) for β ≤ 1 (exact for Poisson, β = 0, and the GOE surmise) and the Wigner
    exp(−b_β s²) for β ≥ 1 (exact for the GOE, GUE and GSE surmises); the two coincide at β = 1.
    This removes the bias of a bare power law. ``s`` are spacings (divided by their mean when
    ``normalise``). Error from the observed information.
    """
    x = _clean(s)
    if normalise:
        x = x / x.mean()
    if np.any(x <= 0):
        raise ValueError("spacings must be strictly positive (exact degeneracies found)")
    tail = x[x < s_max]
    if tail.size < 5:
        raise InsufficientDataError(5, tail.size, f"spacings below s_max={s_max:g}")
    nll = _small_s_nll(tail, s_max)
    beta = float(minimize_scalar(nll, bounds=bounds, method="bounded", options={"xatol": 1e-8}).x)
    h = 1e-3
    curv = (nll(beta + h) - 2.0 * nll(beta) + nll(beta - h)) / h**2
    err = 1.0 / math.sqrt(curv) if curv > 0 else math.nan
    return Estimate(
        beta,
        err,
        int(tail.size),
        "truncated small-s ML",
        freeze(
            {
                "s_max": s_max,
                "normalise": normalise,
                "model": "s^beta x (Brody if beta<=1 else Wigner)",
            }
        ),
    )


# --------------------------------------------------------------------------- verdict


@dataclass(frozen=True)
class Verdict:
    """Per-ensemble goodness of fit, the decision at level ``alpha`` and a β estimate."""

    quantity: str
    alpha: float
    results: Mapping[str, GoodnessOfFit]
    consistent: tuple[str, ...]
    rejected: tuple[str, ...]
    best: str
    beta: Estimate

    def summary(self) -> str:
        """One line: which ensembles are consistent, which rejected, and β (or why not)."""
        ok = ", ".join(e.upper() for e in self.consistent) or "none"
        bad = ", ".join(e.upper() for e in self.rejected) or "none"
        if math.isfinite(self.beta.value):
            beta = f"beta = {self.beta.value:.2f} +- {self.beta.error:.2f}"
        else:
            beta = f"beta: {self.beta.method}"
        return f"consistent with {ok}; rejected at alpha={self.alpha:g}: {bad}; {beta}"

    def record(self) -> dict[str, Any]:
        """Flat dict of p-values and decisions."""
        out: dict[str, Any] = {
            "quantity": self.quantity,
            "alpha": self.alpha,
            "best": self.best,
            "consistent": list(self.consistent),
            "beta": self.beta.value,
            "beta_err": self.beta.error,
            "beta_method": self.beta.method,
        }
        for name, g in self.results.items():
            out[f"{name}_ks_p"] = g.ks_pvalue
            out[f"{name}_chi2_p"] = g.chi2_pvalue
            out[f"{name}_reference"] = g.reference
        return out


def verdict(
    sample: np.ndarray,
    quantity: str = "r",
    *,
    n: int | None = None,
    trim: float = 0,
    alpha: float = 0.01,
    ensembles: tuple[str, ...] = ENSEMBLES,
    n_reference: int = 100_000,
) -> Verdict:
    """Test a sample against each ensemble and decide at significance ``alpha``.

    ``sample``: r̃ values (``quantity="r"``; 2-D rows = realisations give a row-based error for
    ⟨r̃⟩; ``n``/``trim`` select the matched-size reference) or spacings (``"s"``, mean-normalised).
    An ensemble is consistent iff min(p_KS, p_χ²) ≥ α/2. β comes from ⟨r̃⟩ (``"r"``) or from the
    small-s exponent (``"s"``); where the sample has too few small spacings for the latter, β is
    NaN and its method says "not enough data: …" (the tests still decide).
    Raises :class:`InsufficientDataError` below 10 values.
    """
    results = {
        canonical_ensemble(e): goodness_of_fit(sample, e, quantity, n=n, trim=trim, n_reference=n_reference)
        for e in ensembles
    }
    consistent = tuple(e for e, g in results.items() if g.pvalue >= alpha / 2.0)
    rejected = tuple(e for e in results if e not in consistent)
    best = max(results, key=lambda e: (results[e].pvalue, -results[e].ks_statistic))
    if quantity == "r":
        a = np.asarray(sample, dtype=float)
        if a.ndim == 2 and a.shape[0] >= 2:  # error over realisations
            m = np.nanmean(a, axis=1)
            m = m[np.isfinite(m)]
            mean, err = float(m.mean()), float(m.std(ddof=1) / math.sqrt(m.size))
        else:  # one sequence: blockwise jackknife absorbs the correlation of neighbouring r̃
            flat = _clean(a)
            est, spread = jackknife(flat, np.mean, n_blocks=min(20, flat.size))
            mean, err = float(est), float(spread)  # np.mean of 1-D blocks: scalars
        beta = beta_from_mean_ratio(mean, float(err), n=n, trim=trim, n_reference=n_reference)
    else:
        try:
            beta = beta_from_small_s(sample)
        except InsufficientDataError as exc:
            beta = Estimate(math.nan, math.nan, exc.have, str(exc), freeze({"s_max": 1.0}))
    return Verdict(quantity, alpha, freeze(results), consistent, rejected, best, beta)


def ratio_verdict(
    levels: np.ndarray,
    *,
    trim: float = 0,
    alpha: float = 0.01,
    ensembles: tuple[str, ...] = ENSEMBLES,
    n_reference: int = 100_000,
) -> Verdict:
    """:func:`verdict` on the r̃ of level rows (realisations of an n-level cluster), matched in n."""
    x = as_rows(levels)
    return verdict(
        spacing_ratios(x, trim),
        "r",
        n=x.shape[1],
        trim=trim,
        alpha=alpha,
        ensembles=ensembles,
        n_reference=n_reference,
    )
