"""Item 14 of physics.md §6: the Dyson Brownian motion of the GRBM levels, measured (experiment
`long`).

The eigenvalues x_k of X = WᵀW under SGD follow a Dyson-type SDE (`rmt.dyson.grbm_model`): a
gradient drift towards the fixed point, the pairwise repulsion σ_h⁴ Σ_{l≠k}(x_k + x_l)² c_k c_l /
(x_k − x_l) with coefficient a = α/|B|, and diffusion D2_k = c · 8σ_h⁴ x_k² c_k² with c = α/|B|
(c_k = 1/(μ² − σ_h² x_k)); the Dyson index β = a/c is 1. `rmt.fit_grbm_dyson` estimates a, c, β
and the gradient coefficient from the recorded trajectories (Kramers–Moyal moments of the
increments at one and two measurement intervals, extrapolated to Δt → 0, errors by a jackknife
over replicas), fitting only the levels that relax slowly enough for the interval
(γ_k·Δt ≤ 0.12). Compared: a/T and β at each point, c/T extrapolated to α/|B| → 0 (its O(α/|B|)
slope is a finite-temperature effect), each within errors of 1.
"""

from __future__ import annotations

import numpy as np

from ...analysis.weighted import weighted_fit
from ...rmt.dyson import SdeFit, fit_grbm_dyson
from ..data import Experiments, PointRef
from ..rows import Part, Row, fresh, not_run

ROWS = (
    Row(
        "14",
        14,
        "Dyson Brownian motion measured: repulsion a = α/|B|, diffusion c = α/|B| and Dyson index "
        "β = a/c = 1 of the slow GRBM levels",
        "long",
        "within errors; the diffusion at α/|B| → 0",
    ),
)


def check(ex: Experiments) -> dict[str, Row]:
    rows = fresh(*ROWS)
    row = rows["14"]
    long = ex.get("long")
    if long is None:
        not_run(row, "long")
        return rows
    diffusion: list[tuple[float, float, float]] = []  # (α/|B|, c/T, error)
    for p in long.points:
        fit = _fit(p)
        t = p.T
        rep, beta, dif = (
            fit.coefficients["repulsion"],
            fit.coefficients["beta"],
            fit.coefficients["diffusion"],
        )
        row.parts.append(Part(f"a/T at α/|B| = {t:g}", rep.value / t, rep.error / t, 1.0))
        row.parts.append(Part(f"β at α/|B| = {t:g}", beta.value, beta.error, 1.0))
        diffusion.append((t, dif.value / t, dif.error / t))
    if len(diffusion) >= 2:
        line = weighted_fit(*zip(*diffusion, strict=True))
        if line is not None:
            row.parts.append(
                Part(
                    "c/T at α/|B| → 0",
                    line.intercept,
                    line.intercept_error,
                    1.0,
                    note=f"slope {line.slope:.3g} ± {line.slope_error:.2g} per α/|B|",
                )
            )
    elif diffusion:
        t, value, error = diffusion[0]
        row.parts.append(Part(f"c/T at α/|B| = {t:g}", value, error, 1.0))
    row.note = (
        "Kramers–Moyal fit of the GRBM Dyson SDE (rmt.dyson.fit_grbm_dyson) to the recorded X spectra "
        "over the recipe's series window: levels with γ_k·Δt ≤ 0.12, one free drift constant per "
        "cluster, increments at 1 and 2 measurement intervals extrapolated to Δt → 0, jackknife over "
        "replicas."
    )
    return rows


def _fit(p: PointRef) -> SdeFit:
    """The SDE fit of one point over the recipe's series window."""
    ds = p.run.analysis.dataset
    lo, hi = p.run.run.series or (int(ds.steps[0]), int(ds.steps[-1]))
    sel = np.flatnonzero((ds.steps >= lo) & (ds.steps <= hi))
    dt = float(ds.steps[sel[1]] - ds.steps[sel[0]]) * p.alpha
    levels = p.point.trajectories[p.spectrum][:, sel, :]
    model = p.model
    return fit_grbm_dyson(
        levels, dt, kappa=model.kappa(), mu=model.mu, sigma_h=model.sigma_h, temperature=p.T
    )
