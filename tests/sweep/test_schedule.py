"""Grid and scheduling: every task in exactly one unit, static plans balanced."""

from __future__ import annotations

import numpy as np

from mpi_dbm import config
from mpi_dbm.sweep.grid import task_table, work_units
from mpi_dbm.sweep.schedule import lpt_order, static_assignment
from mpi_dbm.sweep.variants import VariantModels

CFG = """
[sweep]
replicas = 10
block_size = 4
learning_rates = [0.02, 0.04]
batch_sizes = [4, 16, 64, 256]
[model]
kind = "grbm"
[train]
steps = 10
"""


def setup():
    cfg = config.parse_text(CFG)
    return cfg, VariantModels(cfg).cost, work_units(cfg)


def test_units_cover_every_task_once_in_contiguous_blocks():
    cfg, _, units = setup()
    covered = np.zeros(cfg.n_tasks, dtype=int)
    table = task_table(cfg)
    for u in units:
        covered[u.tasks] += 1
        assert u.n_replicas <= 4
        assert np.all(table["point"][u.tasks] == u.point.index)
        np.testing.assert_array_equal(table["replica"][u.tasks], np.arange(u.replica_start, u.replica_stop))
        assert np.all(table["batch_size"][u.tasks] == u.point.batch_size)
    assert np.all(covered == 1)
    assert len(units) == 8 * 3  # 10 replicas in blocks of 4, 4, 2


def test_static_plan_assigns_each_unit_once_and_balances_cost():
    _cfg, cost, units = setup()
    total = sum(cost(u) for u in units)
    largest = max(cost(u) for u in units)
    for ranks in (1, 2, 3, 5):
        plan = static_assignment(units, cost, ranks)
        assert sorted(u.index for rank in plan for u in rank) == list(range(len(units)))
        loads = [sum(cost(u) for u in rank) for rank in plan]
        # LPT bound: makespan ≤ mean load + largest unit
        assert max(loads) <= total / ranks + largest


def test_lpt_order_is_decreasing_cost_and_deterministic():
    _, cost, units = setup()
    order = lpt_order(units, cost)
    costs = [cost(u) for u in order]
    assert costs == sorted(costs, reverse=True)
    assert [u.index for u in order] == [u.index for u in lpt_order(list(reversed(units)), cost)]
