"""`mpi-dbm config show` (the embedded default) and `mpi-dbm config check` (validate, estimate)."""

from __future__ import annotations

import click

from .common import _load_config, user_errors


@click.group("config")
def config_group() -> None:
    """Show the embedded default config, or validate a config file."""


@config_group.command("show")
def config_show() -> None:
    """Print the embedded default config (commented TOML) to copy and edit."""
    from .. import config

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
    from ..durations import format_duration

    cfg = _load_config(config_file)
    if canonical:
        click.echo(cfg.to_toml(), nl=False)
        return
    from ..cost import check_resources, footprint, format_bytes, machine_memory
    from ..launcher_env import local_size

    warnings = check_resources(cfg, force=force_size, source=config_file)
    size = footprint(cfg)
    fits = size.memory_bytes <= machine_memory()[0] / local_size()
    temps = sorted({p.learning_rate / p.batch_size for p in cfg.points})
    click.echo(f"{config_file}: ok  (sha256 {cfg.sha256[:16]})")
    click.echo(
        f"  sweep {cfg.sweep.name!r}: {len(cfg.points)} points x {cfg.sweep.replicas} replicas"
        f" = {cfg.n_tasks} tasks; alpha/|B| in [{temps[0]:.3g}, {temps[-1]:.3g}]"
        f" ({len(temps)} distinct)"
    )
    if cfg.scan is not None:
        lists = "; ".join(
            f"{k} in {list(dict.fromkeys(v))}" for k, v in zip(cfg.scan.keys, cfg.scan.values, strict=True)
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
    from ..cost import estimate

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
