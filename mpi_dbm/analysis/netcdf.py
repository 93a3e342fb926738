"""The root group of analysis.h5: the per-point statistics of an analysis with named dimensions.

analysis.h5 keeps its tables in groups (output.py); its root group is netCDF-4 (HDF5
dimension scales), so `xarray.open_dataset("analysis.h5", engine="h5netcdf")` returns one
Dataset: dimension `point` with the coordinates learning_rate (α), batch_size (|B|),
temperature (α/|B|), the scan variant and every scanned key; per spectrum S a dimension
`cluster_S` (the cluster labels) with the cluster statistics `S_<statistic>` and
`S_<statistic>_err` (point, cluster_S), and where level sets were analysed a dimension
`level_set_S` with ⟨r̃^(n)⟩ (n = 1, 2, 3) as `S_level_set_...`. NaN where a statistic is missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import h5py
import numpy as np

from .pipeline import Analysis

__all__ = ["write_labelled"]

_TEXT = h5py.string_dtype()


def write_labelled(a: Analysis, f: h5py.File) -> None:
    """Write the per-point statistics into the root group of `f` (analysis.h5, open for writing)."""
    f.attrs["title"] = "mpi-dbm analysis: per-point statistics (root group); tables (groups)"
    f.attrs["Conventions"] = "CF-1.8"
    coords = " ".join(_points(a, f))
    for name in a.dataset.spectra:
        _clusters(a, f, name, coords)
        _level_sets(a, f, name, coords)


def _points(a: Analysis, f: h5py.File) -> list[str]:
    """The `point` dimension and its coordinates (their names)."""
    pts = a.dataset.points
    scale = f.create_dataset("point", data=np.array([p.index for p in pts], dtype=np.int64))
    scale.make_scale("point")
    scale.attrs["description"] = "point index (row of the results file's /points)"
    columns: dict[str, tuple[np.ndarray, str]] = {
        "learning_rate": (np.array([p.learning_rate for p in pts]), "learning rate alpha"),
        "batch_size": (np.array([p.batch_size for p in pts], dtype=np.int64), "batch size |B|"),
        "temperature": (np.array([p.temperature for p in pts]), "alpha/|B|, the SGD temperature"),
        "variant": (np.array([p.variant for p in pts], dtype=np.int64), "scan variant"),
        "analysed": (np.array([p.n_done for p in pts], dtype=np.int64), "finished replicas analysed"),
        "diverged": (np.array([p.n_diverged for p in pts], dtype=np.int64), "diverged replicas"),
        "pending": (np.array([p.n_pending for p in pts], dtype=np.int64), "replicas not yet run"),
    }
    for key in sorted({k for p in pts for k, _ in p.parameters}):
        scanned = [dict(p.parameters).get(key) for p in pts]
        columns[key] = (_scanned(scanned), f"the scanned key {key} of [sweep.scan]")
    for name, (values, text) in columns.items():
        ds = f.create_dataset(name, data=values)
        ds.attrs["units"] = "1"
        ds.attrs["description"] = text
        ds.dims[0].attach_scale(scale)
    return list(columns)


def _scanned(values: Sequence[Any]) -> np.ndarray:
    """A scanned key's column: numbers as numbers (NaN where a point lacks it), else text."""
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int8)  # netCDF has no boolean type
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=float)
    return np.array(["" if v is None else str(v) for v in values], dtype=_TEXT)


def _table(
    f: h5py.File,
    dim: str,
    prefix: str,
    labels: list[str],
    rows: dict[tuple[int, str], dict[str, float]],
    coords: str,
) -> None:
    """Variables `<prefix>_<key>` (point, dim) from rows keyed by (point row, label); `coords`
    (CF `coordinates`): the per-point coordinates xarray attaches to each."""
    n = len(f["point"])
    scale = f.create_dataset(dim, data=np.array(labels, dtype=_TEXT))
    scale.make_scale(dim)
    scale.attrs["description"] = "label of each cluster (or level set) of the spectrum's levels"
    keys = sorted({k for values in rows.values() for k in values})
    for key in keys:
        grid = np.full((n, len(labels)), math.nan)
        for (row, label), values in rows.items():
            grid[row, labels.index(label)] = values.get(key, math.nan)
        ds = f.create_dataset(f"{prefix}_{key}", data=grid)
        ds.attrs["coordinates"] = coords
        ds.dims[0].attach_scale(f["point"])
        ds.dims[1].attach_scale(scale)


def _unique(label: str, seen: list[str]) -> str:
    """`label`, or `label#2`, `label#3`, ... when a point has it twice."""
    k, out = 1, label
    while out in seen:
        k += 1
        out = f"{label}#{k}"
    return out


def _clusters(a: Analysis, f: h5py.File, name: str, coords: str) -> None:
    labels: list[str] = []
    rows: dict[tuple[int, str], dict[str, float]] = {}
    for row, p in enumerate(a.dataset.points):
        here: list[str] = []
        for st in a.stats.get((name, p.index), []):
            label = _unique(st.cluster.label, here)
            here.append(label)
            if label not in labels:
                labels.append(label)
            values = {"level_start": float(st.cluster.start), "level_stop": float(st.cluster.stop)}
            for k, v in st.values.items():
                col = k.replace("/", "_over_")
                values[col] = v.get("value", math.nan)
                values[f"{col}_err"] = v.get("error", math.nan)
            for k, pred in st.predicted.items():
                values[f"predicted_{k.replace('/', '_over_')}"] = pred
            rows[(row, label)] = values
    if labels:
        _table(f, f"cluster_{name}", name, labels, rows, coords)


def _level_sets(a: Analysis, f: h5py.File, name: str, coords: str) -> None:
    labels: list[str] = []
    rows: dict[tuple[int, str], dict[str, float]] = {}
    row_of = {p.index: row for row, p in enumerate(a.dataset.points)}
    for (spectrum, index), sets in sorted(a.spectral.items()):
        if spectrum != name:
            continue
        here: list[str] = []
        for rec in sets:
            label = _unique(str(rec["label"]), here)
            here.append(label)
            if label not in labels:
                labels.append(label)
            values: dict[str, float] = {}
            for order in (1, 2, 3):
                x = rec.get("nth_ratios", {}).get(f"n{order}", {})
                values[f"mean_rtilde_n{order}"] = _number(x.get("value"))
                values[f"mean_rtilde_n{order}_err"] = _number(x.get("error"))
            rows[(row_of[index], label)] = values
    if labels:
        _table(f, f"level_set_{name}", f"{name}_level_set", labels, rows, coords)


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)
