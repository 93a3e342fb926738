"""Rendered job scripts run end to end under a stand-in scheduler (fakesched.py).

A SLURM and a PBS script are submitted with the fake `sbatch`/`qsub`; the fake
`srun` maps the launcher to local `mpiexec`. A simulated wall-time warning
(SIGUSR1 to the batch shell, as `--signal=B:USR1@GRACE` sends it; for PBS also a
short Torque PBS_WALLTIME, which the script turns into `run --time-limit`) stops
the run; the script requeues or resubmits itself; the final file's /spectra,
/scalars and /tasks equal an uninterrupted run's bit for bit. Job arrays: every
chunk runs, the last one merges, and the merged file equals a single run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import MPI_ENV, PYTHON, TINY, run_cli
from fakesched import Queue, Run

HERE = Path(__file__).resolve().parent
VENV_BIN = Path(PYTHON).parent
MPI_DBM = VENV_BIN / "mpi-dbm"

# 4 points x 8 replicas in 16 units of 2: 3-4 s of training on 2 ranks (more under load), so a
# stop after ~1 s of training leaves work for the next job.
LONG = """
[sweep]
name = "long"
seed = 3
replicas = 8
points = [[0.04, 8], [0.02, 8], [0.06, 16], [0.03, 4]]
block_size = 2
[model]
kind = "grbm"
n_visible = 6
n_hidden = 6
[train]
steps = 12000
measure_every = 2000
"""

WRAPPERS = {
    # the scheduler's commands
    "sbatch": '#!/bin/bash\nexec "{python}" "{here}/fakesched.py" sbatch "$@"\n',
    "qsub": '#!/bin/bash\nexec "{python}" "{here}/fakesched.py" qsub "$@"\n',
    "scontrol": '#!/bin/bash\nexec "{python}" "{here}/fakesched.py" scontrol "$@"\n',
    # srun: the job step on this machine; Open MPI's SLURM components would want a real allocation
    "srun": """#!/bin/bash
n=${{SLURM_NTASKS:?fake srun: not inside a job}}
while [ $# -gt 0 ]; do
  case "$1" in
    --ntasks=*) n=${{1#*=}} ;;
    --nodes=* | --kill-on-bad-exit=* | --cpus-per-task=*) ;;
    -*) echo "fake srun: unsupported option $1" >&2; exit 2 ;;
    *) break ;;
  esac
  shift
done
export OMPI_MCA_ras=^slurm OMPI_MCA_plm=^slurm OMPI_MCA_ess=^slurm OMPI_MCA_schizo=^slurm
exec mpiexec -n "$n" "$@"
""",
    # mpi-dbm itself, except `analyze` (another issue): recorded, or missing with FAKE_ANALYZE=missing
    "mpi-dbm": """#!/bin/bash
if [ "${{1:-}}" = analyze ]; then
  if [ "${{FAKE_ANALYZE:-}}" = missing ]; then echo "Error: No such command 'analyze'." >&2; exit 2; fi
  [ "${{2:-}}" = --help ] && exit 0
  echo "$*" >> "$FAKESCHED_DIR/analyze.log"
  exit 0
fi
exec "{mpi_dbm}" "$@"
""",
}


@dataclass
class Cluster:
    work: Path  # the submit directory
    state: Path
    env: dict[str, str]
    queue: Queue
    venv: Path  # a stand-in venv: its `activate` puts the stand-ins on PATH

    def render(self, *args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(MPI_DBM), "jobscript", *args, "--venv", str(self.venv), "--no-estimate"],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
        return proc

    def submit(self, *command: str) -> str:
        proc = subprocess.run(command, cwd=self.work, env=self.env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    def analyze_calls(self) -> list[str]:
        log = self.state / "analyze.log"
        return log.read_text().splitlines() if log.exists() else []


@pytest.fixture
def cluster(tmp_path):
    bindir, state, work, venv = (tmp_path / d for d in ("bin", "sched", "work", "venv"))
    for d in (bindir, state, work, venv / "bin"):
        d.mkdir(parents=True)
    for name, text in WRAPPERS.items():
        path = (venv / "bin" if name == "mpi-dbm" else bindir) / name
        path.write_text(text.format(python=PYTHON, here=HERE, mpi_dbm=MPI_DBM))
        path.chmod(0o755)
    # the job's login environment has the scheduler's commands but not mpi-dbm: the user
    # section of the script activates this stand-in venv, which puts the mpi-dbm wrapper on PATH
    (venv / "bin" / "activate").write_text(f'export PATH="{venv / "bin"}:$PATH"\n')
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != VENV_BIN)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "PBS_", "VIRTUAL_ENV"))},
        **MPI_ENV,
        "PATH": f"{bindir}{os.pathsep}{path}",
        "FAKESCHED_DIR": str(state),
    }
    return Cluster(work, state, env, Queue(state, env), venv)


def contents(path: Path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        return {
            f"{group}/{name}": f[group][name][...]
            for group in ("spectra", "scalars", "tasks")
            for name in f[group]
        }


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run of LONG and one of TINY (any rank count gives the same bits)."""
    d = tmp_path_factory.mktemp("ref")
    out = {}
    for name, text in (("long", LONG), ("tiny", TINY.format(schedule="dynamic"))):
        (d / f"{name}.toml").write_text(text)
        proc = run_cli("run", str(d / f"{name}.toml"), "-o", str(d / f"{name}.h5"), "--quiet", ranks=2)
        assert proc.returncode == 0, proc.stderr
        out[name] = contents(d / f"{name}.h5")
    return out


def finished_tasks(results: Path) -> int:
    """Tasks done or diverged in the results file (0 while it does not exist or is being created)."""
    if not results.exists():
        return 0
    try:
        with h5py.File(results, "r", locking=False) as f:
            return int((f["tasks/status"][...] != 0).sum())
    except (OSError, KeyError):
        return 0


def a_task_is_done(results: Path):
    """Signal once this job's run has finished a task (it is training, with work left): a
    condition, not a delay after start-up. Built when the job starts, so tasks of earlier jobs
    do not count."""
    before = finished_tasks(results)
    return lambda: finished_tasks(results) > before


def show(runs: list[Run]) -> str:
    return "\n".join(f"--- job {r.job_id}: exit {r.exit_code}\n{r.output}" for r in runs)


def pending(path: Path) -> int:
    with h5py.File(path, "r", locking=False) as f:
        return int((f["tasks/status"][...] == 0).sum())


def test_slurm_wall_time_signal_then_requeue_completes_the_sweep(cluster, reference):
    (cluster.work / "long.toml").write_text(LONG)
    cluster.render(
        "long.toml", "--scheduler", "slurm", "--nodes", "1", "--ranks-per-node", "2", "--time", "00:20:00",
        "-o", "long.sbatch",
    )  # fmt: skip
    job = cluster.submit("sbatch", "long.sbatch")
    assert job.startswith("Submitted batch job ")
    results = cluster.work / "long.h5"

    def plan(n: int, job: dict) -> dict:
        return {"usr1_when": a_task_is_done(results)} if n == 0 else {}

    runs = cluster.queue.run(plan)
    log = show(runs)
    assert [r.exit_code for r in runs] == [0, 0], log
    first, second = runs
    assert first.signalled and first.job_id == second.job_id, log  # the same job, requeued
    assert "received SIGUSR1: asking the run to stop cleanly" in first.output
    assert "stopped early (SIGUSR1)" in first.output
    assert "requeueing this job (requeue 1 of 4)" in first.output, log
    assert "SLURM_RESTART_COUNT" not in first.env and second.env["SLURM_RESTART_COUNT"] == "1"
    assert "took over the lock" not in second.output  # the clean stop released it
    assert "the run is complete: long.h5" in second.output, log
    assert_same(contents(cluster.work / "long.h5"), reference["long"])
    assert not (cluster.work / "long.h5.lock").exists()
    assert cluster.analyze_calls() == ["analyze long.h5 -o long-analysis"]
    # SLURM's output file of the job, appended to by the requeued run (--open-mode=append)
    assert (cluster.state / "out" / f"long-{first.job_id}.out").read_text().count("==== fake") == 2


def test_slurm_chain_is_bounded_and_a_resubmission_completes(cluster, reference):
    (cluster.work / "long.toml").write_text(LONG)
    cluster.render(
        "long.toml", "--scheduler", "slurm", "--nodes", "2", "--ranks-per-node", "1", "--time", "00:20:00",
        "--chain", "1", "--no-analyze", "-o", "long.sbatch",
    )  # fmt: skip
    text = (cluster.work / "long.sbatch").read_text()
    assert "#SBATCH --no-requeue" in text and "#SBATCH --requeue" not in text
    cluster.submit("sbatch", "long.sbatch")
    results = cluster.work / "long.h5"

    def plan(n: int, job: dict) -> dict:  # the wall time hits both jobs of the chain
        return {"usr1_when": a_task_is_done(results)}

    runs = cluster.queue.run(plan)
    log = show(runs)
    assert [r.exit_code for r in runs] == [0, 75], log
    first, second = runs
    assert second.job_id != first.job_id and first.signalled and second.signalled
    assert f"submitted follow-up job {second.job_id} (0 more allowed after it)" in first.output, log
    assert second.env["MPI_DBM_CHAIN_LEFT"] == "0" and second.env["MPI_DBM_PREVIOUS_JOB"] == str(first.job_id)
    assert "no automatic continuation is left: submit the script again" in second.output, log
    assert pending(cluster.work / "long.h5") > 0
    # the user submits the same script again: it continues where the chain stopped
    cluster.submit("sbatch", "long.sbatch")
    runs = cluster.queue.run()
    assert runs[-1].exit_code == 0, show(runs)
    assert_same(contents(cluster.work / "long.h5"), reference["long"])
    assert cluster.analyze_calls() == []


def test_pbs_time_limit_and_signal_then_chained_jobs_complete_the_sweep(cluster, reference):
    (cluster.work / "long.toml").write_text(LONG)
    cluster.render(
        "long.toml", "--scheduler", "pbs", "--nodes", "1", "--ranks-per-node", "2", "--time", "00:20:00",
        "--grace", "120", "--output-file", "out/long.h5", "-o", "long.pbs",
    )  # fmt: skip
    (cluster.work / "out").mkdir()
    job = cluster.submit("qsub", "long.pbs")
    assert job.endswith(".fake")
    results = cluster.work / "out" / "long.h5"

    def plan(n: int, job: dict) -> dict:
        if n == 0:  # a short wall time (Torque's PBS_WALLTIME): the run stops itself after ~1 s
            return {"env": {"PBS_WALLTIME": str(120 + 1)}}
        if n == 1:  # the warning signal some sites send: forwarded to mpiexec
            return {"usr1_when": a_task_is_done(results)}
        return {}

    runs = cluster.queue.run(plan)
    log = show(runs)
    assert [r.exit_code for r in runs] == [0, 0, 0], log
    assert "--time-limit 1\n" in runs[0].output and "stopped early (time limit)" in runs[0].output, log
    assert "-x PATH" in runs[0].output  # Open MPI: the environment named for the other nodes
    assert runs[1].signalled and "stopped early (SIGUSR1)" in runs[1].output, log
    assert f"submitted follow-up job {runs[1].job_id}.fake (3 more allowed after it)" in runs[0].output, log
    assert runs[2].env["MPI_DBM_CHAIN_LEFT"] == "2"
    assert runs[2].env["MPI_DBM_PREVIOUS_JOB"] == f"{runs[1].job_id}.fake"
    assert "the run is complete: out/long.h5" in runs[2].output, log
    assert_same(contents(cluster.work / "out" / "long.h5"), reference["long"])
    assert cluster.analyze_calls() == ["analyze out/long.h5 -o out/long-analysis"]


@pytest.mark.parametrize("scheduler", ["slurm", "pbs"])
def test_array_chunks_run_and_the_last_one_merges(cluster, reference, scheduler):
    (cluster.work / "tiny.toml").write_text(TINY.format(schedule="dynamic"))
    script = f"tiny.{scheduler}"
    cluster.render(
        "tiny.toml", "--scheduler", scheduler, "--nodes", "1", "--ranks-per-node", "2",
        "--time", "00:20:00", "--array", "3", "-o", script,
    )  # fmt: skip
    cluster.env["FAKE_ANALYZE"] = "missing" if scheduler == "pbs" else ""
    cluster.submit("sbatch" if scheduler == "slurm" else "qsub", script)
    runs = cluster.queue.run()
    log = show(runs)
    assert [r.exit_code for r in runs] == [0, 0, 0], log
    parts = [cluster.work / f"tiny.part{i}of3.h5" for i in (1, 2, 3)]
    assert all(p.exists() and (p.parent / f"{p.name}.complete").exists() for p in parts)
    assert "chunk 1 of 3 is complete; chunk 2 is not yet" in runs[0].output, log
    assert "all 3 chunks are complete: merging them into tiny.h5" in runs[2].output, log
    assert "18 of 18 tasks finished, 0 pending" in runs[2].output
    assert_same(contents(cluster.work / "tiny.h5"), reference["tiny"])
    assert not (cluster.work / "tiny.h5.merging").exists()
    if scheduler == "pbs":  # `mpi-dbm analyze` not available: skipped with a message
        assert "has no 'analyze' command: skipping the analysis" in runs[2].output
        assert cluster.analyze_calls() == []
    else:
        assert cluster.analyze_calls() == ["analyze tiny.h5 -o tiny-analysis"]
    # the merge also equals `mpi-dbm merge` of the chunk files by hand
    proc = run_cli("merge", str(cluster.work / "by-hand.h5"), *map(str, parts))
    assert proc.returncode == 0, proc.stderr
    assert_same(contents(cluster.work / "by-hand.h5"), reference["tiny"])
    # submitting the array again: every chunk is already complete, nothing is merged twice
    cluster.submit("sbatch" if scheduler == "slurm" else "qsub", script)
    again = cluster.queue.run()[3:]
    assert [r.exit_code for r in again] == [0, 0, 0], show(again)
    assert "already merged" in again[2].output, show(again)


def test_refused_run_is_not_resubmitted(cluster, tmp_path):
    """Exit code 2 (here: the results file is locked by a live run) ends the job without a requeue."""
    (cluster.work / "tiny.toml").write_text(TINY.format(schedule="dynamic"))
    cluster.render(
        "tiny.toml", "--scheduler", "slurm", "--nodes", "1", "--ranks-per-node", "1", "--time", "00:20:00",
        "-o", "tiny.sbatch",
    )  # fmt: skip
    owner = {"host": socket.gethostname(), "pid": os.getpid(), "job": "SLURM_JOB_ID=1", "started": "x"}
    (cluster.work / "tiny.h5.lock").write_text(json.dumps(owner))
    cluster.submit("sbatch", "tiny.sbatch")
    runs = cluster.queue.run()
    assert [r.exit_code for r in runs] == [2], show(runs)
    assert "is in use by another run" in runs[0].output
    assert "not resubmitting" in runs[0].output and "requeueing" not in runs[0].output


def test_a_cancel_stops_the_run_cleanly_without_resubmission(cluster):
    """SIGTERM first (scancel, qdel) is not the wall-time warning: stop, but do not requeue."""
    (cluster.work / "long.toml").write_text(LONG)
    cluster.render(
        "long.toml", "--scheduler", "slurm", "--nodes", "1", "--ranks-per-node", "2", "--time", "00:20:00",
        "-o", "long.sbatch",
    )  # fmt: skip
    cluster.submit("sbatch", "long.sbatch")
    results = cluster.work / "long.h5"
    runs = cluster.queue.run(lambda n, job: {"usr1_when": a_task_is_done(results), "signal": signal.SIGTERM})
    assert [r.exit_code for r in runs] == [75], show(runs)
    assert "received SIGTERM" in runs[0].output and "stopped early (SIGUSR1)" in runs[0].output
    assert "not resubmitting" in runs[0].output and "requeueing" not in runs[0].output
    assert pending(results) > 0 and not (cluster.work / "long.h5.lock").exists()


def test_script_outside_a_job_or_without_mpi_dbm_says_what_to_do(cluster):
    (cluster.work / "tiny.toml").write_text(TINY.format(schedule="dynamic"))
    cluster.render(
        "tiny.toml", "--scheduler", "pbs", "--nodes", "1", "--ranks-per-node", "1", "--time", "00:20:00",
        "-o", "tiny.pbs",
    )  # fmt: skip
    proc = subprocess.run(
        ["bash", "tiny.pbs"], cwd=cluster.work, env=cluster.env, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "not running as a PBS job: submit this script with qsub tiny.pbs" in proc.stderr
    shutil.rmtree(cluster.venv)  # the user section's venv is gone: mpi-dbm is not on PATH
    env = {**cluster.env, "PBS_JOBID": "1.x"}
    proc = subprocess.run(["bash", "tiny.pbs"], cwd=cluster.work, env=env, capture_output=True, text=True)
    assert proc.returncode == 2 and "mpi-dbm is not on PATH: edit the user section" in proc.stderr
    assert not (cluster.work / "tiny.h5").exists()
