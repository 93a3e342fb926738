"""Which rank trains which work unit.

- static: longest-processing-time-first greedy assignment of unit costs to ranks
  (cost ∝ steps · replicas · the model's work per step, ∝ |B| for the GRBM);
  within 4/3 of the optimal makespan (Graham 1969).
- dynamic: ranks claim units in decreasing cost order from a shared counter
  (see driver); the order is the same LPT order.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from ..models.base import Model
from .grid import WorkUnit


def unit_cost(unit: WorkUnit, model: Model, steps: int) -> float:
    return steps * unit.n_replicas * model.work_per_step(unit.point.batch_size)


def lpt_order(units: Sequence[WorkUnit], model: Model, steps: int) -> list[WorkUnit]:
    """Units sorted by decreasing cost (ties broken by unit index: deterministic)."""
    return sorted(units, key=lambda u: (-unit_cost(u, model, steps), u.index))


def static_assignment(
    units: Sequence[WorkUnit], model: Model, steps: int, n_ranks: int
) -> list[list[WorkUnit]]:
    """LPT greedy: each unit, largest first, goes to the least-loaded rank."""
    heap = [(0.0, rank) for rank in range(n_ranks)]
    plan: list[list[WorkUnit]] = [[] for _ in range(n_ranks)]
    for unit in lpt_order(units, model, steps):
        load, rank = heapq.heappop(heap)
        plan[rank].append(unit)
        heapq.heappush(heap, (load + unit_cost(unit, model, steps), rank))
    return plan
