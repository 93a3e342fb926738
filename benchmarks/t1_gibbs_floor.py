"""Target 1: the literal Gibbs trainer against the random-number floor and the baseline.

GRBM 10×10, |B| = 16, PCD k = 3, one rank (one process, one BLAS thread), sampler "gibbs".
Side by side, interleaved:
- trainer:  mpi_dbm.train.train_stack on a stack of R replicas (the driver's work unit);
- floor:    drawing the same number of normals ((N_h + N_v)·k·|B| per realisation-update)
            of the same Generator type into a preallocated buffer, nothing else, in the fastest
            way mpi-dbm has for those bits (common.rng_floor_seconds: its compiled sampler);
- baseline: benchmarks/baseline_grbm.py (per-realisation straightforward numpy).
Ratio = trainer throughput / floor throughput (goal ≥ 0.8).
"""

from __future__ import annotations

from baseline_grbm import train_many
from common import grbm, interleaved, quick, report, rng_floor_seconds, timed_training

from mpi_dbm.streams import MIN_CHUNK

BATCH = 16


def main() -> None:
    rounds = 2 if quick() else 9
    model = grbm("gibbs")
    stacks = (16, 64, 256)
    work = 3200 if quick() else 32000  # realisation-updates per trainer run
    base_reals, base_steps = 1, 100 if quick() else 600
    variants = {f"trainer R={R}": timed_training(model, R, work // R) for R in stacks}
    n_floor = work * model.normals_per_step(BATCH)
    variants["floor"] = lambda: rng_floor_seconds(n_floor, MIN_CHUNK * 4)
    variants["baseline"] = lambda: train_many(base_reals, base_steps) and None
    best = interleaved(variants, rounds)
    rate = {name: work / t for name, t in best.items() if name != "baseline"}
    rate["baseline"] = base_reals * base_steps / best["baseline"]
    print(f"normals per realisation-update: {model.normals_per_step(BATCH)}")
    for name, r in rate.items():
        print(f"  {name:16s} {r:12.0f} realisation-updates/s   {r / rate['baseline']:6.2f}× baseline")
    ratios = {R: rate[f"trainer R={R}"] / rate["floor"] for R in stacks}
    top = max(ratios, key=lambda R: ratios[R])
    report(
        "1 gibbs trainer / RNG floor",
        ratios[top],
        ">= 0.8",
        ratios[top] >= 0.8,
        f"stack R={top} (" + ", ".join(f"R={R}: {v:.2f}" for R, v in ratios.items()) + "); "
        f"floor = {rate['floor'] / rate['baseline']:.1f}x baseline, "
        f"trainer = {rate[f'trainer R={top}'] / rate['baseline']:.1f}x baseline",
    )


if __name__ == "__main__":
    main()
