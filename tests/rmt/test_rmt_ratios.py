"""n-th order spacing ratios: hand-made sequences, the reference laws against their definitions,
and sampled GOE / Poisson spectra against the β' rule (Tekur et al. 2018) and beta-prime(n, n)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import kstest

from mpi_dbm import rmt
from mpi_dbm.rmt import ratios

ENTROPY = 2018_104305


def rng(key: int) -> np.random.Generator:
    """An independent stream per test, whatever the test order."""
    return np.random.default_rng(np.random.SeedSequence(ENTROPY, spawn_key=(key,)))


def test_ratios_of_a_hand_made_sequence() -> None:
    levels = np.array([[0.0, 1.0, 3.0, 4.0, 7.0, 8.0]])  # spacings 1 2 1 3 1
    # n = 1 reproduces the nearest-neighbour ratios.
    np.testing.assert_allclose(ratios.nth_order_ratios(levels, 1), [[2, 0.5, 3, 1 / 3]])
    np.testing.assert_allclose(ratios.nth_rtildes(levels, 1), rmt.spacing_ratios(levels))
    # n = 2: (λ_{i+4} − λ_{i+2})/(λ_{i+2} − λ_i) = (7−3)/(3−0), (8−4)/(4−1).
    np.testing.assert_allclose(ratios.nth_order_ratios(levels, 2), [[4 / 3, 4 / 3]])
    np.testing.assert_allclose(ratios.nth_rtildes(levels, 2), [[3 / 4, 3 / 4]])
    np.testing.assert_allclose(ratios.nth_rtildes(levels[0][::-1], 2), [[3 / 4, 3 / 4]])  # sorted
    with pytest.raises(rmt.InsufficientDataError, match="need 7 levels per row"):
        ratios.nth_order_ratios(levels, 3)
    with pytest.raises(ValueError, match="positive integer"):
        ratios.nth_rtildes(levels, 0)


def test_effective_beta_rule() -> None:
    assert ratios.effective_beta(1, "goe") == 1.0
    assert ratios.effective_beta(2, "goe") == 4.0
    assert ratios.effective_beta(2, "gue") == 7.0
    assert ratios.effective_beta(3, "gse") == 26.0
    assert ratios.effective_beta(2, 0.5) == 2.5
    with pytest.raises(ValueError, match="beta-prime"):
        ratios.effective_beta(2, "poisson")


@pytest.mark.parametrize(
    ("n", "ensemble"), [(1, "poisson"), (2, "poisson"), (3, "poisson"), (2, "goe"), (2, "gue")]
)
def test_reference_laws_are_normalised_and_consistent(n: int, ensemble: str) -> None:
    pdf = lambda r: float(ratios.nth_ratio_pdf(r, n, ensemble))  # noqa: E731
    assert quad(pdf, 0, math.inf, epsabs=1e-13)[0] == pytest.approx(1.0, abs=1e-9)
    r = np.array([0.1, 0.5, 1.0, 2.0, 7.0])
    np.testing.assert_allclose(
        ratios.nth_ratio_cdf(r, n, ensemble), [quad(pdf, 0, x, epsabs=1e-13)[0] for x in r], atol=1e-10
    )
    mean = quad(lambda t: t * float(ratios.nth_rtilde_pdf(t, n, ensemble)), 0, 1, epsabs=1e-13)[0]
    assert ratios.nth_rtilde_mean(n, ensemble) == pytest.approx(mean, abs=1e-10)


def test_poisson_reference_is_beta_prime_and_reduces_to_the_surmise() -> None:
    r = np.linspace(0.0, 5.0, 11)
    np.testing.assert_allclose(ratios.nth_ratio_pdf(r, 1, "poisson"), 1 / (1 + r) ** 2, rtol=1e-14)
    # n = 2: Γ(4)/Γ(2)² r/(1 + r)⁴ = 6r/(1 + r)⁴; ⟨r̃⟩ = 1/2 exactly (12∫₀¹ r²/(1+r)⁴ dr = 1/2).
    np.testing.assert_allclose(ratios.nth_ratio_pdf(r, 2, "poisson"), 6 * r / (1 + r) ** 4, rtol=1e-12)
    assert ratios.nth_rtilde_mean(1, "poisson") == pytest.approx(2 * math.log(2) - 1, abs=1e-14)
    assert ratios.nth_rtilde_mean(2, "poisson") == pytest.approx(0.5, abs=1e-14)
    # β' = 4 for GOE n = 2: the GSE surmise.
    assert ratios.nth_rtilde_mean(2, "goe") == pytest.approx(rmt.MEAN_RTILDE_SURMISE["gse"], abs=1e-14)


def test_sampled_goe_second_order_ratios_follow_beta_prime_4_and_poisson_does_not() -> None:
    goe = rmt.goe_eigenvalues(200, rng(1), 150)
    poisson = rmt.poisson_levels(200, rng(2), 150)
    est = ratios.mean_nth_ratio(goe, 2, trim=0.2)  # bulk: 120 levels per row, 116 ratios
    assert est.n == 150
    # Alternate GOE levels are GSE levels (Mehta & Dyson 1963), so the N → ∞ value is GSE's 0.6744(1)
    # (Atas et al. Table I): allow 3 standard errors plus the table's uncertainty.
    gse_inf, gse_err = rmt.MEAN_RTILDE_LARGE_N["gse"]
    assert abs(est.value - gse_inf) < 3 * est.error + gse_err
    # The β' = 4 surmise (3×3 matrices) is off by its known systematic 0.6762 − 0.6744 = 0.0018.
    surmise = ratios.nth_rtilde_mean(2, "goe")
    assert abs(est.value - surmise) < 3 * est.error + (surmise - gse_inf)
    # Poisson's second-order ratios: beta-prime(2, 2), ⟨r̃⟩ = 1/2, > 50 standard errors away.
    p_est = ratios.mean_nth_ratio(poisson, 2, trim=0.2)
    assert abs(p_est.value - 0.5) < 3 * p_est.error
    assert abs(p_est.value - surmise) > 50 * p_est.error
    assert abs(est.value - 0.5) > 50 * est.error


def test_poisson_nth_order_ratio_distribution_is_beta_prime() -> None:
    levels = rmt.poisson_levels(300, rng(3), 120)
    for n in (2, 3):
        # Ratios 2n apart use disjoint spacings: exactly independent for Poisson levels.
        r = ratios.nth_order_ratios(levels, n)[:, :: 2 * n].ravel()
        assert kstest(r, lambda t, n=n: ratios.nth_ratio_cdf(t, n, "poisson")).pvalue > 0.01
        # The β' rule with β = 0 (β' = n − 1) is not the Poisson law (KS distance ≈ 0.04 at n = 2):
        # rejected with ≈ 9000 ratios.
        assert kstest(r, lambda t, n=n: rmt.ratio_cdf(t, float(n - 1))).pvalue < 1e-4


def test_single_row_uses_a_blockwise_jackknife() -> None:
    levels = rmt.poisson_levels(3000, rng(4), 1)
    est = ratios.mean_nth_ratio(levels, 2)
    assert est.method.startswith("single row")
    assert abs(est.value - 0.5) < 3 * est.error
