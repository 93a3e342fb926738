"""`python -m mpi_dbm` is the `mpi-dbm` command."""

from . import startup  # noqa: F401  (first: record wall-time signals during start-up)

# isort: split

from .cli import main

main()
