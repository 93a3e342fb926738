"""Figures (matplotlib, Agg) and the report of an analysis; the only module that plots.

`write_report(analysis, outdir)` writes PNG figures and `report.html`, a single page
with inline style that references only the PNGs next to it (report_html.py writes the page,
report_tables.py, report_nulls.py and report_phases.py its tables). `require_matplotlib()` checks,
before anything is written, that the figures can be drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from . import rmt
from .analysis.data import PointData
from .analysis.observables import ClusterStats
from .analysis.pipeline import Analysis
from .errors import DependencyError
from .report_html import write_html
from .report_phases import phases_figure
from .scan import parameters_label

__all__ = [
    "fig_dyson",
    "fig_initial",
    "fig_scaling",
    "fig_shifts",
    "fig_sigma_vs_s",
    "fig_spacings",
    "fig_spectra",
    "fig_trajectories",
    "make_figures",
    "require_matplotlib",
    "write_html",
    "write_report",
]

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def require_matplotlib() -> None:
    """Import matplotlib (Agg) and pyplot now; a missing or broken install is a DependencyError."""
    try:
        _plt()
    except ImportError as exc:
        raise DependencyError(
            f"matplotlib cannot be imported ({exc}); it draws the report's figures: "
            "install it (pip install matplotlib) or pass --no-figures"
        ) from None


def _finite_mean_std(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over axis 0 of the finite entries; NaN where a column has none."""
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    safe = np.maximum(n, 1)
    mean = np.where(ok, x, 0.0).sum(axis=0) / safe
    var = np.where(ok, (np.where(ok, x, 0.0) - mean) ** 2, 0.0).sum(axis=0) / safe
    return np.where(n > 0, mean, np.nan), np.where(n > 0, np.sqrt(var), np.nan)


def _plt() -> ModuleType:
    """matplotlib.pyplot on the Agg backend with the report's style (a module has no narrower type)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": 100, "font.size": 9, "axes.grid": True, "grid.alpha": 0.3})
    return plt


def _save(fig: Figure, outdir: Path, name: str) -> str:
    fig.tight_layout()
    fig.savefig(outdir / name)
    _plt().close(fig)
    return name


def _grid(n: int, width: float = 3.6, height: float = 2.8) -> tuple[Figure, list[Axes]]:
    plt = _plt()
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def _stats_of(a: Analysis, name: str) -> list[ClusterStats]:
    """Every cluster's statistics of one spectrum, over all points."""
    return [st for p in a.dataset.points for st in a.stats.get((name, p.index), [])]


def _point_label(p: PointData) -> str:
    """α, |B|, α/|B| and the point's scanned parameters (if the sweep has a scan)."""
    scanned = parameters_label(p.parameters)
    return f"α={p.learning_rate:g}, |B|={p.batch_size}, α/|B|={p.temperature:.3g}" + (
        f"; {scanned}" if scanned else ""
    )


def fig_spectra(a: Analysis, name: str, outdir: Path) -> str | None:
    """Histogram of every level at the analysed measurement, with the predicted cluster densities."""
    pts = [p for p in a.dataset.points if p.n_done >= 2]
    if not pts:
        return None
    fig, axes = _grid(len(pts))
    for ax, p in zip(axes, pts, strict=True):
        x = p.samples[name].reshape(-1)
        x = x[np.isfinite(x)]
        ax.hist(x, bins=int(np.clip(x.size // 10, 20, 160)), density=True, alpha=0.5, label="measured")
        grid = np.linspace(x.min() - 0.05 * np.ptp(x), x.max() + 0.05 * np.ptp(x), 800)
        total = np.zeros_like(grid)
        size = p.samples[name].shape[-1]
        for c in a.clusters_of(p)[name]:
            v = a.expectation_of(p).variance(name, c, p.learning_rate, p.batch_size)
            if c.centre is None or v is None:
                continue
            if c.n == 1:
                dens = rmt.gaussian_pdf(grid, c.centre, math.sqrt(2 * v))
            elif c.n == 2:
                dens = rmt.goe2_pdf(grid, c.centre, math.sqrt(2 * v))
            else:
                dens = rmt.semicircle_pdf(grid, c.centre, 2 * math.sqrt(c.n * v))
            total += dens * c.n / size
            ax.axvline(c.centre, color="k", ls=":", lw=0.7)
        if total.any():
            ax.plot(grid, total, "r-", lw=1, label="theory (GOE blocks at x*)")
        ax.set_title(_point_label(p), fontsize=8)
        ax.set_xlabel(f"eigenvalues of {name}")
        ax.legend(fontsize=7)
    return _save(fig, outdir, f"spectra_{name}.png")


def fig_spacings(a: Analysis, name: str, outdir: Path) -> str | None:
    """P(s) of every degenerate pair, all points overlaid, against the surmises."""
    pairs = [c for c in a.clusters[name] if c.n == 2]  # variant 0's; matched by levels in any variant
    if not any(st.spacings is not None and st.spacings.size > 5 for st in _stats_of(a, name)):
        return None
    fig, axes = _grid(len(pairs))
    s_grid = np.linspace(0, 4, 400)
    for ax, c in zip(axes, pairs, strict=True):
        for p in a.dataset.points:
            for st in a.stats.get((name, p.index), []):
                same = (st.cluster.start, st.cluster.stop) == (c.start, c.stop)
                if same and st.spacings is not None and st.spacings.size > 5:
                    ax.hist(
                        st.spacings,
                        # matplotlib's stub says Sequence[float]; hist takes any 1-d array of edges
                        bins=np.linspace(0, 4, 25),  # type: ignore[arg-type]
                        density=True,
                        histtype="step",
                        label=f"α/|B|={p.temperature:.3g} (#{p.index})",
                    )
        ax.plot(s_grid, rmt.spacing_pdf(s_grid, "goe"), "k-", lw=1.5, label="GOE surmise")
        ax.plot(s_grid, rmt.spacing_pdf(s_grid, "gue"), "k--", lw=0.8, label="GUE")
        ax.plot(s_grid, rmt.spacing_pdf(s_grid, "poisson"), "k:", lw=0.8, label="Poisson")
        ax.set_title(c.label, fontsize=8)
        ax.set_xlabel("s = S/⟨S⟩")
        ax.set_ylabel("P(s)")
        ax.legend(fontsize=6)
    return _save(fig, outdir, f"spacings_{name}.png")


def fig_scaling(a: Analysis, name: str, outdir: Path) -> str | None:
    """Each observable against √v with the pooled proportional fit (the linear scaling rule)."""
    fits = a.fits.get(name, [])
    if not fits:
        return None
    keys = {"pair_mean_spacing": "mean_spacing", "pair_sqrt_pi_sigma": "sqrt_pi_sigma", "single_std": "std"}
    fig, axes = _grid(len(fits))
    colour_key, colour_label = _colour_by(a)
    for ax, f in zip(axes, fits, strict=True):
        key = keys.get(f.observable, "second_moment")
        xs, ys, es, temps = [], [], [], []
        for p in a.dataset.points:
            for st in a.stats.get((name, p.index), []):
                if key in st.values and "sqrt_v" in st.predicted:
                    if f.observable.startswith("cluster") and f"cluster{st.cluster.n}_rms" != f.observable:
                        continue
                    val, err = st.values[key]["value"], st.values[key]["error"]
                    if key == "second_moment":
                        val, err = math.sqrt(val), 0.5 * err / math.sqrt(val)
                    xs.append(st.predicted["sqrt_v"])
                    ys.append(val)
                    es.append(err)
                    temps.append(colour_key(p))
        sc = ax.scatter(xs, ys, c=temps, s=14, cmap="viridis", zorder=3)
        ax.errorbar(xs, ys, yerr=es, fmt="none", ecolor="grey", lw=0.8)
        line = np.linspace(0, max(xs) * 1.05, 10)
        ax.plot(line, f.slope * line, "r-", lw=1, label=f"fit a = {f.slope:.3f} ± {f.slope_error:.3f}")
        if f.predicted_slope:
            ax.plot(
                line, f.predicted_slope * line, "k--", lw=0.8, label=f"theory a = {f.predicted_slope:.3f}"
            )
        ax.set_xlabel("√v (predicted GOE scale)")
        ax.set_ylabel(f.observable)
        ax.set_title(f"{f.observable}: χ²/dof = {f.chi2_dof:.2f}", fontsize=8)
        ax.legend(fontsize=7)
        ax.figure.colorbar(sc, ax=ax, label=colour_label)
    return _save(fig, outdir, f"scaling_{name}.png")


def _colour_by(a: Analysis) -> tuple[Callable[[PointData], float], str]:
    """What the points of a pooled figure are coloured by: the first numeric scanned parameter
    when the sweep scans one (the fit pools every variant), else log10 α/|B|."""
    for key in a.dataset.config.scanned_keys:
        values = [dict(p.parameters).get(key) for p in a.dataset.points]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return (lambda p, k=key: float(dict(p.parameters)[k])), key.split(".", 1)[1]
    return (lambda p: math.log10(p.temperature)), "log10 α/|B|"


def fig_sigma_vs_s(a: Analysis, name: str, outdir: Path) -> str | None:
    """√π σ of the 2×2 GOE fit against ⟨S⟩ (the authors' `sig-S` plot): on y = x."""
    xs, ys, ex, ey = [], [], [], []
    for rows in (a.stats.get((name, p.index), []) for p in a.dataset.points):
        for st in rows:
            if "mean_spacing" in st.values:
                xs.append(st.values["mean_spacing"]["value"])
                ex.append(st.values["mean_spacing"]["error"])
                ys.append(st.values["sqrt_pi_sigma"]["value"])
                ey.append(st.values["sqrt_pi_sigma"]["error"])
    if not xs:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 3.4))
    ax.errorbar(xs, ys, xerr=ex, yerr=ey, fmt="o", ms=3)
    top = max(max(xs), max(ys)) * 1.05
    ax.plot([0, top], [0, top], "k--", lw=0.8, label="y = x")
    ax.set_xlabel("⟨S⟩")
    ax.set_ylabel("√π σ (2×2 GOE fit)")
    ax.legend()
    return _save(fig, outdir, f"sigma_vs_S_{name}.png")


def fig_shifts(a: Analysis, name: str, outdir: Path) -> str | None:
    """Non-universal: the model's centre ratio (GRBM λ_fit/κ) or relative shift against α/|B|."""
    rows = []
    for p in a.dataset.points:
        for st in a.stats.get((name, p.index), []):
            c = st.cluster
            if c.centre is None:
                continue
            centre, err = st.values["centre"]["value"], st.values["centre"]["error"]
            exp = a.expectation_of(p)
            tr = exp.target_ratio(name, c, centre)
            if tr is not None:
                label, val = tr
                tr_err = exp.target_ratio(name, c, centre + err)
                assert tr_err is not None  # whether a ratio exists depends on the cluster, not the centre
                err_ratio = abs(tr_err[1] - val)
            elif c.centre != 0:
                label, val, err_ratio = "centre / x*", centre / c.centre, err / abs(c.centre)
            else:  # a level at x* = 0 (a linear net's unlearned mode): no ratio
                continue
            pred = st.predicted.get("shift")
            if pred is not None:
                tr_pred = exp.target_ratio(name, c, c.centre + pred)
                pred_val = tr_pred[1] if tr_pred is not None else (c.centre + pred) / c.centre
            else:
                pred_val = math.nan
            series = c.label + (f"; {parameters_label(p.parameters)}" if p.parameters else "")
            rows.append((series, p.temperature, val, err_ratio, label, pred_val))
    if not rows:
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for lab in dict.fromkeys(r[0] for r in rows):
        sel = [r for r in rows if r[0] == lab]
        ax.errorbar(
            [r[1] for r in sel], [r[2] for r in sel], yerr=[r[3] for r in sel], fmt="o-", ms=3, label=lab
        )
    ax.axhline(1, color="k", lw=0.7, ls="--")
    ax.set_xlabel("α/|B|   (dashed: O(α/|B|) prediction, physics.md §2.6)")
    ax.set_ylabel(rows[0][4])
    ax.legend(fontsize=6)
    return _save(fig, outdir, f"shifts_{name}.png")


def fig_initial(a: Analysis, name: str, outdir: Path) -> str | None:
    ini = a.initial.get(name)
    if ini is None or "fit" not in ini:
        return None
    x = a.dataset.initial[name].reshape(-1) / ini["normalisation"]
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 3.4))
    ax.hist(x, bins=rmt.fd_bin_edges(x), density=True, alpha=0.5, label="step 0")
    grid = np.linspace(1e-9, x.max() * 1.05, 600)
    fit = ini["fit"]
    ax.plot(
        grid,
        rmt.mp_pdf(grid, fit["scale"], min(fit["ratio"], 1.0)),
        "r-",
        label=f"MP fit: s²={fit['scale']:.3g}, q={fit['ratio']:.2f}",
    )
    ax.plot(
        grid,
        rmt.mp_pdf(grid, ini["expected_scale"], ini["expected_ratio"]),
        "k--",
        lw=0.8,
        label=f"MP of the init: s²={ini['expected_scale']:.3g}",
    )
    ax.set_xlabel(f"eigenvalues of {name} / {ini['normalisation']:g}")
    ax.set_ylim(
        0, min(ax.get_ylim()[1], 3 * np.histogram(x, bins=rmt.fd_bin_edges(x), density=True)[0].max())
    )
    ax.legend(fontsize=7)
    return _save(fig, outdir, f"initial_{name}.png")


def fig_trajectories(a: Analysis, name: str, outdir: Path) -> str | None:
    pts = [p for p in a.dataset.points if p.n_done >= 1]
    if not pts:
        return None
    fig, axes = _grid(len(pts))
    steps = a.dataset.steps
    for ax, p in zip(axes, pts, strict=True):
        mean, std = _finite_mean_std(p.trajectories[name])
        for k in range(mean.shape[-1]):
            ax.plot(steps, mean[:, k], lw=0.9)
            ax.fill_between(steps, mean[:, k] - std[:, k], mean[:, k] + std[:, k], alpha=0.2)
        for c in a.clusters_of(p)[name]:
            if c.centre is not None:
                ax.axhline(c.centre, color="k", ls=":", lw=0.6)
        ax.set_title(_point_label(p), fontsize=8)
        ax.set_xlabel("step")
        ax.set_ylabel(f"{name} (mean ± std over replicas)", fontsize=7)
    return _save(fig, outdir, f"trajectories_{name}.png")


def fig_dyson(a: Analysis, name: str, outdir: Path) -> str | None:
    """Binned Kramers–Moyal drift ⟨Δx|x⟩/τ and diffusion ⟨Δx²|x⟩/τ of each fit with the fitted
    model's curves (rmt.binned_moments: the model averaged over each bin's points)."""
    fits = [r for r in a.dyson if r.spectrum == name and r.bins is not None]
    if not fits:
        return None
    plt = _plt()
    fig, axes = plt.subplots(len(fits), 2, figsize=(9, 3 * len(fits)), squeeze=False)
    for (ax_d, ax_c), r in zip(axes, fits, strict=True):
        b = r.bins
        assert b is not None
        ok = b.counts > 0
        temp = a.dataset.points[r.point].temperature
        for ax, val, err, pred, what in (
            (ax_d, b.drift, b.drift_error, b.predicted_drift, "drift ⟨Δx|x⟩/τ"),
            (ax_c, b.diffusion, b.diffusion_error, b.predicted_diffusion, "diffusion ⟨Δx²|x⟩_c/τ"),
        ):
            ax.errorbar(b.centres[ok], val[ok], yerr=err[ok], fmt="o", ms=3, label="measured")
            if np.isfinite(pred[ok]).any():
                ax.plot(b.centres[ok], pred[ok], "r_", ms=12, mew=1.5, label="fitted SDE (bin average)")
            ax.set_xlabel(f"{name} level x")
            ax.set_ylabel(what, fontsize=8)
            ax.legend(fontsize=7)
        beta = r.record.get("beta")
        title = f"#{r.point} α/|B|={temp:.3g}: {r.label}"
        if beta is not None:
            title += f"; β = {beta:.2f} ± {r.record['beta_error']:.2f}"
        ax_d.set_title(title, fontsize=7)
    return _save(fig, outdir, f"dyson_{name}.png")


def make_figures(a: Analysis, outdir: Path) -> list[tuple[str, str, str]]:
    """(section, file, caption) of every figure written."""
    out = []
    makers = [
        (
            "Spectra",
            fig_spectra,
            "Levels at the analysed measurement; red: GOE blocks of the predicted "
            "variance v at the fixed point (Gaussian for singles, 2×2 GOE density for pairs, semicircle for "
            "clusters); dotted: fixed point.",
        ),
        (
            "Level spacings",
            fig_spacings,
            "P(s) of each degenerate pair, s = S/⟨S⟩, all points overlaid, against the Wigner surmises.",
        ),
        (
            "Linear scaling",
            fig_scaling,
            "Each observable against the predicted scale √v ∝ √(α/|B|); one "
            "line through all points is the linear scaling rule.",
        ),
        (
            "Linear scaling",
            fig_sigma_vs_s,
            "√π σ of the 2×2 GOE density fit against ⟨S⟩: GOE structure puts them on y = x.",
        ),
        ("Non-universal shifts", fig_shifts, "Fitted centres against α/|B| (GRBM: λ_fit/κ)."),
        ("Initialisation", fig_initial, "Spectrum at step 0 against Marchenko–Pastur."),
        ("Trajectories", fig_trajectories, "Mean ± std over replicas of every level against the step."),
        (
            "Dyson SDE",
            fig_dyson,
            "Kramers–Moyal drift and (centred) diffusion of the levels, binned in x with equal counts, "
            "Richardson-extrapolated over lags 1 and 2; red: the fitted SDE averaged over the same points.",
        ),
    ]
    for name in a.dataset.spectra:
        for section, maker, caption in makers:
            f = maker(a, name, outdir)
            if f:
                out.append((section, f, f"{name}: {caption}"))
    return out + phases_figure(a, outdir, _plt())  # multilayer phase diagram (report_phases.py)


def write_report(a: Analysis, outdir: Path, figures: bool = True) -> Path:
    figs = make_figures(a, outdir) if figures else []
    return write_html(a, outdir, figs)
