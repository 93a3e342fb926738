"""Parameter scans ([sweep.scan]): parsing, bad specs, seeds, the points table, ranks, status."""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import run_cli

from mpi_dbm import config
from mpi_dbm.errors import ConfigError
from mpi_dbm.sweep.grid import point_table, work_units
from mpi_dbm.sweep.variants import VariantModels

TS = """
[sweep]
name = "ts-scan"
seed = 842
replicas = 12
points = [[0.1, 16]]
block_size = 5

[model]
kind = "teacher_student"
n = 2
teacher_eigenvalues = [2.0, 2.0]
data_per_batch = 50
noise_strength = 0.05
init = "random"

[train]
steps = 60
measure_every = 20
"""

SCAN = '\n[sweep.scan]\n"model.noise_strength" = [0.05, 0.07, 0.1]\n'


def parse(text: str) -> config.Config:
    return config.parse_text(textwrap.dedent(text))


def test_product_scan_numbers_points_variant_major_and_keeps_base_points_first():
    cfg = parse(TS.replace("points = [[0.1, 16]]", "points = [[0.1, 16], [0.2, 16]]") + SCAN)
    assert len(cfg.variants) == 3 and len(cfg.points) == 6 and cfg.n_tasks == 72
    assert [(p.learning_rate, p.variant) for p in cfg.points] == [
        (0.1, 0), (0.2, 0), (0.1, 1), (0.2, 1), (0.1, 2), (0.2, 2)
    ]  # fmt: skip
    assert [v.model.noise_strength for v in cfg.variants] == [0.05, 0.07, 0.1]
    assert cfg.variants[1].label() == "noise_strength=0.07"
    # every other key of the spec is the base's
    assert {v.model.n for v in cfg.variants} == {2}
    cols = point_table(cfg)
    np.testing.assert_array_equal(cols["model.noise_strength"], [0.05, 0.05, 0.07, 0.07, 0.1, 0.1])
    np.testing.assert_array_equal(cols["variant"], [0, 0, 1, 1, 2, 2])


def test_several_keys_combine_as_a_product_and_zip_takes_entries_together():
    grbm = config.default_text()
    prod = config.parse_text(
        grbm + '\n[sweep.scan]\n"model.gibbs_steps" = [1, 3, 10]\n"model.sampler" = ["marginal", "gibbs"]\n'
    )
    assert len(prod.variants) == 6 and len(prod.points) == 6 * len(prod.sweep.points)
    assert {(v.model.gibbs_steps, v.model.sampler) for v in prod.variants} == {
        (k, s) for k in (1, 3, 10) for s in ("marginal", "gibbs")
    }
    zipped = config.parse_text(
        grbm + '\n[sweep.scan]\ncombine = "zip"\n"model.gibbs_steps" = [1, 3]\n'
        '"model.sampler" = ["marginal", "gibbs"]\n'
    )
    assert [(v.model.gibbs_steps, v.model.sampler) for v in zipped.variants] == [
        (1, "marginal"),
        (3, "gibbs"),
    ]


def test_zip_with_learning_rate_and_batch_size_gives_explicit_points():
    text = TS.replace("points = [[0.1, 16]]\n", "") + textwrap.dedent("""
        [sweep.scan]
        combine = "zip"
        learning_rate = [0.1, 0.2, 0.1]
        batch_size = [16, 16, 8]
        "model.noise_strength" = [0.05, 0.05, 0.1]
        """)
    cfg = parse(text)
    assert [tuple(p) for p in cfg.points] == [(0.1, 16, 0), (0.2, 16, 0), (0.1, 8, 1)]
    assert len(cfg.variants) == 2  # two entries share their parameters: one model
    again = config.parse_text(cfg.to_toml())
    assert again == cfg and again.sha256 == cfg.sha256


def test_canonical_text_round_trips_and_a_config_without_scan_keeps_its_hash():
    cfg = parse(TS + SCAN)
    text = cfg.to_toml()
    assert '[sweep.scan]\ncombine = "product"\n"model.noise_strength" = [0.05, 0.07, 0.1]' in text
    assert config.parse_text(text) == cfg
    plain = parse(TS)
    assert "[sweep.scan]" not in plain.to_toml() and len(plain.variants) == 1
    assert plain.compat_sha256 != cfg.compat_sha256
    # the scan is part of what results depend on; the schedule still is not
    other = parse(TS.replace("block_size = 5", "block_size = 3") + SCAN)
    assert other.compat_sha256 == cfg.compat_sha256


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        (
            '"model.nois_strength" = [0.1]',
            "'model.nois_strength': unknown key (did you mean 'model.noise_strength'?)",
        ),
        ('"model.teacher_eigenvalues" = [1.0, 2.0]', "not a scalar key"),
        ('"model.noise_strength" = [[0.1]]', "every value must be a number, boolean or string"),
        ('"model.noise_strength" = []', "must be a non-empty list"),
        ('"model.noise_strength" = [0.1, 0.1]', "appears twice (duplicate points)"),
        ('combine = "zip"\n"model.noise_strength" = [0.1, 0.1]', "entries 0 and 1 are the same point"),
        (
            'combine = "zip"\n"model.noise_strength" = [0.1, 0.2]\n"model.init_std" = [0.1]',
            "lists of one length",
        ),
        ('"model.kind" = ["grbm"]', "cannot be scanned: it selects the model family"),
        ('"train.steps" = [60, 120]', "'train.steps' changes the shape of the recorded arrays"),
        ('"model.n" = [2, 3]', "'model.n' = 3"),
        ('"sweep.seed" = [1, 2]', "unknown key"),
        ("learning_rate = [0.1]", 'need combine = "zip"'),
        ("model.noise_strength = [0.1]", "quote a dotted key"),
        ('"model.noise_strength" = [-0.5]', "noise_strength: must be >= 0"),
        ('combine = "sideways"\n"model.noise_strength" = [0.1]', 'combine: must be "product" or "zip"'),
        ('combine = "zip"', "scans nothing"),
    ],
)
def test_bad_scan_specs_get_one_message(scan, message):
    with pytest.raises(ConfigError) as err:
        parse(TS + "\n[sweep.scan]\n" + scan + "\n")
    assert message in str(err.value)
    assert "[sweep.scan]" in str(err.value) or "[sweep]" in str(err.value)


def test_a_key_that_changes_a_spectrum_size_is_refused_naming_it():
    grbm = config.default_text()  # n_visible = n_hidden = 10: the recorded X has min(n_v, n_h) levels
    with pytest.raises(
        ConfigError, match=r"'model.n_visible' changes the shape of the recorded arrays \(spectrum X: 10 -> 8"
    ):
        config.parse_text(grbm + '\n[sweep.scan]\n"model.n_visible" = [10, 8]\n')


def test_bad_scan_through_the_cli_exits_2_and_writes_nothing(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(textwrap.dedent(TS) + '\n[sweep.scan]\n"model.n_visible" = [4]\n')
    out = tmp_path / "out.h5"
    proc = run_cli("run", str(cfg), "-o", str(out))
    assert proc.returncode == 2, proc.stderr
    assert "[sweep.scan] 'model.n_visible': unknown key" in proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_seeds_follow_the_point_index_so_the_first_variant_equals_its_single_config(tmp_path):
    """SeedSequence(seed, (point, replica)): the scan's point 0 is the single config's point 0, bit
    for bit; the other variants are new points with their own seeds."""
    cfg = parse(TS + SCAN)
    units = work_units(cfg)
    assert {u.point.variant for u in units} == {0, 1, 2}
    assert units[-1].seeds(cfg.sweep.seed)[-1].spawn_key == (2, 11)
    single, scan = tmp_path / "single.toml", tmp_path / "scan.toml"
    single.write_text(textwrap.dedent(TS))
    scan.write_text(textwrap.dedent(TS) + SCAN)
    assert run_cli("run", str(single), "-o", str(tmp_path / "single.h5"), "-q").returncode == 0
    proc = run_cli("run", str(scan), "-o", str(tmp_path / "scan.h5"), "-q")
    assert proc.returncode == 0, proc.stderr
    with h5py.File(tmp_path / "single.h5") as a, h5py.File(tmp_path / "scan.h5") as b:
        for name in ("WtW", "singular_values"):
            np.testing.assert_array_equal(b[f"spectra/{name}"][:12], a[f"spectra/{name}"][:])
        np.testing.assert_array_equal(b["points/model.noise_strength"][:], [0.05, 0.07, 0.1])
        np.testing.assert_array_equal(b["tasks/point"][:], np.repeat([0, 1, 2], 12))
        # a larger noise strength gives a wider stationary spread of the singular values
        sv = b["spectra/singular_values"][:, -1, :]
        spread = [float(sv[12 * k : 12 * (k + 1)].std()) for k in range(3)]
        assert spread[0] < spread[2]
    status = run_cli("status", str(tmp_path / "scan.h5"))
    assert status.returncode == 0
    rows = [
        line.split() for line in status.stdout.splitlines() if line.strip().startswith(("0 ", "1 ", "2 "))
    ]
    assert "noise_strength" in status.stdout and [r[4] for r in rows] == ["0.05", "0.07", "0.1"]


@pytest.mark.parametrize("ranks", [2, 3])
def test_a_scan_is_bitwise_rank_invariant(tmp_path, ranks):
    path = tmp_path / "scan.toml"
    path.write_text(
        textwrap.dedent(config.default_text())
        .replace("replicas = 64", "replicas = 6")
        .replace("block_size = 32", "block_size = 4")
        .replace("steps = 20000", "steps = 200")
        .replace("measure_every = 2000", "measure_every = 100")
        + '\n[sweep.scan]\n"model.gibbs_steps" = [1, 3]\n"model.sampler" = ["marginal", "gibbs"]\n'
    )
    out1, outn = tmp_path / "one.h5", tmp_path / "many.h5"
    assert run_cli("run", str(path), "-o", str(out1), "-q").returncode == 0
    proc = run_cli("run", str(path), "-o", str(outn), "-q", ranks=ranks)
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out1) as a, h5py.File(outn) as b:
        assert b["points/model.sampler"][:].tolist()[:: len(config.default().sweep.points)] == [
            b"marginal", b"gibbs", b"marginal", b"gibbs"
        ]  # fmt: skip
        for name in ("spectra/X", "tasks/status", "tasks/checksum"):
            np.testing.assert_array_equal(a[name][:], b[name][:])


def test_unit_costs_follow_each_variants_own_model():
    grbm = config.default_text()
    cfg = config.parse_text(grbm + '\n[sweep.scan]\n"model.gibbs_steps" = [1, 10]\n')
    built = VariantModels(cfg)
    by_variant: dict[int, float] = {}
    for u in work_units(cfg):
        if u.point.batch_size == 16 and u.n_replicas == cfg.sweep.block_size:
            by_variant[u.point.variant] = built.cost(u)
    # ten Gibbs sweeps per update cost more than one, by the ratio of the variants' own models
    ratio = built[1].work_per_step(16) / built[0].work_per_step(16)
    assert ratio > 1.2 and by_variant[1] / by_variant[0] == pytest.approx(ratio)


def test_config_check_reports_the_scan(tmp_path: Path):
    path = tmp_path / "scan.toml"
    path.write_text(textwrap.dedent(TS) + SCAN)
    proc = run_cli("config", "check", str(path), "--no-timing")
    assert proc.returncode == 0, proc.stderr
    assert "3 points x 12 replicas = 36 tasks" in proc.stdout
    assert "scan (product): 3 parameter sets; model.noise_strength in [0.05, 0.07, 0.1]" in proc.stdout


def test_analysis_pools_the_universal_fit_over_a_noise_scan_and_keeps_shifts_per_variant(tmp_path):
    """One file scanning the teacher-student noise strength: ⟨S⟩ against √v pools every ε (v =
    αA/((2 − α)|B|), A = ε², is each point's own prediction) with the universal slope √(2π); the
    non-universal shift fits and collapse tests stay within one variant."""
    path = tmp_path / "scan.toml"
    text = (
        textwrap.dedent(TS)
        .replace("replicas = 12", "replicas = 200")
        .replace("block_size = 5", "block_size = 100")
    )
    text = text.replace("steps = 60\nmeasure_every = 20", "steps = 400\nmeasure_every = 20")
    path.write_text(text + SCAN)
    out, rep = tmp_path / "scan.h5", tmp_path / "rep"
    assert run_cli("run", str(path), "-o", str(out), "-q").returncode == 0
    proc = run_cli("analyze", str(out), "-o", str(rep), "--window", "200:400")
    assert proc.returncode == 0, proc.stderr
    import json

    s = json.loads((rep / "summary.json").read_text())
    assert [v["parameters"] for v in s["scan"]["variants"]] == [
        {"model.noise_strength": e} for e in (0.05, 0.07, 0.1)
    ]
    assert [p["parameters"]["model.noise_strength"] for p in s["points"]] == [0.05, 0.07, 0.1]
    fit = next(f for f in s["linear_scaling"]["singular_values"] if f["observable"] == "pair_mean_spacing")
    assert fit["n_points"] == 3 and abs(fit["pull"]) < 4
    assert abs(fit["slope"] / math.sqrt(2 * math.pi) - 1) < 0.06
    # ⟨S⟩ itself grows with ε (√v ∝ ε at fixed α/|B|)
    spacing = [
        next(c for c in p["spectra"]["singular_values"]["clusters"])["values"]["mean_spacing"]["value"]
        for p in s["points"]
    ]
    assert spacing[0] < spacing[1] < spacing[2]
    shifts = s["mean_shift"]["singular_values"]
    assert [r["variant"] for r in shifts] == [0, 1, 2] and [r["points"] for r in shifts] == [[0], [1], [2]]
    assert (rep / "report.html").read_text().count("noise_strength") >= 3


def test_train_data_set_draws_another_shared_data_set_and_can_be_scanned():
    """[train] data_set selects a replicate draw of the data all replicas share (0: the sweep's
    own, written to the canonical text only when set, so no other config's hash moves)."""
    from mpi_dbm.streams import shared_data_seed

    base = parse(TS)
    assert base.train.data_set == 0 and "data_set" not in base.to_toml()
    assert shared_data_seed(842, 0).spawn_key == shared_data_seed(842).spawn_key
    other = parse(TS.replace("measure_every = 20", "measure_every = 20\ndata_set = 3"))
    assert "data_set = 3" in other.to_toml() and other.compat_sha256 != base.compat_sha256
    cfg = parse(
        TS
        + '\n[sweep.scan]\ncombine = "zip"\n"model.noise_strength" = [0.05, 0.1]\n"train.data_set" = [0, 1]\n'
    )
    built = VariantModels(cfg)
    assert [v.train.data_set for v in cfg.variants] == [0, 1]
    # the teacher-student family draws its teacher from the shared data: a new draw per data set
    assert not np.array_equal(built[0].teacher, built[1].teacher)
    same = VariantModels(parse(TS))[0]
    np.testing.assert_array_equal(same.teacher, built[0].teacher)


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "must be >= 0"), ("1.5", "must be an integer"), ('"a"', "must be an integer")],
)
def test_a_bad_data_set_gets_one_message(value, message):
    with pytest.raises(ConfigError, match=r"\[train\] data_set: " + message):
        parse(TS.replace("measure_every = 20", f"measure_every = 20\ndata_set = {value}"))
