"""Target 3: achieved FLOP/s of the trainer at N_v = N_h = 256 against a large numpy matmul.

Side by side, interleaved, one process with one BLAS thread:
- trainer: train_stack, GRBM 256×256 (lattice target, m = 2), |B| = 16, k = 3, sampler
  "gibbs" (at this size and |B| it is the faster sampler: its cost is O(k|B|N²) per update
  against the marginal's O(kN³)); FLOP = GRBM.flops_per_step (2mnk per product) of the
  updates; the time includes train_stack's checks and its two measurements (~3%);
- matmul:  C = A @ B with 1024×1024 matrices (2·1024³ flop).
Ratio = trainer FLOP/s / matmul FLOP/s (goal ≥ 0.5). The marginal sampler is reported too.
"""

from __future__ import annotations

import time

import numpy as np
from common import grbm, interleaved, quick, report, timed_training

N = 256
BATCH = 16


def main() -> None:
    rounds = 2 if quick() else 3
    models = {s: grbm(s, n=N) for s in ("gibbs", "marginal")}
    R = models["gibbs"].preferred_stack(BATCH)
    steps = {"gibbs": 20 if quick() else 500, "marginal": 10 if quick() else 100}
    size = 1024
    a, b = np.random.default_rng(0).normal(size=(2, size, size))
    out = np.empty((size, size))

    def matmul() -> float:
        t0 = time.perf_counter()
        for _ in range(3):
            np.matmul(a, b, out=out)
        return (time.perf_counter() - t0) / 3

    variants = {s: timed_training(m, R, steps[s], batch_size=BATCH) for s, m in models.items()}
    variants["matmul"] = matmul
    best = interleaved(variants, rounds)
    flops = {s: m.flops_per_step(BATCH) * R * steps[s] / best[s] for s, m in models.items()}
    flops["matmul"] = 2.0 * size**3 / best["matmul"]
    for name, f in flops.items():
        extra = f", {R * steps[name] / best[name]:.0f} realisation-updates/s" if name in steps else ""
        print(f"  {name:9s} {f / 1e9:7.2f} GFLOP/s{extra}")
    ratio = flops["gibbs"] / flops["matmul"]
    per_update = {s: m.flops_per_step(BATCH) / flops[s] for s, m in models.items()}
    slower = per_update["marginal"] / per_update["gibbs"]
    report(
        "3 trainer FLOP/s (N=256) / matmul",
        ratio,
        ">= 0.5",
        ratio >= 0.5,
        f"gibbs, stack R={R}, |B|={BATCH}; matmul {flops['matmul'] / 1e9:.1f} GFLOP/s; "
        f"marginal {flops['marginal'] / flops['matmul']:.2f} of it but "
        f"{slower:.1f}x the time per update",
    )


if __name__ == "__main__":
    main()
