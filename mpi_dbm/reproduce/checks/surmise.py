"""Items 4 and 12 of physics.md §6: the spacing law of the degenerate pairs is the β = 1 Wigner
surmise P₁(s) = (π/2)s·exp(−πs²/4) (Wigner 1957; Mehta, *Random Matrices*, §1.5), experiments
`lattice` and `ts` (and the n = 8 cluster's r̃ for item 12).

Item 4: ⟨s²⟩ = 4/π, the s-histogram consistent with P₁ (KS and χ²), small-s exponent β ≈ 1.
Item 12: the β = 2, 4 laws (GUE, GSE) and Poisson rejected. Both are decided on the same pooled
sample: normalised spacings s = S/⟨S⟩, one per replica, pair and point (independent).
"""

from __future__ import annotations

import math

import numpy as np

from ... import rmt
from ...analysis.weighted import weighted_mean
from ..data import ExperimentData, Experiments, PointRef, kappa_label, pair_spacings_last
from ..rows import ALPHA, Part, Row, Rows, all_not_run, fresh

GOE_S2 = 4.0 / math.pi
TOL_S2 = 0.02 * GOE_S2

ROWS = (
    Row(
        "4a",
        4,
        "⟨s²⟩ = 4/π = 1.273 for every pair (GRBM) and the teacher–student pair",
        "lattice, ts",
        "±2 % [nb/sim]",
    ),
    Row(
        "4b",
        4,
        "Distance of the s-histogram to the GOE surmise P₁(s) not significant",
        "lattice, ts",
        f"min(p_KS, p_χ²) ≥ α/2 = {ALPHA / 2:g} (Bonferroni over the two tests)",
    ),
    Row(
        "4c", 4, "Small-s exponent β ≈ 1, not 2 or 4", "lattice, ts", "within 3σ of 1, σ < 1/6 (rules out 2)"
    ),
    Row(
        "12",
        12,
        "β = 1 only: GUE, GSE (and Poisson) spacing laws rejected",
        "lattice, ts, cluster8",
        f"p < α/2 = {ALPHA / 2:g}",
    ),
)


def spacing_verdict(points: list[PointRef]) -> tuple[rmt.Verdict | None, int]:
    """Verdict on the pooled normalised pair spacings (one per replica, pair and point); None
    below 20 spacings."""
    s = [pair_spacings_last(p, st) for p in points for st in p.of_kind(2)]
    s = [x for x in s if x.size >= 2]
    if not s:
        return None, 0
    pooled = np.concatenate(s)
    if pooled.size < 20:
        return None, int(pooled.size)
    return rmt.verdict(pooled, quantity="s", n=2, alpha=ALPHA), int(pooled.size)


def _p(ver: rmt.Verdict, ensemble: str) -> float:
    return float(ver.results[ensemble].pvalue)


def check(ex: Experiments) -> Rows:
    rows = fresh(*ROWS)
    lat, ts, c8 = ex.get("lattice"), ex.get("ts"), ex.get("cluster8")
    if lat is None and ts is None:
        return all_not_run(rows, "lattice", "ts")
    _second_moment(rows["4a"], lat, ts)
    for name, exp in (("GRBM", lat), ("teacher–student", ts)):
        if exp is not None:
            _spacing_law(rows, name, exp)
    if c8 is not None:
        _cluster_ratio(rows["12"], c8)
    rows["4b"].note = rows["4c"].note = rows["12"].note = (
        "Pooled normalised spacings s = S/⟨S⟩ (normalised per pair and point), one per replica (last "
        "measurement of the window), so the sample is independent. 'consistent' parts count only when "
        "the same sample rejects the GUE (enough power to tell β = 1 from 2)."
    )
    return rows


def _second_moment(row: Row, lat: ExperimentData | None, ts: ExperimentData | None) -> None:
    """4a: weighted mean of ⟨S²⟩/⟨S⟩² per GRBM pair over all points, and over the teacher–student points."""
    lo, hi = GOE_S2 - TOL_S2, GOE_S2 + TOL_S2
    if lat is not None:
        p0 = lat.points[0]
        for st0 in p0.of_kind(2):
            vals = [p.value(p.matching(st0), "s2") for p in lat.points]
            m, e = weighted_mean([v for v, _ in vals], [e for _, e in vals])
            row.parts.append(
                Part(f"GRBM {kappa_label(p0, st0)}", m, e, GOE_S2, lo=lo, hi=hi, resolution=TOL_S2)
            )
    if ts is not None:
        vals = [p.value(st, "s2") for p in ts.points for st in p.of_kind(2)]
        m, e = weighted_mean([v for v, _ in vals], [e for _, e in vals])
        row.parts.append(Part("teacher–student", m, e, GOE_S2, lo=lo, hi=hi, resolution=TOL_S2))
    row.note = "Weighted mean over all points of ⟨S²⟩/⟨S⟩² (window statistics, jackknife errors)."


def _spacing_law(rows: Rows, name: str, exp: ExperimentData) -> None:
    """4b, 4c, 12: KS/χ² against P₁, the β estimate and the rejection of GUE, GSE, Poisson."""
    ver, n = spacing_verdict(exp.points)
    if ver is None:
        return
    powered = _p(ver, "gue") < ALPHA / 2
    label = f"{name} ({n} spacings)"
    rows["4b"].parts.append(
        Part(label, _p(ver, "goe"), expected=ALPHA / 2, kind="consistent", powered=powered)
    )
    rows["4c"].parts.append(Part(label, ver.beta.value, ver.beta.error, 1.0, resolution=1 / 6))
    for ens in ("gue", "gse", "poisson"):
        rows["12"].parts.append(
            Part(f"{name}: {ens.upper()}", _p(ver, ens), expected=ALPHA / 2, kind="reject", powered=n >= 500)
        )


def _cluster_ratio(row: Row, c8: ExperimentData) -> None:
    """12: the n = 8 cluster's r̃ distribution rejects GUE and Poisson (min of the KS and χ² p)."""
    for p in c8.points:
        for st in p.clusters():
            t = st.tests.get("ratio")
            if t:
                for ens in ("gue", "poisson"):
                    pv = min(t[f"{ens}_ks_p"], t[f"{ens}_chi2_p"])
                    row.parts.append(
                        Part(f"n=8 cluster r̃ {p.label}: {ens.upper()}", pv, expected=ALPHA / 2, kind="reject")
                    )
