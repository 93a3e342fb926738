"""Target 2: the marginal sampler against the baseline (goal ≥ 10×), side by side.

GRBM 10×10, |B| = 16, PCD k = 3, one rank, one BLAS thread. Variants, interleaved:
- marginal: train_stack with sampler "marginal" (φ' = A^k φ + L z, N_v normals per chain);
- gibbs:    the literal sampler, for reference;
- baseline: benchmarks/baseline_grbm.py (per-realisation straightforward numpy).
The KS test that "marginal" and "gibbs" give the same stationary spectra is
tests/models/test_grbm_samplers.py.
"""

from __future__ import annotations

from baseline_grbm import train_many
from common import grbm, interleaved, quick, report, timed_training

BATCH = 16
STACKS = (16, 64, 256)


def main() -> None:
    rounds = 2 if quick() else 5
    models = {"marginal": grbm("marginal"), "gibbs": grbm("gibbs")}
    work = 12800 if quick() else 256000  # realisation-updates per trainer run
    base_reals, base_steps = 1, 100 if quick() else 600
    variants = {f"marginal R={R}": timed_training(models["marginal"], R, work // R) for R in STACKS}
    variants["gibbs R=64"] = timed_training(models["gibbs"], 64, work // 640)
    variants["baseline"] = lambda: train_many(base_reals, base_steps) and None
    best = interleaved(variants, rounds)
    rate = {name: work / t for name, t in best.items() if name != "baseline"}
    rate["gibbs R=64"] /= 10
    rate["baseline"] = base_reals * base_steps / best["baseline"]
    for name, r in rate.items():
        print(f"  {name:16s} {r:12.0f} realisation-updates/s   {r / rate['baseline']:6.2f}× baseline")
    ratios = {R: rate[f"marginal R={R}"] / rate["baseline"] for R in STACKS}
    top = max(ratios, key=lambda R: ratios[R])
    report(
        "2 marginal trainer / baseline",
        ratios[top],
        ">= 10",
        ratios[top] >= 10,
        f"stack R={top}; " + ", ".join(f"R={R}: {v:.1f}" for R, v in ratios.items()),
    )


if __name__ == "__main__":
    main()
