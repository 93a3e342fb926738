"""Item 5 of physics.md §6: the 2×2 GOE structure (experiments `ts`, `lattice`).

A 2×2 GOE matrix has Var(diagonal) = 2·Var(off-diagonal) (Mehta, *Random Matrices*, §2.3),
which the teacher–student student matrix shows in its recorded entries; and the spacing scale
√π·σ from the ML fit of the exact 2×2 GOE one-point density equals the mean spacing ⟨S⟩.
"""

from __future__ import annotations

import numpy as np

from ... import rmt
from ...analysis.weighted import ratio, weighted_mean
from ..data import ExperimentData, Experiments
from ..rows import Part, Row, Rows, fresh, not_run

ROWS = (
    Row(
        "5a",
        5,
        "Teacher–student: Var(diagonal) = 2·Var(off-diagonal) of the student (symmetric part)",
        "ts",
        "[nb] std ratio ≈ √2 in all 16 settings; here within errors",
    ),
    Row("5b", 5, "√πσ (2×2 GOE density fit) = ⟨S⟩", "lattice, ts", "within errors"),
)
ENTRIES = ("w11", "w12", "w21", "w22")


def entry_ratio(rows: np.ndarray) -> float:
    """rows (R, W, 4) = w11, w12, w21, w22 per replica and measurement: Var(diag) / Var((w12 + w21)/2)."""
    rows = rows.reshape(-1, 4)
    diag = 0.5 * (np.var(rows[:, 0], ddof=1) + np.var(rows[:, 3], ddof=1))
    off = np.var(0.5 * (rows[:, 1] + rows[:, 2]), ddof=1)
    return float(diag / off)


def check(ex: Experiments) -> Rows:
    rows = fresh(*ROWS)
    ts, lat = ex.get("ts"), ex.get("lattice")
    if ts is None:
        not_run(rows["5a"], "ts")
    else:
        _entries(rows["5a"], ts)
    for name, exp in (("GRBM pairs", lat), ("teacher–student", ts)):
        if exp is None:
            continue
        vals = [
            ratio(p.value(st, "sqrt_pi_sigma"), p.value(st, "mean_spacing"))
            for p in exp.points
            for st in p.of_kind(2)
        ]
        m, e = weighted_mean([v for v, _ in vals], [e for _, e in vals])
        rows["5b"].parts.append(Part(f"{name} ({len(vals)} values)", m, e, 1.0, resolution=0.05))
    rows["5b"].note = (
        "Weighted mean of √πσ/⟨S⟩ over every (point, pair); σ from the ML fit of the exact 2×2 GOE "
        "one-point density; the errors of σ and ⟨S⟩ are combined as if independent (conservative)."
    )
    if not rows["5b"].parts:
        not_run(rows["5b"], "lattice", "ts")
    return rows


def _entries(row: Row, ts: ExperimentData) -> None:
    """5a: the entry-variance ratio per point over the analysed window, jackknife over replicas."""
    for p in ts.points:
        sc = p.point.scalars
        if not all(k in sc for k in ENTRIES):
            continue
        sel = p.run.analysis.dataset.selected
        data = np.stack([sc[k][:, sel] for k in ENTRIES], axis=-1)  # (R, W, 4)
        data = data[np.isfinite(data).all(axis=(1, 2))]
        if len(data) < 10:
            continue
        est = rmt.jackknife(data, entry_ratio, n_blocks=min(len(data), 50))
        eps = p.model.noise_strength
        row.parts.append(
            Part(f"{p.label} ε={eps:g}", entry_ratio(data), float(est.error), 2.0, resolution=0.2)
        )
    row.note = (
        "Entries of the student W_s (recorded with record_entries = true) over the analysed window: "
        "(Var w11 + Var w22)/2 over Var((w12 + w21)/2); jackknife over replicas."
    )
    if not row.parts:
        row.missing = "the teacher–student runs did not record the entries (record_entries = true)"
