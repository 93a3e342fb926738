"""Run every benchmark (one script per target) and print `target | measured ratio | goal | pass`.

Each script runs in its own process (one BLAS thread; the MPI ones start scripts/mpirun-local
themselves) and measures its ratio side by side within that run. BENCH_QUICK=1 shrinks every
size (a smoke run, not a measurement). Exit status 0 unless a script crashed (`--strict`: also
when a target is missed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [
    "t1_gibbs_floor.py",
    "t2_marginal.py",
    "t3_flops.py",
    "t4_mpi_scaling.py",
    "t5_scheduling.py",
    "t6_io.py",
    "t7_analyze.py",
    "t8_memory.py",
    "t9_block_size.py",
    "t10_multilayer.py",
]


def main() -> int:
    python = str(HERE.parent / ".venv" / "bin" / "python")
    python = python if os.path.exists(python) else sys.executable
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    rows, crashed = [], []
    t_all = time.perf_counter()
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run([python, str(HERE / script)], capture_output=True, text=True, env=env, cwd=HERE)
        for line in proc.stdout.splitlines():
            if line.startswith("BENCH "):
                rows.append(json.loads(line[6:]))
            else:
                print(line)
        if proc.returncode != 0:
            crashed.append(script)
            print(proc.stderr[-3000:])
        print(f"   ({time.perf_counter() - t0:.0f} s)", flush=True)
    print(f"\nall benchmarks: {time.perf_counter() - t_all:.0f} s\n")
    width = max(len(r["target"]) for r in rows) if rows else 10
    print(f"{'target':{width}s} | measured ratio | goal    | pass")
    print(f"{'-' * width}-|----------------|---------|-----")
    for r in rows:
        ratio = "not available" if r["ratio"] is None else f"{r['ratio']:.3f}"
        verdict = {True: "yes", False: "NO", None: "-"}[r["pass"]]
        print(f"{r['target']:{width}s} | {ratio:14s} | {r['goal']:7s} | {verdict}")
    print()
    for r in rows:
        if r["note"]:
            print(f"{r['target']}: {r['note']}")
    if crashed:
        print(f"\ncrashed: {', '.join(crashed)}")
        return 1
    strict = "--strict" in sys.argv
    return 1 if strict and any(r["pass"] is False for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
