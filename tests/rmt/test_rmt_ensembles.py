"""Samplers against their defining variances and exact results; finite-size ⟨r̃⟩ references."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import kstest

from mpi_dbm import rmt


def within(value: float, target: float, error: float, k: float = 3.0) -> bool:
    return abs(value - target) <= k * error


def test_goe_entry_variances_and_symmetry() -> None:
    v, n, m = 0.8, 5, 4000
    h = rmt.goe(n, 1, size=m, v=v)
    assert np.array_equal(h, np.swapaxes(h, -1, -2))
    off = h[:, 0, 1] ** 2
    diag = h[:, 2, 2] ** 2
    assert within(off.mean(), v, off.std() / math.sqrt(m))
    assert within(diag.mean(), 2 * v, diag.std() / math.sqrt(m))


def test_gue_and_gse_structure() -> None:
    v, n, m = 0.5, 4, 4000
    h = rmt.gue(n, 2, size=m, v=v)
    assert np.allclose(h, np.conj(np.swapaxes(h, -1, -2)))
    off = np.abs(h[:, 0, 1]) ** 2
    diag = h[:, 1, 1].real ** 2
    assert within(off.mean(), v, off.std() / math.sqrt(m))
    assert within(diag.mean(), v, diag.std() / math.sqrt(m))

    g = rmt.gse(n, 3, size=50, v=v)
    assert np.allclose(g, np.conj(np.swapaxes(g, -1, -2)))
    # Self-dual: J H̄ Jᵀ = H with J = [[0, 1], [−1, 0]] ⊗ 1.
    j = np.block([[np.zeros((n, n)), np.eye(n)], [-np.eye(n), np.zeros((n, n))]])
    assert np.allclose(j @ np.conj(g) @ j.T, g)
    e = np.linalg.eigvalsh(g)
    np.testing.assert_allclose(e[:, 0::2], e[:, 1::2], atol=1e-10)  # Kramers pairs
    assert rmt.gse_eigenvalues(n, 3, 50, v=v).shape == (50, n)


def test_goe_second_moment_is_exactly_n_plus_one_times_v() -> None:
    """⟨(λ − c)²⟩ = (n + 1)v (physics.md §5.3), averaged over realisations."""
    n, v, m = 8, 0.3, 3000
    per_matrix = (rmt.goe_eigenvalues(n, 4, m, v=v) ** 2).mean(axis=1)
    assert within(per_matrix.mean(), (n + 1) * v, per_matrix.std(ddof=1) / math.sqrt(m))


def test_wishart_mean_is_the_scale() -> None:
    x = rmt.wishart_eigenvalues(40, 20, 5, 400, scale=0.7)
    per = x.mean(axis=1)  # tr X/N_v = Σ W²/(N_h N_v): mean s² exactly
    assert within(per.mean(), 0.7, per.std(ddof=1) / math.sqrt(per.size))


def test_poisson_levels_have_exponential_spacings() -> None:
    s = np.diff(rmt.poisson_levels(50, 6, 200), axis=1).ravel()
    assert kstest(s, "expon").pvalue > 1e-3


def test_samplers_are_deterministic_from_a_seed_or_a_generator() -> None:
    a = rmt.goe_eigenvalues(6, 123, 10)
    b = rmt.goe_eigenvalues(6, np.random.default_rng(123), 10)
    assert np.array_equal(a, b)
    with pytest.raises(TypeError):
        rmt.goe(3, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("ensemble", ["goe", "gue", "gse", "poisson"])
def test_three_level_reference_equals_the_exact_surmise(ensemble: str) -> None:
    """For n = 3 the ratio surmise is exact (Atas et al. 2013): the samplers must reproduce it."""
    ref = rmt.reference_mean_ratio(ensemble, 3)
    assert within(ref.value, rmt.MEAN_RTILDE_SURMISE[ensemble], ref.error)
    assert ref.error < 1.5e-3


def test_eight_level_goe_reference_is_below_the_surmise() -> None:
    ref = rmt.reference_mean_ratio("goe", 8)
    assert within(ref.value, 0.530, ref.error + 1e-3)  # physics.md §5.3: "about 0.530"
    assert ref.value < rmt.MEAN_RTILDE_SURMISE["goe"] - 5 * ref.error


@pytest.mark.parametrize("beta", [1, 2, 4])
def test_dense_and_tridiagonal_samplers_agree(beta: int) -> None:
    """Dumitriu–Edelman: the β-Hermite tridiagonal model has the GOE/GUE/GSE eigenvalue law."""
    name = {1: "goe", 2: "gue", 4: "gse"}[beta]
    dense = rmt.reference_mean_ratio(name, 8, sampler="dense")
    tri = rmt.reference_mean_ratio(name, 8, sampler="tridiagonal")
    assert within(dense.value, tri.value, math.hypot(dense.error, tri.error))
    assert tri.params["sampler"] == "tridiagonal"


def test_reference_is_cached_and_read_only() -> None:
    a = rmt.reference_ratios("goe", 5, 0, 20_000)
    b = rmt.reference_ratios("goe", 5, 0, 20_000)
    assert a is b
    assert not a.flags.writeable
    assert a.shape == (-(-20_000 // 3), 3)
