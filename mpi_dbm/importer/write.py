"""Writing an imported file through the store's own writer, all or nothing.

The file is built under a temporary name in the output's directory (`store.create_results`,
then `store.SerialWriter` on one process: a stand-in for a one-rank communicator, as the
store's writers take one) and renamed over the output only once it is complete, so a failure
leaves nothing behind and an existing output is replaced (with --force) only by a whole file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ResultsFileError
from ..models import build
from ..store import SerialWriter, create_results
from ..streams import shared_data_seed
from ..sweep.grid import work_units
from ..train import StackResult
from .spectra import PointSpectra


class SoloComm:
    """The calls the store's serial writer makes on a communicator, for a single process."""

    def Get_rank(self) -> int:
        return 0

    def Get_size(self) -> int:
        return 1

    def bcast(self, obj: Any, root: int = 0) -> Any:
        return obj

    def allreduce(self, obj: Any) -> Any:
        return obj

    def Barrier(self) -> None:
        return None


def check_output(path: Path, force: bool) -> None:
    """Refuse, before anything is read or written, an output that cannot or must not be written."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ResultsFileError(f"output directory {str(parent)!r} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise ResultsFileError(f"output directory {str(parent)!r} is not writable")
    if path.is_dir():
        raise ResultsFileError(f"output path {str(path)!r} is a directory; give a file name")
    if path.exists() and not force:
        raise ResultsFileError(
            f"results file {str(path)!r} exists; pass --force to replace it or choose another -o"
        )


def write_results(path: Path, config: Config, points: list[PointSpectra], force: bool) -> None:
    """Create `path` holding every point's rows (task order: point-major, then replica)."""
    model = build(config.model, shared_data_seed(config.sweep.seed))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.importing")
    comm = SoloComm()
    try:
        create_results(tmp, config, model, comm, parallel_io=False)
        writer = SerialWriter(tmp, config, model, comm)
        try:
            for unit in work_units(config):
                p = points[unit.point.index]
                rows = slice(unit.replica_start, unit.replica_stop)
                spectra = {name: values[rows] for name, values in p.spectra.items()}
                writer.write_unit(
                    unit, StackResult(spectra, {}, p.diverged_step[rows], p.diverged_reason[rows])
                )
        finally:
            writer.finish()
        check_output(path, force)  # another process may have created it meanwhile
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
