"""Install anywhere: a wheel built from the repository, installed into a separate venv, runs every
command from an empty directory outside the source tree.

The venv reuses this environment's parallel h5py and mpi4py (a path entry for the development
venv's site-packages, placed after the venv's own: the wheel's `mpi_dbm` wins, and the
development venv's editable finder is never activated). Every command is checked to import
`mpi_dbm` from the wheel, never from the source tree.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import numpy as np
import pytest
from conftest import MPI_ENV, TINY

from mpi_dbm.reproduce.manifest import read_manifest
from mpi_dbm.resources import recipes_dir

ROOT = Path(__file__).resolve().parent.parent
MPIEXEC = shutil.which("mpiexec")


@pytest.fixture(scope="module")
def wheel_env(tmp_path_factory):
    """(bin dir of a fresh venv with the wheel installed, an empty working directory, env)."""
    base = tmp_path_factory.mktemp("wheel")
    dist = base / "dist"
    src = base / "src"  # a copy, so the build leaves nothing (build/, *.egg-info) in the source tree
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "mpi_dbm", src / "mpi_dbm", ignore=shutil.ignore_patterns("__pycache__"))
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
         str(src)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = dist.glob("mpi_dbm-*.whl")
    venv = base / "venv"
    made = subprocess.run(
        [sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True, timeout=300
    )
    assert made.returncode == 0, made.stderr
    py = venv / "bin" / "python"
    purelib = subprocess.run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()  # fmt: skip
    # numpy, scipy, click, matplotlib, mpi4py and the parallel h5py of this environment
    here = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "reuse_parallel_stack.pth").write_text(here + "\n")
    inst = subprocess.run(
        [str(py), "-m", "pip", "install", "--no-deps", "--no-index", "-q", str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert inst.returncode == 0, inst.stderr[-3000:]
    work = base / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPI_DBM_MPIEXEC")}
    env.update(MPI_ENV)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    origin = subprocess.run(
        [str(py), "-c", "import mpi_dbm, h5py; print(mpi_dbm.__file__); print(h5py.get_config().mpi)"],
        capture_output=True, text=True, timeout=60, cwd=work, env=env,
    )  # fmt: skip
    assert origin.returncode == 0, origin.stderr
    where, mpi = origin.stdout.split()
    assert Path(where).is_relative_to(venv) and not Path(where).is_relative_to(ROOT), where
    assert mpi == "True"
    # the wheel carries the compiled parts (setup.py), and they pass their run-time checks
    compiled = subprocess.run(
        [str(py), "-c", "from mpi_dbm import normals; from mpi_dbm.models import multilayer_step as m; "
         "print(normals.compiled_agrees(), m.kernel_agrees())"],
        capture_output=True, text=True, timeout=60, cwd=work, env=env,
    )  # fmt: skip
    assert compiled.stdout.split() == ["True", "True"], compiled.stderr
    return venv / "bin", work, env


def _run(wheel_env, *args: str, ranks: int = 1, timeout: float = 600) -> subprocess.CompletedProcess:
    bindir, work, env = wheel_env
    cmd = [str(bindir / "mpi-dbm"), *args]
    if ranks > 1:
        cmd = [MPIEXEC or "mpiexec", "-n", str(ranks), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=work, env=env)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def _ok(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.skipif(MPIEXEC is None, reason="needs mpiexec")
def test_every_command_runs_from_a_wheel_in_an_empty_directory(wheel_env):
    bindir, work, _ = wheel_env
    before = _source_tree_outputs()
    shown = _ok(_run(wheel_env, "config", "show"))
    assert "[sweep]" in shown and 'kind = "grbm"' in shown
    (work / "tiny.toml").write_text(TINY.format(schedule="dynamic"))
    _ok(_run(wheel_env, "config", "check", "tiny.toml", "--ranks", "2"))
    _ok(_run(wheel_env, "run", "tiny.toml", "-o", "tiny.h5", ranks=2))
    assert "18 done" in _ok(_run(wheel_env, "status", "tiny.h5"))
    _ok(_run(wheel_env, "analyze", "tiny.h5", "-o", "tiny_report"))
    assert (work / "tiny_report" / "report.html").is_file()
    # weights trained elsewhere: a directory of configurations imported, verified, analysed
    release = work / "release"
    release.mkdir()
    gen = np.random.default_rng(np.random.SeedSequence(14))
    for i, noise in enumerate((0.05, 0.1)):
        np.savez(
            release / f"cfg{i}.npz", W=gen.normal(size=(12, 3, 6, 6)), lr=0.1, batch_size=16, noise=noise
        )
    _ok(_run(wheel_env, "import", "release", "--key", "W", "--lr-key", "lr", "--bs-key", "batch_size",
             "--param-key", "noise", "-o", "release.h5"))  # fmt: skip
    assert "intact" in _ok(_run(wheel_env, "verify", "release.h5"))
    _ok(_run(wheel_env, "analyze", "release.h5", "-o", "release_report"))
    # chunks of an array job, merged
    for i in (1, 2):
        _ok(_run(wheel_env, "run", "tiny.toml", "-o", f"chunk{i}.h5", "--chunk", f"{i}/2"))
    _ok(_run(wheel_env, "merge", "merged.h5", "chunk1.h5", "chunk2.h5"))
    assert "18 done" in _ok(_run(wheel_env, "status", "merged.h5"))
    # job scripts from the templates inside the package
    common = ["--nodes", "1", "--ranks-per-node", "4", "--time", "01:00:00", "--no-estimate"]
    for scheduler, extra, name in (
        ("slurm", [], "a.sbatch"),
        ("pbs", [], "b.pbs"),
        ("slurm", ["--array", "2"], "c.sbatch"),
    ):
        _ok(_run(wheel_env, "jobscript", "tiny.toml", "--scheduler", scheduler, *common, *extra, "-o", name))
        assert (work / name).read_text().startswith("#!/bin/bash")
    # the reproduction recipes inside the package: one quick experiment, and full-size job scripts
    out = _ok(
        _run(wheel_env, "reproduce", "--size", "quick", "--only", "cluster65", "-o", "repro", "--ranks", "2")
    )
    assert "pass" in out
    summary = json.loads((work / "repro" / "reproduction.json").read_text())
    assert {r["status"] for r in summary["rows"] if r["id"] == "7c"} == {"pass"}
    _ok(_run(wheel_env, "reproduce", "--size", "full", "--jobscripts", "jobs", "--account", "proj"))
    full = read_manifest(recipes_dir(), "full")  # one script per full-size config
    assert sorted(p.name for p in (work / "jobs").glob("*.slurm.sbatch")) == sorted(
        f"{r.name}.slurm.sbatch" for r in full.runs
    )
    # nothing was written into the source tree (README, figures, results) or the installed package
    assert _source_tree_outputs() == before
    assert not list(bindir.parent.rglob("*.h5"))


def _source_tree_outputs() -> dict[str, str]:
    """Digests of what the old code wrote into the source tree: README.md, docs/figures, results/."""
    paths = [
        ROOT / "README.md",
        *sorted((ROOT / "docs" / "figures").glob("*")),
        *sorted((ROOT / "results").rglob("*")),
    ]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}
