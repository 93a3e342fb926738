"""The grid of tasks (point, replica) and the work units that group them.

Task id = point_index · replicas + replica. A work unit is one point and a
contiguous block of `block_size` replicas, so its tasks are a contiguous slice
of every task-indexed dataset. Units depend only on the config, never on the
number of ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..streams import replica_seed


@dataclass(frozen=True)
class Point:
    index: int
    learning_rate: float
    batch_size: int

    @property
    def temperature(self) -> float:
        """T = α/|B|, the only combination the stationary state depends on (physics.md §1.3)."""
        return self.learning_rate / self.batch_size


@dataclass(frozen=True)
class WorkUnit:
    index: int
    point: Point
    replica_start: int
    replica_stop: int
    first_task: int

    @property
    def n_replicas(self) -> int:
        return self.replica_stop - self.replica_start

    @property
    def tasks(self) -> slice:
        return slice(self.first_task, self.first_task + self.n_replicas)

    def seeds(self, root_seed: int) -> list[np.random.SeedSequence]:
        return [
            replica_seed(root_seed, self.point.index, r) for r in range(self.replica_start, self.replica_stop)
        ]


def points(config: Config) -> list[Point]:
    return [Point(i, lr, bs) for i, (lr, bs) in enumerate(config.sweep.points)]


def work_units(config: Config) -> list[WorkUnit]:
    """All units in task order."""
    reps, block = config.sweep.replicas, config.sweep.block_size
    units: list[WorkUnit] = []
    for p in points(config):
        for start in range(0, reps, block):
            stop = min(start + block, reps)
            units.append(WorkUnit(len(units), p, start, stop, p.index * reps + start))
    return units


def task_table(config: Config) -> dict[str, np.ndarray]:
    """Per-task columns of `/tasks`: point, learning_rate, batch_size, replica."""
    reps = config.sweep.replicas
    pts = np.array(config.sweep.points, dtype=float).reshape(-1, 2)
    point = np.repeat(np.arange(len(pts)), reps)
    return {
        "point": point.astype(np.int64),
        "learning_rate": pts[point, 0],
        "batch_size": pts[point, 1].astype(np.int64),
        "replica": np.tile(np.arange(reps, dtype=np.int64), len(pts)),
    }
