"""The stacked Cholesky of the GRBM samplers: numpy's gufunc called directly must give the bits of
`np.linalg.cholesky` per matrix, NaN and a failure flag where a factorisation fails."""

import numpy as np
import pytest

from mpi_dbm.models.grbm_samplers import _cholesky


def stack(n_rep: int = 6, n: int = 10, seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal((n_rep, n, n))
    return a @ a.transpose(0, 2, 1) + n * np.eye(n)


@pytest.mark.parametrize("upper", [True, False])
def test_factors_are_those_of_numpy_bit_for_bit(upper):
    M = stack()
    out = np.empty_like(M)
    L, failed = _cholesky(M, upper=upper, out=out)
    assert failed is None and L is out
    for r in range(len(M)):
        assert np.array_equal(L[r], np.linalg.cholesky(M[r], upper=upper))


@pytest.mark.parametrize("upper", [True, False])
def test_failures_are_nan_and_flagged_the_others_unchanged(upper):
    M = stack()
    M[1] = -np.eye(M.shape[-1])  # not positive definite
    M[4, 0, 0] = np.nan
    L, failed = _cholesky(M, upper=upper)
    assert failed is not None and failed[1] and not failed[[0, 2, 3, 5]].any()
    assert np.isnan(L[1]).all()
    assert not np.isfinite(L[4]).all()
    for r in (0, 2, 3, 5):
        assert np.array_equal(L[r], np.linalg.cholesky(M[r], upper=upper))
