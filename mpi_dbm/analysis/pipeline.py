"""`analyze`: a results file -> per-point cluster statistics, scaling fits, verdicts, summary.json.

Any ensemble size is analysed: a statistic that needs more data than the file holds becomes an
"inconclusive" verdict (a test) or a note (a value) saying "not enough data: need N …, have M",
and the rest of the analysis goes on. Pending tasks (a chunk of a split sweep, a stopped run) and
diverged replicas are left out and counted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .data import Dataset, load
from .expect import Cluster, Expectation, detect_clusters, expectation_for
from .nulls import shuffled_rows, without_shuffled
from .observables import ClusterStats, cluster_stats
from .phase_diagram import of_dataset
from .result import (
    MIN_INITIAL_EIGENVALUES,
    MIN_REPLICAS,
    SPECTRAL_METHOD,
    Analysis,
    AnalysisParameters,
    VariantClusters,
    Verdict,
    write_summary,
)
from .sde import dyson_fits
from .steps import (
    _cluster_rows,
    _collapse,
    _initial,
    _initial_edges,
    _relaxation,
    _scaling_fits,
    _shift_fits,
    _spectral,
    _universality,
)
from .verdicts import SLOPE_TOLERANCE, _verdicts, dyson_beta_status

__all__ = [
    "MIN_INITIAL_EIGENVALUES",
    "MIN_REPLICAS",
    "SLOPE_TOLERANCE",
    "SPECTRAL_METHOD",
    "Analysis",
    "AnalysisParameters",
    "VariantClusters",
    "Verdict",
    "analyze",
    "dyson_beta_status",
    "write_summary",
]


def analyze(path: str | Path, parameters: AnalysisParameters | None = None) -> Analysis:
    """Run every analysis step on a results file (no files written; see `write`)."""
    params = parameters or AnalysisParameters()
    ds = without_shuffled(load(path, params.measurement, params.window))  # NAME.shuffled: NAME's null
    exps = tuple(
        expectation_for(replace(ds.config, model=v.model, train=v.train)) for v in ds.config.variants
    )
    vclusters, detected = _clusters(ds, exps, params.join)
    stats: dict[tuple[str, int], list[ClusterStats]] = {}
    universality: dict[tuple[str, int], dict[str, Any] | None] = {}
    for p in ds.points:
        if p.n_done < MIN_REPLICAS:
            continue
        exp = exps[p.variant]
        for name in ds.spectra:
            rows = []
            for c in vclusters[p.variant][name]:
                v = exp.variance(name, c, p.learning_rate, p.batch_size)
                shift = exp.shift(name, c, p.learning_rate, p.batch_size)
                shuffled = shuffled_rows(p.samples, name, c.start, c.stop)  # NAME.shuffled: its null
                rows.append(
                    cluster_stats(_cluster_rows(p, name, c), c, v, shift, params.alpha, shuffled=shuffled)
                )
            stats[(name, p.index)] = rows
            universality[(name, p.index)] = _universality(rows, params.alpha)

    analysis = Analysis(
        ds,
        params,
        exps,
        vclusters,
        detected,
        stats,
        universality,
        _scaling_fits(ds, stats),
        _collapse(ds, params.alpha),
        _shift_fits(ds, vclusters, stats),
        _initial(ds, exps[0]),
        _relaxation(ds, exps, vclusters),
    )
    analysis.spectral = _spectral(ds, vclusters, detected, params.alpha)
    analysis.initial_edge = _initial_edges(ds, exps[0], params.alpha)
    first = replace(ds, points=tuple(p for p in ds.points if p.variant == 0))
    analysis.dyson_series, analysis.dyson = dyson_fits(first, exps[0], vclusters[0], detected, MIN_REPLICAS)
    for var in ds.config.variants[1:]:  # every variant's points, with its own expectation and clusters
        mine = replace(ds, points=tuple(p for p in ds.points if p.variant == var.index))
        analysis.dyson += dyson_fits(mine, exps[var.index], vclusters[var.index], detected, MIN_REPLICAS)[1]
    analysis.verdicts = _verdicts(analysis)
    analysis.phases = of_dataset(ds)  # multilayer: phases per point, summary.json "phases" (issue #15)
    analysis.verdicts += [Verdict(*v) for v in analysis.phases.verdicts()] if analysis.phases else []
    return analysis


def _clusters(
    ds: Dataset, exps: Sequence[Expectation], join: float
) -> tuple[VariantClusters, dict[str, bool]]:
    """The clusters of every spectrum for each variant: the family's, or detected from the data
    pooled over the variant's points (`detected`: per spectrum, from variant 0's theory)."""
    out: list[dict[str, list[Cluster]]] = []
    detected: dict[str, bool] = {}
    for variant, exp in enumerate(exps):
        mine = [p for p in ds.points if p.variant == variant]
        clusters: dict[str, list[Cluster]] = {}
        for name in ds.spectra:
            size = ds.points[0].samples[name].shape[-1]
            cl = exp.clusters(name, size)
            detected.setdefault(name, cl is None)
            if cl is None:
                pooled = [p.realisations(name) for p in mine if p.n_done]
                cl = detect_clusters(np.concatenate(pooled), join) if pooled else []
            clusters[name] = cl
        out.append(clusters)
    return tuple(out), detected
