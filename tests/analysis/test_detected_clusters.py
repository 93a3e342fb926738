"""Clusters detected from the data (centre None) get no prediction from a family's expectation, and
`analyze` runs on a spectrum the family has no theory for (it used to stop on an AssertionError)."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from mpi_dbm import config
from mpi_dbm.analysis.expect import Cluster, expectation_for

DETECTED = Cluster(0, 2, None, "levels 0..1 (pair, detected)")
SPECTRA = {"grbm": ("X",), "teacher_student": ("WtW", "singular_values"), "linear": ("W1tW1", "W2W2t")}
MODELS = {
    "grbm": 'kind = "grbm"\nn_visible = 4\nn_hidden = 4\n[target]\nkind = "lattice"\nmass = 2.0',
    "teacher_student": 'kind = "teacher_student"\nn = 4',
    "linear": 'kind = "linear"',
}


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_a_detected_cluster_gets_no_prediction(kind: str) -> None:
    cfg = config.parse_text(
        f"[sweep]\nreplicas = 4\npoints = [[0.02, 16]]\n[model]\n{MODELS[kind]}\n[train]\nsteps = 10\n"
    )
    exp = expectation_for(cfg)
    for spectrum in SPECTRA[kind]:
        assert exp.variance(spectrum, DETECTED, 0.02, 16) is None
        assert exp.shift(spectrum, DETECTED, 0.02, 16) is None
        assert exp.relaxation_rate(spectrum, DETECTED) is None
        assert exp.target_ratio(spectrum, DETECTED, 1.0) is None


#: a teacher with a zero singular value: the family's theory (a GOE block around each teacher level,
#: levels > 0) does not cover it, so both spectra get clusters detected from the data
TS_ZERO = """
[sweep]
name = "ts0"
seed = 5
replicas = 16
points = [[0.1, 16], [0.2, 32]]
block_size = 16
[model]
kind = "teacher_student"
n = 4
teacher_eigenvalues = [0.0, 1.0, 2.0, 2.0]
noise = "annealed"
noise_strength = 0.1
[train]
steps = 300
measure_every = 100
"""


def test_analyze_runs_on_a_spectrum_the_family_has_no_theory_for(tmp_path) -> None:
    cfg = tmp_path / "ts0.toml"
    cfg.write_text(TS_ZERO)
    results = tmp_path / "ts0.h5"
    proc = run_cli("run", str(cfg), "-o", str(results), "--quiet")
    assert proc.returncode == 0, proc.stderr
    proc = run_cli("analyze", str(results), "-o", str(tmp_path / "rep"))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    for spectrum in ("WtW", "singular_values"):
        assert summary["clusters"][spectrum]["detected_from_data"] is True
        for point in summary["points"]:
            for c in point["spectra"][spectrum]["clusters"]:
                assert c["predicted_centre"] is None
                assert "v" not in c["predicted"]  # no theory: no predicted GOE variance
