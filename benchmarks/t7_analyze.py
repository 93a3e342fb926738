"""Target 7: `mpi-dbm analyze` on a synthetic file the size of the paper's GRBM data set
(82 500 tasks × 6 measurements × 10 eigenvalues; benchmarks/synth_results.py): < 60 s and
< 4 GiB peak memory. Wall time and peak RSS of the analyze process (os.wait4), figures on.
Reports "not available" when this mpi-dbm has no `analyze` command.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import synth_results
from common import PYTHON, ROOT, quick, report

GIB = 1 << 30


def main() -> None:
    mpi_dbm = str(ROOT / ".venv" / "bin" / "mpi-dbm")
    cmd = [mpi_dbm] if os.path.exists(mpi_dbm) else [PYTHON, "-m", "mpi_dbm"]
    probe = subprocess.run([*cmd, "analyze", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        for target, goal in (("7a analyze time / 60 s", "< 1"), ("7b analyze peak RSS / 4 GiB", "< 1")):
            report(target, None, goal, None, "not available: this mpi-dbm has no `analyze` command")
        return
    replicas = 750 if quick() else 7500
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "paper.h5"
        t0 = time.perf_counter()
        cfg = synth_results.make(path, replicas)
        made = time.perf_counter() - t0
        size = path.stat().st_size
        print(f"  synthetic file: {cfg.n_tasks} tasks, {size / 1e6:.0f} MB, made in {made:.1f} s")
        t0 = time.perf_counter()
        out = Path(tmp) / "report"
        proc = subprocess.Popen(
            [*cmd, "analyze", str(path), "-o", str(out), "--force"], stdout=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    rss = usage.ru_maxrss * 1024
    ok = os.waitstatus_to_exitcode(status) == 0
    print(
        f"  analyze: {wall:.1f} s, peak RSS {rss / 2**20:.0f} MiB, exit {os.waitstatus_to_exitcode(status)}"
    )
    note = f"{cfg.n_tasks} tasks" + ("" if ok else "; analyze FAILED")
    report("7a analyze time / 60 s", wall / 60, "< 1", ok and wall < 60, f"{wall:.1f} s; {note}")
    report(
        "7b analyze peak RSS / 4 GiB", rss / (4 * GIB), "< 1", ok and rss < 4 * GIB, f"{rss / 2**20:.0f} MiB"
    )


if __name__ == "__main__":
    main()
