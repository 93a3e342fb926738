"""`mpi-dbm run` (a sweep under MPI) and `mpi-dbm merge` (join the chunk files of one sweep)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import _load_config, _say, user_errors

if TYPE_CHECKING:
    from ..sweep.driver import RunSummary


def _duration(text: str | None) -> float | None:
    """Seconds from 'SECONDS', 'MM:SS', 'HH:MM:SS' or 'D-HH:MM:SS' (durations.py)."""
    if text is None:
        return None
    from ..durations import parse_duration
    from ..errors import ConfigError

    try:
        return parse_duration(text, "--time-limit")
    except ConfigError as exc:
        raise click.BadParameter(str(exc).removeprefix("--time-limit: ")) from None


@click.command()
@click.argument("config_file", required=False, type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Results file [default: NAME.h5 from [sweep] name].",
)
@click.option(
    "--force", is_flag=True, help="Replace an existing results file (only once the new one is created)."
)
@click.option(
    "--resume",
    is_flag=True,
    help="Complete an existing results file of the same config; finished tasks are kept.",
)
@click.option(
    "--io",
    "io_mode",
    type=click.Choice(["auto", "parallel", "serial"]),
    default="auto",
    show_default=True,
    help="parallel: every rank writes with driver='mpio'; serial: rank 0 writes what the others "
    "send; auto: parallel when h5py has MPI.",
)
@click.option("--schedule", type=click.Choice(["dynamic", "static"]), help="Override [sweep] schedule.")
@click.option(
    "--chunk", metavar="I/K", help="Run only part I of K (cost-balanced) of the sweep; join with `merge`."
)
@click.option(
    "--time-limit",
    metavar="DURATION",
    help="Stop cleanly after this long (HH:MM:SS or seconds), as on SIGTERM/SIGUSR1; exit code 75.",
)
@click.option(
    "--break-lock", is_flag=True, help="Ignore another run's lock on the results file (it must be dead)."
)
@click.option(
    "--force-size",
    is_flag=True,
    help="Run even if the estimated memory per rank exceeds this machine's (a warning instead of an error).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress line and no summary.")
@user_errors
def run(
    config_file: str | None,
    output: str | None,
    force: bool,
    resume: bool,
    io_mode: str,
    schedule: str | None,
    chunk: str | None,
    time_limit: str | None,
    break_lock: bool,
    force_size: bool,
    quiet: bool,
) -> None:
    """Run the sweep of CONFIG_FILE (default: the embedded default config).

    \b
    Launch under MPI for several ranks:
      mpiexec -n 4 mpi-dbm run sweep.toml -o out.h5
      srun mpi-dbm run sweep.toml -o out.h5          (inside a SLURM allocation)
    Results are the same bits for any number of ranks and either schedule.

    \b
    On SIGTERM, SIGUSR1 or SIGUSR2 (wall time) or --time-limit, finished units are kept,
    the rest stay pending, and the run exits with code 75; the same command with
    --resume completes it. Exit codes: 0 complete, 2 bad input, 75 stopped early
    (resumable), other: failure.
    """
    if force and resume:
        raise click.UsageError("--force and --resume exclude each other")
    limit = _duration(time_limit)
    cfg = _load_config(config_file)
    from ..cost import check_resources

    source = config_file or "<embedded default>"
    for warning in check_resources(cfg, force=force_size, source=source):  # before anything is written
        _say(f"mpi-dbm: warning: {warning}", err=True)
    out = Path(output) if output else Path(f"{cfg.sweep.name}.h5")
    from ..store import parallel_available
    from ..sweep.driver import Chunk, run_sweep
    from ..sweep.stop import EXIT_INTERRUPTED

    part = Chunk.parse(chunk) if chunk else None
    if io_mode == "auto" and not parallel_available() and not quiet:
        _say(
            "mpi-dbm: warning: h5py was built without MPI; using the serial fallback "
            "(rank 0 writes what the other ranks send)",
            err=True,
        )
    summary = run_sweep(
        cfg,
        out,
        io=io_mode,
        force=force,
        resume=resume,
        quiet=quiet,
        schedule=schedule,
        chunk=part,
        time_limit=limit,
        break_lock=break_lock,
        source=source,
    )
    for note in summary.notes:
        _say(f"mpi-dbm: note: {note}", err=True)
    if not quiet:
        _say(_wrote(summary, chunk))
    if summary.stopped and summary.pending > 0:  # a stop that came after the last unit changes nothing
        resume_cmd = _resume_command(config_file, out, chunk, schedule, io_mode, force_size)
        _say(
            f"mpi-dbm: stopped early ({summary.stopped}): {summary.pending} tasks still pending; "
            f"complete them with: {resume_cmd}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)


def _wrote(summary: RunSummary, chunk: str | None) -> str:
    """The line `run` prints at the end (unless --quiet)."""
    mode = "parallel HDF5 (driver='mpio')" if summary.parallel_io else "serial HDF5 via rank 0"
    skipped = f", {summary.skipped} already done" if summary.skipped and not chunk else ""
    of = f" of chunk {chunk}" if chunk else f" of {summary.n_tasks}"
    return (
        f"mpi-dbm: wrote {summary.path}: {summary.trained} tasks trained"
        f" ({summary.diverged} diverged){skipped}{of}, "
        f"in {summary.seconds:.1f} s on {summary.n_ranks} rank(s), {summary.schedule} schedule, {mode}"
    )


def _resume_command(
    config_file: str | None,
    out: Path,
    chunk: str | None,
    schedule: str | None,
    io_mode: str,
    force_size: bool,
) -> str:
    """The command line that completes a run stopped early (its options that matter, --resume)."""
    resume_cmd = " ".join(
        [
            "mpi-dbm run",
            config_file or "",
            f"-o {out}",
            f"--chunk {chunk}" if chunk else "",
            f"--schedule {schedule}" if schedule else "",
            f"--io {io_mode}" if io_mode != "auto" else "",
            "--force-size" if force_size else "",
            "--resume",
        ]
    )
    return " ".join(resume_cmd.split())


@click.command()
@click.argument("output", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@user_errors
def merge(output: str, inputs: tuple[str, ...], force: bool) -> None:
    """Join results files of one sweep (e.g. the --chunk parts of a job array) into OUTPUT."""
    from ..store import merge as merge_files

    summary = merge_files(output, list(inputs), force=force)
    click.echo(
        f"mpi-dbm: merged {len(inputs)} file(s) into {summary.path}: {summary.copied} of "
        f"{summary.n_tasks} tasks finished, {summary.pending} pending"
    )
