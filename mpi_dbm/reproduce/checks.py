"""The checks of physics.md §6, computed from the analyses of the reproduction's results files.

Each `check_<item>` turns the experiments it needs into rows (`rows.Row`) with one part per
mode, pair, point or sample; an experiment that was not run gives a row without parts ("not
run"). Conventions, stated once here and in docs/reproduction.md:

- statistics of a level or cluster at one (α, |B|) point come from `mpi_dbm.analysis`
  (pooled over the stationary window of each replica, jackknife over replicas);
- distribution tests (KS/χ², β, collapse) use one measurement per replica (the last one of the
  window), so their samples are independent;
- pooled values over points are weighted means; fits are weighted least squares; both scale
  their errors by √(χ²/dof) when that exceeds 1 (the Birge ratio);
- "x at T → 0" is the intercept of a straight line in T = α/|B| through the measured points,
  after dividing out a known O(α) discretisation factor where there is one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .. import rmt, theory
from ..analysis import Analysis
from ..analysis.data import PointData
from ..analysis.observables import ClusterStats
from ..analysis.relaxation import relaxation_rate
from ..analysis.scaling import collapse_test, proportional_fit
from .manifest import Run
from .rows import ALPHA, Part, Row

SQRT_2PI = math.sqrt(2.0 * math.pi)
GOE_S2 = 4.0 / math.pi
#: the authors' grid (physics.md §4): E1 alpha scan at |B| = 16 and E2 |B| scan at alpha = 0.1
PAPER_E1 = (0.01, 0.02, 0.04, 0.06, 0.08, 0.1)
PAPER_E2 = (4, 8, 16, 32, 64)


# -- data access ------------------------------------------------------------------------------
@dataclass
class RunData:
    run: Run
    analysis: Analysis

    @property
    def config(self):
        return self.run.config


@dataclass(frozen=True)
class PointRef:
    run: RunData
    point: PointData
    spectrum: str

    @property
    def alpha(self) -> float:
        return self.point.learning_rate

    @property
    def bs(self) -> int:
        return self.point.batch_size

    @property
    def T(self) -> float:
        return self.point.temperature

    @property
    def label(self) -> str:
        return f"({self.alpha:g}, {self.bs})"

    @property
    def model(self):
        return self.run.config.model

    @property
    def stats(self) -> list[ClusterStats]:
        return self.run.analysis.stats.get((self.spectrum, self.point.index), [])

    def of_kind(self, n: int) -> list[ClusterStats]:
        return [s for s in self.stats if s.cluster.n == n]

    def clusters(self) -> list[ClusterStats]:
        return [s for s in self.stats if s.cluster.n >= 3]

    def one_per_replica(self) -> np.ndarray:
        """(replicas, size): replica r at window measurement r mod W, so the rows are independent and
        spread over the window (the teacher–student snapshots then sit at different positions of the
        shared data set, whose common bias would otherwise shift every replica alike)."""
        s = self.point.samples[self.spectrum]
        return s[np.arange(s.shape[0]), np.arange(s.shape[0]) % s.shape[1]]

    def value(self, st: ClusterStats, key: str) -> tuple[float, float]:
        d = st.values.get(key)
        return (d["value"], d["error"]) if d else (math.nan, math.nan)


@dataclass
class ExperimentData:
    name: str
    spectrum: str
    runs: list[RunData] = field(default_factory=list)

    @property
    def points(self) -> list[PointRef]:
        return [
            PointRef(r, p, self.spectrum)
            for r in self.runs
            for p in r.analysis.dataset.points
            if (self.spectrum, p.index) in r.analysis.stats
        ]

    def find(self, alpha: float, bs: int, pred: Callable[[PointRef], bool] | None = None) -> PointRef | None:
        for p in self.points:
            if math.isclose(p.alpha, alpha) and p.bs == bs and (pred is None or pred(p)):
                return p
        return None


SPECTRUM = {
    "init": "X",
    "lattice": "X",
    "long": "X",
    "cluster8": "X",
    "cluster65": "X",
    "ts": "singular_values",
    "linear_one": "W1tW1",
    "linear_two": "W1tW1",
}


# -- statistics helpers -----------------------------------------------------------------------
def weighted_mean(values, errors) -> tuple[float, float]:
    v, e = np.asarray(values, float), np.asarray(errors, float)
    ok = np.isfinite(v) & np.isfinite(e) & (e > 0)
    if not ok.any():
        return math.nan, math.nan
    v, w = v[ok], 1.0 / e[ok] ** 2
    m = float(np.sum(w * v) / np.sum(w))
    err = 1.0 / math.sqrt(float(np.sum(w)))
    if ok.sum() > 1:
        chi2 = float(np.sum(w * (v - m) ** 2)) / (ok.sum() - 1)
        err *= math.sqrt(max(chi2, 1.0))
    return m, err


@dataclass(frozen=True)
class LineFit:
    intercept: float
    intercept_error: float
    slope: float
    slope_error: float
    chi2_dof: float
    n: int


def line_fit(x, y, err) -> LineFit | None:
    """Weighted straight line y = a + b x (errors scaled by the Birge ratio when χ²/dof > 1)."""
    x, y, e = (np.asarray(v, float) for v in (x, y, err))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(e) & (e > 0)
    if ok.sum() < 2 or np.ptp(x[ok]) == 0:
        return None
    x, y, w = x[ok], y[ok], 1.0 / e[ok] ** 2
    A = np.stack([np.ones_like(x), x], axis=1)
    cov = np.linalg.inv(A.T @ (A * w[:, None]))
    a, b = cov @ (A.T @ (w * y))
    dof = len(x) - 2
    chi2 = float(np.sum(w * (y - a - b * x) ** 2)) / dof if dof > 0 else math.nan
    scale = math.sqrt(max(chi2, 1.0)) if dof > 0 else 1.0
    return LineFit(
        float(a), math.sqrt(cov[0, 0]) * scale, float(b), math.sqrt(cov[1, 1]) * scale, chi2, len(x)
    )


def ratio(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    r = a[0] / b[0]
    return r, abs(r) * math.hypot(a[1] / a[0], b[1] / b[0])


def kappa_of(p: PointRef, st: ClusterStats) -> float:
    m = p.model
    return m.mu**2 - m.sigma_h**2 * st.cluster.centre


def kappa_label(p: PointRef, st: ClusterStats) -> str:
    kind = {1: "single", 2: "pair"}.get(st.cluster.n, f"{st.cluster.n} levels")
    return f"κ={kappa_of(p, st):.4g} {kind}"


def same_cluster(a: ClusterStats, b: ClusterStats) -> bool:
    return a.cluster.start == b.cluster.start and a.cluster.stop == b.cluster.stop


def pair_spacings_last(p: PointRef, st: ClusterStats) -> np.ndarray:
    last = p.one_per_replica()[:, st.cluster.start : st.cluster.stop]
    s = last[:, 1] - last[:, 0]
    s = s[np.isfinite(s)]
    return s / s.mean() if s.size else s


def spacing_verdict(points: list[PointRef]) -> tuple[rmt.Verdict | None, int]:
    """Verdict on the pooled normalised pair spacings (one per replica, pair and point)."""
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


def not_run(row: Row, *names: str) -> Row:
    row.missing = f"experiment {' / '.join(names)} not run"
    return row


# -- item 1: linear scaling rule, GRBM --------------------------------------------------------
def check_1(ex: dict[str, ExperimentData]) -> list[Row]:
    lat = ex.get("lattice")
    tol_text = "[sim] matched to a few %: band ±3 % on ratios of widths"
    rows = [
        Row(
            "1a",
            1,
            "Linear scaling rule: pair ⟨S⟩ at (0.04, 32) and (0.08, 64) equal that at (0.02, 16) "
            "(all α/|B| = 0.00125); whole spectra indistinguishable",
            "lattice",
            tol_text + "; KS collapse at α = 0.01",
        ),
        Row(
            "1b",
            1,
            "Linear scaling rule: single-mode widths (κ = 4, 8) agree at equal α/|B|",
            "lattice",
            tol_text,
        ),
        Row(
            "1c",
            1,
            "Linear scaling rule: mean positions of all modes agree at equal α/|B|",
            "lattice",
            "within errors",
        ),
        Row(
            "1d", 1, "Doubling α alone, (0.04, 16) vs (0.02, 16): pair ⟨S⟩ scales by √2", "lattice", tol_text
        ),
        Row(
            "1e",
            1,
            "Doubling α alone, (0.04, 16) vs (0.02, 16): single-mode widths scale by √2",
            "lattice",
            tol_text,
        ),
    ]
    if lat is None:
        return [not_run(r, "lattice") for r in rows]
    ref = lat.find(0.02, 16)
    eq = [q for q in (lat.find(0.04, 32), lat.find(0.08, 64)) if q is not None]
    dbl = lat.find(0.04, 16)
    if ref is None:
        return [not_run(r, "lattice (0.02, 16)") for r in rows]
    for q in eq:
        for st_r in ref.stats:
            st_q = next(s for s in q.stats if same_cluster(s, st_r))
            lab = f"{kappa_label(ref, st_r)} {q.label}"
            if st_r.cluster.n == 2:
                r, e = ratio(q.value(st_q, "mean_spacing"), ref.value(st_r, "mean_spacing"))
                rows[0].parts.append(Part(lab, r, e, 1.0, lo=0.97, hi=1.03, resolution=0.03))
            elif st_r.cluster.n == 1:
                r, e = ratio(q.value(st_q, "std"), ref.value(st_r, "std"))
                rows[1].parts.append(Part(lab, r, e, 1.0, lo=0.97, hi=1.03, resolution=0.03))
            d = q.value(st_q, "centre")[0] - ref.value(st_r, "centre")[0]
            de = math.hypot(q.value(st_q, "centre")[1], ref.value(st_r, "centre")[1])
            rows[2].parts.append(Part(lab, d, de, 0.0))
    if eq:
        samples = [ref.one_per_replica()] + [q.one_per_replica() for q in eq]
        test = collapse_test(ref.T, list(range(1 + len(eq))), "X", samples, ALPHA)
        rows[0].parts.append(
            Part(
                "all levels, KS collapse",
                test.combined_pvalue,
                expected=ALPHA,
                kind="consistent",
                note="two-sample KS per level, Bonferroni over levels and point pairs",
            )
        )
    rows[0].note = rows[1].note = rows[2].note = (
        "Stationary ensembles (fixed-point start, t = nα in the analysed window); ratios of the "
        "jackknife means; the KS part compares every level's distribution (last snapshot per replica)."
    )
    if dbl is not None:
        for st_r in ref.stats:
            st_q = next(s for s in dbl.stats if same_cluster(s, st_r))
            key, row = ("mean_spacing", rows[3]) if st_r.cluster.n == 2 else ("std", rows[4])
            r, e = ratio(dbl.value(st_q, key), ref.value(st_r, key))
            s2 = math.sqrt(2.0)
            part = Part(kappa_label(ref, st_r), r, e, s2, lo=0.97 * s2, hi=1.03 * s2, resolution=0.03 * s2)
            row.parts.append(part)
        rows[4].note = (
            "The single modes κ = 4 and κ = 8 sit 0.38 from a degenerate pair; their eigenvalue variance "
            "has an O(α/|B|) correction of about −60·α/|B| (relative) from the repulsion of that pair "
            "(docs/physics-notes.md, 'Reproduction'), so √2 holds only as α/|B| → 0."
        )
    return rows


# -- item 2: pair spacing scale, GRBM ---------------------------------------------------------
def paper_grid(p: PointRef) -> bool:
    return (p.bs == 16 and any(math.isclose(p.alpha, a) for a in PAPER_E1)) or (
        math.isclose(p.alpha, 0.1) and p.bs in PAPER_E2
    )


def check_2(ex: dict[str, ExperimentData]) -> list[Row]:
    rows = [
        Row(
            "2a",
            2,
            "⟨S⟩/√(αx*/|B|) → √(2π) = 2.507 for every degenerate pair at small α/|B| (≤ 0.002)",
            "lattice",
            "[sim] 2.35–2.63",
        ),
        Row(
            "2b",
            2,
            "Pooled fit ⟨S⟩ = a·√(α(μ²−κ)/|B|) over the authors' grid (E1 + E2)",
            "lattice",
            "[nb] a = 2.275 ± 0.033",
        ),
        Row(
            "2c",
            2,
            "Pooled fit √πσ = a·√(α(μ²−κ)/|B|) over the authors' grid (E1 + E2)",
            "lattice",
            "[nb] a = 2.290 ± 0.030",
        ),
    ]
    lat = ex.get("lattice")
    if lat is None:
        return [not_run(r, "lattice") for r in rows]
    small = [p for p in lat.points if p.T <= 0.002 + 1e-12]
    if small:
        for st0 in small[0].of_kind(2):
            vals = [
                p.value(next(s for s in p.stats if same_cluster(s, st0)), "mean_spacing/sqrt_v")
                for p in small
            ]
            m, e = weighted_mean([v for v, _ in vals], [e for _, e in vals])
            rows[0].parts.append(
                Part(kappa_label(small[0], st0), m, e, SQRT_2PI, lo=2.35, hi=2.63, resolution=0.14)
            )
        rows[0].note = f"Weighted mean over the {len(small)} points with α/|B| ≤ 0.002: " + ", ".join(
            p.label for p in small
        )
    grid = [p for p in lat.points if paper_grid(p)]
    settings = {(round(p.alpha, 6), p.bs) for p in grid}
    if len(settings) < 8:  # a pooled slope over part of the grid is not the authors' number
        for row in rows[1:]:
            row.missing = f"needs the authors' E1 + E2 grid: only {len(settings)} of its 10 settings were run"
        return rows
    for key, row, nb in (
        ("mean_spacing", rows[1], (2.275, 0.033)),
        ("sqrt_pi_sigma", rows[2], (2.290, 0.030)),
    ):
        xs, ys, es = [], [], []
        for p in grid:
            for st in p.of_kind(2):
                xs.append(st.predicted["sqrt_v"])
                v, e = p.value(st, key)
                ys.append(v)
                es.append(e)
        fit = proportional_fit(key, xs, ys, es, None)
        if fit is not None:
            row.parts.append(Part(f"a ({fit.n_points} points)", fit.slope, fit.slope_error, nb[0], nb[1]))
            row.note = (
                f"Weighted fit y = a·x through {fit.n_points} (point, pair) values, "
                f"χ²/dof = {fit.chi2_dof:.2f}; "
                f"points {', '.join(p.label for p in grid)}. The ratio falls from ≈2.5 at small α/|B| to "
                "≈1.9 at 0.025 (O(α/|B|) effects), so a depends on the grid and its weights."
            )
    return rows


# -- item 3: single-mode variance --------------------------------------------------------------
def check_3(ex: dict[str, ExperimentData]) -> list[Row]:
    row = Row(
        "3",
        3,
        "Single modes κ = 4, 8: Var(x) = 2αx*/|B| (at α/|B| = 0.00125, the [sim] point)",
        "lattice",
        "[sim] ratios 1.01 and 0.96: band ±0.04",
    )
    lat = ex.get("lattice")
    if lat is None:
        return [not_run(row, "lattice")]
    pts = [p for p in lat.points if math.isclose(p.T, 0.00125)]
    if not pts:
        return [not_run(row, "lattice points at α/|B| = 0.00125")]
    for st0 in pts[0].of_kind(1):
        vals = []
        for p in pts:
            st = next(s for s in p.stats if same_cluster(s, st0))
            v, e = p.value(st, "variance")
            vals.append((v / st.predicted["variance"], e / st.predicted["variance"]))
        m, e = weighted_mean([v for v, _ in vals], [e for _, e in vals])
        row.parts.append(Part(kappa_label(pts[0], st0), m, e, 1.0, lo=0.96, hi=1.04, resolution=0.04))
    row.note = (
        f"Weighted mean over {', '.join(p.label for p in pts)}. The ratio has a large O(α/|B|) slope "
        "(level repulsion from the neighbouring pair) and, for κ = 4, a +6 % offset from the "
        "persistent chains' autocorrelation (docs/physics-notes.md, 'Reproduction')."
    )
    return [row]


# -- items 4 and 12: Wigner surmise, β = 1 ----------------------------------------------------
def check_4_12(ex: dict[str, ExperimentData]) -> list[Row]:
    rows = [
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
            "4c",
            4,
            "Small-s exponent β ≈ 1, not 2 or 4",
            "lattice, ts",
            "within 3σ of 1, σ < 1/6 (rules out 2)",
        ),
        Row(
            "12",
            12,
            "β = 1 only: GUE, GSE (and Poisson) spacing laws rejected",
            "lattice, ts, cluster8",
            f"p < α/2 = {ALPHA / 2:g}",
        ),
    ]
    lat, ts, c8 = ex.get("lattice"), ex.get("ts"), ex.get("cluster8")
    if lat is None and ts is None:
        return [not_run(r, "lattice", "ts") for r in rows]
    tol = 0.02 * GOE_S2
    if lat is not None:
        p0 = lat.points[0]
        for st0 in p0.of_kind(2):
            vals = [p.value(next(s for s in p.stats if same_cluster(s, st0)), "s2") for p in lat.points]
            m, e = weighted_mean([v for v, _ in vals], [e for _, e in vals])
            rows[0].parts.append(
                Part(
                    f"GRBM {kappa_label(p0, st0)}",
                    m,
                    e,
                    GOE_S2,
                    lo=GOE_S2 - tol,
                    hi=GOE_S2 + tol,
                    resolution=tol,
                )
            )
    if ts is not None:
        vals = [p.value(st, "s2") for p in ts.points for st in p.of_kind(2)]
        m, e = weighted_mean([v for v, _ in vals], [e for _, e in vals])
        rows[0].parts.append(
            Part("teacher–student", m, e, GOE_S2, lo=GOE_S2 - tol, hi=GOE_S2 + tol, resolution=tol)
        )
    rows[0].note = "Weighted mean over all points of ⟨S²⟩/⟨S⟩² (window statistics, jackknife errors)."
    for name, exp in (("GRBM", lat), ("teacher–student", ts)):
        if exp is None:
            continue
        ver, n = spacing_verdict(exp.points)
        if ver is None:
            continue
        powered = _p(ver, "gue") < ALPHA / 2
        rows[1].parts.append(
            Part(
                f"{name} ({n} spacings)",
                _p(ver, "goe"),
                expected=ALPHA / 2,
                kind="consistent",
                powered=powered,
            )
        )
        rows[2].parts.append(
            Part(f"{name} ({n} spacings)", ver.beta.value, ver.beta.error, 1.0, resolution=1 / 6)
        )
        for ens in ("gue", "gse", "poisson"):
            rows[3].parts.append(
                Part(
                    f"{name}: {ens.upper()}",
                    _p(ver, ens),
                    expected=ALPHA / 2,
                    kind="reject",
                    powered=n >= 500,
                )
            )
    if c8 is not None:
        for p in c8.points:
            for st in p.clusters():
                t = st.tests.get("ratio")
                if t:
                    for ens in ("gue", "poisson"):
                        pv = min(t[f"{ens}_ks_p"], t[f"{ens}_chi2_p"])
                        rows[3].parts.append(
                            Part(
                                f"n=8 cluster r̃ {p.label}: {ens.upper()}",
                                pv,
                                expected=ALPHA / 2,
                                kind="reject",
                            )
                        )
    rows[1].note = rows[2].note = rows[3].note = (
        "Pooled normalised spacings s = S/⟨S⟩ (normalised per pair and point), one per replica (last "
        "measurement of the window), so the sample is independent. 'consistent' parts count only when "
        "the same sample rejects the GUE (enough power to tell β = 1 from 2)."
    )
    return rows


# -- item 5: 2×2 GOE structure ----------------------------------------------------------------
def _entry_ratio(rows: np.ndarray) -> float:
    """rows (R, W, 4) = w11, w12, w21, w22 per replica and measurement: Var(diag) / Var((w12 + w21)/2)."""
    rows = rows.reshape(-1, 4)
    diag = 0.5 * (np.var(rows[:, 0], ddof=1) + np.var(rows[:, 3], ddof=1))
    off = np.var(0.5 * (rows[:, 1] + rows[:, 2]), ddof=1)
    return float(diag / off)


def check_5(ex: dict[str, ExperimentData]) -> list[Row]:
    rows = [
        Row(
            "5a",
            5,
            "Teacher–student: Var(diagonal) = 2·Var(off-diagonal) of the student (symmetric part)",
            "ts",
            "[nb] std ratio ≈ √2 in all 16 settings; here within errors",
        ),
        Row("5b", 5, "√πσ (2×2 GOE density fit) = ⟨S⟩", "lattice, ts", "within errors"),
    ]
    ts, lat = ex.get("ts"), ex.get("lattice")
    if ts is None:
        not_run(rows[0], "ts")
    else:
        for p in ts.points:
            sc = p.point.scalars
            if not all(k in sc for k in ("w11", "w12", "w21", "w22")):
                continue
            sel = p.run.analysis.dataset.selected
            data = np.stack([sc[k][:, sel] for k in ("w11", "w12", "w21", "w22")], axis=-1)  # (R, W, 4)
            data = data[np.isfinite(data).all(axis=(1, 2))]
            if len(data) < 10:
                continue
            est = rmt.jackknife(data, _entry_ratio, n_blocks=min(len(data), 50))
            eps = p.model.noise_strength
            rows[0].parts.append(
                Part(f"{p.label} ε={eps:g}", _entry_ratio(data), float(est.error), 2.0, resolution=0.2)
            )
        rows[0].note = (
            "Entries of the student W_s (recorded with record_entries = true) over the analysed window: "
            "(Var w11 + Var w22)/2 over Var((w12 + w21)/2); jackknife over replicas."
        )
        if not rows[0].parts:
            rows[0].missing = "the teacher–student runs did not record the entries (record_entries = true)"
    for name, exp in (("GRBM pairs", lat), ("teacher–student", ts)):
        if exp is None:
            continue
        vals = [
            ratio(p.value(st, "sqrt_pi_sigma"), p.value(st, "mean_spacing"))
            for p in exp.points
            for st in p.of_kind(2)
        ]
        m, e = weighted_mean([v for v, _ in vals], [e for _, e in vals])
        rows[1].parts.append(Part(f"{name} ({len(vals)} values)", m, e, 1.0, resolution=0.05))
    rows[1].note = (
        "Weighted mean of √πσ/⟨S⟩ over every (point, pair); σ from the ML fit of the exact 2×2 GOE "
        "one-point density; the errors of σ and ⟨S⟩ are combined as if independent (conservative)."
    )
    if not rows[1].parts:
        not_run(rows[1], "lattice", "ts")
    return rows


# -- item 6: teacher–student scaling -------------------------------------------------------------
def ts_dataset_scatter(ts: ExperimentData) -> float:
    """Relative scatter of ⟨S⟩/√v between sweeps at (0.1, 16) beyond their statistical errors.

    Each sweep draws one data set per batch size, shared by all its replicas (physics.md §3.1), so a
    sweep's ⟨S⟩ carries a common offset that no number of replicas removes; the replicate sweeps of the
    ε scan measure it. 0 when fewer than 3 sweeps sit at (0.1, 16)."""
    vals = []
    for p in ts.points:
        if math.isclose(p.alpha, 0.1) and p.bs == 16:
            st = p.of_kind(2)[0]
            v, e = p.value(st, "mean_spacing")
            vals.append((v / st.predicted["sqrt_v"], e / st.predicted["sqrt_v"]))
    if len(vals) < 3:
        return 0.0
    r = np.array([v for v, _ in vals])
    e = np.array([e for _, e in vals])
    excess = float(np.var(r, ddof=1) - np.mean(e**2))
    return math.sqrt(max(excess, 0.0)) / float(np.mean(r))


def _ts_scale(p: PointRef) -> float:
    return math.sqrt(p.alpha * p.model.noise_strength**2 / p.bs)


def check_6(ex: dict[str, ExperimentData]) -> list[Row]:
    rows = [
        Row(
            "6a",
            6,
            "Teacher–student at α = 0.1: ⟨S⟩ = √(2π/(2−α))·√(αA/|B|), prefactor 1.818",
            "ts",
            "[nb] 1.76–1.88",
        ),
        Row(
            "6b",
            6,
            "Pooled fit over the α, |B| and ε scans of ⟨S⟩ (and √πσ) = a·√(αA/|B|)",
            "ts",
            "[nb] a = 1.878 ± 0.034 (⟨S⟩), 1.871 ± 0.034 (√πσ)",
        ),
        Row(
            "6c",
            6,
            "⟨S⟩/√v with the exact v = αA/((2−α)|B|) → √(2π) at α/|B| → 0 (the (2−α) factor)",
            "ts",
            "within errors (incl. the data-set scatter)",
        ),
        Row(
            "6d",
            6,
            "Doubling α and |B| together: ⟨S⟩ unchanged up to (2−α)^(−1/2); same histogram",
            "ts",
            "within errors; KS at α = 0.01",
        ),
    ]
    ts = ex.get("ts")
    if ts is None:
        return [not_run(r, "ts") for r in rows]
    pts = ts.points
    sys_rel = ts_dataset_scatter(ts)
    a01 = [p for p in pts if math.isclose(p.alpha, 0.1)]
    vals = [p.value(st, "mean_spacing") for p in a01 for st in p.of_kind(2)]
    scales = [_ts_scale(p) for p in a01 for _ in p.of_kind(2)]
    m, e = weighted_mean(
        [v / s for (v, _), s in zip(vals, scales, strict=True)],
        [e / s for (_, e), s in zip(vals, scales, strict=True)],
    )
    rows[0].parts.append(
        Part(
            f"{len(a01)} points at α = 0.1",
            m,
            e,
            theory.ts_spacing_prefactor(0.1),
            lo=1.76,
            hi=1.88,
            resolution=0.06,
        )
    )
    for key, nb, sl_row in (
        ("mean_spacing", (1.878, 0.034), "⟨S⟩"),
        ("sqrt_pi_sigma", (1.871, 0.034), "√πσ"),
    ):
        xs, ys, es, xv = [], [], [], []
        for p in pts:
            for st in p.of_kind(2):
                v, err = p.value(st, key)
                xs.append(_ts_scale(p))
                xv.append(st.predicted["sqrt_v"])
                ys.append(v)
                es.append(err)
        f1 = proportional_fit(key, xs, ys, es, None)
        if f1:
            rows[1].parts.append(
                Part(f"{sl_row} ({f1.n_points} settings)", f1.slope, f1.slope_error, nb[0], nb[1])
            )
        temps = [p.T for p in pts for _ in p.of_kind(2)]
        r = [y / x for y, x in zip(ys, xv, strict=True)]
        re = [math.hypot(e / x, sys_rel * y / x) for y, e, x in zip(ys, es, xv, strict=True)]
        f2 = line_fit(temps, r, re)
        if f2:
            rows[2].parts.append(
                Part(
                    f"{sl_row}/√v at α/|B| → 0",
                    f2.intercept,
                    f2.intercept_error,
                    SQRT_2PI,
                    note=f"slope {f2.slope:.3g} per α/|B|, χ²/dof {f2.chi2_dof:.2f}",
                )
            )
    rows[2].note = (
        "Straight-line fit of ⟨S⟩/√v (and √πσ/√v) against α/|B| over all settings; the errors include the "
        f"scatter between data sets ({100 * sys_rel:.2g} % relative, measured from the replicate sweeps at "
        "(0.1, 16)): every sweep draws one data set per |B| that all its replicas share. The positive slope "
        "is the multiplicative input noise δW(Ĉ_x − 𝟙) the spec drops as higher order: O(α/|B|)."
    )
    rows[1].note = (
        "The prefactor grows with α as √(2π/(2−α)) (1.82 at α = 0.1, 2.05 at 0.5), so the pooled slope "
        "depends on the grid: the authors' 16 settings are reproduced here (α scan, |B| scan, ε scan)."
    )
    for (a1, b1), (a2, b2) in (((0.2, 16), (0.1, 8)), ((0.4, 16), (0.1, 4))):
        p1, p2 = ts.find(a1, b1), ts.find(a2, b2, lambda p: math.isclose(p.model.noise_strength, 0.1))
        if p1 is None or p2 is None:
            continue
        st1, st2 = p1.of_kind(2)[0], p2.of_kind(2)[0]
        r, e = ratio(p1.value(st1, "mean_spacing"), p2.value(st2, "mean_spacing"))
        e = math.hypot(e, math.sqrt(2.0) * sys_rel * r)
        expect = math.sqrt((2.0 - a2) / (2.0 - a1))
        rows[3].parts.append(Part(f"{p1.label}/{p2.label} ⟨S⟩", r, e, expect))
        s1 = np.diff(p1.one_per_replica()[:, st1.cluster.start : st1.cluster.stop], axis=1).ravel()
        s2 = np.diff(p2.one_per_replica()[:, st2.cluster.start : st2.cluster.stop], axis=1).ravel()
        s1, s2 = s1 * math.sqrt(2 - a1), s2 * math.sqrt(2 - a2)
        from scipy.stats import ks_2samp

        pv = float(ks_2samp(s1[np.isfinite(s1)], s2[np.isfinite(s2)]).pvalue)
        rows[3].parts.append(
            Part(f"{p1.label} vs {p2.label} KS of S·√(2−α)", pv, expected=ALPHA, kind="consistent")
        )
    if not rows[3].parts:
        not_run(rows[3], "ts points (0.2, 16), (0.1, 8), (0.4, 16), (0.1, 4)")
    rows[3].note = (
        "Ratios of ⟨S⟩ with the data-set scatter added to each point's error (see 6c); KS of one spacing "
        "per replica, rescaled by √(2−α)."
    )
    return rows


# -- item 7: degenerate clusters ------------------------------------------------------------------
@lru_cache(maxsize=8)
def semicircle_fit_factor(n: int, n_matrices: int = 2000, seed: int = 7) -> tuple[float, float]:
    """Fitted semicircle radius of n×n GOE eigenvalues (pooled, centred) over 2√(n v): the finite-n
    value of the analysis's fit (minimum Cramér–von Mises), from sampled GOE matrices."""
    x = rmt.goe_eigenvalues(n, seed, n_matrices, v=1.0)
    fit = rmt.fit_semicircle((x - x.mean()).reshape(n_matrices, n), n_blocks=20)
    r = 2.0 * math.sqrt(n)
    return fit["radius"] / r, fit.error("radius") / r


def check_7(ex: dict[str, ExperimentData]) -> list[Row]:
    rows = [
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
    ]
    any_run = False
    for name, exp in (("n=8", ex.get("cluster8")), ("n=65", ex.get("cluster65"))):
        if exp is None:
            continue
        any_run = True
        ts_, r2, r2e, slope_pred = [], [], [], None
        for p in exp.points:
            for st in p.clusters():
                n = st.cluster.n
                v = st.predicted["v"]
                m2, m2e = p.value(st, "second_moment")
                rows[0].parts.append(
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
                rows[1].parts.append(
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
                if n >= 20:
                    c, ce = semicircle_fit_factor(n)
                    R, Re = p.value(st, "radius")
                    rows[2].parts.append(
                        Part(
                            f"{name} {p.label}: R_fit/(2√(nv))",
                            R / (2 * math.sqrt(n * v)),
                            Re / (2 * math.sqrt(n * v)),
                            c,
                            ce,
                        )
                    )
                    ts_.append(p.T)
                    r2.append(R * R)
                    r2e.append(2 * R * Re)
                    slope_pred = 4 * n * st.cluster.centre * c * c
                else:
                    ts_.append(p.T)
                    r2.append(4 * n * m2 / (n + 1))
                    r2e.append(4 * n * m2e / (n + 1))
                    slope_pred = 4 * n * st.cluster.centre
        fit = line_fit(ts_, r2, r2e)
        if fit is not None:
            kind = "fitted R" if name == "n=65" else "R² = 4n⟨δx²⟩/(n+1)"
            rows[3].parts.append(
                Part(
                    f"{name} intercept ({kind})",
                    fit.intercept,
                    fit.intercept_error,
                    0.0,
                    resolution=min(r2) / 3,
                )
            )
            rows[3].parts.append(
                Part(
                    f"{name} slope / 4n x*",
                    fit.slope / slope_pred,
                    fit.slope_error / slope_pred,
                    1.0,
                    lo=0.97,
                    hi=1.03,
                )
            )
    if not any_run:
        return [not_run(r, "cluster8", "cluster65") for r in rows]
    rows[0].note = (
        "Second moment about the cluster's mean (the O(T) mean shift is item 9). Expected above 1 by "
        "the persistent chains' autocorrelation (+1.6 % for x*/μ² = 4/9) and the discrete-time factor "
        "1/(1 − αγ/2) (+0.6 to +1.3 %)."
    )
    rows[1].note = "Reference: matched-size GOE sampling (mpi_dbm.rmt.reference_mean_ratio)."
    rows[2].note = (
        "The minimum-distance semicircle fit of a finite n×n GOE does not return exactly 2√(nv); the "
        "expected ratio is that fit on 2000 sampled n×n GOE matrices."
    )
    if not rows[2].parts:
        not_run(rows[2], "cluster65")
    return rows


# -- item 8: fixed point ------------------------------------------------------------------------
def check_8(ex: dict[str, ExperimentData]) -> list[Row]:
    rows = [
        Row(
            "8a",
            8,
            "From the random start, every λ_k = μ² − x_k → κ_k (all 10 modes, N_h = 10)",
            "init",
            "±1 %: the O(α/|B|) shifts at α/|B| = 0.00125 are ≤ 0.8 % (§2.6)",
        ),
        Row(
            "8b",
            8,
            "N_h = 5 < N_v: only the 5 smallest κ are learned (UV cut-off)",
            "init",
            "±1 %, as 8a",
        ),
    ]
    ini = ex.get("init")
    if ini is None:
        return [not_run(r, "init") for r in rows]
    for row, run_name in ((rows[0], "init-grbm"), (rows[1], "init-grbm-nh5")):
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
    rows[1].note += (
        " The recorded W Wᵀ has 5 eigenvalues; they sit at the 5 largest x* "
        "(κ = 4, 4.382, 4.382, 5.382, 5.382)."
    )
    return rows


# -- item 9: non-universal shifts -----------------------------------------------------------------
def _shift_slope(label: str, ts_: list, ys: list, es: list, pred: float) -> Part | None:
    """The O(α/|B|) coefficient: intercept of (shift/T) = a + b·T, or a proportional fit at one T."""
    ts_, ys, es = np.array(ts_), np.array(ys), np.array(es)
    if len(set(np.round(ts_, 12))) >= 2:
        fit = line_fit(ts_, ys / ts_, es / ts_)
        if fit is not None:
            return Part(label, fit.intercept, fit.intercept_error, pred, note=f"O(T²): {fit.slope:.3g}·T²")
    fit = proportional_fit("shift", ts_, ys, es, None)
    return Part(label, fit.slope, fit.slope_error, pred, note="one α/|B|") if fit else None


def _lattice_shift_parts(exp: ExperimentData, t_max: float = 0.00625) -> tuple[list[Part], list[PointRef]]:
    """Per mode: the O(α/|B|) coefficient of λ/κ − 1 over the points with α/|B| ≤ t_max."""
    pts = [p for p in exp.points if t_max + 1e-12 >= p.T]
    parts = []
    for st0 in pts[0].stats if pts else []:
        ts_, ys, es, preds = [], [], [], []
        for p in pts:
            st = next(s for s in p.stats if same_cluster(s, st0))
            kap = kappa_of(p, st)
            c, ce = p.value(st, "centre")
            ts_.append(p.T)
            ys.append(-(c - st.cluster.centre) / kap)  # λ/κ − 1 with λ = μ² − x (σ_h = 1)
            es.append(ce / kap)
            preds.append(-st.predicted["shift"] / kap / p.T)
        part = _shift_slope(kappa_label(pts[0], st0), ts_, ys, es, float(np.mean(preds)))
        if part is not None:
            parts.append(part)
    return parts, pts


def _cluster_shift_part(name: str, exp: ExperimentData) -> Part | None:
    """The O(α/|B|) coefficient of δx/x* of a fully degenerate cluster."""
    ts_, ys, es, pred = [], [], [], math.nan
    for p in exp.points:
        for st in p.clusters():
            x = st.cluster.centre
            c, ce = p.value(st, "centre")
            ts_.append(p.T)
            ys.append((c - x) / x)
            es.append(ce / x)
            pred = st.predicted["shift"] / p.T / x
    return _shift_slope(f"{name}: δx/x* per α/|B|", ts_, ys, es, pred) if ts_ else None


def check_9(ex: dict[str, ExperimentData]) -> list[Row]:
    rows = [
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
    ]
    lat = ex.get("lattice")
    if lat is None:
        not_run(rows[0], "lattice")
    else:
        parts, pts = _lattice_shift_parts(lat)
        rows[0].parts += parts
        rows[0].note = (
            f"(λ/κ − 1)/(α/|B|) over the {len(pts)} points with α/|B| ≤ 0.00625, fitted with a straight line "
            "in α/|B|: its intercept is the O(α/|B|) coefficient of §2.6. κ = 4 moves ≈ 25 % faster: "
            "the persistent chains (k = 3) lag along the κ = 4 mode, the slowest to mix ((5/9)³ per "
            'update); with independent exact samples (sampler = "exact") or k = 10 it is within 7 % '
            "(docs/physics-notes.md, 'Reproduction')."
        )
    done = False
    for name, exp in (("n=8", ex.get("cluster8")), ("n=65", ex.get("cluster65"))):
        if exp is not None and (part := _cluster_shift_part(name, exp)) is not None:
            rows[1].parts.append(part)
            done = True
    if not done:
        not_run(rows[1], "cluster8", "cluster65")
    rows[1].note = (
        "(⟨x⟩ − x*)/x*/(α/|B|) over the cluster's points, extrapolated linearly to α/|B| → 0 (the O(α/|B|) "
        "coefficient). The clusters shift 5–7 % "
        "less than predicted: the persistent chains' lag (k = 3 Gibbs sweeps, correlation (4/9)³ per "
        "update); with independent exact samples or k = 10 the n = 8 coefficient agrees "
        "(docs/physics-notes.md, 'Reproduction')."
    )
    return rows


# -- item 10: relaxation rates ------------------------------------------------------------------
def check_10(ex: dict[str, ExperimentData]) -> tuple[list[Row], list[dict]]:
    row = Row(
        "10",
        10,
        "Autocorrelation of δx_k decays as exp(−2Ω_k·αn): 2Ω = 0.625 (κ = 4) … 0.031 (κ = 8); IR fastest",
        "long",
        "within errors, at α/|B| → 0, after dividing out the discrete map's −ln(1 − αγ)/(αγ)",
    )
    long = ex.get("long")
    if long is None:
        return [not_run(row, "long")], []
    detail: list[dict] = []
    per_cluster: dict[tuple[int, int], list] = {}
    for p in long.points:
        ds = p.run.analysis.dataset
        lo, hi = p.run.run.series or (int(ds.steps[0]), int(ds.steps[-1]))
        sel = np.flatnonzero((ds.steps >= lo) & (ds.steps <= hi))
        dt = float(ds.steps[sel[1]] - ds.steps[sel[0]]) * p.alpha
        for st in p.stats:
            traj = p.point.trajectories[p.spectrum][:, sel, st.cluster.start : st.cluster.stop].mean(axis=-1)
            g = float(
                theory.grbm_relaxation_rate(np.array([kappa_of(p, st)]), p.model.mu, p.model.sigma_h)[0]
            )
            lags = max(1, int(-math.log(0.3) / (g * dt)))  # the lags where the predicted C ≥ 0.3
            res = relaxation_rate(traj, dt, kappa_label(p, st), lags=lags)
            factor = -math.log(1.0 - p.alpha * g) / (p.alpha * g)  # exact for the linearised map
            per_cluster.setdefault((st.cluster.start, st.cluster.stop), []).append(
                (p.T, res.rate / factor, res.error / factor, g, res.label)
            )
            detail.append({**res.record(), "predicted": g, "discrete_factor": factor, "point": p.label})
    for vals in per_cluster.values():
        g, label = vals[0][3], vals[0][4]
        if len(vals) == 1:
            row.parts.append(Part(f"{label} at α/|B| = {vals[0][0]:g}", vals[0][1], vals[0][2], g))
            continue
        fit = line_fit([v[0] for v in vals], [v[1] for v in vals], [v[2] for v in vals])
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
    return [row], detail


# -- item 11: initial spectrum ------------------------------------------------------------------
@lru_cache(maxsize=16)
def mp_fit_reference(n_big: int, n_small: int, scale: float, n_matrices: int = 4000, seed: int = 3):
    """The same MP fit on eigenvalues of sampled n_big×n_small Gaussian matrices (WᵀW/n_big) with
    entry variance `scale`: the finite-size value the fit returns for an exact MP ensemble."""
    x = rmt.wishart_eigenvalues(n_big, n_small, seed, n_matrices, scale)
    return rmt.fit_marchenko_pastur(x.reshape(-1))


def check_11(ex: dict[str, ExperimentData]) -> list[Row]:
    row = Row(
        "11",
        11,
        "At initialisation, WᵀW/N follows Marchenko–Pastur with the init variance s² = 0.01 "
        "and q = N_small/N_big",
        "init",
        "within errors of the same fit on sampled Gaussian matrices of the same size",
    )
    ini = ex.get("init")
    if ini is None:
        return [not_run(row, "init")]
    for rd in ini.runs:
        a, m = rd.analysis, rd.config.model
        if m.kind == "grbm":
            dims, std, name = (m.n_hidden, m.n_visible), m.init_std, "X"
        elif m.kind == "linear" and m.init_std is not None:
            dims, std = (m.n_hidden, m.n_in), m.init_std
            name = "W1tW1" if m.n_in <= m.n_hidden else "W1W1t"
        else:
            continue
        x = a.dataset.initial.get(name)
        if x is None or x.size < 20 or not np.any(a.dataset.steps == 0):
            continue
        big, small = max(dims), min(dims)
        fit = rmt.fit_marchenko_pastur(x.reshape(-1) / big)
        ref = mp_fit_reference(big, small, std**2)
        lab = f"{m.kind} {dims[0]}×{dims[1]}"
        row.parts.append(
            Part(
                f"{lab}: s²",
                fit["scale"],
                fit.error("scale"),
                ref["scale"],
                ref.error("scale"),
                note=f"s² = {std**2:g}",
            )
        )
        if small < big:
            row.parts.append(
                Part(
                    f"{lab}: q",
                    fit["ratio"],
                    fit.error("ratio"),
                    ref["ratio"],
                    ref.error("ratio"),
                    note=f"q = {small / big:g}",
                )
            )
    row.note = (
        "Minimum-distance (Cramér–von Mises) fit of MP(s², q) to the eigenvalues at step 0 of every replica, "
        "divided by the larger dimension; jackknife errors. The expected values are the same fit on 4000 "
        "sampled Gaussian matrices of the same shape and init variance (at these sizes the fit's q is "
        "high by ≈ 1/N_big); for a square matrix (q = 1, the edge of the range) only s² is compared."
    )
    return [row]


# -- item 13: linear network --------------------------------------------------------------------
def _linear_ratios(exp: ExperimentData) -> dict[float, list[tuple[float, float, float, float]]]:
    """Per species centre w: (T, m2/((n+1)v) / discrete factor, error, discrete factor) per point."""
    out: dict[float, list] = {}
    for p in exp.points:
        layers = len(p.model.train)
        for st in p.clusters():
            w = st.cluster.centre
            v = st.predicted.get("v")
            if v is None:
                continue
            vd = float(
                theory.linear_variance_profile(
                    np.array([w]), p.alpha, p.bs, p.model.label_noise, layers, True
                )[0, 0]
            )
            f = vd / v
            n = st.cluster.n
            m2, m2e = p.value(st, "second_moment")
            out.setdefault(w, []).append((p.T, m2 / ((n + 1) * v) / f, m2e / ((n + 1) * v) / f, f))
    return out


def check_13(ex: dict[str, ExperimentData]) -> list[Row]:
    rows = [
        Row(
            "13a",
            13,
            "Linear net, one species: W₁ᵀW₁ is a GOE block of v = w₀αA/(2|B|) (semicircle radius "
            "2√(N w₀αA/(2|B|))), at α/|B| → 0; its shape is the n×n GOE's",
            "linear_one",
            "within errors; shape: KS at α = 0.01",
        ),
        Row(
            "13b",
            13,
            "Two species: each a GOE block of n_s levels, v_ss = w_s αA/(2|B|) "
            "(radii ∝ √(n_s α/|B|)), at α/|B| → 0",
            "linear_two",
            "within errors",
        ),
        Row("13c", 13, "Linear net spectra collapse in α/|B|", "linear_one, linear_two", "KS at α = 0.01"),
    ]
    lin1, lin2 = ex.get("linear_one"), ex.get("linear_two")
    for row, exp, name in ((rows[0], lin1, "linear_one"), (rows[1], lin2, "linear_two")):
        if exp is None:
            not_run(row, name)
            continue
        for w, vals in sorted(_linear_ratios(exp).items()):
            fit = line_fit([v[0] for v in vals], [v[1] for v in vals], [v[2] for v in vals])
            if fit:
                row.parts.append(
                    Part(
                        f"w={w:g}: (n+1)v ratio at α/|B|→0",
                        fit.intercept,
                        fit.intercept_error,
                        1.0,
                        resolution=0.05,
                    )
                )
        row.note = (
            "⟨(x − ⟨x⟩)²⟩/((n+1)v) per point, divided by the exact discrete-time factor 1/(1 − αγ/2) "
            "(γ = w_i + w_j), extrapolated linearly in α/|B| to 0. The O(α/|B|) slope is large (+20 to +60 "
            "per unit α/|B|): multiplicative input noise δW(Ĉ_x − 𝟙), O(N α/|B|), and the diffusing balance "
            "direction widen the spectrum (docs/physics-notes.md, 'Reproduction')."
        )
    if lin1 is not None:
        coldest = min(lin1.points, key=lambda p: (p.T, p.alpha))
        for st in coldest.clusters():
            x = coldest.one_per_replica()[:, st.cluster.start : st.cluster.stop]
            x = x[np.isfinite(x).all(axis=1)]
            z = (x - x.mean()) / x.std()
            ref = rmt.goe_eigenvalues(st.cluster.n, 11, 4000, v=1.0)
            zr = (ref - ref.mean()) / ref.std()
            from scipy.stats import ks_2samp

            pv = float(ks_2samp(z.ravel(), zr.ravel()).pvalue)
            rows[0].parts.append(
                Part(
                    f"shape at {coldest.label}, KS vs {st.cluster.n}×{st.cluster.n} GOE",
                    pv,
                    expected=ALPHA,
                    kind="consistent",
                )
            )
    for exp, name in ((lin1, "one species"), (lin2, "two species")):
        if exp is None:
            continue
        for rd in exp.runs:
            for c in rd.analysis.collapse:
                if c.spectrum == exp.spectrum:
                    rows[2].parts.append(
                        Part(
                            f"{name}, α/|B| = {c.temperature:g}",
                            c.combined_pvalue,
                            expected=ALPHA,
                            kind="consistent",
                        )
                    )
    if not rows[2].parts:
        not_run(rows[2], "linear_one", "linear_two")
    rows[
        2
    ].note = "Two-sample KS per level between the equal-α/|B| points (last snapshot per replica), Bonferroni."
    return rows


# -- all ----------------------------------------------------------------------------------------
def all_rows(ex: dict[str, ExperimentData]) -> tuple[list[Row], dict]:
    rows: list[Row] = []
    rows += check_1(ex)
    rows += check_2(ex)
    rows += check_3(ex)
    r4 = check_4_12(ex)
    rows += r4[:3]
    rows += check_5(ex)
    rows += check_6(ex)
    rows += check_7(ex)
    rows += check_8(ex)
    rows += check_9(ex)
    r10, relax = check_10(ex)
    rows += r10
    rows += check_11(ex)
    rows += r4[3:]
    rows += check_13(ex)
    return rows, {"relaxation": relax}
