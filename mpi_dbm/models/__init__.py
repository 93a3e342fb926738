"""Model families and their registry: `[model] kind` -> Family.

A family is one registry entry (`Family`): a `parse(model_table, target_table) -> spec` function
and a model class built as `cls(spec, shared_seed)` (models/base.py), plus, optionally, what the
analysis expects of its spectra (`expectation`: a class built as `cls(config)`, a subclass of
mpi_dbm/expectation.py's `Expectation`; None: the analysis reports measured statistics and RMT
comparisons without theory verdicts), and whether `run` may train it (`trainable`). The spec is
a frozen dataclass with a `kind` field and `to_tables()` (its canonical [model]/[target] tables,
which the config hash covers).

The built-in families are registered below; families of other packages are found through the
entry-point group `mpi_dbm.models` (an entry point `NAME = "package.module:FAMILY"` naming a
`Family`), so a package can add one without touching mpi-dbm (docs/extending.md). The driver,
store and analysis only see the `Model` interface.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..tables import Table
from . import grbm, linear, multilayer, teacher_student
from . import imported as imported_family
from .base import Measurement, Model, SpectrumInfo
from .grbm_expect import GRBMExpectation
from .linear_expect import LinearExpectation
from .teacher_student_expect import TeacherStudentExpectation

#: the entry-point group external packages register their families under
ENTRY_POINT_GROUP = "mpi_dbm.models"


@dataclass(frozen=True)
class Family:
    """Everything the core needs of a model family."""

    parse: Callable[[Table, Table], Any]
    model: Callable[[Any, np.random.SeedSequence], Model]
    #: what the analysis expects (an mpi_dbm.expectation.Expectation subclass), None: no prediction
    expectation: Callable[[Any], Any] | None = None
    description: str = ""
    #: False: the family only describes files made elsewhere (`mpi-dbm import`); `run` refuses it
    trainable: bool = True


BUILTIN: dict[str, Family] = {
    "grbm": Family(
        grbm.parse, grbm.GRBM, expectation=GRBMExpectation, description="Gaussian RBM (physics.md §2)"
    ),
    "teacher_student": Family(
        teacher_student.parse,
        teacher_student.TeacherStudent,
        expectation=TeacherStudentExpectation,
        description="N×N teacher–student (physics.md §3.1)",
    ),
    "linear": Family(
        linear.parse,
        linear.LinearNet,
        expectation=LinearExpectation,
        description="linear one-hidden-layer net (physics.md §3.2)",
    ),
    "multilayer": Family(
        multilayer.parse,
        multilayer.Multilayer,
        description="non-linear multilayer teacher–student (arXiv:2509.01349)",
    ),
    "imported": Family(
        imported_family.parse,
        imported_family.Imported,
        description="from mpi-dbm import",
        trainable=False,  # spectra made elsewhere: nothing to train
    ),
}


class _Broken:
    """A registered family whose entry point failed to load: usable only to report why."""

    def __init__(self, name: str, value: str, error: BaseException) -> None:
        self.message = (
            f"[model] kind = {name!r}: its package's entry point {value!r} (group {ENTRY_POINT_GROUP!r}) "
            f"failed to load: {type(error).__name__}: {error}"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise ConfigError(self.message)


@functools.cache
def families() -> Mapping[str, Family]:
    """The built-in families and those other installed packages register (entry points).

    A built-in name cannot be replaced; an entry point that fails to load, or names no Family,
    stays listed and gives one clear message when a config uses it (other kinds keep working).
    """
    found: dict[str, Family] = dict(BUILTIN)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN:
            continue
        try:
            family = ep.load()
            if callable(family) and not isinstance(family, Family):
                family = family()  # a factory returning the Family
            if not isinstance(family, Family):
                raise TypeError(f"expected an mpi_dbm.models.Family, got {type(family).__name__}")
        except Exception as exc:  # a broken plugin must not break the other families
            broken = _Broken(ep.name, ep.value, exc)
            family = Family(parse=broken, model=broken, description=broken.message)
        found[ep.name] = family
    return found


def family(kind: str) -> Family:
    """The family of `kind` (ConfigError naming the known kinds when there is none)."""
    known = families()
    if kind not in known:
        raise ConfigError(f"[model] kind = {kind!r}: no such model family; known: {', '.join(sorted(known))}")
    return known[kind]


def build(spec: Any, shared_seed: np.random.SeedSequence) -> Model:
    """The model object for a validated spec (its `kind` selects the family)."""
    return family(spec.kind).model(spec, shared_seed)


#: the built-in families (kept for callers of the first releases; use `families()`)
REGISTRY = BUILTIN

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "REGISTRY",
    "Family",
    "Measurement",
    "Model",
    "SpectrumInfo",
    "build",
    "families",
    "family",
]
