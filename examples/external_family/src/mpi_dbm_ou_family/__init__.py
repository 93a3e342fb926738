"""An mpi-dbm model family in its own package: a symmetric matrix Ornstein–Uhlenbeck process.

    W ← W − α (W − W*) + α ξ/√|B|,   W* = centre·𝟙 (n×n),
    ξ symmetric Gaussian: Var ξ_ii = 2σ², Var ξ_ij = σ² (σ = `noise`; a GOE matrix).

The deviation D = W − W* obeys D' = (1 − α) D + α ξ/√|B|, so at stationarity D is a GOE matrix
with off-diagonal variance v = ασ²/((2 − α)|B|) (geometric series of the noise: α²σ²/|B| divided
by 1 − (1 − α)²), which at small α depends on α/|B| only (the linear scaling rule). The n
eigenvalues of W form one cluster around `centre` with ⟨(x − centre)²⟩ = (n + 1) v.

Everything mpi-dbm needs is the `FAMILY` object at the bottom, registered in pyproject.toml as

    [project.entry-points."mpi_dbm.models"]
    ou_matrix = "mpi_dbm_ou_family:FAMILY"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mpi_dbm.analysis.expect import Cluster, Expectation
from mpi_dbm.config import Config
from mpi_dbm.models import Family
from mpi_dbm.models.base import NON_FINITE, OUTSIDE_REGION, STABLE, Measurement, Model, SpectrumInfo
from mpi_dbm.streams import ReplicaStreams
from mpi_dbm.tables import Table

KIND = "ou_matrix"


# -- 1. the parameters: a frozen spec with `kind` and its canonical tables -----------------------
@dataclass(frozen=True)
class OUSpec:
    kind: str
    n: int
    centre: float
    noise: float  # σ
    init_std: float

    def to_tables(self) -> dict[str, dict[str, object]]:
        return {"model": {"kind": self.kind, "n": self.n, "centre": self.centre, "noise": self.noise,
                          "init_std": self.init_std}}  # fmt: skip


def parse(model: Table, target: Table) -> OUSpec:
    """`[model] kind = "ou_matrix"`: every key read through the Table, so mistakes get one message
    (unknown keys with a did-you-mean, wrong types, out-of-range values)."""
    spec = OUSpec(
        kind=KIND,
        n=model.integer("n", 6, minimum=1),
        centre=model.number("centre", 2.0, magnitude=1e6),
        noise=model.number("noise", 1.0, nonnegative=True, magnitude=1e6),
        init_std=model.number("init_std", 0.0, nonnegative=True, magnitude=1e6),
    )
    target.not_taken('[model] kind = "ou_matrix" takes no [target] table (its target is [model] centre)')
    return spec


# -- 2. the model: a stack of R replicas, every draw from the replica's own streams --------------
@dataclass
class OUState:
    W: np.ndarray  # (R, n, n), symmetric
    parked: np.ndarray  # (R,) bool


class OUMatrix(Model):
    def __init__(self, spec: OUSpec, shared_seed: np.random.SeedSequence) -> None:
        self.spec = spec

    @property
    def spectra(self) -> tuple[SpectrumInfo, ...]:
        return (SpectrumInfo("eigenvalues", self.spec.n, "eigenvalues of the symmetric matrix W, ascending"),)

    def init(self, streams: ReplicaStreams, batch_size: int) -> OUState:
        n, s = self.spec.n, self.spec
        W = np.stack([g.standard_normal((n, n)) for g in streams.init]) * (s.init_std / np.sqrt(2.0))
        W = W + W.transpose(0, 2, 1) + s.centre * np.eye(n)
        return OUState(W=W, parked=np.zeros(len(streams), dtype=bool))

    def step(self, state: OUState, learning_rate: float, batch_size: int, streams: ReplicaStreams) -> None:
        s = self.spec
        z = streams.normal((s.n, s.n))
        xi = (z + z.transpose(0, 2, 1)) * (s.noise / np.sqrt(2.0))  # GOE: 2σ² diagonal, σ² off
        state.W -= learning_rate * (state.W - s.centre * np.eye(s.n))
        state.W += (learning_rate / np.sqrt(batch_size)) * xi
        state.W[state.parked] = s.centre * np.eye(s.n)

    def measure(self, state: OUState) -> Measurement:
        W = np.where(np.isfinite(state.W), state.W, 0.0)
        deviation = W - self.spec.centre * np.eye(self.spec.n)
        loss = 0.5 * np.einsum("rij,rij->r", deviation, deviation)
        return Measurement(spectra={"eigenvalues": np.linalg.eigvalsh(W)}, scalars={"loss": loss})

    def unstable(self, state: OUState) -> np.ndarray:
        """The update is stable for 0 < α < 2: outside, |W| grows geometrically."""
        finite = np.isfinite(state.W).all(axis=(1, 2))
        big = np.abs(np.where(np.isfinite(state.W), state.W, 0.0)).max(axis=(1, 2)) > 1e6
        return np.where(~finite, NON_FINITE, np.where(big, OUTSIDE_REGION, STABLE)).astype(np.int8)

    def park(self, state: OUState, mask: np.ndarray) -> None:
        state.parked |= mask

    def work_per_step(self, batch_size: int) -> float:
        return float(4 * self.spec.n**2)  # |B| only scales the noise


# -- 3. what the analysis may expect: one GOE cluster of n levels at `centre` --------------------
class OUExpectation(Expectation):
    description = "matrix Ornstein-Uhlenbeck: one GOE cluster at centre, v = alpha sigma^2/((2 - alpha)|B|)"

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self.spec: OUSpec = config.model

    def clusters(self, spectrum: str, size: int) -> list[Cluster] | None:
        if spectrum != "eigenvalues" or size != self.spec.n:
            return None
        return [Cluster(0, size, self.spec.centre, f"c={self.spec.centre:g}")]

    def variance(
        self, spectrum: str, cluster: Cluster, learning_rate: float, batch_size: int
    ) -> float | None:
        if spectrum != "eigenvalues" or not 0 < learning_rate < 2:
            return None
        return learning_rate * self.spec.noise**2 / ((2.0 - learning_rate) * batch_size)


def _expectation(config: Any) -> Expectation:
    return OUExpectation(config)


FAMILY = Family(
    parse=parse,
    model=OUMatrix,
    expectation=_expectation,
    description="symmetric matrix Ornstein-Uhlenbeck process (example external family)",
)
