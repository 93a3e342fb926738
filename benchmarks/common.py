"""Shared helpers of the benchmarks: side-by-side timing, result rows, model builders.

Every benchmark measures its ratio within one process run (or one runner invocation for
the MPI ones): the variants are interleaved round by round and each keeps its best
(least disturbed) time, so load from other processes on this machine biases all variants
alike. A script prints its details and, last, one line `BENCH {json}` per target for
`run_all.py`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

#: one BLAS thread per process, as the driver sets for each rank (mpi_dbm/threads.py): before numpy
#: loads BLAS, and again at run time below
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mpi_dbm.threads import limit_blas_threads  # noqa: E402

limit_blas_threads(int(os.environ["OPENBLAS_NUM_THREADS"]))

#: Open MPI settings of this machine: those scripts/mpirun-local uses (scripts/openmpi-local.env)
MPI_ENV = dict(
    line.split("=", 1)
    for line in (ROOT / "scripts" / "openmpi-local.env").read_text().splitlines()
    if line.strip() and not line.startswith("#")
)
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
MPIRUN = str(ROOT / "scripts" / "mpirun-local")


def quick() -> bool:
    """BENCH_QUICK=1: smaller sizes and fewer rounds (a smoke run, not a measurement)."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def interleaved(variants: dict[str, Callable[[], float | None]], rounds: int) -> dict[str, float]:
    """Run every variant once per round, in turn; each returns its own time (or None to be
    timed here). Returns each variant's best time."""
    best = dict.fromkeys(variants, float("inf"))
    for _ in range(rounds):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            got = fn()
            dt = time.perf_counter() - t0 if got is None else got
            best[name] = min(best[name], dt)
    return best


def report(target: str, ratio: float | None, goal: str, passed: bool | None, note: str = "") -> None:
    """The machine-readable row for run_all.py (ratio None: not measured, with the reason in note)."""
    row = {"target": target, "ratio": ratio, "goal": goal, "pass": passed, "note": note}
    print("BENCH " + json.dumps(row), flush=True)


def grbm(sampler: str = "gibbs", n: int = 10, **model: object):
    """A GRBM model (N_v = N_h = n, lattice target m = 2) with the given sampler."""
    from mpi_dbm import config, models
    from mpi_dbm.streams import shared_data_seed

    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in model.items())
    text = f"""
[sweep]
replicas = 1
points = [[0.02, 16]]
[model]
kind = "grbm"
n_visible = {n}
n_hidden = {n}
sampler = "{sampler}"
{extra}
[target]
kind = "lattice"
mass = 2.0
[train]
steps = 10
"""
    return models.build(config.parse_text(text).model, shared_data_seed(0))


def streams(n_replicas: int, point: int = 0):
    from mpi_dbm.streams import ReplicaStreams, replica_seed

    return ReplicaStreams([replica_seed(1, point, r) for r in range(n_replicas)])


def rng_floor_seconds(n_normals: int, chunk: int) -> float:
    """Time to draw n_normals standard normals of a PCG64 Generator (as the replica streams) in
    chunks of `chunk` into a preallocated buffer, the fastest way mpi-dbm has to draw those bits:
    `normals.fill_rows` (the compiled sampler where it was built, ~3× numpy's `standard_normal`;
    else `standard_normal` itself). The best case of drawing them."""
    from mpi_dbm.normals import fill_rows

    gen = [np.random.default_rng(12345)]
    buf = np.empty((1, chunk))
    full, rest = divmod(n_normals, chunk)
    t0 = time.perf_counter()
    for _ in range(full):
        fill_rows(gen, buf)
    if rest:
        fill_rows(gen, buf, chunk - rest)
    return time.perf_counter() - t0


def timed_training(model, n_replicas: int, steps: int, batch_size: int = 16, lr: float = 0.02):
    """A variant for `interleaved`: train_stack of n_replicas for `steps` updates (measuring at the
    start and the end, divergence checks every 100 steps), timing the training only (the
    replica streams are set up before the clock starts)."""
    from mpi_dbm.train import train_stack

    def run() -> float:
        s = streams(n_replicas)
        t0 = time.perf_counter()
        train_stack(model, lr, batch_size, s, steps, steps, 100)
        return time.perf_counter() - t0

    return run


def run_sweep_mpi(config_text: str, ranks: int, workdir: Path, schedule: str | None = None) -> list[dict]:
    """Write the config, run benchmarks/mpi_sweep.py on `ranks` ranks; per-rank timers (list)."""
    import subprocess

    cfg = workdir / "sweep.toml"
    cfg.write_text(config_text)
    cmd = [MPIRUN, "-n", str(ranks), PYTHON, str(ROOT / "benchmarks" / "mpi_sweep.py"), str(cfg)]
    cmd += [str(workdir / "out.h5")] + (["--schedule", schedule] if schedule else [])
    env = {**os.environ, **MPI_ENV}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("SWEEP ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"mpi_sweep failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return json.loads(line[len("SWEEP ") :])


def sweep_config(
    points: list[tuple[float, int]], replicas: int, block: int, steps: int, **model: object
) -> str:
    """A GRBM sweep config (default model, lattice target) with the default measurement schedule."""
    extra = "".join(f"{k} = {json.dumps(v)}\n" for k, v in model.items())
    return f"""
[sweep]
name = "bench"
seed = 1
replicas = {replicas}
points = {json.dumps([list(p) for p in points])}
schedule = "dynamic"
block_size = {block}
[model]
kind = "grbm"
{extra}
[target]
kind = "lattice"
mass = 2.0
[train]
steps = {steps}
measure_every = {steps // 10}
check_every = 100
"""
