"""The contract between a model family and the trainer, driver and store.

A model knows nothing of MPI or files: it initialises a stack of R replicas,
advances them one SGD step at a time, and reports the spectra of the matrices
that are recorded. Every array has a leading replica axis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..streams import ReplicaStreams

#: divergence reasons recorded in /tasks/diverged_reason
STABLE, NON_FINITE, OUTSIDE_REGION = 0, 1, 2
DIVERGENCE_REASONS = {
    STABLE: "none",
    NON_FINITE: "non-finite values",
    OUTSIDE_REGION: "left the stability region",
}


@dataclass(frozen=True)
class SpectrumInfo:
    """One recorded spectrum: dataset `/spectra/<name>` of `size` values per measurement."""

    name: str
    size: int
    description: str


@dataclass(frozen=True)
class Measurement:
    """Spectra (name -> (R, size), ascending) and scalars (name -> (R,)) of a stack."""

    spectra: dict[str, np.ndarray]
    scalars: dict[str, np.ndarray]


class Model(ABC):
    """A model family at fixed hyper-parameters (its frozen spec)."""

    spec: Any

    @property
    @abstractmethod
    def spectra(self) -> tuple[SpectrumInfo, ...]:
        """The spectra recorded at each measurement, in store order."""

    @property
    def scalars(self) -> tuple[str, ...]:
        """Scalar observables recorded at each measurement."""
        return ("loss",)

    @abstractmethod
    def init(self, streams: ReplicaStreams, batch_size: int) -> Any:
        """Initial state of a stack of len(streams) replicas."""

    @abstractmethod
    def step(self, state: Any, learning_rate: float, batch_size: int, streams: ReplicaStreams) -> None:
        """One SGD update of every replica, in place."""

    @abstractmethod
    def measure(self, state: Any) -> Measurement:
        """Spectra and scalars of every replica."""

    @abstractmethod
    def unstable(self, state: Any) -> np.ndarray:
        """Divergence code per replica (R,): 0 fine, NON_FINITE, or OUTSIDE_REGION.

        A boolean array is accepted too (True counts as NON_FINITE)."""

    @abstractmethod
    def park(self, state: Any, mask: np.ndarray) -> None:
        """Put replicas in `mask` in a harmless state (they are diverged and no longer recorded)."""

    def work_per_step(self, batch_size: int) -> float:
        """Relative cost of one step of one replica (for cost-balanced scheduling)."""
        return float(batch_size)
