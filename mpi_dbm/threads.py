"""One BLAS thread per MPI rank: the ranks already use the cores, BLAS threads must not oversubscribe them.

`run_sweep` calls `limit_blas_threads()` first. The number of threads is
`MPI_DBM_BLAS_THREADS` if set (e.g. a single rank per node training N = 256 matrices
may use more), else 1. It is applied at run time, after numpy has loaded its BLAS:
- with threadpoolctl, if installed (any BLAS: OpenBLAS, MKL, BLIS);
- else directly through OpenBLAS's `*_set_num_threads*` symbol found among the loaded
  libraries (numpy's wheels ship OpenBLAS);
- else nothing can be done at run time: set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS /
  MKL_NUM_THREADS = 1 in the job environment (scripts/mpirun-local does).
The chosen limit also goes into those variables, for child processes.
"""

from __future__ import annotations

import ctypes
import os
from dataclasses import dataclass

ENV_VARIABLE = "MPI_DBM_BLAS_THREADS"
_BLAS_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
_OPENBLAS_SETTERS = (
    "scipy_openblas_set_num_threads64_",
    "scipy_openblas_set_num_threads",
    "openblas_set_num_threads64_",
    "openblas_set_num_threads",
)
_OPENBLAS_GETTERS = tuple(name.replace("set_", "get_") for name in _OPENBLAS_SETTERS)


@dataclass(frozen=True)
class ThreadLimit:
    threads: int
    how: str  # "threadpoolctl", "openblas", or "environment only"


def wanted_threads() -> int:
    """MPI_DBM_BLAS_THREADS if it is a positive integer, else 1."""
    try:
        return max(1, int(os.environ.get(ENV_VARIABLE, "1")))
    except ValueError:
        return 1


def limit_blas_threads(threads: int | None = None) -> ThreadLimit:
    """Limit the BLAS of this process to `threads` (default: wanted_threads()) threads."""
    n = wanted_threads() if threads is None else max(1, int(threads))
    for var in _BLAS_ENV:
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(limits=n, user_api="blas")
        return ThreadLimit(n, "threadpoolctl")
    for lib in _loaded_openblas():
        setter = next((getattr(lib, name) for name in _OPENBLAS_SETTERS if hasattr(lib, name)), None)
        if setter is not None:
            setter.argtypes = [ctypes.c_int]
            setter.restype = None
            setter(n)
            return ThreadLimit(n, "openblas")
    return ThreadLimit(n, "environment only")


def blas_threads() -> int | None:
    """Threads OpenBLAS currently uses (None if no OpenBLAS is loaded)."""
    for lib in _loaded_openblas():
        getter = next((getattr(lib, name) for name in _OPENBLAS_GETTERS if hasattr(lib, name)), None)
        if getter is not None:
            getter.restype = ctypes.c_int
            return int(getter())
    return None


def _loaded_openblas() -> list[ctypes.CDLL]:
    """The OpenBLAS libraries mapped into this process (Linux /proc/self/maps)."""
    import numpy  # noqa: F401  (loads numpy's BLAS)

    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line}
    except OSError:
        return []
    libs = []
    for path in sorted(paths):
        try:
            libs.append(ctypes.CDLL(path))
        except OSError:
            continue
    return libs
