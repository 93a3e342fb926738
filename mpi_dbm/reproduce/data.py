"""Data access for the checks: the analyses of the reproduction's results files, wrapped as the
points (one (α, |B|) setting of one sweep) and level clusters the checks compare.

Statistics of a level or cluster at one point come from `mpi_dbm.analysis` (pooled over the
stationary window of each replica, jackknife over replicas); distribution tests use one
measurement per replica (`PointRef.one_per_replica`), so their samples are independent.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..analysis import Analysis
from ..analysis.data import PointData
from ..analysis.observables import ClusterStats
from ..config import Config
from .manifest import Run

#: the authors' grid (physics.md §4): E1 alpha scan at |B| = 16 and E2 |B| scan at alpha = 0.1
PAPER_E1 = (0.01, 0.02, 0.04, 0.06, 0.08, 0.1)
PAPER_E2 = (4, 8, 16, 32, 64)


@dataclass
class RunData:
    """One results file of an experiment and its analysis (over the recipe's window)."""

    run: Run
    analysis: Analysis

    @property
    def config(self) -> Config:
        return self.run.config


@dataclass(frozen=True)
class PointRef:
    """One (α, |B|) point of one run, seen through one spectrum."""

    run: RunData
    point: PointData
    spectrum: str

    @property
    def alpha(self) -> float:
        return self.point.learning_rate

    @property
    def bs(self) -> int:
        return self.point.batch_size

    @property
    def T(self) -> float:
        return self.point.temperature

    @property
    def label(self) -> str:
        return f"({self.alpha:g}, {self.bs})"  # the checks add the parameters they compare

    @property
    def model(self) -> Any:  # the family's spec at this point (GRBMSpec, ...; a scan's own variant)
        return self.run.config.variants[self.point.variant].model

    @property
    def stats(self) -> list[ClusterStats]:
        return self.run.analysis.stats.get((self.spectrum, self.point.index), [])

    def of_kind(self, n: int) -> list[ClusterStats]:
        """The clusters of n levels (1: single modes, 2: degenerate pairs)."""
        return [s for s in self.stats if s.cluster.n == n]

    def clusters(self) -> list[ClusterStats]:
        """The clusters of 3 or more levels."""
        return [s for s in self.stats if s.cluster.n >= 3]

    def matching(self, st: ClusterStats) -> ClusterStats:
        """This point's cluster over the same levels as `st` (of another point of the experiment)."""
        return next(s for s in self.stats if same_cluster(s, st))

    def one_per_replica(self) -> np.ndarray:
        """(replicas, size): replica r at window measurement r mod W, so the rows are independent and
        spread over the window (the teacher–student snapshots then sit at different positions of the
        shared data set, whose common bias would otherwise shift every replica alike)."""
        s = self.point.samples[self.spectrum]
        rows: np.ndarray = s[np.arange(s.shape[0]), np.arange(s.shape[0]) % s.shape[1]]
        return rows

    def value(self, st: ClusterStats, key: str) -> tuple[float, float]:
        """(value, error) of an analysed statistic of cluster `st`; NaNs when it was not computed."""
        d = st.values.get(key)
        return (d["value"], d["error"]) if d else (math.nan, math.nan)


@dataclass
class ExperimentData:
    """The analysed runs of one experiment, read through its spectrum."""

    name: str
    spectrum: str
    runs: list[RunData] = field(default_factory=list)

    @property
    def points(self) -> list[PointRef]:
        return [
            PointRef(r, p, self.spectrum)
            for r in self.runs
            for p in r.analysis.dataset.points
            if (self.spectrum, p.index) in r.analysis.stats
        ]

    def find(self, alpha: float, bs: int, pred: Callable[[PointRef], bool] | None = None) -> PointRef | None:
        for p in self.points:
            if math.isclose(p.alpha, alpha) and p.bs == bs and (pred is None or pred(p)):
                return p
        return None


#: experiment name -> its data; an experiment that was not run is absent
Experiments = dict[str, ExperimentData]


def centre_of(st: ClusterStats) -> float:
    """The predicted centre x* of a cluster (the checks use predicted clusters only)."""
    if st.cluster.centre is None:
        raise ValueError(f"cluster {st.cluster.label} has no predicted centre")
    return st.cluster.centre


def kappa_of(p: PointRef, st: ClusterStats) -> float:
    """The target eigenvalue κ of a GRBM cluster: κ = μ² − σ_h²·x* (physics.md §2.4)."""
    m = p.model
    kappa: float = m.mu**2 - m.sigma_h**2 * centre_of(st)
    return kappa


def kappa_label(p: PointRef, st: ClusterStats) -> str:
    kind = {1: "single", 2: "pair"}.get(st.cluster.n, f"{st.cluster.n} levels")
    return f"κ={kappa_of(p, st):.4g} {kind}"


def same_cluster(a: ClusterStats, b: ClusterStats) -> bool:
    return a.cluster.start == b.cluster.start and a.cluster.stop == b.cluster.stop


def pair_spacings_last(p: PointRef, st: ClusterStats) -> np.ndarray:
    """The pair's spacings, one per replica (`one_per_replica`), normalised to mean 1."""
    last = p.one_per_replica()[:, st.cluster.start : st.cluster.stop]
    s = last[:, 1] - last[:, 0]
    s = s[np.isfinite(s)]
    out: np.ndarray = s / s.mean() if s.size else s
    return out


def paper_grid(p: PointRef) -> bool:
    """The point is one of the authors' E1 + E2 settings."""
    return (p.bs == 16 and any(math.isclose(p.alpha, a) for a in PAPER_E1)) or (
        math.isclose(p.alpha, 0.1) and p.bs in PAPER_E2
    )
