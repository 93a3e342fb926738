"""The models of a sweep, one per scan variant (scan.py), built on first use, and unit costs."""

from __future__ import annotations

from .. import models
from ..config import Config
from ..models.base import Model
from ..streams import shared_data_seed
from .grid import WorkUnit


class VariantModels:
    """`models[v]`: the model of variant v (its spec and its shared data: [train] data_set), built once."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self._built: dict[int, Model] = {}

    def __getitem__(self, variant: int) -> Model:
        if variant not in self._built:
            v = self.config.variants[variant]
            seed = shared_data_seed(self.config.sweep.seed, v.train.data_set)
            self._built[variant] = models.build(v.model, seed)
        return self._built[variant]

    def of(self, unit: WorkUnit) -> Model:
        return self[unit.point.variant]

    def cost(self, unit: WorkUnit) -> float:
        """∝ steps · replicas · the model's work per step at the unit's |B| (schedule.unit_cost)."""
        steps = self.config.variants[unit.point.variant].train.steps
        return float(steps * unit.n_replicas * self.of(unit).work_per_step(unit.point.batch_size))
