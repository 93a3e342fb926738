"""`mpi-dbm analyze` (a results file -> report) and `mpi-dbm reproduce` (the papers' checks)."""

from __future__ import annotations

from pathlib import Path

import click

from ..launcher_env import world_size
from ..reproduce.experiments import NAMES as EXPERIMENT_NAMES
from .common import user_errors


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


@click.command()
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
    from ..analysis import AnalysisParameters
    from ..analysis import analyze as run_analysis
    from ..analysis.output import check_outdir, verdict_table, write_report_dir

    params = AnalysisParameters(measurement=measurement, window=_window(window), alpha=alpha)
    target = outdir or f"{Path(results_file).with_suffix('')}_report"
    check_outdir(target, force)  # fail before the analysis; the write checks again
    if not no_figures:
        from ..report import require_matplotlib

        require_matplotlib()
    result = run_analysis(results_file, params)  # reads and checks the file before anything is written
    files = write_report_dir(result, target, force, figures=not no_figures)  # all or nothing
    click.echo(verdict_table(result))
    click.echo(f"mpi-dbm: report {files['report']} (numbers: {files['summary']}, tables: {files['tables']})")


@click.command()
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

    from ..reproduce import reproduce as run_reproduction

    only_names = tuple(x.strip() for x in only.split(",") if x.strip()) if only else None
    if jobscripts_dir is None:
        given = [o for o, v in (("--account", account), ("--partition", partition), ("--venv", venv)) if v]
        if given or force:
            raise click.UsageError(f"{(given or ['--force'])[0]} goes with --jobscripts DIR")
    else:
        from ..reproduce import write_jobscripts
        from ..reproduce.jobs import RESULTS_SUBDIR, JobSite

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

    if world_size() > 1:
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
        f"{c['info']} info, {c['not run']} not run; "
        f"runs {rep.seconds_run / 60:.1f} min, analysis {rep.seconds_analysis / 60:.1f} min; report "
        f"{rep.outdir / 'reproduction.html'}"
    )
