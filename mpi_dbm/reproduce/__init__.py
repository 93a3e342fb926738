"""`mpi-dbm reproduce`: run the paper's experiments (the recipes `mpi_dbm/recipes/<size>/` shipped
in the package, or `--recipes DIR`), analyse them, and compare
every checkable prediction of physics.md §6 with theory in one table (reproduction.json,
reproduction.html, figures).

    from mpi_dbm.reproduce import reproduce
    rep = reproduce("quick", "results/reproduce-quick", ranks=2)
    [(row.id, row.status) for row in rep.rows]

Modules, one job each:

- `experiments`: the experiment names, descriptions and spectra (defined once);
- `manifest`: reading and checking a size's `reproduce.toml` and its configs;
- `runner`, `jobs`: running the sweeps locally (resumably) or rendering cluster job scripts;
- `data`: the analyses of the results files as the points and clusters the checks compare;
- `checks/`: one module per physics item (or small group), behind the ordered registry
  `checks.CHECKS`; `rows`: a row and its parts, and how they are decided;
- `reproduction`: `reproduce`, `analyse`, `write_jobscripts` and the `Reproduction` result;
- `output`: reproduction.json and reproduction.html; `figures`: the matplotlib figures.

The package itself imports nothing heavy (the CLI reads `experiments.NAMES` at start-up); the
names below load `reproduction` on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .experiments import EXPERIMENTS

if TYPE_CHECKING:
    from .reproduction import SIZES, Reproduction, analyse, default_recipes, reproduce, write_jobscripts

__all__ = [
    "EXPERIMENTS",
    "SIZES",
    "Reproduction",
    "analyse",
    "default_recipes",
    "reproduce",
    "write_jobscripts",
]

_LAZY = frozenset(__all__) - {"EXPERIMENTS"}


def __getattr__(name: str) -> Any:
    """Load `reproduction` (numpy, h5py, the analysis) only when one of its names is used."""
    if name in _LAZY:
        from . import reproduction

        return getattr(reproduction, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
