"""Files the ecosystem can read (issue #16 item 5): xarray (engine h5netcdf) opens a results file
and an analysis file with named dimensions, units and descriptions."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import run_cli

from mpi_dbm import config, models
from mpi_dbm.importer.write import SoloComm
from mpi_dbm.store import create_results, open_results, scales
from mpi_dbm.streams import shared_data_seed

xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

CONFIG = """
[sweep]
name = "xr"
seed = 5
replicas = 6
points = [[0.1, 16], [0.2, 8]]
block_size = 3

[model]
kind = "teacher_student"
n = 3
teacher_eigenvalues = [2.0, 2.0, 2.0]
data_per_batch = 50
noise_strength = 0.05
init = "random"

[train]
steps = 40
measure_every = 20

[sweep.scan]
"model.noise_strength" = [0.05, 0.1]
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, Path]:
    """(config, results file of a finished run: the default layout, as `mpi-dbm run` writes it)."""
    d = tmp_path_factory.mktemp("xr")
    cfg = d / "c.toml"
    cfg.write_text(CONFIG)
    out = d / "r.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return cfg, out


def with_scales(cfg_path: Path, source: Path, out: Path, monkeypatch) -> Path:
    """The results file of `source` rebuilt with dimension scales (scales.DIMENSION_SCALES on):
    created by the store, then the rows copied (same config, so the checksums hold)."""
    monkeypatch.setattr(scales, "DIMENSION_SCALES", True)
    cfg = config.load(cfg_path)
    model = models.build(cfg.model, shared_data_seed(cfg.sweep.seed))
    create_results(out, cfg, model, SoloComm(), parallel_io=False)
    with h5py.File(source, "r") as src, h5py.File(out, "r+") as dst:
        for group in ("spectra", "scalars", "tasks"):
            for name in src[group]:
                dst[f"{group}/{name}"][...] = src[f"{group}/{name}"][...]
    return out


def test_a_run_writes_descriptions_and_dimension_scales_that_xarray_names(run):
    """`mpi-dbm run` itself (under mpiexec, parallel HDF5) writes the coordinates: xarray opens the
    spectra with named dimensions and no phony_dims."""
    _, path = run
    with h5py.File(path, "r") as f:
        assert f["measure/step"].attrs["units"] == b"SGD steps"
        assert b"learning rate" in f["tasks/learning_rate"].attrs["description"]
        assert b"model.noise_strength" in f["points/model.noise_strength"].attrs["description"]
        assert "loss" in f["scalars"] and b"loss" in f["scalars/loss"].attrs["description"]
        assert scales.DIMENSION_SCALES and "task" in f
    spectra = xr.open_dataset(path, engine="h5netcdf", group="spectra")
    assert set(spectra.data_vars) == {"WtW", "singular_values"}
    assert spectra["WtW"].dims == ("task", "measurement", "level")


def test_results_file_with_dimension_scales_opens_with_named_dimensions(run, tmp_path, monkeypatch):
    cfg, source = run
    path = with_scales(cfg, source, tmp_path / "scaled.h5", monkeypatch)
    with open_results(path) as res:
        found = res.damage()
        assert found.intact and found.checked == 24, found.message(path)
        steps = res.measure_steps()
    root = xr.open_dataset(path, engine="h5netcdf")
    assert dict(root.sizes) == {"task": 24, "measurement": 3, "point": 4, "level": 3}
    np.testing.assert_array_equal(root["measurement"], steps)
    spectra = xr.open_dataset(path, engine="h5netcdf", group="spectra")
    assert spectra["WtW"].dims == ("task", "measurement", "level")
    scalars = xr.open_dataset(path, engine="h5netcdf", group="scalars")
    assert scalars["loss"].dims == ("task", "measurement")
    tasks = xr.open_dataset(path, engine="h5netcdf", group="tasks")
    points = xr.open_dataset(path, engine="h5netcdf", group="points")
    assert points["model.noise_strength"].dims == ("point",)
    np.testing.assert_array_equal(points["model.noise_strength"], [0.05, 0.05, 0.1, 0.1])
    # the labelled view a user builds: spectra by (point, replica, step)
    labelled = spectra.assign_coords(
        measurement=root["measurement"].values,
        point=("task", tasks["point"].values),
        replica=("task", tasks["replica"].values),
    )
    last = labelled["WtW"].sel(measurement=40).set_index(task=["point", "replica"]).unstack("task")
    assert last.dims == ("level", "point", "replica") and last.shape == (3, 4, 6)
    with h5py.File(source, "r") as f:
        np.testing.assert_array_equal(last.sel(point=2, replica=5).values, f["spectra/WtW"][2 * 6 + 5, 2])


def test_damage_checks_the_coordinates_and_accepts_files_without_them(run, tmp_path, monkeypatch):
    cfg, source = run
    path = with_scales(cfg, source, tmp_path / "scaled.h5", monkeypatch)
    with h5py.File(path, "r+") as f:
        f["point"][1] = 7
    with open_results(path) as res:
        found = res.damage()
    assert not found.resumable and "/point" in found.message(path)
    old = tmp_path / "old.h5"  # a file written before dimension scales: still intact
    shutil.copy(source, old)
    with open_results(old) as res:
        assert res.damage().intact


def test_analysis_file_opens_with_named_dimensions(run, tmp_path):
    _, path = run
    out = tmp_path / "report"
    proc = run_cli("analyze", str(path), "-o", str(out), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    ds = xr.open_dataset(out / "analysis.h5", engine="h5netcdf")
    assert ds.sizes["point"] == 4
    for coord in ("learning_rate", "batch_size", "temperature", "variant", "model.noise_strength"):
        assert coord in ds.coords and ds[coord].dims == ("point",), coord
    np.testing.assert_allclose(ds["temperature"], ds["learning_rate"] / ds["batch_size"])
    clustered = [v for v in ds.data_vars if ds[v].dims[0] == "point" and len(ds[v].dims) == 2]
    assert clustered and all(ds[v].dims[1].startswith(("cluster_", "level_set_")) for v in clustered)
    frame = ds.to_dataframe()  # pandas: one row per (point, cluster), the coordinates as columns
    assert {"learning_rate", "model.noise_strength"} <= set(frame.columns)
