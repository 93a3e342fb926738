"""Item 7 of physics.md §6: fully degenerate GRBM clusters (K_φ = κ𝟙) are n×n GOE blocks of
variance v = αx*/|B| (experiments `cluster8`, `cluster65`).

For an n×n GOE of off-diagonal variance v, ⟨(x − ⟨x⟩)²⟩ = (n + 1)·v (Mehta, *Random Matrices*,
§3); the spacing ratio ⟨r̃⟩ takes its finite-n GOE value (Atas et al., PRL 110, 084101 (2013),
sampled at matched size by `rmt.reference_mean_ratio`); at large n the density is the semicircle
of radius R = 2√(n v), and R² is linear in α/|B| with zero intercept and slope 4n·x*.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ... import rmt
from ...analysis.observables import ClusterStats
from ...analysis.weighted import weighted_fit
from ...rmt.calibration import semicircle_fit_factor
from ..data import Experiments, PointRef, centre_of
from ..rows import Part, Row, Rows, all_not_run, fresh, not_run

ROWS = (
    Row(
        "7a",
        7,
        "Degenerate GRBM cluster (K_φ = κ𝟙): ⟨(x − ⟨x⟩)²⟩ = (n + 1)·v, v = αx*/|B|",
        "cluster8, cluster65",
        "[sim] 1.02–1.03 for n = 8: band ±0.03",
    ),
    Row(
        "7b",
        7,
        "Cluster spacing ratio ⟨r̃⟩ equals the finite-n GOE value (0.529 for n = 8)",
        "cluster8, cluster65",
        "[sim] 0.527–0.540: band ±0.01",
    ),
    Row(
        "7c",
        7,
        "Large cluster (n = 65): semicircle fit radius R = 2√(n v)",
        "cluster65",
        "within errors (finite-n fit factor from sampled GOE)",
    ),
    Row(
        "7d",
        7,
        "R² linear in α/|B| with zero intercept (slope 4n·x*)",
        "cluster8, cluster65",
        "intercept within errors; slope ±0.03 as 7a",
    ),
)
#: clusters of at least this many levels are compared through their fitted semicircle radius
SEMICIRCLE_MIN_N = 20


@dataclass
class _Radii:
    """7d's points: (α/|B|, R², error) and the predicted slope of R² in α/|B|."""

    temps: list[float] = field(default_factory=list)
    r2: list[float] = field(default_factory=list)
    r2_err: list[float] = field(default_factory=list)
    slope_pred: float = math.nan


def check(ex: Experiments) -> Rows:
    rows = fresh(*ROWS)
    exps = [
        (name, exp)
        for name, exp in (("n=8", ex.get("cluster8")), ("n=65", ex.get("cluster65")))
        if exp is not None
    ]
    if not exps:
        return all_not_run(rows, "cluster8", "cluster65")
    for name, exp in exps:
        radii = _Radii()
        for p in exp.points:
            for st in p.clusters():
                _cluster(rows, name, p, st, radii)
        _linear_in_t(rows["7d"], name, radii)
    rows["7a"].note = (
        "Second moment about the cluster's mean (the O(T) mean shift is item 9). Expected above 1 by "
        "the persistent chains' autocorrelation (+1.6 % for x*/μ² = 4/9) and the discrete-time factor "
        "1/(1 − αγ/2) (+0.6 to +1.3 %)."
    )
    rows["7b"].note = "Reference: matched-size GOE sampling (mpi_dbm.rmt.reference_mean_ratio)."
    rows["7c"].note = (
        "The minimum-distance semicircle fit of a finite n×n GOE does not return exactly 2√(nv); the "
        "expected ratio is that fit on 2000 sampled n×n GOE matrices."
    )
    if not rows["7c"].parts:
        not_run(rows["7c"], "cluster65")
    return rows


def _cluster(rows: Rows, name: str, p: PointRef, st: ClusterStats, radii: _Radii) -> None:
    """7a, 7b and (large n) 7c for one cluster at one point; its R² for 7d."""
    n = st.cluster.n
    v = st.predicted["v"]
    m2, m2e = p.value(st, "second_moment")
    rows["7a"].parts.append(
        Part(
            f"{name} {p.label}",
            m2 / ((n + 1) * v),
            m2e / ((n + 1) * v),
            1.0,
            lo=0.97,
            hi=1.03,
            resolution=0.03,
        )
    )
    ref = rmt.reference_mean_ratio("goe", n)
    rt, rte = p.value(st, "mean_rtilde")
    rows["7b"].parts.append(
        Part(
            f"{name} {p.label}",
            rt,
            rte,
            ref.value,
            ref.error,
            lo=ref.value - 0.01,
            hi=ref.value + 0.01,
            resolution=0.01,
        )
    )
    radii.temps.append(p.T)
    if n >= SEMICIRCLE_MIN_N:
        c, ce = semicircle_fit_factor(n)
        R, Re = p.value(st, "radius")
        scale = 2 * math.sqrt(n * v)
        rows["7c"].parts.append(Part(f"{name} {p.label}: R_fit/(2√(nv))", R / scale, Re / scale, c, ce))
        radii.r2.append(R * R)
        radii.r2_err.append(2 * R * Re)
        radii.slope_pred = 4 * n * centre_of(st) * c * c
    else:  # R² = 4n⟨δx²⟩/(n+1) from the second moment
        radii.r2.append(4 * n * m2 / (n + 1))
        radii.r2_err.append(4 * n * m2e / (n + 1))
        radii.slope_pred = 4 * n * centre_of(st)


def _linear_in_t(row: Row, name: str, radii: _Radii) -> None:
    """7d: straight line R² = a + b·α/|B| (Birge-scaled errors): a = 0, b = 4n·x*."""
    fit = weighted_fit(radii.temps, radii.r2, radii.r2_err)
    if fit is None:
        return
    kind = "fitted R" if name == "n=65" else "R² = 4n⟨δx²⟩/(n+1)"
    row.parts.append(
        Part(
            f"{name} intercept ({kind})",
            fit.intercept,
            fit.intercept_error,
            0.0,
            resolution=min(radii.r2) / 3,
        )
    )
    row.parts.append(
        Part(
            f"{name} slope / 4n x*",
            fit.slope / radii.slope_pred,
            fit.slope_error / radii.slope_pred,
            1.0,
            lo=0.97,
            hi=1.03,
        )
    )
