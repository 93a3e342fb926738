"""The results file: one HDF5 file, layout fixed up front, rows written per work unit.

The only package (with analysis/output.py) that imports h5py, and with sweep/ the only one
that imports mpi4py. One job per module:

- layout.py: constants, root attributes, the groups and datasets of a new file
- checksums.py: the per-task checksum of a task's rows
- rows.py: what a work unit writes (rows and checksums, then status); `UnitResult`
- create.py: the file's size, the space check, all-or-nothing creation on rank 0
- writers.py: ParallelWriter (driver='mpio', every rank writes its own rows) and
  SerialWriter (rank 0 writes what the others send), `open_writer`
- reader.py: `open_results` and `Results`; damage.py: `Results.damage` (verify)
- preflight.py: may a run create or resume its output; merge.py: join chunk files
- hdf5.py: fixed-length string attributes, read errors, runs of a task mask

Within a unit the data rows and their checksums (`/tasks/checksum`, one per task,
`task_checksums`) are written before `/tasks/status`, so a status of done/diverged
means the unit's data were written, and `Results.damage` can tell damaged rows from
intact ones. Files are created in the HDF5 1.10 format (`LIBVER`) without any
variable-length data, so every piece of metadata HDF5 reads carries a checksum that
HDF5 verifies: damaged metadata gives an error, never a loop. Layout: docs/file-format.md.

This module re-exports every name other code uses (a façade); the private ones
(`_create_layout`, `_write_data`, ...) serve tests and benchmarks that build files directly.
"""

from __future__ import annotations

from .checksums import task_checksums
from .create import create_results, results_file_size, space_error
from .damage import Damage
from .layout import (
    DIVERGED,
    DONE,
    LAYOUT_VERSION,
    LIBVER,
    PENDING,
    STATUS_NAMES,
    _create_layout,
    _root_attributes,
    _write_tables,
    library_versions,
)
from .merge import MergeSummary, merge
from .preflight import Preflight, config_difference, preflight
from .reader import Results, open_results
from .rows import UnitResult, _write_data, _write_status
from .writers import (
    ParallelWriter,
    SerialWriter,
    Writer,
    open_writer,
    parallel_available,
    resolve_io,
)

__all__ = [
    "DIVERGED",
    "DONE",
    "LAYOUT_VERSION",
    "LIBVER",
    "PENDING",
    "STATUS_NAMES",
    "Damage",
    "MergeSummary",
    "ParallelWriter",
    "Preflight",
    "Results",
    "SerialWriter",
    "UnitResult",
    "Writer",
    "_create_layout",
    "_root_attributes",
    "_write_data",
    "_write_status",
    "_write_tables",
    "config_difference",
    "create_results",
    "library_versions",
    "merge",
    "open_results",
    "open_writer",
    "parallel_available",
    "preflight",
    "resolve_io",
    "results_file_size",
    "space_error",
    "task_checksums",
]
