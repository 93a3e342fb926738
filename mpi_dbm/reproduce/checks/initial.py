"""Items 8 and 11 of physics.md §6: learning from a random start (experiment `init`).

Item 8: from W ~ N(0, 0.1²) the GRBM learns every mode, λ_k = μ² − x_k → κ_k, and with
N_h = 5 < N_v only the 5 smallest κ (the UV cut-off). Item 11: at step 0, WᵀW/N_big follows
Marchenko–Pastur with the init variance s² and q = N_small/N_big (Marchenko & Pastur 1967),
compared with the same fit on sampled Gaussian matrices of that shape (`rmt.calibration`).
"""

from __future__ import annotations

import numpy as np

from ... import rmt
from ...rmt.calibration import mp_fit_reference
from ..data import Experiments, RunData, kappa_label, kappa_of
from ..rows import Part, Row, Rows, all_not_run, fresh, not_run

ROWS_8 = (
    Row(
        "8a",
        8,
        "From the random start, every λ_k = μ² − x_k → κ_k (all 10 modes, N_h = 10)",
        "init",
        "±1 %: the O(α/|B|) shifts at α/|B| = 0.00125 are ≤ 0.8 % (§2.6)",
    ),
    Row("8b", 8, "N_h = 5 < N_v: only the 5 smallest κ are learned (UV cut-off)", "init", "±1 %, as 8a"),
)
ROWS_11 = (
    Row(
        "11",
        11,
        "At initialisation, WᵀW/N follows Marchenko–Pastur with the init variance s² = 0.01 "
        "and q = N_small/N_big",
        "init",
        "within errors of the same fit on sampled Gaussian matrices of the same size",
    ),
)
#: row -> the init run that measures it
_FIXED_POINT_RUNS = {"8a": "init-grbm", "8b": "init-grbm-nh5"}


def check_8(ex: Experiments) -> Rows:
    rows = fresh(*ROWS_8)
    ini = ex.get("init")
    if ini is None:
        return all_not_run(rows, "init")
    for rid, run_name in _FIXED_POINT_RUNS.items():
        row = rows[rid]
        found = [p for p in ini.points if p.run.run.name == run_name]
        if not found:
            not_run(row, run_name)
            continue
        p = found[0]
        for st in p.stats:
            c, ce = p.value(st, "centre")
            kap = kappa_of(p, st)
            row.parts.append(
                Part(
                    kappa_label(p, st),
                    (p.model.mu**2 - c) / kap,
                    ce / kap,
                    1.0,
                    lo=0.99,
                    hi=1.01,
                    resolution=0.01,
                )
            )
        steps = p.run.analysis.dataset.selected_steps
        row.note = (
            f"Mean over replicas at step {int(steps[-1])} (t = {steps[-1] * p.alpha:g}) of a run "
            "from W ~ N(0, 0.1²)."
        )
    rows["8b"].note += (
        " The recorded W Wᵀ has 5 eigenvalues; they sit at the 5 largest x* "
        "(κ = 4, 4.382, 4.382, 5.382, 5.382)."
    )
    return rows


def check_11(ex: Experiments) -> Rows:
    rows = fresh(*ROWS_11)
    ini = ex.get("init")
    if ini is None:
        return all_not_run(rows, "init")
    for rd in ini.runs:
        rows["11"].parts += _initial_parts(rd)
    rows["11"].note = (
        "Minimum-distance (Cramér–von Mises) fit of MP(s², q) to the eigenvalues at step 0 of every replica, "
        "divided by the larger dimension; jackknife errors. The expected values are the same fit on 4000 "
        "sampled Gaussian matrices of the same shape and init variance (at these sizes the fit's q is "
        "high by ≈ 1/N_big); for a square matrix (q = 1, the edge of the range) only s² is compared."
    )
    return rows


def _initial_parts(rd: RunData) -> list[Part]:
    """s² (and q for a rectangular matrix) of one run's step-0 spectrum against the calibration."""
    a, m = rd.analysis, rd.config.model
    if m.kind == "grbm":
        dims, std, name = (m.n_hidden, m.n_visible), m.init_std, "X"
    elif m.kind == "linear" and m.init_std is not None:
        dims, std = (m.n_hidden, m.n_in), m.init_std
        name = "W1tW1" if m.n_in <= m.n_hidden else "W1W1t"
    else:
        return []
    x = a.dataset.initial.get(name)
    if x is None or x.size < 20 or not np.any(a.dataset.steps == 0):
        return []
    big, small = max(dims), min(dims)
    fit = rmt.fit_marchenko_pastur(x.reshape(-1) / big)
    ref = mp_fit_reference(big, small, std**2)
    lab = f"{m.kind} {dims[0]}×{dims[1]}"
    parts = [
        Part(
            f"{lab}: s²",
            fit["scale"],
            fit.error("scale"),
            ref["scale"],
            ref.error("scale"),
            note=f"s² = {std**2:g}",
        )
    ]
    if small < big:
        parts.append(
            Part(
                f"{lab}: q",
                fit["ratio"],
                fit.error("ratio"),
                ref["ratio"],
                ref.error("ratio"),
                note=f"q = {small / big:g}",
            )
        )
    return parts
