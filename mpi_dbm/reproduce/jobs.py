"""Job scripts of a reproduction, rendered on demand: one per config of the manifest, from the
manifest's `[jobs]` inputs (nodes, ranks per node, wall time) and the user's site options.

    write_jobscripts(manifest, Path("repro-full"), JobSite("slurm", account="proj42"))

writes `repro-full/NAME.toml` (a copy of each config) and `repro-full/NAME.slurm.sbatch` (or
`NAME.pbs.sh`), with paths relative to that folder: submit the scripts from there; each writes
`results/NAME.h5`, which `mpi-dbm reproduce --size full --no-run -o repro-full/results` analyses.
Nothing is written unless every script renders (and no file would be overwritten without force).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..jobscript import JobOptions, check_script_path, parse_walltime, render, write_script
from .manifest import Manifest

__all__ = ["RESULTS_SUBDIR", "JobSite", "write_jobscripts"]

#: where the rendered jobs write their results files, relative to the job-script folder
RESULTS_SUBDIR = "results"
_SUFFIX = {"slurm": ".slurm.sbatch", "pbs": ".pbs.sh"}


@dataclass(frozen=True)
class JobSite:
    """The user's site: scheduler, account, partition, venv to activate (None: a commented example)."""

    scheduler: str = "slurm"
    account: str | None = None
    partition: str | None = None
    venv: str | None = None


def write_jobscripts(manifest: Manifest, folder: Path, site: JobSite, force: bool = False) -> list[Path]:
    """Render and write one job script (and a copy of its config) per config; returns the scripts."""
    if not manifest.jobs:
        raise ConfigError(
            f"{manifest.path}: has no [jobs] table, so no job scripts can be rendered for size "
            f"{manifest.size!r} (the full size has one)"
        )
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--jobscripts: {str(folder)!r} exists and is not a directory")
    if not folder.exists() and not folder.parent.is_dir():
        raise ConfigError(f"--jobscripts: {str(folder.parent)!r} does not exist; create it first")
    if site.scheduler not in _SUFFIX:
        raise ConfigError(f"--scheduler: must be slurm or pbs, got {site.scheduler!r}")
    planned: list[tuple[Path, str, Path, str]] = []  # (config copy, its text, script, script text)
    for run in manifest.runs:
        job = manifest.jobs[run.name]
        config_name = f"{run.name}.toml"
        script_name = f"{run.name}{_SUFFIX[site.scheduler]}"
        options = JobOptions(
            config_path=config_name,
            scheduler=site.scheduler,
            nodes=job.nodes,
            ranks_per_node=job.ranks_per_node,
            walltime=parse_walltime(job.time),
            account=site.account,
            partition=site.partition,
            results=f"{RESULTS_SUBDIR}/{run.name}.h5",
            analyze=False,
            venv=site.venv,
            script_path=script_name,
        )
        command = (
            f"mpi-dbm reproduce --size {manifest.size} --jobscripts DIR --scheduler {site.scheduler}"
            f" (inputs: {manifest.path.name} [jobs] {run.name})"
        )
        text = render(run.config, options, command=command).text
        planned.append(
            (folder / config_name, run.config_path.read_text(encoding="utf-8"), folder / script_name, text)
        )
    if folder.exists():
        for config_path, _, script_path, _ in planned:
            for path in (config_path, script_path):
                if path.exists() and not force:
                    raise ConfigError(
                        f"{str(path)!r} exists; pass --force to replace it (edits would be lost)"
                    )
    folder.mkdir(exist_ok=True)
    (folder / RESULTS_SUBDIR).mkdir(exist_ok=True)
    scripts = []
    for config_path, config_text, script_path, text in planned:
        tmp = config_path.with_name(f".{config_path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(config_text, encoding="utf-8")
            os.replace(tmp, config_path)
        finally:
            tmp.unlink(missing_ok=True)
        check_script_path(script_path, force=True)
        scripts.append(write_script(script_path, text, force=True))
    return scripts
