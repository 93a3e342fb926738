"""`mpi-dbm import`: external weights -> a results file that `analyze`, `status` and `verify` accept.

The acceptance test: matrices whose spectra a `run` recorded (a multilayer sweep, a family without
theory, so both files are analysed the same way) rebuilt from the recorded singular values with
random orthogonal factors, imported, and analysed: the statistics in summary.json equal the
run's own. Bad inputs: one line on stderr, exit code 2, nothing written.
"""

from __future__ import annotations

import json
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from mpi_dbm.errors import ConfigError, DependencyError
from mpi_dbm.importer import ImportOptions
from mpi_dbm.importer.sources import read_checkpoints
from mpi_dbm.models.imported import NOT_TRAINABLE, gram_eigenvalues
from mpi_dbm.store import open_results

HYPER = [(0.01, 8, 0.1), (0.02, 8, 0.1), (0.02, 16, 0.1)]


def smaller_gram(W: np.ndarray) -> np.ndarray:
    return W @ W.T if W.shape[0] <= W.shape[1] else W.T @ W


def release(directory: Path, shape=(4, 3, 5, 7), hyper=HYPER, seed: int = 1) -> list[np.ndarray]:
    """A data release: per configuration W (seeds, snapshots, n, m) beside scalar lr, batch_size, noise."""
    directory.mkdir()
    rng = np.random.default_rng(seed)
    stacks = []
    for i, (lr, bs, noise) in enumerate(hyper):
        W = rng.standard_normal(shape)
        np.savez(directory / f"cfg{i}.npz", W=W, lr=np.float64(lr), batch_size=np.int64(bs), noise=noise)
        stacks.append(W)
    return stacks


def import_release(directory: Path, out: Path, *extra: str):
    return run_cli(
        "import", str(directory), "--lr-key", "lr", "--bs-key", "batch_size", "--param-key", "noise",
        "-o", str(out), *extra,
    )  # fmt: skip


def test_directory_imports_with_run_spectra_and_null_models(tmp_path):
    stacks = release(tmp_path / "rel")
    out = tmp_path / "rel.h5"
    proc = import_release(tmp_path / "rel", out, "--seed", "5")
    assert proc.returncode == 0, proc.stderr
    assert "3 configuration(s) x 4 replicas x 3 snapshots" in proc.stdout
    with open_results(out) as res:
        res.require_intact()
        config = res.config()
        assert config.model.kind == "imported"
        assert [list(p) for p in config.sweep.points] == [list(h[:2]) for h in HYPER]
        assert dict(config.model.labels) == {"noise": 0.1}
        assert res.spectrum_names() == ["W", "W.shuffled"]
        assert res.measure_steps().tolist() == [0, 1, 2]
        W, S = res.spectra("W"), res.spectra("W.shuffled")
        tasks = res.tasks()
    for t in range(len(tasks["point"])):
        p, r = int(tasks["point"][t]), int(tasks["replica"][t])
        for s in range(3):
            m = stacks[p][r, s]
            np.testing.assert_allclose(W[t, s], np.linalg.eigvalsh(smaller_gram(m)), rtol=1e-12, atol=1e-12)
            rng = np.random.default_rng(np.random.SeedSequence(5, spawn_key=(p, r, s)))
            shuffled = m.ravel()[rng.permutation(m.size)].reshape(m.shape)
            np.testing.assert_allclose(
                S[t, s], np.linalg.eigvalsh(smaller_gram(shuffled)), rtol=1e-12, atol=1e-12
            )
    assert run_cli("verify", str(out)).returncode == 0
    proc = run_cli("analyze", str(out), "-o", str(tmp_path / "rep"), "--no-figures")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["model_kind"] == "imported"
    assert summary["theory"].startswith("no theory") and "no theory verdicts apply" in summary["theory"]
    assert all(d["detected_from_data"] for d in summary["clusters"].values())
    assert not any(summary["linear_scaling"].values())  # no prediction, no theory verdict


def test_gram_helper_takes_the_smaller_side():
    W = np.random.default_rng(0).standard_normal((2, 6, 3))
    values = gram_eigenvalues(W)
    assert values.shape == (2, 3) and np.all(np.diff(values, axis=1) >= 0)
    np.testing.assert_allclose(values[1], np.linalg.eigvalsh(W[1].T @ W[1]))


MULTILAYER = """
[sweep]
name = "ml"
seed = 3
replicas = 8
points = [[0.05, 4], [0.1, 8], [0.05, 8]]

[model]
kind = "multilayer"
n_input = 3
n_hidden = 8
n_features = 4
batches_per_epoch = 4

[train]
steps = 200
measure_every = 50
"""


def test_imported_matrices_give_the_statistics_of_the_run_that_made_them(tmp_path):
    cfg = tmp_path / "ml.toml"
    cfg.write_text(textwrap.dedent(MULTILAYER))
    run_file = tmp_path / "ml.h5"
    proc = run_cli("run", str(cfg), "-o", str(run_file), "--quiet")
    assert proc.returncode == 0, proc.stderr
    rel = tmp_path / "rel"
    rel.mkdir()
    rng = np.random.default_rng(11)
    with open_results(run_file) as res:
        config = res.config()
        sv, point = res.spectra("singular_values"), res.tasks()["point"]
    reps, K, L = config.sweep.replicas, 4, 8
    for p, (lr, bs) in enumerate(config.sweep.points):
        values = sv[point == p]  # (replicas, snapshots, K), ascending
        U = np.linalg.qr(rng.standard_normal((*values.shape[:2], K, K)))[0]
        V = np.linalg.qr(rng.standard_normal((*values.shape[:2], L, L)))[0]
        W = U @ (values[..., :, None] * V[..., :K, :])  # U diag(sv) V[:K]: K x L, singular values sv
        np.savez(rel / f"p{p}.npz", W=W, lr=lr, bs=bs)
    out = tmp_path / "imported.h5"
    proc = run_cli(
        "import",
        str(rel),
        "--lr-key",
        "lr",
        "--bs-key",
        "bs",
        "--steps",
        "0:200:50",
        "-o",
        str(out),
        "--no-shuffled",
    )
    assert proc.returncode == 0, proc.stderr
    assert reps == 8
    sums = []
    for name, results in (("run", run_file), ("imp", out)):
        proc = run_cli(
            "analyze", str(results), "-o", str(tmp_path / name), "--no-figures", "--window", "100:200"
        )
        assert proc.returncode == 0, proc.stderr
        sums.append(json.loads((tmp_path / name / "summary.json").read_text()))
    ran, imported = sums
    assert ran["analysed_steps"] == imported["analysed_steps"] == [100, 150, 200]
    assert ran["clusters"]["WWt"] == imported["clusters"]["W"]
    for a, b in zip(ran["points"], imported["points"], strict=True):
        assert (a["learning_rate"], a["batch_size"], a["analysed"]) == (
            b["learning_rate"],
            b["batch_size"],
            b["analysed"],
        )
        assert_same_numbers(a["spectra"]["WWt"], b["spectra"]["W"])
    for key in ("relaxation", "mean_shift"):
        assert_same_numbers(ran[key]["WWt"], imported[key]["W"])
    collapse = [
        [{**c, "spectrum": None} for c in s["collapse"] if c["spectrum"] in ("WWt", "W")] for s in sums
    ]
    assert len(collapse[0]) == 1
    assert_same_numbers(*collapse)
    verdicts = [
        [
            (v["name"].replace("WWt", "W"), v["status"])
            for v in ran["verdicts"]
            if v["name"].startswith("WWt")
        ],
        [(v["name"], v["status"]) for v in imported["verdicts"]],
    ]
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) >= 4


def assert_same_numbers(a, b, path="") -> None:
    """Equal structure, equal strings, numbers equal to 1e-7 relative (eigenvalues rebuilt in float64)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), path
        for k in a:
            assert_same_numbers(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same_numbers(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-7, abs=1e-12, nan_ok=True), path
    else:
        assert a == b, path


def test_non_finite_weights_record_the_replica_diverged(tmp_path):
    rel = tmp_path / "rel"
    rel.mkdir()
    W = np.random.default_rng(2).standard_normal((3, 4, 3, 3))
    W[1, 2, 0, 0] = np.inf
    np.save(rel / "w.npy", W)
    out = tmp_path / "o.h5"
    proc = run_cli(
        "import",
        str(rel / "w.npy"),
        "--learning-rate",
        "0.1",
        "--batch-size",
        "4",
        "-o",
        str(out),
        "--steps",
        "0,10,20,30",
    )
    assert proc.returncode == 0, proc.stderr
    assert "1 replica(s) with non-finite weights recorded diverged" in proc.stdout
    with open_results(out) as res:
        tasks, spectra = res.tasks(), res.spectra("W")
        status = res.status()
    assert status.tolist() == [1, 2, 1]
    assert tasks["diverged_step"].tolist() == [-1, 20, -1]
    assert np.isnan(spectra[1, 2:]).all() and np.isfinite(spectra[1, :2]).all()


def test_checkpoints_by_glob_and_path_patterns(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    truth = rng.standard_normal((2, 3, 4, 6))
    for r, seed in enumerate((17, 42)):
        for s, step in enumerate((0, 100, 200)):
            d = tmp_path / f"run{seed}"
            d.mkdir(exist_ok=True)
            np.savez(d / f"step{step}.npz", **{"layer1.weight": truth[r, s], "bias": np.zeros(4)})
    options = ImportOptions(
        keys=("layer1.weight",), learning_rate=0.1, batch_size=4,
        replica_from=r"run(?P<replica>\d+)", snapshot_from=r"step(?P<step>\d+)",
    )  # fmt: skip
    conf = read_checkpoints(str(tmp_path / "run*" / "step*.npz"), options)
    np.testing.assert_array_equal(conf.matrices["layer1.weight"], truth)
    assert conf.steps is not None and conf.steps.tolist() == [0, 100, 200]
    bad = ImportOptions(keys=("bias",), replica_from=r"run(\d+)", snapshot_from=r"step(\d+)")
    with pytest.raises(ConfigError, match="not a matrix"):
        read_checkpoints(str(tmp_path / "run*" / "step*.npz"), bad)
    (tmp_path / "run42" / "step200.npz").unlink()
    with pytest.raises(ConfigError, match="no file for replica 42 at step 200"):
        read_checkpoints(str(tmp_path / "run*" / "step*.npz"), options)


def test_safetensors_through_the_package_or_one_message(tmp_path, monkeypatch):
    W = np.arange(12.0).reshape(1, 3, 4)
    for r in range(2):
        for s in range(2):
            (tmp_path / f"r{r}_s{s}.safetensors").write_bytes(b"")
    options = ImportOptions(keys=("w",), replica_from=r"r(\d+)", snapshot_from=r"s(?P<step>\d+)")
    monkeypatch.setitem(sys.modules, "safetensors", None)  # not installed
    with pytest.raises(DependencyError, match="needs the `safetensors` package"):
        read_checkpoints(str(tmp_path / "*.safetensors"), options)
    fake = types.ModuleType("safetensors.numpy")
    fake.load_file = lambda path: {"w": W[0] * (1 + int(Path(path).name[1]))}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "safetensors", types.ModuleType("safetensors"))
    monkeypatch.setitem(sys.modules, "safetensors.numpy", fake)
    conf = read_checkpoints(str(tmp_path / "*.safetensors"), options)
    assert conf.matrices["w"].shape == (2, 2, 3, 4)
    np.testing.assert_array_equal(conf.matrices["w"][1, 0], 2 * W[0])


def test_an_imported_family_cannot_be_trained(tmp_path):
    rel = tmp_path / "rel"
    release(rel, hyper=HYPER[:1])
    out = tmp_path / "o.h5"
    assert import_release(rel, out).returncode == 0
    with open_results(out) as res:
        text = res.config_text
    cfg = tmp_path / "again.toml"
    cfg.write_text(text)
    proc = run_cli("run", str(cfg), "-o", str(tmp_path / "again.h5"), "--quiet")
    assert proc.returncode != 0
    assert NOT_TRAINABLE.split(":")[0] in proc.stderr


def _write(rel: Path, name: str, **arrays) -> None:
    rel.mkdir(exist_ok=True)
    np.savez(rel / name, **arrays)


W4 = np.zeros((2, 3, 4, 4))
HB = ["--learning-rate", "0.1", "--batch-size", "2"]  # α and |B| for every configuration
TWO = {"a.npz": {"W": W4}, "b.npz": {"W": W4}}


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        ({"a.npz": {"V": W4}}, HB, "no array 'W' (--key)"),
        ({"a.npz": {"W": W4}, "b.npz": {"W": np.zeros((2, 3, 4, 5))}}, HB, "a spectrum has one size"),
        (
            {"a.npz": {"W": W4, "lr": 0.1}, "b.npz": {"W": np.zeros((3, 3, 4, 4)), "lr": 0.2}},
            ["--lr-key", "lr", "--batch-size", "2"],
            "every configuration needs the same",
        ),
        ({"a.npz": {"W": np.full((2, 3, 4, 4), "x")}}, HB, "must hold real numbers"),
        ({"a.npz": {"W": W4}}, [*HB, "--axes", "replica,time,row,col"], "--axes"),
        ({"a.npz": {"W": W4}}, [*HB, "--axes", "replica,row,col"], "--axes names 3"),
        ({"a.npz": {"W": W4}}, ["--batch-size", "2"], "no learning rate"),
        ({"a.npz": {"W": W4}}, ["--learning-rate", "fast", "--batch-size", "2"], "--learning-rate 'fast'"),
        ({"a.npz": {"W": W4}}, [*HB, "--steps", "0,10,30"], "evenly spaced"),
        ({"a.npz": {"W": W4}}, [*HB, "--steps", "5,10,15"], "evenly spaced"),
        ({"a.npz": {"W": np.zeros((2, 1, 4, 4))}}, HB, "one snapshot"),
        (
            {"a.npz": {"W": W4, "lr": np.ones(2)}},
            ["--lr-key", "lr", "--batch-size", "2"],
            "must be one value",
        ),
        (TWO, HB, "have the same learning rate"),
        ({"a.npy": W4}, [*HB, "--param", "kind=3"], "is a key of the family"),
        ({"a.npz": {"W": W4}}, [*HB, "--replica-from", "r(\\d+)"], "apply to --checkpoints only"),
    ],
)
def test_bad_inputs_one_line_exit_2_nothing_written(tmp_path, files, args, message):
    rel = tmp_path / "rel"
    rel.mkdir()
    for name, content in files.items():
        if name.endswith(".npy"):
            np.save(rel / name, content)
        else:
            np.savez(rel / name, **content)
    out = tmp_path / "out" / "o.h5"
    out.parent.mkdir()
    proc = run_cli("import", str(rel), "-o", str(out), *args)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("mpi-dbm: error: "), proc.stderr
    assert message in proc.stderr
    assert list(out.parent.iterdir()) == []


def test_existing_output_is_kept_without_force(tmp_path):
    rel = tmp_path / "rel"
    release(rel, hyper=HYPER[:2])
    out = tmp_path / "o.h5"
    out.write_bytes(b"precious")
    proc = import_release(rel, out)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "--force" in proc.stderr
    assert out.read_bytes() == b"precious"
    proc = import_release(rel, out, "--force")
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.h5", "rel"]
    assert run_cli("verify", str(out)).returncode == 0


def test_configurations_differing_in_a_label_become_one_zip_scan(tmp_path):
    hyper = [(0.01, 8, 0.1), (0.01, 8, 0.2), (0.02, 16, 0.1)]  # same α, |B| twice: noise tells them apart
    release(tmp_path / "rel", hyper=hyper)
    out = tmp_path / "scan.h5"
    proc = import_release(tmp_path / "rel", out, "--no-shuffled")
    assert proc.returncode == 0, proc.stderr
    with open_results(out) as res:
        res.require_intact()
        config = res.config()
    assert config.scan is not None and config.scan.combine == "zip"
    assert config.scanned_keys == ("model.noise",)
    assert [(p.learning_rate, p.batch_size) for p in config.points] == [h[:2] for h in hyper]
    assert [dict(config.variant_of(i).model.labels)["noise"] for i in range(3)] == [0.1, 0.2, 0.1]
    proc = run_cli("analyze", str(out), "-o", str(tmp_path / "rep"), "--no-figures")
    assert proc.returncode == 0, proc.stderr
