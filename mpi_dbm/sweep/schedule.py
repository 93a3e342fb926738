"""Which rank trains which work unit.

- static: longest-processing-time-first greedy assignment of unit costs to ranks
  (cost ∝ steps · replicas · the work per step of the unit's own model, ∝ |B| for the
  GRBM: variants.VariantModels.cost);
  within 4/3 of the optimal makespan (Graham 1969).
- dynamic: ranks claim units in decreasing cost order from a shared counter
  (see driver); the order is the same LPT order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence

from .grid import WorkUnit

#: a unit's cost (variants.VariantModels.cost: each scan variant's own model and steps)
UnitCost = Callable[[WorkUnit], float]


def lpt_order(units: Sequence[WorkUnit], cost: UnitCost) -> list[WorkUnit]:
    """Units sorted by decreasing cost (ties broken by unit index: deterministic)."""
    return sorted(units, key=lambda u: (-cost(u), u.index))


def static_assignment(units: Sequence[WorkUnit], cost: UnitCost, n_ranks: int) -> list[list[WorkUnit]]:
    """LPT greedy: each unit, largest first, goes to the least-loaded rank."""
    heap = [(0.0, rank) for rank in range(n_ranks)]
    plan: list[list[WorkUnit]] = [[] for _ in range(n_ranks)]
    for unit in lpt_order(units, cost):
        load, rank = heapq.heappop(heap)
        plan[rank].append(unit)
        heapq.heappush(heap, (load + cost(unit), rank))
    return plan
