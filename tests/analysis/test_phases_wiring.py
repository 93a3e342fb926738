"""The multilayer phase diagram wired into `analyze` and the report (issue #15): a tiny scan of
`model.init_width` -> summary.json "phases" per point with its ε and T, an info verdict, the
phase-diagram figure and table in report.html; other families have no "phases"."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

import pytest
from conftest import run_cli

from mpi_dbm.analysis import analyze
from mpi_dbm.analysis.phases import PHASES

SCAN = """
[sweep]
name = "ml-scan"
seed = 11
replicas = 3
learning_rates = [0.5, 32.0]
batch_sizes = [4]

[sweep.scan]
"model.init_width" = [0.125, 8.0]

[model]
kind = "multilayer"
batches_per_epoch = 50

[train]
steps = 1500
measure_every = 250
check_every = 50
"""


@pytest.fixture(scope="module")
def scan_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    tmp = tmp_path_factory.mktemp("ml")
    cfg = tmp / "ml.toml"
    cfg.write_text(textwrap.dedent(SCAN))
    out = tmp / "ml.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = tmp / "report"
    proc = run_cli("analyze", str(out), "-o", str(report), timeout=120)
    assert proc.returncode == 0, proc.stderr
    return out, report


def test_summary_has_the_phase_of_every_point(scan_report: tuple[Path, Path]) -> None:
    _, report = scan_report
    summary = json.loads((report / "summary.json").read_text())
    ph = summary["phases"]
    got = {(p["init_width"], p["temperature"]): p for p in ph["points"]}
    assert set(got) == {(e, a / 4) for e in (0.125, 8.0) for a in (0.5, 32.0)}
    for p in ph["points"]:
        assert p["phase"] in PHASES and p["paper_phase"] in PHASES
        assert p["replicas"] == 3 and 0 <= p["diverged_fraction"] <= 1
        point = summary["points"][p["index"]]  # the same point as the generic analysis's
        assert point["parameters"]["model.init_width"] == p["init_width"]
        assert math.isclose(point["temperature"], p["temperature"])
    assert sum(ph["counts"].values()) == 4 and ph["agreement_with_release"]["of"] == 4
    assert math.isclose(ph["release_boundaries"]["eps_c"], 1 / math.sqrt(2))
    # deep in each phase even this short run agrees with the release's diagram
    assert got[(0.125, 8.0)]["phase"] == got[(8.0, 8.0)]["phase"] == "noisy"
    assert got[(8.0, 0.125)]["phase"] == "jammed"
    verdicts = [v for v in summary["verdicts"] if v["name"].startswith("multilayer phases")]
    assert verdicts and verdicts[0]["status"] == "info" and "4 points classified" in verdicts[0]["detail"]


def test_report_shows_the_phase_diagram(scan_report: tuple[Path, Path]) -> None:
    _, report = scan_report
    page = (report / "report.html").read_text()
    assert (report / "phase_diagram.png").stat().st_size > 1000
    assert "<h2>Phases (arXiv:2509.01349)</h2>" in page and "phase_diagram.png" in page


def test_other_families_have_no_phases(tmp_path: Path) -> None:
    from conftest import TINY

    cfg = tmp_path / "tiny.toml"
    cfg.write_text(TINY.format(schedule="static"))
    out = tmp_path / "tiny.h5"
    assert run_cli("run", str(cfg), "-o", str(out)).returncode == 0
    a = analyze(out)
    assert a.phases is None and "phases" not in a.summary()
