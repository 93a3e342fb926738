"""Phase-diagram figure and table of the multilayer family (arXiv:2509.01349; mpi_dbm.analysis.phases,
mpi_dbm.analysis.phase_diagram): points coloured by their classified phase in the (ε, T = α/|B|)
plane, log axes, with the release's boundary ε_c = 1/√2 (drawn up to T* ≈ 0.87 as in the authors'
notebook) and the measured temperature boundary T_c(ε).

It imports no matplotlib: the caller hands in pyplot on the Agg backend (report.py its `_plt()`,
reproduce/figures.py its own), so report.py can call it without an import cycle.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from .analysis.phase_diagram import PhaseDiagram
from .analysis.phases import (
    EPS_C,
    PHASES,
    T_STAR_RELEASE,
    PhasePoint,
    empirical_temperature_boundary,
    paper_phase,
)
from .analysis.pipeline import Analysis

FIGURE = "phase_diagram.png"
CAPTION = (
    "Phase of every (α, ε) point in the (ε, T = α/|B|) plane, classified from the singular-value "
    "dynamics of W (analysis/phases.py); dashed: the release's ε_c = 1/√2 up to T* ≈ 0.87; "
    "dash-dotted: the measured T_c(ε) (geometric mean of the last calm and first noisy T)."
)

#: one colour and marker per phase (PHASES order)
STYLE: dict[str, tuple[str, str]] = {
    "ordered": ("tab:blue", "o"),
    "jammed": ("tab:green", "s"),
    "noisy": ("tab:red", "^"),
    "diverged": ("black", "x"),
}


def phase_diagram(plt: ModuleType, points: Sequence[PhasePoint], path: Path, title: str = "") -> Path:
    """Write the phase diagram of `points` to `path` (PNG) with pyplot `plt`; return the path."""
    if not points:
        raise ValueError("no points to draw")
    fig, ax = plt.subplots(figsize=(7.4, 4.2))
    eps = [p.observables.init_width for p in points]
    temp = [p.observables.temperature for p in points]
    for phase in PHASES:
        sel = [p for p in points if p.phase == phase]
        if not sel:
            continue
        colour, marker = STYLE[phase]
        ax.scatter(
            [p.observables.init_width for p in sel],
            [p.observables.temperature for p in sel],
            c=colour,
            marker=marker,
            s=60,
            label=f"{phase} ({len(sel)})",
            zorder=3,
        )
    t_lo, t_hi = min(temp) / 1.5, max(temp) * 1.5
    e_lo, e_hi = min(eps) / 1.5, max(eps) * 1.5
    ax.plot(
        [EPS_C, EPS_C],
        [t_lo, min(T_STAR_RELEASE, t_hi)],
        "k--",
        lw=1.5,
        label=r"release: $\epsilon_c=1/\sqrt{2}$",
    )
    ax.axhline(T_STAR_RELEASE, color="gray", ls=":", lw=1, label=r"release: $T^*\approx0.87$ (line end)")
    measured = empirical_temperature_boundary(temp, eps, [p.phase for p in points])
    if measured:
        xs = sorted(measured)
        ax.plot(
            xs, [measured[x] for x in xs], "-.", color="tab:purple", lw=1.5, label=r"measured $T_c(\epsilon)$"
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(e_lo, e_hi)
    ax.set_ylim(t_lo, t_hi)
    ax.set_xlabel(r"init width $\epsilon$ ($\sigma_W$)")
    ax.set_ylabel(r"temperature $T=\alpha/|B|$")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def phases_figure(a: Analysis, outdir: Path, plt: ModuleType) -> list[tuple[str, str, str]]:
    """report.py's hook: [(section, file, caption)] of the phase diagram, [] without phases."""
    if a.phases is None or not a.phases.points:
        return []
    phase_diagram(plt, a.phases.phase_points, outdir / FIGURE, title=a.dataset.config.sweep.name)
    return [("Phase diagram", FIGURE, CAPTION)]


def _f(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}g}" if math.isfinite(x) else "–"


def phases_html(a: Analysis) -> list[str]:
    """report_html.py's hook: the phase table (one row per point) and the boundaries, [] without phases."""
    d: PhaseDiagram | None = a.phases
    if d is None:
        return []
    agree, n = d.agreement()
    boundary = ", ".join(f"ε = {e:g}: {t:.3g}" for e, t in sorted(d.boundary().items())) or "none"
    head = ["#", "ε", "T = α/|B|", "phase", "release", "diverged", "change", "s_max 0 → end", "s_t", "⟨r̃⟩"]
    rows = []
    for dp in sorted(
        d.points, key=lambda x: (x.phase.observables.init_width, x.phase.observables.temperature)
    ):
        o, sp = dp.phase.observables, dp.phase.spacing
        cells = [
            str(dp.index),
            f"{o.init_width:g}",
            f"{o.temperature:g}",
            f"<b>{dp.phase.phase}</b>",
            paper_phase(o.temperature, o.init_width),
            _f(o.diverged_fraction, 2),
            _f(o.change),
            f"{_f(o.s_max_initial)} → {_f(o.s_max_final)}",
            _f(o.teacher_scale),
            "–" if sp is None else f"{sp.mean:.3f} ± {sp.error:.3f}",
        ]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    skipped = "".join(f"<li>point {i}: {html.escape(w)}</li>" for i, w in sorted(d.skipped.items()))
    return [
        "<h2>Phases (arXiv:2509.01349)</h2>",
        f"<p>{n} points classified, {agree} as the release's diagram (ε_c = 1/√2 below T* ≈ 0.87, "
        f"noisy above). Measured T_c(ε): {html.escape(boundary)}. Method: see "
        "<code>summary.json</code> phases.method. ⟨r̃⟩ of the last spectra: GOE 0.531, Poisson 0.386.</p>",
        "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows) + "</table>",
        *([f"<ul>{skipped}</ul>"] if skipped else []),
    ]


def reproduction_figure(d: PhaseDiagram | None, outdir: Path, plt: ModuleType) -> tuple[str, str, str] | None:
    """reproduce/figures.py's hook: (file, title, caption) of item 15's phase diagram, None if not run."""
    if d is None or not d.points:
        return None
    name = "repro_phases.png"
    phase_diagram(plt, d.phase_points, outdir / name, title="multilayer net (arXiv:2509.01349)")
    return (name, "Multilayer SGD phase diagram (item 15)", CAPTION + " Rows 15a-15c.")
