"""Item 9 of physics.md §6: the non-universal O(α/|B|) shifts of the mean levels.

Lattice modes (experiment `lattice`): λ_fit/κ − 1 is linear in α/|B| with the §2.6 slopes;
fully degenerate clusters (`cluster8`, `cluster65`): δx = −½(n+1)·(α/|B|)·(1 + 2x*/κ). The
coefficient is the intercept of (shift/T) = a + b·T (a straight line, Birge-scaled errors), or,
with a single α/|B|, the proportional fit shift = a·T (unscaled errors, as analysis.scaling).
"""

from __future__ import annotations

import math

import numpy as np

from ...analysis.scaling import proportional_fit
from ...analysis.weighted import weighted_fit
from ..data import ExperimentData, Experiments, PointRef, centre_of, kappa_label, kappa_of
from ..rows import Part, Row, Rows, fresh, not_run

ROWS = (
    Row(
        "9a",
        9,
        "Relative shifts λ_fit/κ − 1 linear in α/|B| with the §2.6 slopes "
        "(−6.0 κ=4, +2.3…2.9 pairs, +3.0 κ=8)",
        "lattice",
        "within errors, at α/|B| → 0 (the spec gives no tolerance)",
    ),
    Row(
        "9b",
        9,
        "Fully degenerate cluster: δx = −½(n+1)·(α/|B|)·(1 + 2x*/κ)",
        "cluster8, cluster65",
        "within errors ([sim]: agreement to 2 %)",
    ),
)
#: 9a uses the points with α/|B| up to this (where the shift is linear)
T_MAX = 0.00625


def shift_slope(label: str, temps: list[float], ys: list[float], es: list[float], pred: float) -> Part | None:
    """The O(α/|B|) coefficient: intercept of (shift/T) = a + b·T, or a proportional fit at one T."""
    ts_, ya, ea = np.array(temps), np.array(ys), np.array(es)
    if len(set(np.round(ts_, 12))) >= 2:
        fit = weighted_fit(ts_, ya / ts_, ea / ts_)
        if fit is not None:
            return Part(label, fit.intercept, fit.intercept_error, pred, note=f"O(T²): {fit.slope:.3g}·T²")
    pfit = proportional_fit("shift", temps, ys, es, None)
    return Part(label, pfit.slope, pfit.slope_error, pred, note="one α/|B|") if pfit else None


def lattice_shift_parts(exp: ExperimentData, t_max: float = T_MAX) -> tuple[list[Part], list[PointRef]]:
    """Per mode: the O(α/|B|) coefficient of λ/κ − 1 over the points with α/|B| ≤ t_max."""
    pts = [p for p in exp.points if t_max + 1e-12 >= p.T]
    parts = []
    for st0 in pts[0].stats if pts else []:
        temps, ys, es, preds = [], [], [], []
        for p in pts:
            st = p.matching(st0)
            kap = kappa_of(p, st)
            c, ce = p.value(st, "centre")
            temps.append(p.T)
            ys.append(-(c - centre_of(st)) / kap)  # λ/κ − 1 with λ = μ² − x (σ_h = 1)
            es.append(ce / kap)
            preds.append(-st.predicted["shift"] / kap / p.T)
        part = shift_slope(kappa_label(pts[0], st0), temps, ys, es, float(np.mean(preds)))
        if part is not None:
            parts.append(part)
    return parts, pts


def cluster_shift_part(name: str, exp: ExperimentData) -> Part | None:
    """The O(α/|B|) coefficient of δx/x* of a fully degenerate cluster."""
    temps, ys, es, pred = [], [], [], math.nan
    for p in exp.points:
        for st in p.clusters():
            x = centre_of(st)
            c, ce = p.value(st, "centre")
            temps.append(p.T)
            ys.append((c - x) / x)
            es.append(ce / x)
            pred = st.predicted["shift"] / p.T / x
    return shift_slope(f"{name}: δx/x* per α/|B|", temps, ys, es, pred) if temps else None


def check(ex: Experiments) -> Rows:
    rows = fresh(*ROWS)
    lat = ex.get("lattice")
    if lat is None:
        not_run(rows["9a"], "lattice")
    else:
        parts, pts = lattice_shift_parts(lat)
        rows["9a"].parts += parts
        rows["9a"].note = (
            f"(λ/κ − 1)/(α/|B|) over the {len(pts)} points with α/|B| ≤ 0.00625, fitted with a straight line "
            "in α/|B|: its intercept is the O(α/|B|) coefficient of §2.6. κ = 4 moves ≈ 25 % faster: "
            "the persistent chains (k = 3) lag along the κ = 4 mode, the slowest to mix ((5/9)³ per "
            'update); with independent exact samples (sampler = "exact") or k = 10 it is within 7 % '
            "(docs/physics-notes.md, 'Reproduction')."
        )
    done = False
    for name, exp in (("n=8", ex.get("cluster8")), ("n=65", ex.get("cluster65"))):
        if exp is not None and (part := cluster_shift_part(name, exp)) is not None:
            rows["9b"].parts.append(part)
            done = True
    if not done:
        not_run(rows["9b"], "cluster8", "cluster65")
    rows["9b"].note = (
        "(⟨x⟩ − x*)/x*/(α/|B|) over the cluster's points, extrapolated linearly to α/|B| → 0 (the O(α/|B|) "
        "coefficient). The clusters shift 5–7 % "
        "less than predicted: the persistent chains' lag (k = 3 Gibbs sweeps, correlation (4/9)³ per "
        "update); with independent exact samples or k = 10 the n = 8 coefficient agrees "
        "(docs/physics-notes.md, 'Reproduction')."
    )
    return rows
