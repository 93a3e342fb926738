"""`python tests/signal_at_import.py MODULE SIGNAL RANK ARGS...` = `python -m mpi_dbm ARGS...`, except
that the process sends itself SIGNAL the moment it first imports MODULE (when its MPI rank is RANK,
or any rank for RANK = "all"): a stop signal at a condition-defined moment of the start-up.
"""

from __future__ import annotations

import importlib.abc
import os
import runpy
import signal
import sys

module, signame, rank, *args = sys.argv[1:]
my_rank = os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMI_RANK", "0"))


class _Trigger(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object, target: object = None) -> None:
        if name == module:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), getattr(signal, signame))
        return None  # the normal finders import it


if rank in ("all", my_rank):
    sys.meta_path.insert(0, _Trigger())
sys.argv = ["mpi-dbm", *args]
runpy.run_module("mpi_dbm", run_name="__main__", alter_sys=True)
