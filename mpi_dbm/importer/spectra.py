"""Spectra of imported matrices, as a run records them, and their entry-shuffled null models.

Per configuration (a point of the file) and key: `gram_eigenvalues` of every (replica, snapshot)
matrix. A replica with a non-finite entry in any imported matrix at some snapshot is recorded
like a run's diverged replica: status diverged at that snapshot's step (reason "non-finite
values"), its spectra NaN from that snapshot on; `analyze` leaves it out and counts it.

Null model `NAME.shuffled`: the same spectrum of a copy of each matrix with its entries randomly
permuted (same entries, no structure), the permutation drawn from
`numpy.random.default_rng(SeedSequence(seed, spawn_key=(point, replica, snapshot)))`, one
permutation per key in --key order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..models.base import NON_FINITE, STABLE
from ..models.imported import gram_eigenvalues
from .options import SHUFFLED
from .sources import Configuration


@dataclass(frozen=True)
class PointSpectra:
    """What one configuration contributes to the file (the rows of its tasks)."""

    spectra: dict[str, np.ndarray]  # name -> (replicas, snapshots, size)
    diverged_step: np.ndarray  # (replicas,) int64, -1 if finite throughout
    diverged_reason: np.ndarray  # (replicas,) int8


def describe(key: str, shape: tuple[int, ...], shuffled: bool) -> str:
    n, m = shape
    gram = f"{key} {key}^T" if n <= m else f"{key}^T {key}"
    if not shuffled:
        return f"eigenvalues of {gram} (the smaller Gram matrix) of the imported {n}x{m} matrix, ascending"
    return (
        f"null model of {key!r}: eigenvalues of {gram} (the smaller Gram matrix), ascending, of a copy of "
        f"the imported {n}x{m} matrix with its entries randomly permuted (numpy Generator of "
        "SeedSequence(seed, spawn_key=(point, replica, snapshot)))"
    )


def spectrum_names(keys: tuple[str, ...], shuffled: bool) -> list[str]:
    return [n for k in keys for n in ((k, k + SHUFFLED) if shuffled else (k,))]


def point_spectra(
    conf: Configuration, point: int, seed: int, steps: np.ndarray, shuffled: bool
) -> PointSpectra:
    """The spectra of one configuration (see the module docstring for divergence and the null model)."""
    reps, snaps = conf.shape
    bad = np.zeros((reps, snaps), dtype=bool)
    for m in conf.matrices.values():
        bad |= ~np.isfinite(m).all(axis=(2, 3))
    first = np.where(bad.any(axis=1), bad.argmax(axis=1), snaps)  # first non-finite snapshot
    after = np.arange(snaps)[np.newaxis, :] >= first[:, np.newaxis]  # (reps, snaps): recorded NaN
    clean = {k: np.where(np.isfinite(m), m, 0.0) for k, m in conf.matrices.items()}
    spectra: dict[str, np.ndarray] = {}
    for key, m in clean.items():
        spectra[key] = gram_eigenvalues(m)
    if shuffled:
        shuffled_m = {k: np.empty_like(m) for k, m in clean.items()}
        for r in range(reps):
            for s in range(snaps):
                rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(point, r, s)))
                for key, m in clean.items():
                    flat = m[r, s].ravel()
                    shuffled_m[key][r, s] = flat[rng.permutation(flat.size)].reshape(m.shape[2:])
        for key, m in shuffled_m.items():
            spectra[key + SHUFFLED] = gram_eigenvalues(m)
    for values in spectra.values():
        values[after] = np.nan
    diverged = first < snaps
    return PointSpectra(
        spectra,
        np.where(diverged, steps[np.minimum(first, snaps - 1)], -1).astype(np.int64),
        np.where(diverged, NON_FINITE, STABLE).astype(np.int8),
    )
