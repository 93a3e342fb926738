"""Contenders for one results file released together: never two holders, whatever lock they start from.

Library level: 100 trials of 2-4 processes that wait at a barrier, then all call
`ResultsLock.acquire` on one output; the trials start from no lock, from the lock of a
dead process, of a recycled pid, or of another host's run without a heartbeat.
CLI level: 2 and 3 `mpi-dbm run` of a tiny config started together on one output.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
from conftest import PYTHON, run_cli

from mpi_dbm.errors import ResultsFileError
from mpi_dbm.lockfile import STALE_AFTER_SECONDS, ResultsLock

WORKERS = 4
TRIALS = 100
TIMEOUT = 120.0


def _contender(tasks: Any, results: Any, start: Any, hold: Any) -> None:
    """One contender process: per task, wait for the others, try to take the lock, hold it until all tried."""
    while (task := tasks.get(timeout=TIMEOUT)) is not None:
        directory, contend = task
        lock = ResultsLock(Path(directory) / "r.h5") if contend else None
        start.wait(timeout=TIMEOUT)
        outcome, in_file = "idle", None
        if lock is not None:
            try:
                lock.acquire()
                outcome = "held"
                in_file = json.loads((Path(directory) / "r.h5.lock").read_text())["pid"]
            except ResultsFileError as exc:
                outcome = f"refused: {exc}"
            except Exception as exc:  # any other failure is a finding, reported to the test
                outcome = f"error: {exc!r}"
        results.put((os.getpid(), outcome, in_file))
        hold.wait(timeout=TIMEOUT)  # a holder stays alive until every contender has judged it
        if lock is not None and outcome == "held":
            lock.release()
        results.put((os.getpid(), "released", None))


def _start_lock(kind: int, directory: Path, dead_pid: int) -> None:
    """Trial start: 0 no lock, 1 a dead process's, 2 a recycled pid's, 3 another host's without heartbeat."""
    path = directory / "r.h5.lock"
    if kind == 0:
        return
    if kind == 1:  # a record as older versions wrote it
        record = {"host": socket.gethostname(), "pid": dead_pid, "job": None, "started": "x"}
    else:
        mine = vars(ResultsLock(directory / "r.h5").owner)
        if kind == 2:  # our own live pid, but started at another time: a reused pid
            record = {**mine, "ticks": (mine.get("ticks") or 0) + 1}
        else:
            record = {**mine, "host": "elsewhere.invalid", "boot": None, "pidns": None}
    path.write_text(json.dumps(record))
    if kind == 3:
        old = time.time() - 2 * STALE_AFTER_SECONDS
        os.utime(path, (old, old))


def _collect(results: Any, n: int) -> list[tuple[int, str, int | None]]:
    out = []
    for _ in range(n):
        try:
            out.append(results.get(timeout=TIMEOUT))
        except Empty:
            pytest.fail("a contender did not report in time")
    return out


def test_simultaneous_contenders_never_both_hold_the_lock(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    tasks = [ctx.Queue() for _ in range(WORKERS)]
    results = ctx.Queue()
    start, hold = ctx.Barrier(WORKERS), ctx.Barrier(WORKERS)
    procs = [ctx.Process(target=_contender, args=(q, results, start, hold), daemon=True) for q in tasks]
    for p in procs:
        p.start()
    dead = subprocess.Popen(["true"])
    dead.wait(timeout=60)
    problems: list[str] = []
    not_one = 0  # trials without exactly one holder
    try:
        for trial in range(TRIALS):
            kind, n = trial % 4, 2 + trial % 3
            directory = tmp_path / f"t{trial}"
            directory.mkdir()
            _start_lock(kind, directory, dead.pid)
            for i, q in enumerate(tasks):
                q.put((str(directory), i < n))
            reports = _collect(results, 2 * WORKERS)  # queues from several processes: any order
            tried = [r for r in reports if r[1] != "released"]
            assert len(tried) == WORKERS, reports
            holders = [(pid, in_file) for pid, outcome, in_file in tried if outcome == "held"]
            refused = [outcome for _, outcome, _ in tried if outcome.startswith("refused")]
            others = [outcome for _, outcome, _ in tried if outcome not in ("held", "idle")]
            if len(holders) != 1 or any(pid != in_file for pid, in_file in holders):
                not_one += 1
                problems.append(f"trial {trial} (start {kind}, {n} contenders): holders {holders}")
            if len(refused) != n - 1 or any("in use by another run" not in r for r in refused):
                problems.append(f"trial {trial} (start {kind}, {n} contenders): {others}")
            leftovers = sorted(p.name for p in directory.iterdir())
            if leftovers:
                problems.append(f"trial {trial}: left behind {leftovers}")
    finally:
        for q in tasks:
            q.put(None)
        for p in procs:
            p.join(timeout=TIMEOUT)
            if p.is_alive():
                p.kill()
    assert not problems, f"{not_one} of {TRIALS} trials without exactly one holder:\n" + "\n".join(
        problems[:20]
    )


#: `python -m mpi_dbm ARGS` that imports first, says it is ready, then waits for the start signal (EOF)
_WAIT_THEN_RUN = """
import os, runpy, sys
import mpi_dbm.cli  # noqa: F401  (the slow imports happen before the start)
ready, go = int(sys.argv[1]), int(sys.argv[2])
os.write(ready, b"r"); os.close(ready)
os.read(go, 1)  # returns at EOF: when the test closes the other end, every contender starts
sys.argv = ["mpi-dbm", *sys.argv[3:]]
runpy.run_module("mpi_dbm", run_name="__main__")  # what `python -m mpi_dbm` runs
"""


def _run_together(n: int, args: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Start n `mpi-dbm ARGS` processes, wait until all are ready, release them together, wait for all."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    procs = [
        subprocess.Popen(
            [PYTHON, "-c", _WAIT_THEN_RUN, str(ready_w), str(go_r), *args],
            pass_fds=(ready_w, go_r),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(n)
    ]
    os.close(ready_w)
    os.close(go_r)
    try:
        got = b""
        with os.fdopen(ready_r, "rb") as ready:  # EOF if every contender died first: no hang
            while len(got) < n and (byte := ready.read(1)):
                got += byte
    finally:
        os.close(go_w)  # the start signal
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=600)
        out.append(subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))
    assert len(got) == n, [o.stderr for o in out]
    return out


@pytest.mark.parametrize(("n", "dead_owner"), [(2, False), (3, True)])
def test_simultaneous_cli_runs_on_one_output_exactly_one_proceeds(
    tmp_path: Path, tiny_config: Callable[..., Path], n: int, dead_owner: bool
) -> None:
    cfg = tiny_config()
    out = tmp_path / "r.h5"
    if dead_owner:  # all contenders see a stale lock and race to take it over
        dead = subprocess.Popen(["true"])
        dead.wait(timeout=60)
        _start_lock(1, tmp_path, dead.pid)
    procs = _run_together(n, ["run", str(cfg), "-o", str(out), "--quiet"])
    codes = sorted(p.returncode for p in procs)
    assert codes == [0] + [2] * (n - 1), [(p.returncode, p.stderr) for p in procs]
    if dead_owner:
        assert "took over the lock" in next(p.stderr for p in procs if p.returncode == 0)
    for p in procs:
        if p.returncode == 2:
            lines = p.stderr.strip().splitlines()
            assert len(lines) == 1, p.stderr  # one message, no traceback
            assert "in use by another run" in lines[0] or "exists; pass --resume" in lines[0], lines
    status = run_cli("status", str(out))
    assert status.returncode == 0, status.stderr
    assert "tasks: 18 = 18 done" in status.stdout, status.stdout
    resume = run_cli("run", str(cfg), "-o", str(out), "--resume")
    assert resume.returncode == 0, resume.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.h5", "tiny.toml"]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
