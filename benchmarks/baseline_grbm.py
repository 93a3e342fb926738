"""BASELINE for targets 1–2: a straightforward per-realisation numpy implementation of the GRBM
PCD algorithm (physics.md §2.3), as one would write it first. Not used by mpi-dbm itself.

One realisation at a time, one Generator per realisation, one BLAS call per product and one
generator call per conditional draw:

    for each update:
        for k sweeps:  h ~ N(σ_h² Wφ, σ_h²),  φ ~ N(Wᵀh/μ², 1/μ²)     (|B| chains at once)
        Ĉ = φᵀφ/|B|;   W += α σ_h² W (C_φ − Ĉ)
"""

from __future__ import annotations

import numpy as np


def train_realisation(
    W: np.ndarray,
    c_phi: np.ndarray,
    rng: np.random.Generator,
    learning_rate: float,
    batch_size: int,
    steps: int,
    *,
    mu: float = 3.0,
    sigma_h: float = 1.0,
    gibbs_steps: int = 3,
) -> np.ndarray:
    """Train one realisation for `steps` updates; returns the final W (N_h × N_v)."""
    W = W.copy()
    n_h, n_v = W.shape
    phi = np.ones((batch_size, n_v))
    for _ in range(steps):
        for _ in range(gibbs_steps):
            h = sigma_h**2 * (phi @ W.T) + sigma_h * rng.standard_normal((batch_size, n_h))
            phi = (h @ W) / mu**2 + rng.standard_normal((batch_size, n_v)) / mu
        c_model = phi.T @ phi / batch_size
        W = W + learning_rate * sigma_h**2 * W @ (c_phi - c_model)
    return W


def train_many(
    n_realisations: int, steps: int, learning_rate: float = 0.02, batch_size: int = 16, n: int = 10
) -> list[np.ndarray]:
    """`n_realisations` realisations of the paper's 10×10 GRBM on the m = 2 lattice, one after another."""
    lattice = (2.0 + 2.0**2) * np.eye(n) - np.roll(np.eye(n), 1, axis=0) - np.roll(np.eye(n), -1, axis=0)
    c_phi = np.linalg.inv(lattice)
    out = []
    for r in range(n_realisations):
        rng = np.random.default_rng(r)
        W0 = 0.1 * rng.standard_normal((n, n))
        out.append(train_realisation(W0, c_phi, rng, learning_rate, batch_size, steps))
    return out


def train_points(points: list[tuple[float, int]], n_realisations: int, steps: int) -> None:
    """The plain loop on a sweep's (α, |B|) points: `n_realisations` realisations per point, one
    after another (target 9 times it against the default sweep)."""
    for learning_rate, batch_size in points:
        train_many(n_realisations, steps, learning_rate=learning_rate, batch_size=batch_size)
