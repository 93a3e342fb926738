"""Item 10 of physics.md §6: relaxation rates of the GRBM levels (experiment `long`).

The autocorrelation of δx_k decays as exp(−2Ω_k·αn) with 2Ω_k = `theory.grbm_relaxation_rate`
(0.625 for κ = 4 … 0.031 for κ = 8; the IR modes relax fastest). The discrete map relaxes at
−ln(1 − αγ)/α per unit t instead of γ (exact for the linearised update), so the measured rate is
divided by −ln(1 − αγ)/(αγ) and extrapolated linearly (Birge-scaled errors) to α/|B| → 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ... import theory
from ...analysis.relaxation import relaxation_rate
from ...analysis.weighted import weighted_fit
from ..data import Experiments, PointRef, kappa_label, kappa_of
from ..rows import Part, Row, fresh, not_run

ROWS = (
    Row(
        "10",
        10,
        "Autocorrelation of δx_k decays as exp(−2Ω_k·αn): 2Ω = 0.625 (κ = 4) … 0.031 (κ = 8); IR fastest",
        "long",
        "within errors, at α/|B| → 0, after dividing out the discrete map's −ln(1 − αγ)/(αγ)",
    ),
)

#: one level at one point: (α/|B|, rate / discrete factor, its error, predicted rate, label)
_Rate = tuple[float, float, float, float, str]


def check(ex: Experiments) -> tuple[dict[str, Row], list[dict[str, Any]]]:
    """The row and, per level and point, the measured rate's record (for the relaxation figure)."""
    rows = fresh(*ROWS)
    row = rows["10"]
    long = ex.get("long")
    if long is None:
        not_run(row, "long")
        return rows, []
    detail: list[dict[str, Any]] = []
    per_cluster: dict[tuple[int, int], list[_Rate]] = {}
    for p in long.points:
        for key, rate, record in _rates(p):
            per_cluster.setdefault(key, []).append(rate)
            detail.append(record)
    for vals in per_cluster.values():
        g, label = vals[0][3], vals[0][4]
        if len(vals) == 1:
            row.parts.append(Part(f"{label} at α/|B| = {vals[0][0]:g}", vals[0][1], vals[0][2], g))
            continue
        fit = weighted_fit([v[0] for v in vals], [v[1] for v in vals], [v[2] for v in vals])
        if fit is not None:
            row.parts.append(
                Part(
                    f"{label}", fit.intercept, fit.intercept_error, g, note=f"slope {fit.slope:.3g} per α/|B|"
                )
            )
    row.note = (
        f"Long stationary runs at {', '.join(p.label for p in long.points)} from the fixed point; "
        "per replica "
        "the level (pair: its centre), autocorrelation about the ensemble mean, slope of −log C(k) over the "
        "lags where the predicted C ≥ 0.3, jackknife over replicas; divided by the discrete-time factor "
        "and extrapolated linearly to α/|B| → 0. The κ = 4 level and the κ = 4.382 pair, 0.38 apart, "
        "relax faster at finite α/|B| (second-order couplings, ≈ +60·α/|B| relative)."
    )
    return rows, detail


def _rates(p: PointRef) -> list[tuple[tuple[int, int], _Rate, dict[str, Any]]]:
    """Every level's (cluster's centre) relaxation rate at one point over the recipe's series window."""
    ds = p.run.analysis.dataset
    lo, hi = p.run.run.series or (int(ds.steps[0]), int(ds.steps[-1]))
    sel = np.flatnonzero((ds.steps >= lo) & (ds.steps <= hi))
    dt = float(ds.steps[sel[1]] - ds.steps[sel[0]]) * p.alpha
    out = []
    for st in p.stats:
        traj = p.point.trajectories[p.spectrum][:, sel, st.cluster.start : st.cluster.stop].mean(axis=-1)
        g = float(theory.grbm_relaxation_rate(np.array([kappa_of(p, st)]), p.model.mu, p.model.sigma_h)[0])
        lags = max(1, int(-math.log(0.3) / (g * dt)))  # the lags where the predicted C ≥ 0.3
        res = relaxation_rate(traj, dt, kappa_label(p, st), lags=lags)
        factor = -math.log(1.0 - p.alpha * g) / (p.alpha * g)  # exact for the linearised map
        rate = (p.T, res.rate / factor, res.error / factor, g, res.label)
        record = {**res.record(), "predicted": g, "discrete_factor": factor, "point": p.label}
        out.append(((st.cluster.start, st.cluster.stop), rate, record))
    return out
