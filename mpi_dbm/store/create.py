"""Creating a results file: its size, the space check, and the all-or-nothing creation on
rank 0 (NAME.creating with the whole size reserved, renamed into place once complete)."""

from __future__ import annotations

import contextlib
import errno
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py

from ..config import Config
from ..errors import ResultsFileError
from ..models.base import Model
from .layout import LIBVER, _create_layout, _root_attributes, _write_tables

_NO_SPACE = "no space left on device (disk full or quota exceeded)"


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


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
