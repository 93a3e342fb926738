"""`mpi-dbm status`, `verify` (a results file) and `info` (library versions)."""

from __future__ import annotations

import sys

import click

from .. import __version__
from .common import user_errors


@click.command()
@click.argument("results_file", type=click.Path(dir_okay=False))
@click.option("--config", "show_config", is_flag=True, help="Also print the stored config.")
@user_errors
def status(results_file: str, show_config: bool) -> None:
    """Counts per status and per (alpha, |B|) point of RESULTS_FILE."""
    from ..status import summarize

    click.echo(summarize(results_file, show_config=show_config), nl=False)


@click.command()
@click.argument("results_file", type=click.Path(dir_okay=False))
@user_errors
def verify(results_file: str) -> None:
    """Check RESULTS_FILE against its checksums and its stored config.

    Exit code 0 when it is intact; 2 with one line naming the damaged tasks or
    structure otherwise (docs/file-format.md, "Checksums").
    """
    from ..verify import verify as verify_file

    click.echo(verify_file(results_file).text())


@click.command()
def info() -> None:
    """Versions of the libraries and whether parallel HDF5 is available."""
    from ..store import library_versions, parallel_available

    click.echo(f"mpi-dbm {__version__}  (python {sys.version.split()[0]})")
    for key, value in library_versions().items():
        click.echo(f"  {key}: {value}")
    click.echo(f"  parallel HDF5 (h5py.get_config().mpi): {parallel_available()}")
