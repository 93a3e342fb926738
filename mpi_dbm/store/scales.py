"""Named dimensions of a results file: HDF5 dimension scales, units and descriptions, so that
netCDF readers (`xarray.open_dataset(path, engine="h5netcdf")`) see labelled arrays.

Coordinate datasets at the root are dimension scales (netCDF dimensions, visible in every
group; a scale in /measure would not be seen from /spectra): `task` (0..n_tasks-1),
`measurement` (the training step of each measurement, = /measure/step), `point`
(0..n_points-1) and `level` (0..size-1; one `level_<spectrum>` per spectrum instead when the
spectra differ in size). Every dataset of /tasks, /points, /measure, /spectra and /scalars
has them attached (`DIMENSION_LIST`); every dataset carries a `description`, and `units` where
it has one (CF: none for a number).

`DIMENSION_LIST` is HDF5's one variable-length attribute (object references in the global
heap, which has no checksum); mpi-dbm never reads it (`Results.damage` skips it), so a damaged
heap cannot make mpi-dbm hang. Files of mpi-dbm before dimension scales lack the
coordinates; they stay valid (same layout version) and resumable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import h5py
import numpy as np

from ..config import Config
from ..models.base import Model
from .hdf5 import _attr

#: Whether new results files get dimension scales (on). Attaching a scale writes DIMENSION_LIST,
#: a variable-length attribute, hence a global heap, which has no checksum (a damaged heap can
#: make HDF5 1.10.8 loop forever when it is read). mpi-dbm never reads it (UNREAD_ATTRIBUTES;
#: every attribute it reads is fixed-size, tests/test_damaged_files.py checks both and fuzzes
#: damage anywhere in such a file) and `damage` checks the coordinates; xarray does read it.
DIMENSION_SCALES = True

#: attributes never read by mpi-dbm (variable-length data in the global heap)
UNREAD_ATTRIBUTES = frozenset({"DIMENSION_LIST"})

_STEPS = "SGD steps"
#: (units, description) of the fixed datasets
_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "task": ("1", "task id = point * replicas + replica"),
    "measurement": (_STEPS, "training step of each measurement (= /measure/step)"),
    "point": ("1", "point index (row of /points): one (learning rate, batch size, scan variant)"),
    "tasks/point": ("1", "the task's point (row of /points)"),
    "tasks/learning_rate": ("1", "learning rate alpha of the task's point"),
    "tasks/batch_size": ("1", "batch size |B| of the task's point"),
    "tasks/replica": ("1", "replica of the task within its point (seed spawn key (point, replica))"),
    "tasks/status": ("1", "0 pending, 1 done, 2 diverged"),
    "tasks/diverged_step": (_STEPS, "step at which the replica diverged; -1 if it never did"),
    "tasks/diverged_reason": ("1", "why the replica diverged (see the attribute meaning); 0 if it did not"),
    "tasks/checksum": ("1", "checksum of the task's rows (docs/file-format.md); 0 while pending"),
    "points/learning_rate": ("1", "learning rate alpha"),
    "points/batch_size": ("1", "batch size |B|"),
    "points/variant": ("1", "scan variant (row of [sweep.scan]'s parameter sets)"),
    "measure/step": (_STEPS, "training step of each measurement"),
}


def level_dimensions(sizes: Mapping[str, int]) -> dict[str, str]:
    """Spectrum name -> the name of its level dimension: `level` when all spectra have one size,
    else `level_<name>`."""
    shared = len(set(sizes.values())) <= 1
    return {name: "level" if shared else f"level_{name}" for name in sizes}


def coordinates(config: Config, sizes: Mapping[str, int]) -> dict[str, np.ndarray]:
    """The values of the root coordinate datasets (dimension scales)."""
    coords = {
        "task": np.arange(config.n_tasks, dtype=np.int64),
        "measurement": np.array(config.train.measure_steps, dtype=np.int64),
        "point": np.arange(len(config.points), dtype=np.int64),
    }
    for name, dim in level_dimensions(sizes).items():
        coords[dim] = np.arange(sizes[name], dtype=np.int64)
    return coords


def _dimensions(f: h5py.File, dims: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Dataset path -> the names of its dimensions (every dataset of the layout)."""
    out: dict[str, tuple[str, ...]] = {f"tasks/{k}": ("task",) for k in f["tasks"]}
    out |= {f"points/{k}": ("point",) for k in f["points"]}
    out["measure/step"] = ("measurement",)
    out |= {f"spectra/{k}": ("task", "measurement", dims[k]) for k in f["spectra"]}
    out |= {f"scalars/{k}": ("task", "measurement") for k in f["scalars"]}
    return out


def describe(f: h5py.File) -> None:
    """`description` (and `units`) of every dataset of the layout: fixed-length strings, no heap."""
    for group in ("tasks", "points", "measure", "scalars"):  # spectra keep their own description
        for key in f[group]:
            path = f"{group}/{key}"
            if path in _DESCRIPTIONS:
                _describe(f[path], *_DESCRIPTIONS[path])
            elif group == "points":
                _describe(f[path], "1", f"the scanned key {key} of [sweep.scan]")
            elif group == "scalars":
                _describe(f[path], "1", f"the model's scalar {key!r} at each measurement")


def create_scales(f: h5py.File, config: Config, model: Model, opts: Callable[[], dict[str, Any]]) -> None:
    """Create the coordinate datasets (allocated with `opts`, values by `write_coordinates`), make
    them and /measure/step dimension scales and attach them to every dataset."""
    sizes = {info.name: info.size for info in model.spectra}
    for name, values in coordinates(config, sizes).items():
        ds = f.create_dataset(name, shape=values.shape, dtype=values.dtype, **opts())
        ds.make_scale(name)
        _describe(ds, *_DESCRIPTIONS.get(name, ("1", "eigenvalue index of the spectrum, ascending")))
    for path, names in _dimensions(f, level_dimensions(sizes)).items():
        for axis, dim in enumerate(names):
            f[path].dims[axis].attach_scale(f[dim])


def _describe(ds: h5py.Dataset, units: str, description: str) -> None:
    """`description`, and `units` unless "1" (a dimensionless number: CF's default, left out to
    keep small files small)."""
    if units != "1":
        ds.attrs["units"] = _attr(units)
    ds.attrs["description"] = _attr(description)


def write_coordinates(f: h5py.File, config: Config) -> None:
    """The values of the coordinate datasets, if the file has them (one writer only)."""
    if "task" not in f:
        return
    sizes = {name: int(f["spectra"][name].shape[-1]) for name in f["spectra"]}
    for name, values in coordinates(config, sizes).items():
        f[name][...] = values
