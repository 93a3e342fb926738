"""Spacings, ratios and their means: exact small cases and the standard error over rows."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm import rmt


def test_ratios_of_a_hand_made_sequence() -> None:
    levels = np.array([[4.0, 0.0, 3.0, 1.0, 7.0]])  # sorted: 0 1 3 4 7 → spacings 1 2 1 3
    np.testing.assert_allclose(rmt.nearest_neighbour_spacings(levels), [[1, 2, 1, 3]])
    np.testing.assert_allclose(rmt.spacing_ratios(levels), [[0.5, 0.5, 1 / 3]])
    np.testing.assert_allclose(rmt.spacing_ratios(levels, trim=1), [[0.5]])  # 1 3 4
    np.testing.assert_allclose(rmt.spacing_ratios(levels[0]), [[0.5, 0.5, 1 / 3]])  # 1-D = one row


def test_rows_with_nan_are_dropped_and_double_degeneracy_is_nan() -> None:
    levels = np.array([[0.0, 1.0, 3.0], [0.0, np.nan, 1.0], [2.0, 2.0, 2.0]])
    r = rmt.spacing_ratios(levels)
    assert r.shape == (2, 1)
    assert r[0, 0] == pytest.approx(0.5)
    assert np.isnan(r[1, 0])


def test_fractional_trim_and_errors() -> None:
    x = np.arange(20.0)[None, :]
    assert rmt.trimmed_levels(x, 0.1).shape == (1, 16)
    with pytest.raises(ValueError):
        rmt.trimmed_levels(x, 0.6)
    with pytest.raises(ValueError):
        rmt.spacing_ratios(np.array([[0.0, 1.0]]))


def test_mean_spacing_ratio_error_is_the_standard_error_over_rows() -> None:
    levels = rmt.goe_eigenvalues(6, 3, 400)
    est = rmt.mean_spacing_ratio(levels)
    per_row = rmt.spacing_ratios(levels).mean(axis=1)
    assert est.value == pytest.approx(per_row.mean(), rel=1e-14)
    assert est.error == pytest.approx(per_row.std(ddof=1) / math.sqrt(400), rel=1e-12)
    assert est.n == 400
    value, error = est  # unpacks
    assert (value, error) == (est.value, est.error)


def test_single_long_row_uses_a_blockwise_jackknife() -> None:
    levels = rmt.poisson_levels(4002, 5, 1)  # r̃ of Poisson: ⟨r̃⟩ = 2 ln 2 − 1 for any n
    est = rmt.mean_spacing_ratio(levels)
    assert est.method.startswith("single row")
    assert abs(est.value - rmt.MEAN_RTILDE_SURMISE["poisson"]) < 3 * est.error
    r = rmt.spacing_ratios(levels)[0]
    naive = r.std(ddof=1) / math.sqrt(r.size)
    assert 0.6 * naive < est.error < 1.6 * naive


def test_pair_spacing_and_normalisation() -> None:
    pairs = np.array([[1.0, 3.0], [2.0, 1.5], [np.nan, 0.0]])
    np.testing.assert_allclose(rmt.pair_spacing(pairs), [2.0, 0.5])
    np.testing.assert_allclose(rmt.pair_spacing(pairs[:, 0], pairs[:, 1]), [2.0, 0.5])
    s = rmt.pair_spacing(rmt.goe_eigenvalues(2, 9, 3000))
    assert rmt.normalised_spacings(s).mean() == pytest.approx(1.0, rel=1e-12)
    # The histogram mean of bin centres differs from the sample mean by far less than a bin width.
    edges = rmt.fd_bin_edges(s)
    hmean = rmt.histogram_mean(s)
    assert abs(hmean - s.mean()) < 0.1 * (edges[1] - edges[0])
    assert rmt.normalised_spacings(s, "histogram").mean() == pytest.approx(s.mean() / hmean)


def test_freedman_diaconis_width() -> None:
    x = np.random.default_rng(0).normal(size=1000)
    edges = rmt.fd_bin_edges(x)
    q75, q25 = np.percentile(x, [75, 25])
    assert edges[1] - edges[0] == pytest.approx(2 * (q75 - q25) / 1000 ** (1 / 3))
    assert edges[0] == x.min()
    assert edges[-1] >= x.max()
    wide = rmt.fd_bin_edges(x, width_from=3 * x[:500])
    q75, q25 = np.percentile(3 * x[:500], [75, 25])
    assert wide[1] - wide[0] == pytest.approx(2 * (q75 - q25) / 500 ** (1 / 3))
