"""`mpi-dbm reproduce`: bad input, the check logic, and a reduced reproduction under MPI.

The reduced reproduction takes the quick recipes (mpi_dbm/recipes/quick/) of a few experiments, with fewer
replicas, runs them on 2 ranks and asserts the checks that are statistically resolved at that size.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from mpi_dbm import config as cfgmod
from mpi_dbm.analysis.relaxation import relaxation_rate
from mpi_dbm.errors import ConfigError
from mpi_dbm.reproduce import checks
from mpi_dbm.reproduce.experiments import EXPERIMENTS, NAMES
from mpi_dbm.reproduce.manifest import read_manifest, window_steps
from mpi_dbm.reproduce.rows import FAIL, INCONCLUSIVE, INFO, NOT_RUN, PASS, STATUSES, Part, Row
from mpi_dbm.resources import recipes_dir

ROOT = Path(__file__).resolve().parent.parent
RECIPES = recipes_dir()
QUICK = RECIPES / "quick"


# -- the recipes themselves ------------------------------------------------------------------------
@pytest.mark.parametrize("size", ["quick", "full"])
def test_recipes_are_valid(size):
    m = read_manifest(RECIPES, size)
    names = {e.name for e in m.experiments}
    assert names == set(NAMES)  # every experiment the checks know, each with its configs
    for run in m.runs:
        assert run.config.sweep.name == run.name, run.config_path  # results file = config name
    # the full size says what each config's cluster job needs; the quick size runs locally
    assert set(m.jobs) == ({r.name for r in m.runs} if size == "full" else set())
    # only configs and the manifest ship (job scripts are rendered on demand)
    assert {p.suffix for p in (RECIPES / size).iterdir()} == {".toml"}


@pytest.mark.parametrize("scheduler", ["slurm", "pbs"])
def test_full_size_jobscripts_render_on_demand(tmp_path, scheduler):
    """`reproduce --size full --jobscripts DIR`: one valid script and one config copy per config, with
    the manifest's resources; they write where `reproduce --no-run -o DIR/results` reads."""
    m = read_manifest(RECIPES, "full")
    folder = tmp_path / "jobs"
    proc = run_cli(
        "reproduce", "--size", "full", "--jobscripts", str(folder), "--scheduler", scheduler,
        "--account", "proj42", "--partition", "short", "--venv", "/opt/mpi-dbm-venv",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    suffix = ".slurm.sbatch" if scheduler == "slurm" else ".pbs.sh"
    scripts = sorted(folder.glob(f"*{suffix}"))
    assert sorted(p.name.removesuffix(suffix) for p in scripts) == sorted(r.name for r in m.runs)
    for run in m.runs:
        text = (folder / f"{run.name}{suffix}").read_text()
        job = m.jobs[run.name]
        assert f"CONFIG={run.name}.toml\n" in text and f"RESULTS=results/{run.name}.h5\n" in text
        assert "proj42" in text and "short" in text and "source /opt/mpi-dbm-venv/bin/activate" in text
        if scheduler == "slurm":
            assert f"#SBATCH --ntasks-per-node={job.ranks_per_node}\n" in text
            assert f"#SBATCH --time={job.time}\n" in text
        assert cfgmod.load(folder / f"{run.name}.toml").sha256 == run.config.sha256
        bash = subprocess.run(["bash", "-n", str(folder / f"{run.name}{suffix}")], capture_output=True)
        assert bash.returncode == 0, bash.stderr
    if shutil.which("shellcheck"):
        check = subprocess.run(["shellcheck", *map(str, scripts)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout[-3000:]
    # nothing is overwritten without --force; site options need --jobscripts
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    _one_error(run_cli("reproduce", "--size", "full", "--jobscripts", str(folder)), "exists")
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    assert run_cli("reproduce", "--account", "proj42").returncode == 2


def test_window_in_t_units():
    cfg = cfgmod.load(QUICK / "grbm-a0.01-b16.toml")
    assert window_steps(cfg, (100, 200), "x") == (10000, 20000)
    with pytest.raises(ConfigError, match="contains no measurement"):
        window_steps(cfg, (500, 600), "x")


# -- rows -------------------------------------------------------------------------------------------
def test_part_status_rules():
    assert Part("a", 1.05, 0.02, 1.0).status == PASS  # 2.5 sigma
    assert Part("a", 1.10, 0.02, 1.0).status == FAIL  # 5 sigma
    assert Part("a", 1.09, 0.02, 1.0, lo=0.96, hi=1.04).status == PASS  # 2.5 sigma beyond the band
    assert Part("a", 1.0, 0.05, 1.0, resolution=0.03).status == INCONCLUSIVE
    assert Part("a", 1.0, 0.01, 1.2, expected_error=0.1).status == PASS
    assert Part("p", 0.2, expected=0.01, kind="consistent").status == PASS
    assert Part("p", 0.2, expected=0.01, kind="consistent", powered=False).status == INCONCLUSIVE
    assert Part("p", 0.001, expected=0.01, kind="consistent").status == FAIL
    assert Part("p", 0.5, expected=0.01, kind="reject", powered=False).status == INCONCLUSIVE
    assert Part("p", math.nan, expected=0.01, kind="reject").status == INCONCLUSIVE
    row = Row("1", 1, "t", "e", "tol", [Part("x", 1.0, 0.1, 1.0), Part("y", 2.0, 0.1, 1.0)])
    assert row.status == FAIL and row.worst.label == "y"
    assert Row("1", 1, "t", "e", "tol").status == "not run"


def test_info_parts_report_without_a_verdict_and_never_decide_a_row():
    far = Part("T_c / T*", 7.0, 0.1, 1.0, kind=INFO)  # 60 sigma from the reference: still info
    assert far.status == INFO and far.excess == 0.0
    assert Part("x", math.nan, kind=INFO).status == INFO
    assert far.measured_text() == "7.00 ± 0.10" and far.expected_text() == "1"
    assert Part("x", 1.0, kind=INFO).expected_text() == "–"
    info = Row("15c", 15, "t", "e", "info", [far, Part("agree", 0.9, expected=1.0, kind=INFO)])
    assert info.status == INFO and info.worst is far
    assert info.measured_text() == "T_c / T*: 7.00 ± 0.10; agree: 0.9"
    record = info.record()
    assert record["status"] == INFO and [p["status"] for p in record["parts"]] == [INFO, INFO]
    mixed = Row("x", 1, "t", "e", "tol", [far, Part("y", 1.0, 0.1, 1.0)])
    assert mixed.status == PASS and mixed.worst.label == "y"  # the info part does not fail it
    mixed.parts.append(Part("z", 2.0, 0.1, 1.0))
    assert mixed.status == FAIL and mixed.worst.label == "z"
    assert STATUSES == (PASS, FAIL, INCONCLUSIVE, INFO, NOT_RUN)


def _reproduction(tmp_path, rows):
    from types import SimpleNamespace

    from mpi_dbm.reproduce.reproduction import Reproduction

    manifest = SimpleNamespace(path=tmp_path / "reproduce.toml", experiments=[])
    return Reproduction("quick", tmp_path, manifest, [], {}, rows, {}, 0.0, 0.0, 1)  # type: ignore[arg-type]


def test_info_rows_are_counted_and_styled(tmp_path):
    from mpi_dbm.reproduce.output import summary, write_html

    rows = [
        Row("1", 1, "t", "e", "tol", [Part("x", 1.0, 0.1, 1.0)]),
        Row("15c", 15, "t", "e", "info", [Part("T_c / T*", 1.2, expected=1.0, kind=INFO)]),
        Row("15d", 15, "t", "e", "info"),
    ]
    rep = _reproduction(tmp_path, rows)
    assert rep.counts() == {PASS: 1, FAIL: 0, INCONCLUSIVE: 0, INFO: 1, NOT_RUN: 1}
    page = write_html(rep).read_text(encoding="utf-8")
    assert "1 pass, 0 fail, 0 inconclusive, 1 info, 1 not run." in page
    assert ".info{" in page and "<tr class='info'><td>15c</td>" in page
    text = _readme_section(json.loads(json.dumps(summary(rep), default=str)))
    assert "**1 pass, 0 fail, 0 inconclusive, 1 info, 1 not run.**" in text
    assert "| 15c | t | T_c / T*: 1.2 | 1 | *info* |" in text


# -- the registry of checks and the experiment names ------------------------------------------
TABLE = [
    "1a", "1b", "1c", "1d", "1e", "2a", "2b", "2c", "3", "4a", "4b", "4c", "5a", "5b", "6a", "6b", "6c",
    "6d", "7a", "7b", "7c", "7d", "8a", "8b", "9a", "9b", "9c", "10", "11", "12", "13a", "13b", "13c",
    "14", "15a", "15b", "15c", "15d",
]  # fmt: skip


def test_registry_gives_every_row_once_by_name_in_item_order():
    rows, extra = checks.all_rows({})  # no experiment run: every check takes its not-run path
    assert [r.id for r in rows] == TABLE
    assert [r.item for r in rows] == sorted(r.item for r in rows)
    assert sorted(i for c in checks.CHECKS for i in c.ids) == sorted(TABLE)  # each id declared once
    assert all(r.status == NOT_RUN and r.missing for r in rows), [r.id for r in rows if not r.missing]
    assert extra == {"relaxation": []}


def test_registry_rejects_a_check_that_returns_other_rows(monkeypatch):
    first = checks.CHECKS[0]
    wrong = checks.Check(first.items, (*first.ids, "1z"), first.run)
    monkeypatch.setattr(checks, "CHECKS", (wrong, *checks.CHECKS[1:]))
    with pytest.raises(RuntimeError, match="1z"):
        checks.all_rows({})


def test_experiment_names_are_defined_once(tmp_path):
    assert tuple(EXPERIMENTS) == NAMES and all(e.spectrum and e.description for e in EXPERIMENTS.values())
    # the manifest's validation and the CLI's help read the same names
    recipes = _recipes(
        tmp_path, '[tss]\nconfigs = ["ts.toml"]\n', {"ts.toml": (QUICK / "ts.toml").read_text()}
    )
    proc = run_cli("reproduce", "--recipes", str(recipes), "-o", str(tmp_path / "out"))
    _one_error(proc, "known experiments: " + ", ".join(NAMES))
    help_text = " ".join(run_cli("reproduce", "--help").stdout.split())
    assert f"({', '.join(NAMES)})" in help_text


def test_relaxation_rate_of_an_ar1_process():
    rng = np.random.default_rng(1)
    rate, dt, n_rep, n_t = 0.4, 0.5, 64, 800
    a = math.exp(-rate * dt)
    x = np.empty((n_rep, n_t))
    x[:, 0] = rng.standard_normal(n_rep)
    for k in range(1, n_t):
        x[:, k] = a * x[:, k - 1] + math.sqrt(1 - a * a) * rng.standard_normal(n_rep)
    res = relaxation_rate(x + 3.0, dt)
    assert abs(res.rate - rate) < 4 * res.error and res.error < 0.05 * rate


def test_teacher_student_records_its_entries():
    from mpi_dbm import models
    from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
    from mpi_dbm.train import train_stack

    text = (QUICK / "ts.toml").read_text()
    cfg = cfgmod.parse_text(text)
    assert cfg.model.record_entries and "record_entries = true" in cfg.to_toml()
    plain = cfgmod.parse_text(text.replace("record_entries = true", ""))
    assert "record_entries" not in plain.to_toml()  # existing configs keep their canonical text
    model = models.build(cfg.model, shared_data_seed(1))
    res = train_stack(model, 0.1, 16, ReplicaStreams([replica_seed(1, 0, r) for r in range(3)]), 20, 10, 10)
    assert set(res.scalars) == {"loss", "asymmetry", "w11", "w12", "w21", "w22"}
    assert np.isfinite(res.scalars["w12"]).all()
    with pytest.raises(ConfigError, match="record_entries"):
        cfgmod.parse_text(text.replace("record_entries = true", "record_entries = 1"))


# -- bad input: one message, exit 2, nothing written ----------------------------------------------
def _recipes(tmp_path: Path, manifest: str, configs: dict[str, str] | None = None) -> Path:
    folder = tmp_path / "recipes" / "quick"
    folder.mkdir(parents=True)
    (folder / "reproduce.toml").write_text(manifest)
    for name, text in (configs or {}).items():
        (folder / name).write_text(text)
    return folder.parent


def _one_error(proc, pattern: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert any(re.search(pattern, line) for line in lines), proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_size(tmp_path):
    out = tmp_path / "out"
    proc = run_cli("reproduce", "--size", "huge", "-o", str(out))
    _one_error(proc, "huge")
    assert not out.exists()


def test_output_is_a_file(tmp_path):
    out = tmp_path / "out"
    out.write_text("x")
    recipes = _recipes(
        tmp_path, '[ts]\nconfigs = ["ts.toml"]\n', {"ts.toml": (QUICK / "ts.toml").read_text()}
    )
    proc = run_cli("reproduce", "--recipes", str(recipes), "-o", str(out))
    _one_error(proc, "is a file|not a directory")
    assert out.read_text() == "x"


@pytest.mark.parametrize(
    ("manifest", "pattern"),
    [
        ('[tss]\nconfigs = ["ts.toml"]\n', "unknown experiment"),
        ('[ts]\nconfigs = ["nope.toml"]\n', "does not exist"),
        ('[ts]\nconfigs = ["ts.toml"]\nwindow = [1, 2]\n', "unknown key 'window'"),
        ('[ts]\nconfigs = ["ts.toml"]\nwindow_t = [5000, 6000]\n', "contains no measurement"),
        ("[ts\n", "not valid TOML"),
    ],
)
def test_bad_manifest(tmp_path, manifest, pattern):
    recipes = _recipes(tmp_path, manifest, {"ts.toml": (QUICK / "ts.toml").read_text()})
    out = tmp_path / "out"
    proc = run_cli("reproduce", "--recipes", str(recipes), "-o", str(out))
    _one_error(proc, pattern)
    assert not out.exists()


def test_unknown_experiment_in_only(tmp_path):
    recipes = _recipes(
        tmp_path, '[ts]\nconfigs = ["ts.toml"]\n', {"ts.toml": (QUICK / "ts.toml").read_text()}
    )
    out = tmp_path / "out"
    proc = run_cli("reproduce", "--recipes", str(recipes), "-o", str(out), "--only", "lattice")
    _one_error(proc, "no such experiment")
    assert not out.exists()


def test_results_of_another_config_are_not_touched(tmp_path):
    text = (QUICK / "ts-eps.toml").read_text()
    recipes = _recipes(tmp_path, '[ts]\nconfigs = ["ts-eps.toml"]\n', {"ts-eps.toml": text})
    other = tmp_path / "other.toml"
    other.write_text(
        text.replace("replicas = 1000", "replicas = 4").replace("steps = 1000", "steps = 20"),
    )
    out = tmp_path / "out"
    out.mkdir()
    proc = run_cli("run", str(other), "-o", str(out / "ts-eps.h5"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    before = sorted(p.name for p in out.iterdir())
    proc = run_cli("reproduce", "--recipes", str(recipes), "-o", str(out))
    _one_error(proc, "different config")
    assert sorted(p.name for p in out.iterdir()) == before


UPDATE_README = ROOT / "scripts" / "update_readme_results.py"


def _readme_section(rep: dict) -> str:
    """scripts/update_readme_results.py's section() (a script, not a module of the package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("update_readme_results", UPDATE_README)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.section(rep, "results/reproduce-quick"))


def test_readme_script_without_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n")
    (tmp_path / "reproduction.json").write_text(json.dumps({"figures": []}))
    proc = subprocess.run(
        [sys.executable, str(UPDATE_README), str(tmp_path), "--readme", str(readme)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "results:start" in proc.stderr and "Traceback" not in proc.stderr
    assert readme.read_text() == "# no markers\n"


# -- a reduced reproduction -------------------------------------------------------------------------
REDUCED = {
    # experiment: (configs, replicas, the manifest's window keys)
    "lattice": (
        ["grbm-a0.02-b16.toml", "grbm-a0.04-b32.toml", "grbm-a0.08-b64.toml"],
        96,
        "window_t = [100, 200]",
    ),
    "cluster8": (["cluster8.toml"], 96, "window_t = [20, 70]"),
    "ts": (["ts.toml", "ts-eps.toml"], 300, "window_t = [50, 100]"),
    "init": (["init-linear.toml"], 200, ""),
    "long": (["grbm-long.toml"], 48, "window_t = [990, 1000]\nseries_t = [100, 1000]"),
}


@pytest.fixture(scope="module")
def reduced(tmp_path_factory):
    base = tmp_path_factory.mktemp("repro")
    folder = base / "recipes" / "quick"
    folder.mkdir(parents=True)
    manifest = []
    for exp, (configs, replicas, window) in REDUCED.items():
        for name in configs:
            text = (QUICK / name).read_text()
            text = re.sub(r"(?m)^replicas = \d+", f"replicas = {replicas}", text)
            text = re.sub(r"(?m)^block_size = \d+", f"block_size = {max(replicas // 4, 1)}", text)
            # two noise strengths, each with its own data set
            text = text.replace("[0.05, 0.06, 0.07, 0.08, 0.09, 0.10]", "[0.05, 0.08]")
            text = text.replace('"train.data_set" = [0, 1, 2, 3, 4, 5]', '"train.data_set" = [0, 1]')
            (folder / name).write_text(text)
        manifest.append(f"[{exp}]\nconfigs = {json.dumps(configs)}\n{window}\n")
    (folder / "reproduce.toml").write_text("\n".join(manifest))
    (base / "README.md").write_text("# x\n\n<!-- results:start -->\nold\n<!-- results:end -->\n\nend\n")
    out = base / "out"
    proc = run_cli(
        "reproduce", "--recipes", str(base / "recipes"), "-o", str(out), "--ranks", "2", timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    readme = subprocess.run(
        [sys.executable, str(UPDATE_README), str(out), "--readme", str(base / "README.md")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert readme.returncode == 0, readme.stderr
    return base, out, proc, json.loads((out / "reproduction.json").read_text())


def _row(summary, rid):
    return next(r for r in summary["rows"] if r["id"] == rid)


def test_reduced_reproduction_writes_everything(reduced):
    base, out, proc, summary = reduced
    for f in ("reproduction.json", "reproduction.html", "repro_spacings.png", "repro_scaling.png"):
        assert (out / f).is_file(), f
    assert "mpi-dbm:" in proc.stdout and "pass" in proc.stdout
    html = (out / "reproduction.html").read_text()
    assert all(f"<td>{r['id']}</td>" in html for r in summary["rows"])
    readme = (base / "README.md").read_text()
    assert readme.startswith("# x\n") and readme.endswith("\n\nend\n") and "old" not in readme
    assert "| 7a |" in readme and (base / "docs" / "figures" / "repro_spacings.png").is_file()
    # experiments that were not run give rows without parts, marked as such
    assert _row(summary, "13a")["status"] == "not run" and "linear_one" in _row(summary, "13a")["missing"]


@pytest.mark.parametrize(
    "rid",
    ["1a", "1c", "2a", "4a", "4b", "4c", "5a", "5b", "6a", "6b", "7a", "7b", "10", "11", "12", "14"],
)
def test_resolved_checks_pass(reduced, rid):
    row = _row(reduced[3], rid)
    assert row["status"] == PASS, json.dumps(row, indent=1, ensure_ascii=False)


def test_no_check_fails_at_reduced_size(reduced):
    failing = [(r["id"], r["measured"]) for r in reduced[3]["rows"] if r["status"] == FAIL]
    # 9a (kappa = 4) and 9b: the persistent chains' lag shifts the means (docs/physics-notes.md)
    assert not failing or set(dict(failing)) <= {"9a", "9b"}, failing
    assert _row(reduced[3], "2b")["status"] == "not run"  # not the authors' grid


def test_second_run_resumes_and_no_run_reanalyses(reduced, tmp_path):
    base, out, _, _ = reduced
    proc = run_cli("reproduce", "--recipes", str(base / "recipes"), "-o", str(out), "--no-figures")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("done already") == sum(len(c) for c, _, _ in REDUCED.values())
    empty = tmp_path / "empty"
    proc = run_cli("reproduce", "--recipes", str(base / "recipes"), "-o", str(empty), "--no-run")
    _one_error(proc, "missing or incomplete")
    shutil.rmtree(empty, ignore_errors=True)
