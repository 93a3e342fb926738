"""Null models of spacing statistics (mpi_dbm.rmt.nulls, mpi_dbm.analysis.nulls; issue #16 item 2).

Decisions rest on p-values: a GOE input must not be distinguishable from its GOE null nor from
the Wishart (bulk) null at the Bonferroni level α/m over the m = statistics × nulls comparisons;
a Wishart matrix plus a strong low-rank signal must be distinguishable where its outliers enter.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm import rmt
from mpi_dbm.analysis import nulls as anulls
from mpi_dbm.rmt import nulls

ALPHA = 0.01


def gen(*key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(1616, spawn_key=key)))


def test_goe_null_matches_the_pooled_moments():
    x = rmt.goe_eigenvalues(30, gen(1), 400, 0.2) + 3.0
    model = nulls.matched_null("goe", x)
    assert model.params["centre"] == pytest.approx(3.0, abs=0.02)
    assert model.params["v"] == pytest.approx(0.2, rel=0.03)
    y = model.sample(gen(2), 400)
    assert y.shape == (400, 30) and np.all(np.diff(y, axis=1) >= 0)
    assert y.mean() == pytest.approx(x.mean(), abs=0.03) and y.var() == pytest.approx(x.var(), rel=0.03)


def test_wishart_null_recovers_shape_and_scale_of_a_gram_spectrum():
    # eig(W Wᵀ/m), W 40 x 100 with N(0, 0.5) entries: q = 0.4, s² = 0.5, c = 0
    x = nulls.wishart_null(40, 300, gen(3), q=0.4, scale=0.5)
    model = nulls.matched_null("wishart", x)
    assert model.params["q"] == pytest.approx(0.4, rel=0.05)
    assert model.params["scale"] == pytest.approx(0.5, rel=0.03)
    assert model.params["shift"] == 0.0 and model.params["m"] == pytest.approx(100, abs=5)
    # Marchenko–Pastur moments: mean s², variance q s⁴ (finite-size correction ~1/m)
    assert x.mean() == pytest.approx(0.5, rel=0.01)
    assert x.var() == pytest.approx(0.4 * 0.25, rel=0.05)


def test_wishart_null_of_levels_with_negative_values_is_shifted_and_moment_matched():
    x = rmt.goe_eigenvalues(20, gen(4), 300, 0.5)  # a semicircle around 0: skewness 0 -> q = Q_MIN
    model = nulls.matched_null("wishart", x)
    assert model.params["q"] == nulls.Q_MIN and model.params["shift"] < 0
    y = model.sample(gen(5), 300)
    assert y.mean() == pytest.approx(x.mean(), abs=0.05) and y.var() == pytest.approx(x.var(), rel=0.05)


def test_given_ratio_is_used():
    x = nulls.wishart_null(20, 100, gen(6), q=0.5, scale=1.0)
    assert nulls.matched_null("wishart", x, q=0.5).params["q"] == 0.5
    with pytest.raises(ValueError, match="unknown null model"):
        nulls.matched_null("gue", x)


def test_null_distribution_is_reproducible_and_extends():
    model = nulls.matched_null("goe", rmt.goe_eigenvalues(12, gen(7), 50))
    seed = np.random.SeedSequence(5, spawn_key=(1,))
    a = nulls.null_distribution(lambda x: {"m": float(x.mean())}, model, 10, 6, seed)
    b = nulls.null_distribution(
        lambda x: {"m": float(x.mean())}, model, 10, 6, np.random.SeedSequence(5, spawn_key=(1,))
    )
    assert a["m"].shape == (6,) and np.array_equal(a["m"], b["m"])


def test_compare_is_a_prediction_interval_test():
    # the measured value is one more draw from the null: p uniform, so P(p < alpha) = alpha
    rng = gen(8)
    k, trials = 20, 4000
    draws = rng.normal(size=(trials, k + 1))
    p = np.array([nulls.compare(d[0], d[1:], ALPHA).pvalue for d in draws])
    rejected = int(np.sum(p < ALPHA))
    # binomial(trials, alpha): two-sided 99.9 % band
    from scipy.stats import binom

    lo, hi = binom.ppf([0.0005, 0.9995], trials, ALPHA)
    assert lo <= rejected <= hi
    far = nulls.compare(10.0, draws[0, 1:], ALPHA)
    assert far.distinguishable and far.z > 5
    few = nulls.compare(0.0, np.array([1.0, math.nan]), ALPHA)
    assert few.distinguishable is None and math.isnan(few.pvalue)


def _bonferroni(rec: dict, models: tuple[str, ...]) -> float:
    return ALPHA / (len(anulls.STATISTICS) * len(models))


def test_goe_input_is_not_distinguishable_from_either_null():
    levels = rmt.goe_eigenvalues(60, gen(9), 40, 0.3) + 2.0
    rec = anulls.null_comparison(levels, None, ALPHA)
    level = _bonferroni(rec, nulls.NULL_MODELS)
    for stat, r in rec["statistics"].items():
        for model in nulls.NULL_MODELS:
            assert r[model]["p"] >= level, (stat, model, r[model])
    assert rec["shuffled_note"] == anulls.NO_SHUFFLED and rec["k"] == anulls.NULL_ENSEMBLES


def test_pure_wishart_input_is_not_distinguishable_from_the_wishart_null():
    levels = nulls.wishart_null(60, 40, gen(10), q=0.5, scale=1.0)
    rec = anulls.null_comparison(levels, None, ALPHA)
    level = _bonferroni(rec, ("wishart",))
    assert rec["models"]["wishart"]["q"] == pytest.approx(0.5, rel=0.1)
    for stat, r in rec["statistics"].items():
        assert r["wishart"]["p"] >= level, (stat, r["wishart"])


def spiked_wishart(rows: int, n: int = 60, m: int = 120, k: int = 8) -> np.ndarray:
    """eig(W Wᵀ/m + U diag(θ) Uᵀ): a fixed rank-k signal of equally spaced strengths θ = 8, 10, …
    far above the bulk edge (1 + √q)² ≈ 2.9, so k outliers sit above the Marchenko–Pastur bulk."""
    rng = gen(11)
    u = np.linalg.qr(rng.normal(size=(n, k)))[0]
    signal = u @ np.diag(8.0 + 2.0 * np.arange(k)) @ u.T
    w = rng.normal(size=(rows, n, m))
    return np.linalg.eigvalsh(w @ np.swapaxes(w, 1, 2) / m + signal)


def test_wishart_plus_strong_low_rank_signal_is_distinguishable():
    """Which statistics see the outliers: ⟨r̃^(n)⟩ over all levels (the k equally spaced outliers
    give r̃ ≈ 1, the gap above the bulk r̃ ≈ 0); the unfolded P(s), β and Brody q of the bulk
    (the outliers enter the pooled staircase of the ensemble unfolding and squeeze the unfolded
    spacings at the top of the bulk). With 40 replicas ⟨r̃^(2)⟩ is not yet beyond the GOE null
    (p ≈ 0.02); with 80 every statistic is."""
    levels = spiked_wishart(80)
    rec = anulls.null_comparison(levels, None, ALPHA)
    for stat in anulls.STATISTICS:
        for model in nulls.NULL_MODELS:
            assert rec["statistics"][stat][model]["distinguishable"], (stat, model, rec["statistics"][stat])


def test_shuffled_null_is_compared_by_jackknife_errors():
    levels = spiked_wishart(30)
    same = nulls.wishart_null(60, 30, gen(12), q=0.5, scale=1.0)
    rec = anulls.null_comparison(levels, same, ALPHA)
    assert rec["shuffled_note"] is None
    assert rec["statistics"]["rtilde_3"]["shuffled"]["distinguishable"]
    twin = anulls.null_comparison(same, nulls.wishart_null(60, 30, gen(13), q=0.5, scale=1.0), ALPHA)
    level = ALPHA / len(anulls.STATISTICS)
    for stat, r in twin["statistics"].items():
        assert r["shuffled"]["p"] >= level, (stat, r["shuffled"])


@pytest.mark.parametrize(("n", "m"), [(12, 12), (20, 50)])
def test_laguerre_model_has_the_dense_wishart_law(n, m):
    """The bidiagonal sampler against dense W Wᵀ: two-sample KS on the smallest, middle and
    largest level and on r̃, each at α/4 (Bonferroni)."""
    from scipy.stats import ks_2samp

    a = nulls.laguerre_eigenvalues(n, m, gen(20, n), 3000)
    b = rmt.wishart_eigenvalues(m, n, gen(21, n), 3000) * m  # eig(WᵀW/N_h) of an N_h x N_v W
    for k in (0, n // 2, n - 1):
        assert ks_2samp(a[:, k], b[:, k]).pvalue >= ALPHA / 4, k
    assert ks_2samp(rmt.spacing_ratios(a).ravel(), rmt.spacing_ratios(b).ravel()).pvalue >= ALPHA / 4


def test_tridiagonal_goe_null_has_the_dense_goe_law():
    from scipy.stats import ks_2samp

    a = nulls.goe_null(15, 3000, gen(22), centre=1.0, v=0.3)
    b = rmt.goe_eigenvalues(15, gen(23), 3000, 0.3) + 1.0
    for k in (0, 7, 14):
        assert ks_2samp(a[:, k], b[:, k]).pvalue >= ALPHA / 3, k
