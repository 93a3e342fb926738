"""Phase-diagram figure of the multilayer family (arXiv:2509.01349; mpi_dbm.analysis.phases):
points coloured by their classified phase in the (ε, T = α/|B|) plane, log axes, with the
release's boundary ε_c = 1/√2 (drawn up to T* ≈ 0.87 as in the authors' notebook) and the measured
temperature boundary T_c(ε). Matplotlib with the Agg backend, as mpi_dbm.report.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .analysis.phases import EPS_C, PHASES, T_STAR_RELEASE, PhasePoint, empirical_temperature_boundary
from .report import _plt

#: one colour and marker per phase (PHASES order)
STYLE: dict[str, tuple[str, str]] = {
    "ordered": ("tab:blue", "o"),
    "jammed": ("tab:green", "s"),
    "noisy": ("tab:red", "^"),
    "diverged": ("black", "x"),
}


def phase_diagram(points: Sequence[PhasePoint], path: Path, title: str = "") -> Path:
    """Write the phase diagram of `points` to `path` (PNG) and return the path."""
    if not points:
        raise ValueError("no points to draw")
    plt = _plt()
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
