"""Quick SGD phase diagram of the multilayer teacher–student network (arXiv:2509.01349, issue #15).

Runs the quick recipe mpi_dbm/recipes/quick/multilayer.toml (one sweep: α = 0.125 … 256 at |B| = 4
times the init width ε = 0.125 … 256 through `[sweep.scan] "model.init_width"`) with `mpi-dbm run`,
analyses it with `mpi_dbm.analysis.analyze` (whose summary.json "phases" classifies every (α, ε)
point with mpi_dbm.analysis.phases), writes the report (report.html with the phase table,
phase_diagram.png) and prints the table (phase, observables, ⟨r̃⟩).

    .venv/bin/python examples/multilayer_phase_diagram.py -o OUT_DIR [--mpirun "scripts/mpirun-local -n 2"]

An existing complete results file OUT_DIR/multilayer.h5 is reused (a partial one is resumed);
--analyse-only never runs.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

from mpi_dbm.analysis import analyze
from mpi_dbm.analysis.phase_diagram import PhaseDiagram
from mpi_dbm.analysis.phases import paper_phase
from mpi_dbm.report import write_report
from mpi_dbm.resources import recipes_dir

RECIPE = recipes_dir() / "quick" / "multilayer.toml"


def run(config: Path, out: Path, mpirun: list[str]) -> float:
    """`mpi-dbm run CONFIG -o OUT --resume` (under `mpirun` if given); the wall time in seconds."""
    cmd = [*mpirun, sys.executable, "-m", "mpi_dbm", "run", str(config), "-o", str(out), "--resume"]
    start = time.monotonic()
    subprocess.run(cmd, check=True)
    return time.monotonic() - start


def print_table(diagram: PhaseDiagram) -> None:
    head = ("eps", "T", "phase", "paper", "div", "change", "growth", "fluct", "loss", "<r>")
    widths = (7, 7, 8, 7, 5, 8, 7, 7, 9, 11)
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))
    for p in sorted(
        diagram.phase_points, key=lambda p: (p.observables.init_width, p.observables.temperature)
    ):
        o = p.observables
        r = f"{p.spacing.mean:.3f}({1000 * p.spacing.error:.0f})" if p.spacing else "-"
        ref = paper_phase(o.temperature, o.init_width)
        print(
            f"{o.init_width:7.3f} {o.temperature:7.3f} {p.phase:>8} {ref:>7} "
            f"{o.diverged_fraction:5.2f} {o.change:8.3f} {o.growth:7.2f} {o.fluctuation:7.4f} "
            f"{o.loss_final:9.2e} {r:>11}"
        )
    agree, n = diagram.agreement()
    print(f"agreement with the release's diagram (eps_c = 1/sqrt2, T* = 0.87): {agree}/{n}")
    boundary = diagram.boundary()
    print("measured T_c(eps): " + ", ".join(f"{e:g}: {t:.3g}" for e, t in sorted(boundary.items())))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "-o", "--out", type=Path, required=True, help="folder for the results file and the report"
    )
    ap.add_argument("--mpirun", default="", help='launcher prefix, e.g. "scripts/mpirun-local -n 2"')
    ap.add_argument("--analyse-only", action="store_true", help="do not run the sweep")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / "multilayer.h5"
    if not args.analyse_only:
        seconds = run(RECIPE, results, shlex.split(args.mpirun))
        print(f"ran {RECIPE.name} in {seconds:.1f} s", flush=True)
    if not results.exists():
        print(f"no results file {results}", file=sys.stderr)
        return 1
    analysis = analyze(results)
    if analysis.phases is None or not analysis.phases.points:
        print("no classified points", file=sys.stderr)
        return 1
    print_table(analysis.phases)
    report_dir = args.out / "report"
    report_dir.mkdir(exist_ok=True)
    print(f"wrote {write_report(analysis, report_dir)} (phase diagram: {report_dir / 'phase_diagram.png'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
