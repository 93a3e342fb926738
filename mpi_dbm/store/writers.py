"""The two writers of a run, and the choice between them.

- ParallelWriter: every rank opens the file with driver='mpio' and writes its own
  rows with independent I/O (the default when h5py is built with MPI).
- SerialWriter: rank 0 alone opens the file; other ranks send their results to
  rank 0 over MPI (fallback for h5py without MPI, or `--io serial`).

Within a unit the data rows and their checksums are written before `/tasks/status`
(rows.py), each followed by an fsync.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import h5py

from ..config import Config
from ..errors import ConfigError, WriteError
from ..models.base import Model
from ..sweep.grid import WorkUnit
from .create import _NO_SPACE, _error_text, create_results
from .rows import UnitResult, _write_data, _write_status

_TAG_RESULT = 7301


def parallel_available() -> bool:
    """True when h5py was built against parallel HDF5 (driver='mpio' works)."""
    return bool(h5py.get_config().mpi)


class _Durable:
    """fsync through a plain descriptor: pushes the file's dirty pages to disk without a collective."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


class ParallelWriter:
    """Every rank holds the file open (driver='mpio') and writes its own units' rows.

    The file exists before (`create_results`). Per unit: data rows, fsync, status,
    fsync — a status of done means the data are on disk, whatever kills the job
    afterwards. A failed write or fsync raises WriteError on the failing rank only
    (independent I/O: no other rank waits for it); the driver then stops all ranks at
    their next step and closes the file collectively.
    """

    parallel_io = True

    def __init__(self, path: Path, config: Config, model: Model, comm: Any) -> None:
        self.comm = comm
        self.path = path
        self.file = h5py.File(path, "r+", driver="mpio", comm=comm)
        self._durable = _Durable(path)

    def write_unit(self, unit: WorkUnit, result: UnitResult) -> None:
        try:
            _write_data(self.file, unit.tasks, result)
            self._durable.sync()
            _write_status(self.file, unit.tasks, result)
            self._durable.sync()
        except OSError as exc:
            raise _write_error(self.path, exc) from None

    def poll(self) -> None:
        """Nothing to receive in parallel mode."""

    def finish(self) -> None:
        self._durable.close()
        self.file.close()  # collective


class SerialWriter:
    """Rank 0 writes everything; other ranks send (tasks, result) to rank 0 as they finish."""

    parallel_io = False

    def __init__(self, path: Path, config: Config, model: Model, comm: Any) -> None:
        self.comm = comm
        self.path = path
        self.rank = comm.Get_rank()
        self.received = 0  # units received from other ranks (rank 0)
        self.sent = 0
        self._requests: list[Any] = []
        self.file = None
        #: rank 0: the first failed write; later units are received and dropped (they stay pending)
        self.error: WriteError | None = None
        if self.rank == 0:
            self.file = _open_unsieved(path)
            self._durable = _Durable(path)
        comm.Barrier()

    def write_unit(self, unit: WorkUnit, result: UnitResult) -> None:
        if self.rank == 0:
            self._write(unit.tasks, result)
        else:
            self._requests.append(self.comm.isend((unit.tasks, result), dest=0, tag=_TAG_RESULT))
            self.sent += 1

    def _write(self, tasks: slice, result: UnitResult) -> None:
        """Raises WriteError on the first failure; after it, drops the unit (it stays pending)."""
        assert self.file is not None
        if self.error is not None:
            return
        try:
            _write_data(self.file, tasks, result)
            self.file.flush()
            self._durable.sync()
            _write_status(self.file, tasks, result)
            self.file.flush()
            self._durable.sync()
        except OSError as exc:
            self.error = _write_error(self.path, exc)
            raise self.error from None

    def poll(self) -> None:
        if self.rank != 0:
            return
        from mpi4py import MPI

        while self.comm.iprobe(source=MPI.ANY_SOURCE, tag=_TAG_RESULT):
            received = self.comm.recv(source=MPI.ANY_SOURCE, tag=_TAG_RESULT)
            self.received += 1
            self._write(*received)

    def finish(self) -> None:
        """Collective: rank 0 receives every unit the others sent, then closes the file."""
        from mpi4py import MPI

        sent = self.comm.allreduce(self.sent)
        if self.rank == 0:
            while self.received < sent:
                received = self.comm.recv(source=MPI.ANY_SOURCE, tag=_TAG_RESULT)
                self.received += 1
                with contextlib.suppress(WriteError):  # kept in self.error; the driver reports it
                    self._write(*received)
            assert self.file is not None
            self._durable.close()
            self.file.close()
        else:
            MPI.Request.waitall(self._requests)
        self.comm.Barrier()


def _open_unsieved(path: Path) -> h5py.File:
    """Serial read-write open without HDF5's data sieve buffer (H5Pset_sieve_buf_size 0).

    Each row is then written by its own write(2) inside H5Dwrite, so a failed write fails
    there and leaves nothing dirty: a sieve buffer that cannot be written makes every later
    flush and the close fail, and HDF5 1.10 then crashes at exit (H5D_close, segfault)."""
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_sieve_buf_size(0)
    return h5py.File(h5py.h5f.open(os.fsencode(path), h5py.h5f.ACC_RDWR, fapl=fapl))


def _write_error(path: Path, exc: OSError) -> WriteError:
    """The error of a failed write during the run. HDF5's MPI-IO driver reports no errno
    ("file write failed"), so a directory with no block left counts as the disk being full."""
    text = _error_text(exc)
    if text != _NO_SPACE:
        with contextlib.suppress(OSError):
            if os.statvfs(path.parent if str(path.parent) else ".").f_bavail == 0:
                text = f"{_NO_SPACE}: {text}"
    return WriteError(f"writing {str(path)!r} failed: {text}")


Writer = ParallelWriter | SerialWriter


def resolve_io(io: str) -> bool:
    """True for the parallel writer: io = "auto" (parallel if available), "parallel" or "serial"."""
    if io not in ("auto", "parallel", "serial"):
        raise ConfigError(f"--io must be auto, parallel or serial, got {io!r}")
    if io == "parallel" and not parallel_available():
        raise ConfigError(
            "--io parallel: this h5py was built without MPI (h5py.get_config().mpi is False); "
            "rebuild it against parallel HDF5 (see README) or use --io serial"
        )
    return io == "parallel" or (io == "auto" and parallel_available())


def open_writer(
    path: Path, config: Config, model: Model, comm: Any, *, parallel: bool, create: bool
) -> Writer:
    """Open (create or reopen) the results file for writing, on every rank of `comm`.

    Creation failures raise the same ResultsFileError on every rank (`create_results`)."""
    if create:
        create_results(path, config, model, comm, parallel_io=parallel)
    cls = ParallelWriter if parallel else SerialWriter
    return cls(path, config, model, comm)
