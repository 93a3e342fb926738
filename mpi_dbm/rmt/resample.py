"""Resampling errors over realisations (the first axis of the data).

* Delete-one jackknife (Quenouille–Tukey; as in the authors' analysis, physics.md §5.1):
  θ_(i) = statistic(data without unit i), error = √(n − 1) · std(θ_(·)) (population std),
  i.e. √((n − 1)/n · Σ (θ_(i) − θ̄)²). For a mean this is exactly the standard error of the mean.
* Blockwise jackknife: the same with n_blocks contiguous groups of units left out in turn
  (error = √(B − 1) · std over the B leave-one-block-out estimates).
* Bootstrap (Efron): resample units with replacement from a Generator; error = std (ddof = 1).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ._base import InsufficientDataError, as_generator

__all__ = ["ResampleResult", "bootstrap", "jackknife"]

Statistic = Callable[[np.ndarray], float | np.ndarray]


@dataclass(frozen=True, eq=False)
class ResampleResult:
    """Full-sample estimate, resampling error and the replicate estimates."""

    estimate: float | np.ndarray
    error: float | np.ndarray
    replicates: np.ndarray
    method: str
    n_groups: int

    @property
    def bias(self) -> float | np.ndarray:
        """Jackknife bias estimate (n − 1)(θ̄ − θ̂); the bootstrap analogue θ̄ − θ̂."""
        mean = self.replicates.mean(axis=0)
        factor = self.n_groups - 1 if self.method.endswith("jackknife") else 1
        return _scalar(factor * (mean - np.asarray(self.estimate)))

    def __iter__(self) -> Iterator[float | np.ndarray]:
        return iter((self.estimate, self.error))


def _scalar(x: np.ndarray) -> float | np.ndarray:
    x = np.asarray(x, dtype=float)
    return float(x) if x.ndim == 0 else x


def jackknife(
    data: np.ndarray,
    statistic: Statistic,
    *,
    n_blocks: int | None = None,
    blocks: str = "contiguous",
) -> ResampleResult:
    """Delete-one (``n_blocks=None``) or blockwise jackknife of ``statistic`` over axis 0.

    ``statistic`` maps an array of units (same trailing shape as ``data``) to a scalar or a vector.
    Blocks are ``"contiguous"`` runs of units (for serially correlated units) or ``"strided"``
    (unit i in block i mod B; for ordered but independent units, e.g. a sorted sample).
    """
    x = np.asarray(data)
    n = x.shape[0]
    if n < 2:
        raise InsufficientDataError(2, n, "units for the jackknife")
    full = np.asarray(statistic(x), dtype=float)
    if n_blocks is None or n_blocks >= n:
        groups = [np.array([i]) for i in range(n)]
        method = "delete-one jackknife"
    else:
        if n_blocks < 2:
            raise ValueError("n_blocks must be at least 2")
        if blocks == "contiguous":
            groups = np.array_split(np.arange(n), n_blocks)
        elif blocks == "strided":
            groups = [np.arange(i, n, n_blocks) for i in range(n_blocks)]
        else:
            raise ValueError(f"blocks must be 'contiguous' or 'strided', got {blocks!r}")
        method = f"{blocks} blockwise jackknife"
    keep = np.ones(n, dtype=bool)
    reps = []
    for g in groups:
        keep[g] = False
        reps.append(np.asarray(statistic(x[keep]), dtype=float))
        keep[g] = True
    rep = np.stack(reps)
    b = len(groups)
    err = np.sqrt(b - 1.0) * rep.std(axis=0)
    return ResampleResult(_scalar(full), _scalar(err), rep, method, b)


def bootstrap(
    data: np.ndarray,
    statistic: Statistic,
    rng: np.random.Generator | int,
    *,
    n_resamples: int = 1000,
) -> ResampleResult:
    """Bootstrap of ``statistic`` over axis 0 (units drawn with replacement); error = std."""
    x = np.asarray(data)
    n = x.shape[0]
    if n < 2:
        raise InsufficientDataError(2, n, "units for the bootstrap")
    gen = as_generator(rng)
    full = np.asarray(statistic(x), dtype=float)
    rep = np.stack([np.asarray(statistic(x[gen.integers(0, n, n)]), dtype=float) for _ in range(n_resamples)])
    return ResampleResult(_scalar(full), _scalar(rep.std(axis=0, ddof=1)), rep, "bootstrap", n_resamples)
