"""What theory expects of the teacher–student spectra (physics.md §3.1), registered with the
family in models/__init__.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import theory
from ..expectation import Cluster, Expectation, InitialLaw, clusters_of
from .teacher_student import TeacherStudentSpec

if TYPE_CHECKING:  # config imports the registry, which imports this module
    from ..config import Config


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
        return clusters_of(levels, "w" if spectrum == "singular_values" else "w^2")

    def variance(
        self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int
    ) -> float | None:
        if cluster.centre is None:
            return None  # a cluster detected from the data: no teacher level, no prediction
        v = theory.ts_offdiag_variance(learning_rate, batch_size, self.spec.noise_strength**2)
        if spectrum == "singular_values":
            return v
        return 4.0 * cluster.centre * v  # x = w², δx ≈ 2w δw

    def initial_law(self, spectrum: str) -> InitialLaw | None:
        if spectrum != "WtW" or self.spec.init != "random" or not self.spec.init_std:
            return None
        return InitialLaw(scale=self.spec.init_std**2, ratio=1.0, normalisation=float(self.spec.n))

    def relaxation_rate(self, spectrum: str, cluster: Cluster) -> float | None:
        if cluster.centre is None:
            return None  # detected cluster: e.g. w = 0, where x = w² relaxes at 2, not 1
        return 1.0  # δW relaxes as (1 − α)ⁿ = e^{−t}, t = nα (C_x = 𝟙)
