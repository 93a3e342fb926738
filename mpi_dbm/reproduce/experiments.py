"""The experiments of the reproduction, defined once: name, what it is (physics.md §4, the §6
items it feeds) and the spectrum its checks read. The manifest (`reproduce.toml`) validates
its tables against these names, the checks look their spectrum up here and the CLI's `--only`
help lists them. Light on purpose (no numpy): `mpi_dbm.cli` imports it at start-up.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXPERIMENTS", "NAMES", "Experiment"]


@dataclass(frozen=True)
class Experiment:
    name: str
    description: str  # what it is (physics.md §4) and the §6 items it feeds
    spectrum: str  # the recorded spectrum the checks analyse


_ALL = (
    Experiment(
        "init",
        "learning from a random start: Marchenko-Pastur at step 0, fixed point, UV cut-off (items 8, 11)",
        "X",
    ),
    Experiment(
        "lattice",
        "E1, E2, E7: GRBM alpha and |B| scans on the lattice target, linear scaling (items 1-5, 9, 12)",
        "X",
    ),
    Experiment("long", "E3: long stationary GRBM runs, eigenvalue time series (item 10)", "X"),
    Experiment("cluster8", "E9: fully degenerate GRBM cluster, n = 8 (items 7, 9)", "X"),
    Experiment("cluster65", "E9: fully degenerate GRBM cluster, n = 65, semicircle (item 7)", "X"),
    Experiment("chain_lag", "GRBM n = 8 cluster, sampler x k scan: the persistent chains' lag (item 9)", "X"),
    Experiment(
        "ts", "E4, E5, E6: 2x2 teacher-student alpha, |B| and noise scans (items 4-6, 12)", "singular_values"
    ),
    Experiment("linear_one", "E10: linear one-hidden-layer net, one species (item 13)", "W1tW1"),
    Experiment("linear_two", "E10: linear one-hidden-layer net, two species (item 13)", "W1tW1"),
    Experiment(
        "multilayer",
        "E11: multilayer tanh net, SGD phase diagram in (T = alpha/|B|, eps) (arXiv:2509.01349, item 15)",
        "singular_values",
    ),
)

#: experiment name -> its definition, in the order of the table
EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in _ALL}
NAMES: tuple[str, ...] = tuple(EXPERIMENTS)
