"""Target 6b: write throughput of the parallel HDF5 path within 2× of numpy.save of the same bytes.

Run by itself it starts itself on 2 ranks (scripts/mpirun-local). Each rank writes 4 work units
of 256 tasks × 101 measurements (spectra of 10 values + the loss), ~18 MB in all, through
store.ParallelWriter.write_unit (driver='mpio', data + fsync + status + fsync), and the same
arrays with numpy.save into a file of its own + fsync per unit; interleaved, best of each.
Ratio = parallel throughput / numpy.save throughput (goal ≥ 0.5). Target 6a (share of a run
in writes) is measured on the sweep of t4_mpi_scaling.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import MPI_ENV, MPIRUN, PYTHON, quick, report, sweep_config

UNITS_PER_RANK, BLOCK = 4, 256


def worker(tmp: Path, rounds: int) -> None:
    from mpi4py import MPI

    from mpi_dbm import config, models
    from mpi_dbm.store import open_writer
    from mpi_dbm.streams import shared_data_seed
    from mpi_dbm.sweep.grid import work_units
    from mpi_dbm.train import StackResult

    comm = MPI.COMM_WORLD
    rank, size = comm.Get_rank(), comm.Get_size()
    cfg = config.parse_text(sweep_config([(0.02, 16)], BLOCK * UNITS_PER_RANK * size, BLOCK, 1000))
    cfg = config.parse_text(cfg.to_toml().replace("measure_every = 100", "measure_every = 10"))
    model = models.build(cfg.model, shared_data_seed(0))
    units = work_units(cfg)[rank::size]
    n_meas = len(cfg.train.measure_steps)
    rng = np.random.default_rng(rank)
    results = [
        StackResult(
            spectra={"X": rng.normal(size=(BLOCK, n_meas, 10))},
            scalars={"loss": rng.normal(size=(BLOCK, n_meas))},
            diverged_step=np.full(BLOCK, -1, dtype=np.int64),
            diverged_reason=np.zeros(BLOCK, dtype=np.int8),
        )
        for _ in units
    ]
    nbytes = sum(sum(a.nbytes for a in (*r.spectra.values(), *r.scalars.values())) for r in results)
    best = {"parallel": float("inf"), "numpy": float("inf")}
    for i in range(rounds):
        path = tmp / f"par{i}.h5"
        writer = open_writer(path, cfg, model, comm, parallel=True, create=True)
        comm.Barrier()
        t0 = time.perf_counter()
        for unit, res in zip(units, results, strict=True):
            writer.write_unit(unit, res)
        best["parallel"] = min(best["parallel"], comm.allreduce(time.perf_counter() - t0, op=MPI.MAX))
        writer.finish()
        comm.Barrier()
        t0 = time.perf_counter()
        with open(tmp / f"np{i}_{rank}.npy", "wb") as f:
            for res in results:
                np.save(f, res.spectra["X"])
                np.save(f, res.scalars["loss"])
                np.save(f, res.diverged_step)
                np.save(f, res.diverged_reason)
                f.flush()
                os.fsync(f.fileno())
        best["numpy"] = min(best["numpy"], comm.allreduce(time.perf_counter() - t0, op=MPI.MAX))
    total = comm.allreduce(nbytes)
    if rank == 0:
        print("IO " + json.dumps({"bytes": total, **best}), flush=True)


def main() -> None:
    rounds = 1 if quick() else 3
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [MPIRUN, "-n", "2", PYTHON, __file__, "--worker", tmp, str(rounds)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **MPI_ENV}, timeout=600)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("IO ")), None)
    if proc.returncode != 0 or line is None:
        report("6b parallel write / numpy.save", None, ">= 0.5", None, f"failed: {proc.stderr[-300:]}")
        return
    got = json.loads(line[3:])
    mb = got["bytes"] / 1e6
    rates = f"parallel HDF5 {mb / got['parallel']:.0f} MB/s, numpy.save {mb / got['numpy']:.0f} MB/s"
    print(f"  {mb:.1f} MB: {rates}")
    ratio = got["numpy"] / got["parallel"]
    report(
        "6b parallel write / numpy.save",
        ratio,
        ">= 0.5",
        ratio >= 0.5,
        f"{mb:.0f} MB on 2 ranks, fsync per unit in both; {mb / got['parallel']:.0f} MB/s",
    )


if __name__ == "__main__":
    if "--worker" in sys.argv:
        worker(Path(sys.argv[sys.argv.index("--worker") + 1]), int(sys.argv[-1]))
    else:
        main()
