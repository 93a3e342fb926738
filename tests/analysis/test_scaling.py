"""Linear-scaling helpers: the collapse test's power bound against the exact two-sample KS law."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from scipy.stats import ks_2samp

from mpi_dbm.analysis.scaling import collapse_test, ks_2samp_pvalue, ks_replicas_needed, ks_smallest_pvalue


def enumerated_ks_pvalue(a: np.ndarray, b: np.ndarray) -> float:
    """P(D >= d_observed) over all C(m + n, m) equally likely orderings of the pooled sample."""
    m, n = len(a), len(b)

    def d_of(is_a: np.ndarray) -> float:
        return float(np.max(np.abs(np.cumsum(is_a) / m - np.cumsum(~is_a) / n)))

    observed = d_of(np.concatenate([np.ones(m, bool), np.zeros(n, bool)])[np.argsort(np.concatenate([a, b]))])
    hits = total = 0
    for pos in itertools.combinations(range(m + n), m):
        is_a = np.zeros(m + n, bool)
        is_a[list(pos)] = True
        hits += d_of(is_a) >= observed - 1e-12
        total += 1
    return hits / total


@pytest.mark.parametrize(("m", "n"), [(2, 2), (3, 3), (4, 4), (3, 5), (8, 8), (6, 9)])
def test_smallest_pvalue_is_that_of_two_separated_samples(m: int, n: int) -> None:
    """scipy's exact two-sided KS p-value of non-overlapping samples is 2/C(m + n, m)."""
    a, b = np.arange(m, dtype=float), 100.0 + np.arange(n)
    p = ks_2samp(a, b, method="exact").pvalue
    assert ks_smallest_pvalue(m, n) == pytest.approx(p, rel=1e-9)
    assert ks_smallest_pvalue(m, n) == pytest.approx(2.0 / math.comb(m + n, m), rel=1e-12)


def test_no_pair_of_samples_gets_below_the_bound() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(20261201))
    for _ in range(200):
        m, n = rng.integers(2, 7, size=2)
        a, b = rng.normal(size=m), rng.normal(loc=rng.uniform(0, 5), size=n)
        assert ks_2samp_pvalue(a, b) >= ks_smallest_pvalue(int(m), int(n)) * (1 - 1e-9)


def test_bound_for_large_samples_underflows_quietly() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ks_smallest_pvalue(5000, 5000) == 0.0
    assert ks_smallest_pvalue(0, 5) == 1.0


def test_replicas_needed_is_the_smallest_size_that_can_reject() -> None:
    # 18 tests (6 levels, 3 pairs of points) at alpha = 0.01: 36/C(14, 7) = 0.0105, 36/C(16, 8) = 0.0028
    assert ks_replicas_needed(18, 0.01) == 8
    for tests in (1, 5, 40, 300):
        k = ks_replicas_needed(tests, 0.01)
        assert 2 * tests / math.comb(2 * k, k) < 0.01 <= 2 * tests / math.comb(2 * k - 2, k - 1)


def test_collapse_of_small_samples_is_not_resolvable() -> None:
    """Three replicas per point cannot reject even fully separated spectra: no vacuous pass."""
    a = np.arange(9.0).reshape(3, 3)
    test = collapse_test(0.01, [0, 1], "X", [a, a + 100.0], alpha=0.01)
    assert test.passed and not test.resolvable  # p = 0.1 per level: would have read as a pass
    assert (test.replicas, test.replicas_needed) == (3, ks_replicas_needed(3, 0.01))
    big = np.arange(60.0).reshape(20, 3)
    test = collapse_test(0.01, [0, 1], "X", [big, big + 100.0], alpha=0.01)
    assert test.resolvable and not test.passed


@pytest.mark.parametrize("n", [3, 5, 7])
def test_two_sample_pvalue_is_the_exact_law_without_warnings(n: int) -> None:
    """Equal sizes, including D = 1/n and 2/n, where scipy's exact method fails for n = 5, 7."""
    rng = np.random.default_rng(np.random.SeedSequence([20261201, n]))
    alternating = np.arange(2 * n, dtype=float)
    cases = [(alternating[0::2], alternating[1::2])]  # D = 1/n
    swapped = alternating.copy()
    swapped[[1, 2]] = swapped[[2, 1]]
    cases.append((swapped[0::2], swapped[1::2]))  # D = 2/n
    cases += [(rng.normal(size=n), rng.normal(loc=rng.uniform(0, 3), size=n)) for _ in range(12)]
    for a, b in cases:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            p = ks_2samp_pvalue(a, b)
        assert p == pytest.approx(enumerated_ks_pvalue(a, b), abs=1e-9), (a, b)
