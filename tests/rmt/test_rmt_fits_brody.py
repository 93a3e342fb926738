"""The Brody fit: q = 1 for GOE pairs, 0 for Poisson levels, close to 1 for an unfolded GOE bulk."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm import rmt
from mpi_dbm.rmt.fits_base import FitResult
from mpi_dbm.rmt.fits_brody import fit_brody


def within(fit: FitResult, name: str, target: float, k: float = 3.0) -> bool:
    return abs(fit[name] - target) <= k * fit.error(name)


def test_brody_q_is_one_for_goe_pairs_and_zero_for_poisson() -> None:
    goe = fit_brody(rmt.pair_spacing(rmt.goe_eigenvalues(2, 12, 4000)))
    assert within(goe, "q", 1.0)  # the 2×2 GOE spacing is exactly P₁ = Brody(q = 1)
    poisson = fit_brody(np.diff(rmt.poisson_levels(4001, 13, 1)).ravel())
    assert within(poisson, "q", 0.0)
    assert goe.error("q") < 0.05 and poisson.error("q") < 0.05
    jk = fit_brody(rmt.pair_spacing(rmt.goe_eigenvalues(2, 12, 4000)), errors="jackknife", n_blocks=40)
    assert jk.error("q") == pytest.approx(goe.error("q"), rel=0.35)  # 40 blocks: ±~25 % scatter


def test_brody_q_of_an_unfolded_goe_bulk_is_close_to_one() -> None:
    """Large-N GOE spacings are not exactly the surmise (P(s) ≈ (π²/6)s vs (π/2)s at small s):
    the Brody ML lands a few per cent below 1 (≈ 0.96 for N → ∞), far from Poisson."""
    s = rmt.unfold_semicircle(rmt.goe_eigenvalues(200, 14, 40), trim=0.2).spacings.ravel()
    fit = fit_brody(s)
    assert 0.85 < fit["q"] < 1.0 + 3 * fit.error("q")
    assert fit["q"] > 20 * fit.error("q")
