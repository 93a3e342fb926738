"""Run (resumably), analyse and report one reproduction: `reproduce`, `analyse`,
`write_jobscripts` and the `Reproduction` they produce (the package docstring says what it is)."""

from __future__ import annotations

import datetime as _dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..analysis import AnalysisParameters, analyze
from ..errors import ConfigError
from ..resources import recipes_dir
from . import jobs
from .checks import all_rows
from .data import ExperimentData, RunData
from .experiments import EXPERIMENTS
from .jobs import JobSite
from .manifest import Manifest, read_manifest
from .rows import STATUSES, Row
from .runner import RunRecord, preflight, run_all

SIZES = ("quick", "full")

__all__ = [
    "SIZES",
    "Reproduction",
    "analyse",
    "default_recipes",
    "reproduce",
    "write_jobscripts",
]


def write_jobscripts(
    size: str,
    folder: str | Path,
    site: JobSite,
    *,
    recipes: str | Path | None = None,
    only: tuple[str, ...] | None = None,
    force: bool = False,
) -> list[Path]:
    """One cluster job script (and a copy of its config) per config of the SIZE recipes, into
    `folder`; see reproduce/jobs.py."""
    if size not in SIZES:
        raise ConfigError(f"unknown size {size!r}: choose {' or '.join(SIZES)}")
    recipes_dir = Path(recipes) if recipes is not None else default_recipes()
    manifest = read_manifest(recipes_dir, size).select(only)
    return jobs.write_jobscripts(manifest, Path(folder), site, force)


def default_recipes() -> Path:
    """The recipes shipped in the package: `mpi_dbm/recipes/{quick,full}/`."""
    return recipes_dir()


@dataclass
class Reproduction:
    size: str
    outdir: Path
    manifest: Manifest
    records: list[RunRecord]
    experiments: dict[str, ExperimentData]
    rows: list[Row]
    extra: dict[str, list[dict[str, Any]]]
    seconds_run: float
    seconds_analysis: float
    ranks: int
    created: str = field(default_factory=lambda: _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    figures: list[tuple[str, str, str]] = field(default_factory=list)  # (file, title, caption)

    def counts(self) -> dict[str, int]:
        states = [r.status for r in self.rows]
        return {s: states.count(s) for s in STATUSES}


def analyse(
    manifest: Manifest, outdir: Path, echo: Callable[[str], None] = lambda s: None
) -> dict[str, ExperimentData]:
    """Analyse every results file of the manifest (each over its stationary window)."""
    out: dict[str, ExperimentData] = {}
    for exp in manifest.experiments:
        data = ExperimentData(exp.name, EXPERIMENTS[exp.name].spectrum)
        for run in exp.runs:
            start = time.perf_counter()
            a = analyze(outdir / f"{run.name}.h5", AnalysisParameters(window=run.window))
            data.runs.append(RunData(run, a))
            echo(f"analysed {run.name} in {time.perf_counter() - start:.1f} s")
        out[exp.name] = data
    return out


def reproduce(
    size: str = "quick",
    outdir: str | Path | None = None,
    *,
    ranks: int = 2,
    recipes: str | Path | None = None,
    only: tuple[str, ...] | None = None,
    run: bool = True,
    launcher: list[str] | None = None,
    figures: bool = True,
    echo: Callable[[str], None] = print,
) -> Reproduction:
    """Run (resumably), analyse and report the reproduction of one size; see the module docstring."""
    from . import output

    if size not in SIZES:
        raise ConfigError(f"unknown size {size!r}: choose {' or '.join(SIZES)}")
    recipes_dir = Path(recipes) if recipes is not None else default_recipes()
    out = Path(outdir) if outdir is not None else Path("results") / f"reproduce-{size}"
    manifest = read_manifest(recipes_dir, size).select(only)
    preflight(manifest, out)  # output dir and existing files, before anything is written
    start = time.perf_counter()
    records = run_all(manifest, out, ranks, launcher, echo, execute=run)
    seconds_run = time.perf_counter() - start
    start = time.perf_counter()
    experiments = analyse(manifest, out, echo)
    rows, extra = all_rows(experiments)
    rep = Reproduction(size, out, manifest, records, experiments, rows, extra, seconds_run, 0.0, ranks)
    if figures:
        from .figures import make_figures

        rep.figures = make_figures(rep, out)
    rep.seconds_analysis = time.perf_counter() - start
    output.write_json(rep)
    output.write_html(rep)
    return rep
