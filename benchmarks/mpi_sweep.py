"""Run one sweep under mpiexec with the driver instrumented; rank 0 prints `SWEEP {json}`.

Usage: scripts/mpirun-local -n P .venv/bin/python benchmarks/mpi_sweep.py CONFIG OUT.h5 [--schedule S]

Timers per rank (seconds): wall (run_sweep, after a barrier), train (train_stack), write
(writer.write_unit), claim (waiting for the next unit: counter or plan), open (open_writer),
finish (writer.finish, collective: includes waiting for the other ranks), peak RSS (bytes)
before and after.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mpi4py import MPI

import mpi_dbm.sweep.driver as driver
from mpi_dbm import config

timers: dict[str, float] = defaultdict(float)


def timed(name, fn):
    def wrapper(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            timers[name] += time.perf_counter() - t0

    return wrapper


def timed_open(*args, **kwargs):
    t0 = time.perf_counter()
    writer = open_writer(*args, **kwargs)
    timers["open"] += time.perf_counter() - t0
    writer.write_unit = timed("write", writer.write_unit)
    writer.finish = timed("finish", writer.finish)
    return writer


def timed_iter(self):
    it = claims_iter(self)
    while True:
        t0 = time.perf_counter()
        try:
            unit = next(it)
        except StopIteration:
            timers["claim"] += time.perf_counter() - t0
            return
        timers["claim"] += time.perf_counter() - t0
        yield unit


open_writer = driver.open_writer
claims_iter = driver._Claims.__iter__
driver.open_writer = timed_open
driver._Claims.__iter__ = timed_iter
driver.train_stack = timed("train", driver.train_stack)
driver.ReplicaStreams = timed("streams", driver.ReplicaStreams)


def main() -> None:
    cfg = config.load(sys.argv[1])
    schedule = sys.argv[sys.argv.index("--schedule") + 1] if "--schedule" in sys.argv else None
    comm = MPI.COMM_WORLD
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    comm.Barrier()
    t0 = time.perf_counter()
    c0 = time.process_time()
    driver.run_sweep(cfg, sys.argv[2], comm=comm, force=True, quiet=True, schedule=schedule)
    timers["wall"] = time.perf_counter() - t0
    timers["cpu"] = time.process_time() - c0
    timers["rss_before"] = rss0
    timers["rss_peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    every = comm.gather(dict(timers))
    if comm.Get_rank() == 0:
        print("SWEEP " + json.dumps(every), flush=True)


if __name__ == "__main__":
    main()
