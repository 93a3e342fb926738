"""`mpi-dbm analyze` on small real runs: n-th order ratios, Σ²/Δ₃/form factor, the largest-level
edge, the step-0 Johnstone–Wishart edge and the Dyson SDE (issue #16 items 3–4)."""

from __future__ import annotations

import json
import os
import re
import subprocess

import h5py
import numpy as np
import pytest
from conftest import PYTHON, run_cli

# the grbm-long recipe, shortened: started at the fixed point, a snapshot every 10 steps (dt = 1)
GRBM_SERIES = """
[sweep]
name = "grbm-series"
seed = 821
replicas = 24
points = [[0.1, 64]]
block_size = 8
[model]
kind = "grbm"
n_visible = 10
n_hidden = 10
mu = 3.0
gibbs_steps = 3
noise = "pcd"
init = "fixed_point"
[target]
kind = "lattice"
mass = 2.0
[train]
steps = 3000
measure_every = 10
check_every = 100
"""

# the cluster8 recipe, fewer replicas: one 8 x 8 GOE block at x* = 4
CLUSTER8 = """
[sweep]
name = "cluster8"
seed = 831
replicas = {replicas}
points = [[0.08, 16], [0.04, 32]]
block_size = 16
[model]
kind = "grbm"
n_visible = 8
n_hidden = 8
mu = 3.0
gibbs_steps = 3
noise = "pcd"
init = "fixed_point"
[target]
kind = "spectrum"
eigenvalues = [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]
[train]
steps = 1750
measure_every = 50
check_every = 50
"""

# random initialisation of a rectangular layer: X = W^T W, W of 20 x 10 with N(0, 0.1^2) entries
INIT = """
[sweep]
name = "init"
seed = 811
replicas = 300
points = [[0.02, 16]]
block_size = 100
[model]
kind = "grbm"
n_visible = 10
n_hidden = 20
mu = 3.0
init_std = 0.1
init = "random"
[target]
kind = "lattice"
mass = 2.0
[train]
steps = 1
measure_every = 1
check_every = 1
"""


def run_serial(tmp_path, text: str, name: str):
    cfg = tmp_path / f"{name}.toml"
    cfg.write_text(text)
    out = tmp_path / f"{name}.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


def analyze_strict(results, out, *args: str):
    """`analyze` under -W error::RuntimeWarning: exit 0, no traceback or warning, the summary."""
    cmd = [
        PYTHON,
        "-W",
        "error::RuntimeWarning",
        "-m",
        "mpi_dbm",
        "analyze",
        str(results),
        "-o",
        str(out),
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Warning" not in proc.stderr, proc.stderr
    return json.loads((out / "summary.json").read_text()), proc.stdout


def verdicts(summary, pattern):
    found = [v for v in summary["verdicts"] if re.search(pattern, v["name"])]
    assert found, f"no verdict matches {pattern!r}"
    return found


@pytest.fixture(scope="module")
def grbm_series(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("series")
    results = run_serial(tmp, GRBM_SERIES, "series")
    return analyze_strict(results, tmp / "rep", "--window", "1000:3000")[0], tmp / "rep"


@pytest.fixture(scope="module")
def cluster8(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster8")
    results = run_serial(tmp, CLUSTER8.format(replicas=48), "cluster8")
    summary, _ = analyze_strict(results, tmp / "rep", "--window", "500:1750")
    return summary, tmp / "rep", results


def test_grbm_dyson_sde_has_beta_one(grbm_series):
    summary, rep = grbm_series
    series = summary["dyson_sde"]["series"]
    assert series == {"measure_every_steps": 10.0, "measurements": 201}
    (fit,) = summary["dyson_sde"]["fits"]
    assert fit["spectrum"] == "X" and fit["dt"] == pytest.approx(1.0)
    # the predictions: beta = a/c = 1, a = c = alpha/|B| (rmt.dyson module docstring)
    assert abs(fit["beta"] - 1) < 3 * fit["beta_error"], fit
    assert abs(fit["repulsion_over_T"] - 1) < 3 * fit["repulsion_over_T_error"], fit
    assert 0 < fit["beta_error"] < 0.4 and fit["diffusion_over_T_error"] > 0
    assert abs(fit["diffusion_over_T"] - 1) < 0.1, fit
    # the fast levels (gamma dt > 0.12) are left out, and the fit says which it used
    assert 0 < len(fit["levels_fitted"]) < 10
    (v,) = verdicts(summary, r"Dyson SDE: beta = 1 within 3 sigma")
    assert v["status"] == "pass" and "repulsion/predicted" in v["detail"], v
    assert fit["predicted_repulsion"] == fit["predicted_diffusion"] == pytest.approx(0.1 / 64)
    assert (rep / "dyson_X.png").is_file()
    page = (rep / "report.html").read_text()
    assert "<h2>Dyson SDE</h2>" in page and "dyson_X.png" in page
    with h5py.File(rep / "analysis.h5", "r") as f:
        assert f["dyson/beta"][0] == pytest.approx(fit["beta"])
    # lattice clusters have 1 or 2 levels: no level set, no n-th order statistics
    assert summary["points"][0]["spectra"]["X"]["level_sets"] == []


def test_cluster8_higher_order_ratios_are_goe_not_poisson(cluster8):
    summary, _, _ = cluster8
    for p in summary["points"]:
        (ls,) = p["spectra"]["X"]["level_sets"]
        assert ls["n_levels"] == 8 and ls["expected_goe"]
        for n in ("n1", "n2", "n3"):
            r = ls["nth_ratios"][n]
            assert "goe" in r["consistent"] and "poisson" in r["rejected"], (n, r)
            # the matched 8-level GOE reference sits below the N -> infinity surmise
            assert r["references"]["goe"]["matched"] < r["references"]["goe"]["large_n"]
            assert r["error"] > 0
    for v in verdicts(summary, r"n-th order ratios GOE"):
        assert v["status"] == "pass", v


def test_cluster8_edge_long_range_and_notes(cluster8):
    summary, rep, _ = cluster8
    for p in summary["points"]:
        (ls,) = p["spectra"]["X"]["level_sets"]
        edge = ls["edge"]
        assert edge["n_matrices"] == 48 and edge["consistent"], edge
        lr = ls["long_range"]
        assert lr["unfolding"]["method"] == "ensemble"
        # 8 levels, 6 kept after trimming: no window of L >= 0.5 fits with 2-spacing margins
        assert "not enough data: need" in lr["long_range_not_enough_data"]
        ff = lr["form_factor"]
        assert len(ff["tau"]) == len(ff["values"]) == len(ff["matched"]["goe"]) == 6
    for v in verdicts(summary, r"largest level GOE edge"):
        assert v["status"] == "pass", v
    # dt = 50 alpha = 4 and 2: every level relaxes too fast for the Kramers-Moyal fit
    for v in verdicts(summary, r"Dyson SDE"):
        assert v["status"] == "info" and "no level relaxes slowly enough" in v["detail"], v
    page = (rep / "report.html").read_text()
    assert "Level statistics beyond nearest neighbours" in page


def test_single_measurement_has_no_dyson_series(cluster8, tmp_path):
    _, _, results = cluster8
    summary, _ = analyze_strict(results, tmp_path / "rep", "--no-figures")
    note = summary["dyson_sde"]["series"]["note"]
    assert "not enough data: need 3 measurements in the window, have 1" in note
    assert summary["dyson_sde"]["fits"] == []
    # one measurement per replica: the ratios still decide, errors jackknife over 48 replicas
    for v in verdicts(summary, r"n-th order ratios GOE"):
        assert v["status"] in ("pass", "inconclusive"), v


def test_two_replicas_are_not_enough_data(tmp_path):
    results = run_serial(tmp_path, CLUSTER8.format(replicas=2), "c2")
    summary, stdout = analyze_strict(results, tmp_path / "rep", "--window", "500:1750", "--no-figures")
    for v in verdicts(summary, r"n-th order ratios GOE"):
        assert v["status"] == "inconclusive" and "not enough data: need 3 replicas" in v["detail"], v
        assert "have 2" in v["detail"]
    for v in verdicts(summary, r"largest level GOE edge"):
        assert v["status"] == "inconclusive" and "need 5 replicas" in v["detail"] and "have 2" in v["detail"]
    assert "not enough data" in stdout


def test_initial_largest_eigenvalue_is_johnstone_wishart(tmp_path):
    results = run_serial(tmp_path, INIT, "init")
    summary, _ = analyze_strict(results, tmp_path / "rep", "--measurement", "0", "--no-figures")
    e = summary["initial_edge"]["X"]
    assert e["n_matrices"] == 300 and "Johnstone" in e["scaling"] and "W of 20 x 10" in e["scaling"]
    assert e["consistent"] and e["matched"]["ks_p"] >= 0.01, e
    (v,) = verdicts(summary, r"largest eigenvalue at initialisation")
    assert v["status"] == "pass", v

    # the same spectra against a law 10 % too wide are rejected: the test has power
    from mpi_dbm.analysis import load
    from mpi_dbm.analysis.expect import InitialLaw
    from mpi_dbm.analysis.spectral import initial_edge

    x = load(results).initial["X"]
    wrong = initial_edge(x, InitialLaw(scale=0.011, ratio=0.5, normalisation=20.0), 0.01)
    assert not wrong["consistent"] and wrong["matched"]["ks_p"] < 1e-3, wrong
    right = initial_edge(x, InitialLaw(scale=0.01, ratio=0.5, normalisation=20.0), 0.01)
    assert right["consistent"] and np.isclose(right["mean"], e["mean"])


# teacher-student pair, a snapshot every step (dt = alpha = 0.1, relaxation rate 1: gamma dt = 0.1)
TS_SERIES = """
[sweep]
name = "ts-series"
seed = 5
replicas = 40
points = [[0.1, 16]]
block_size = 20
[model]
kind = "teacher_student"
noise = "annealed"
noise_strength = 0.1
[train]
steps = 600
measure_every = 1
"""


def test_teacher_student_pair_is_a_confined_dyson_process(tmp_path):
    results = run_serial(tmp_path, TS_SERIES, "ts")
    summary, _ = analyze_strict(results, tmp_path / "rep", "--window", "100:600", "--no-figures")
    fits = {f["spectrum"]: f for f in summary["dyson_sde"]["fits"]}
    assert set(fits) == {"singular_values", "WtW"}
    for f in fits.values():
        assert abs(f["beta"] - 1) < 3 * f["beta_error"] and f["beta_error"] < 0.3, f
        # a = 2 gamma v, c = 4 gamma v with v = alpha A/((2 - alpha)|B|), gamma = 1 (alpha -> 0);
        # the discrete AR(1) decays at -ln(1 - alpha)/alpha = 1.054 per unit t, hence c 5 % high
        assert abs(f["repulsion_over_predicted"] - 1) < 3 * f["repulsion_over_predicted_error"], f
        assert f["diffusion_over_predicted"] == pytest.approx(1.054, abs=0.04), f
    for v in verdicts(summary, r"Dyson SDE"):
        assert v["status"] == "pass", v


def test_degenerate_cluster_at_step_zero_is_a_note(cluster8, tmp_path):
    """Started at the fixed point, step 0 has all eight levels equal: notes, no traceback."""
    _, _, results = cluster8
    summary, _ = analyze_strict(results, tmp_path / "rep", "--measurement", "0", "--no-figures")
    for p in summary["points"]:
        (ls,) = p["spectra"]["X"]["level_sets"]
        assert "exactly degenerate" in ls["not_enough_data"]["level statistics"], ls
        (cl,) = p["spectra"]["X"]["clusters"]
        assert "exactly degenerate" in cl["not_enough_data"]["cluster statistics"], cl
    for v in verdicts(summary, r"level statistics left out"):
        assert v["status"] == "info", v


# a few hundred steps of the multilayer family: 16 singular values, no family clusters
MULTILAYER = """
[sweep]
name = "multilayer"
seed = 2509004
replicas = 6
points = [[0.5, 4], [1.0, 4]]
[model]
kind = "multilayer"
activation = "tanh"
init_width = 1
batches_per_epoch = 100
[train]
steps = 2000
measure_every = 20
check_every = 100
"""


def test_family_without_clusters_is_described_not_judged(tmp_path):
    results = run_serial(tmp_path, MULTILAYER, "ml")
    summary, _ = analyze_strict(results, tmp_path / "rep", "--window", "1000:2000")
    for p in summary["points"]:
        (ls,) = p["spectra"]["singular_values"]["level_sets"]
        assert ls["label"] == "whole spectrum (16 levels)" and not ls["expected_goe"] and "edge" not in ls
        assert {"n1", "n2", "n3"} <= set(ls["nth_ratios"]) and "number_variance" in ls["long_range"]
    for v in verdicts(summary, r"whole spectrum \(16 levels\): n-th order ratios"):
        assert v["status"] == "info", v
    for v in verdicts(summary, r"Dyson SDE"):
        assert v["status"] == "info" and "not well defined" in v["detail"], v
    assert (tmp_path / "rep" / "dyson_singular_values.png").is_file()  # the model-free moments


def test_beta_verdict_needs_the_repulsion_resolved():
    """beta = 1 within 3 sigma passes only when beta = 0 (no repulsion) is excluded beyond 3 sigma."""
    from mpi_dbm.analysis.pipeline import dyson_beta_status

    assert dyson_beta_status(1.15, 0.16) == "pass"
    assert dyson_beta_status(0.14, 2.0) == "inconclusive"  # a short grbm-a0.1 run: no resolution
    assert dyson_beta_status(2.0, 0.1) == "fail"
    assert dyson_beta_status(0.0, 0.05) == "fail"  # independent levels
    assert dyson_beta_status(float("nan"), 0.1) == "fail"
