"""The results file: one HDF5 file, layout fixed up front, rows written per work unit.

The only module (with analysis) that imports h5py, and with sweep/ the only one
that imports mpi4py. It decides between the two writers:
- ParallelWriter: every rank opens the file with driver='mpio' and writes its own
  rows with independent I/O (the default when h5py is built with MPI).
- SerialWriter: rank 0 alone opens the file; other ranks send their results to
  rank 0 over MPI (fallback for h5py without MPI, or `--io serial`).

Within a unit the data rows and their checksums (`/tasks/checksum`, one per task,
`task_checksums`) are written before `/tasks/status`, so a status of done/diverged
means the unit's data were written, and `Results.damage` can tell damaged rows from
intact ones. Files are created in the HDF5 1.10 format (`LIBVER`) without any
variable-length data, so every piece of metadata HDF5 reads carries a checksum that
HDF5 verifies: damaged metadata gives an error, never a loop. Layout: docs/file-format.md.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from . import __version__
from .config import RESULT_NEUTRAL, Config, compatibility_sha256, parse_text
from .errors import ConfigError, ResultsFileError, WriteError
from .models.base import DIVERGENCE_REASONS, Model
from .sweep.grid import WorkUnit, point_table, task_table
from .train import StackResult

LAYOUT_VERSION = 2
#: HDF5 format bounds of new files: superblock v3, object headers v2, compact links, all with
#: metadata checksums (HDF5 1.10 or later reads them). The 'earliest' format of layout 1 has
#: no checksums, and a zeroed global heap makes HDF5 1.10.8 loop forever.
LIBVER = ("v110", "v110")
PENDING, DONE, DIVERGED = 0, 1, 2
STATUS_NAMES = {PENDING: "pending", DONE: "done", DIVERGED: "diverged"}
_TAG_RESULT = 7301


def parallel_available() -> bool:
    """True when h5py was built against parallel HDF5 (driver='mpio' works)."""
    return bool(h5py.get_config().mpi)


def library_versions() -> dict[str, str]:
    import mpi4py
    from mpi4py import MPI

    return {
        "numpy_version": np.__version__,
        "h5py_version": h5py.__version__,
        "hdf5_version": h5py.version.hdf5_version,
        "mpi4py_version": mpi4py.__version__,
        "mpi_library": MPI.Get_library_version().replace("\x00", "").splitlines()[0].strip(),
    }


# -- layout ------------------------------------------------------------------------
def _root_attributes(config: Config, n_ranks: int, parallel_io: bool) -> dict[str, Any]:
    return {
        "format": "mpi-dbm results",
        "layout_version": LAYOUT_VERSION,
        "config": config.to_toml(),
        "config_sha256": config.sha256,
        "model_kind": config.model.kind,
        "mpi_dbm_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "n_ranks": n_ranks,
        "parallel_io": parallel_io,
        **library_versions(),
    }


def _allocated() -> dict[str, Any]:
    """Dataset options that allocate the storage and write the fill value at creation.

    Every byte of the file is then written before the run starts, so on file systems that
    overwrite in place (ext4, XFS, tmpfs, Lustre, GPFS) writing rows during the run needs
    no new space: a full disk or an exhausted quota shows up at creation, on rank 0 alone.
    """
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    return {"dcpl": dcpl, "fill_time": "alloc"}


def _create_layout(
    f: h5py.File, config: Config, model: Model, attrs: dict[str, Any], *, allocate: bool = True
) -> None:
    """Create every group and dataset; `allocate=False` leaves the data unallocated (size estimate)."""
    n_tasks = config.n_tasks
    n_meas = len(config.train.measure_steps)
    opts = _allocated if allocate else dict
    for key, value in attrs.items():
        f.attrs[key] = _attr(value)
    tasks = f.create_group("tasks")
    for name, dtype in (("point", "i8"), ("learning_rate", "f8"), ("batch_size", "i8"), ("replica", "i8")):
        tasks.create_dataset(name, shape=(n_tasks,), dtype=dtype, **opts())
    tasks.create_dataset("status", shape=(n_tasks,), dtype="i1", fillvalue=PENDING, **opts())
    tasks["status"].attrs["meaning"] = _attr("0 pending, 1 done, 2 diverged")
    tasks.create_dataset("diverged_step", shape=(n_tasks,), dtype="i8", fillvalue=-1, **opts())
    tasks.create_dataset("diverged_reason", shape=(n_tasks,), dtype="i1", fillvalue=0, **opts())
    tasks["diverged_reason"].attrs["meaning"] = _attr(
        ", ".join(f"{k} {v}" for k, v in DIVERGENCE_REASONS.items())
    )
    pts = f.create_group("points")
    for name, column in point_table(config).items():  # α, |B| and, with a scan, every scanned key
        pts.create_dataset(name, shape=column.shape, dtype=column.dtype, **opts())
    f.create_group("measure").create_dataset("step", shape=(n_meas,), dtype="i8", **opts())
    spectra = f.create_group("spectra")
    for info in model.spectra:
        ds = spectra.create_dataset(
            info.name, shape=(n_tasks, n_meas, info.size), dtype="f8", fillvalue=np.nan, **opts()
        )
        ds.attrs["description"] = _attr(info.description)
    scalars = f.create_group("scalars")
    for name in model.scalars:
        scalars.create_dataset(name, shape=(n_tasks, n_meas), dtype="f8", fillvalue=np.nan, **opts())
    _create_checksums(tasks, n_tasks)


def _create_checksums(tasks: h5py.Group, n_tasks: int) -> None:
    """/tasks/checksum, created last and allocated at once, so that its bytes lie far from
    /tasks/status (the spectra between them): one damaged block cannot zero both the status
    and the checksum of a task, which would make a finished task look never started."""
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    ds = tasks.create_dataset(
        "checksum", shape=(n_tasks,), dtype="u8", fillvalue=0, dcpl=dcpl, fill_time="alloc"
    )
    ds.attrs["meaning"] = _attr("task_checksums() of the task's rows; 0 while pending")


def _write_tables(f: h5py.File, config: Config) -> None:
    """The constant columns (one writer only)."""
    for name, values in task_table(config).items():
        f["tasks"][name][...] = values
    for name, column in point_table(config).items():
        f["points"][name][...] = column
    f["measure/step"][...] = np.array(config.train.measure_steps, dtype=np.int64)


def _final_status(result: StackResult) -> np.ndarray:
    return np.where(result.diverged, DIVERGED, DONE).astype(np.int8)


def _write_data(f: h5py.File, tasks: slice, result: StackResult) -> None:
    """Everything of a unit but its status: the data rows, then their checksums.

    The checksums cover the status the unit will get (`_write_status`) and the constant
    task columns (written at creation; read back here), so each rank computes those of
    its own tasks and parallel writers need no coordination.
    """
    for name, values in result.spectra.items():
        f["spectra"][name][tasks] = values
    for name, values in result.scalars.items():
        f["scalars"][name][tasks] = values
    f["tasks/diverged_step"][tasks] = result.diverged_step
    f["tasks/diverged_reason"][tasks] = result.diverged_reason
    rows: dict[str, np.ndarray] = {f"spectra/{k}": v for k, v in result.spectra.items()}
    rows |= {f"scalars/{k}": v for k, v in result.scalars.items()}
    rows |= {f"tasks/{k}": f["tasks"][k][tasks] for k in _TABLE_FIELDS}
    rows["tasks/diverged_step"] = result.diverged_step
    rows["tasks/diverged_reason"] = result.diverged_reason
    rows["tasks/status"] = _final_status(result)
    f["tasks/checksum"][tasks] = task_checksums(int(tasks.start or 0), rows)


def _write_status(f: h5py.File, tasks: slice, result: StackResult) -> None:
    """Written last: a task is done only once its data are in the file."""
    f["tasks/status"][tasks] = _final_status(result)


# -- checksums and fixed-length strings ----------------------------------------------------
#: dtypes (little-endian) of the /tasks columns a task's checksum covers; with them every
#: dataset of /spectra and /scalars. Not covered: /tasks/checksum itself.
_TASK_FIELD_DTYPES = {
    "point": "<i8",
    "learning_rate": "<f8",
    "batch_size": "<i8",
    "replica": "<i8",
    "status": "|i1",
    "diverged_step": "<i8",
    "diverged_reason": "|i1",
}
_TABLE_FIELDS = ("point", "learning_rate", "batch_size", "replica")
_CHECKSUM_PERSON = b"mpi-dbm task"


def task_checksums(first: int, rows: Mapping[str, np.ndarray]) -> np.ndarray:
    """Checksum of each task's rows, as uint64 (docs/file-format.md, "Checksums").

    `rows` maps dataset paths ("tasks/status", "spectra/X", "scalars/loss", ...) to arrays
    whose first axis runs over tasks first, first + 1, ... For task t the checksum is the
    64-bit BLAKE2b (RFC 7693; digest_size 8, personalisation b"mpi-dbm task") of
    t as little-endian int64, then for each path in sorted order: the path in UTF-8, a NUL
    byte, and the task's row in C order as little-endian bytes of the dataset's dtype
    (float64 for /spectra and /scalars). The digest is read as a little-endian uint64.
    """
    names = sorted(rows)
    arrays = [np.ascontiguousarray(rows[name], dtype=_row_dtype(name)) for name in names]
    keys = [name.encode() + b"\0" for name in names]
    n = len(arrays[0]) if arrays else 0
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        index = np.int64(first + i).astype("<i8").tobytes()
        h = hashlib.blake2b(index, digest_size=8, person=_CHECKSUM_PERSON)
        for key, a in zip(keys, arrays, strict=True):
            h.update(key)
            h.update(a[i].tobytes())
        out[i] = int.from_bytes(h.digest(), "little")
    return out


def _row_dtype(name: str) -> str:
    group, _, field = name.partition("/")
    return _TASK_FIELD_DTYPES[field] if group == "tasks" else "<f8"


def _attr(value: Any) -> Any:
    """An attribute value with strings as fixed-length UTF-8 (no variable-length data, hence no
    global heap: HDF5 1.10.8 loops forever on a damaged one, and it has no checksum)."""
    if isinstance(value, str):
        raw = value.encode()
        return np.array(raw, dtype=h5py.string_dtype("utf-8", max(1, len(raw))))
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        raws = [v.encode() for v in value]
        return np.array(raws, dtype=h5py.string_dtype("utf-8", max([1, *map(len, raws)])))
    return value


def _plain(value: Any) -> Any:
    """An attribute value as read back: bytes decoded, numpy scalars as Python scalars."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO":
        return [_plain(v) for v in value.tolist()]
    return value.item() if isinstance(value, np.generic) else value


# -- pre-flight (rank 0) --------------------------------------------------------------
@dataclass(frozen=True)
class Preflight:
    """What rank 0 found about the output path, broadcast to all ranks."""

    error: str | None
    exists: bool
    done: np.ndarray | None  # task-done mask of an existing file being resumed


def config_difference(stored: str, wanted: str) -> str:
    """Keys whose values differ between two canonical config texts."""
    import tomllib

    a, b = tomllib.loads(stored), tomllib.loads(wanted)
    diffs = []
    for table in sorted(set(a) | set(b)):
        ta, tb = a.get(table, {}), b.get(table, {})
        for key in sorted(set(ta) | set(tb)):
            if ta.get(key) != tb.get(key) and key not in RESULT_NEUTRAL.get(table, ()):
                diffs.append(f"[{table}] {key}: file has {ta.get(key)!r}, config has {tb.get(key)!r}")
    return "; ".join(diffs) or "(formatting only)"


def preflight(path: Path, config: Config, *, force: bool, resume: bool) -> Preflight:
    """Decide, before anything is written, whether `path` may be created or resumed."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return Preflight(f"output directory {str(parent)!r} does not exist; create it first", False, None)
    if not os.access(parent, os.W_OK):
        return Preflight(f"output directory {str(parent)!r} is not writable", False, None)
    if path.is_dir():
        return Preflight(f"output path {str(path)!r} is a directory; give a file name", False, None)
    if not path.exists():
        return Preflight(None, False, None)
    if resume:
        try:
            res = open_results(path)
        except ResultsFileError as exc:
            return Preflight(f"cannot resume: {exc}", True, None)
        with res:
            damage = res.damage()  # first: a damaged config would not parse
            if not damage.resumable:  # damaged pending rows are recomputed
                return Preflight(f"cannot resume: {damage.message(path)}", True, None)
            if compatibility_sha256(res.config_text) != config.compat_sha256:  # schedule etc. may differ
                diff = config_difference(res.config_text, config.to_toml())
                return Preflight(
                    f"cannot resume {str(path)!r}: it was made with a different config ({diff}); "
                    "use the original config, or another output file",
                    True,
                    None,
                )
            return Preflight(None, True, res.status() != PENDING)
    if force:
        return Preflight(None, True, None)
    return Preflight(
        f"results file {str(path)!r} exists; pass --resume to complete it, "
        "--force to overwrite it, or choose another -o",
        True,
        None,
    )


# -- writers ------------------------------------------------------------------------
def _creating_path(path: Path) -> Path:
    """Where a new file is built before it is renamed into place (atomic creation)."""
    return path.with_name(path.name + ".creating")


_META_BLOCK = 2048  # HDF5's default metadata aggregation block (H5Pset_meta_block_size)


def results_file_size(config: Config, model: Model) -> int:
    """Bytes the results file of `config` takes at most: the layout's metadata, built in memory
    without its data, plus every dataset's n_elements × itemsize (all allocated at creation),
    plus one metadata block per dataset (allocating data between metadata leaves part of the
    current aggregation block unused)."""
    attrs = _root_attributes(config, 1, True)
    with h5py.File(
        f"size-{id(config)}.h5", "w", driver="core", backing_store=False, block_size=512, libver=LIBVER
    ) as f:
        _create_layout(f, config, model, attrs, allocate=False)
        data, n_datasets = 0, 0

        def add(name: str, obj: Any) -> None:
            nonlocal data, n_datasets
            if isinstance(obj, h5py.Dataset):
                data += obj.size * obj.dtype.itemsize
                n_datasets += 1

        f.visititems(add)
        f.flush()
        meta = f.id.get_filesize()
    return int(meta + data + n_datasets * _META_BLOCK)


def _mb(n: float) -> str:
    return f"{n / 1e6:.3g} MB"


def space_error(path: Path, config: Config, model: Model) -> str | None:
    """Rank 0, before a new results file (and its lock) is created: None if the directory
    has room for them (os.statvfs, blocks available to this user), else the message.

    Best effort: quotas and other writers are not visible here; `create_results` is what
    guarantees that a full disk leaves nothing behind."""
    parent = path.parent if str(path.parent) else Path(".")
    st = os.statvfs(parent)
    block = st.f_frsize or st.f_bsize
    need = -(-results_file_size(config, model) // block) * block + block  # + the lock file
    free = st.f_bavail * block
    if need <= free:
        return None
    return f"not enough space in {str(parent)!r}: the results file needs {_mb(need)}, {_mb(free)} free"


def _error_text(exc: BaseException) -> str:
    """One line for an I/O error from h5py or the OS (h5py's messages run over several lines)."""
    text = " ".join(str(exc).split())
    codes = {getattr(exc, "errno", None), *(int(m) for m in re.findall(r"errno = (\d+)", text))}
    if codes & {errno.ENOSPC, errno.EDQUOT} or "No space left on device" in text:
        return _NO_SPACE
    return text or repr(exc)


def create_results(path: Path, config: Config, model: Model, comm: Any, *, parallel_io: bool) -> None:
    """Collective: create the results file of `config` at `path`, or raise the same error on every rank.

    Rank 0 alone builds the whole layout in NAME.creating with the serial driver, every
    dataset allocated and filled (`_allocated`), fsyncs it and renames it over `path`; the
    other ranks only wait for its verdict (a broadcast). A failure (disk full, quota, I/O
    error) deletes NAME.creating and leaves `path` as it was (an old file, with --force,
    is replaced only by a complete new one); every rank then raises ResultsFileError with
    the same message. No rank is ever inside a collective HDF5 call here, so an error
    cannot leave ranks waiting in different collectives (parallel HDF5 creation with
    driver='mpio' hangs on ENOSPC: one rank fails in the collective fill of a dataset
    while another waits in the closing MPI_File_set_size).

    Before HDF5 writes anything but the superblock, the file's whole size
    (`results_file_size`) is reserved (`_reserve`): a full disk or quota fails there, in a
    plain system call, and never inside HDF5, whose state after a failed write can crash
    the process later (HDF5 1.10: a segfault when the objects of the failed file are freed).
    """
    error = None
    if comm.Get_rank() == 0:
        try:
            with _building(path, results_file_size(config, model)) as f:
                _create_layout(f, config, model, _root_attributes(config, comm.Get_size(), parallel_io))
                _write_tables(f, config)
        except ResultsFileError as exc:
            error = str(exc)
        except Exception as exc:  # never leave the other ranks waiting in the broadcast
            error = f"cannot create {str(path)!r}: {_error_text(exc)}; nothing was written"
    error = comm.bcast(error)
    if error is not None:
        raise ResultsFileError(error)


@contextlib.contextmanager
def _building(path: Path, size: int) -> Iterator[h5py.File]:
    """A new HDF5 file in NAME.creating with `size` bytes reserved, renamed over `path` once
    the block completes (after an fsync). Any failure removes NAME.creating, leaves `path` as
    it was and raises ResultsFileError (one passing through unchanged; others say what failed).
    The reservation comes right after the superblock, before HDF5 writes anything else."""
    tmp = _creating_path(path)
    try:
        with h5py.File(tmp, "w", libver=LIBVER) as f:
            f.flush()  # the superblock: the only write not covered by the reservation
            _reserve(tmp, size)
            yield f
        _fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException as exc:
        left = ""
        try:
            tmp.unlink(missing_ok=True)
        except OSError as exc2:
            left = f" (and {str(tmp)!r} could not be removed: {exc2})"
        if isinstance(exc, ResultsFileError) or not isinstance(exc, Exception):
            raise
        raise ResultsFileError(
            f"cannot create {str(path)!r}: {_error_text(exc)}; nothing was written{left}"
        ) from None


def _reserve(path: Path, nbytes: int) -> None:
    """Reserve `nbytes` of disk for `path` without changing its size, or raise OSError (ENOSPC,
    EDQUOT). Linux fallocate(2) with FALLOC_FL_KEEP_SIZE (ext4, XFS, tmpfs, btrfs, Lustre ≥
    2.14, NFS 4.2); where it is not supported, nothing is reserved and only the space check
    (`space_error`) stands between a full disk and HDF5."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fallocate = libc.fallocate
    except (OSError, AttributeError):
        return
    fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    keep_size = 0x01  # FALLOC_FL_KEEP_SIZE (linux/falloc.h)
    fd = os.open(path, os.O_WRONLY)
    try:
        if fallocate(fd, keep_size, 0, nbytes) != 0:
            err = ctypes.get_errno()
            if err not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                raise OSError(err, os.strerror(err), str(path))
    finally:
        os.close(fd)


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

    def write_unit(self, unit: WorkUnit, result: StackResult) -> None:
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

    def write_unit(self, unit: WorkUnit, result: StackResult) -> None:
        if self.rank == 0:
            self._write(unit.tasks, result)
        else:
            self._requests.append(self.comm.isend((unit.tasks, result), dest=0, tag=_TAG_RESULT))
            self.sent += 1

    def _write(self, tasks: slice, result: StackResult) -> None:
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


_NO_SPACE = "no space left on device (disk full or quota exceeded)"


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


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


# -- reading ------------------------------------------------------------------------
_READ_ERRORS = (OSError, KeyError, RuntimeError, ValueError, TypeError, IndexError, AttributeError)


@contextlib.contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Turn any error HDF5 raises while reading `what` into one ResultsFileError."""
    try:
        yield
    except _READ_ERRORS as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise ResultsFileError(f"{str(path)!r} is damaged: cannot read {what} ({text})") from None


def _ranges(indices: np.ndarray, limit: int = 12) -> str:
    """'3, 7..9, 12' for sorted indices (at most `limit` runs, then '... (N in all)')."""
    runs = _runs(np.isin(np.arange(int(indices.max()) + 1), indices)) if indices.size else []
    text = ", ".join(
        f"{r.start}" if r.stop - r.start == 1 else f"{r.start}..{r.stop - 1}" for r in runs[:limit]
    )
    return text + (f", ... ({indices.size} in all)" if len(runs) > limit else "")


@dataclass(frozen=True)
class Damage:
    """What `Results.damage` found: structural problems and finished tasks whose rows fail their checksum."""

    problems: tuple[str, ...]
    damaged_tasks: np.ndarray  # indices of done/diverged tasks whose rows do not match /tasks/checksum
    checked: int  # done/diverged tasks whose rows were verified
    pending: int
    #: pending tasks whose rows are complete and match their checksum: a run stopped between
    #: writing a unit's rows and its status, or the status was damaged; `--resume` recomputes them
    unmarked: np.ndarray
    #: pending tasks with a checksum that does not match their rows as finished: rows or
    #: checksum damaged (a unit's rows are written before its checksum, and a rewritten unit
    #: has the same rows); `--resume` recomputes them
    broken_pending: np.ndarray

    @property
    def resumable(self) -> bool:
        """`run --resume` may complete the file: all damage is in rows it recomputes."""
        return not self.problems and self.damaged_tasks.size == 0

    def note(self) -> str | None:
        """What to say about `unmarked` tasks (not damage: `run --resume` recomputes them), if any."""
        if not self.unmarked.size:
            return None
        return (
            f"{self.unmarked.size} pending task(s) have complete rows that match their checksums "
            f"(tasks {_ranges(self.unmarked)}): a run stopped between writing their rows and their "
            "status, or their status was damaged; `mpi-dbm run --resume` recomputes them"
        )

    @property
    def intact(self) -> bool:
        return self.resumable and self.broken_pending.size == 0

    def message(self, path: Path) -> str:
        """One line naming every problem (for ResultsFileError)."""
        parts = list(self.problems)
        if self.damaged_tasks.size:
            parts.append(
                f"{self.damaged_tasks.size} finished task(s) whose data do not match their checksum: "
                f"tasks {_ranges(self.damaged_tasks)}"
            )
        if self.broken_pending.size:
            parts.append(
                f"{self.broken_pending.size} pending task(s) whose rows do not match their checksum: "
                f"tasks {_ranges(self.broken_pending)} (`mpi-dbm run --resume` recomputes them)"
            )
        return f"{str(path)!r} is damaged: {'; '.join(parts)}"


class Results:
    """Read access to a results file (serial, any process). Use as a context manager.

    Every read turns an HDF5 error into ResultsFileError ("... is damaged: ..."); `damage`
    checks the whole file against its checksums and its stored config.
    """

    def __init__(self, path: Path, file: h5py.File) -> None:
        self.path = path
        self.file = file

    def __enter__(self) -> Results:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(*_READ_ERRORS):
            self.file.close()

    def _read(self, name: str, sel: Any = ...) -> np.ndarray:
        with _reading(self.path, f"/{name}"):
            return np.asarray(self.file[name][sel])

    @property
    def attrs(self) -> dict[str, Any]:
        with _reading(self.path, "the root attributes"):
            return {k: _plain(v) for k, v in self.file.attrs.items()}

    def _attr_text(self, key: str) -> str:
        with _reading(self.path, f"the root attribute {key!r}"):
            value = _plain(self.file.attrs[key])
        if not isinstance(value, str):
            raise ResultsFileError(f"{str(self.path)!r} is damaged: the root attribute {key!r} is not text")
        return value

    @property
    def config_text(self) -> str:
        return self._attr_text("config")

    @property
    def config_sha256(self) -> str:
        return self._attr_text("config_sha256")

    def config(self) -> Config:
        return parse_text(self.config_text, source=f"{self.path} (stored config)")

    def status(self) -> np.ndarray:
        return self._read("tasks/status")

    def tasks(self) -> dict[str, np.ndarray]:
        with _reading(self.path, "/tasks"):
            names = list(self.file["tasks"])
        return {name: self._read(f"tasks/{name}") for name in names}

    def points(self) -> dict[str, np.ndarray]:
        """The /points columns: learning_rate, batch_size and, with a scan, variant and one column
        per scanned key ("model.noise_strength", ...; strings as bytes)."""
        with _reading(self.path, "/points"):
            names = list(self.file["points"])
        return {name: self._read(f"points/{name}") for name in names}

    def measure_steps(self) -> np.ndarray:
        return self._read("measure/step")

    def spectrum_names(self) -> list[str]:
        with _reading(self.path, "/spectra"):
            return list(self.file["spectra"])

    def scalar_names(self) -> list[str]:
        with _reading(self.path, "/scalars"):
            return list(self.file["scalars"]) if "scalars" in self.file else []

    def spectra(self, name: str, measurement: int | slice = slice(None)) -> np.ndarray:
        return self._read(f"spectra/{name}", (slice(None), measurement))

    def scalars(self, name: str) -> np.ndarray:
        return self._read(f"scalars/{name}")

    def require_intact(self) -> None:
        """Raise ResultsFileError naming the damage unless `damage()` finds none."""
        found = self.damage()
        if not found.intact:
            raise ResultsFileError(found.message(self.path))

    def _read_all_metadata(self) -> None:
        """Read every object header and attribute once: HDF5 checks their checksums."""

        def visit(name: str, obj: Any) -> None:
            with _reading(self.path, f"/{name}"):
                for value in obj.attrs.values():
                    _plain(value)

        _ = self.attrs
        with _reading(self.path, "the file's groups"):
            self.file.visititems(visit)

    def damage(self, block: int = 512) -> Damage:
        """Check the structure against the stored config, and every finished task against its checksum.

        Structure: the config matches its SHA-256, every dataset has the layout's shape and
        dtype, /points, /measure/step and the task columns equal what the config implies,
        status values are 0, 1 or 2. Rows: the checksum of each done or diverged task
        (`task_checksums`) equals /tasks/checksum. Pending tasks are not checked (their
        rows may hold a unit that was interrupted). Reads `block` tasks at a time.
        """
        problems: list[str] = []
        none = np.zeros(0, dtype=np.int64)
        self._read_all_metadata()
        text = self.config_text
        if hashlib.sha256(text.encode()).hexdigest() != self.config_sha256:
            return Damage(("the stored config does not match its config_sha256",), none, 0, 0, none, none)
        try:
            config = self.config()
        except ConfigError as exc:
            return Damage((f"the stored config does not parse ({exc})",), none, 0, 0, none, none)
        n, n_meas = config.n_tasks, len(config.train.measure_steps)
        spectra = [f"spectra/{s}" for s in self.spectrum_names()]
        scalars = [f"scalars/{s}" for s in self.scalar_names()]
        expected: dict[str, tuple[tuple[int, ...] | None, str]] = {
            **{f"tasks/{k}": ((n,), v) for k, v in _TASK_FIELD_DTYPES.items()},
            "tasks/checksum": ((n,), "<u8"),
            "measure/step": ((n_meas,), "<i8"),
            **{f"points/{k}": (c.shape, c.dtype.str) for k, c in point_table(config).items()},
            **{name: (None, "<f8") for name in spectra},
            **{name: ((n, n_meas), "<f8") for name in scalars},
        }
        for name, (shape, dtype) in expected.items():
            with _reading(self.path, f"/{name}"):
                if name not in self.file:
                    problems.append(f"/{name} is missing")
                    continue
                ds = self.file[name]
                if not isinstance(ds, h5py.Dataset):
                    problems.append(f"/{name} is not a dataset")
                    continue
                got_shape, got_dtype = ds.shape, ds.dtype
            if shape is None:  # a spectrum: (n_tasks, n_measure, size)
                shape = (n, n_meas, got_shape[-1] if len(got_shape) == 3 else -1)
            if got_dtype != np.dtype(dtype) or got_shape != shape:
                problems.append(f"/{name} has shape {got_shape} and type {got_dtype}, not the layout's")
        if not spectra:
            problems.append("/spectra holds no spectrum")
        if problems:
            return Damage(tuple(problems), none, 0, 0, none, none)
        if not np.array_equal(self.measure_steps(), np.array(config.train.measure_steps)):
            problems.append("/measure/step differs from the stored config")
        if not all(np.array_equal(self._read(f"points/{k}"), c) for k, c in point_table(config).items()):
            problems.append("/points differs from the stored config")
        table = task_table(config)
        wrong = np.zeros(n, dtype=bool)
        for k in _TABLE_FIELDS:
            wrong |= self._read(f"tasks/{k}") != table[k]
        if wrong.any():
            problems.append(
                "the task columns (point, learning_rate, batch_size, replica) of tasks "
                f"{_ranges(np.flatnonzero(wrong))} differ from the stored config"
            )
        status = self.status()
        bad_status = np.flatnonzero(~np.isin(status, (PENDING, DONE, DIVERGED)))
        if bad_status.size:
            problems.append(f"/tasks/status of tasks {_ranges(bad_status)} is not 0, 1 or 2")
        finished = np.isin(status, (DONE, DIVERGED))
        stored = self._read("tasks/checksum")
        # pending with a checksum: interrupted between rows and status, or a damaged status
        candidates = (status == PENDING) & (stored != 0)
        damaged: list[np.ndarray] = []
        unmarked: list[np.ndarray] = []
        broken: list[np.ndarray] = []
        names = [f"tasks/{k}" for k in _TASK_FIELD_DTYPES] + spectra + scalars
        for start in range(0, n, block):
            sel = slice(start, min(start + block, n))
            if not (finished[sel].any() or candidates[sel].any()):
                continue
            rows = {name: self._read(name, sel) for name in names}
            ok = task_checksums(start, rows) == stored[sel]
            damaged.append(start + np.flatnonzero(finished[sel] & ~ok))
            if candidates[sel].any():
                diverged = rows["tasks/diverged_step"] >= 0  # the status the writer gave (_final_status)
                rows["tasks/status"] = np.where(diverged, DIVERGED, DONE).astype(np.int8)
                ok = task_checksums(start, rows) == stored[sel]
                unmarked.append(start + np.flatnonzero(candidates[sel] & ok))
                broken.append(start + np.flatnonzero(candidates[sel] & ~ok))
        return Damage(
            tuple(problems),
            np.concatenate(damaged) if damaged else none,
            int(finished.sum()),
            int((status == PENDING).sum()),
            np.concatenate(unmarked) if unmarked else none,
            np.concatenate(broken) if broken else none,
        )


_REQUIRED = ("tasks/status", "tasks/learning_rate", "tasks/batch_size", "tasks/replica", "measure/step")


def _superblock_version(path: Path) -> int | None:
    """Version byte of an HDF5 superblock at offset 0 (0/1: the 'earliest' format), None if elsewhere."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    return head[8] if len(head) == 9 and head[:8] == b"\x89HDF\r\n\x1a\n" else None


def open_results(path: str | Path) -> Results:
    """Open a results file for reading, or raise ResultsFileError saying what is wrong with it.

    Only layout-2 files (HDF5 1.10 format, no variable-length data) are read: layout 1 has
    no checksums, and HDF5 can loop forever on its damaged metadata. Reading attributes of
    the 'earliest' format that hold no variable-length data (layout_version) is safe.
    """
    p = Path(path)
    if not p.exists():
        raise ResultsFileError(f"results file {str(p)!r} does not exist")
    if p.is_dir():
        raise ResultsFileError(f"{str(p)!r} is a directory, not a results file")
    try:
        hdf5 = h5py.is_hdf5(p)
        superblock = _superblock_version(p)
    except OSError as exc:
        raise ResultsFileError(f"cannot read {str(p)!r}: {exc}") from None
    if not hdf5:
        raise ResultsFileError(f"{str(p)!r} is not an HDF5 file (truncated, or not written by mpi-dbm)")
    try:
        # locking=False: read while a run holds the file open (the layout never changes during a
        # run, and readers use only rows whose status is done)
        f = h5py.File(p, "r", locking=False)
    except _READ_ERRORS as exc:
        text = " ".join(str(exc).split())
        raise ResultsFileError(f"cannot open {str(p)!r}: {text} (truncated or damaged?)") from None
    try:
        fmt: Any = None
        with _reading(p, "the root attributes"):
            names = set(f.attrs)  # every name; h5py's attrs.get() would take damage for absence
            version = f.attrs["layout_version"] if "layout_version" in names else None
            current = isinstance(version, np.integer | int) and int(version) == LAYOUT_VERSION
            if current and superblock not in (0, 1):  # no variable-length strings to read
                fmt = _plain(f.attrs.get("format"))
        if not isinstance(version, np.integer | int):
            raise ResultsFileError(f"{str(p)!r} is an HDF5 file but not an mpi-dbm results file")
        if int(version) > LAYOUT_VERSION:
            raise ResultsFileError(
                f"{str(p)!r} has layout version {int(version)}; "
                f"this mpi-dbm ({__version__}) reads up to {LAYOUT_VERSION}: upgrade mpi-dbm"
            )
        if int(version) < LAYOUT_VERSION or superblock in (0, 1):
            raise ResultsFileError(
                f"{str(p)!r} has layout version {int(version)}, written by an older mpi-dbm without "
                f"checksums (HDF5 can hang on such a file when it is damaged); this mpi-dbm reads layout "
                f"{LAYOUT_VERSION} only: run its config again into a new file "
                "(the same config gives the same bits)"
            )
        if fmt != "mpi-dbm results":
            raise ResultsFileError(f"{str(p)!r} is an HDF5 file but not an mpi-dbm results file")
        with _reading(p, "the layout"):
            missing = [name for name in (*_REQUIRED, "tasks/checksum", "spectra") if name not in f]
        if missing:
            raise ResultsFileError(f"{str(p)!r} is damaged: it lacks {', '.join('/' + m for m in missing)}")
    except ResultsFileError:
        with contextlib.suppress(*_READ_ERRORS):
            f.close()
        raise
    return Results(p, f)


# -- merging chunk files ------------------------------------------------------------------
@dataclass(frozen=True)
class MergeSummary:
    path: Path
    n_tasks: int
    copied: int
    pending: int


def _runs(mask: np.ndarray) -> list[slice]:
    """Contiguous runs of True in a 1-D mask, as slices."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def merge(output: str | Path, inputs: list[str | Path], *, force: bool = False) -> MergeSummary:
    """Join results files of one sweep (e.g. `run --chunk I/K` outputs) into one file.

    All inputs must carry the same config hash. Every task that is done or diverged in
    some input is copied; a task finished in two inputs must have identical data. The
    output has the layout of a single run, so its /spectra and /tasks equal an
    uninterrupted single-file run's bit for bit once every task is finished.
    """
    from . import models
    from .streams import shared_data_seed

    out = Path(output)
    if not inputs:
        raise ResultsFileError("merge needs at least one input file")
    paths = [Path(p) for p in inputs]
    if any(out.resolve() == p.resolve() for p in paths if p.exists()):
        raise ResultsFileError(f"the output {str(out)!r} is also an input; choose another output file")
    if out.exists() and not force:
        raise ResultsFileError(f"{str(out)!r} exists; pass --force to overwrite it or choose another output")
    if not out.parent.is_dir():
        raise ResultsFileError(f"output directory {str(out.parent)!r} does not exist; create it first")
    opened = []
    try:
        for p in paths:
            opened.append(open_results(p))
            opened[-1].require_intact()  # damaged rows must not spread into the merged file
    except ResultsFileError:
        for res in opened:
            res.close()
        raise
    try:
        first = opened[0]
        for res in opened[1:]:
            if compatibility_sha256(res.config_text) != compatibility_sha256(first.config_text):
                diff = config_difference(first.config_text, res.config_text)
                raise ResultsFileError(
                    f"{res.path} is not from the same sweep as {first.path} ({diff}); "
                    "only chunk files of one config can be merged"
                )
        config = first.config()
        model = models.build(config.model, shared_data_seed(config.sweep.seed))
        attrs = {
            **_root_attributes(config, int(first.file.attrs.get("n_ranks", 1)), False),
            "merged_from": [str(p) for p in paths],
        }
        copied = np.zeros(config.n_tasks, dtype=bool)
        if (no_room := space_error(out, config, model)) is not None:
            raise ResultsFileError(no_room)
        with _building(out, results_file_size(config, model)) as f:
            _create_layout(f, config, model, attrs)
            _write_tables(f, config)
            names = [
                "tasks/diverged_step",
                "tasks/diverged_reason",
                "tasks/checksum",
                *(f"spectra/{s.name}" for s in model.spectra),
            ]
            names += [f"scalars/{n}" for n in model.scalars]
            for res in opened:
                have = res.status() != PENDING
                for run in _runs(have & copied):
                    for name in [*names, "tasks/status"]:
                        if not np.array_equal(f[name][run], res._read(name, run), equal_nan=True):
                            raise ResultsFileError(
                                f"tasks {run.start}..{run.stop - 1} are finished in two inputs with "
                                f"different data ({name}, {res.path}); the inputs do not belong together"
                            )
                for run in _runs(have & ~copied):
                    for name in names:
                        f[name][run] = res._read(name, run)
                    f["tasks/status"][run] = res._read("tasks/status", run)
                copied |= have
    finally:
        for res in opened:
            res.close()
    return MergeSummary(out, config.n_tasks, int(copied.sum()), int((~copied).sum()))
