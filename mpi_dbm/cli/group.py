"""The `mpi-dbm` click group; the commands are added in cli/__init__.py."""

from __future__ import annotations

import click

from .. import __version__


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
        from ..sweep.stop import release_early

        release_early()
