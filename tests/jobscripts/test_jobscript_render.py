"""`mpi-dbm jobscript`: rendered scripts are valid shell (bash -n, shellcheck) for both
schedulers and every option; directives, cost estimate and warnings; bad options give
one message, exit code 2 and no file; the examples in jobscripts/examples are current."""

from __future__ import annotations

import math
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import PYTHON, TINY, run_cli

from mpi_dbm import config as config_mod
from mpi_dbm import jobscript as js
from mpi_dbm.cost import CostEstimate
from mpi_dbm.errors import ConfigError
from mpi_dbm.sweep.grid import work_units
from mpi_dbm.sweep.variants import VariantModels

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "jobscripts" / "examples"
SHELLCHECK = shutil.which("shellcheck")
CFG = config_mod.parse_text(TINY.format(schedule="dynamic"))  # 3 points x 6 replicas, 9 units


def estimate(core_seconds: float, cfg=CFG) -> CostEstimate:
    return CostEstimate(
        n_points=len(cfg.sweep.points),
        n_tasks=cfg.n_tasks,
        n_units=9,
        replica_steps=cfg.n_tasks * cfg.train.steps,
        core_seconds=core_seconds,
        file_bytes=1000,
        steps_timed=320,
    )


def options(scheduler: str = "slurm", **kw) -> js.JobOptions:
    base = {
        "config_path": "tiny.toml",
        "scheduler": scheduler,
        "nodes": 1,
        "ranks_per_node": 4,
        "walltime": js.parse_walltime("01:00:00"),
    }
    return js.JobOptions(**{**base, **kw})


COMBOS = {
    "plain": {},
    "account-partition": {"account": "proj42", "partition": "short,long", "job_name": "e1_scan"},
    "array": {"array": 3, "ranks_per_node": 3},
    "array-no-requeue": {"array": 3, "ranks_per_node": 3, "requeue": 0},
    "chain": {"chain": 2},
    "chain-0": {"chain": 0},
    "requeue-0": {"requeue": 0},
    "paths": {
        "config_path": "my sweeps/e1 (v2).toml",
        "results": "out dir/e1's.h5",
        "script_path": "jobs/e1 job.sh",
        "venv": "/opt/my venv",
        "analyze": False,
    },
    "long-wall-time": {"walltime": js.parse_walltime("2-12:00:00"), "grace": 900, "nodes": 2},
    "warnings": {"walltime": js.parse_walltime("00:02:00"), "grace": 30, "nodes": 8, "_cost": 1e7},
}


def render_combo(scheduler: str, combo: str) -> js.Rendered:
    kw = dict(COMBOS[combo])
    cost = kw.pop("_cost", 3600.0)
    if scheduler == "pbs" and "requeue" in kw:  # PBS has no requeue: the chain instead
        requeue = kw.pop("requeue")
        kw["chain"] = None if kw.get("array") else requeue
    return js.render(CFG, options(scheduler, **kw), estimate(cost), command="mpi-dbm jobscript tiny.toml ...")


@pytest.mark.parametrize("combo", sorted(COMBOS))
@pytest.mark.parametrize("scheduler", ["slurm", "pbs"])
def test_rendered_scripts_pass_bash_n_and_shellcheck(tmp_path, scheduler, combo):
    rendered = render_combo(scheduler, combo)
    path = tmp_path / f"job.{scheduler}"
    path.write_text(rendered.text)
    assert "{{" not in rendered.text
    proc = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    if SHELLCHECK is None:
        pytest.skip("shellcheck is not installed")
    proc = subprocess.run([SHELLCHECK, "--shell=bash", str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    assert bool(rendered.warnings) == (combo == "warnings")


def common_part(text: str) -> str:
    start = text.index("# ---- common part")
    return text[start : text.index("# ---- end of common part")]


def test_the_common_part_is_the_same_in_both_templates():
    slurm = (js.template_dir() / "slurm.sbatch").read_text()
    pbs = (js.template_dir() / "pbs.sh").read_text()
    assert common_part(slurm) == common_part(pbs)
    assert len(common_part(slurm).splitlines()) > 100


def directives(text: str, prefix: str) -> list[str]:
    return [line[len(prefix) + 1 :] for line in text.splitlines() if line.startswith(prefix + " ")]


def test_slurm_directives():
    text = render_combo("slurm", "account-partition").text
    assert directives(text, "#SBATCH") == [
        "--job-name=e1_scan",
        "--nodes=1",
        "--ntasks-per-node=4",
        "--cpus-per-task=1",
        "--time=01:00:00",
        "--account=proj42",
        "--partition=short,long",
        "--signal=B:USR1@300",
        "--requeue",
        "--open-mode=append",
        "--output=e1_scan-%j.out",
    ]
    assert "REQUEUE=4 " in text and "CHAIN=${MPI_DBM_CHAIN_LEFT:-0}" in text
    text = render_combo("slurm", "array").text
    assert "--array=1-3" in directives(text, "#SBATCH") and "--output=tiny-%A_%a.out" in text
    text = render_combo("slurm", "chain").text
    assert "--no-requeue" in directives(text, "#SBATCH") and "CHAIN=${MPI_DBM_CHAIN_LEFT:-2}" in text
    text = render_combo("slurm", "long-wall-time").text
    assert "--time=2-12:00:00" in directives(text, "#SBATCH")
    assert "--signal=B:USR1@900" in directives(text, "#SBATCH")
    # the directives come first: nothing but comments before them
    lines = text.splitlines()
    assert lines[0] == "#!/bin/bash" and lines[1].startswith("#SBATCH ")


def test_pbs_directives():
    text = render_combo("pbs", "account-partition").text
    assert directives(text, "#PBS") == [
        "-N e1_scan",
        "-l select=1:ncpus=4:mpiprocs=4",
        "-l walltime=01:00:00",
        "-A proj42",
        "-q short,long",
        "-j oe",
        "-r y",
    ]
    assert "CHAIN=${MPI_DBM_CHAIN_LEFT:-4}" in text and "NRANKS=4" in text
    assert 'cd "${PBS_O_WORKDIR:-.}"' in text
    text = render_combo("pbs", "array").text
    assert "-J 1-3" in directives(text, "#PBS") and "CHAIN=${MPI_DBM_CHAIN_LEFT:-0}" in text
    text = render_combo("pbs", "long-wall-time").text
    assert "-l walltime=60:00:00" in directives(text, "#PBS") and "-l select=2:ncpus=4:mpiprocs=4" in text
    assert "WALLTIME=${PBS_WALLTIME:-216000}" in text and "GRACE=900 " in text


def test_the_script_sets_one_thread_per_rank_and_hdf5_locking_off():
    for scheduler in ("slurm", "pbs"):
        text = render_combo(scheduler, "paths").text
        assert "export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1" in text
        assert "export HDF5_USE_FILE_LOCKING=FALSE" in text
        assert "source '/opt/my venv/bin/activate'" in text
        user = text[
            text.index("user section: your site") : text.index("# ============================ end of user")
        ]
        assert "module load" in user
        assert "CONFIG='my sweeps/e1 (v2).toml'" in text and "ANALYZE=0" in text
        assert """RESULTS='out dir/e1'"'"'s.h5'""" in text


def test_cost_estimate_in_the_header():
    r = js.render(CFG, options(ranks_per_node=3), estimate(1800.0))
    header = "\n".join(line for line in r.text.splitlines() if line.startswith("# "))
    assert "0.5 core-hours" in header, header
    assert "9 work units" in header and "jobs needed: 1, allowed: 5" in header
    # 9 units over 3 ranks; TINY's units cost 1 : 2 : 4 (|B| 4, 8, 16): LPT gives each rank 7/21
    assert r.timing is not None and r.timing.effective_ranks == 3
    assert r.timing.seconds_needed == pytest.approx(600)
    assert r.warnings == []
    no = js.render(CFG, options(), None)
    assert "cost estimate: not measured" in no.text and no.timing is None


def test_timing_counts_jobs_idle_ranks_and_units_longer_than_a_job():
    hour = 3600.0
    # 3.2 core-hours on 1 rank, 1 h jobs: 3600 - 300 s grace - 30 s start-up = 3270 s usable; a
    # stopped job loses up to its longest unit (one of |B| = 16) to retraining
    costs = [VariantModels(CFG).cost(u) for u in work_units(CFG)]
    longest = 3.2 * hour * max(costs) / sum(costs)
    t = js.timing(CFG, options(ranks_per_node=1), estimate(3.2 * hour))
    assert t.seconds_needed == pytest.approx(3.2 * hour)
    assert t.usable_per_job == hour - 330
    assert t.longest_unit == pytest.approx(longest)
    assert t.jobs_needed == 1 + math.ceil((3.2 * hour - 3270) / (3270 - longest)) > 5
    warns = js.warnings_for(CFG, options(ranks_per_node=1), t)
    assert len(warns) == 1 and "the sweep needs ~03:12:00" in warns[0] and "allows 5" in warns[0]
    assert "raise --time, --nodes, --requeue or --array" in warns[0]
    enough = options(ranks_per_node=1, requeue=t.jobs_needed - 1)
    assert js.warnings_for(CFG, enough, js.timing(CFG, enough, estimate(3.2 * hour))) == []
    # more ranks than units: the surplus idles, and the time is the longest rank's
    t = js.timing(CFG, options(nodes=4, ranks_per_node=8), estimate(9 * hour))
    assert t.effective_ranks == 9 and t.seconds_needed > hour
    warns = js.warnings_for(CFG, options(nodes=4, ranks_per_node=8), t)
    assert any("32 ranks but the sweep has 9 work units: 23 rank(s) will idle" in w for w in warns)
    # a unit longer than a job can never finish
    t = js.timing(CFG, options(ranks_per_node=9), estimate(100 * hour))
    assert t.jobs_needed is None
    assert "can never finish" in js.warnings_for(CFG, options(ranks_per_node=9), t)[0]
    # an array: the largest chunk counts
    o = options(array=3, ranks_per_node=3)
    t = js.timing(CFG, o, estimate(9 * hour))
    assert t.units_per_job == 3 and t.jobs_allowed == 5
    with pytest.raises(ConfigError, match="only 9 work units"):
        js.warnings_for(CFG, replace(o, array=10), t)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("12:00:00", 43200), ("1:00:00", 3600), ("48:00:00", 172800), ("2-00:30:00", 174600), ("0:01:30", 90)],
)
def test_parse_walltime(text, seconds):
    assert js.parse_walltime(text) == seconds
    assert js.parse_walltime(js.format_walltime(seconds)) == seconds


@pytest.mark.parametrize(
    "text", ["12h", "12:00", "1:60:00", "1:00:60", "1-24:00:00", "0:00:00", "", "-1:00:00"]
)
def test_parse_walltime_rejects(text):
    with pytest.raises(ConfigError, match="--time"):
        js.parse_walltime(text)


# -- the command line ---------------------------------------------------------------------
GOOD = [
    "--scheduler",
    "slurm",
    "--nodes",
    "1",
    "--ranks-per-node",
    "2",
    "--time",
    "00:30:00",
    "--no-estimate",
]


def with_option(args: list[str], option: str, value: str | None) -> list[str]:
    out = list(args)
    if option in out:
        i = out.index(option)
        del out[i : i + 2]
    return out + ([option, value] if value is not None else [])


BAD = {
    "nodes 0": (with_option(GOOD, "--nodes", "0"), "--nodes: must be >= 1, got 0"),
    "nodes not a number": (with_option(GOOD, "--nodes", "two"), "--nodes: must be a whole number, got 'two'"),
    "ranks 0": (with_option(GOOD, "--ranks-per-node", "0"), "--ranks-per-node: must be >= 1"),
    "malformed time": (with_option(GOOD, "--time", "12h"), "--time: '12h': use HH:MM:SS or D-HH:MM:SS"),
    "minutes 60": (with_option(GOOD, "--time", "1:60:00"), "--time: '1:60:00': use HH:MM:SS"),
    "unknown scheduler": (
        with_option(GOOD, "--scheduler", "lsf"),
        "--scheduler: must be slurm or pbs, got 'lsf'",
    ),
    "no scheduler": (with_option(GOOD, "--scheduler", None), "--scheduler is required"),
    "no time": (with_option(GOOD, "--time", None), "--time is required"),
    "array with chain": ([*GOOD, "--array", "3", "--chain", "2"], "--array and --chain exclude each other"),
    "array of 1": ([*GOOD, "--array", "1"], "--array: must be >= 2, got 1"),
    "array beyond units": ([*GOOD, "--array", "10"], "only 9 work units"),
    "chain with requeue": ([*GOOD, "--chain", "2", "--requeue", "1"], "exclude each other"),
    "requeue on pbs": (
        [*with_option(GOOD, "--scheduler", "pbs"), "--requeue", "2"],
        "PBS jobs cannot requeue themselves",
    ),
    "grace too long": (with_option(GOOD, "--grace", "1790"), "leaves less than 60 s to run"),
    "bad account": ([*GOOD, "--account", "my project"], "--account: 'my project' has characters"),
    "results not h5": ([*GOOD, "--output-file", "out.hdf"], "must end in .h5"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_options_give_one_message_and_write_nothing(tmp_path, case):
    (tmp_path / "tiny.toml").write_text(TINY.format(schedule="dynamic"))
    before = sorted(tmp_path.iterdir())
    args, message = BAD[case]
    proc = run_cli("jobscript", "tiny.toml", *args, "-o", "job.sh", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("mpi-dbm: error: "), proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout and proc.stdout == ""
    assert sorted(tmp_path.iterdir()) == before


def test_missing_config_and_missing_directory_write_nothing(tmp_path):
    proc = run_cli("jobscript", "nope.toml", *GOOD, "-o", "job.sh", cwd=tmp_path)
    assert (
        proc.returncode == 2
        and proc.stderr.strip() == "mpi-dbm: error: config file 'nope.toml' does not exist"
    )
    (tmp_path / "tiny.toml").write_text(TINY.format(schedule="dynamic"))
    proc = run_cli("jobscript", "tiny.toml", *GOOD, "-o", "jobs/job.sh", cwd=tmp_path)
    assert proc.returncode == 2 and "output directory 'jobs' does not exist" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]


def test_an_existing_script_is_kept_unless_force(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY.format(schedule="dynamic"))
    (tmp_path / "job.sh").write_text("my edits")
    proc = run_cli("jobscript", "tiny.toml", *GOOD, "-o", "job.sh", cwd=tmp_path)
    assert proc.returncode == 2 and "'job.sh' exists; pass --force" in proc.stderr
    assert (tmp_path / "job.sh").read_text() == "my edits"
    proc = run_cli("jobscript", "tiny.toml", *GOOD, "-o", "job.sh", "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "job.sh").read_text().startswith("#!/bin/bash\n#SBATCH")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["job.sh", "tiny.toml"]  # no temporary left


def test_cli_writes_an_executable_script_with_the_measured_estimate(tmp_path):
    (tmp_path / "tiny.toml").write_text(TINY.format(schedule="dynamic"))
    args = [
        "--scheduler",
        "pbs",
        "--nodes",
        "1",
        "--ranks-per-node",
        "2",
        "--time",
        "00:30:00",
        "--account",
        "p1",
    ]
    proc = run_cli("jobscript", "tiny.toml", *args, "-o", "job.pbs", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert "mpi-dbm: wrote job.pbs (pbs, 1 x 2 ranks, 00:30:00; estimated" in proc.stdout
    assert "1 job(s) needed); submit it from this directory with: qsub job.pbs" in proc.stdout
    script = tmp_path / "job.pbs"
    assert os.access(script, os.X_OK)
    text = script.read_text()
    assert f"# rendered by: mpi-dbm jobscript tiny.toml {shlex.join(args)} -o job.pbs" in text
    assert re.search(r"# cost estimate \(timed on .*\): [0-9.e-]+ core-hours", text)
    assert f"source {Path(PYTHON).parent.parent}/bin/activate" in text  # the venv running mpi-dbm
    # to stdout without -o, with the warnings on stderr
    wide = with_option(with_option(GOOD[:-1], "--nodes", "4"), "--ranks-per-node", "8")
    proc = run_cli("jobscript", "tiny.toml", *wide, "--requeue", "0", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("#!/bin/bash\n#SBATCH --job-name=tiny\n")
    assert "mpi-dbm: warning: 4 x 8 = 32 ranks but the sweep has 9 work units" in proc.stderr
    assert "# WARNING: 4 x 8 = 32 ranks" in proc.stdout
    assert "an interrupted job (exit 75) is not continued automatically" in proc.stdout


def test_help_shows_the_options():
    proc = run_cli("jobscript", "--help")
    assert proc.returncode == 0
    for option in ("--scheduler", "--nodes", "--ranks-per-node", "--time", "--array", "--chain", "--requeue"):
        assert option in proc.stdout
    assert "jobscript" in run_cli("--help").stdout


# -- the examples -------------------------------------------------------------------------
def example_scripts() -> list[Path]:
    return sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".sbatch", ".sh"))


def body(text: str) -> list[str]:
    """All but the header comments, which hold the machine-dependent estimate."""
    return [line for line in text.splitlines() if not line.startswith("# ") and line != "#"]


@pytest.mark.parametrize("script", example_scripts(), ids=lambda p: p.name)
def test_examples_are_current_and_pass_shellcheck(script, tmp_path):
    text = script.read_text()
    command = next(line for line in text.splitlines() if line.startswith("# rendered by: mpi-dbm jobscript "))
    args = shlex.split(command.removeprefix("# rendered by: mpi-dbm "))
    i = args.index("-o")
    name = str(script.relative_to(ROOT))
    assert args[i + 1] == name
    args[i + 1] = str(tmp_path / script.name)
    proc = run_cli(*args, "--no-estimate", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    fresh = (tmp_path / script.name).read_text().replace(str(tmp_path / script.name), name)
    assert body(fresh) == body(text), f"{script.name} is out of date: render it again with\n{command}"
    assert "cost estimate (timed on" in text
    proc = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    if SHELLCHECK:
        proc = subprocess.run([SHELLCHECK, str(script)], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout


def test_example_configs_are_the_papers_sweeps():
    e1 = config_mod.load(EXAMPLES / "e1-alpha-scan.toml")
    assert e1.sweep.points == tuple((lr, 16) for lr in (0.01, 0.02, 0.04, 0.06, 0.08, 0.1))
    e2 = config_mod.load(EXAMPLES / "e2-batch-scan.toml")
    assert e2.sweep.points == tuple((0.1, bs) for bs in (4, 8, 16, 32, 64))
    for cfg in (e1, e2):
        assert cfg.sweep.replicas == 7500
        assert (cfg.train.steps, cfg.train.measure_every) == (100_000, 20_000)
    assert len(example_scripts()) >= 4
