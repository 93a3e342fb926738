"""Fixtures shared by the rmt tests of more than one module."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm.rmt.dyson_processes import wishart_process
from mpi_dbm.rmt.ensembles import goe_eigenvalues


@pytest.fixture(scope="session")
def wishart_levels() -> np.ndarray:
    """Bru process: n = 8, p = 4, σ = 1, W(0) with N(0, 1) entries; 4σ²τ·8x̄/⟨s²⟩ ≈ 0.007
    (used by test_rmt_dyson_processes and test_rmt_km_bins)."""
    g0, g1 = [np.random.default_rng(s) for s in np.random.SeedSequence(16_04).spawn(2)]
    return wishart_process(g0.normal(0.0, 1.0, (2000, 8, 4)), 150, 0.006, g1, sigma=1.0)


@pytest.fixture(scope="session")
def pairs() -> np.ndarray:
    """2000 2×2 GOE spectra, x₀ = 1.7, σ = 0.3: diagonal variance σ², off-diagonal σ²/2 (physics.md §5.3)
    (used by test_rmt_fits_goe2 and test_rmt_fits_histogram)."""
    return goe_eigenvalues(2, 31, 2000, v=0.3**2 / 2) + 1.7
