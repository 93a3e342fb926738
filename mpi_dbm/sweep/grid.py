"""The grid of tasks (point, replica) and the work units that group them.

A point is one (α, |B|) of one scan variant (scan.py; a config without [sweep.scan] has one
variant). Task id = point_index · replicas + replica. A work unit is one point and a
contiguous block of `block_size` replicas, so its tasks are a contiguous slice
of every task-indexed dataset. Units depend only on the config, never on the
number of ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import Config
from ..scan import Scalar
from ..streams import replica_seed


@dataclass(frozen=True)
class Point:
    index: int
    learning_rate: float
    batch_size: int
    variant: int = 0
    #: the scanned keys' values at this point ("model.noise_strength", 0.05), ...
    parameters: tuple[tuple[str, Scalar], ...] = ()

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
    return [
        Point(i, p.learning_rate, p.batch_size, p.variant, config.variants[p.variant].parameters)
        for i, p in enumerate(config.points)
    ]


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
    cols = point_table(config)
    point = np.repeat(np.arange(len(config.points)), reps)
    return {
        "point": point.astype(np.int64),
        "learning_rate": cols["learning_rate"][point],
        "batch_size": cols["batch_size"][point],
        "replica": np.tile(np.arange(reps, dtype=np.int64), len(config.points)),
    }


def point_table(config: Config) -> dict[str, np.ndarray]:
    """Per-point columns of `/points`: learning_rate, batch_size and, with a scan, `variant` and one
    column per scanned key (named as in [sweep.scan], e.g. "model.noise_strength"; strings as
    fixed-length UTF-8 bytes)."""
    pts = config.points
    cols: dict[str, np.ndarray] = {
        "learning_rate": np.array([p.learning_rate for p in pts], dtype=np.float64),
        "batch_size": np.array([p.batch_size for p in pts], dtype=np.int64),
    }
    if config.scan is None:
        return cols
    cols["variant"] = np.array([p.variant for p in pts], dtype=np.int64)
    for key in config.scanned_keys:
        values = [dict(config.variants[p.variant].parameters)[key] for p in pts]
        cols[key] = _column(values)
    return cols


def _column(values: list[Scalar]) -> np.ndarray:
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.bool_)
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return np.array(values, dtype=np.float64)
    encoded = [str(v).encode() for v in values]
    return np.array(encoded, dtype=f"S{max(1, *(len(e) for e in encoded))}")
