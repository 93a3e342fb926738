"""Statistics of one cluster of levels at one (α, |B|) point, with errors and verdicts.

Input rows have shape (replicas, window, n): errors are jackknife over replicas
(measurements of one replica are correlated). Every number carries its error, and
every fit and test records its method (scikit-learn's habit of parameters next to
results). A statistic that needs more realisations than the point has is not computed;
`ClusterStats.missing` says which and why ("not enough data: need N …, have M").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import numpy as np

from .. import rmt
from ..rmt.resample import Statistic
from .expect import UNIVERSAL_SLOPES, Cluster, cluster_rms_slope
from .nulls import MAX_CLUSTER_LEVELS, cluster_nulls

N_JACKKNIFE_BLOCKS = 50
#: widths, spacings and fits need this many realisations (a variance of two values has one
#: degree of freedom and no usable error)
MIN_REALISATIONS = 3

T = TypeVar("T")

#: a statistic of a subset of replicas; numpy reductions (np.mean, np.var, ...) return numpy
#: scalars, which rmt.resample.Statistic (float | ndarray) does not name
ReplicaStatistic = Callable[[np.ndarray], float | np.floating[Any] | np.ndarray]

#: why the widths, spacings and ratios of an exactly degenerate level set are not computed
DEGENERATE = (
    "exactly degenerate: every realisation has all its levels equal (e.g. started at the fixed point)"
)


def _value(x: float, err: float) -> dict[str, float]:
    return {"value": float(x), "error": float(err)}


def jackknife_over_replicas(rows: np.ndarray, statistic: ReplicaStatistic) -> tuple[float, float]:
    """Blockwise jackknife over axis 0 (replicas) of `statistic(rows_subset)`."""
    n = rows.shape[0]
    if n < 2:
        return float(statistic(rows)), math.nan
    # rmt.jackknife takes np.asarray(..., dtype=float) of every result, numpy scalars included
    res = rmt.jackknife(rows, cast(Statistic, statistic), n_blocks=min(n, N_JACKKNIFE_BLOCKS))
    return float(res.estimate), float(res.error)


@dataclass
class ClusterStats:
    """Everything measured for one cluster at one point (JSON-ready via `record`)."""

    cluster: Cluster
    n_realisations: int
    values: dict[str, dict[str, float]] = field(default_factory=dict)  # name -> value, error
    predicted: dict[str, float] = field(default_factory=dict)
    fits: dict[str, dict[str, Any]] = field(default_factory=dict)
    tests: dict[str, dict[str, Any]] = field(default_factory=dict)
    spacings: np.ndarray | None = None  # normalised pair spacings s (for plots)
    missing: dict[str, str] = field(default_factory=dict)  # statistic -> "not enough data: ..."
    nulls: dict[str, Any] | None = None  # pair/cluster statistics beside their nulls (analysis.nulls)

    def attempt(self, name: str, compute: Callable[[], T]) -> T | None:
        """`compute()`, or None with the reason under `missing[name]` when the data are too few."""
        try:
            return compute()
        except rmt.InsufficientDataError as exc:
            self.missing[name] = str(exc)
            return None

    def record(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster.label,
            "levels": [self.cluster.start, self.cluster.stop],
            "kind": self.cluster.kind,
            "n_levels": self.cluster.n,
            "predicted_centre": self.cluster.centre,
            "n_realisations": self.n_realisations,
            "values": self.values,
            "predicted": self.predicted,
            "fits": self.fits,
            "tests": self.tests,
            "not_enough_data": self.missing,
            **({"nulls": self.nulls} if self.nulls is not None else {}),
        }


def cluster_stats(
    rows: np.ndarray,
    cluster: Cluster,
    v: float | None,
    shift: float | None,
    alpha: float,
    shuffled: np.ndarray | None = None,
) -> ClusterStats:
    """rows: (replicas, window, n) levels of this cluster; v: predicted GOE variance (or None);
    shuffled: the same levels of NAME.shuffled (entry-shuffled matrices), if the file has them."""
    n = cluster.n
    flat = rows.reshape(-1, n)
    stats = ClusterStats(cluster, flat.shape[0])
    mean = jackknife_over_replicas(rows, lambda r: np.mean(r))
    stats.values["centre"] = _value(*mean)
    if cluster.centre is not None:
        stats.values["shift"] = _value(mean[0] - cluster.centre, mean[1])
        if shift is not None:
            stats.predicted["shift"] = shift
    if v is not None:
        stats.predicted["v"] = v
        stats.predicted["sqrt_v"] = math.sqrt(v)
    if flat.shape[0] < MIN_REALISATIONS:
        stats.missing[f"{cluster.kind} statistics"] = (
            f"not enough data: need {MIN_REALISATIONS} realisations, have {flat.shape[0]}"
        )
        return stats
    if n >= 2 and np.all(np.ptp(flat, axis=1) == 0):
        stats.missing[f"{cluster.kind} statistics"] = DEGENERATE
        return stats
    if n == 1:
        _single(rows, stats, v)
    elif n == 2:
        _pair(rows, stats, v, alpha)
    else:
        _cluster(rows, stats, v, alpha)
    if 2 <= n <= MAX_CLUSTER_LEVELS:  # larger sets: the level-set nulls (analysis.spectral)
        stats.nulls = cluster_nulls(rows, shuffled, alpha, (cluster.start, cluster.stop))
    return stats


def _single(rows: np.ndarray, stats: ClusterStats, v: float | None) -> None:
    stats.values["variance"] = _value(*jackknife_over_replicas(rows, lambda r: np.var(r, ddof=1)))
    stats.values["std"] = _value(*jackknife_over_replicas(rows, lambda r: np.std(r, ddof=1)))
    if v is not None:
        stats.predicted["variance"] = 2.0 * v
        stats.predicted["std"] = math.sqrt(2.0 * v)
        stats.values["std/sqrt_v"] = _value(
            stats.values["std"]["value"] / math.sqrt(v), stats.values["std"]["error"] / math.sqrt(v)
        )
        stats.predicted["std/sqrt_v"] = UNIVERSAL_SLOPES["single_std"]


def _pair(rows: np.ndarray, stats: ClusterStats, v: float | None, alpha: float) -> None:
    spacing = rows[..., 1] - rows[..., 0]  # (replicas, window); rows are ascending
    mean_s = jackknife_over_replicas(spacing, np.mean)
    stats.values["mean_spacing"] = _value(*mean_s)
    stats.values["s2"] = _value(*jackknife_over_replicas(spacing, lambda s: np.mean(s**2) / np.mean(s) ** 2))
    pooled = rows.reshape(-1)
    n_rep = rows.shape[0]
    fit = (
        rmt.fit_goe2(pooled, errors="jackknife", n_blocks=min(n_rep, 10))
        if n_rep >= 2
        else rmt.fit_goe2(pooled)
    )
    stats.fits["goe2"] = fit.record()
    sigma, sigma_err = abs(fit["sigma"]), fit.error("sigma")
    stats.values["sqrt_pi_sigma"] = _value(math.sqrt(math.pi) * sigma, math.sqrt(math.pi) * sigma_err)
    if mean_s[0] > 0:
        s = spacing.reshape(-1) / mean_s[0]
        stats.spacings = s
        ver = stats.attempt("spacing", lambda: rmt.verdict(s, quantity="s", n=2, alpha=alpha))
        if ver is not None:
            stats.tests["spacing"] = {**ver.record(), "summary": ver.summary()}
    else:
        stats.missing["spacing"] = "exactly degenerate pair: every spacing is 0"
    if v is not None:
        pred = UNIVERSAL_SLOPES["pair_mean_spacing"] * math.sqrt(v)
        stats.predicted["mean_spacing"] = pred
        stats.predicted["sqrt_pi_sigma"] = pred
        stats.predicted["s2"] = rmt.MEAN_S2["goe"]
        for name in ("mean_spacing", "sqrt_pi_sigma"):
            val = stats.values[name]
            stats.values[f"{name}/sqrt_v"] = _value(val["value"] / math.sqrt(v), val["error"] / math.sqrt(v))
            stats.predicted[f"{name}/sqrt_v"] = UNIVERSAL_SLOPES["pair_mean_spacing"]


def _cluster(rows: np.ndarray, stats: ClusterStats, v: float | None, alpha: float) -> None:
    n = stats.cluster.n
    flat = rows.reshape(-1, n)
    centre = float(np.mean(flat))
    stats.values["second_moment"] = _value(
        *jackknife_over_replicas(rows, lambda r: np.mean((r - np.mean(r)) ** 2))
    )
    ratio = stats.attempt(
        "mean_rtilde", lambda: rmt.mean_spacing_ratio(flat, n_blocks=max(2, min(rows.shape[0], 20)))
    )
    if ratio is not None:
        stats.values["mean_rtilde"] = _value(ratio.value, ratio.error)
    ref = rmt.reference_mean_ratio("goe", n)
    stats.predicted["mean_rtilde"] = ref.value
    ver = stats.attempt("ratio", lambda: rmt.ratio_verdict(flat, alpha=alpha))
    if ver is not None:
        stats.tests["ratio"] = {**ver.record(), "summary": ver.summary()}
    # errors are jackknife over replicas: with one replica there is none to give
    fit = rmt.fit_semicircle(
        flat.reshape(-1) - centre,
        errors="jackknife" if rows.shape[0] >= 2 else "none",
        n_blocks=max(2, min(rows.shape[0], 20)),
    )
    stats.fits["semicircle"] = fit.record()
    stats.values["radius"] = _value(fit["radius"], fit.error("radius"))
    if v is not None:
        m2 = stats.values["second_moment"]
        stats.predicted["second_moment"] = (n + 1) * v
        stats.predicted["radius"] = 2.0 * math.sqrt(n * v)
        rms = math.sqrt(m2["value"])
        stats.values["rms/sqrt_v"] = _value(rms / math.sqrt(v), 0.5 * m2["error"] / rms / math.sqrt(v))
        stats.predicted["rms/sqrt_v"] = cluster_rms_slope(n)
