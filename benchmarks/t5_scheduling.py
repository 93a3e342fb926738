"""Target 5: scheduling a heterogeneous sweep on 2 ranks: makespan against total work / ranks.

Sweep: |B| = 4, 8, …, 256 at α = 0.02 (7 points), 32 replicas each in blocks of 8 (28 units),
sampler "gibbs" (cost ∝ |B|: the units' costs differ ~60×; measured below). Run through the
real driver (benchmarks/mpi_sweep.py), dynamic and static schedules interleaved, best of each.
Makespan = the latest rank's busy time (train + claims + stream set-up + writes); ideal =
Σ train / ranks. Goals: dynamic ≤ 1.15, static ≤ 1.30.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import grbm, quick, report, run_sweep_mpi, streams, sweep_config

from mpi_dbm.train import train_stack

BATCHES = (4, 8, 16, 32, 64, 128, 256)


def makespan_ratio(ranks: list[dict]) -> float:
    busy = [sum(r.get(p, 0.0) for p in ("train", "claim", "streams", "write")) for r in ranks]
    return max(busy) / (sum(r["train"] for r in ranks) / len(ranks))


def unit_cost_ratio() -> float:
    """Measured cost of a |B| = 256 unit over a |B| = 4 unit (8 replicas, 100 steps, gibbs)."""
    model = grbm("gibbs")
    cost = {}
    for b in (4, 256):
        best = float("inf")
        for _ in range(3):
            s = streams(8)
            t0 = time.perf_counter()
            train_stack(model, 0.02, b, s, 100, 100, 100)
            best = min(best, time.perf_counter() - t0)
        cost[b] = best
    return cost[256] / cost[4]


def main() -> None:
    rounds = 1 if quick() else 2
    steps = 100 if quick() else 800
    text = sweep_config([(0.02, b) for b in BATCHES], 32, 8, steps, sampler="gibbs")
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for schedule in ("dynamic", "static"):
                ranks = run_sweep_mpi(text, 2, Path(tmp), schedule=schedule)
                ratio = makespan_ratio(ranks)
                busy = ", ".join(f"{r['train']:.2f}" for r in ranks)
                print(f"  {schedule}: makespan / (work / ranks) = {ratio:.3f} (train per rank {busy} s)")
                best[schedule] = min(best.get(schedule, float("inf")), ratio)
    spread = unit_cost_ratio()
    note = f"|B| 4..256, 28 units; measured unit cost ratio |B|=256 / |B|=4: {spread:.0f}x"
    report("5a dynamic makespan / (work/ranks)", best["dynamic"], "<= 1.15", best["dynamic"] <= 1.15, note)
    report("5b static makespan / (work/ranks)", best["static"], "<= 1.30", best["static"] <= 1.30, note)


if __name__ == "__main__":
    main()
