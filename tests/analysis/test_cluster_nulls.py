"""Null models of the cluster statistics (issue #16 item 2): the pair statistics of degenerate
pairs (⟨s²⟩, the KS distance of P(s) to the Wigner surmise, small-s β) and ⟨r̃⟩ of clusters of
3–7 levels beside the Wishart, GOE and shuffled-entry nulls, in summary.json next to each
cluster's record and as a table in report.html. Decisions are the p-values of
rmt.nulls.compare at α, not tuned constants."""

from __future__ import annotations

import numpy as np
import pytest
from test_spectral_nulls import REPLICAS, gen, run_analysis

from mpi_dbm.analysis.nulls import (
    CLUSTER_STATISTICS,
    MIN_CLUSTER_ROWS,
    NO_SHUFFLED,
    PAIR_STATISTICS,
    cluster_nulls,
)
from mpi_dbm.rmt.nulls import gram_null

ALPHA = 0.01
CENTRES = (10.0, 20.0, 30.0, 40.0)
WIDTH = 0.3


def goe_blocks(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    """Eigenvalues of n×n GOE matrices (off-diagonal variance WIDTH²), ascending; shape + (n,)."""
    a = rng.normal(0.0, WIDTH, (*shape, n, n))
    return np.linalg.eigvalsh((a + np.swapaxes(a, -1, -2)) / np.sqrt(2.0))


def poisson_blocks(rng: np.random.Generator, n: int, shape: tuple[int, ...]) -> np.ndarray:
    """n levels with independent exponential spacings (Poisson statistics), ascending."""
    return np.cumsum(rng.exponential(WIDTH, (*shape, n)), axis=-1)


def spectrum(blocks: np.ndarray) -> np.ndarray:
    """Blocks (clusters, replicas, measurements, n) at CENTRES -> (replicas, measurements, levels)."""
    shifted = [b - b.mean() + c for b, c in zip(blocks, CENTRES, strict=True)]
    return np.sort(np.concatenate(shifted, axis=-1), axis=-1)


def cluster_records(summary: dict) -> list[dict]:
    [point] = summary["points"]
    return point["spectra"]["X"]["clusters"]


def _check_columns(rec: dict, keys: dict[str, str]) -> None:
    nulls = rec["nulls"]
    assert set(nulls["statistics"]) == set(keys)
    assert nulls["rows"] == REPLICAS and nulls["shuffled_note"] == NO_SHUFFLED
    for r in nulls["statistics"].values():
        for model in ("goe", "wishart"):
            assert r[model]["k"] == nulls["k"] and r[model]["spread"] > 0


@pytest.mark.parametrize("n", [2, 3])
def test_goe_clusters_are_not_distinguishable_from_their_nulls(tmp_path, n):
    rng = gen(16, 2, n)
    blocks = np.stack([goe_blocks(rng, n, (REPLICAS, 2)) for _ in CENTRES])
    _, summary, page = run_analysis(tmp_path, {"X": spectrum(blocks)})
    recs = cluster_records(summary)
    assert [r["n_levels"] for r in recs] == [n] * len(CENTRES)
    keys = PAIR_STATISTICS if n == 2 else CLUSTER_STATISTICS
    pvalues = []
    for rec in recs:
        _check_columns(rec, keys)
        for stat in keys:
            for model in ("goe", "wishart"):
                pvalues.append(rec["nulls"]["statistics"][stat][model]["p"])
        assert "not distinguishable from the GOE null" in rec["nulls"]["verdict"]
    # 4 clusters x (3 or 1) statistics x 2 nulls: at α = 0.01 at most one chance rejection
    assert sum(p < ALPHA for p in pvalues) <= 1, pvalues
    assert "Cluster statistics beside null models" in page
    label = "P(s): KS distance to the Wigner surmise (2×2 GOE)" if n == 2 else "⟨r̃⟩"
    assert label in page and "Wishart null" in page


@pytest.mark.parametrize("n", [2, 3])
def test_poisson_clusters_are_distinguishable_from_their_nulls(tmp_path, n):
    rng = gen(16, 3, n)
    blocks = np.stack([poisson_blocks(rng, n, (REPLICAS, 2)) for _ in CENTRES])
    _, summary, page = run_analysis(tmp_path, {"X": spectrum(blocks)})
    recs = cluster_records(summary)
    assert [r["n_levels"] for r in recs] == [n] * len(CENTRES)
    stat = "s2" if n == 2 else "rtilde"
    for rec in recs:
        r = rec["nulls"]["statistics"][stat]
        for model in ("goe", "wishart"):
            assert r[model]["distinguishable"] and r[model]["p"] < ALPHA, (stat, model, r)
        assert "distinguishable from the GOE null" in rec["nulls"]["verdict"]
    assert "<b>distinguishable</b>" in page


def test_wishart_pairs_match_their_gram_null():
    """Eigenvalues of W Wᵀ, W 2×2 Gaussian: the matched m is 2 and no statistic differs from the
    Wishart null; the 2×2 GOE is the surmise, which these pairs do not follow."""
    rng = gen(16, 4)
    w = rng.normal(size=(400, 1, 2, 2))
    levels = np.linalg.eigvalsh(w @ np.swapaxes(w, -1, -2))
    model = gram_null(levels[:, -1])
    assert model.params["m"] == pytest.approx(2, abs=1)
    rec = cluster_nulls(levels, None, ALPHA)
    for stat in PAIR_STATISTICS:
        assert not rec["statistics"][stat]["wishart"]["distinguishable"], stat
    assert rec["statistics"]["ps_ks_goe"]["goe"]["distinguishable"]


def test_shuffled_entry_null_of_a_pair():
    rng = gen(16, 5)
    measured = goe_blocks(rng, 2, (REPLICAS, 1))
    same = goe_blocks(rng, 2, (REPLICAS, 1))
    poisson = poisson_blocks(rng, 2, (REPLICAS, 1))
    agree = cluster_nulls(measured, same, ALPHA)["statistics"]["s2"]["shuffled"]
    assert agree["p"] >= ALPHA and not agree["distinguishable"]
    differ = cluster_nulls(measured, poisson, ALPHA)["statistics"]["s2"]["shuffled"]
    assert differ["distinguishable"] and differ["p"] < ALPHA


def test_too_few_replicas_say_so():
    rng = gen(16, 6)
    rec = cluster_nulls(goe_blocks(rng, 2, (MIN_CLUSTER_ROWS - 1, 1)), None, ALPHA)
    assert "not enough data" in rec["not_enough_data"]


def test_analyze_fills_the_shuffled_column_of_clusters_from_name_shuffled(tmp_path):
    rng = gen(16, 7)
    blocks = np.stack([goe_blocks(rng, 2, (REPLICAS, 2)) for _ in CENTRES])
    other = np.stack([goe_blocks(rng, 2, (REPLICAS, 2)) for _ in CENTRES])
    _, summary, _ = run_analysis(tmp_path, {"X": spectrum(blocks), "X.shuffled": spectrum(other)})
    for rec in cluster_records(summary):
        assert rec["nulls"]["shuffled_note"] is None
        assert "shuffled" in rec["nulls"]["statistics"]["s2"]


def test_gram_null_matches_mean_and_variance_or_falls_back_to_a_shifted_square_gram():
    """m = (n + 1)⟨x⟩²/Var x with s² = ⟨x⟩ and no shift; a cluster too wide for m ≥ n (or not
    positive) gets m = n with the scale and shift matched; samples have the matched moments."""
    rng = gen(16, 8)
    narrow = 5.0 + 0.1 * goe_blocks(rng, 3, (2000,))
    model = gram_null(narrow)
    x = narrow.ravel()
    assert model.params["shift"] == 0.0
    assert model.params["m"] == round(4 * x.mean() ** 2 / x.var())
    wide = goe_blocks(rng, 3, (2000,))  # centred at 0: not a Gram spectrum
    fallback = gram_null(wide)
    assert fallback.params["m"] == 3 and fallback.params["shift"] != 0.0
    for m, levels in ((model, narrow), (fallback, wide)):
        sample = m.sample(gen(16, 9), 4000).ravel()
        ref = levels.ravel()
        # moments of 12000 draws against the data's: within 5 standard errors
        assert abs(sample.mean() - ref.mean()) < 5 * ref.std() / np.sqrt(ref.size)
        assert sample.var() == pytest.approx(ref.var(), rel=0.1)


def level_set_records(summary: dict) -> list[dict]:
    [point] = summary["points"]
    return point["spectra"]["X"]["level_sets"]


@pytest.mark.parametrize("kind", ["goe", "poisson"])
def test_detected_clusters_of_eight_or_more_levels_get_the_level_set_nulls(tmp_path, kind):
    """A spectrum the family has no clusters for, made of two 10-level blocks far apart: the
    detected blocks are too large for the cluster nulls (2–7 levels) and used to get no null at
    all; they are level sets now, beside the whole spectrum. GOE blocks agree with the GOE null,
    Poisson blocks do not."""
    n, centres = 10, (10.0, 40.0)
    rng = gen(16, 4, 0 if kind == "goe" else 1)
    make = goe_blocks if kind == "goe" else poisson_blocks
    blocks = [make(rng, n, (REPLICAS, 2)) for _ in centres]
    x = np.sort(np.concatenate([b - b.mean() + c for b, c in zip(blocks, centres, strict=True)], axis=-1))
    _, summary, _ = run_analysis(tmp_path, {"X": x})
    sets = level_set_records(summary)
    assert [tuple(s["levels"]) for s in sets] == [(0, 2 * n), (0, n), (n, 2 * n)]
    for rec in sets[1:]:
        r = rec["nulls"]["statistics"]["rtilde_1"]["goe"]
        if kind == "goe":
            assert not r["distinguishable"], r
        else:
            assert r["distinguishable"] and r["p"] < ALPHA, r
