"""Synthetic GOE/GUE/GSE/Poisson samples: ⟨r̃⟩ against matched references, verdicts and β."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ks_2samp

from mpi_dbm import rmt

BETA = {"goe": 1, "gue": 2, "gse": 4, "poisson": 0}
ENSEMBLES = tuple(BETA)
# Independent of the references' seed (20130222).
SEED = {"goe": 101, "gue": 202, "gse": 303, "poisson": 404}
ROWS = {8: 1000, 100: 60}  # realisations per sample: 6000 and 5880 ratios


def sample(ensemble: str, n: int, rows: int) -> np.ndarray:
    return rmt.sample_levels(ensemble, n, SEED[ensemble] + n, rows)


# --------------------------------------------------------------------------- n = 2: spacings


@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_two_level_spacing_verdict_and_beta(ensemble: str) -> None:
    """2×2 matrices: the Wigner surmise is exact, so KS/χ² single out the true ensemble."""
    levels = sample(ensemble, 2, 3000)
    s = np.diff(levels, axis=1).ravel()
    v = rmt.verdict(s, "s", alpha=0.01)
    assert v.consistent == (ensemble,), v.summary()
    assert v.best == ensemble
    assert set(v.rejected) == set(ENSEMBLES) - {ensemble}
    # β from the small-s exponent, exact for the surmises and for Poisson.
    assert abs(v.beta.value - BETA[ensemble]) < 3 * v.beta.error, v.beta
    assert v.beta.error < 0.1 * max(BETA[ensemble], 1)
    # ⟨s²⟩ of the normalised spacings against the tabulated value (error of a mean of s²).
    sn = s / s.mean()
    assert abs((sn**2).mean() - rmt.MEAN_S2[ensemble]) < 3 * (sn**2).std() / math.sqrt(sn.size)


# --------------------------------------------------------------------------- n = 3: exact surmise


@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_three_level_ratios_against_the_exact_ratio_surmise(ensemble: str) -> None:
    levels = sample(ensemble, 3, 4000)
    v = rmt.ratio_verdict(levels)  # n = 3: the analytic surmise is the reference
    assert all(g.reference == "surmise" for g in v.results.values())
    assert v.consistent == (ensemble,), v.summary()
    assert abs(v.beta.value - BETA[ensemble]) < 3 * v.beta.error + 1e-9


# --------------------------------------------------------------------------- n = 8, 100


@pytest.mark.parametrize("n", [8, 100])
@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_mean_ratio_matches_the_matched_size_reference(ensemble: str, n: int) -> None:
    levels = sample(ensemble, n, ROWS[n])
    est = rmt.mean_spacing_ratio(levels)
    ref = rmt.reference_mean_ratio(ensemble, n)
    assert abs(est.value - ref.value) < 3 * math.hypot(est.error, ref.error)
    assert est.error < 0.005


@pytest.mark.parametrize("n", [8, 100])
@pytest.mark.parametrize("ensemble", ENSEMBLES)
def test_ratio_verdict_picks_the_ensemble_and_beta(ensemble: str, n: int) -> None:
    v = rmt.ratio_verdict(sample(ensemble, n, ROWS[n]), alpha=0.01)
    assert v.consistent == (ensemble,), v.summary()
    assert v.best == ensemble
    assert abs(v.beta.value - BETA[ensemble]) < 3 * v.beta.error, v.beta
    assert v.beta.params["anchors"].startswith("matched-size")
    rec = v.record()
    assert rec[f"{ensemble}_ks_p"] >= 0.005 and rec["consistent"] == [ensemble]


def test_eight_level_goe_is_not_the_large_n_or_surmise_value() -> None:
    """Why matched-size references: n = 8 GOE ⟨r̃⟩ differs from the 3×3 surmise 0.5359."""
    est = rmt.mean_spacing_ratio(rmt.goe_eigenvalues(8, 55, 20_000))
    assert abs(est.value - rmt.MEAN_RTILDE_SURMISE["goe"]) > 5 * est.error
    ref = rmt.reference_mean_ratio("goe", 8)
    assert abs(est.value - ref.value) < 3 * math.hypot(est.error, ref.error)


def test_correlated_ratios_get_a_design_effect() -> None:
    """Neighbouring r̃ share a spacing: counts vary more than binomially within a row."""
    r = rmt.spacing_ratios(sample("goe", 8, ROWS[8]))
    g = rmt.goodness_of_fit(r, "goe", "r", n=8)
    assert g.design_effect > 1.1  # measured on the matched reference, i.e. under the null
    naive = ks_2samp(r.ravel(), rmt.reference_ratios("goe", 8).ravel())
    assert naive.statistic == pytest.approx(g.ks_statistic)
    assert naive.pvalue < g.ks_pvalue  # the corrected p-value is the larger one
    flat = rmt.goodness_of_fit(r.ravel(), "goe", "r", n=8)  # same null, same correction
    assert flat.ks_pvalue == pytest.approx(g.ks_pvalue)
    # Against the analytic surmise the correlation can only be measured on the data rows.
    surmise = rmt.goodness_of_fit(r, "goe", "r")
    assert surmise.design_effect > 1.1
    assert rmt.goodness_of_fit(r.ravel(), "goe", "r").design_effect == 1.0


def test_ratio_p_values_are_calibrated_under_the_null() -> None:
    """40 GOE n = 8 samples of 200 rows: rejections at 5 % stay within the binomial band."""
    p = np.array(
        [
            rmt.goodness_of_fit(
                rmt.spacing_ratios(rmt.goe_eigenvalues(8, 9000 + i, 200)), "goe", "r", n=8
            ).ks_pvalue
            for i in range(40)
        ]
    )
    # Binomial(40, 0.05): mean 2, P(≥ 8) ≈ 1e-3.
    assert np.sum(p < 0.05) < 8
    assert np.sum(p > 0.5) > 10  # not degenerate (all ≈ 1)


def test_unfolded_goe_spacings_verdict() -> None:
    s = rmt.unfold_semicircle(rmt.goe_eigenvalues(200, 66, 40), trim=0.2).spacings
    v = rmt.verdict(s, "s")
    assert "goe" in v.consistent
    assert {"gue", "gse", "poisson"} <= set(v.rejected)


# --------------------------------------------------------------------------- β interpolation


def test_too_few_spacings_are_insufficient_data() -> None:
    """Below 10 values no test is made: a typed error saying how many were needed and given."""
    s = rmt.pair_spacing(sample("goe", 2, 8))
    with pytest.raises(rmt.InsufficientDataError, match="not enough data: need 10 values, have 8") as exc:
        rmt.verdict(s, "s", n=2)
    assert (exc.value.need, exc.value.have) == (10, 8)
    assert isinstance(exc.value, ValueError)


def test_verdict_without_enough_small_spacings_still_decides() -> None:
    """12 spacings, 4 of them below the mean: KS/χ² decide, β says why it is missing."""
    s = np.array([0.5] * 4 + [1.5] * 8)
    ver = rmt.verdict(s, "s", n=2)
    assert set(ver.consistent) | set(ver.rejected) == {"goe", "gue", "gse", "poisson"}
    assert math.isnan(ver.beta.value)
    assert "not enough data: need 5 spacings below s_max=1, have 4" in ver.summary()


def test_beta_from_mean_ratio_passes_through_the_anchors() -> None:
    for name, beta in BETA.items():
        est = rmt.beta_from_mean_ratio(rmt.MEAN_RTILDE_SURMISE[name], 0.001, n=3)
        assert est.value == pytest.approx(beta, abs=1e-12)
        assert est.error > 0
    mid = rmt.beta_from_mean_ratio(0.57, n=3).value
    assert 1 < mid < 2
    large = rmt.beta_from_mean_ratio(0.5307)  # n = None: large-N constants
    assert large.value == pytest.approx(1.0, abs=1e-9)


def test_small_s_beta_of_unfolded_goe_is_near_one() -> None:
    """Large-N GOE has P(s) ≈ (π²/6)s at small s, a few per cent above the surmise's (π/2)s."""
    s = rmt.unfold_semicircle(rmt.goe_eigenvalues(200, 67, 40), trim=0.2).spacings
    est = rmt.beta_from_small_s(s)
    assert 0.85 < est.value < 1.0 + 3 * est.error
    assert est.error < 0.06
