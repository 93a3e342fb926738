"""`mpi-dbm import`: weights trained elsewhere -> a results file (docs/import.md)."""

from __future__ import annotations

from typing import Any

import click

from .common import user_errors


@click.command("import")
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
    from .. import importer as im

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
