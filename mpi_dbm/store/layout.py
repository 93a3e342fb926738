"""The layout of a results file: its constants, root attributes, groups and datasets.

Files are created in the HDF5 1.10 format (`LIBVER`) without any variable-length data, so
every piece of metadata HDF5 reads carries a checksum that HDF5 verifies. Every dataset is
allocated and filled at creation (`_allocated`). Layout: docs/file-format.md.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import h5py
import numpy as np

from .. import __version__
from ..config import Config
from ..models.base import DIVERGENCE_REASONS, Model
from ..sweep.grid import point_table, task_table
from . import scales
from .hdf5 import _attr

LAYOUT_VERSION = 2
#: HDF5 format bounds of new files: superblock v3, object headers v2, compact links, all with
#: metadata checksums (HDF5 1.10 or later reads them). The 'earliest' format of layout 1 has
#: no checksums, and a zeroed global heap makes HDF5 1.10.8 loop forever.
LIBVER = ("v110", "v110")
PENDING, DONE, DIVERGED = 0, 1, 2
STATUS_NAMES = {PENDING: "pending", DONE: "done", DIVERGED: "diverged"}


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
    scales.describe(f)
    if scales.DIMENSION_SCALES:
        scales.create_scales(f, config, model, opts)  # last: no dataset above moves


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
    scales.write_coordinates(f, config)
