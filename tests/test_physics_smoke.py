"""Linear scaling rule, measured on real PCD training (physics.md §2.5, §6 items 1 and 3).

The κ = 4 mode (x* = μ² − κ = 5, the largest eigenvalue of X) is non-degenerate, so at
stationarity Var(x) = 2 (α/|B|) x*. Two points at equal α/|B| must give the same
variance (within statistical error), and both must match the prediction within 20%.
"""

from __future__ import annotations

import numpy as np

from mpi_dbm import config, models
from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
from mpi_dbm.train import train_stack

CFG = """
[sweep]
replicas = 48
points = [[0.02, 16], [0.04, 32]]
[model]
kind = "grbm"
init = "fixed_point"
[train]
steps = 4000
"""
BURN_IN = 1000  # steps; the κ=4 mode relaxes at rate 2Ω = 0.625 per unit t = nα (t ≥ 20 here)
EVERY = 100  # steps between samples: ≥ one relaxation time at α = 0.04, ~ 0.8 of it at 0.02


def top_mode_variance(lr: float, bs: int, point: int) -> tuple[float, float]:
    """Variance of the top eigenvalue over replicas × time, and its standard error (over replicas)."""
    cfg = config.parse_text(CFG)
    model = models.build(cfg.model, shared_data_seed(0))
    seeds = [replica_seed(2024, point, r) for r in range(cfg.sweep.replicas)]
    res = train_stack(model, lr, bs, ReplicaStreams(seeds), cfg.train.steps, EVERY, EVERY)
    assert not res.diverged.any()
    x = res.spectra["X"][:, BURN_IN // EVERY :, -1]  # (replicas, samples)
    dev2 = (x - x.mean()) ** 2
    per_replica = dev2.mean(axis=1)  # replicas are independent
    return float(per_replica.mean()), float(per_replica.std(ddof=1) / np.sqrt(len(per_replica)))


def test_equal_temperature_gives_equal_variance_and_matches_theory(record_property):
    x_star = 5.0
    results = {}
    for point, (lr, bs) in enumerate([(0.02, 16), (0.04, 32)]):
        var, err = top_mode_variance(lr, bs, point)
        pred = 2 * lr / bs * x_star
        results[(lr, bs)] = (var, err, pred)
        record_property(f"var_ratio_{lr}_{bs}", var / pred)
        print(
            f"alpha={lr} |B|={bs}: Var(x_top) = {var:.5f} ± {err:.5f}, prediction {pred:.5f}, "
            f"ratio {var / pred:.3f} ± {err / pred:.3f}"
        )
        assert abs(var / pred - 1) < 0.2
    (v1, e1, _), (v2, e2, _) = results.values()
    z = abs(v1 - v2) / np.hypot(e1, e2)
    print(f"equal alpha/|B|: difference {v1 - v2:+.5f}, z = {z:.2f}")
    assert z < 3
