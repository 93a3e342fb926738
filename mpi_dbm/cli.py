"""The `mpi-dbm` command line: parse, call the library, print. No logic of its own."""

from __future__ import annotations

# First, before the heavy imports (click here; numpy, h5py, mpi4py later): a wall-time signal
# that reaches a rank while it starts up is recorded, and `run` then stops cleanly (startup.py).
from . import startup  # noqa: F401

# isort: split

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from . import __version__
from .errors import MpiDbmError
from .reproduce.experiments import NAMES as EXPERIMENT_NAMES

if TYPE_CHECKING:  # config (numpy) is imported when a command needs it
    from .config import Config

_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID")


def _rank() -> int:
    """This process's MPI rank, without initialising MPI."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        rank: int = mpi.COMM_WORLD.Get_rank()
        return rank
    for var in _RANK_VARIABLES:
        if os.environ.get(var, "").isdigit():
            return int(os.environ[var])
    return 0


def _say(message: str, err: bool = False) -> None:
    if _rank() == 0:
        click.echo(message, err=err)


def user_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn MpiDbmError into one line on stderr (rank 0 only) and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except MpiDbmError as exc:
            _say(f"mpi-dbm: error: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper


def _load_config(path: str | None) -> Config:
    from . import config

    return config.default() if path is None else config.load(path)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="mpi-dbm")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Train many small models with SGD under MPI, record their weight spectra in one
    parallel HDF5 file, and analyse them with random matrix theory.

    \b
    Typical use:
      mpi-dbm config show > sweep.toml        # start from the embedded default
      mpi-dbm config check sweep.toml         # validate, count tasks, estimate cost
      mpiexec -n 4 mpi-dbm run sweep.toml -o sweep.h5
      mpi-dbm status sweep.h5
    """
    if ctx.invoked_subcommand != "run":  # only `run` stops cleanly: the others die on SIGTERM again
        from .sweep.stop import release_early

        release_early()


# -- run ---------------------------------------------------------------------------
def _duration(text: str | None) -> float | None:
    """Seconds from 'SECONDS', 'MM:SS', 'HH:MM:SS' or 'D-HH:MM:SS' (durations.py)."""
    if text is None:
        return None
    from .durations import parse_duration
    from .errors import ConfigError

    try:
        return parse_duration(text, "--time-limit")
    except ConfigError as exc:
        raise click.BadParameter(str(exc).removeprefix("--time-limit: ")) from None


@main.command()
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
    from .cost import check_resources

    source = config_file or "<embedded default>"
    for warning in check_resources(cfg, force=force_size, source=source):  # before anything is written
        _say(f"mpi-dbm: warning: {warning}", err=True)
    out = Path(output) if output else Path(f"{cfg.sweep.name}.h5")
    from .store import parallel_available
    from .sweep.driver import Chunk, run_sweep
    from .sweep.stop import EXIT_INTERRUPTED

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
    )
    for note in summary.notes:
        _say(f"mpi-dbm: note: {note}", err=True)
    if not quiet:
        mode = "parallel HDF5 (driver='mpio')" if summary.parallel_io else "serial HDF5 via rank 0"
        skipped = f", {summary.skipped} already done" if summary.skipped and not part else ""
        of = f" of chunk {chunk}" if part else f" of {summary.n_tasks}"
        _say(
            f"mpi-dbm: wrote {summary.path}: {summary.trained} tasks trained"
            f" ({summary.diverged} diverged){skipped}{of}, "
            f"in {summary.seconds:.1f} s on {summary.n_ranks} rank(s), {summary.schedule} schedule, {mode}"
        )
    if summary.stopped and summary.pending > 0:  # a stop that came after the last unit changes nothing
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
        _say(
            f"mpi-dbm: stopped early ({summary.stopped}): {summary.pending} tasks still pending; "
            f"complete them with: {' '.join(resume_cmd.split())}",
            err=True,
        )
        sys.exit(EXIT_INTERRUPTED)


@main.command()
@click.argument("output", type=click.Path(dir_okay=False))
@click.argument("inputs", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
@user_errors
def merge(output: str, inputs: tuple[str, ...], force: bool) -> None:
    """Join results files of one sweep (e.g. the --chunk parts of a job array) into OUTPUT."""
    from .store import merge as merge_files

    summary = merge_files(output, list(inputs), force=force)
    click.echo(
        f"mpi-dbm: merged {len(inputs)} file(s) into {summary.path}: {summary.copied} of "
        f"{summary.n_tasks} tasks finished, {summary.pending} pending"
    )


# -- analyze -------------------------------------------------------------------------
def _window(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        a, b = (int(v) for v in text.split(":"))
    except ValueError:
        raise click.BadParameter(f"{text!r}: use START:STOP (steps, inclusive)") from None
    if a > b:
        raise click.BadParameter(f"{text!r}: START must not exceed STOP")
    return a, b


@main.command()
@click.argument("results_file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False),
    help="Report directory [default: RESULTS_report].",
)
@click.option(
    "--measurement",
    type=int,
    help="Measurement index to analyse (default: the last; negative counts from the end).",
)
@click.option(
    "--window",
    metavar="START:STOP",
    help="Pool every measurement with START <= step <= STOP (a stationary window).",
)
@click.option(
    "--alpha",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.01,
    show_default=True,
    help="Significance level of every test.",
)
@click.option(
    "--no-figures", is_flag=True, help="Skip the PNG figures (faster; the page then has tables only)."
)
@click.option("--force", is_flag=True, help="Replace an existing report (only once the new one is complete).")
@user_errors
def analyze(
    results_file: str,
    outdir: str | None,
    measurement: int | None,
    window: str | None,
    alpha: float,
    no_figures: bool,
    force: bool,
) -> None:
    """Analyse RESULTS_FILE: cluster statistics, Wigner surmise and r-tilde verdicts, the linear
    scaling rule (pooled fits and equal-alpha/|B| collapse), non-universal shifts, Marchenko-Pastur
    at initialisation. Writes summary.json, analysis.h5, PNG figures and report.html.
    """
    if measurement is not None and window is not None:
        raise click.UsageError("--measurement and --window exclude each other")
    from .analysis import AnalysisParameters
    from .analysis import analyze as run_analysis
    from .analysis.output import check_outdir, verdict_table, write_report_dir

    params = AnalysisParameters(measurement=measurement, window=_window(window), alpha=alpha)
    target = outdir or f"{Path(results_file).with_suffix('')}_report"
    check_outdir(target, force)  # fail before the analysis; the write checks again
    if not no_figures:
        from .report import require_matplotlib

        require_matplotlib()
    result = run_analysis(results_file, params)  # reads and checks the file before anything is written
    files = write_report_dir(result, target, force, figures=not no_figures)  # all or nothing
    click.echo(verdict_table(result))
    click.echo(f"mpi-dbm: report {files['report']} (numbers: {files['summary']}, tables: {files['tables']})")


# -- import --------------------------------------------------------------------------
@main.command("import")
@click.argument("inputs", nargs=-1, type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="Results file to write.")
@click.option(
    "--key",
    "keys",
    multiple=True,
    metavar="NAME",
    help="Array (tensor) to import; repeat for several. [default: W]",
)
@click.option(
    "--axes", default="replica,snapshot,row,col", show_default=True, help="Axis meaning of stacked arrays."
)
@click.option("--learning-rate", metavar="ALPHA", help="α of every configuration.")
@click.option("--batch-size", metavar="B", help="|B| of every configuration.")
@click.option(
    "--param", "params", multiple=True, metavar="NAME=VALUE", help="A label of every configuration."
)
@click.option("--lr-key", metavar="NAME", help="Scalar array holding α in each file.")
@click.option("--bs-key", metavar="NAME", help="Scalar array holding |B| in each file.")
@click.option(
    "--param-key", "param_keys", multiple=True, metavar="NAME", help="Scalar array kept as a label."
)
@click.option("--steps", metavar="S0,S1,...|START:STOP:STEP", help="Step of each snapshot [default: 0..S-1].")
@click.option("--steps-key", metavar="NAME", help="Array holding the step of each snapshot in each file.")
@click.option(
    "--checkpoints", metavar="GLOB", help="One file per replica and snapshot (.safetensors/.npz/.npy)."
)
@click.option(
    "--replica-from", metavar="REGEX", help="With --checkpoints: the replica, group (?P<replica>...)."
)
@click.option("--snapshot-from", metavar="REGEX", help="With --checkpoints: the step, group (?P<step>...).")
@click.option("--name", default="imported", show_default=True, help="[sweep] name of the file.")
@click.option("--seed", default="0", show_default=True, help="Seed of the null models' permutations.")
@click.option("--no-shuffled", is_flag=True, help="Skip the entry-shuffled null model NAME.shuffled.")
@click.option(
    "--force", is_flag=True, help="Replace an existing output (only once the new file is complete)."
)
@user_errors
def import_(inputs: tuple[str, ...], output: str, **opts: Any) -> None:
    """Import weights trained elsewhere as a results file that `analyze` accepts (docs/import.md).

    \b
    INPUTS: .npz/.npy files, directories or globs of them, one configuration each; or --checkpoints.
      mpi-dbm import release/ --key W --lr-key lr --bs-key batch_size --param-key noise -o rel.h5
      mpi-dbm import --checkpoints 'run*/step*.safetensors' --key layer1.weight \\
          --replica-from 'run(?P<replica>\\d+)' --snapshot-from 'step(?P<step>\\d+)' \\
          --learning-rate 0.01 --batch-size 32 -o ckpt.h5
    Exit codes: 0 written, 2 bad or inconsistent input (nothing written).
    """
    from . import importer as im

    options = im.ImportOptions(
        keys=opts["keys"] or ("W",),
        axes=im.parse_axes(opts["axes"]),
        learning_rate=im.parse_number("--learning-rate", opts["learning_rate"]),
        batch_size=im.parse_integer("--batch-size", opts["batch_size"]),
        params=tuple(im.parse_param(p) for p in opts["params"]),
        lr_key=opts["lr_key"],
        bs_key=opts["bs_key"],
        param_keys=opts["param_keys"],
        steps=im.parse_steps(opts["steps"]),
        steps_key=opts["steps_key"],
        replica_from=opts["replica_from"],
        snapshot_from=opts["snapshot_from"],
        name=opts["name"],
        seed=im.parse_integer("--seed", opts["seed"], minimum=0) or 0,
        shuffled=not opts["no_shuffled"],
        force=opts["force"],
    )
    s = im.import_weights(inputs, output, options, checkpoints=opts["checkpoints"])
    click.echo(
        f"mpi-dbm: wrote {s.path}: {len(s.sources)} configuration(s) x {s.replicas} replicas x "
        f"{s.snapshots} snapshots, spectra {', '.join(s.spectra)}"
        + (f"; {s.diverged} replica(s) with non-finite weights recorded diverged" if s.diverged else "")
    )
    for i, source in enumerate(s.sources):
        click.echo(f"  point {i}: {source}")


# -- reproduce -----------------------------------------------------------------------
@main.command()
@click.option(
    "--size",
    type=click.Choice(["quick", "full"]),
    default="quick",
    show_default=True,
    help="quick: every check resolved in < 20 min on 2 cores; full: the paper's ensembles (a cluster).",
)
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False),
    help="Directory for the results files and the report [default: results/reproduce-SIZE].",
)
@click.option(
    "--ranks", type=click.IntRange(min=1), default=2, show_default=True, help="MPI ranks per sweep."
)
@click.option(
    "--only",
    metavar="EXP[,EXP...]",
    help=f"Run and check only these experiments ({', '.join(EXPERIMENT_NAMES)}).",
)
@click.option(
    "--recipes",
    type=click.Path(file_okay=False),
    help="Folder holding SIZE/reproduce.toml and its configs [default: the recipes shipped in the "
    "package, mpi_dbm/recipes/].",
)
@click.option(
    "--no-run",
    is_flag=True,
    help="Only analyse: every results file must exist and be complete (e.g. from jobs).",
)
@click.option(
    "--mpiexec",
    metavar="CMD",
    help="MPI launcher [default: $MPI_DBM_MPIEXEC, else mpiexec or mpirun on PATH].",
)
@click.option("--no-figures", is_flag=True, help="Skip the figures.")
@click.option(
    "--jobscripts",
    "jobscripts_dir",
    type=click.Path(file_okay=False),
    help="Only write one cluster job script per config (and a copy of the config) into this folder, "
    "from the recipes' [jobs] inputs; run nothing.",
)
@click.option(
    "--scheduler",
    type=click.Choice(["slurm", "pbs"]),
    default="slurm",
    show_default=True,
    help="With --jobscripts: the batch system.",
)
@click.option("--account", help="With --jobscripts: the account (project) jobs are charged to.")
@click.option("--partition", help="With --jobscripts: the partition (SLURM) or queue (PBS).")
@click.option("--venv", help="With --jobscripts: the virtual environment the jobs activate.")
@click.option("--force", is_flag=True, help="With --jobscripts: replace existing scripts and configs.")
@user_errors
def reproduce(
    size: str,
    outdir: str | None,
    ranks: int,
    only: str | None,
    recipes: str | None,
    no_run: bool,
    mpiexec: str | None,
    no_figures: bool,
    jobscripts_dir: str | None,
    scheduler: str,
    account: str | None,
    partition: str | None,
    venv: str | None,
    force: bool,
) -> None:
    """Reproduce the papers' numerical results: run every experiment of the SIZE recipes (shipped in
    the package) under mpiexec (resumable: finished results files are kept), analyse them, and
    compare each checkable prediction of physics.md §6 with theory. Writes DIR/reproduction.json,
    DIR/reproduction.html and figures; exit code 0 even when checks fail (the table says which).
    Run it without mpiexec: it launches its own. With --jobscripts DIR it only writes one cluster
    job script per config (submit them, then `reproduce --size full --no-run -o DIR/results`).
    """
    import shlex

    from .reproduce import reproduce as run_reproduction

    only_names = tuple(x.strip() for x in only.split(",") if x.strip()) if only else None
    if jobscripts_dir is None:
        given = [o for o, v in (("--account", account), ("--partition", partition), ("--venv", venv)) if v]
        if given or force:
            raise click.UsageError(f"{(given or ['--force'])[0]} goes with --jobscripts DIR")
    else:
        from .reproduce import write_jobscripts
        from .reproduce.jobs import RESULTS_SUBDIR, JobSite

        site = JobSite(scheduler, account, partition, venv)
        scripts = write_jobscripts(size, jobscripts_dir, site, recipes=recipes, only=only_names, force=force)
        submit = "sbatch" if scheduler == "slurm" else "qsub"
        click.echo(
            f"mpi-dbm: wrote {len(scripts)} job scripts and their configs to {jobscripts_dir}; submit them "
            f"from there (cd {shlex.quote(jobscripts_dir)} && for s in *{scripts[0].suffix}; do {submit} "
            f'"$s"; done), then: mpi-dbm reproduce --size {size} --no-run -o '
            f"{shlex.quote(str(Path(jobscripts_dir) / RESULTS_SUBDIR))}"
        )
        return

    if any(
        os.environ.get(v, "").isdigit() and int(os.environ[v]) > 1
        for v in ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
    ):
        raise click.UsageError("run `mpi-dbm reproduce` without mpiexec: it launches mpiexec for each sweep")
    rep = run_reproduction(
        size,
        outdir,
        ranks=ranks,
        recipes=recipes,
        only=only_names,
        run=not no_run,
        launcher=shlex.split(mpiexec) if mpiexec else None,
        figures=not no_figures,
        echo=click.echo,
    )
    for r in rep.rows:
        click.echo(f"{r.status.upper():13} {r.id:4} {r.title[:70]:70}  {r.measured_text()}")
    c = rep.counts()
    click.echo(
        f"mpi-dbm: {c['pass']} pass, {c['fail']} fail, {c['inconclusive']} inconclusive, "
        f"{c['not run']} not run; "
        f"runs {rep.seconds_run / 60:.1f} min, analysis {rep.seconds_analysis / 60:.1f} min; report "
        f"{rep.outdir / 'reproduction.html'}"
    )


# -- config ------------------------------------------------------------------------
@main.group("config")
def config_group() -> None:
    """Show the embedded default config, or validate a config file."""


@config_group.command("show")
def config_show() -> None:
    """Print the embedded default config (commented TOML) to copy and edit."""
    from . import config

    click.echo(config.default_text(), nl=False)


@config_group.command("check")
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option(
    "--ranks",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Ranks for the wall-time estimate.",
)
@click.option("--no-timing", is_flag=True, help="Skip the ~1 s timing run; report counts only.")
@click.option("--canonical", is_flag=True, help="Print the canonical config (all defaults filled in).")
@click.option(
    "--force-size",
    is_flag=True,
    help="Only warn if the estimated memory per rank exceeds this machine's (as `run --force-size`).",
)
@user_errors
def config_check(config_file: str, ranks: int, no_timing: bool, canonical: bool, force_size: bool) -> None:
    """Validate CONFIG_FILE; print the task count, memory and file size estimates, and a measured
    cost estimate. A config that cannot fit in this machine's memory is refused, as by `run`."""
    from .durations import format_duration

    cfg = _load_config(config_file)
    if canonical:
        click.echo(cfg.to_toml(), nl=False)
        return
    from .cost import check_resources, footprint, format_bytes, machine_memory, ranks_on_node

    warnings = check_resources(cfg, force=force_size, source=config_file)
    size = footprint(cfg)
    fits = size.memory_bytes <= machine_memory()[0] / ranks_on_node()
    temps = sorted({p.learning_rate / p.batch_size for p in cfg.points})
    click.echo(f"{config_file}: ok  (sha256 {cfg.sha256[:16]})")
    click.echo(
        f"  sweep {cfg.sweep.name!r}: {len(cfg.points)} points x {cfg.sweep.replicas} replicas"
        f" = {cfg.n_tasks} tasks; alpha/|B| in [{temps[0]:.3g}, {temps[-1]:.3g}]"
        f" ({len(temps)} distinct)"
    )
    if cfg.scan is not None:
        lists = "; ".join(
            f"{k} in {sorted(set(v), key=str)}" for k, v in zip(cfg.scan.keys, cfg.scan.values, strict=True)
        )
        click.echo(f"  scan ({cfg.scan.combine}): {len(cfg.variants)} parameter sets; {lists}")
    n_meas = cfg.train.steps // cfg.train.measure_every + 1
    click.echo(f"  model {cfg.model.kind}; {cfg.train.steps} steps, {n_meas} measurements")
    top = size.largest()
    click.echo(
        f"  memory ~{format_bytes(size.memory_bytes)} per rank (most: {top.what}, {top.key});"
        f" results file ~{format_bytes(size.file_bytes)}"
    )
    for warning in warnings:
        click.echo(f"mpi-dbm: warning: {warning}", err=True)
    if no_timing or not fits:
        return
    from .cost import estimate

    est = estimate(cfg)
    click.echo(
        f"  {est.n_units} work units of <= {cfg.sweep.block_size} replicas;"
        f" {est.replica_steps:.3g} replica-steps"
    )
    click.echo(
        f"  estimated cost: {est.core_seconds / 3600:.3g} core-hours"
        f" ({format_duration(est.core_seconds)} on 1 rank,"
        f" ~{format_duration(est.core_seconds / min(ranks, est.n_units))} on {ranks} rank(s));"
        f" results file ~{est.file_bytes / 2**20:.1f} MiB"
        + (
            f"  [timed {est.steps_timed} steps per batch size on this machine]"
            if est.steps_timed
            else "  [from flop counts: a timing run would take too long]"
        )
    )


# -- status ------------------------------------------------------------------------
@main.command()
@click.argument("results_file", type=click.Path(dir_okay=False))
@click.option("--config", "show_config", is_flag=True, help="Also print the stored config.")
@user_errors
def status(results_file: str, show_config: bool) -> None:
    """Counts per status and per (alpha, |B|) point of RESULTS_FILE."""
    from .status import summarize

    click.echo(summarize(results_file, show_config=show_config), nl=False)


@main.command()
@click.argument("results_file", type=click.Path(dir_okay=False))
@user_errors
def verify(results_file: str) -> None:
    """Check RESULTS_FILE against its checksums and its stored config.

    Exit code 0 when it is intact; 2 with one line naming the damaged tasks or
    structure otherwise (docs/file-format.md, "Checksums").
    """
    from .verify import verify as verify_file

    click.echo(verify_file(results_file).text())


@main.command()
def info() -> None:
    """Versions of the libraries and whether parallel HDF5 is available."""
    from .store import library_versions, parallel_available

    click.echo(f"mpi-dbm {__version__}  (python {sys.version.split()[0]})")
    for key, value in library_versions().items():
        click.echo(f"  {key}: {value}")
    click.echo(f"  parallel HDF5 (h5py.get_config().mpi): {parallel_available()}")


# -- jobscript ---------------------------------------------------------------------
@main.command("jobscript")
@click.argument("config_file", type=click.Path(dir_okay=False))
@click.option("--scheduler", metavar="slurm|pbs", help="The batch system.  [required]")
@click.option("--nodes", metavar="N", help="Nodes per job.  [required]")
@click.option("--ranks-per-node", metavar="P", help="MPI ranks per node, one core each.  [required]")
@click.option("--time", "walltime", metavar="HH:MM:SS", help="Wall time per job (or D-HH:MM:SS).  [required]")
@click.option("--account", metavar="A", help="Account (project) to charge.")
@click.option("--partition", metavar="Q", help="SLURM partition or PBS queue.")
@click.option(
    "--array",
    metavar="K",
    help="Split the sweep into K cost-balanced chunks run as a job array (one results file each); "
    "the last chunk to finish merges them into the results file.",
)
@click.option(
    "--chain",
    metavar="N",
    help="Continue an interrupted job in up to N dependent follow-up jobs (submitted by the job "
    "itself). Not with --array. [PBS default: 4]",
)
@click.option(
    "--requeue",
    metavar="N",
    help="SLURM: continue an interrupted job by requeueing it (same job id), up to N times; "
    "0: never. [SLURM default: 4]",
)
@click.option(
    "--grace",
    metavar="SECONDS",
    default=str(300),
    show_default=True,
    help="Tell the run to stop this long before the wall time (SLURM --signal=B:USR1@SECONDS; "
    "PBS: run --time-limit).",
)
@click.option("--output-file", metavar="RESULTS", help="Results file [default: NAME.h5 from [sweep] name].")
@click.option(
    "--analyze/--no-analyze",
    default=True,
    show_default=True,
    help="Run `mpi-dbm analyze` on the complete results (skipped if this mpi-dbm lacks it).",
)
@click.option("--job-name", metavar="NAME", help="Job name [default: from [sweep] name].")
@click.option(
    "--venv",
    metavar="DIR",
    help="Virtual environment the script activates [default: the one running this command].",
)
@click.option("--no-estimate", is_flag=True, help="Skip the ~1 s timing run for the cost estimate.")
@click.option(
    "-o",
    "--output",
    "script",
    type=click.Path(dir_okay=False),
    help="Write the script here [default: stdout].",
)
@click.option("--force", is_flag=True, help="Replace an existing script file.")
@user_errors
def jobscript_cmd(
    config_file: str,
    scheduler: str | None,
    nodes: str | None,
    ranks_per_node: str | None,
    walltime: str | None,
    account: str | None,
    partition: str | None,
    array: str | None,
    chain: str | None,
    requeue: str | None,
    grace: str,
    output_file: str | None,
    analyze: bool,
    job_name: str | None,
    venv: str | None,
    no_estimate: bool,
    script: str | None,
    force: bool,
) -> None:
    """Write a SLURM or PBS job script that runs the sweep of CONFIG_FILE.

    \b
    The script runs `mpi-dbm run CONFIG_FILE -o RESULTS --resume` on all its ranks,
    stops it cleanly --grace seconds before the wall time, continues an unfinished
    sweep in a requeued (SLURM) or chained follow-up job, and finally runs
    `mpi-dbm analyze`. The header carries a cost estimate; a warning says when the
    wall time cannot finish the sweep in the allowed number of jobs. See docs/cluster.md.

    \b
      mpi-dbm jobscript sweep.toml --scheduler slurm --nodes 2 --ranks-per-node 64 \\
          --time 12:00:00 --account proj42 -o sweep.sbatch
      sbatch sweep.sbatch
    """
    from . import jobscript as js
    from .errors import ConfigError

    for option, value in (
        ("--scheduler", scheduler),
        ("--nodes", nodes),
        ("--ranks-per-node", ranks_per_node),
        ("--time", walltime),
    ):
        if value is None:
            raise ConfigError(f"{option} is required")
    assert scheduler is not None and nodes is not None and ranks_per_node is not None
    assert walltime is not None
    options = js.JobOptions(
        config_path=config_file,
        scheduler=scheduler.lower(),
        nodes=js.parse_count(nodes, "--nodes"),
        ranks_per_node=js.parse_count(ranks_per_node, "--ranks-per-node"),
        walltime=js.parse_walltime(walltime),
        account=account,
        partition=partition,
        array=js.parse_count(array, "--array", 2) if array is not None else 0,
        chain=js.parse_count(chain, "--chain", 0) if chain is not None else None,
        requeue=js.parse_count(requeue, "--requeue", 0) if requeue is not None else None,
        grace=js.parse_count(grace, "--grace", 1),
        results=output_file,
        analyze=analyze,
        job_name=job_name,
        venv=venv if venv is not None else js.current_venv(),
        script_path=script,
    )
    cfg = _load_config(config_file)
    if script is not None:
        js.check_script_path(script, force=force)
    estimate = None
    if not no_estimate:
        from .cost import estimate as measure

        estimate = measure(cfg)
    command = js.command_line(sys.argv)
    rendered = js.render(cfg, options, estimate, command=command)
    if script is None:
        click.echo(rendered.text, nl=False)
    else:
        js.write_script(script, rendered.text, force=force)
    for warning in rendered.warnings:
        click.echo(f"mpi-dbm: warning: {warning}", err=True)
    if script is not None:
        click.echo(js.summary(options, rendered))
