"""The report directory is written whole or not at all (analysis/output.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

import mpi_dbm.report
from mpi_dbm.analysis import analyze
from mpi_dbm.analysis.output import write_report_dir
from mpi_dbm.errors import ResultsFileError

CONFIG = """
[sweep]
name = "out"
seed = 3
replicas = 3
points = [[0.04, 8], [0.08, 16]]
block_size = 3
[model]
kind = "grbm"
n_visible = 4
n_hidden = 4
[train]
steps = 100
measure_every = 50
"""


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    d = tmp_path_factory.mktemp("out")
    (d / "out.toml").write_text(CONFIG)
    proc = run_cli("run", str(d / "out.toml"), "-o", str(d / "out.h5"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return analyze(d / "out.h5")


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def failing_writer(exc: BaseException):
    def write_report(a, outdir: Path, figures: bool = True) -> Path:
        (outdir / "report.html").write_text("<html>half")
        raise exc

    return write_report


def test_report_directory_is_created_whole(analysis, tmp_path):
    files = write_report_dir(analysis, tmp_path / "rep", force=False, figures=False)
    assert sorted(p.name for p in (tmp_path / "rep").iterdir()) == [
        "analysis.h5",
        "report.html",
        "summary.json",
    ]
    assert all(p.parent == tmp_path / "rep" and p.is_file() for p in files.values())
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temporary directory left


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_a_failure_leaves_no_directory(analysis, tmp_path, monkeypatch, exc):
    monkeypatch.setattr(mpi_dbm.report, "write_report", failing_writer(exc))
    with pytest.raises(type(exc)):
        write_report_dir(analysis, tmp_path / "rep", force=False, figures=False)
    assert list(tmp_path.iterdir()) == []


def test_force_replaces_a_report_only_on_success(analysis, tmp_path, monkeypatch):
    out = tmp_path / "rep"
    write_report_dir(analysis, out, force=False, figures=False)
    (out / "spectra_old.png").write_bytes(b"stale figure")
    before = snapshot(out)
    with monkeypatch.context() as m:
        m.setattr(mpi_dbm.report, "write_report", failing_writer(OSError(5, "Input/output error")))
        with pytest.raises(OSError):
            write_report_dir(analysis, out, force=True, figures=False)
    assert snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]
    write_report_dir(analysis, out, force=True, figures=False)
    assert "spectra_old.png" not in snapshot(out) and "summary.json" in snapshot(out)
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_what_may_not_be_replaced_is_left_alone(analysis, tmp_path):
    out = tmp_path / "rep"
    write_report_dir(analysis, out, force=False, figures=False)
    before = snapshot(out)
    with pytest.raises(ResultsFileError, match="not empty; pass --force"):
        write_report_dir(analysis, out, force=False, figures=False)
    (out / "notes.txt").write_text("mine")
    with pytest.raises(ResultsFileError, match=r"not part of a report \(notes.txt\)"):
        write_report_dir(analysis, out, force=True, figures=False)
    assert snapshot(out) == {**before, "notes.txt": b"mine"}
    (tmp_path / "file").write_text("x")
    with pytest.raises(ResultsFileError, match="is not a directory"):
        write_report_dir(analysis, tmp_path / "file", force=True, figures=False)
    with pytest.raises(ResultsFileError, match="does not exist"):
        write_report_dir(analysis, tmp_path / "no" / "rep", force=False, figures=False)
    empty = tmp_path / "empty"
    empty.mkdir()
    write_report_dir(analysis, empty, force=False, figures=False)  # an empty directory is taken
    assert (empty / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "file", "rep"]
