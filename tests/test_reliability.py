"""Reliability with real processes and real signals under mpiexec (docs/reliability.md).

Kill -9 at several moments then --resume gives the same bits as an uninterrupted run;
SIGUSR1/SIGTERM stop cleanly (exit 75) and resume completes; a failing rank ends the
job promptly with its rank in the message; a second run on a busy file is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import MPI_ENV, MPIEXEC, PYTHON, run_cli

LONG = """
[sweep]
name = "long"
seed = 3
replicas = 8
points = [[0.04, 8], [0.02, 8], [0.06, 16], [0.03, 4]]
block_size = 2
schedule = "{schedule}"
[model]
kind = "grbm"
n_visible = 6
n_hidden = 6
[train]
steps = 6000
measure_every = 1000
"""


def write_config(path, schedule="dynamic"):
    path.write_text(LONG.format(schedule=schedule))
    return path


def start(*args: str, ranks: int = 2, env: dict | None = None) -> subprocess.Popen:
    cmd = [MPIEXEC, "-n", str(ranks), PYTHON, "-m", "mpi_dbm", *args]
    return subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **MPI_ENV, **(env or {})},
        start_new_session=True,
    )


def rank_pids(proc: subprocess.Popen) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True, timeout=30).stdout
    return [int(p) for p in out.split()]


def catches_stop_signals(pid: int, program: bytes = b"") -> bool:
    """True once process `pid` runs `program` (its command line contains it) and has handlers
    for SIGTERM, SIGUSR1 and SIGUSR2 (the SigCgt mask of /proc/PID/status)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if program not in f.read():
                return False
        with open(f"/proc/{pid}/status") as f:
            mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    except (OSError, StopIteration):
        return False
    return all(mask >> (sig - 1) & 1 for sig in (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2))


def finished_tasks(path) -> int:
    """Tasks done or diverged in a results file being written (0 while it cannot be read)."""
    try:
        with h5py.File(path, "r", locking=False) as f:
            return int((f["tasks/status"][...] != 0).sum())
    except (OSError, KeyError):
        return 0


def wait_until(condition, proc: subprocess.Popen, what: str, bound: float = 120.0) -> bool:
    """Poll `condition()` until it holds (True) or the run has ended (False). `bound` only turns
    a hang into a failure; no result depends on how long the wait took."""
    deadline = time.monotonic() + bound
    while not condition():
        if proc.poll() is not None:
            return False
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.002)
    return True


def ranks_catch_signals(proc: subprocess.Popen, ranks: int = 2):
    """Condition: all ranks are up, run mpi_dbm and have their stop handlers (as early as that is)."""

    def check() -> bool:
        pids = rank_pids(proc)
        return len(pids) == ranks and all(catches_stop_signals(p, b"mpi_dbm") for p in pids)

    return check


def contents(path) -> dict[str, np.ndarray]:
    with h5py.File(path, "r") as f:
        return {
            **{f"spectra/{k}": v[...] for k, v in f["spectra"].items()},
            **{f"scalars/{k}": v[...] for k, v in f["scalars"].items()},
            **{f"tasks/{k}": v[...] for k, v in f["tasks"].items()},
        }


def pending_tasks(path) -> int:
    with h5py.File(path, "r", locking=False) as f:
        return int((f["tasks/status"][...] == 0).sum())


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    d = tmp_path_factory.mktemp("rel")
    cfg = write_config(d / "long.toml")
    proc = run_cli("run", str(cfg), "-o", str(d / "ref.h5"), "--quiet")
    assert proc.returncode == 0, proc.stderr
    return contents(d / "ref.h5")


@pytest.mark.slow
@pytest.mark.parametrize("schedule", ["dynamic", "static"])
def test_kill_9_at_random_moments_then_resume_is_bitwise_identical(tmp_path, reference, schedule):
    cfg = write_config(tmp_path / "long.toml", schedule)
    out = tmp_path / "out.h5"
    rng = np.random.default_rng(17 if schedule == "dynamic" else 18)
    kills, pending_after_kills = 0, 0
    for _attempt in range(8):
        proc = start("run", str(cfg), "-o", str(out), "--resume", "--quiet")
        for _ in range(200):  # start-up time varies with load: kill during training and writing
            if out.exists() or proc.poll() is not None:
                break
            time.sleep(0.05)
        time.sleep(rng.uniform(0.1, 1.0))
        victims = rank_pids(proc)
        if proc.poll() is None and victims:
            try:
                os.kill(victims[rng.integers(len(victims))], signal.SIGKILL)  # any rank, any moment
                kills += 1
            except ProcessLookupError:  # the run finished meanwhile
                pass
        proc.communicate(timeout=60)
        if not out.exists():  # killed before the file was made: nothing to resume yet
            continue
        pending_after_kills = pending_tasks(out)
        if pending_after_kills == 0:  # the work was done before the kill landed: start again
            out.unlink()
            continue
        if kills >= 3:
            break
    assert kills >= 1 and pending_after_kills > 0, f"{kills} kills, {pending_after_kills} pending"
    print(f"{schedule}: {kills} kill(s), {pending_after_kills} of 32 tasks pending afterwards")
    final = run_cli("run", str(cfg), "-o", str(out), "--resume", ranks=2)
    assert final.returncode == 0, final.stderr
    assert f"{pending_after_kills} tasks trained" in final.stdout
    assert_same(contents(out), reference)
    assert not (tmp_path / "out.h5.lock").exists()


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "to_mpiexec"), [(signal.SIGUSR1, True), (signal.SIGTERM, False)])
def test_wall_time_signal_stops_cleanly_and_resume_completes(tmp_path, reference, sig, to_mpiexec):
    cfg = write_config(tmp_path / "long.toml")
    out = tmp_path / "out.h5"
    proc = start("run", str(cfg), "-o", str(out))
    # training has begun on every rank: a task is finished and the ranks are known
    assert wait_until(lambda: finished_tasks(out) > 0 and len(rank_pids(proc)) == 2, proc, "training")
    t0 = time.monotonic()
    if to_mpiexec:  # what a batch script's `kill -USR1 $launcher` does; mpiexec forwards it
        proc.send_signal(sig)
    else:  # SLURM signals every task; here only one rank gets it: the others must follow
        os.kill(rank_pids(proc)[-1], sig)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 10
    assert f"stopped early ({signal.Signals(sig).name})" in err
    assert "--resume" in err
    if to_mpiexec:
        assert proc.returncode == 75
    with h5py.File(out, "r") as f:
        status = f["tasks/status"][...]
    assert int((status == 0).sum()) > 0, "stopped too late to test anything"
    final = run_cli("run", str(cfg), "-o", str(out), "--resume", ranks=2)
    assert final.returncode == 0, final.stderr
    assert_same(contents(out), reference)


MOMENTS = {
    # as early as a rank can honour a signal: its handlers are in (before numpy/h5py/mpi4py load)
    "handlers": lambda proc, out: ranks_catch_signals(proc)(),
    # the results file has been created (ranks have set up the store; training about to begin)
    "file": lambda proc, out: out.exists(),
    # a unit has been written
    "task": lambda proc, out: finished_tasks(out) > 0,
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("moment", "sig", "to_mpiexec"),
    [
        ("handlers", signal.SIGUSR1, True),
        ("handlers", signal.SIGTERM, False),
        ("file", signal.SIGTERM, False),
        ("task", signal.SIGUSR1, True),
    ],
)
def test_signal_at_start_up_stops_cleanly_and_resume_completes(tmp_path, reference, moment, sig, to_mpiexec):
    """A stop signal at any moment of the start-up (before or after the file exists) gives a clean,
    resumable stop (exit 75), or a complete run (exit 0) if it came after the last unit; never a
    rank killed by the signal. --resume then completes the sweep with the reference bits."""
    cfg = write_config(tmp_path / "long.toml")
    out = tmp_path / "out.h5"
    proc = start("run", str(cfg), "-o", str(out))
    try:
        # mpiexec forwards only once its own handlers are in; the ranks must be up to receive it
        up = wait_until(lambda: ranks_catch_signals(proc)() and catches_stop_signals(proc.pid), proc, "ranks")
        assert up, "the run ended before its ranks were seen"
        if wait_until(lambda: MOMENTS[moment](proc, out), proc, moment):
            if to_mpiexec:
                proc.send_signal(sig)
            else:  # one rank only: the other must follow
                with contextlib.suppress(IndexError, ProcessLookupError):  # unless both just ended
                    os.kill(rank_pids(proc)[-1], sig)
    finally:
        _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err
    if "stopped early" in err:
        assert f"stopped early ({signal.Signals(sig).name})" in err
        assert proc.returncode == 75, err
        assert pending_tasks(out) > 0
    else:  # the signal came after the last unit was written
        assert proc.returncode == 0, err
        assert pending_tasks(out) == 0
    final = run_cli("run", str(cfg), "-o", str(out), "--resume", "--quiet", ranks=2)
    assert final.returncode == 0, final.stderr
    assert_same(contents(out), reference)


@pytest.mark.parametrize(
    ("module", "sig", "rank"),
    [
        ("click", "SIGTERM", "1"),  # the first heavy import of the command line
        ("numpy", "SIGUSR1", "all"),
        ("h5py", "SIGUSR2", "0"),
        ("mpi4py", "SIGTERM", "1"),
    ],
)
def test_signal_while_a_rank_imports_stops_cleanly(tmp_path, reference, module, sig, rank):
    """A rank signalled while it is still importing (the moment it first imports MODULE) is not
    killed: the run stops cleanly with exit 75, before the results file exists, and --resume
    completes it with the reference bits."""
    cfg = write_config(tmp_path / "long.toml")
    out = tmp_path / "out.h5"
    helper = str(Path(__file__).with_name("signal_at_import.py"))
    cmd = [MPIEXEC, "-n", "2", PYTHON, helper, module, sig, rank, "run", str(cfg), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **MPI_ENV})
    assert proc.returncode == 75, proc.stderr
    assert f"stopped early ({sig})" in proc.stderr and "--resume" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert pending_tasks(out) > 0
    final = run_cli("run", str(cfg), "-o", str(out), "--resume", "--quiet", ranks=2)
    assert final.returncode == 0, final.stderr
    assert_same(contents(out), reference)


def test_time_limit_stops_with_exit_75(tmp_path):
    cfg = write_config(tmp_path / "long.toml")
    out = tmp_path / "out.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), "--time-limit", "0:01", ranks=2)
    assert proc.returncode == 75, proc.stderr
    assert "stopped early (time limit)" in proc.stderr


def test_failing_rank_aborts_the_job_promptly(tmp_path):
    cfg = write_config(tmp_path / "long.toml")
    t0 = time.monotonic()
    proc = start(
        "run", str(cfg), "-o", str(tmp_path / "o.h5"), "--quiet", env={"MPI_DBM_INJECT_FAULT": "1:1"}
    )
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert time.monotonic() - t0 < 20
    assert "mpi-dbm: rank 1 of 2 failed: RuntimeError('fault injected" in err


def test_second_run_on_a_busy_file_is_refused_and_status_can_read(tmp_path):
    cfg = write_config(tmp_path / "long.toml")
    out = tmp_path / "out.h5"
    first = start("run", str(cfg), "-o", str(out), "--quiet")
    try:
        for _ in range(100):
            if (tmp_path / "out.h5.lock").exists() and out.exists():
                break
            time.sleep(0.1)
        owner = json.loads((tmp_path / "out.h5.lock").read_text())
        second = run_cli("run", str(cfg), "-o", str(out), "--resume")
        assert second.returncode == 2
        assert "is in use by another run" in second.stderr and f"pid {owner['pid']}" in second.stderr
        assert "--break-lock" in second.stderr
        status = run_cli("status", str(out))
        assert status.returncode == 0, status.stderr
        assert "tasks: 32 =" in status.stdout
    finally:
        first.send_signal(signal.SIGUSR1)
        first.communicate(timeout=60)


def test_stale_lock_of_a_dead_process_is_taken_over(tmp_path, tiny_config):
    cfg = tiny_config()
    out = tmp_path / "r.h5"
    dead = subprocess.Popen(["true"])
    dead.wait()
    import socket

    (tmp_path / "r.h5.lock").write_text(
        json.dumps({"host": socket.gethostname(), "pid": dead.pid, "job": None, "started": "x"})
    )
    proc = run_cli("run", str(cfg), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "took over the lock" in proc.stderr and "is gone" in proc.stderr
    assert not (tmp_path / "r.h5.lock").exists()


def test_chunks_merge_to_the_single_run(tmp_path, tiny_config):
    cfg = tiny_config()
    ref = tmp_path / "ref.h5"
    assert run_cli("run", str(cfg), "-o", str(ref), "--quiet").returncode == 0
    parts = []
    for i in (1, 2, 3):
        part = tmp_path / f"part{i}.h5"
        proc = run_cli("run", str(cfg), "-o", str(part), "--chunk", f"{i}/3", ranks=2)
        assert proc.returncode == 0, proc.stderr
        assert f"of chunk {i}/3" in proc.stdout
        parts.append(str(part))
    merged = tmp_path / "merged.h5"
    proc = run_cli("merge", str(merged), *parts)
    assert proc.returncode == 0, proc.stderr
    assert "18 of 18 tasks finished, 0 pending" in proc.stdout
    assert_same(contents(merged), contents(ref))
    again = run_cli("merge", str(merged), *parts)
    assert again.returncode == 2 and "exists" in again.stderr
    other = tiny_config(name="other.toml", edits={"seed = 7": "seed = 9"})
    bad = tmp_path / "bad.h5"
    assert run_cli("run", str(other), "-o", str(bad), "--quiet", "--chunk", "1/3").returncode == 0
    proc = run_cli("merge", str(tmp_path / "m2.h5"), parts[0], str(bad))
    assert proc.returncode == 2 and "not from the same sweep" in proc.stderr and "seed" in proc.stderr
    assert not (tmp_path / "m2.h5").exists()


def printed_resume_command(stderr: str) -> list[str]:
    """The arguments of the `mpi-dbm run ... --resume` command a stopped run printed."""
    line = next(x for x in stderr.splitlines() if "complete them with: mpi-dbm run " in x)
    return shlex.split(line.split("complete them with: mpi-dbm ", 1)[1])


@pytest.mark.parametrize("printed", [True, False])
def test_a_stopped_run_with_a_schedule_override_resumes(tmp_path, tiny_config, printed):
    """`--schedule` does not change results: the command printed after a stop of a
    `--schedule static` run resumes the file, and so does a plain --resume (config's schedule)."""
    cfg = tiny_config()
    ref = tmp_path / "ref.h5"
    assert run_cli("run", str(cfg), "-o", str(ref), "--quiet").returncode == 0
    out = tmp_path / "out.h5"
    helper = str(Path(__file__).with_name("signal_at_import.py"))
    args = ["run", str(cfg), "-o", str(out), "--schedule", "static"]
    cmd = [MPIEXEC, "-n", "2", PYTHON, helper, "numpy", "SIGUSR1", "all", *args]
    stopped = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **MPI_ENV})
    assert stopped.returncode == 75, stopped.stderr
    resume = printed_resume_command(stopped.stderr)
    assert resume == [*args, "--resume"]
    if not printed:
        resume = ["run", str(cfg), "-o", str(out), "--resume"]
    final = run_cli(*resume, ranks=2)
    assert final.returncode == 0, final.stderr
    assert_same(contents(out), contents(ref))


def test_chunks_run_with_other_schedules_and_block_sizes_merge(tmp_path, tiny_config):
    """Schedule and block size are performance knobs: chunk files made with different ones merge,
    overlapping tasks agree bit for bit, and the result equals a single run."""
    cfg = tiny_config()
    ref = tmp_path / "ref.h5"
    assert run_cli("run", str(cfg), "-o", str(ref), "--quiet").returncode == 0
    block3 = tiny_config(name="b3.toml", edits={"block_size = 2": "block_size = 3"})
    static4 = tiny_config("static", name="s4.toml", edits={"block_size = 2": "block_size = 4"})
    part1, full3, part2 = tmp_path / "p1.h5", tmp_path / "full3.h5", tmp_path / "p2.h5"
    for args in (
        (str(cfg), "-o", str(part1), "--chunk", "1/2", "--schedule", "static"),
        (str(block3), "-o", str(full3)),
        (str(static4), "-o", str(part2), "--chunk", "2/2"),
    ):
        proc = run_cli("run", *args, "--quiet", ranks=2)
        assert proc.returncode == 0, proc.stderr
    for inputs, name in (((part1, full3), "m1.h5"), ((part1, part2, full3), "m2.h5")):
        merged = tmp_path / name
        proc = run_cli("merge", str(merged), *map(str, inputs))
        assert proc.returncode == 0, proc.stderr
        assert "18 of 18 tasks finished, 0 pending" in proc.stdout
        assert_same(contents(merged), contents(ref))


BIG_UNIT = """
[sweep]
name = "big-unit"
seed = 4
replicas = 2
points = [[0.001, 64]]
block_size = 2
[model]
kind = "grbm"
n_visible = 60
n_hidden = 60
mu = 12.0
[train]
steps = 100000000
measure_every = 100000000
check_every = 100000000
"""


@pytest.mark.parametrize("how", ["time limit", "signal"])
def test_a_stop_is_honoured_inside_a_unit_without_checks(tmp_path, how):
    """One unit of 10^8 steps with no divergence check or measurement before its end (hours of
    work): --time-limit and a wall-time signal still stop it cleanly (exit 75, the file resumable)."""
    cfg = tmp_path / "big.toml"
    cfg.write_text(BIG_UNIT)
    out = tmp_path / "out.h5"
    extra = ["--time-limit", "1"] if how == "time limit" else []
    proc = start("run", str(cfg), "-o", str(out), *extra)
    try:
        if how == "signal":
            assert wait_until(out.exists, proc, "the file")
            proc.send_signal(signal.SIGUSR1)  # to every rank, as the batch system does
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:  # the old code would train for hours
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=60)
    assert proc.returncode == 75, err
    assert "stopped early" in err and "2 tasks still pending" in err
    assert pending_tasks(out) == 2
    again = run_cli("run", str(cfg), "-o", str(out), "--resume", "--time-limit", "1", ranks=2)
    assert again.returncode == 75 and "stopped early (time limit)" in again.stderr
