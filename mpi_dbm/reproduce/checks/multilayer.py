"""Item 15: the SGD phase diagram of the multilayer tanh network (experiment `multilayer`,
arXiv:2509.01349, physics.md §3.4; the phases of `mpi_dbm.analysis.phases`).

Only the paper's abstract and introduction were readable; what it predicts is taken from the
authors' code release as `analysis/phases.py` documents it:

- 15a (verdict) the disorder boundary ε_c = 1/√2: the tanh soft spin φ = tanh z turns bimodal at
  σ_z² = 1/2, so at low temperature a student started below ε_c learns (ordered) and one started
  above it stays frozen in the saturated tanh (jammed). Per temperature row below the release's
  T* ≈ 0.87 the measured split (geometric mean of the widest ordered and the narrowest jammed ε,
  when they are ordered in ε) must fall in the grid cell of ε_c, [1/2, 1]: the grid's resolution.
- 15b (verdict) noise domination at high temperature: the Langevin criterion (drift spread ≥
  T·Ṽ_rep/(4σ_W²)) is violated for large enough T at any ε, so every ε column has a temperature
  boundary: calm (ordered/jammed) below, noisy/diverged above, inside the grid. Per ε: the measured
  T_c(ε) must lie in the grid's range; no noisy point fails high, no calm point fails low.
- 15c (info) where the boundary lies: the measured T_c(ε) beside the release's T* ≈ 0.87 (where its
  ε_c line ends in the notebook's figure; no formula), the agreement of every point with the
  release's diagram, and the phase-diagram figure (reproduce/figures.py, report_phases.py).
- 15d (info) level spacings of the learned spectra: ⟨r̃⟩ of the last K = 16 singular values per
  phase against GOE (0.531) and Poisson (0.386); the paper's values are not known here.

Limits (quick size): 8 replicas and 5·10⁴ updates (the paper: 10 replicas, 10⁸), so the phases are
those of the early dynamics: slow learning (small α, ε just below ε_c) can still look frozen.
"""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np

from ...analysis.phase_diagram import PhaseDiagram
from ...analysis.phases import EPS_C, T_STAR_RELEASE, PhasePoint, paper_phase
from ..data import Experiments
from ..rows import INFO, Part, Row, Rows, fresh, not_run

CALM, HOT = ("ordered", "jammed"), ("noisy", "diverged")
#: the grid cell of ε_c on the paper's power-of-two grid
EPS_BAND = (0.5, 1.0)


ROWS: tuple[Row, ...] = (
    Row(
        "15a",
        15,
        "Multilayer net: at low T the ordered/jammed boundary is ε_c = 1/√2 "
        "(tanh soft spin bimodal at σ² = 1/2)",
        "multilayer",
        "the split falls in the grid cell of ε_c, [1/2, 1]",
    ),
    Row(
        "15b",
        15,
        "Multilayer net: noise dominates at high T = α/|B| for every ε (Langevin drift vs T·Coulomb)",
        "multilayer",
        "a calm-to-noisy boundary T_c(ε) inside the grid",
    ),
    Row(
        "15c",
        15,
        "Multilayer net: where the temperature boundary lies (release's figure: T* ≈ 0.87); phase diagram",
        "multilayer",
        "info (the release draws T*, derives no value)",
    ),
    Row(
        "15d",
        15,
        "Multilayer net: ⟨r̃⟩ of the learned singular values per phase (GOE 0.531, Poisson 0.386)",
        "multilayer",
        "info (no prediction known)",
    ),
)

LIMITS = (
    " Quick size: 8 replicas × 5·10⁴ updates per point (the paper: 10 × 10⁸), so these are the phases "
    "of the early dynamics; slow learning (small α, ε just below ε_c) can still look frozen."
)


def diagram_of(ex: Experiments) -> PhaseDiagram | None:
    """The multilayer experiment's phase diagram (its runs' points pooled), None if not run."""
    exp = ex.get("multilayer")
    if exp is None:
        return None
    pooled = PhaseDiagram([])
    for rd in exp.runs:
        if rd.analysis.phases is not None:
            pooled.points += rd.analysis.phases.points
            pooled.skipped.update(rd.analysis.phases.skipped)
    return pooled if pooled.points else None


def check(ex: Experiments) -> Rows:
    rows = fresh(*ROWS)
    d = diagram_of(ex)
    if d is None:
        for row in rows.values():
            not_run(row, "multilayer")
        return rows
    pts = d.phase_points
    disorder_boundary(rows["15a"], pts)
    temperature_boundary(rows["15b"], pts)
    where_boundary(rows["15c"], d)
    spacings_by_phase(rows["15d"], pts)
    return rows


def _columns(pts: list[PhasePoint], key: str) -> dict[float, list[PhasePoint]]:
    out: dict[float, list[PhasePoint]] = defaultdict(list)
    for p in pts:
        out[getattr(p.observables, key)].append(p)
    return dict(sorted(out.items()))


def disorder_boundary(row: Row, pts: list[PhasePoint]) -> None:
    """15a: per temperature below T*, the ε where calm points turn from ordered to jammed."""
    for t, col in _columns(pts, "temperature").items():
        if t >= T_STAR_RELEASE:
            continue
        calm = [p for p in col if p.phase in CALM]
        if not any(p.observables.init_width < EPS_C for p in calm) or not any(
            p.observables.init_width > EPS_C for p in calm
        ):
            continue  # no calm point on one side of ε_c: this row cannot place the split
        ordered = [p.observables.init_width for p in calm if p.phase == "ordered"]
        jammed = [p.observables.init_width for p in calm if p.phase == "jammed"]
        if not jammed:  # the split lies beyond the widest ordered ε
            value, note = max(ordered) * math.sqrt(2), "every calm point ordered"
        elif not ordered:  # ... below the narrowest jammed ε
            value, note = min(jammed) / math.sqrt(2), "every calm point jammed"
        elif max(ordered) < min(jammed):
            value, note = math.sqrt(max(ordered) * min(jammed)), ""
        else:
            value, note = math.nan, f"ordered up to ε = {max(ordered):g}, jammed from ε = {min(jammed):g}"
        row.parts.append(Part(f"T = {t:g}", value, 0.0, EPS_C, lo=EPS_BAND[0], hi=EPS_BAND[1], note=note))
    row.note = (
        "Per temperature row below the release's T* ≈ 0.87 with calm (ordered/jammed) points on both "
        "sides of ε_c: the split between the widest ε classified ordered and the narrowest classified jammed "
        "(geometric mean; inconclusive if they interleave). On the "
        "paper's power-of-two grid the band [1/2, 1] is one grid cell: the split must fall in ε_c's cell. "
        "A row close to the measured T_c of the small-ε columns can put the split one cell higher: the "
        "minibatch noise already moves a spectrum started at ε = 1 (the onset of noise-driven growth, below "
        "the classifier's noisy threshold), which the classifier reads as ordered (docs/reproduction.md)."
        + LIMITS
    )


def temperature_boundary(row: Row, pts: list[PhasePoint]) -> None:
    """15b: per ε, a calm-to-noisy boundary inside the grid's temperature range."""
    temps = sorted({p.observables.temperature for p in pts})
    lo, hi = temps[0], temps[-1]
    for eps, col in _columns(pts, "init_width").items():
        calm = [p.observables.temperature for p in col if p.phase in CALM]
        hot = [p.observables.temperature for p in col if p.phase in HOT]
        if not hot:
            value, note = 2 * hi, "no noisy point up to the highest T"
        elif not calm:
            value, note = lo / 2, "noisy already at the lowest T"
        elif max(calm) < min(hot):
            value, note = math.sqrt(max(calm) * min(hot)), ""
        else:
            value, note = math.nan, f"calm up to T = {max(calm):g}, noisy from T = {min(hot):g}"
        row.parts.append(Part(f"ε = {eps:g}: T_c", value, 0.0, math.sqrt(lo * hi), lo=lo, hi=hi, note=note))
    row.note = (
        "Per ε column: T_c(ε) = geometric mean of the highest calm (ordered/jammed) and the lowest noisy or "
        "diverged T; it must exist inside the grid (fail when a column has no noisy or no calm point, "
        "inconclusive when they interleave)." + LIMITS
    )


def where_boundary(row: Row, d: PhaseDiagram) -> None:
    """15c: measured T_c(ε) beside the release's T*, and the agreement with the release's diagram."""
    for eps, t in sorted(d.boundary().items()):
        row.parts.append(Part(f"ε = {eps:g}: T_c / T*", t / T_STAR_RELEASE, expected=1.0, kind=INFO))
    agree, n = d.agreement()
    row.parts.append(
        Part("points as the release's diagram", agree / n if n else math.nan, expected=1.0, kind=INFO)
    )
    wrong = [
        f"(ε={p.observables.init_width:g}, T={p.observables.temperature:g}) {p.phase}"
        for p in d.phase_points
        if p.phase != paper_phase(p.observables.temperature, p.observables.init_width)
    ]
    row.note = (
        f"{agree}/{n} points in the phase the release's diagram gives (ε_c = 1/√2 up to T* ≈ 0.87, noisy "
        "above; T* is where the notebook's ε_c line ends, not a derived value). Differing: "
        + (", ".join(wrong[:12]) + (f" and {len(wrong) - 12} more" if len(wrong) > 12 else "") or "none")
        + ". Figure: repro_phases.png."
        + LIMITS
    )


def spacings_by_phase(row: Row, pts: list[PhasePoint]) -> None:
    """15d: ⟨r̃⟩ of the last spectra, weighted mean over the points of each phase."""
    for phase in ("ordered", "jammed", "noisy"):
        sp = [p.spacing for p in pts if p.phase == phase and p.spacing is not None and p.spacing.error > 0]
        if not sp:
            continue
        w = np.array([1 / s.error**2 for s in sp])
        mean = float(np.sum(w * [s.mean for s in sp]) / w.sum())
        row.parts.append(
            Part(f"{phase} ({len(sp)} points)", mean, float(1 / math.sqrt(w.sum())), 0.5307, kind=INFO)
        )
    row.note = (
        "Spacing ratios r̃ of each replica's last K = 16 singular values (no unfolding), mean ± SEM over "
        "replicas per point, inverse-variance weighted over the points of a phase. GOE-like repulsion "
        "(β = 1) is what the Dyson picture of real weights suggests; the paper's own statistics are "
        "not known here."
    )
