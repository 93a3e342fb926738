"""What the reproduction's figures plot: the points and series they select (no plotting here;
`figures.py` draws them)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from .. import theory
from ..analysis.observables import ClusterStats
from .checks.teacher_student import ts_scale
from .data import PAPER_E1, ExperimentData, PointRef

#: x of a pair (point, cluster) and the legend group of a point
XFun = Callable[[PointRef, ClusterStats], float]
Group = Callable[[PointRef], str]


def is_alpha_scan(p: PointRef) -> bool:
    return p.bs == 16 and any(math.isclose(p.alpha, a) for a in PAPER_E1)


def series(exp: ExperimentData, key: str, xfun: XFun, group: Group) -> dict[str, list[Any]]:
    """Per group: (x, value, error, (⟨S⟩, error)) of every degenerate pair."""
    out: dict[str, list[Any]] = {}
    for p in exp.points:
        for st in p.of_kind(2):
            v, e = p.value(st, key)
            out.setdefault(group(p), []).append((xfun(p, st), v, e, p.value(st, "mean_spacing")))
    return out


def group_lattice(p: PointRef) -> str:
    if is_alpha_scan(p):
        return "α scan, |B| = 16"
    return "|B| scan, α = 0.1" if math.isclose(p.alpha, 0.1) else "equal-α/|B| points"


def group_ts(p: PointRef) -> str:
    if not math.isclose(p.model.noise_strength, 0.1):
        return "ε scan"
    return "α scan" if p.bs == 16 and not math.isclose(p.alpha, 0.1) else "|B| scan"


def scaling_sets(lat: ExperimentData | None, ts: ExperimentData | None) -> list[tuple[Any, ...]]:
    """One figure row per experiment: (name, data, x of a pair, group of a point, x label, prediction)."""
    sets: list[tuple[Any, ...]] = []
    if lat is not None:
        sets.append(
            (
                "GRBM",
                lat,
                lambda p, st: st.predicted["sqrt_v"],
                group_lattice,
                "√(α(μ²−κ)/|B|)",
                math.sqrt(2 * math.pi),
            )
        )
    if ts is not None:
        sets.append(
            (
                "teacher–student",
                ts,
                lambda p, st: ts_scale(p),
                group_ts,
                "√(αA/|B|)",
                theory.ts_spacing_prefactor(0.1),
            )
        )
    return sets
