"""Cost estimate of a sweep, measured with the real trainer (not asserted)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from . import models
from .config import Config
from .streams import ReplicaStreams, replica_seed, shared_data_seed
from .train import train_stack


@dataclass(frozen=True)
class CostEstimate:
    n_points: int
    n_tasks: int
    n_units: int
    replica_steps: int
    core_seconds: float
    file_bytes: int
    steps_timed: int


def estimate(config: Config, budget_seconds: float = 1.0) -> CostEstimate:
    """Time a short run of one unit per distinct batch size; extrapolate to the sweep.

    Total = Σ_points replicas · steps / (measured replica-steps per second at that |B|).
    """
    from .sweep.grid import work_units  # local: keeps `config check` import light

    model = models.build(config.model, shared_data_seed(config.sweep.seed))
    batch_sizes = sorted({bs for _, bs in config.sweep.points})
    block = config.sweep.block_size
    per_size = budget_seconds / len(batch_sizes)
    rate: dict[int, float] = {}
    steps_timed = 0
    for bs in batch_sizes:
        lr = min(lr for lr, b in config.sweep.points if b == bs)
        n = 20
        while True:
            streams = ReplicaStreams([replica_seed(0, 0, r) for r in range(block)])
            t = time.perf_counter()
            train_stack(model, lr, bs, streams, n, n, n)
            dt = time.perf_counter() - t
            if dt > per_size / 4 or n >= config.train.steps:
                break
            n *= 4
        steps_timed = max(steps_timed, n)
        rate[bs] = block * n / dt
    steps = config.train.steps
    reps = config.sweep.replicas
    core_seconds = sum(reps * steps / rate[bs] for _, bs in config.sweep.points)
    n_meas = len(config.train.measure_steps)
    per_task = n_meas * (sum(s.size for s in model.spectra) + len(model.scalars)) * 8 + 40
    return CostEstimate(
        n_points=len(config.sweep.points),
        n_tasks=config.n_tasks,
        n_units=len(work_units(config)),
        replica_steps=config.n_tasks * steps,
        core_seconds=core_seconds,
        file_bytes=config.n_tasks * per_task,
        steps_timed=steps_timed,
    )
