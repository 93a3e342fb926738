"""The multilayer phase diagram wired into `analyze` and the report (issue #15): a tiny scan of
`model.init_width` -> summary.json "phases" per point with its ε and T, an info verdict, the
phase-diagram figure and table in report.html; other families have no "phases". The reproduction's
item 15 (reproduce/checks/multilayer.py) on synthetic diagrams: the release's own diagram passes,
shifted boundaries fail, interleaved phases are inconclusive."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import run_cli

from mpi_dbm.analysis.phase_diagram import DiagramPoint, PhaseDiagram, of_dataset
from mpi_dbm.analysis.phases import PHASES, PhasePoint, PointObservables, SpacingStats, paper_phase
from mpi_dbm.reproduce.checks import multilayer
from mpi_dbm.reproduce.rows import FAIL, INCONCLUSIVE, NOT_RUN, PASS

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


def test_other_families_have_no_phases() -> None:
    grbm = SimpleNamespace(config=SimpleNamespace(model=SimpleNamespace(kind="grbm")), spectra=("X",))
    assert of_dataset(grbm) is None  # type: ignore[arg-type]  # so summary.json has no "phases"


# -- the reproduction's item 15 on synthetic diagrams ---------------------------------------------
GRID = [0.125 * 2**k for k in range(12)]  # the paper's α and ε values


def _point(t: float, eps: float, phase: str, r: float = 0.53) -> PhasePoint:
    obs = PointObservables(
        learning_rate=4 * t, batch_size=4, init_width=eps, temperature=t, n_replicas=8,
        diverged_fraction=0.0, change=0.5, s_max_initial=1.0, s_max_final=1.0, teacher_scale=1.7,
        growth=1.0, fluctuation=0.01, loss_initial=0.1, loss_final=0.01,
    )  # fmt: skip
    return PhasePoint(obs, phase, SpacingStats(r, 0.01, 8, 0.5307, 0.386, 0.5359))


def _diagram(override: dict[tuple[float, float], str] | None = None) -> PhaseDiagram:
    """The release's diagram on the paper's grid (T = α/4), with some points changed."""
    points = []
    for i, (eps, alpha) in enumerate((e, a) for e in GRID for a in GRID):
        t = alpha / 4
        phase = (override or {}).get((t, eps), paper_phase(t, eps))
        points.append(DiagramPoint(i, _point(t, eps, phase)))
    return PhaseDiagram(points)


def _experiments(d: PhaseDiagram) -> dict[str, object]:
    run = SimpleNamespace(analysis=SimpleNamespace(phases=d))
    return {"multilayer": SimpleNamespace(runs=[run])}


def test_item_15_passes_on_the_release_diagram() -> None:
    rows = multilayer.check(_experiments(_diagram()))  # type: ignore[arg-type]
    assert list(rows) == ["15a", "15b", "15c", "15d"]
    assert rows["15a"].status == PASS and len(rows["15a"].parts) == 5  # the T < T* rows
    assert all(math.isclose(p.value, math.sqrt(0.5)) for p in rows["15a"].parts)
    assert rows["15b"].status == PASS and len(rows["15b"].parts) == 12
    assert all(math.isclose(p.value, math.sqrt(0.5 * 1.0)) for p in rows["15b"].parts)  # T* between
    assert rows["15c"].status == rows["15d"].status == "info"
    assert rows["15c"].parts[-1].value == 1.0 and "144/144" in rows["15c"].note
    assert [p.label.split()[0] for p in rows["15d"].parts] == ["ordered", "jammed", "noisy"]
    record = rows["15c"].record()  # the json/html writers' view of an info row
    assert record["status"] == "info" and all(p["status"] == "info" for p in record["parts"])


def test_item_15_fails_where_the_diagram_differs() -> None:
    shifted = {(0.125, 1.0): "ordered", (0.125, 2.0): "ordered"}  # the split one cell too wide
    rows = multilayer.check(_experiments(_diagram(shifted)))  # type: ignore[arg-type]
    bad = [p for p in rows["15a"].parts if p.status == FAIL]
    assert rows["15a"].status == FAIL and [p.label for p in bad] == ["T = 0.125"]
    assert math.isclose(bad[0].value, math.sqrt(2 * 4))
    interleaved = {(0.0625, 0.25): "jammed"}  # jammed below an ordered ε: no split to place
    assert multilayer.check(_experiments(_diagram(interleaved)))["15a"].status == INCONCLUSIVE  # type: ignore[arg-type]
    calm = {(a / 4, 4.0): "jammed" for a in GRID}  # a column that never turns noisy
    rows = multilayer.check(_experiments(_diagram(calm)))  # type: ignore[arg-type]
    assert rows["15b"].status == FAIL and rows["15b"].worst.label == "ε = 4: T_c"
    hot = {(a / 4, 8.0): "noisy" for a in GRID}  # noisy from the lowest T
    assert multilayer.check(_experiments(_diagram(hot)))["15b"].status == FAIL  # type: ignore[arg-type]


def test_item_15_not_run_without_the_experiment() -> None:
    rows = multilayer.check({})
    assert all(r.status == NOT_RUN and "multilayer" in r.missing for r in rows.values())
