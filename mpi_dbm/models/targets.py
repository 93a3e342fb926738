"""Target covariances ("data") for the Gaussian RBM: K_φ and C_φ = K_φ⁻¹.

physics.md §2.2: a free scalar field on a periodic 1-D lattice of N sites with
mass m, K_φ = (2 + m²) δ_ij − δ_{i,j+1} − δ_{i,j−1} (indices mod N), with
eigenvalues κ_k = m² + 4 sin²(πk/N).
"""

from __future__ import annotations

import numpy as np


def lattice_kernel(n_sites: int, mass: float) -> np.ndarray:
    """K_φ of a periodic 1-D lattice; for n_sites = 1 it is m², for 2 the ring has a double bond."""
    k = np.zeros((n_sites, n_sites))
    idx = np.arange(n_sites)
    k[idx, idx] = 2.0 + mass**2
    k[idx, (idx + 1) % n_sites] -= 1.0
    k[idx, (idx - 1) % n_sites] -= 1.0
    return k


def lattice_eigenvalues(n_sites: int, mass: float) -> np.ndarray:
    """κ_k = m² + 4 sin²(πk/N), k = 0..N−1, sorted ascending."""
    k = np.arange(n_sites)
    return np.sort(mass**2 + 4.0 * np.sin(np.pi * k / n_sites) ** 2)


def spectrum_kernel(eigenvalues: np.ndarray) -> np.ndarray:
    """K_φ = diag(κ): a target given by its eigenvalues, in the site basis."""
    return np.diag(np.asarray(eigenvalues, dtype=float))
