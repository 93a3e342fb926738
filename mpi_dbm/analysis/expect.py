"""What theory expects of each model's spectra: clusters, their GOE variance v, shifts.

Every prediction is expressed through the off-diagonal variance v of the GOE block
a cluster of degenerate levels forms at stationarity (physics.md §1.6), so the
universal statements are the same for all models:
- single level: Var(x) = 2v (std = √2·√v);
- pair: ⟨S⟩ = √π σ = √(2π v) (σ² = 2v, the 2×2 GOE diagonal variance), ⟨s²⟩ = 4/π;
- n ≥ 3: ⟨(x − x*)²⟩ = (n + 1) v, semicircle radius R = 2√(n v) for large n.
A model family supplies the clusters (from its target), v at (α, |B|), the
predicted O(α/|B|) mean shift, the law of the initial spectrum and relaxation
rates, where theory has them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .. import theory
from ..config import Config

if TYPE_CHECKING:
    from ..models.grbm import GRBMSpec
    from ..models.linear import LinearSpec
    from ..models.teacher_student import TeacherStudentSpec

#: slope of each observable against √v, for every model (see module docstring)
UNIVERSAL_SLOPES = {
    "single_std": math.sqrt(2.0),
    "pair_mean_spacing": math.sqrt(2.0 * math.pi),
    "pair_sqrt_pi_sigma": math.sqrt(2.0 * math.pi),
}


def cluster_rms_slope(n: int) -> float:
    return math.sqrt(n + 1.0)


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


class Expectation:
    """Base: no theory (clusters are detected from the data, no predictions)."""

    description = "no theory for this model and spectrum: clusters detected from the data"

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


class GRBMExpectation(Expectation):
    """Gaussian RBM, physics.md §2.4–2.6: clusters of equal x* = (μ² − κ)/σ_h², v = T x*."""

    description = "GRBM fixed point x* = (mu^2 - kappa)/sigma_h^2; v = (alpha/|B|) x* (physics.md §2.5)"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.spec: GRBMSpec = config.model
        self.levels = self.spec.fixed_point()

    def clusters(self, spectrum: str, size: int) -> list[Cluster] | None:
        if spectrum != "X" or size != len(self.levels):
            return None
        out = []
        for a, b in group_levels(self.levels):
            x = float(self.levels[a])
            kappa = self.spec.mu**2 - self.spec.sigma_h**2 * x
            name = {1: "single", 2: "pair"}.get(b - a, f"{b - a}-fold cluster")
            out.append(Cluster(a, b, x, f"kappa={kappa:.4g} ({name}, x*={x:.4g})"))
        return out

    def variance(
        self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int
    ) -> float | None:
        assert cluster.centre is not None
        return theory.grbm_pair_offdiag_variance(cluster.centre, learning_rate, batch_size)

    def _kappa(self, cluster: Cluster) -> float:
        assert cluster.centre is not None
        return self.spec.mu**2 - self.spec.sigma_h**2 * cluster.centre

    def shift(self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int) -> float | None:
        if self.spec.sigma_h != 1.0 or self.spec.n_hidden < self.spec.n_visible:
            return None  # the §2.6 formula assumes σ_h = 1 and all modes learned
        kappa = np.sort(self.spec.kappa())
        if len(np.unique(np.round(kappa, 12))) == 1:
            return theory.grbm_degenerate_mean_shift(
                len(kappa), float(kappa[0]), self.spec.mu, learning_rate, batch_size
            )
        shifts = theory.grbm_mean_shift(kappa, self.spec.mu, learning_rate, batch_size)
        x = theory.grbm_fixed_point(kappa, self.spec.mu)
        order = np.argsort(x)  # recorded spectrum is ascending in x
        return float(np.mean(shifts[order][cluster.start : cluster.stop]))

    def initial_law(self, spectrum: str) -> InitialLaw | None:
        s = self.spec
        if spectrum != "X" or s.init != "random":
            return None
        big, small = max(s.n_visible, s.n_hidden), min(s.n_visible, s.n_hidden)
        return InitialLaw(scale=s.init_std**2, ratio=small / big, normalisation=float(big))

    def relaxation_rate(self, spectrum: str, cluster: Cluster) -> float | None:
        return float(
            theory.grbm_relaxation_rate(np.array([self._kappa(cluster)]), self.spec.mu, self.spec.sigma_h)[0]
        )

    def target_ratio(self, spectrum: str, cluster: Cluster, centre: float) -> tuple[str, float] | None:
        lam = self.spec.mu**2 - self.spec.sigma_h**2 * centre
        return "lambda_fit/kappa", lam / self._kappa(cluster)


def _clusters_of(levels: np.ndarray, unit: str) -> list[Cluster]:
    out = []
    for a, b in group_levels(levels):
        name = {1: "single", 2: "pair"}.get(b - a, f"{b - a}-fold cluster")
        out.append(Cluster(a, b, float(levels[a]), f"{unit}={levels[a]:.4g} ({name})"))
    return out


class TeacherStudentExpectation(Expectation):
    """Teacher–student, physics.md §3.1: the student's spectrum is a GOE block around the
    teacher's, v = αA/((2 − α)|B|) for the singular values (A = ε²), 4w²v for W_sᵀW_s."""

    description = "teacher-student: student = teacher + GOE, v = alpha A/((2 - alpha)|B|) (physics.md §3.1)"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.spec: TeacherStudentSpec = config.model
        self.teacher = np.sort(np.abs(np.array(self.spec.teacher_eigenvalues, dtype=float)))

    def _levels(self, spectrum: str) -> np.ndarray | None:
        if spectrum == "singular_values":
            return self.teacher
        if spectrum == "WtW":
            return np.sort(self.teacher**2)
        return None

    def clusters(self, spectrum: str, size: int) -> list[Cluster] | None:
        levels = self._levels(spectrum)
        if levels is None or size != len(levels) or np.any(levels <= 0):
            return None
        return _clusters_of(levels, "w" if spectrum == "singular_values" else "w^2")

    def variance(
        self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int
    ) -> float | None:
        v = theory.ts_offdiag_variance(learning_rate, batch_size, self.spec.noise_strength**2)
        if spectrum == "singular_values":
            return v
        assert cluster.centre is not None
        return 4.0 * cluster.centre * v  # x = w², δx ≈ 2w δw

    def initial_law(self, spectrum: str) -> InitialLaw | None:
        if spectrum != "WtW" or self.spec.init != "random" or not self.spec.init_std:
            return None
        return InitialLaw(scale=self.spec.init_std**2, ratio=1.0, normalisation=float(self.spec.n))

    def relaxation_rate(self, spectrum: str, cluster: Cluster) -> float | None:
        return 1.0  # δW relaxes as (1 − α)ⁿ = e^{−t}, t = nα (C_x = 𝟙)


class LinearExpectation(Expectation):
    """Linear net at a balanced minimum, physics.md §3.2 (square, label noise only):
    W₁ᵀW₁ and W₂W₂ᵀ have the teacher's singular values w as levels, species s with
    v_ss = (TA/2)(2w²)/(2w) = TAw/2 (both layers trained) or TAw (one layer)."""

    description = (
        "linear net, balanced minimum, label noise A: v_s = (alpha/|B|) A w_s / 2 per trained-layer pair"
    )

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        s: LinearSpec = config.model
        self.spec = s
        self.applies = s.n_in == s.n_hidden == s.n_out and s.label_noise > 0 and s.gradient_noise == 0
        n = min(s.n_in, s.n_out)
        values = s.singular_values()
        self.levels = np.sort(np.concatenate([values, np.zeros(n - len(values))]))

    def clusters(self, spectrum: str, size: int) -> list[Cluster] | None:
        if spectrum not in ("W1tW1", "W2W2t", "W2W1_sv") or size != len(self.levels):
            return None
        return _clusters_of(self.levels, "w")

    def variance(
        self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int
    ) -> float | None:
        if not self.applies or spectrum == "W2W1_sv" or not cluster.centre:
            return None
        v = theory.linear_variance_profile(
            np.array([cluster.centre]), learning_rate, batch_size, self.spec.label_noise, len(self.spec.train)
        )
        return float(v[0, 0])


EXPECTATIONS: dict[str, type[Expectation]] = {
    "grbm": GRBMExpectation,
    "teacher_student": TeacherStudentExpectation,
    "linear": LinearExpectation,
}


def expectation_for(config: Config) -> Expectation:
    """What the analysis expects of this config's model: the family's own `expectation` (a
    registry entry, e.g. of an external package), else the built-in one, else no prediction."""
    from ..models import family

    own = family(config.model.kind).expectation
    if own is not None:
        return own(config)  # type: ignore[no-any-return]
    return EXPECTATIONS.get(config.model.kind, Expectation)(config)


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
