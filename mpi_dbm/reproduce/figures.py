"""Figures of the reproduction page (`mpi-dbm reproduce`), in the style of the papers' figures.

The only other module besides `report.py` that imports matplotlib (Agg; figure_lag.py and
report_phases.py draw with the pyplot handed in). Each `fig_*` writes one small PNG (≈ 80 dpi)
into outdir and returns (file, title, caption), or None when its experiments were not run.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import rmt, theory
from ..analysis.observables import ClusterStats
from ..report_phases import reproduction_figure
from ..rmt.calibration import semicircle_fit_factor
from .checks.multilayer import diagram_of
from .data import ExperimentData, PointRef, centre_of, kappa_of, paper_grid, same_cluster
from .figure_data import is_alpha_scan, scaling_sets, series
from .figure_lag import chain_lag_figure

if TYPE_CHECKING:
    from .reproduction import Reproduction

DPI = 80
Figure = tuple[str, str, str]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {"figure.dpi": DPI, "font.size": 8, "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": 6}
    )
    return plt


def _save(fig: Any, outdir: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(outdir / name, dpi=DPI, pil_kwargs={"optimize": True})
    _plt().close(fig)
    return name


def _colors(n: int) -> Any:
    return _plt().cm.viridis(np.linspace(0.0, 0.9, max(n, 1)))


def _hist(ax: Any, x: np.ndarray, bins: np.ndarray, color: Any, label: str | None, lw: float = 1.0) -> None:
    h, e = np.histogram(x[np.isfinite(x)], bins=bins, density=True)
    ax.step(0.5 * (e[1:] + e[:-1]), h, where="mid", color=color, lw=lw, label=label)


# -- P(s) ------------------------------------------------------------------------------------
def _unscaled_panel(ax: Any, st0: ClusterStats, pts: list[PointRef]) -> None:
    """P(S) of one GRBM pair across the α scan, each with the surmise of its measured ⟨S⟩."""
    for p, c in zip(pts, _colors(len(pts)), strict=True):
        st = next(x for x in p.stats if same_cluster(x, st0))
        if st.spacings is None:
            continue
        mean = st.values["mean_spacing"]["value"]
        S = st.spacings * mean
        _hist(ax, S, np.linspace(0, 3.5 * S.mean(), 22), c, f"α={p.alpha:g}")
        grid = np.linspace(0, 3.5 * mean, 200)
        ax.plot(
            grid,
            math.pi * grid / (2 * mean**2) * np.exp(-math.pi * grid**2 / (4 * mean**2)),
            color=c,
            lw=0.6,
        )
    ax.set_title(f"unscaled P(S), κ = {kappa_of(pts[0], st0):.4g}")
    ax.set_xlabel("S")


def fig_spacings(rep: Reproduction, outdir: Path) -> Figure | None:
    lat, ts = rep.experiments.get("lattice"), rep.experiments.get("ts")
    if lat is None and ts is None:
        return None
    plt = _plt()
    panels = []
    if lat is not None:
        pts = sorted([p for p in lat.points if is_alpha_scan(p)], key=lambda p: p.alpha)
        for st0 in pts[0].of_kind(2) if pts else []:
            panels.append(("GRBM", st0, pts))
    ts_groups = []
    if ts is not None:
        tp = ts.points
        eps01 = [p for p in tp if math.isclose(p.model.noise_strength, 0.1)]
        ts_groups = [
            ("TS α scan (|B| = 16)", [p for p in eps01 if p.bs == 16]),
            ("TS |B| scan (α = 0.1)", [p for p in eps01 if math.isclose(p.alpha, 0.1)]),
            ("TS ε scan (0.1, 16)", [p for p in tp if math.isclose(p.alpha, 0.1) and p.bs == 16]),
        ]
    n = len(panels) + len(ts_groups) + (1 if panels else 0)
    cols = 4
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.1 * rows), squeeze=False)
    axes = list(axes.flat)
    s = np.linspace(0, 3.5, 300)
    bins = np.linspace(0, 3.5, 22)
    k = 0
    for _, st0, pts in panels:
        ax = axes[k]
        k += 1
        for p, c in zip(pts, _colors(len(pts)), strict=True):
            st = next(x for x in p.stats if same_cluster(x, st0))
            if st.spacings is not None:
                _hist(ax, st.spacings, bins, c, f"α={p.alpha:g}")
        ax.plot(s, rmt.spacing_pdf(s, "goe"), "k-", lw=1.4, label="GOE surmise")
        ax.plot(s, rmt.spacing_pdf(s, "gue"), "k--", lw=0.7, label="GUE")
        ax.set_title(f"GRBM pair κ = {kappa_of(pts[0], st0):.4g}, |B| = 16")
        ax.set_xlabel("s = S/⟨S⟩")
        ax.legend(ncol=2)
    if panels:  # unscaled P(S) of one pair: the width grows as √(α/|B|)
        _, st0, pts = panels[0]
        _unscaled_panel(axes[k], st0, pts)
        k += 1
    for title, pts in ts_groups:
        ax = axes[k]
        k += 1
        for p, c in zip(pts, _colors(len(pts)), strict=True):
            st = p.of_kind(2)[0]
            if st.spacings is not None:
                lab = f"ε={p.model.noise_strength:g}" if "ε" in title else f"({p.alpha:g}, {p.bs})"
                _hist(ax, st.spacings, bins, c, lab)
        ax.plot(s, rmt.spacing_pdf(s, "goe"), "k-", lw=1.4, label="GOE")
        ax.set_title(title)
        ax.set_xlabel("s = S/⟨S⟩")
        ax.legend(ncol=2)
    for ax in axes[k:]:
        ax.set_visible(False)
    name = _save(fig, outdir, "repro_spacings.png")
    return (
        name,
        "Wigner surmise",
        "Normalised spacing s = S/⟨S⟩ of every degenerate GRBM pair across the α scan, its unscaled "
        "P(S) with the surmise of the measured ⟨S⟩, and the 2×2 teacher–student pair across its three "
        "scans, against the GOE surmise (GUE dashed). Items 4 and 12.",
    )


# -- linear scaling ---------------------------------------------------------------------------
MARKERS = "osD^v"


def _scaling_panel(
    ax: Any,
    key: str,
    ylabel: str,
    name: str,
    exp: ExperimentData,
    xfun: Any,
    group: Any,
    xlabel: str,
    pred: float,
) -> None:
    """One statistic against its predicted scale, with the pooled proportional fit and the prediction."""
    from ..analysis.scaling import proportional_fit

    allx = []
    for (g, vals), m in zip(series(exp, key, xfun, group).items(), MARKERS, strict=False):
        x, y, e = (np.array([v[i] for v in vals]) for i in range(3))
        ax.errorbar(x, y, yerr=e, fmt=m, ms=3, lw=0.6, label=g)
        allx += list(x)
    fitted = [
        (xfun(p, st), *p.value(st, key))
        for p in exp.points
        if name != "GRBM" or paper_grid(p)
        for st in p.of_kind(2)
    ]
    xs, ys, es = (list(c) for c in zip(*fitted, strict=True)) if fitted else ([], [], [])
    f = proportional_fit(key, xs, ys, es, None) if fitted else None
    line = np.linspace(0, max(allx) * 1.05, 10)
    if f:
        ax.plot(line, f.slope * line, "r-", lw=1, label=f"fit a = {f.slope:.3f} ± {f.slope_error:.3f}")
    ax.plot(
        line,
        pred * line,
        "k--",
        lw=0.8,
        label=f"{pred:.3f} (small α/|B|)" if name == "GRBM" else f"{pred:.3f} (α = 0.1)",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{name}: {ylabel}")
    ax.legend()


def _goe_panel(ax: Any, name: str, exp: ExperimentData, xfun: Any, group: Any) -> None:
    """√πσ against ⟨S⟩ on y = x (item 5)."""
    s = series(exp, "sqrt_pi_sigma", xfun, group)
    for (g, vals), m in zip(s.items(), MARKERS, strict=False):
        ax.errorbar(
            [v[3][0] for v in vals],
            [v[1] for v in vals],
            xerr=[v[3][1] for v in vals],
            yerr=[v[2] for v in vals],
            fmt=m,
            ms=3,
            lw=0.6,
            label=g,
        )
    top = max(v[3][0] for vals in s.values() for v in vals) * 1.05
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="y = x")
    ax.set_xlabel("⟨S⟩")
    ax.set_ylabel("√π σ")
    ax.set_title(f"{name}: 2×2 GOE structure")
    ax.legend()


def fig_scaling(rep: Reproduction, outdir: Path) -> Figure | None:
    lat, ts = rep.experiments.get("lattice"), rep.experiments.get("ts")
    if lat is None and ts is None:
        return None
    plt = _plt()
    sets = scaling_sets(lat, ts)
    fig, axes = plt.subplots(len(sets), 3, figsize=(9.6, 2.8 * len(sets)), squeeze=False)
    for row, (name, exp, xfun, group, xlabel, pred) in zip(axes, sets, strict=True):
        for ax, key, ylabel in ((row[0], "mean_spacing", "⟨S⟩"), (row[1], "sqrt_pi_sigma", "√π σ")):
            _scaling_panel(ax, key, ylabel, name, exp, xfun, group, xlabel, pred)
        _goe_panel(row[2], name, exp, xfun, group)
    name = _save(fig, outdir, "repro_scaling.png")
    return (
        name,
        "Linear scaling rule",
        "⟨S⟩ and √πσ (σ from the 2×2 GOE density fit) of every degenerate pair against the predicted "
        "scale, with the pooled proportional fit (red; GRBM: over the authors' E1 + E2 grid) and the "
        "small-α/|B| prediction (dashed); right: "
        "√πσ against ⟨S⟩ on y = x. GRBM: α and |B| scans on one line (the points fall below √(2π) as "
        "α/|B| grows); teacher–student: α, |B| and ε scans. Items 2, 5, 6.",
    )


# -- non-universal shifts ---------------------------------------------------------------------
def fig_shifts(rep: Reproduction, outdir: Path) -> Figure | None:
    lat = rep.experiments.get("lattice")
    if lat is None:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.2, 3.4))
    pts = sorted(lat.points, key=lambda p: p.T)
    sts = pts[0].stats
    for st0, c in zip(sts, _colors(len(sts)), strict=True):
        T, y, e, pred = [], [], [], []
        for p in pts:
            st = next(x for x in p.stats if same_cluster(x, st0))
            kap = kappa_of(p, st)
            cval, cerr = p.value(st, "centre")
            T.append(p.T)
            y.append((p.model.mu**2 - cval) / kap)
            e.append(cerr / kap)
            pred.append(-st.predicted["shift"] / kap / p.T)
        ax.errorbar(T, y, yerr=e, fmt="o", ms=3, color=c, lw=0.6, label=f"κ = {kappa_of(pts[0], st0):.4g}")
        tt = np.linspace(0, max(T) * 1.02, 10)
        ax.plot(tt, 1 + float(np.mean(pred)) * tt, "-", color=c, lw=0.8)
    ax.axhline(1, color="k", lw=0.6)
    ax.set_xlabel("α/|B|")
    ax.set_ylabel("λ_fit/κ")
    ax.legend(ncol=2)
    name = _save(fig, outdir, "repro_shifts.png")
    return (
        name,
        "Non-universal shifts",
        "Fitted centres λ_fit = μ² − ⟨x⟩ over the target κ against α/|B| for the six distinct κ; lines: "
        "the O(α/|B|) prediction of physics.md §2.6. Item 9 (κ = 4 moves 25 % faster: persistent-chain lag).",
    )


# -- semicircles ------------------------------------------------------------------------------
def fig_semicircles(rep: Reproduction, outdir: Path) -> Figure | None:
    exps = [(n, got) for n in ("cluster8", "cluster65") if (got := rep.experiments.get(n)) is not None]
    if not exps:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(exps) + 1, figsize=(3.3 * (len(exps) + 1), 2.8), squeeze=False)
    axes = list(axes.flat)
    for ax, (_, exp) in zip(axes, exps, strict=False):
        pts = sorted(exp.points, key=lambda p: (p.T, p.alpha))
        for p, c in zip(pts, _colors(len(pts)), strict=True):
            st = p.clusters()[0]
            n, v = st.cluster.n, st.predicted["v"]
            x = p.point.samples["X"][..., st.cluster.start : st.cluster.stop].ravel()
            x = x[np.isfinite(x)]
            R = 2 * math.sqrt(n * v)
            u = (x - x.mean()) / R
            _hist(ax, u, np.linspace(-1.5, 1.5, 40), c, f"({p.alpha:g}, {p.bs}), α/|B|={p.T:g}")
        g = np.linspace(-1.2, 1.2, 300)
        ax.plot(g, rmt.semicircle_pdf(g, 0.0, 1.0), "k-", lw=1.3, label="semicircle, R = 2√(nv)")
        if n <= 12:
            ref = rmt.goe_eigenvalues(n, 5, 4000, v=1.0) / (2 * math.sqrt(n))
            _hist(ax, ref.ravel(), np.linspace(-1.5, 1.5, 40), "r", f"{n}×{n} GOE", lw=0.8)
        ax.set_xlabel("(x − ⟨x⟩)/(2√(n v))")
        ax.set_title(f"GRBM K_φ = 5·𝟙, n = {n}")
        ax.legend()
    ax = axes[len(exps)]
    for (_, exp), m in zip(exps, "os", strict=False):
        T, r2, e = [], [], []
        for p in exp.points:
            st = p.clusters()[0]
            n, v = st.cluster.n, st.predicted["v"]
            if n >= 20:
                R, Re = p.value(st, "radius")
                c = semicircle_fit_factor(n)[0]
                R, Re = R / c, Re / c
            else:
                m2, m2e = p.value(st, "second_moment")
                R, Re = (
                    math.sqrt(4 * n * m2 / (n + 1)),
                    0.5 * math.sqrt(4 * n / (n + 1)) * m2e / math.sqrt(m2),
                )
            T.append(p.T)
            r2.append(R * R / (4 * n * centre_of(st)))
            e.append(2 * R * Re / (4 * n * centre_of(st)))
        ax.errorbar(T, r2, yerr=e, fmt=m, ms=4, label=f"n = {n}" + (" (fit)" if n >= 20 else " (moment)"))
    tt = np.linspace(0, max(max(p.T for p in e2.points) for _, e2 in exps) * 1.05, 10)
    ax.plot(tt, tt, "k--", lw=0.8, label="R² = 4n x* α/|B|")
    ax.set_xlabel("α/|B|")
    ax.set_ylabel("R²/(4n x*)")
    ax.set_title("radius² against α/|B|")
    ax.legend()
    name = _save(fig, outdir, "repro_semicircles.png")
    return (
        name,
        "Semicircles of degenerate clusters",
        "Eigenvalues of a fully degenerate GRBM cluster (K_φ = 5·𝟙, x* = 4) in units of the predicted "
        "radius R = 2√(n v), v = αx*/|B|: n = 8 against the 8×8 GOE (red) and the semicircle, n = 65 "
        "against the semicircle; right: R² against α/|B| (n = 65: fitted radius over its finite-n factor; "
        "n = 8: from the second moment). Item 7.",
    )


# -- linear network ---------------------------------------------------------------------------
def fig_linear(rep: Reproduction, outdir: Path) -> Figure | None:
    exps = [(n, got) for n in ("linear_one", "linear_two") if (got := rep.experiments.get(n)) is not None]
    if not exps:
        return None
    plt = _plt()
    fig, axes = plt.subplots(1, len(exps), figsize=(4.4 * len(exps), 2.9), squeeze=False)
    for ax, (_, exp) in zip(axes.flat, exps, strict=True):
        pts = sorted(exp.points, key=lambda p: (p.T, p.alpha))
        lo = hi = None
        for p, c in zip([pts[0], pts[-1]], ["C0", "C3"], strict=True):
            x = p.point.samples[exp.spectrum].ravel()
            x = x[np.isfinite(x)]
            lo = x.min() if lo is None else min(lo, x.min())
            hi = x.max() if hi is None else max(hi, x.max())
            _hist(ax, x, np.linspace(x.min(), x.max(), 70), c, f"measured ({p.alpha:g}, {p.bs})")
            m = p.model
            centres, sizes, v = theory.linear_species(
                m.teacher_singular_values, p.alpha, p.bs, m.label_noise, len(m.train), discrete=True
            )
            grid = np.linspace(x.min(), x.max(), 600)
            rho, _ = theory.dyson_density(grid, centres, sizes, v)
            ax.plot(grid, rho, "-", color=c, lw=0.8, alpha=0.8, label="vector Dyson equation")
            sample = np.concatenate(
                [
                    np.linalg.eigvalsh(
                        theory.block_variance_matrix(np.random.default_rng(i), centres, sizes, v)
                    )
                    for i in range(400)
                ]
            )
            _hist(
                ax,
                sample,
                np.linspace(x.min(), x.max(), 70),
                "k",
                "matched-size block GOE" if c == "C0" else None,
                lw=0.5,
            )
        species = ", ".join(f"{mult}×{val:g}" for val, mult in exp.points[0].model.teacher_singular_values)
        ax.set_title(f"linear net, teacher singular values {species}")
        ax.set_xlabel("eigenvalues of W₁ᵀW₁")
        ax.legend()
    name = _save(fig, outdir, "repro_linear.png")
    return (
        name,
        "Linear network: one and two species",
        "Eigenvalues of W₁ᵀW₁ at the coldest and the hottest point, against the density of the vector "
        "Dyson equation for the predicted species variances v_ss' (physics.md §3.2, with the discrete-time "
        "factor) and a sampled matrix of the same size and variance profile. The measured spectra are "
        "wider at O(N α/|B|) (input-noise and balance-direction effects; item 13 extrapolates to α/|B| → 0).",
    )


# -- initialisation ---------------------------------------------------------------------------
def fig_initial(rep: Reproduction, outdir: Path) -> Figure | None:
    ini = rep.experiments.get("init")
    if ini is None:
        return None
    plt = _plt()
    runs = [r for r in ini.runs if r.analysis.dataset.initial]
    fig, axes = plt.subplots(1, len(runs), figsize=(3.2 * len(runs), 2.7), squeeze=False)
    for ax, rd in zip(axes.flat, runs, strict=True):
        m = rd.config.model
        if m.kind == "grbm":
            dims, name = (m.n_hidden, m.n_visible), "X"
        else:
            dims, name = (m.n_hidden, m.n_in), next(iter(rd.analysis.dataset.initial))
        big, small = max(dims), min(dims)
        x = rd.analysis.dataset.initial[name].ravel() / big
        ax.hist(x, bins=rmt.fd_bin_edges(x), density=True, alpha=0.5, label="step 0")
        q = small / big
        grid = np.linspace(1e-6, rmt.mp_edges(m.init_std**2, q)[1] * 1.05, 400)
        ax.plot(
            grid,
            rmt.mp_pdf(grid, m.init_std**2, q),
            "k-",
            lw=1,
            label=f"MP s² = {m.init_std**2:g}, q = {q:g}",
        )
        h = np.histogram(x, bins=rmt.fd_bin_edges(x), density=True)[0]
        ax.set_ylim(0, 3.0 * h[1:].max() if q == 1 else 1.6 * h.max())
        ax.set_title(f"{m.kind} {dims[0]}×{dims[1]}: eigenvalues at init / {big}")
        ax.legend()
    name = _save(fig, outdir, "repro_initial.png")
    return (
        name,
        "Marchenko–Pastur at initialisation",
        "Eigenvalues of WᵀW/N at step 0 (W ~ N(0, 0.1²)) against Marchenko–Pastur with the init "
        "variance: the GRBM (10×10, q = 1, support [0, 0.04]; 5×10, q = 1/2) and a 40×20 layer. Item 11.",
    )


# -- relaxation and the equal-T collapse ------------------------------------------------------
def fig_relaxation(rep: Reproduction, outdir: Path) -> Figure | None:
    detail = rep.extra.get("relaxation") or []
    if not detail:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.6, 3.2))
    for d, c in zip(detail, _colors(len(detail)), strict=True):
        acf = np.array(d["autocorrelation"])
        t = np.arange(len(acf)) * d["dt"]
        ax.semilogy(
            t, np.clip(acf, 1e-3, None), "o", ms=2.5, color=c, label=f"{d['cluster']}: {d['rate']:.3g}"
        )
        ax.semilogy(t, np.exp(-d["predicted"] * t), "-", color=c, lw=0.8)
    ax.set_xlabel("lag t = nα")
    ax.set_ylabel("C(t)")
    ax.legend(title="measured rate (line: 2Ω)")
    name = _save(fig, outdir, "repro_relaxation.png")
    return (
        name,
        "Relaxation rates",
        "Autocorrelation of each level (pair: its centre) in the long stationary run, on the lags used "
        "in the fit, against exp(−2Ω t). Item 10.",
    )


def fig_collapse(rep: Reproduction, outdir: Path) -> Figure | None:
    lat = rep.experiments.get("lattice")
    if lat is None:
        return None
    pts = [lat.find(a, b) for a, b in ((0.02, 16), (0.04, 32), (0.08, 64), (0.04, 16))]
    if any(p is None for p in pts[:2]):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.0, 3.0))
    bins = np.linspace(0.6, 5.6, 140)
    for p, c in zip([q for q in pts if q is not None], ["C0", "C1", "C2", "C3"], strict=False):
        x = p.point.samples["X"].ravel()  # _hist drops the non-finite values
        _hist(ax, x, bins, c, f"({p.alpha:g}, {p.bs}), α/|B| = {p.T:g}", lw=0.8)
    ax.set_xlabel("eigenvalues x of WᵀW")
    ax.set_title("GRBM spectrum at equal α/|B| (and doubled α)")
    ax.legend()
    name = _save(fig, outdir, "repro_collapse.png")
    return (
        name,
        "Linear scaling rule, whole spectrum",
        "All ten levels of the GRBM at (0.02, 16), (0.04, 32), (0.08, 64) (α/|B| = 0.00125: one curve) "
        "and at (0.04, 16) (twice α: √2 wider). Item 1.",
    )


def make_figures(rep: Reproduction, outdir: Path) -> list[Figure]:
    out = []
    for maker in (
        fig_spacings,
        fig_scaling,
        fig_shifts,
        lambda r, o: chain_lag_figure(r.experiments, o, _plt()),  # item 9c (figure_lag.py)
        fig_semicircles,
        fig_linear,
        fig_initial,
        fig_collapse,
        fig_relaxation,
        lambda r, o: reproduction_figure(diagram_of(r.experiments), o, _plt()),  # item 15 (report_phases.py)
    ):
        f = maker(rep, outdir)
        if f is not None:
            out.append(f)
    return out
