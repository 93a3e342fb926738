"""`mpi-dbm jobscript`: a SLURM or PBS job script for a sweep (docs/cluster.md)."""

from __future__ import annotations

import sys

import click

from .common import _load_config, user_errors


# over 80 lines only by its signature (one parameter per option) and the help text
@click.command("jobscript")
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
    from .. import jobscript as js
    from ..errors import ConfigError

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
        from ..cost import estimate as measure

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
