"""What theory expects of a family's spectra: the `Expectation` contract a family registers
(models/__init__.py `Family.expectation`), its clusters and the initial law.

Every prediction is expressed through the off-diagonal variance v of the GOE block
a cluster of degenerate levels forms at stationarity (physics.md §1.6), so the
universal statements are the same for all models (analysis/expect.py holds them):
- single level: Var(x) = 2v (std = √2·√v);
- pair: ⟨S⟩ = √π σ = √(2π v) (σ² = 2v, the 2×2 GOE diagonal variance), ⟨s²⟩ = 4/π;
- n ≥ 3: ⟨(x − x*)²⟩ = (n + 1) v, semicircle radius R = 2√(n v) for large n.
A model family supplies the clusters (from its target), v at (α, |B|), the
predicted O(α/|B|) mean shift, the law of the initial spectrum and relaxation
rates, where theory has them. A building block: numpy only (the built-in families'
subclasses sit beside them in models/, the analysis reads them through the registry).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # config imports the registry, which imports this module
    from .config import Config

__all__ = ["Cluster", "Expectation", "InitialLaw", "clusters_of", "group_levels"]


@dataclass(frozen=True)
class Cluster:
    """Levels [start, stop) of the ascending spectrum that are (near-)degenerate."""

    start: int
    stop: int
    centre: float | None  # predicted centre (fixed point), None if detected from the data
    label: str

    @property
    def n(self) -> int:
        return self.stop - self.start

    @property
    def kind(self) -> str:
        return {1: "single", 2: "pair"}.get(self.n, "cluster")


@dataclass(frozen=True)
class InitialLaw:
    """Marchenko–Pastur law of the initial spectrum divided by `normalisation`."""

    scale: float  # s², the variance of the initial weights
    ratio: float  # q ≤ 1
    normalisation: float  # eigenvalues are divided by this before comparing with MP


def group_levels(levels: np.ndarray, rtol: float = 1e-6) -> list[tuple[int, int]]:
    """Runs of equal values in an ascending array, as [start, stop) index pairs."""
    runs = []
    start = 0
    for k in range(1, len(levels) + 1):
        if k == len(levels) or not math.isclose(levels[k], levels[start], rel_tol=rtol, abs_tol=1e-12):
            runs.append((start, k))
            start = k
    return runs


def clusters_of(levels: np.ndarray, unit: str) -> list[Cluster]:
    """One cluster per run of equal predicted levels, labelled `unit=value (single|pair|n-fold)`."""
    out = []
    for a, b in group_levels(levels):
        name = {1: "single", 2: "pair"}.get(b - a, f"{b - a}-fold cluster")
        out.append(Cluster(a, b, float(levels[a]), f"{unit}={levels[a]:.4g} ({name})"))
    return out


class Expectation:
    """Base: no theory (clusters are detected from the data, no predictions)."""

    description = (
        "no theory for this model and spectrum: clusters detected from the data; measured statistics "
        "and random-matrix comparisons (with their null models) only, no theory verdicts apply"
    )

    def __init__(self, config: Config) -> None:
        self.config = config

    def clusters(self, spectrum: str, size: int) -> list[Cluster] | None:
        return None

    def variance(
        self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int
    ) -> float | None:
        """Off-diagonal GOE variance v of the cluster at (α, |B|)."""
        return None

    def shift(self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int) -> float | None:
        """Predicted ⟨x⟩ − x* (mean over the cluster)."""
        return None

    def initial_law(self, spectrum: str) -> InitialLaw | None:
        return None

    def relaxation_rate(self, spectrum: str, cluster: Cluster) -> float | None:
        """Decay rate of the autocorrelation of δx in t = nα."""
        return None

    def target_ratio(self, spectrum: str, cluster: Cluster, centre: float) -> tuple[str, float] | None:
        """A model's own non-universal ratio (GRBM: λ_fit/κ), as (name, value)."""
        return None
