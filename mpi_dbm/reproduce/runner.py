"""Running the sweeps of a reproduction: one `mpi-dbm run CONFIG -o OUT.h5 --resume` per config,
under mpiexec, skipping results files that are already complete (so a reproduction resumes)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import compatibility_sha256
from ..errors import MpiDbmError, ResultsFileError
from ..store import PENDING, open_results
from .manifest import Manifest, Run

#: one BLAS thread per rank, for launchers that do not set it
THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


@dataclass(frozen=True)
class RunRecord:
    name: str
    config: str
    results: str
    state_before: str  # "missing" | "partial" | "complete"
    seconds: float  # wall time of the run (0 when skipped)
    tasks: int

    def record(self) -> dict[str, Any]:
        return dict(vars(self))


#: environment variable naming the MPI launcher when --mpiexec is not given
LAUNCHER_ENV = "MPI_DBM_MPIEXEC"


def default_launcher() -> list[str]:
    """The MPI launcher: $MPI_DBM_MPIEXEC (a command line), else mpiexec or mpirun on PATH."""
    configured = os.environ.get(LAUNCHER_ENV, "").strip()
    if configured:
        return shlex.split(configured)
    found = shutil.which("mpiexec") or shutil.which("mpirun")
    if found is None:
        raise MpiDbmError(
            f"no MPI launcher found (mpiexec or mpirun on PATH); pass --mpiexec CMD or set {LAUNCHER_ENV}"
        )
    return [found]


def file_state(path: Path, run: Run) -> str:
    """'missing', 'partial' or 'complete'; ResultsFileError if the file belongs to another config."""
    if not path.exists():
        return "missing"
    with open_results(path) as res:
        if compatibility_sha256(res.config_text) != run.config.compat_sha256:  # block size etc. may differ
            raise ResultsFileError(
                f"{str(path)!r} was made with a different config than {str(run.config_path)!r}; "
                "move it away or choose another -o"
            )
        return "partial" if (res.status() == PENDING).any() else "complete"


def check_outdir(outdir: Path) -> None:
    """The output directory must be a writable directory (or creatable: its parent writable)."""
    if outdir.exists() and not outdir.is_dir():
        raise ResultsFileError(f"output {str(outdir)!r} exists and is not a directory")
    probe = outdir if outdir.exists() else next((p for p in outdir.parents if p.exists()), Path("."))
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ResultsFileError(f"cannot write to {str(probe)!r}: choose another -o")


def preflight(manifest: Manifest, outdir: Path) -> dict[str, str]:
    """Everything that can be checked before writing: the output directory and existing files."""
    check_outdir(outdir)
    return {run.name: file_state(outdir / f"{run.name}.h5", run) for run in manifest.runs}


def run_all(
    manifest: Manifest,
    outdir: Path,
    ranks: int,
    launcher: list[str] | None,
    echo: Callable[[str], None],
    execute: bool = True,
) -> list[RunRecord]:
    """Run (or, with execute=False, only check) every sweep of the manifest into outdir."""
    states = preflight(manifest, outdir)
    runs = manifest.runs
    if not execute:
        missing = [r.name for r in runs if states[r.name] != "complete"]
        if missing:
            raise ResultsFileError(
                f"--no-run: {len(missing)} results file(s) missing or incomplete in {str(outdir)!r}: "
                f"{', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
            )
    outdir.mkdir(parents=True, exist_ok=True)
    cmd0 = [] if ranks == 1 else [*(launcher or default_launcher()), "-n", str(ranks)]
    env = {**os.environ}
    for k, v in THREAD_ENV.items():
        env.setdefault(k, v)
    records = []
    for i, run in enumerate(runs, 1):
        out = outdir / f"{run.name}.h5"
        state = states[run.name]
        head = f"[{i}/{len(runs)}] {run.name}: {run.config.n_tasks} tasks"
        if state == "complete":
            echo(f"{head}: done already ({out})")
            records.append(
                RunRecord(run.name, str(run.config_path), str(out), state, 0.0, run.config.n_tasks)
            )
            continue
        cmd = [*cmd0, sys.executable, "-m", "mpi_dbm", "run", str(run.config_path), "-o", str(out)]
        cmd += ["--resume", "--quiet"]
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise MpiDbmError(
                f"{shlex.join(cmd)} failed with exit code {proc.returncode}: {' | '.join(tail)}"
                " (the finished tasks are kept: run the reproduction again to resume)"
            )
        echo(f"{head}: {'resumed' if state == 'partial' else 'ran'} in {seconds:.1f} s")
        records.append(
            RunRecord(run.name, str(run.config_path), str(out), state, seconds, run.config.n_tasks)
        )
    return records
