"""What the analysis expects of a config's spectra: the family's `Expectation` from the model
registry (models/__init__.py), and the universal statements every family shares.

Every prediction is expressed through the off-diagonal variance v of the GOE block
a cluster of degenerate levels forms at stationarity (physics.md §1.6), so the
universal statements are the same for all models:
- single level: Var(x) = 2v (std = √2·√v);
- pair: ⟨S⟩ = √π σ = √(2π v) (σ² = 2v, the 2×2 GOE diagonal variance), ⟨s²⟩ = 4/π;
- n ≥ 3: ⟨(x − x*)²⟩ = (n + 1) v, semicircle radius R = 2√(n v) for large n.
The `Expectation` contract, `Cluster` and `InitialLaw` live in mpi_dbm/expectation.py (a
building block below the models) and are re-exported here, where families of other packages
import them from; each built-in family's expectation sits beside the family in models/.
"""

from __future__ import annotations

import math

import numpy as np

from ..config import Config
from ..expectation import Cluster, Expectation, InitialLaw, group_levels
from ..models import family
from ..models.grbm_expect import GRBMExpectation
from ..models.linear_expect import LinearExpectation
from ..models.teacher_student_expect import TeacherStudentExpectation

__all__ = [
    "UNIVERSAL_SLOPES",
    "Cluster",
    "Expectation",
    "GRBMExpectation",
    "InitialLaw",
    "LinearExpectation",
    "TeacherStudentExpectation",
    "cluster_rms_slope",
    "detect_clusters",
    "expectation_for",
    "group_levels",
]

#: slope of each observable against √v, for every model (see module docstring)
UNIVERSAL_SLOPES = {
    "single_std": math.sqrt(2.0),
    "pair_mean_spacing": math.sqrt(2.0 * math.pi),
    "pair_sqrt_pi_sigma": math.sqrt(2.0 * math.pi),
}


def cluster_rms_slope(n: int) -> float:
    return math.sqrt(n + 1.0)


def expectation_for(config: Config) -> Expectation:
    """What the analysis expects of this config's model: its family's registered `expectation`
    (built-in or from another package), else no prediction."""
    own = family(config.model.kind).expectation
    if own is not None:
        return own(config)  # type: ignore[no-any-return]
    return Expectation(config)


def detect_clusters(samples: np.ndarray, join: float = 2.0) -> list[Cluster]:
    """Clusters from the data: adjacent levels whose mean gap is below `join` × their joint spread.

    `samples`: (realisations, size), ascending rows. A fallback where the model gives no
    fixed point; two independent levels closer than about 2.8 standard deviations are
    joined, so treat detected clusters with care (the report says they were detected).
    """
    mean = np.nanmean(samples, axis=0)
    std = np.nanstd(samples, axis=0)
    out = []
    start = 0
    for k in range(1, len(mean) + 1):
        if k == len(mean) or mean[k] - mean[k - 1] >= join * math.hypot(std[k], std[k - 1]):
            name = {1: "single", 2: "pair"}.get(k - start, f"{k - start}-level cluster")
            out.append(Cluster(start, k, None, f"levels {start}..{k - 1} ({name}, detected)"))
            start = k
    return out
