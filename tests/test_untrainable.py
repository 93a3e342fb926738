"""A family that only describes spectra made elsewhere (`trainable = False`: kind = "imported")
is refused by `run` in the rank-0 pre-flight, before any file or lock exists: one line, exit 2."""

from __future__ import annotations

import pytest
from conftest import run_cli
from test_import import HYPER, import_release, release

from mpi_dbm import config
from mpi_dbm.errors import ResultsFileError
from mpi_dbm.lockfile import lock_path
from mpi_dbm.models import BUILTIN
from mpi_dbm.store import open_results
from mpi_dbm.sweep.driver import run_sweep

MESSAGE = (
    "[model] kind = 'imported' holds imported spectra: an imported family cannot be trained "
    "(mpi-dbm import makes such files; analyze them with mpi-dbm analyze)"
)


@pytest.fixture(scope="module")
def imported_config(tmp_path_factory):
    """The config an `mpi-dbm import` stored in its file, written out as a config file."""
    base = tmp_path_factory.mktemp("untrainable")
    release(base / "rel", hyper=HYPER[:1])
    assert import_release(base / "rel", base / "o.h5").returncode == 0
    with open_results(base / "o.h5") as res:
        text = res.config_text
    path = base / "imported.toml"
    path.write_text(text)
    return path


def test_only_the_imported_family_is_untrainable():
    assert {kind for kind, fam in BUILTIN.items() if not fam.trainable} == {"imported"}


@pytest.mark.parametrize("ranks", [1, 2])
def test_run_refuses_before_creating_anything(imported_config, tmp_path, ranks):
    out = tmp_path / "again.h5"
    proc = run_cli("run", str(imported_config), "-o", str(out), "--quiet", ranks=ranks)
    assert proc.returncode == 2, proc.stderr
    line = f"mpi-dbm: error: {imported_config}: {MESSAGE}\n"
    assert proc.stderr.startswith(line) and proc.stderr.count("mpi-dbm:") == 1  # rank 0 only
    assert not out.exists() and not lock_path(out).exists()
    assert list(tmp_path.iterdir()) == []


def test_run_sweep_raises_the_same_message(imported_config, tmp_path):
    cfg = config.load(imported_config)
    with pytest.raises(ResultsFileError, match="holds imported spectra") as err:
        run_sweep(cfg, tmp_path / "x.h5", quiet=True, source="imported.toml", resume=True)
    assert str(err.value) == f"imported.toml: {MESSAGE}"
    assert list(tmp_path.iterdir()) == []
