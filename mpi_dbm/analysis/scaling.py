"""Linear scaling rule: pooled proportional fits and the equal-α/|B| collapse test.

The collapse test is decisive only where it could reject: the exact two-sample KS test of
samples of sizes m and n has its smallest p-value, 2/C(m + n, m), when the samples do not
overlap (two of the C(m + n, m) equally likely orderings under the null), so with K tests
under Bonferroni a combined p below α needs 2K/C(m + n, m) < α. Below that the verdict is
"not enough data" instead of a vacuous pass.

For equal sizes n, scipy's exact two-sided p-value of D = 1/n or 2/n comes out as 1 + 1e-16
for many n (5, 7, 13, 14, 15, 23, …); scipy then warns (RuntimeWarning) and falls back to the
asymptotic law. Those two values are exact and simple: every ordering has D ≥ 1/n, so
P(D ≥ 1/n) = 1; D = 1/n means the two counts differ by at most one along the pooled sample, i.e.
each consecutive pair of positions holds one value of each sample, in 2ⁿ of the C(2n, n)
orderings, so P(D ≥ 2/n) = 1 − 2ⁿ/C(2n, n). `ks_2samp_pvalue` uses them and scipy elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps

from .weighted import weighted_fit


@dataclass(frozen=True)
class ProportionalFit:
    """y = a·x by weighted least squares (weights 1/err²), with χ²/dof (physics.md §5.1)."""

    observable: str
    slope: float
    slope_error: float
    chi2_dof: float
    n_points: int
    predicted_slope: float | None

    @property
    def pull(self) -> float | None:
        if self.predicted_slope is None or not self.slope_error > 0:
            return None
        return (self.slope - self.predicted_slope) / self.slope_error

    def record(self) -> dict[str, Any]:
        return {
            "observable": self.observable,
            "slope": self.slope,
            "slope_error": self.slope_error,
            "chi2_dof": self.chi2_dof,
            "n_points": self.n_points,
            "predicted_slope": self.predicted_slope,
            "pull": self.pull,
        }


def proportional_fit(
    observable: str, x: Sequence[float], y: Sequence[float], err: Sequence[float], predicted: float | None
) -> ProportionalFit | None:
    """`analysis.weighted.weighted_fit` through the origin with the errors the inputs imply
    (`birge=False`: χ²/dof is reported beside the slope, not folded into its error); with one
    point χ²/dof is the χ² itself (0 up to rounding) rather than NaN."""
    fit = weighted_fit(x, y, err, intercept=False, birge=False)
    if fit is None:
        return None
    chi2_dof = fit.chi2 / max(fit.dof, 1)
    return ProportionalFit(observable, fit.slope, fit.slope_error, chi2_dof, fit.n, predicted)


@dataclass(frozen=True)
class CollapseTest:
    """Points at equal α/|B| must have indistinguishable spectra (two-sample KS per level)."""

    temperature: float
    points: tuple[int, ...]
    spectrum: str
    pvalues: tuple[float, ...]  # per level, smallest over pairs of points
    combined_pvalue: float  # Bonferroni over levels and pairs
    alpha: float
    smallest_possible_pvalue: float = 0.0  # the combined p of fully separated samples
    replicas: int = 0  # smallest sample (replicas of one point)
    replicas_needed: int = 0  # smallest equal sample size that could reject at alpha

    @property
    def passed(self) -> bool:
        return self.combined_pvalue >= self.alpha

    @property
    def resolvable(self) -> bool:
        """The test could reject at `alpha` with these sample sizes (module docstring)."""
        return self.smallest_possible_pvalue < self.alpha

    def record(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "points": list(self.points),
            "spectrum": self.spectrum,
            "pvalues_per_level": list(self.pvalues),
            "combined_pvalue": self.combined_pvalue,
            "alpha": self.alpha,
            "passed": self.passed,
            "resolvable": self.resolvable,
            "smallest_possible_pvalue": self.smallest_possible_pvalue,
            "replicas": self.replicas,
            "replicas_needed": self.replicas_needed,
            "method": "two-sample KS per level on replica samples, Bonferroni over levels and point pairs",
        }


def ks_smallest_pvalue(m: int, n: int) -> float:
    """Smallest two-sided exact two-sample KS p-value for sizes m, n: 2/C(m + n, m), in log
    space (C overflows a float beyond m + n ≈ 1030); 1 for an empty sample."""
    if m < 1 or n < 1:
        return 1.0
    log_comb = math.lgamma(m + n + 1) - math.lgamma(m + 1) - math.lgamma(n + 1)
    return min(1.0, math.exp(math.log(2.0) - log_comb))


def ks_2samp_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided two-sample KS p-value (scipy's, exact for small samples; module docstring)."""
    n = len(a)
    if n == len(b) and n > 0:
        d = float(sps.ks_2samp(a, b, method="asymp").statistic)  # the statistic alone
        h = round(d * n)
        if h <= 1:
            return 1.0
        if h == 2:  # 1 − 2ⁿ/C(2n, n), in log space
            log_comb = math.lgamma(2 * n + 1) - 2.0 * math.lgamma(n + 1)
            return 1.0 - math.exp(n * math.log(2.0) - log_comb)
    return float(sps.ks_2samp(a, b).pvalue)


def ks_replicas_needed(n_tests: int, alpha: float) -> int:
    """Smallest equal sample size k with 2·n_tests/C(2k, k) < alpha (see module docstring)."""
    k = 1
    while ks_smallest_pvalue(k, k) * max(n_tests, 1) >= alpha:
        k += 1
    return k


def equal_temperature_groups(temps: Sequence[float], rtol: float = 1e-9) -> list[list[int]]:
    groups: list[list[int]] = []
    for i, t in enumerate(temps):
        for g in groups:
            if math.isclose(temps[g[0]], t, rel_tol=rtol):
                g.append(i)
                break
        else:
            groups.append([i])
    return [g for g in groups if len(g) > 1]


def collapse_test(
    temperature: float, points: Sequence[int], spectrum: str, samples: Sequence[np.ndarray], alpha: float
) -> CollapseTest:
    """samples[i]: (replicas, size) levels of point i at the analysed measurement (one per replica)."""
    size = samples[0].shape[1]
    per_level = np.ones(size)
    n_tests = 0
    best = 1.0  # smallest p-value any single test could give
    for i in range(len(samples)):
        for j in range(i + 1, len(samples)):
            for k in range(size):
                a, b = samples[i][:, k], samples[j][:, k]
                a, b = a[np.isfinite(a)], b[np.isfinite(b)]
                if len(a) < 2 or len(b) < 2:
                    continue
                p = ks_2samp_pvalue(a, b)
                per_level[k] = min(per_level[k], p)
                best = min(best, ks_smallest_pvalue(len(a), len(b)))
                n_tests += 1
    combined = float(min(1.0, per_level.min() * max(n_tests, 1)))
    return CollapseTest(
        temperature,
        tuple(points),
        spectrum,
        tuple(float(p) for p in per_level),
        combined,
        alpha,
        smallest_possible_pvalue=float(min(1.0, best * max(n_tests, 1))),
        replicas=min((len(s) for s in samples), default=0),
        replicas_needed=ks_replicas_needed(n_tests if n_tests else size * math.comb(len(samples), 2), alpha),
    )
