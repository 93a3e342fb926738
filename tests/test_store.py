"""The results file: layout contract, reader errors, pre-flight refusals."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from conftest import run_cli

from mpi_dbm import config
from mpi_dbm.errors import ResultsFileError
from mpi_dbm.store import DONE, PENDING, open_results, preflight


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    d = tmp_path_factory.mktemp("store")
    cfg_path = d / "c.toml"
    cfg_path.write_text(
        '[sweep]\nname = "s"\nreplicas = 3\npoints = [[0.04, 8], [0.08, 4]]\nblock_size = 2\n'
        '[model]\nkind = "grbm"\nn_visible = 4\nn_hidden = 6\n[train]\nsteps = 40\nmeasure_every = 20\n'
    )
    out = d / "r.h5"
    proc = run_cli("run", str(cfg_path), "-o", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return cfg_path, out


def test_layout_matches_the_documented_contract(results):
    cfg_path, out = results
    cfg = config.load(cfg_path)
    with h5py.File(out, "r") as f:
        assert f["tasks/learning_rate"][...].tolist() == [0.04] * 3 + [0.08] * 3
        assert f["tasks/batch_size"][...].tolist() == [8] * 3 + [4] * 3
        assert f["tasks/replica"][...].tolist() == [0, 1, 2] * 2
        assert f["tasks/status"].dtype == np.int8
        assert np.all(f["tasks/status"][...] == DONE)
        assert np.all(f["tasks/diverged_step"][...] == -1)
        assert f["measure/step"][...].tolist() == [0, 20, 40]
        assert f["spectra/X"].shape == (6, 3, 4) and f["spectra/X"].dtype == np.float64
        assert f["scalars/loss"].shape == (6, 3)
        x = f["spectra/X"][...]
        assert np.all(np.diff(x, axis=-1) >= 0), "eigenvalues ascending"
        attrs = dict(f.attrs)  # strings are fixed-length UTF-8 (no global heap): h5py gives bytes
        assert attrs["config_sha256"].decode() == cfg.sha256
        assert config.parse_text(attrs["config"].decode()) == cfg
        for key in (
            "mpi_dbm_version",
            "created",
            "n_ranks",
            "parallel_io",
            "numpy_version",
            "h5py_version",
            "mpi4py_version",
            "hdf5_version",
            "mpi_library",
        ):
            assert key in attrs, key
        assert bool(attrs["parallel_io"]) is bool(h5py.get_config().mpi)


def test_reader_rejects_foreign_and_truncated_files(tmp_path, results):
    _, out = results
    with pytest.raises(ResultsFileError, match="does not exist"):
        open_results(tmp_path / "missing.h5")
    junk = tmp_path / "junk.h5"
    junk.write_text("hello")
    with pytest.raises(ResultsFileError, match="not an HDF5 file"):
        open_results(junk)
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = 1
    with pytest.raises(ResultsFileError, match="not an mpi-dbm results file"):
        open_results(foreign)
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(out.read_bytes()[:2000])
    with pytest.raises(ResultsFileError):
        open_results(truncated)


def test_preflight_refuses_to_overwrite_and_checks_the_directory(tmp_path, results):
    cfg_path, out = results
    cfg = config.load(cfg_path)
    assert "exists; pass --resume" in preflight(out, cfg, force=False, resume=False).error
    assert preflight(out, cfg, force=True, resume=False).error is None
    assert "does not exist" in preflight(tmp_path / "no" / "r.h5", cfg, force=False, resume=False).error
    pre = preflight(out, cfg, force=False, resume=True)
    assert pre.error is None and pre.done.all()
    other = config.parse_text(cfg.to_toml().replace("seed = 0", "seed = 5"))
    err = preflight(out, other, force=False, resume=True).error
    assert "different config" in err and "[sweep] seed: file has 0, config has 5" in err


def test_status_counts_pending_tasks(tmp_path, results):
    _, out = results
    copy = tmp_path / "copy.h5"
    copy.write_bytes(out.read_bytes())
    with h5py.File(copy, "r+") as f:
        f["tasks/status"][4:] = PENDING
    proc = run_cli("status", str(copy))
    assert proc.returncode == 0, proc.stderr
    assert "6 = 4 done + 0 diverged + 2 pending" in proc.stdout
