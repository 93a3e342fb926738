"""The records of an analysis: `AnalysisParameters`, `Verdict`, `Analysis` with its summary()
(summary.json), and `write_summary`. No computation here: pipeline.py fills the records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..jsonable import jsonable
from .data import Dataset, PointData
from .expect import Cluster, Expectation
from .observables import ClusterStats
from .phase_diagram import PhaseDiagram
from .scaling import CollapseTest, ProportionalFit
from .sde import SdeResult
from .spectral import MIN_LEVELS, ORDERS, REFERENCE_ROWS, UNFOLD_TRIM

#: per scan variant (its index): spectrum -> clusters
VariantClusters = tuple[dict[str, list[Cluster]], ...]

#: errors are jackknife over replicas, so a point needs this many finished replicas
MIN_REPLICAS = 2
#: the Marchenko–Pastur fit at initialisation needs this many eigenvalues
MIN_INITIAL_EIGENVALUES = 20


@dataclass(frozen=True)
class AnalysisParameters:
    """How the analysis was done (stored next to the results, as scikit-learn stores params)."""

    measurement: int | None = None  # index into /measure/step; None = last
    window: tuple[int, int] | None = None  # pool all measurements with start <= step <= stop
    alpha: float = 0.01  # significance level of every test
    join: float = 2.0  # cluster detection threshold (only where the model gives no clusters)

    def record(self) -> dict[str, Any]:
        return {
            "measurement": self.measurement,
            "window": list(self.window) if self.window else None,
            "alpha": self.alpha,
            "cluster_detection_join": self.join,
            "unfolding": "none (pair spacings are normalised by their mean; clusters use r-tilde)",
            "errors": "jackknife over replicas (blocks of replicas, at most 50)",
        }


@dataclass
class Verdict:
    name: str
    status: str  # "pass", "fail", "inconclusive" (too few samples to decide), "info"
    detail: str

    def record(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass
class Analysis:
    dataset: Dataset
    parameters: AnalysisParameters
    #: what theory expects, and the clusters, of each scan variant (one without a scan);
    #: `expectation`/`clusters` are variant 0's, `expectation_of`/`clusters_of` any point's
    expectations: tuple[Expectation, ...]
    variant_clusters: tuple[dict[str, list[Cluster]], ...]
    clusters_detected: dict[str, bool]
    stats: dict[tuple[str, int], list[ClusterStats]]  # (spectrum, point index) -> per cluster
    #: (spectrum, point index) -> pooled pair-spacing test; None where no pair has spacings
    universality: dict[tuple[str, int], dict[str, Any] | None]
    fits: dict[str, list[ProportionalFit]]
    collapse: list[CollapseTest]
    shift_fits: dict[str, list[dict[str, Any]]]
    initial: dict[str, dict[str, Any]]
    relaxation: dict[str, list[dict[str, Any]]]
    verdicts: list[Verdict] = field(default_factory=list)
    #: (spectrum, point index) -> statistics of each level set of ≥ MIN_LEVELS levels (spectral.py)
    spectral: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    #: spectrum -> largest eigenvalue at step 0 against Johnstone–Wishart (spectral.initial_edge)
    initial_edge: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: measurement series of the window ({"note"} without one) and the Dyson SDE fits (sde.py)
    dyson_series: dict[str, Any] = field(default_factory=dict)
    dyson: list[SdeResult] = field(default_factory=list)
    phases: PhaseDiagram | None = None  # multilayer family only (phase_diagram.py)

    @property
    def expectation(self) -> Expectation:
        return self.expectations[0]

    @property
    def clusters(self) -> dict[str, list[Cluster]]:
        return self.variant_clusters[0]

    def expectation_of(self, p: PointData) -> Expectation:
        return self.expectations[p.variant]

    def clusters_of(self, p: PointData) -> dict[str, list[Cluster]]:
        return self.variant_clusters[p.variant]

    def summary(self) -> dict[str, Any]:
        ds = self.dataset
        points = []
        for p in ds.points:
            entry: dict[str, Any] = {
                "index": p.index,
                "learning_rate": p.learning_rate,
                "batch_size": p.batch_size,
                "temperature": p.temperature,
                **({"variant": p.variant, "parameters": dict(p.parameters)} if ds.config.scan else {}),
                "tasks": p.n_total,
                "analysed": p.n_done,
                "excluded_diverged": p.n_diverged,
                "missing_pending": p.n_pending,
                "spectra": {},
            }
            for name in ds.spectra:
                entry["spectra"][name] = {
                    "clusters": [s.record() for s in self.stats.get((name, p.index), [])],
                    "universality": self.universality.get((name, p.index)),
                    "level_sets": self.spectral.get((name, p.index), []),
                }
            points.append(entry)
        return {
            "mpi_dbm_version": __version__,
            "results_file": str(ds.path),
            "config_sha256": ds.attrs.get("config_sha256"),
            "model_kind": ds.config.model.kind,
            "config": ds.config.to_toml(),
            "parameters": self.parameters.record(),
            "analysed_steps": ds.selected_steps.tolist(),
            "theory": self.expectation.description,
            "clusters": {
                name: {"detected_from_data": self.clusters_detected[name], "clusters": [c.label for c in cl]}
                for name, cl in self.clusters.items()
            },
            **({"scan": self._scan_record()} if ds.config.scan else {}),
            "points": points,
            "linear_scaling": {name: [f.record() for f in fits] for name, fits in self.fits.items()},
            "collapse": [c.record() for c in self.collapse],
            "mean_shift": self.shift_fits,
            "initial_spectrum": self.initial,
            "relaxation": self.relaxation,
            "spectral_statistics": SPECTRAL_METHOD,
            "initial_edge": self.initial_edge,
            "dyson_sde": {
                "series": self.dyson_series,
                "fits": [
                    {
                        "spectrum": r.spectrum,
                        "point": r.point,
                        "temperature": self.dataset.points[r.point].temperature,
                        **r.record,
                    }
                    for r in self.dyson
                ],
            },
            **({"phases": self.phases.record()} if self.phases is not None else {}),
            "verdicts": [v.record() for v in self.verdicts],
        }

    def _scan_record(self) -> dict[str, Any]:
        """The scan's variants: their parameters, theory and clusters (summary.json "scan")."""
        cfg = self.dataset.config
        assert cfg.scan is not None
        return {
            "combine": cfg.scan.combine,
            "keys": list(cfg.scanned_keys),
            "variants": [
                {
                    "index": v.index,
                    "parameters": dict(v.parameters),
                    "points": [i for i, p in enumerate(cfg.points) if p.variant == v.index],
                    "clusters": {
                        n: [c.label for c in cl] for n, cl in self.variant_clusters[v.index].items()
                    },
                }
                for v in cfg.variants
            ],
        }


#: how the statistics under points[].spectra[].level_sets were made (summary.json)
SPECTRAL_METHOD = {
    "level_sets": f"family clusters of >= {MIN_LEVELS} levels, or, when the family gives no clusters, the "
    f"whole spectrum and every cluster detected in the data, of >= {MIN_LEVELS} levels each",
    "nth_ratios": f"<r~^(n)>, n = {', '.join(map(str, ORDERS))} (Tekur et al. 2018), pooled over the window, "
    "jackknife over replicas; consistent iff the two-sided z test against the matched-size reference "
    "(sampled GOE/GUE/Poisson spectra of as many levels) has p >= alpha; "
    "large_n: beta'-surmise / beta-prime(n, n)",
    "long_range": f"Sigma2(L), Delta3(L), K(tau) of the last analysed measurement of each replica after an "
    f"ensemble unfolding (pooled staircase, PCHIP, trim {UNFOLD_TRIM} per side); references: N -> infinity "
    "(Mehta ch. 16) and matched-size GOE samples (GOE and Poisson for K) unfolded identically",
    "edge": "largest level of a set that is the whole spectrum (one GOE-like cluster), one per replica: "
    "two-sample KS against the same scaling of sampled n x n GOE matrices (decision) and Tracy-Widom F1",
    "reference_matrices": REFERENCE_ROWS,
    # null models (issue #16 item 2; analysis/nulls.py, rmt/nulls.py)
    "spacings": "P(s) of the last analysed measurement of each replica after an ensemble unfolding "
    f"(trim {UNFOLD_TRIM} per side): KS/chi2 against the surmises, small-s beta, Brody q (ML)",
    "nulls": "every spacing statistic (<r~^(n)>, n = 1..3, over all levels; KS distance of P(s) to the GOE "
    "surmise, <s^2>, small-s beta, Brody q of the unfolded bulk) on one spectrum per replica, beside the "
    "same statistic on K null ensembles of as many spectra: GOE (centre and v = m2/(n + 1) of the data) "
    "and Wishart W W^T/m (Marchenko-Pastur CDF fit of s^2, q for positive levels, else shifted and matched "
    "in mean, variance, skewness); mean, spread (std over the K), z, p = 2 T_(K-1)(-|z|/sqrt(1 + 1/K)), "
    "distinguishable iff p < alpha. shuffled: the spectrum NAME.shuffled of entry-shuffled matrices "
    "(import only), compared by jackknife errors over replicas",
}


def write_summary(analysis: Analysis, outdir: Path) -> Path:
    path = outdir / "summary.json"
    path.write_text(json.dumps(jsonable(analysis.summary()), indent=1, allow_nan=False))
    return path
