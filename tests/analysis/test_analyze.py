"""`mpi-dbm analyze` end to end on small real sweeps (physics.md §5–6)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import h5py
import pytest
from conftest import run_cli

GRBM = """
[sweep]
name = "grbm6"
seed = 11
replicas = 128
points = [[0.04, 16], [0.08, 32], [0.16, 32]]
block_size = 32
[model]
kind = "grbm"
n_visible = 6
n_hidden = 6
init = "fixed_point"
[train]
steps = 2500
measure_every = 500
"""

TS = """
[sweep]
name = "ts"
seed = 5
replicas = 400
points = [[0.1, 16], [0.2, 32]]
block_size = 200
[model]
kind = "teacher_student"
noise = "annealed"
noise_strength = 0.1
[train]
steps = 600
measure_every = 200
"""


def run_sweep(tmp_path, text: str, name: str):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(text)
    out = tmp_path / f"{name}.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--quiet", ranks=2)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="module")
def grbm_file(tmp_path_factory):
    return run_sweep(tmp_path_factory.mktemp("grbm"), GRBM, "grbm6")


@pytest.fixture(scope="module")
def grbm_report(grbm_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "rep"
    proc = run_cli("analyze", str(grbm_file), "-o", str(out), "--window", "500:2500")
    assert proc.returncode == 0, proc.stderr
    return out, proc.stdout, json.loads((out / "summary.json").read_text())


def verdict(summary, pattern):
    found = [v for v in summary["verdicts"] if re.search(pattern, v["name"])]
    assert found, f"no verdict matches {pattern!r}"
    return found


def test_grbm_report_has_the_physics(grbm_report):
    out, stdout, summary = grbm_report
    for f in (
        "summary.json",
        "analysis.h5",
        "report.html",
        "spectra_X.png",
        "spacings_X.png",
        "scaling_X.png",
    ):
        assert (out / f).exists(), f
    assert "verdicts:" in stdout and "report" in stdout
    # clusters come from the lattice fixed point: x* = 1, 2 (pair), 4 (pair), 5
    assert summary["clusters"]["X"]["detected_from_data"] is False
    assert len(summary["clusters"]["X"]["clusters"]) == 4
    for v in verdict(summary, r"pair spacings GOE"):
        assert v["status"] == "pass", v
    collapse = verdict(summary, r"collapse at alpha/\|B\| = 0.0025")
    assert collapse[0]["status"] == "pass", collapse
    fits = {f["observable"]: f for f in summary["linear_scaling"]["X"]}
    assert abs(fits["pair_mean_spacing"]["slope"] / 2.5066 - 1) < 0.15
    assert abs(fits["single_std"]["slope"] / 1.4142 - 1) < 0.2
    # every number carries an error, and parameters are recorded
    cl = summary["points"][0]["spectra"]["X"]["clusters"][1]
    assert cl["kind"] == "pair" and cl["values"]["mean_spacing"]["error"] > 0
    assert summary["parameters"]["alpha"] == 0.01 and "jackknife" in summary["parameters"]["errors"]
    with h5py.File(out / "analysis.h5", "r") as f:
        assert len(f["clusters/X/point"]) == 12
        assert "mean_spacing" in f["clusters/X"] and "mean_spacing_err" in f["clusters/X"]


def _relabel_point(f: h5py.File, point: int, old: str, new: tuple[float, int]) -> None:
    """Give `point` another (α, |B|) consistently, as if it had been run so: the config and its
    hash, /points, the task columns and the task checksums (else `analyze` reports damage)."""
    import hashlib

    import numpy as np

    text = f.attrs["config"].decode().replace(old, f"[{new[0]}, {new[1]}]")
    f.attrs["config"] = text
    f.attrs["config_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    mine = f["tasks/point"][...] == point
    for column, value in zip(("learning_rate", "batch_size"), new, strict=True):
        f[f"points/{column}"][point] = value
        f[f"tasks/{column}"][np.flatnonzero(mine)] = value
    _recompute_checksums(f)


def _recompute_checksums(f: h5py.File) -> None:
    """After editing rows: their /tasks/checksum as a run would have written it."""
    from mpi_dbm.store import task_checksums

    fields = ("point", "learning_rate", "batch_size", "replica", "status", "diverged_step", "diverged_reason")
    rows = {f"tasks/{k}": f["tasks"][k][...] for k in fields}
    rows |= {f"{g}/{k}": f[g][k][...] for g in ("spectra", "scalars") for k in f[g]}
    f["tasks/checksum"][...] = task_checksums(0, rows)


def test_collapse_fails_when_a_point_is_given_a_different_ratio(grbm_file, tmp_path):
    """Relabel point 2 (α/|B| = 0.005) as (0.12, 48), i.e. 0.0025: its spectra must not collapse."""
    fake = tmp_path / "relabelled.h5"
    shutil.copy(grbm_file, fake)
    with h5py.File(fake, "r+") as f:
        _relabel_point(f, 2, "[0.16, 32]", (0.12, 48))
    proc = run_cli("analyze", str(fake), "-o", str(tmp_path / "rep"), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    (c,) = verdict(summary, r"collapse at alpha/\|B\| = 0.0025 \(points 0, 1, 2\)")
    assert c["status"] == "fail", c


def test_report_page_references_only_existing_files_and_loads_in_chromium(grbm_report):
    out, _, _ = grbm_report
    page = (out / "report.html").read_text()
    refs = re.findall(r"src='([^']+)'", page)
    assert len(refs) >= 6
    for ref in refs:
        assert (out / ref).is_file(), ref
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("chromium is not installed (scripts/install.sh installs it when root)")
    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={out / '.chromium'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            (out / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert 'data-checked="yes"' in dom, dom[-2000:]
    loaded = re.findall(r'data-loaded="(yes|no)"', dom)
    assert len(loaded) == len(refs) and set(loaded) == {"yes"}, loaded
    shutil.rmtree(out / ".chromium", ignore_errors=True)


def test_partial_and_diverged_sweeps_are_reported_not_fatal(tmp_path):
    """Half of a sweep (a chunk) whose third point diverges everywhere: a real file, not an
    edited one (the store's checksums reject edited status rows)."""
    mixed = small_file(tmp_path, 8, "[[0.04, 8], [0.08, 16], [3.0, 2]]", "--chunk", "1/2")
    proc = run_cli("analyze", str(mixed), "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    p0, _, p2 = summary["points"]
    assert (p0["analysed"], p0["missing_pending"], p0["excluded_diverged"]) == (4, 4, 0)
    assert (p2["analysed"], p2["missing_pending"], p2["excluded_diverged"]) == (0, 4, 4)
    assert any("point 2" in v["name"] and "not analysed" in v["detail"] for v in summary["verdicts"])
    assert "4 pending (missing)" in proc.stdout


def test_bad_input_gives_one_message_and_writes_nothing(grbm_file, tmp_path):
    junk = tmp_path / "junk.h5"
    junk.write_text("x")
    for args, message in (
        ([str(junk)], "not an HDF5 file"),
        ([str(tmp_path / "none.h5")], "does not exist"),
        ([str(grbm_file), "--window", "7000:9000"], "contains no measurement"),
        ([str(grbm_file), "--window", "9:1"], "START must not exceed STOP"),
        ([str(grbm_file), "--measurement", "9"], "the file has 6 measurements"),
    ):
        proc = run_cli("analyze", *args, "-o", str(tmp_path / "out"))
        assert proc.returncode == 2, (args, proc.stderr)
        assert message in proc.stderr and "Traceback" not in proc.stderr
        assert not (tmp_path / "out").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "mine.txt").write_text("keep")
    proc = run_cli("analyze", str(grbm_file), "-o", str(busy))
    assert proc.returncode == 2 and "not empty" in proc.stderr
    assert [p.name for p in busy.iterdir()] == ["mine.txt"]


def test_window_pools_measurements(grbm_file, tmp_path):
    proc = run_cli(
        "analyze", str(grbm_file), "-o", str(tmp_path / "w"), "--window", "1000:2000", "--no-figures"
    )
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "w" / "summary.json").read_text())
    assert summary["analysed_steps"] == [1000, 1500, 2000]
    assert summary["points"][0]["spectra"]["X"]["clusters"][0]["n_realisations"] == 3 * 128


def test_teacher_student_pair_is_goe_with_the_predicted_width(tmp_path):
    out = run_sweep(tmp_path, TS, "ts")
    proc = run_cli("analyze", str(out), "-o", str(tmp_path / "rep"), "--window", "200:600", "--no-figures")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    for v in verdict(summary, r"singular_values point \d: pair spacings GOE"):
        assert v["status"] == "pass", v
    fit = {f["observable"]: f for f in summary["linear_scaling"]["singular_values"]}["pair_mean_spacing"]
    assert abs(fit["pull"]) < 3, fit
    (c,) = verdict(summary, r"singular_values: collapse")
    assert c["status"] == "pass"  # equal α/|B|; the O(α) factor (2 − α) is 3% here, inside KS power


# -- any ensemble size (issue #12 item 5) ------------------------------------------------------
SMALL = """
[sweep]
name = "small"
seed = 7
replicas = {replicas}
points = {points}
block_size = 2
[model]
kind = "grbm"
n_visible = 6
n_hidden = 6
[target]
kind = "lattice"
mass = 2.0
[train]
steps = 300
measure_every = 100
"""
EQUAL_T = "[[0.04, 8], [0.08, 16], [0.02, 4]]"  # one alpha/|B|: a collapse test over 3 points


def small_file(tmp_path, replicas: int, points: str = EQUAL_T, *run_args: str):
    cfg = tmp_path / f"small{replicas}.toml"
    cfg.write_text(SMALL.format(replicas=replicas, points=points))
    out = tmp_path / f"small{replicas}.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--quiet", *run_args)
    assert proc.returncode == 0, proc.stderr
    return out


def analyze_cleanly(monkeypatch, results, out, *args: str):
    """`analyze` with every RuntimeWarning an error: exit 0, nothing on stderr, the summary."""
    monkeypatch.setenv("PYTHONWARNINGS", "error::RuntimeWarning")
    proc = run_cli("analyze", str(results), "-o", str(out), *args)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    assert (out / "report.html").is_file()
    return json.loads((out / "summary.json").read_text()), proc.stdout


def statuses(summary, pattern):
    return {v["status"] for v in verdict(summary, pattern)}


def not_enough(summary, pattern, need: str, have: str):
    """Every verdict matching `pattern` is undecided for lack of data, with the counts."""
    for v in verdict(summary, pattern):
        assert v["status"] in ("inconclusive", "info"), v
        assert f"not enough data: need {need}" in v["detail"] and f"have {have}" in v["detail"], v


def test_one_replica_per_point_is_reported_as_not_enough_data(tmp_path, monkeypatch):
    summary, stdout = analyze_cleanly(monkeypatch, small_file(tmp_path, 1), tmp_path / "rep")
    not_enough(summary, r"^point \d$", "2 finished replicas", "1")
    not_enough(summary, r"vs sqrt\(v\), slope", "1 point", "0")
    # 3 points x 1 replica x 6 levels at step 0
    not_enough(summary, r"Marchenko-Pastur at initialisation", "20 eigenvalues", "18")
    assert {v["status"] for v in summary["verdicts"]} <= {"inconclusive", "info"}
    assert "not enough data" in stdout


def test_two_replicas_leave_widths_and_the_collapse_undecided(tmp_path, monkeypatch):
    summary, _ = analyze_cleanly(monkeypatch, small_file(tmp_path, 2), tmp_path / "rep")
    not_enough(summary, r"point \d: statistics left out", "3 realisations", "2")
    # two-sample KS of 2 against 2 values: smallest p = 2/C(4, 2) = 1/3, never below alpha
    not_enough(summary, r"collapse at alpha/\|B\| = 0.005", "8 replicas per point", "2")
    not_enough(summary, r"vs sqrt\(v\), slope", "1 point", "0")
    assert statuses(summary, r"Marchenko-Pastur at initialisation") <= {"pass", "fail"}


def test_three_replicas_fit_slopes_but_leave_spacings_undecided(tmp_path, monkeypatch):
    summary, _ = analyze_cleanly(monkeypatch, small_file(tmp_path, 3), tmp_path / "rep")
    # two pairs x 3 replicas = 6 normalised spacings per point
    not_enough(summary, r"pair spacings GOE", "10 values", "6")
    not_enough(summary, r"collapse", "8 replicas per point", "3")
    assert statuses(summary, r"vs sqrt\(v\), slope") <= {"pass", "fail"}
    fits = summary["linear_scaling"]["X"]
    assert {f["observable"] for f in fits} == {"single_std", "pair_mean_spacing", "pair_sqrt_pi_sigma"}


def test_eight_replicas_decide_the_collapse(tmp_path, monkeypatch):
    summary, _ = analyze_cleanly(monkeypatch, small_file(tmp_path, 8), tmp_path / "rep")
    # 16 spacings per point: the tests run (β may lack small spacings, the verdict still decides)
    for v in verdict(summary, r"pair spacings GOE"):
        assert "16 spacings" in v["detail"] and "not enough data: need 10" not in v["detail"], v
    (c,) = verdict(summary, r"collapse at alpha/\|B\| = 0.005")
    assert c["status"] in ("pass", "fail") and "combined KS p" in c["detail"], c
    rec = summary["collapse"][0]
    assert rec["resolvable"] and rec["replicas"] == 8 and rec["replicas_needed"] == 8


def test_chunk_file_ignores_pending_tasks_and_says_so(tmp_path, monkeypatch):
    chunk = small_file(tmp_path, 8, EQUAL_T, "--chunk", "1/2")
    summary, stdout = analyze_cleanly(monkeypatch, chunk, tmp_path / "rep")
    (c,) = verdict(summary, r"results file completeness")
    assert c["status"] == "info" and "12 of 24 tasks pending" in c["detail"] and "ignored" in c["detail"]
    for p in summary["points"]:
        assert (p["analysed"], p["missing_pending"]) == (4, 4)
    # the reported crash: two pairs x 4 replicas = 8 spacings
    not_enough(summary, r"pair spacings GOE", "10 values", "8")
    not_enough(summary, r"collapse", "8 replicas per point", "4")
    assert "12 of 24 tasks pending" in stdout


def test_all_replicas_diverged(tmp_path, monkeypatch):
    results = small_file(tmp_path, 3, "[[3.0, 2], [2.0, 2]]")  # alpha far above the stable range
    summary, _ = analyze_cleanly(monkeypatch, results, tmp_path / "rep")
    for p in summary["points"]:
        assert (p["analysed"], p["excluded_diverged"]) == (0, 3), p
    not_enough(summary, r"^point \d$", "2 finished replicas", "0")
    not_enough(summary, r"vs sqrt\(v\), slope", "1 point", "0")
    assert summary["linear_scaling"]["X"] == [] and summary["collapse"] == []


def test_without_matplotlib_one_message_exit_2_and_nothing_written(tmp_path, monkeypatch):
    results = small_file(tmp_path, 3)
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text("import sys\nsys.modules['matplotlib'] = None\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(shim), os.environ.get("PYTHONPATH")])))
    work = tmp_path / "work"
    work.mkdir()
    before = sorted(work.iterdir())
    proc = run_cli("analyze", str(results), "-o", str(work / "rep"))
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "matplotlib" in lines[0] and "--no-figures" in lines[0], lines
    assert sorted(work.iterdir()) == before  # no report directory, no temporary one
    # an existing report is left as it was
    old = work / "old"
    old.mkdir()
    (old / "summary.json").write_text("{}")
    proc = run_cli("analyze", str(results), "-o", str(old), "--force")
    assert proc.returncode == 2 and "matplotlib" in proc.stderr
    assert [p.name for p in old.iterdir()] == ["summary.json"] and (old / "summary.json").read_text() == "{}"
    assert sorted(p.name for p in work.iterdir()) == ["old"]
    # the tables and the page need no matplotlib
    proc = run_cli("analyze", str(results), "-o", str(work / "tables"), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    assert (work / "tables" / "report.html").is_file() and not list((work / "tables").glob("*.png"))
