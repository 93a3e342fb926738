"""Target 10: the multilayer family (arXiv:2509.01349) against a plain per-seed loop (goal ≥ 30×),
and the cost of the paper's full grid against the authors' ~8 000 core-hours (goal ≤ 1/30).

Family: `mpi-dbm run` of one (α, ε) point with 256 replicas at the parser's default block size,
1 rank, timed from launch to exit (whole process). Baseline: benchmarks/baseline_multilayer.py,
one seed after another with per-step numpy calls, timed in-process. Interleaved round by round.
Rate = replica-updates per second. Full grid: 144 (α, ε) points × 10 seeds × 10⁸ updates, at
this machine's measured rate per core; the authors report ~2 days 8 hours per point on one core.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from baseline_multilayer import train_many
from common import MPI_ENV, MPIRUN, PYTHON, interleaved, quick, report

AUTHORS_CORE_HOURS = 144 * (2 * 24 + 8)  # 144 configurations × ~2 d 8 h each
GRID_UPDATES = 144 * 10 * 10**8


def config_text(replicas: int, steps: int) -> str:
    return f"""
[sweep]
name = "ml-bench"
seed = 1
replicas = {replicas}
points = [[0.5, 4]]
[model]
kind = "multilayer"
init_width = 1.0
[train]
steps = {steps}
measure_every = {steps}
check_every = 100
"""


def main() -> None:
    rounds = 1 if quick() else 3
    replicas, steps = (64, 500) if quick() else (128, 20000)
    base_seeds, base_steps = (1, 500) if quick() else (2, 4000)
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "ml.toml"
        cfg.write_text(config_text(replicas, steps))
        cmd = [
            MPIRUN,
            "-n",
            "1",
            PYTHON,
            "-m",
            "mpi_dbm",
            "run",
            str(cfg),
            "-o",
            str(Path(tmp) / "ml.h5"),
            "--force",
        ]
        env = {**os.environ, **MPI_ENV}

        def family() -> float:
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
            if proc.returncode != 0:
                raise RuntimeError(f"mpi-dbm run failed: {proc.stderr[-2000:]}")
            return time.perf_counter() - t0

        best = interleaved(
            {"family": family, "baseline": lambda: train_many(base_seeds, base_steps) and None}, rounds
        )
    rate = {
        "family": replicas * steps / best["family"],
        "baseline": base_seeds * base_steps / best["baseline"],
    }
    ratio = rate["family"] / rate["baseline"]
    core_hours = GRID_UPDATES / rate["family"] / 3600
    for name, r in rate.items():
        print(f"  {name:9s} {r:12.0f} replica-updates/s")
    print(
        f"  full grid (144 points x 10 seeds x 1e8 updates): {core_hours:.0f} core-hours here, "
        f"authors ~{AUTHORS_CORE_HOURS} ({AUTHORS_CORE_HOURS / core_hours:.1f}x fewer)"
    )
    report(
        "10a multilayer family / per-seed loop", ratio, ">= 30", ratio >= 30, f"{replicas} replicas, 1 rank"
    )
    report(
        "10b paper's grid core-hours / authors'",
        core_hours / AUTHORS_CORE_HOURS,
        "<= 0.0333",
        core_hours / AUTHORS_CORE_HOURS <= 1 / 30,
        f"{core_hours:.0f} of ~{AUTHORS_CORE_HOURS} core-hours",
    )


if __name__ == "__main__":
    main()
