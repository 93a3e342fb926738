"""Jackknife and bootstrap against exact identities for the mean and the variance."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mpi_dbm import rmt

X = np.random.default_rng(42).exponential(2.0, 600)
SEM = X.std(ddof=1) / math.sqrt(X.size)


def test_delete_one_jackknife_of_the_mean_is_the_standard_error() -> None:
    res = rmt.jackknife(X, np.mean)
    assert res.estimate == pytest.approx(X.mean(), rel=1e-14)
    assert res.error == pytest.approx(SEM, rel=1e-10)
    assert res.replicates.shape == (X.size,)
    assert res.bias == pytest.approx(0.0, abs=1e-12)


def test_blockwise_jackknife_of_the_mean_is_the_standard_error_of_block_means() -> None:
    res = rmt.jackknife(X, np.mean, n_blocks=20)  # 20 equal blocks of 30
    block_means = X.reshape(20, 30).mean(axis=1)
    assert res.error == pytest.approx(block_means.std(ddof=1) / math.sqrt(20), rel=1e-10)
    strided = rmt.jackknife(X, np.mean, n_blocks=20, blocks="strided")
    block_means = X.reshape(30, 20).mean(axis=0)
    assert strided.error == pytest.approx(block_means.std(ddof=1) / math.sqrt(20), rel=1e-10)


def test_jackknife_bias_correction_of_the_plug_in_variance_is_exact() -> None:
    """Quenouille: θ̂ − bias for θ = var (ddof 0) is the unbiased variance (ddof 1)."""
    res = rmt.jackknife(X, np.var)
    assert res.estimate - res.bias == pytest.approx(X.var(ddof=1), rel=1e-10)


def test_jackknife_over_rows_with_a_vector_statistic() -> None:
    rows = X.reshape(100, 6)
    res = rmt.jackknife(rows, lambda r: np.array([r.mean(), r[:, 0].mean()]))
    assert res.error[0] == pytest.approx(rows.mean(axis=1).std(ddof=1) / 10, rel=1e-10)
    assert res.error[1] == pytest.approx(rows[:, 0].std(ddof=1) / 10, rel=1e-10)


def test_bootstrap_error_of_the_mean_is_close_to_the_standard_error() -> None:
    b = 2000
    res = rmt.bootstrap(X, np.mean, np.random.default_rng(1), n_resamples=b)
    # The bootstrap SE estimates √((n−1)/n)·SEM with a relative Monte-Carlo error ≈ 1/√(2B).
    assert abs(res.error / SEM - 1) < 4 / math.sqrt(2 * b) + 1 / X.size
    again = rmt.bootstrap(X, np.mean, 1, n_resamples=b)  # a seed gives the same Generator stream
    assert again.error == res.error


def test_too_small_samples_raise() -> None:
    with pytest.raises(ValueError):
        rmt.jackknife(X[:1], np.mean)
    with pytest.raises(TypeError):
        rmt.bootstrap(X, np.mean, rng=None)  # type: ignore[arg-type]
