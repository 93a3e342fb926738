"""Target 10: the multilayer family (arXiv:2509.01349) against a plain per-seed loop (goal ≥ 30×),
and the cost of the paper's full grid against the authors' ~8 000 core-hours (goal ≤ 1/30).

Family: `mpi-dbm run` of one (α, ε) point with 128 replicas at the parser's default block size,
1 rank, timed from launch to exit (whole process), for 2·10⁵ steps (the goal) and 2·10⁴ (start-up's
share). Baseline: benchmarks/baseline_multilayer.py, one seed after another with per-step numpy
calls, timed in-process. Interleaved round by round. Then the step alone, in-process: the compiled
kernel against its numpy reference (the fallback without a C compiler), stacks of 64 and 10.
Rate = replica-updates per second. Full grid: 144 (α, ε) points × 10 seeds × 10⁸ updates, at
this machine's measured rate per core; the authors report ~2 days 8 hours per point on one core.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from collections.abc import Callable
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
    replicas = 64 if quick() else 128
    # the paper trains 10⁸ updates per replica; 2·10⁵ steps is 0.2 % of that (~9 s here) and still
    # short enough for make bench. 2·10⁴ steps shows how much of a short run is start-up (MPI
    # initialisation, imports, teachers and data sets, measurements: ~0.7 s).
    lengths = {"short": 500, "long": 2000} if quick() else {"short": 20000, "long": 200000}
    base_seeds, base_steps = (1, 500) if quick() else (2, 20000)
    env = {**os.environ, **MPI_ENV}
    with tempfile.TemporaryDirectory() as tmp:

        def family(steps: int) -> Callable[[], float]:
            cfg = Path(tmp) / f"ml{steps}.toml"
            cfg.write_text(config_text(replicas, steps))
            cmd = [MPIRUN, "-n", "1", PYTHON, "-m", "mpi_dbm", "run", str(cfg)]
            cmd += ["-o", str(Path(tmp) / f"ml{steps}.h5"), "--force"]

            def timed() -> float:
                t0 = time.perf_counter()
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600)
                if proc.returncode != 0:
                    raise RuntimeError(f"mpi-dbm run failed: {proc.stderr[-2000:]}")
                return time.perf_counter() - t0

            return timed

        variants: dict[str, Callable[[], float | None]] = {n: family(s) for n, s in lengths.items()}
        variants["baseline"] = lambda: train_many(base_seeds, base_steps) and None
        best = interleaved(variants, rounds)
    rate = {name: replicas * steps / best[name] for name, steps in lengths.items()}
    rate["baseline"] = base_seeds * base_steps / best["baseline"]
    ratio = {name: rate[name] / rate["baseline"] for name in lengths}
    core_hours = GRID_UPDATES / rate["long"] / 3600
    for name, steps in lengths.items():
        print(
            f"  family, {replicas} replicas x {steps} steps: {rate[name]:10.0f} replica-updates/s "
            f"({best[name]:.2f} s, launch to exit) = {ratio[name]:.1f}x the per-seed loop"
        )
    print(f"  per-seed loop: {rate['baseline']:10.0f} replica-updates/s")
    print(
        f"  full grid (144 points x 10 seeds x 1e8 updates): {core_hours:.0f} core-hours here, "
        f"authors ~{AUTHORS_CORE_HOURS} ({AUTHORS_CORE_HOURS / core_hours:.1f}x fewer)"
    )
    long = lengths["long"]
    report(
        "10a multilayer family / per-seed loop",
        ratio["long"],
        ">= 30",
        ratio["long"] >= 30,
        f"{replicas} replicas x {long} steps, 1 rank, whole process ({ratio['short']:.1f}x at "
        f"{lengths['short']} steps)",
    )
    report(
        "10b paper's grid core-hours / authors'",
        core_hours / AUTHORS_CORE_HOURS,
        "<= 0.0333",
        core_hours / AUTHORS_CORE_HOURS <= 1 / 30,
        f"{core_hours:.0f} of ~{AUTHORS_CORE_HOURS} core-hours",
    )


def step_rates(rounds: int, steps: int) -> None:
    """The model's step alone, in this process: µs per replica-update of the compiled kernel and of
    its numpy reference (the no-compiler fallback, same bits) in stacks of 64 (the default block) and
    10 (the full grid's units), interleaved, best of `rounds`."""
    import numpy as np

    from mpi_dbm.models import multilayer_step
    from mpi_dbm.models.multilayer import Multilayer, parse
    from mpi_dbm.streams import ReplicaStreams, replica_seed
    from mpi_dbm.tables import Table

    model = Multilayer(
        parse(Table("model", {"kind": "multilayer"}), Table("target", None)), np.random.SeedSequence(0)
    )

    def timed(stack: int, compiled: bool) -> Callable[[], float]:
        streams = ReplicaStreams([replica_seed(1, 0, r) for r in range(stack)])
        st = model.init(streams, 4)
        st.stepper = multilayer_step.stepper(st.arrays, model.phi, "tanh", compiled=compiled)
        n = steps if compiled else max(1, steps // 20)

        def run() -> float:
            t0 = time.perf_counter()
            for _ in range(n):
                model.step(st, 0.5, 4, streams)
            return (time.perf_counter() - t0) / (n * stack)

        return run

    variants = {
        f"{kind} R={R}": timed(R, kind == "kernel") for R in (64, 10) for kind in ("kernel", "reference")
    }
    best = interleaved(variants, rounds)
    built = "built" if multilayer_step.COMPILED else "NOT built: both rows are the reference"
    print(f"  step alone (kernel {built}), µs per replica-update:")
    for name, t in best.items():
        print(f"    {name:14s} {t * 1e6:7.3f}")


if __name__ == "__main__":
    main()
    step_rates(1 if quick() else 5, 200 if quick() else 2000)
