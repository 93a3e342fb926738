"""Shared helpers: run the CLI in-process-free subprocesses, under mpiexec when ranks > 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mpi_dbm.rmt.dyson_processes import wishart_process
from mpi_dbm.rmt.ensembles import goe_eigenvalues

ROOT = Path(__file__).resolve().parent.parent
#: Open MPI as root, oversubscribed (3 ranks on 2 cores), shared memory only: the settings
#: scripts/mpirun-local uses, from scripts/openmpi-local.env
MPI_ENV = dict(
    line.split("=", 1)
    for line in (ROOT / "scripts" / "openmpi-local.env").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
for _k, _v in MPI_ENV.items():
    os.environ.setdefault(_k, _v)

PYTHON = sys.executable
MPIEXEC = shutil.which("mpiexec") or "mpiexec"


def run_cli(
    *args: str, ranks: int = 1, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """`python -m mpi_dbm ARGS`, under `mpiexec -n RANKS` when ranks > 1."""
    cmd = [PYTHON, "-m", "mpi_dbm", *args]
    if ranks > 1:
        cmd = [MPIEXEC, "-n", str(ranks), *cmd]
    env = {**os.environ, **MPI_ENV}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)


TINY = """
[sweep]
name = "tiny"
seed = 7
replicas = 6
points = [[0.04, 8], [0.08, 16], [0.02, 4]]
schedule = "{schedule}"
block_size = 2

[model]
kind = "grbm"
n_visible = 6
n_hidden = 6
mu = 3.0

[target]
kind = "lattice"
mass = 2.0

[train]
steps = 300
measure_every = 100
"""


@pytest.fixture
def tiny_config(tmp_path: Path):
    """Factory: write a small GRBM sweep config (3 points × 6 replicas, 300 steps) and return its path."""

    def make(schedule: str = "dynamic", name: str = "tiny.toml", edits: dict[str, str] | None = None) -> Path:
        text = TINY.format(schedule=schedule)
        for old, new in (edits or {}).items():
            assert old in text, old
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return make


# -- fixtures shared by the rmt tests of more than one module (one conftest for the whole suite:
# a second conftest.py in a subfolder would shadow this one for `from conftest import ...`) --------
@pytest.fixture(scope="session")
def wishart_levels() -> np.ndarray:
    """Bru process: n = 8, p = 4, σ = 1, W(0) with N(0, 1) entries; 4σ²τ·8x̄/⟨s²⟩ ≈ 0.007
    (used by test_rmt_dyson_processes and test_rmt_km_bins)."""
    g0, g1 = [np.random.default_rng(s) for s in np.random.SeedSequence(16_04).spawn(2)]
    return wishart_process(g0.normal(0.0, 1.0, (2000, 8, 4)), 150, 0.006, g1, sigma=1.0)


@pytest.fixture(scope="session")
def pairs() -> np.ndarray:
    """2000 2×2 GOE spectra, x₀ = 1.7, σ = 0.3: diagonal variance σ², off-diagonal σ²/2 (physics.md §5.3)
    (used by test_rmt_fits_goe2 and test_rmt_fits_histogram)."""
    return goe_eigenvalues(2, 31, 2000, v=0.3**2 / 2) + 1.7
