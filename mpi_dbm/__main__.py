"""`python -m mpi_dbm` is the `mpi-dbm` command."""

from .cli import main

main()
