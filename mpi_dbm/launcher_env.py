"""What the MPI launcher tells a process through its environment, without initialising MPI.

mpiexec (Open MPI, MPICH/Hydra, PMIx) and srun export the rank, the number of ranks and the
ranks on this node as environment variables before the program starts; the CLI reads them to
print on rank 0 only, `reproduce` to refuse running under mpiexec, and the cost model to
divide a node's memory among its ranks. Each function takes the first variable of its list
that holds a number; none set (or none a number): a single process.
"""

from __future__ import annotations

import os
import sys

__all__ = [
    "LOCAL_SIZE_VARIABLES",
    "WORLD_RANK_VARIABLES",
    "WORLD_SIZE_VARIABLES",
    "local_size",
    "world_rank",
    "world_size",
]

#: this process's rank in MPI_COMM_WORLD
WORLD_RANK_VARIABLES = ("OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID")
#: the number of ranks in MPI_COMM_WORLD
WORLD_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE")
#: the number of ranks on this node (sharing its memory)
LOCAL_SIZE_VARIABLES = (
    "OMPI_COMM_WORLD_LOCAL_SIZE",
    "MPI_LOCALNRANKS",
    "PMI_LOCAL_SIZE",
    "SLURM_NTASKS_PER_NODE",
)


def _first(variables: tuple[str, ...], minimum: int) -> int | None:
    """The value of the first variable set to an integer >= `minimum`, else None."""
    for var in variables:
        value = os.environ.get(var, "")
        if value.isdigit() and int(value) >= minimum:
            return int(value)
    return None


def world_rank() -> int:
    """This process's MPI rank: from mpi4py when it is already initialised (it is never loaded
    here), else from the launcher's variables; 0 outside MPI."""
    mpi = sys.modules.get("mpi4py.MPI")
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        rank: int = mpi.COMM_WORLD.Get_rank()
        return rank
    found = _first(WORLD_RANK_VARIABLES, 0)
    return 0 if found is None else found


def world_size() -> int:
    """The number of ranks the launcher started (1 outside MPI or when unknown)."""
    found = _first(WORLD_SIZE_VARIABLES, 1)
    return 1 if found is None else found


def local_size() -> int:
    """Ranks sharing this node's memory, as the launcher tells (1 outside MPI or when unknown)."""
    found = _first(LOCAL_SIZE_VARIABLES, 1)
    return 1 if found is None else found
