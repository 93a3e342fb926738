"""Imported first by the `mpi-dbm` command (cli.py, __main__.py): record wall-time signals from now on.

A signal that reaches a rank while it is still starting up (importing click, numpy, h5py,
mpi4py: a fraction of a second, more on a cold machine) would otherwise kill it with the
default action (exit 138/143) instead of a clean, resumable stop (exit 75). Importing this
module installs handlers that only record the request; `run` honours it (sweep/stop.py).
It imports nothing but the standard library's signal machinery.
"""

from __future__ import annotations

from .sweep.stop import catch_early

catch_early()
