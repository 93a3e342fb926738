"""mpi_dbm.theory: reference values of physics.md, GOE identities by sampling, and the vector Dyson solver."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import cumulative_trapezoid

from mpi_dbm import theory
from mpi_dbm.models import targets

KAPPA = targets.lattice_eigenvalues(10, 2.0)


def test_module_imports_no_io_or_plotting_library():
    with open(theory.__file__, encoding="utf-8") as f:
        src = f.read()
    for mod in ("h5py", "mpi4py", "matplotlib"):
        assert f"import {mod}" not in src


# -- GOE helpers ----------------------------------------------------------------------------------
def test_semicircle_is_normalised_with_the_right_second_moment():
    x = np.linspace(-3, 5, 40001)
    rho = theory.semicircle_density(x, 1.0, 2.0)
    assert np.trapezoid(rho, x) == pytest.approx(1.0, abs=1e-6)
    assert np.trapezoid((x - 1) ** 2 * rho, x) == pytest.approx(1.0, abs=1e-5)  # R²/4


@pytest.mark.parametrize("n", [2, 8])
def test_goe_second_moment_and_spacing_by_sampling(n):
    rng = np.random.default_rng(1)
    v = 0.3
    z = rng.standard_normal((20000, n, n))
    lam = np.linalg.eigvalsh((z + np.swapaxes(z, 1, 2)) * np.sqrt(v / 2))
    assert np.mean(lam**2) / theory.goe_second_moment(n, v) == pytest.approx(1.0, abs=0.02)
    assert theory.radius_from_second_moment(theory.goe_second_moment(n, v), n) == pytest.approx(
        theory.goe_radius(n, v)
    )
    if n == 2:
        S = lam[:, 1] - lam[:, 0]
        assert np.mean(S) / theory.goe_mean_spacing(v) == pytest.approx(1.0, abs=0.01)
        assert np.mean(S**2) / np.mean(S) ** 2 == pytest.approx(4 / np.pi, abs=0.02)


# -- GRBM (physics.md §2.4–2.6, Appendix B) ------------------------------------------------------
def test_grbm_fixed_point_rates_and_widths_match_appendix_b():
    x = theory.grbm_fixed_point(KAPPA, 3.0)
    np.testing.assert_allclose(x, [5, 4.618, 4.618, 3.618, 3.618, 2.382, 2.382, 1.382, 1.382, 1], atol=1e-3)
    rates = theory.grbm_relaxation_rate(np.unique(KAPPA.round(6)), 3.0)
    np.testing.assert_allclose(rates, [0.625, 0.481, 0.250, 0.109, 0.048, 0.031], atol=1e-3)
    scale = np.sqrt(0.1 * np.unique(x.round(6))[::-1] / 16)
    np.testing.assert_allclose(scale, [0.177, 0.170, 0.150, 0.122, 0.093, 0.079], atol=1e-3)
    # σ_h: rates scale as σ_h² Ω at fixed κ (x* = (μ² − κ)/σ_h²)
    assert theory.grbm_relaxation_rate(np.array([4.0]), 3.0, 0.5)[0] == pytest.approx(0.25 * 0.625)
    assert theory.grbm_single_variance(5.0, 0.1, 16) == pytest.approx(2 * 0.1 / 16 * 5)
    assert theory.grbm_pair_mean_spacing(4.618, 0.1, 16) / np.sqrt(0.1 * 4.618 / 16) == pytest.approx(
        np.sqrt(2 * np.pi)
    )
    assert theory.grbm_cluster_second_moment(8, 4.0, 0.04, 32) == pytest.approx(9 * 0.04 / 32 * 4)
    assert theory.grbm_cluster_radius(8, 4.0, 0.04, 32) == pytest.approx(2 * np.sqrt(8 * 0.04 / 32 * 4))
    cov = theory.grbm_covariance(np.array([5.0, 1.0]), 0.1, 10)
    np.testing.assert_allclose(cov, [[0.1, 0.03], [0.03, 0.02]])


def test_grbm_mean_shifts_match_section_2_6():
    per_t = theory.grbm_mean_shift(KAPPA, 3.0, 1.0, 1.0)  # T = 1: shift per unit T
    expected = [24.1, -11.1, -11.1, -15.5, -15.5, -16.2, -16.2, -17.2, -17.2, -24.3]
    np.testing.assert_allclose(per_t, expected, atol=0.06)
    rel_lambda = -per_t / KAPPA  # λ = μ² − x
    assert rel_lambda[0] == pytest.approx(-6.0, abs=0.05)
    assert rel_lambda[-1] == pytest.approx(3.0, abs=0.05)
    assert rel_lambda[1:-1].min() > 2.3 - 0.05 and rel_lambda[1:-1].max() < 2.9 + 0.05
    # [nb] check at T = 0.025 (α = 0.1, |B| = 4): predicted pair means 4.341, 3.231, 1.977, 0.952
    x = theory.grbm_fixed_point(KAPPA, 3.0) + theory.grbm_mean_shift(KAPPA, 3.0, 0.1, 4)
    np.testing.assert_allclose(x[[1, 3, 5, 7]], [4.341, 3.231, 1.977, 0.952], atol=2e-3)


def test_grbm_degenerate_shift_is_the_general_formula_and_matches_the_table():
    for n, kappa in ((8, 5.0), (3, 4.0)):
        general = theory.grbm_mean_shift(np.full(n, kappa), 3.0, 0.04, 32)
        special = theory.grbm_degenerate_mean_shift(n, kappa, 3.0, 0.04, 32)
        np.testing.assert_allclose(general, special, rtol=1e-12)
    # physics.md §2.5 table: δx/x* = −2.9 T, i.e. −0.0036 at T = 0.00125 and −0.0145 at T = 0.005
    assert theory.grbm_degenerate_mean_shift(8, 5.0, 3.0, 0.04, 32) / 4 == pytest.approx(-0.0036, abs=1e-4)
    assert theory.grbm_degenerate_mean_shift(8, 5.0, 3.0, 0.08, 16) / 4 == pytest.approx(-0.0145, abs=2e-4)


# -- teacher–student -----------------------------------------------------------------------------
def test_teacher_student_prefactor_and_variances():
    assert theory.ts_spacing_prefactor(0.1) == pytest.approx(1.818, abs=1e-3)
    assert theory.ts_mean_spacing(0.1, 16, 0.01) == pytest.approx(1.8185 * np.sqrt(0.1 * 0.01 / 16), rel=1e-4)
    v = theory.ts_offdiag_variance(0.1, 16, 0.01)
    assert v == pytest.approx(0.1 * 0.01 / (1.9 * 16))
    assert theory.ts_diag_variance(0.1, 16, 0.01) == pytest.approx(2 * v)
    assert theory.ts_cluster_second_moment(8, 0.1, 16, 0.01) == pytest.approx(9 * v)
    assert theory.ts_cluster_radius(8, 0.1, 16, 0.01) == pytest.approx(2 * np.sqrt(8 * v))
    # the linearised map δ' = (1 − α)δ + α ā, iterated: the discrete variance is exact
    rng = np.random.default_rng(3)
    d = np.zeros(20000)
    for _ in range(300):
        d = 0.9 * d + 0.1 * rng.normal(scale=np.sqrt(0.01 / 16), size=d.shape)
    assert np.var(d) / v == pytest.approx(1.0, abs=0.03)


# -- linear network ------------------------------------------------------------------------------
def test_linear_radius_and_variance_profile():
    r = theory.linear_semicircle_radius(20, 1.5, 0.02, 16, 0.7)
    assert r == pytest.approx(2 * np.sqrt(20 * 1.5 * 0.02 * 0.7 / (2 * 16)))
    r1 = theory.linear_semicircle_radius(20, 1.5, 0.02, 16, 0.7, layers=1)
    assert r1 == pytest.approx(np.sqrt(2) * r)
    rd = theory.linear_semicircle_radius(20, 1.5, 0.02, 16, 0.7, discrete=True)
    assert rd == pytest.approx(r / np.sqrt(1 - 0.02 * 1.5))
    v = theory.linear_variance_profile(np.array([1.0, 3.0]), 0.02, 16, 1.0)
    t = 0.02 / 16
    np.testing.assert_allclose(v, t / 2 * np.array([[1.0, 10 / 4], [10 / 4, 3.0]]))
    np.testing.assert_allclose(v, v.T)
    c, n, vs = theory.linear_species([(1.0, 6), (2.0, 4)], 0.02, 16, 1.0)
    np.testing.assert_array_equal(c, [1.0, 2.0])
    np.testing.assert_array_equal(n, [6, 4])
    assert vs[1, 1] == pytest.approx(t / 2 * 2.0)
    with pytest.raises(ValueError):
        theory.linear_variance_profile(np.array([1.0]), 0.02, 16, 1.0, layers=3)


# -- vector Dyson equation -----------------------------------------------------------------------
def test_dyson_one_species_is_the_semicircle():
    x = np.linspace(-1.5, 3.5, 2001)
    rho, species = theory.dyson_density(x, [1.0], [50], np.array([[0.02]]))
    exact = theory.semicircle_density(x, 1.0, theory.goe_radius(50, 0.02))
    assert np.max(np.abs(rho - exact)) < 1e-2 * exact.max()  # at the edges, smoothed by η: ~√η
    assert np.trapezoid(np.abs(rho - exact), x) < 1e-3
    np.testing.assert_allclose(species[0], rho)
    assert np.trapezoid(rho, x) == pytest.approx(1.0, abs=1e-3)


def ks_against_sampling(centres, sizes, v, x, n_matrices, seed):
    rho, species = theory.dyson_density(x, centres, sizes, v)
    rng = np.random.default_rng(seed)
    ev = np.concatenate(
        [np.linalg.eigvalsh(theory.block_variance_matrix(rng, centres, sizes, v)) for _ in range(n_matrices)]
    )
    cdf = cumulative_trapezoid(rho, x, initial=0.0)
    emp = np.searchsorted(np.sort(ev), x) / len(ev)
    return float(np.abs(cdf - emp).max()), rho, species


def test_dyson_overlapping_species_match_sampled_block_variance_matrices(record_property):
    """Two overlapping species with different variances: a 'generalised semicircle' (not a sum of two)."""
    centres, sizes = np.array([0.0, 0.6]), np.array([300, 150])
    v = np.array([[1e-3, 4e-3], [4e-3, 2e-3]])
    x = np.linspace(-3.0, 3.6, 1401)
    ks, rho, species = ks_against_sampling(centres, sizes, v, x, 10, seed=0)
    np.testing.assert_allclose(np.trapezoid(species, x, axis=1), sizes / sizes.sum(), atol=1e-3)
    naive = sum(
        n / sizes.sum() * theory.semicircle_density(x, c, theory.goe_radius(n, v[i, i]))
        for i, (c, n) in enumerate(zip(centres, sizes, strict=True))
    )
    naive_ks = float(
        np.abs(cumulative_trapezoid(naive, x, initial=0) - cumulative_trapezoid(rho, x, initial=0)).max()
    )
    print(
        f"\nDyson vs sampling (450x450, 10 matrices): KS {ks:.4f}; "
        f"naive sum of semicircles differs by {naive_ks:.3f}"
    )
    record_property("dyson_ks", ks)
    assert ks < 0.01
    assert naive_ks > 0.1  # the coupling matters: this is not a superposition of semicircles


def test_dyson_far_apart_species_are_shifted_semicircles():
    """Far apart: radii 2√(n_s v_ss), centres shifted by Σ_s' n_s' v_ss'/(c_s − c_s') (second order)."""
    centres, sizes = np.array([0.0, 5.0]), np.array([200, 100])
    v = np.array([[1e-3, 5e-4], [5e-4, 2e-3]])
    x = np.linspace(-1.5, 6.5, 3201)
    ks, rho, _ = ks_against_sampling(centres, sizes, v, x, 4, seed=1)
    assert ks < 0.01
    for s, (lo, hi) in enumerate(((-1.5, 2.5), (2.5, 6.5))):
        sel = (x >= lo) & (x <= hi)
        w = np.trapezoid(rho[sel], x[sel])
        mean = np.trapezoid(x[sel] * rho[sel], x[sel]) / w
        var = np.trapezoid((x[sel] - mean) ** 2 * rho[sel], x[sel]) / w
        other = 1 - s
        shift = sizes[other] * v[s, other] / (centres[s] - centres[other])
        assert w == pytest.approx(sizes[s] / sizes.sum(), abs=1e-3)
        assert mean - centres[s] == pytest.approx(shift, rel=0.05)
        assert 2 * np.sqrt(var) == pytest.approx(theory.goe_radius(sizes[s], v[s, s]), rel=0.02)  # R = 2σ


def test_dyson_solver_reports_non_convergence():
    with pytest.raises(RuntimeError, match="did not converge"):
        theory.dyson_solve(np.array([0.0 + 1e-6j]), [0.0], [10], np.array([[1.0]]), max_iter=3)
