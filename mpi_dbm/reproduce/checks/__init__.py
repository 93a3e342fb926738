"""The checks of physics.md §6, one module per item (or small group of items), behind an ordered
registry: `CHECKS` lists every check with the ids of the rows it returns, and `all_rows` runs
them and assembles the table by name.

Each check turns the experiments it needs (`data.Experiments`) into its rows (`rows.Row`, keyed
by id) with one part per mode, pair, point or sample; an experiment that was not run gives rows
without parts ("not run"). Conventions, stated once here and in docs/reproduction.md:

- statistics of a level or cluster at one (α, |B|) point come from `mpi_dbm.analysis`
  (pooled over the stationary window of each replica, jackknife over replicas);
- distribution tests (KS/χ², β, collapse) use one measurement per replica (the last one of the
  window), so their samples are independent;
- pooled values over points are weighted means and "x at T → 0" is the intercept of a weighted
  straight line in T = α/|B| (after dividing out a known O(α) discretisation factor where there
  is one): both scale their errors by √(χ²/dof) when that exceeds 1 (the Birge ratio);
  the pooled slopes y = a·x (2b, 2c, 6b, and 9 at a single α/|B|) are the analysis's
  proportional fit, whose errors are not scaled (its χ²/dof is quoted beside it); see
  `mpi_dbm.analysis.weighted` for the one fit and its error convention.

The table lists the rows by physics item (the order of `CHECKS`, except that a check may return
rows of a later item: item 12 is decided on the spacing sample of item 4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..data import Experiments
from ..rows import Row, Rows
from . import (
    chain_lag,
    clusters,
    dyson,
    goe2x2,
    initial,
    level_widths,
    linear_net,
    linear_scaling,
    multilayer,
    relaxation,
    shifts,
    surmise,
    teacher_student,
)

__all__ = ["CHECKS", "Check", "all_rows"]

#: what a check hands the figures besides its rows: name -> records
Extra = dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class Check:
    """One check: the physics items it decides, the ids of its rows and how it computes them."""

    items: tuple[int, ...]
    ids: tuple[str, ...]
    run: Callable[[Experiments], tuple[Rows, Extra]]


def _rows(fn: Callable[[Experiments], Rows]) -> Callable[[Experiments], tuple[Rows, Extra]]:
    return lambda ex: (fn(ex), {})


def _relaxation(ex: Experiments) -> tuple[Rows, Extra]:
    rows, detail = relaxation.check(ex)
    return rows, {"relaxation": detail}


def _ids(*templates: tuple[Row, ...]) -> tuple[str, ...]:
    return tuple(r.id for group in templates for r in group)


CHECKS: tuple[Check, ...] = (
    Check((1,), _ids(linear_scaling.ROWS), _rows(linear_scaling.check)),
    Check((2,), _ids(level_widths.ROWS_2), _rows(level_widths.check_2)),
    Check((3,), _ids(level_widths.ROWS_3), _rows(level_widths.check_3)),
    Check((4, 12), _ids(surmise.ROWS), _rows(surmise.check)),
    Check((5,), _ids(goe2x2.ROWS), _rows(goe2x2.check)),
    Check((6,), _ids(teacher_student.ROWS), _rows(teacher_student.check)),
    Check((7,), _ids(clusters.ROWS), _rows(clusters.check)),
    Check((8,), _ids(initial.ROWS_8), _rows(initial.check_8)),
    Check((9,), _ids(shifts.ROWS), _rows(shifts.check)),
    Check((9,), _ids(chain_lag.ROWS), _rows(chain_lag.check)),
    Check((10,), _ids(relaxation.ROWS), _relaxation),
    Check((11,), _ids(initial.ROWS_11), _rows(initial.check_11)),
    Check((13,), _ids(linear_net.ROWS), _rows(linear_net.check)),
    Check((14,), _ids(dyson.ROWS), _rows(dyson.check)),
    Check((15,), _ids(multilayer.ROWS), _rows(multilayer.check)),
)


def all_rows(ex: Experiments) -> tuple[list[Row], Extra]:
    """Every check's rows, ordered by physics item (stable: within an item, in registry order),
    and the checks' extra records. A check must return exactly the rows it declares."""
    rows: list[Row] = []
    extra: Extra = {}
    for check in CHECKS:
        got, more = check.run(ex)
        if tuple(got) != check.ids:
            raise RuntimeError(
                f"check of items {check.items} returned rows {list(got)}, declared {check.ids}"
            )
        rows += got.values()
        extra.update(more)
    rows.sort(key=lambda r: r.item)
    return rows, extra
