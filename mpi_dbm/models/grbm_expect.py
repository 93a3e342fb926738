"""What theory expects of the Gaussian RBM's spectrum X (physics.md §2.4–2.6), registered with
the family in models/__init__.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import theory
from ..expectation import Cluster, Expectation, InitialLaw, group_levels
from .grbm_spec import GRBMSpec

if TYPE_CHECKING:  # config imports the registry, which imports this module
    from ..config import Config


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
        if cluster.centre is None:
            return None  # a cluster detected from the data: no fixed point x*, no prediction
        return theory.grbm_pair_offdiag_variance(cluster.centre, learning_rate, batch_size)

    def _kappa(self, cluster: Cluster) -> float | None:
        """κ of the cluster's fixed point x* (None for a cluster detected from the data)."""
        if cluster.centre is None:
            return None
        return self.spec.mu**2 - self.spec.sigma_h**2 * cluster.centre

    def shift(self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int) -> float | None:
        if cluster.centre is None:
            return None  # the shifts belong to the family's clusters of X, not detected ones
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
        kappa = self._kappa(cluster)
        if kappa is None:
            return None
        return float(theory.grbm_relaxation_rate(np.array([kappa]), self.spec.mu, self.spec.sigma_h)[0])

    def target_ratio(self, spectrum: str, cluster: Cluster, centre: float) -> tuple[str, float] | None:
        kappa = self._kappa(cluster)
        if kappa is None:
            return None
        lam = self.spec.mu**2 - self.spec.sigma_h**2 * centre
        return "lambda_fit/kappa", lam / kappa
