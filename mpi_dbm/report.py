"""Figures (matplotlib, Agg) and the report page of an analysis; the only module that plots.

`write_report(analysis, outdir)` writes PNG figures and `report.html`, a single page
with inline style that references only the PNGs next to it. `require_matplotlib()` checks,
before anything is written, that the figures can be drawn.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from . import rmt
from .analysis.data import PointData
from .analysis.observables import ClusterStats
from .analysis.pipeline import Analysis, dyson_beta_status
from .errors import DependencyError
from .report_nulls import null_models_html
from .report_phases import phases_figure, phases_html

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
    scanned = p.label.split(") ", 1)[1] if p.parameters else ""
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
            series = c.label + (f"; {p.label.split(') ', 1)[1]}" if p.parameters else "")
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


# -- HTML ---------------------------------------------------------------------------
_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em}td,th{border:1px solid #ccc;padding:2px 6px}
th{background:#f3f3f3}.pass{background:#d9f2d9}.fail{background:#f8d0d0}.info{background:#eef}
.inconclusive{background:#fff3c4}
pre{background:#f6f6f6;padding:.5em;font-size:.8em;overflow:auto}figure{margin:1em 0}
img{max-width:100%}figcaption{font-size:.85em;color:#555}.missing{color:#b00;font-weight:bold}
"""
_CHECK_IMAGES = """
window.addEventListener('load', function () {
  for (const img of document.images) {
    const ok = img.complete && img.naturalWidth > 0;
    img.dataset.loaded = ok ? 'yes' : 'no';
    if (!ok) { const p = document.createElement('p'); p.className = 'missing';
               p.textContent = 'figure missing: ' + img.getAttribute('src'); img.after(p); }
  }
  document.body.dataset.checked = 'yes';
});
"""


def _relative_cell(measured: dict[str, float] | None, predicted: float | None) -> str:
    """measured / predicted ± error (a persistent-chain lag or finite-α correction shows here)."""
    if not measured or not predicted:
        return "–"
    return f"{_fmt(measured['value'] / predicted)} ± {_fmt(measured['error'] / abs(predicted))}"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}" if math.isfinite(v) else "–"
    return html.escape(str(v))


def _value_cell(d: dict[str, float] | None) -> str:
    if not d:
        return "–"
    return f"{_fmt(d['value'])} ± {_fmt(d['error'])}"


def _table(header: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    out = ["<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header) + "</tr>"]
    for i, r in enumerate(rows):
        cls = f' class="{classes[i]}"' if classes else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    return "\n".join(out) + "</table>"


def _ratio_cell(rec: dict[str, Any], key: str) -> str:
    r = rec.get("nth_ratios", {}).get(key)
    if r is None or "value" not in r:
        return "–"
    ok = ", ".join(e.upper() for e in r["consistent"]) or "none"
    return (
        f"{_fmt(r['value'])} ± {_fmt(r['error'])} (GOE {_fmt(r['references']['goe']['matched'])}; "
        f"consistent: {html.escape(ok)})"
    )


def _series_cell(r: dict[str, Any] | None, at: float) -> str:
    if not r or at not in r["lengths"]:
        return "–"
    i = r["lengths"].index(at)
    return (
        f"{_fmt(r['values'][i])} ± {_fmt(r['errors'][i])} (GOE {_fmt(r['matched']['goe'][i])}, "
        f"∞ {_fmt(r['large_n']['goe'][i])}; Poisson {_fmt(r['large_n']['poisson'][i])})"
    )


def _left_out(rec: dict[str, Any]) -> dict[str, str]:
    """Every statistic of a level set left out, with why (its own notes and the long-range ones)."""
    out = dict(rec["not_enough_data"])
    lr = rec.get("long_range", {})
    for key, what in (("long_range_not_enough_data", "Σ², Δ₃"), ("form_factor_not_enough_data", "K(τ)")):
        if key in lr:
            out[what] = lr[key]
    return out


def _spectral_html(a: Analysis) -> list[str]:
    """Tables of the n-th order ratios, Σ²/Δ₃/edge per level set, the step-0 edge and the Dyson SDE."""
    parts: list[str] = []
    rows = []
    for (name, idx), sets in sorted(a.spectral.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        for rec in sets:
            lr = rec.get("long_range", {})
            edge = rec.get("edge")
            rows.append(
                [
                    html.escape(name),
                    str(idx),
                    html.escape(rec["label"]),
                    *(_ratio_cell(rec, f"n{k}") for k in (1, 2, 3)),
                    _series_cell(lr.get("number_variance"), 1.0),
                    _series_cell(lr.get("rigidity"), 1.0),
                    f"KS p = {_fmt(edge['matched']['ks_p'])} (TW₁ p = {_fmt(edge['tracy_widom_1']['ks_p'])})"
                    if edge
                    else "–",
                    html.escape("; ".join(f"{k}: {v}" for k, v in _left_out(rec).items())) or "–",
                ]
            )
    if rows:
        parts.append("<h2>Level statistics beyond nearest neighbours</h2>")
        parts.append(
            "<p>Per level set (a family cluster of ≥ 8 levels, or the whole spectrum where the family gives "
            "no clusters): n-th order spacing ratios ⟨r̃<sup>(n)</sup>⟩ (errors jackknife over replicas), "
            "against matched-size sampled GOE spectra (the decision; ∞: the N → ∞ law); Σ²(1) and Δ₃(1) "
            "after an ensemble unfolding (pooled staircase) of the last analysed measurement of each "
            "replica; the largest level of a set that is one GOE-like cluster. Everything with all "
            "references is in <code>summary.json</code> (points[].spectra[].level_sets).</p>"
        )
        parts.append(
            _table(
                [
                    "spectrum",
                    "point",
                    "levels",
                    "⟨r̃⁽¹⁾⟩",
                    "⟨r̃⁽²⁾⟩",
                    "⟨r̃⁽³⁾⟩",
                    "Σ²(1)",
                    "Δ₃(1)",
                    "largest level vs GOE",
                    "not enough data",
                ],
                rows,
            )
        )
    if a.initial_edge:
        parts.append("<h2>Largest eigenvalue at initialisation</h2>")
        erows = []
        for name, e in a.initial_edge.items():
            if "not_enough_data" in e:
                erows.append([html.escape(name), html.escape(e["not_enough_data"]), "–", "–", "–"])
                continue
            erows.append(
                [
                    html.escape(name),
                    html.escape(e["scaling"]),
                    f"{_fmt(e['mean'])} / {_fmt(e['variance'])}",
                    f"{_fmt(e['matched']['mean'])} / {_fmt(e['matched']['variance'])}, KS p = "
                    f"{_fmt(e['matched']['ks_p'])}",
                    f"{_fmt(e['tracy_widom_1']['mean'])} / {_fmt(e['tracy_widom_1']['variance'])}, KS p = "
                    f"{_fmt(e['tracy_widom_1']['ks_p'])}",
                ]
            )
        parts.append(
            _table(
                ["spectrum", "scaling", "mean / variance", "matched Wishart", "Tracy–Widom F₁"],
                erows,
            )
        )
    parts.append("<h2>Dyson SDE</h2>")
    if not a.dyson:
        parts.append(f"<p>{html.escape(str(a.dyson_series.get('note', 'no fit')))}</p>")
        return parts
    drows, classes = [], []
    for r in a.dyson:
        rec = r.record
        base = [html.escape(r.spectrum), str(r.point), _fmt(a.dataset.points[r.point].temperature)]
        base.append(html.escape(r.label))
        if "beta" not in rec:
            drows.append([*base, html.escape(rec.get("not_enough_data") or rec.get("note", "")), *["–"] * 5])
            classes.append("info")
            continue
        drows.append(
            [
                *base,
                f"{_fmt(rec['repulsion_over_T'])} ± {_fmt(rec['repulsion_over_T_error'])}",
                f"{_fmt(rec['diffusion_over_T'])} ± {_fmt(rec['diffusion_over_T_error'])}",
                *(
                    f"{_fmt(rec[f'{k}_over_predicted'])} ± {_fmt(rec[f'{k}_over_predicted_error'])}"
                    if rec[f"{k}_over_predicted"] is not None
                    else "–"
                    for k in ("repulsion", "diffusion")
                ),
                f"{_fmt(rec['beta'])} ± {_fmt(rec['beta_error'])}",
                f"Δt = {_fmt(rec['dt'])}, {html.escape(rec['fit']['method'])}",
            ]
        )
        classes.append(dyson_beta_status(rec["beta"], rec["beta_error"]))
    parts.append(
        "<p>Kramers–Moyal fit of the level SDE on the measurement series of the window "
        "(rmt.fit_grbm_dyson for the GRBM: predicted a = c = T = α/|B|; elsewhere the confined Dyson model "
        "of a cluster, predicted a = 2γv, c = 4γv with the family's GOE variance v and relaxation rate γ); "
        "β = 1 for both.</p>"
    )
    parts.append(
        _table(
            [
                "spectrum",
                "point",
                "α/|B|",
                "levels",
                "a/T",
                "c/T",
                "a/predicted",
                "c/predicted",
                "β",
                "method",
            ],
            drows,
            classes,
        )
    )
    return parts


def write_html(a: Analysis, outdir: Path, figures: list[tuple[str, str, str]]) -> Path:
    ds = a.dataset
    s = a.summary()
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>mpi-dbm report: {html.escape(ds.config.sweep.name)}</title>",
        f"<style>{_STYLE}</style><script>{_CHECK_IMAGES}</script></head><body>",
        f"<h1>mpi-dbm report: {html.escape(ds.config.sweep.name)}</h1>",
        f"<p>Results file <code>{html.escape(str(ds.path))}</code>, model <b>{ds.config.model.kind}</b>, "
        f"config sha256 <code>{html.escape(str(s['config_sha256'])[:16])}</code>, analysed steps "
        f"{html.escape(str(s['analysed_steps'][:3]))}{'…' if len(s['analysed_steps']) > 3 else ''}. "
        f"Theory: {html.escape(a.expectation.description)}.</p>",
        "<h2>Verdicts</h2>",
        _table(
            ["", "check", "detail"],
            [[v.status, html.escape(v.name), html.escape(v.detail)] for v in a.verdicts],
            [v.status for v in a.verdicts],
        ),
        "<h2>Points</h2>",
        _table(
            ["#", "α", "|B|", "α/|B|"]
            + [k.split(".", 1)[1] for k in ds.config.scanned_keys]
            + ["analysed", "diverged (excluded)", "pending (missing)"],
            [
                [
                    str(p.index),
                    _fmt(p.learning_rate),
                    str(p.batch_size),
                    _fmt(p.temperature),
                    *(_fmt(v) for _, v in p.parameters),
                    str(p.n_done),
                    str(p.n_diverged),
                    str(p.n_pending),
                ]
                for p in ds.points
            ],
        ),
    ]
    for name in ds.spectra:
        parts.append(f"<h2>Clusters of {html.escape(name)}</h2>")
        if a.clusters_detected[name]:
            parts.append(
                "<p>Clusters detected from the data (the model gives no fixed point for this spectrum).</p>"
            )
        rows = []
        for p in ds.points:
            for st in a.stats.get((name, p.index), []):
                v, pr = st.values, st.predicted
                main = v.get("mean_spacing") or v.get("std") or v.get("second_moment")
                main_key = next((k for k in ("mean_spacing", "std", "second_moment") if k in v), None)
                rows.append(
                    [
                        html.escape(f"{p.index} {p.label}" if p.parameters else str(p.index)),
                        html.escape(st.cluster.label),
                        _value_cell(v.get("centre")),
                        _value_cell(v.get("shift")),
                        _fmt(pr.get("shift", math.nan)),
                        _relative_cell(v.get("shift"), pr.get("shift")),
                        f"{main_key or '–'}: {_value_cell(main)}",
                        _fmt(pr.get(main_key, math.nan)) if main_key else "–",
                        _value_cell(v.get("s2") or v.get("mean_rtilde")),
                        _fmt(pr.get("s2", pr.get("mean_rtilde", math.nan))),
                    ]
                )
        parts.append(
            _table(
                [
                    "point",
                    "cluster",
                    "centre",
                    "shift",
                    "predicted shift",
                    "shift / predicted",
                    "width",
                    "predicted",
                    "⟨s²⟩ or ⟨r̃⟩",
                    "GOE",
                ],
                rows,
            )
        )
        fits = a.fits.get(name, [])
        if fits:
            parts.append("<h3>Linear scaling: y = a·√v pooled over points and clusters</h3>")
            parts.append(
                _table(
                    ["observable", "a", "theory", "pull", "χ²/dof", "points"],
                    [
                        [
                            f.observable,
                            f"{_fmt(f.slope)} ± {_fmt(f.slope_error)}",
                            _fmt(f.predicted_slope),
                            _fmt(f.pull),
                            _fmt(f.chi2_dof),
                            str(f.n_points),
                        ]
                        for f in fits
                    ],
                )
            )
    parts += _spectral_html(a)
    parts += null_models_html(a)  # null models of the spacing statistics (report_nulls.py)
    parts += phases_html(a)  # multilayer phases table (report_phases.py)
    if a.collapse:
        parts.append("<h2>Collapse at equal α/|B|</h2>")
        parts.append(
            _table(
                ["spectrum", "α/|B|", "points", "combined p", "result"],
                [
                    [
                        c.spectrum,
                        _fmt(c.temperature),
                        ", ".join(map(str, c.points)),
                        _fmt(c.combined_pvalue),
                        "pass" if c.passed else "fail",
                    ]
                    for c in a.collapse
                ],
                ["pass" if c.passed else "fail" for c in a.collapse],
            )
        )
    section = None
    for sec, fname, caption in figures:
        if sec != section:
            parts.append(f"<h2>{html.escape(sec)}</h2>")
            section = sec
        parts.append(
            f"<figure><img src='{html.escape(fname)}' alt='{html.escape(fname)}'>"
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    parts += [
        "<h2>Analysis parameters</h2>",
        f"<pre>{html.escape(str(a.parameters.record()))}</pre>",
        "<h2>Config</h2>",
        f"<pre>{html.escape(ds.config.to_toml())}</pre>",
        "<p>Every number with its error is in <code>summary.json</code>;"
        " tables in <code>analysis.h5</code>.</p>",
        "</body></html>",
    ]
    path = outdir / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def write_report(a: Analysis, outdir: Path, figures: bool = True) -> Path:
    figs = make_figures(a, outdir) if figures else []
    return write_html(a, outdir, figs)
