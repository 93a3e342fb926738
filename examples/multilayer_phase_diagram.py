"""Quick SGD phase diagram of the multilayer teacher–student network (arXiv:2509.01349, issue #15).

Runs the quick recipes mpi_dbm/recipes/quick/multilayer-eps*.toml (one config per init width ε,
each scanning α = 0.125 … 256 at |B| = 4) with `mpi-dbm run`, classifies every (α, ε) point with
mpi_dbm.analysis.phases, prints a table (phase, observables, ⟨r̃⟩) and writes the phase-diagram PNG.

    .venv/bin/python examples/multilayer_phase_diagram.py -o OUT_DIR [--mpirun "scripts/mpirun-local -n 2"]

Existing results files in OUT_DIR are reused (delete them to rerun); --analyse-only never runs.
"""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import h5py

from mpi_dbm.analysis.phases import (
    PhasePoint,
    empirical_temperature_boundary,
    paper_phase,
    phase_points,
    teacher_edge,
)
from mpi_dbm.config import load
from mpi_dbm.report_phases import phase_diagram
from mpi_dbm.resources import recipes_dir


def recipes() -> list[tuple[float, Path]]:
    """(ε, config path) of the quick multilayer recipes, by ε."""
    found = []
    for path in (recipes_dir() / "quick").glob("multilayer-eps*.toml"):
        m = re.fullmatch(r"multilayer-eps(.+)\.toml", path.name)
        if m:
            found.append((float(m.group(1)), path))
    return sorted(found)


def run(config: Path, out: Path, mpirun: list[str]) -> float:
    """`mpi-dbm run CONFIG -o OUT` (under `mpirun` if given); the wall time in seconds."""
    cmd = [*mpirun, sys.executable, "-m", "mpi_dbm", "run", str(config), "-o", str(out)]
    start = time.monotonic()
    subprocess.run(cmd, check=True)
    return time.monotonic() - start


def analyse(eps: float, config: Path, results: Path) -> list[PhasePoint]:
    model = load(config).model
    teacher = teacher_edge(model.w_sigma, model.n_features, model.n_hidden)
    with h5py.File(results, "r") as h:
        return phase_points(
            h["tasks/learning_rate"][:],
            h["tasks/batch_size"][:],
            h["tasks/status"][:],
            h["spectra/singular_values"][:],
            h["scalars/loss"][:],
            eps,
            teacher,
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", type=Path, required=True, help="folder for the results files and the PNG")
    ap.add_argument("--mpirun", default="", help='launcher prefix, e.g. "scripts/mpirun-local -n 2"')
    ap.add_argument("--analyse-only", action="store_true", help="do not run missing configs")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    mpirun = shlex.split(args.mpirun)
    points: list[PhasePoint] = []
    total = 0.0
    for eps, config in recipes():
        results = args.out / f"{config.stem}.h5"
        if not results.exists():
            if args.analyse_only:
                continue
            seconds = run(config, results, mpirun)
            total += seconds
            print(f"ran {config.name} in {seconds:.1f} s", flush=True)
        points.extend(analyse(eps, config, results))
    if total:
        print(f"total run time {total:.0f} s")
    if not points:
        print("no results to analyse", file=sys.stderr)
        return 1
    head = ("eps", "T", "phase", "paper", "div", "change", "growth", "fluct", "loss", "<r>")
    widths = (7, 7, 8, 7, 5, 8, 7, 7, 9, 11)
    print(" ".join(f"{h:>{w}}" for h, w in zip(head, widths, strict=True)))
    agree = 0
    for p in sorted(points, key=lambda p: (p.observables.init_width, p.observables.temperature)):
        o = p.observables
        ref = paper_phase(o.temperature, o.init_width)
        agree += ref == p.phase
        r = f"{p.spacing.mean:.3f}({1000 * p.spacing.error:.0f})" if p.spacing else "-"
        print(
            f"{o.init_width:7.3f} {o.temperature:7.3f} {p.phase:>8} {ref:>7} {o.diverged_fraction:5.2f} "
            f"{o.change:8.3f} {o.growth:7.2f} {o.fluctuation:7.4f} {o.loss_final:9.2e} {r:>11}"
        )
    print(f"agreement with the release's diagram (eps_c = 1/sqrt2, T* = 0.87): {agree}/{len(points)}")
    boundary = empirical_temperature_boundary(
        [p.observables.temperature for p in points],
        [p.observables.init_width for p in points],
        [p.phase for p in points],
    )
    print("measured T_c(eps): " + ", ".join(f"{e:g}: {t:.3g}" for e, t in sorted(boundary.items())))
    png = phase_diagram(
        points, args.out / "multilayer_phase_diagram.png", title="multilayer SGD phases (quick)"
    )
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
