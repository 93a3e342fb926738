"""The `mpi-dbm` command line: parse, call the library, print. No logic of its own.

One module per command or small group of commands (run.py: run, merge; analyze.py: analyze,
reproduce; import_weights.py: import; config_cmd.py: config show/check; files.py: status,
verify, info; jobscript.py), the click group in group.py, what they share in common.py.
The console script `mpi-dbm` is `mpi_dbm.cli:main`.
"""

from __future__ import annotations

# First, before the heavy imports (click here; numpy, h5py, mpi4py later): a wall-time signal
# that reaches a rank while it starts up is recorded, and `run` then stops cleanly (startup.py).
from .. import startup  # noqa: F401

# isort: split

from .analyze import analyze, reproduce
from .common import _load_config, _rank, _say, user_errors
from .config_cmd import config_group
from .files import info, status, verify
from .group import main
from .import_weights import import_
from .jobscript import jobscript_cmd
from .run import merge, run

for _command in (run, merge, analyze, import_, reproduce, config_group, status, verify, info, jobscript_cmd):
    main.add_command(_command)

__all__ = ["_load_config", "_rank", "_say", "main", "user_errors"]
