"""Model families and their registry: `[model] kind` -> (parser, model class).

A family registers a `parse(model_table, target_table) -> spec` function and a
model class built as `cls(spec, shared_seed)`. The driver, store and analysis
only see the `Model` interface (models/base.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..tables import Table
from . import grbm, linear, multilayer, teacher_student
from .base import Measurement, Model, SpectrumInfo


@dataclass(frozen=True)
class Family:
    parse: Callable[[Table, Table], Any]
    model: Callable[[Any, np.random.SeedSequence], Model]


REGISTRY: dict[str, Family] = {
    "grbm": Family(parse=grbm.parse, model=grbm.GRBM),
    "teacher_student": Family(parse=teacher_student.parse, model=teacher_student.TeacherStudent),
    "linear": Family(parse=linear.parse, model=linear.LinearNet),
    "multilayer": Family(parse=multilayer.parse, model=multilayer.Multilayer),
}


def build(spec: Any, shared_seed: np.random.SeedSequence) -> Model:
    """The model object for a validated spec (its `kind` selects the family)."""
    return REGISTRY[spec.kind].model(spec, shared_seed)


__all__ = ["REGISTRY", "Family", "Measurement", "Model", "SpectrumInfo", "build"]
