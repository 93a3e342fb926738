"""What theory expects of the linear network's spectra (physics.md §3.2), registered with the
family in models/__init__.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import theory
from ..expectation import Cluster, Expectation, clusters_of
from .linear_spec import LinearSpec

if TYPE_CHECKING:  # config imports the registry, which imports this module
    from ..config import Config


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
        return clusters_of(self.levels, "w")

    def variance(
        self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int
    ) -> float | None:
        if not self.applies or spectrum == "W2W1_sv" or not cluster.centre:
            return None
        v = theory.linear_variance_profile(
            np.array([cluster.centre]), learning_rate, batch_size, self.spec.label_noise, len(self.spec.train)
        )
        return float(v[0, 0])
