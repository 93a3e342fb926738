"""A model family from another package: the example in examples/external_family is installed
(pip, its own pyproject.toml, entry point `mpi_dbm.models`) and runs through config check, run
under mpiexec, status and analyze with its own theory verdicts, with nothing under mpi_dbm/
knowing of it; a broken plugin gives one message and leaves the other families working."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MPI_ENV, PYTHON

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "external_family"
MPIEXEC = shutil.which("mpiexec")


def install(target: Path, source: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", "--no-index",
         "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]


def cli(env: dict[str, str], cwd: Path, *args: str, ranks: int = 1) -> subprocess.CompletedProcess:
    cmd = [PYTHON, "-m", "mpi_dbm", *args]
    if ranks > 1:
        cmd = [MPIEXEC or "mpiexec", "-n", str(ranks), *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory):
    base = tmp_path_factory.mktemp("plugin")
    src = base / "src"
    shutil.copytree(EXAMPLE, src)  # build from a copy: nothing is written into the repository
    site = base / "site"
    install(site, src)
    env = {**os.environ, **MPI_ENV, "PYTHONPATH": str(site)}
    work = base / "work"
    work.mkdir()
    return env, work


@pytest.mark.skipif(MPIEXEC is None, reason="needs mpiexec")
def test_example_family_runs_and_is_analysed_with_its_own_theory(plugin_env):
    env, work = plugin_env
    config = EXAMPLE / "ou.toml"
    assert cli(env, work, "config", "check", str(config)).returncode == 0
    run = cli(env, work, "run", str(config), "-o", "ou.h5", ranks=2)
    assert run.returncode == 0, run.stderr
    status = cli(env, work, "status", "ou.h5")
    assert status.returncode == 0 and "144 done" in status.stdout and "ou_matrix" in status.stdout
    analysis = cli(env, work, "analyze", "ou.h5", "-o", "report")
    assert analysis.returncode == 0, analysis.stderr
    summary = json.loads((work / "report" / "summary.json").read_text())
    verdicts = {v["name"]: v["status"] for v in summary["verdicts"]}
    slope = [s for t, s in verdicts.items() if "cluster6_rms vs sqrt(v)" in t]
    assert slope == ["pass"], verdicts  # (n + 1) v of the family's own prediction
    assert any("collapse" in t and s == "pass" for t, s in verdicts.items()), verdicts


def test_nothing_in_the_package_names_the_external_family():
    for path in (ROOT / "mpi_dbm").rglob("*"):
        if path.is_file() and path.suffix in (".py", ".toml"):
            assert "ou_matrix" not in path.read_text(encoding="utf-8"), path


def test_without_the_plugin_the_kind_is_unknown(tmp_path):
    config = EXAMPLE / "ou.toml"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = cli(env, tmp_path, "config", "check", str(config))
    assert proc.returncode == 2 and "ou_matrix" in proc.stderr and "grbm" in proc.stderr


def test_a_broken_plugin_gives_one_message_and_the_others_still_work(tmp_path):
    """An entry point that fails to import is reported when used; built-in kinds are unaffected."""
    broken = tmp_path / "broken"
    (broken / "src" / "broken_family").mkdir(parents=True)
    (broken / "src" / "broken_family" / "__init__.py").write_text("raise ImportError('no such thing')\n")
    (broken / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=77"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "broken-family"\nversion = "0"\n'
        '[project.entry-points."mpi_dbm.models"]\nbroken = "broken_family:FAMILY"\n'
        '[tool.setuptools.packages.find]\nwhere = ["src"]\n'
    )
    site = tmp_path / "site"
    install(site, broken)
    env = {**os.environ, "PYTHONPATH": str(site)}
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[sweep]\nreplicas = 2\npoints = [[0.1, 4]]\n[model]\nkind = "broken"\n[train]\nsteps = 10\n'
    )
    proc = cli(env, tmp_path, "config", "check", str(bad))
    assert proc.returncode == 2 and "broken_family:FAMILY" in proc.stderr and "no such thing" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    good = cli(env, tmp_path, "config", "show")
    assert good.returncode == 0 and 'kind = "grbm"' in good.stdout
