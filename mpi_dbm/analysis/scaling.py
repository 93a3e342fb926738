"""Linear scaling rule: pooled proportional fits and the equal-α/|B| collapse test."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as sps


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
    x, y, err = (np.asarray(v, dtype=float) for v in (x, y, err))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(err) & (err > 0)
    if ok.sum() < 1:
        return None
    x, y, w = x[ok], y[ok], 1.0 / err[ok] ** 2
    a = float(np.sum(w * x * y) / np.sum(w * x * x))
    a_err = float(1.0 / math.sqrt(np.sum(w * x * x)))
    dof = max(int(ok.sum()) - 1, 1)
    chi2 = float(np.sum(w * (y - a * x) ** 2)) / dof
    return ProportionalFit(observable, a, a_err, chi2, int(ok.sum()), predicted)


@dataclass(frozen=True)
class CollapseTest:
    """Points at equal α/|B| must have indistinguishable spectra (two-sample KS per level)."""

    temperature: float
    points: tuple[int, ...]
    spectrum: str
    pvalues: tuple[float, ...]  # per level, smallest over pairs of points
    combined_pvalue: float  # Bonferroni over levels and pairs
    alpha: float

    @property
    def passed(self) -> bool:
        return self.combined_pvalue >= self.alpha

    def record(self) -> dict[str, Any]:
        return {
            "temperature": self.temperature,
            "points": list(self.points),
            "spectrum": self.spectrum,
            "pvalues_per_level": list(self.pvalues),
            "combined_pvalue": self.combined_pvalue,
            "alpha": self.alpha,
            "passed": self.passed,
            "method": "two-sample KS per level on replica samples, Bonferroni over levels and point pairs",
        }


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
    for i in range(len(samples)):
        for j in range(i + 1, len(samples)):
            for k in range(size):
                a, b = samples[i][:, k], samples[j][:, k]
                a, b = a[np.isfinite(a)], b[np.isfinite(b)]
                if len(a) < 2 or len(b) < 2:
                    continue
                p = float(sps.ks_2samp(a, b).pvalue)
                per_level[k] = min(per_level[k], p)
                n_tests += 1
    combined = float(min(1.0, per_level.min() * max(n_tests, 1)))
    return CollapseTest(
        temperature, tuple(points), spectrum, tuple(float(p) for p in per_level), combined, alpha
    )
