"""`analyze` + the report on small synthetic results files: the null-model columns of every
spacing statistic (issue #16 item 2). A file with spectrum X and X.shuffled (as `mpi-dbm import`
writes them) analyses X.shuffled only as X's shuffled-entry null; a file without it says what the
shuffled column needs. GOE input agrees with its nulls; a Wishart matrix plus a strong low-rank
signal is distinguishable from them."""

from __future__ import annotations

import json
from types import SimpleNamespace

import h5py
import numpy as np
import pytest

from mpi_dbm import config, store
from mpi_dbm.analysis import analyze
from mpi_dbm.analysis.nulls import NO_SHUFFLED, STATISTICS
from mpi_dbm.analysis.pipeline import write_summary
from mpi_dbm.models.base import SpectrumInfo
from mpi_dbm.report import write_report
from mpi_dbm.rmt.nulls import NULL_MODELS
from mpi_dbm.train import StackResult

ALPHA = 0.01
REPLICAS, N, M = 80, 60, 120

CONFIG = f"""
[sweep]
name = "nulls-synthetic"
seed = 16
replicas = {REPLICAS}
points = [[0.1, 16]]
block_size = {REPLICAS}
[model]
kind = "linear"
n_in = 4
n_hidden = 4
n_out = 4
teacher_singular_values = [[1.0, 4]]
[train]
steps = 1
measure_every = 1
check_every = 1
"""


def gen(*key: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(1602, spawn_key=key)))


def write_results(path, spectra: dict[str, np.ndarray]) -> None:
    """A results file of CONFIG whose spectra are `spectra` (name -> (replicas, measurements, n)),
    written with the store's layout, writers and checksums, every task done (as
    benchmarks/synth_results.py does)."""
    cfg = config.parse_text(CONFIG)
    n_meas = len(cfg.train.measure_steps)
    model = SimpleNamespace(
        spectra=tuple(SpectrumInfo(k, v.shape[-1], f"synthetic {k}") for k, v in spectra.items()),
        scalars=(),
    )
    with h5py.File(path, "w", libver=store.LIBVER) as f:
        store._create_layout(f, cfg, model, store._root_attributes(cfg, 1, False))  # type: ignore[arg-type]
        store._write_tables(f, cfg)
        result = StackResult(
            spectra={k: v[:, :n_meas] for k, v in spectra.items()},
            scalars={},
            diverged_step=np.full(REPLICAS, -1, dtype=np.int64),
            diverged_reason=np.zeros(REPLICAS, dtype=np.int8),
        )
        rows = slice(0, REPLICAS)
        store._write_data(f, rows, result)
        store._write_status(f, rows, result)


def gram(a: np.ndarray) -> np.ndarray:
    """Eigenvalues of A Aᵀ per matrix, ascending (the smaller Gram matrix, as run and import)."""
    return np.linalg.eigvalsh(a @ np.swapaxes(a, -1, -2))


def spiked_weights(rng: np.random.Generator) -> np.ndarray:
    """A = W/√m + B: W (replicas, 2, n, m) Gaussian, B a fixed rank-8 signal with singular values
    √θ, θ = 8, 10, …, 22 (A Aᵀ has 8 outliers far above the Marchenko–Pastur bulk)."""
    u = np.linalg.qr(rng.normal(size=(N, 8)))[0]
    v = np.linalg.qr(rng.normal(size=(M, 8)))[0]
    signal = u @ np.diag(np.sqrt(8.0 + 2.0 * np.arange(8))) @ v.T
    return rng.normal(size=(REPLICAS, 2, N, M)) / np.sqrt(M) + signal


def shuffled(a: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each matrix with its entries randomly permuted (the null `import` stores as NAME.shuffled)."""
    flat = a.reshape(*a.shape[:-2], -1)
    return rng.permuted(flat, axis=-1).reshape(a.shape)


def run_analysis(tmp_path, spectra):
    path = tmp_path / "results.h5"
    write_results(path, spectra)
    a = analyze(path)
    out = tmp_path / "report"
    out.mkdir()
    write_summary(a, out)
    write_report(a, out, figures=False)
    summary = json.loads((out / "summary.json").read_text())
    return a, summary, (out / "report.html").read_text(encoding="utf-8")


def null_verdict(summary, level_set: str = "whole spectrum") -> dict:
    hits = [
        v
        for v in summary["verdicts"]
        if v["name"].endswith("spacing statistics vs null models") and level_set in v["name"]
    ]
    assert len(hits) == 1, summary["verdicts"]
    return hits[0]


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_spiked_wishart_with_its_shuffled_copy(tmp_path):
    rng = gen(1)
    a = spiked_weights(rng)
    _, summary, page = run_analysis(tmp_path, {"X": gram(a), "X.shuffled": gram(shuffled(a, rng))})
    # X.shuffled is X's null, not a spectrum of its own
    assert list(summary["points"][0]["spectra"]) == ["X"]
    assert not any("X.shuffled" in v["name"] for v in summary["verdicts"])
    ls, bulk = summary["points"][0]["spectra"]["X"]["level_sets"]
    nulls = ls["nulls"]
    # the bulk without the 8 spikes, detected as a cluster of its own, is what random weights give
    assert ls["levels"] == [0, N] and bulk["levels"] == [0, N - 8]
    for stat in ("rtilde_3", "ps_ks_goe"):
        assert not bulk["nulls"]["statistics"][stat]["wishart"]["distinguishable"], stat
    assert "<r~^(3)> = " in null_verdict(summary, "(52-level cluster, detected)")["detail"]
    assert nulls["shuffled_note"] is None and nulls["rows"] == REPLICAS
    assert set(nulls["statistics"]) == set(STATISTICS)
    assert ls["spacings"]["brody"]["q"] < 0.9
    # the outliers: <r~^(3)> and the unfolded P(s) (KS distance) differ from every null
    for stat in ("rtilde_3", "ps_ks_goe"):
        for model in (*NULL_MODELS, "shuffled"):
            assert nulls["statistics"][stat][model]["distinguishable"], (stat, model)
    detail = null_verdict(summary)["detail"]
    assert (
        "distinguishable from the Wishart null" in detail
        and "distinguishable from the shuffled null" in detail
    )
    # the report's null-model columns
    assert "Spacing statistics beside null models" in page
    for column in ("GOE null", "Wishart null", "shuffled-entry null", "Brody q", "β (small s)"):
        assert column in page
    level_sets = page.split("Cluster statistics beside null models")[0]  # clusters: test_cluster_nulls
    assert "<b>distinguishable</b>" in level_sets and NO_SHUFFLED not in level_sets


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_goe_input_agrees_with_its_nulls_and_names_what_the_shuffled_null_needs(tmp_path):
    from mpi_dbm import rmt

    levels = rmt.goe_eigenvalues(N, gen(2), 2 * REPLICAS, 0.3).reshape(REPLICAS, 2, N) + 2.0
    _, summary, page = run_analysis(tmp_path, {"X": levels})
    (ls,) = summary["points"][0]["spectra"]["X"]["level_sets"]
    nulls = ls["nulls"]
    level = ALPHA / (len(STATISTICS) * len(NULL_MODELS))  # Bonferroni over the comparisons
    for stat, r in nulls["statistics"].items():
        for model in NULL_MODELS:
            assert r[model]["p"] >= level, (stat, model, r[model])
            assert abs(r["measured"] - r[model]["mean"]) < 4 * r[model]["spread"]
    assert nulls["shuffled_note"] == NO_SHUFFLED
    assert NO_SHUFFLED in null_verdict(summary)["detail"]
    assert "not distinguishable from the GOE null" in null_verdict(summary)["detail"]
    assert NO_SHUFFLED in page and "GOE null" in page
