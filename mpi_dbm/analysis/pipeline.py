"""`analyze`: a results file -> per-point cluster statistics, scaling fits, verdicts, summary.json.

Any ensemble size is analysed: a statistic that needs more data than the file holds becomes an
"inconclusive" verdict (a test) or a note (a value) saying "not enough data: need N …, have M",
and the rest of the analysis goes on. Pending tasks (a chunk of a split sweep, a stopped run) and
diverged replicas are left out and counted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__, rmt
from ..jsonable import jsonable
from .data import Dataset, PointData, load
from .expect import (
    UNIVERSAL_SLOPES,
    Cluster,
    Expectation,
    cluster_rms_slope,
    detect_clusters,
    expectation_for,
)
from .nulls import null_verdict, shuffled_rows, without_shuffled
from .observables import MIN_REALISATIONS, ClusterStats, cluster_stats
from .phase_diagram import PhaseDiagram, of_dataset
from .scaling import CollapseTest, ProportionalFit, collapse_test, equal_temperature_groups, proportional_fit
from .sde import SdeResult, dyson_fits
from .spectral import (
    MIN_LEVELS,
    ORDERS,
    REFERENCE_ROWS,
    UNFOLD_TRIM,
    initial_edge,
    level_set_stats,
    level_sets,
)

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
    "level_sets": f"family clusters of >= {MIN_LEVELS} levels, or the whole spectrum of >= {MIN_LEVELS} "
    "levels when the family gives no clusters",
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


def _spectral(
    ds: Dataset, vclusters: VariantClusters, detected: dict[str, bool], alpha: float
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    out: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for name in ds.spectra:
        size = ds.points[0].samples[name].shape[-1]
        for p in ds.points:
            sets = level_sets(vclusters[p.variant][name], detected[name], size)
            if not sets or p.n_done < MIN_REPLICAS:
                continue
            out[(name, p.index)] = [
                level_set_stats(
                    p.samples[name][..., ls.start : ls.stop],
                    ls,
                    alpha,
                    ls.expected_goe and ls.whole,
                    shuffled_rows(p.samples, name, ls.start, ls.stop),
                )
                for ls in sets
            ]
    return out


def _initial_edges(ds: Dataset, exp: Expectation, alpha: float) -> dict[str, dict[str, Any]]:
    out = {}
    for name in ds.spectra:
        law = exp.initial_law(name)
        if law is None or not np.any(ds.steps == 0):
            continue
        try:
            out[name] = initial_edge(ds.initial[name], law, alpha)
        except rmt.InsufficientDataError as exc:
            out[name] = {"not_enough_data": str(exc)}
    return out


def _cluster_rows(point: PointData, name: str, c: Cluster) -> np.ndarray:
    return point.samples[name][..., c.start : c.stop]


def _universality(stats: list[ClusterStats], alpha: float) -> dict[str, Any] | None:
    """Pooled verdict over every pair (s normalised per pair) of one point."""
    s = [st.spacings for st in stats if st.spacings is not None]
    if not s:
        return None
    pooled = np.concatenate(s)
    try:
        ver = rmt.verdict(pooled, quantity="s", n=2, alpha=alpha)
    except rmt.InsufficientDataError as exc:
        return {"not_enough_data": f"{exc} (pair spacings)", "n_spacings": int(pooled.size)}
    return {**ver.record(), "summary": ver.summary(), "n_spacings": int(pooled.size)}


def _initial(ds: Dataset, exp: Expectation) -> dict[str, dict[str, Any]]:
    out = {}
    for name in ds.spectra:
        law = exp.initial_law(name)
        x = ds.initial[name]
        if law is None or not np.any(ds.steps == 0):
            continue
        if x.size < MIN_INITIAL_EIGENVALUES:
            out[name] = {
                "not_enough_data": f"not enough data: need {MIN_INITIAL_EIGENVALUES} eigenvalues "
                f"at step 0, have {x.size}",
                "n_eigenvalues": int(x.size),
            }
            continue
        fit = rmt.fit_marchenko_pastur(x.reshape(-1) / law.normalisation)
        rec = fit.record()
        out[name] = {
            "fit": rec,
            "expected_scale": law.scale,
            "expected_ratio": law.ratio,
            "normalisation": law.normalisation,
            "scale_over_expected": rec["scale"] / law.scale,
            "n_eigenvalues": int(x.size),
        }
    return out


def _relaxation(
    ds: Dataset, exps: Sequence[Expectation], vclusters: VariantClusters
) -> dict[str, list[dict[str, Any]]]:
    """Lag-one autocorrelation of δx between consecutive measurements -> rate in t = nα."""
    out: dict[str, list[dict[str, Any]]] = {}
    sel = ds.selected if len(ds.selected) > 1 else np.arange(len(ds.steps) // 2, len(ds.steps))
    if len(sel) < 2:
        return out
    dstep = int(ds.steps[sel[1]] - ds.steps[sel[0]])
    for name in ds.spectra:
        rows = []
        for p in ds.points:
            traj = p.trajectories[name][:, sel]
            if traj.shape[0] < 2:
                continue
            exp = exps[p.variant]
            for c in vclusters[p.variant][name]:
                x = traj[..., c.start : c.stop].mean(axis=-1)  # cluster centre per replica and time
                d = x - x.mean(axis=1, keepdims=True)
                num = np.nanmean(d[:, 1:] * d[:, :-1])
                den = np.nanmean(d * d)
                rho = float(num / den) if den > 0 else math.nan
                dt = dstep * p.learning_rate
                rate = -math.log(rho) / dt if 0.02 < rho < 0.98 else math.nan
                pred = exp.relaxation_rate(name, c)
                rows.append(
                    {
                        "point": p.index,
                        "cluster": c.label,
                        "lag_steps": dstep,
                        "lag_t": dt,
                        "autocorrelation": rho,
                        "rate": rate,
                        "predicted_rate": pred,
                        "resolved": bool(math.isfinite(rate)),
                    }
                )
        out[name] = rows
    return out


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
                rows.append(cluster_stats(_cluster_rows(p, name, c), c, v, shift, params.alpha))
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


def _collapse(ds: Dataset, alpha: float) -> list[CollapseTest]:
    """Collapse tests of the points of one variant at equal α/|B| (the stationary law depends on
    α/|B| only at fixed model parameters, so points of different variants are not compared)."""
    out = []
    for variant in range(len(ds.config.variants)):
        mine = [p for p in ds.points if p.variant == variant]
        for group in equal_temperature_groups([p.temperature for p in mine]):
            members = [mine[i] for i in group if mine[i].n_done >= MIN_REPLICAS]
            if len(members) < 2:
                continue
            for name in ds.spectra:
                samples = [m.samples[name][:, -1] for m in members]
                out.append(
                    collapse_test(members[0].temperature, [m.index for m in members], name, samples, alpha)
                )
    return out


def _scaling_fits(
    ds: Dataset, stats: dict[tuple[str, int], list[ClusterStats]]
) -> dict[str, list[ProportionalFit]]:
    """Each observable against √v, pooled over every point (and every scan variant: v is the
    point's own prediction, and the slope against it is universal, physics.md §1.6)."""
    out: dict[str, list[ProportionalFit]] = {}
    for name in ds.spectra:
        series: dict[str, tuple[list[float], list[float], list[float], float | None]] = {}
        for p in ds.points:
            for st in stats.get((name, p.index), []):
                sqrt_v = st.predicted.get("sqrt_v")
                if sqrt_v is None:
                    continue
                c = st.cluster
                candidates = {
                    "pair_mean_spacing": ("mean_spacing", UNIVERSAL_SLOPES["pair_mean_spacing"]),
                    "pair_sqrt_pi_sigma": ("sqrt_pi_sigma", UNIVERSAL_SLOPES["pair_sqrt_pi_sigma"]),
                    "single_std": ("std", UNIVERSAL_SLOPES["single_std"]),
                    f"cluster{c.n}_rms": ("second_moment", cluster_rms_slope(c.n)),
                }
                for obs, (key, slope) in candidates.items():
                    if key not in st.values:
                        continue
                    val, err = st.values[key]["value"], st.values[key]["error"]
                    if key == "second_moment":  # compare √m2
                        val, err = math.sqrt(val), 0.5 * err / math.sqrt(val)
                    xs, ys, es, _ = series.setdefault(obs, ([], [], [], slope))
                    xs.append(sqrt_v)
                    ys.append(val)
                    es.append(err)
        out[name] = [
            f
            for obs, (xs, ys, es, slope) in series.items()
            if (f := proportional_fit(obs, xs, ys, es, slope))
        ]
    return out


def _shift_fits(
    ds: Dataset, vclusters: VariantClusters, stats: dict[tuple[str, int], list[ClusterStats]]
) -> dict[str, list[dict[str, Any]]]:
    """Per cluster and scan variant: centre shift against T = α/|B| (non-universal: it depends on
    the model's parameters), fitted as shift = b·T; and each point's shift over its prediction."""
    out: dict[str, list[dict[str, Any]]] = {}
    for name in ds.spectra:
        rows = []
        for variant, clusters in enumerate(vclusters):
            mine = [p for p in ds.points if p.variant == variant]
            for c in clusters[name]:
                if c.centre is None:
                    continue
                rows.append(_shift_row(name, c, mine, stats, bool(ds.config.scan)))
        out[name] = rows
    return out


def _shift_row(
    name: str,
    c: Cluster,
    points: list[PointData],
    stats: dict[tuple[str, int], list[ClusterStats]],
    scan: bool,
) -> dict[str, Any]:
    ts, ys, es, preds, idx = [], [], [], [], []
    for p in points:
        for st in stats.get((name, p.index), []):
            if st.cluster == c and "shift" in st.values:
                idx.append(p.index)
                ts.append(p.temperature)
                ys.append(st.values["shift"]["value"])
                es.append(st.values["shift"]["error"])
                preds.append(st.predicted.get("shift"))
    fit = proportional_fit("shift", ts, ys, es, None)
    known = [b / t for b, t in zip(preds, ts, strict=True) if b is not None]
    row: dict[str, Any] = {
        "cluster": c.label,
        "points": idx,
        "temperatures": ts,
        "shifts": ys,
        "errors": es,
        "slope_per_T": fit.slope if fit else None,
        "slope_error": fit.slope_error if fit else None,
        "chi2_dof": fit.chi2_dof if fit else None,
        "predicted_slope_per_T": float(np.mean(known)) if known else None,
        #: measured over predicted shift per point (1: as the stationary theory says)
        "relative_shifts": [y / b if b else None for y, b in zip(ys, preds, strict=True)],
        "relative_errors": [e / abs(b) if b else None for e, b in zip(es, preds, strict=True)],
    }
    if scan and points:
        row = {"variant": points[0].variant, "parameters": dict(points[0].parameters), **row}
    return row


#: relative tolerance of a pooled slope against its small-T prediction: O(α/|B|) corrections
#: lower ⟨S⟩/√v by a few per cent at the temperatures of interest (physics.md §2.5, §6 item 2:
#: 2.35–2.63 against √(2π) = 2.51 at T ≤ 0.002)
SLOPE_TOLERANCE = 0.06


def _goe_status(test: dict[str, Any]) -> tuple[str]:
    """pass: GOE consistent and GUE, GSE, Poisson all rejected; inconclusive: GOE consistent but
    another ensemble not rejected (too few samples to tell); fail: GOE rejected."""
    if "goe" not in test["consistent"]:
        return ("fail",)
    return ("pass",) if len(test["consistent"]) == 1 else ("inconclusive",)


def _ratio_status(test: dict[str, Any]) -> str:
    """pass: GOE consistent and Poisson rejected; inconclusive: both consistent (too few samples
    to tell level repulsion from none); fail: GOE rejected."""
    if "goe" not in test["consistent"]:
        return "fail"
    return "inconclusive" if "poisson" in test["consistent"] else "pass"


def _expected_observables(a: Analysis, name: str) -> list[str]:
    """Observables with a predicted slope against √v for this spectrum (at any point)."""
    out: list[str] = []
    for p in a.dataset.points:
        for c in a.clusters_of(p)[name]:
            if (
                c.centre is None
                or a.expectation_of(p).variance(name, c, p.learning_rate, p.batch_size) is None
            ):
                continue
            obs = {1: ["single_std"], 2: ["pair_mean_spacing", "pair_sqrt_pi_sigma"]}.get(
                c.n, [f"cluster{c.n}_rms"]
            )
            out += [o for o in obs if o not in out]
    return out


def _completeness(a: Analysis) -> list[Verdict]:
    out: list[Verdict] = []
    points = a.dataset.points
    pending, total = sum(p.n_pending for p in points), sum(p.n_total for p in points)
    if pending:
        out.append(
            Verdict(
                "results file completeness",
                "info",
                f"{pending} of {total} tasks pending (not run: a chunk of a split sweep or a stopped run)"
                " are ignored; `mpi-dbm run --resume` completes the file, `mpi-dbm merge` joins chunks",
            )
        )
    for p in points:
        if p.n_diverged or p.n_pending:
            out.append(
                Verdict(
                    f"point {p.index} completeness",
                    "info",
                    f"{p.n_done} of {p.n_total} replicas analysed: {p.n_diverged} diverged (excluded), "
                    f"{p.n_pending} pending (missing)",
                )
            )
        if p.n_done < MIN_REPLICAS:
            out.append(
                Verdict(
                    f"point {p.index}",
                    "info",
                    f"not enough data: need {MIN_REPLICAS} finished replicas (errors are jackknife over "
                    f"replicas), have {p.n_done}: not analysed",
                )
            )
    return out


def _verdicts(a: Analysis) -> list[Verdict]:
    out = _completeness(a)
    for (name, idx), rows in sorted(a.stats.items(), key=lambda kv: kv[0][1]):
        skipped: dict[str, list[str]] = {}  # reason -> what was left out
        for st in rows:
            for what, why in st.missing.items():
                if what == "spacing":  # per pair; the pooled spacing verdict below speaks for it
                    continue
                skipped.setdefault(why, []).append(f"{what} of {st.cluster.label}")
        if skipped:
            detail = "; ".join(f"{why}: {', '.join(whats)}" for why, whats in skipped.items())
            out.append(Verdict(f"{name} point {idx}: statistics left out", "info", detail))
    for (name, idx), uni in sorted(a.universality.items(), key=lambda kv: kv[0][1]):
        if uni is None:
            continue
        check = f"{name} point {idx}: pair spacings GOE (beta=1)"
        if "not_enough_data" in uni:
            out.append(Verdict(check, "inconclusive", uni["not_enough_data"]))
            continue
        out.append(Verdict(check, *_goe_status(uni), f"{uni['summary']} ({uni['n_spacings']} spacings)"))
    for (name, idx), rows in sorted(a.stats.items(), key=lambda kv: kv[0][1]):
        for st in rows:
            check = f"{name} point {idx} {st.cluster.label}: r-tilde GOE"
            if "ratio" in st.tests:
                t = st.tests["ratio"]
                out.append(Verdict(check, _ratio_status(t), t["summary"]))
            elif "ratio" in st.missing:
                out.append(Verdict(check, "inconclusive", st.missing["ratio"]))
    for c in a.collapse:
        points = ", ".join(map(str, c.points))
        check = f"{c.spectrum}: collapse at alpha/|B| = {c.temperature:.4g} (points {points})"
        if not c.resolvable:
            out.append(
                Verdict(
                    check,
                    "inconclusive",
                    f"not enough data: need {c.replicas_needed} replicas per point, have {c.replicas} "
                    f"(the smallest possible combined KS p is {c.smallest_possible_pvalue:.3g},"
                    f" not below alpha = {c.alpha:g})",
                )
            )
            continue
        out.append(
            Verdict(
                check,
                "pass" if c.passed else "fail",
                f"combined KS p = {c.combined_pvalue:.3g} (alpha = {c.alpha:g})",
            )
        )
    for name in a.dataset.spectra:
        fitted = {f.observable for f in a.fits.get(name, [])}
        for obs in _expected_observables(a, name):
            if obs not in fitted:
                out.append(
                    Verdict(
                        f"{name}: {obs} vs sqrt(v), slope",
                        "inconclusive",
                        f"not enough data: need 1 point with {MIN_REPLICAS} finished replicas and "
                        f"{MIN_REALISATIONS} realisations, have 0",
                    )
                )
    for name, fits in a.fits.items():
        for f in fits:
            if f.predicted_slope is None:
                continue
            rel = f.slope / f.predicted_slope - 1
            ok = (f.pull is not None and abs(f.pull) < 3) or abs(rel) < SLOPE_TOLERANCE
            out.append(
                Verdict(
                    f"{name}: {f.observable} vs sqrt(v), slope",
                    "pass" if ok else "fail",
                    f"a = {f.slope:.4g} +- {f.slope_error:.2g} vs {f.predicted_slope:.4g} "
                    f"({rel:+.1%}, pull {f.pull:+.1f}; pass within 3 sigma or {SLOPE_TOLERANCE:.0%}),"
                    f" chi2/dof {f.chi2_dof:.2f}, {f.n_points} points",
                )
            )
    for name, ini in a.initial.items():
        if "not_enough_data" in ini:
            out.append(
                Verdict(f"{name}: Marchenko-Pastur at initialisation", "inconclusive", ini["not_enough_data"])
            )
            continue
        fit = ini["fit"]
        z = (fit["scale"] - ini["expected_scale"]) / fit["scale_err"] if fit["scale_err"] > 0 else math.inf
        ok = abs(z) < 3 or abs(ini["scale_over_expected"] - 1) < 0.02
        out.append(
            Verdict(
                f"{name}: Marchenko-Pastur at initialisation",
                "pass" if ok else "fail",
                f"scale {fit['scale']:.4g} +- {fit['scale_err']:.2g}"
                f" (init variance {ini['expected_scale']:.4g}), "
                f"ratio {fit['ratio']:.3g} +- {fit['ratio_err']:.2g} (expected {ini['expected_ratio']:.3g})",
            )
        )
    return out + _spectral_verdicts(a)


def _nth_ratio_status(rec: dict[str, Any], expected_goe: bool) -> str:
    """As `_ratio_status` over the orders: fail if GOE is rejected at any order; pass if GOE is
    consistent at every order and Poisson rejected at one at least; else inconclusive. A set with
    no GOE prediction (a whole spectrum) gets "info"."""
    orders = [r for r in rec.values() if "consistent" in r]
    if not expected_goe:
        return "info"
    if any("goe" not in r["consistent"] for r in orders):
        return "fail"
    return "pass" if any("poisson" in r["rejected"] for r in orders) else "inconclusive"


def _nth_ratio_detail(rec: dict[str, Any]) -> str:
    parts = []
    for key, r in rec.items():
        if "not_enough_data" in r:
            parts.append(f"{key}: {r['not_enough_data']}")
            continue
        refs = ", ".join(f"{e.upper()} {x['matched']:.4f}" for e, x in r["references"].items())
        ok = ", ".join(e.upper() for e in r["consistent"]) or "none"
        parts.append(
            f"<r~^({key[1:]})> = {r['value']:.4f} +- {r['error']:.2g} (matched {refs}; consistent: {ok})"
        )
    return "; ".join(parts)


def _long_range_detail(rec: dict[str, Any]) -> str:
    parts = [f"unfolding: {rec['unfolding']['method']}"]
    for key, sym in (("number_variance", "Sigma2"), ("rigidity", "Delta3")):
        if key not in rec:
            continue
        r = rec[key]
        vals = [
            f"{sym}({L:g}) = {v:.3g} +- {e:.2g} (GOE {g:.3g}, N -> infinity {gi:.3g}; Poisson {q:.3g})"
            for L, v, e, g, gi, q in zip(
                r["lengths"],
                r["values"],
                r["errors"],
                r["matched"]["goe"],
                r["large_n"]["goe"],
                r["large_n"]["poisson"],
                strict=True,
            )
        ]
        parts.append("; ".join(vals))
    if "long_range_not_enough_data" in rec:
        parts.append(f"Sigma2, Delta3: {rec['long_range_not_enough_data']}")
    if "form_factor" in rec:
        f = rec["form_factor"]
        vals = [
            f"K({t:.2g}) = {v:.3g} +- {e:.2g} (GOE {g:.3g}, N -> infinity {gi:.3g})"
            for t, v, e, g, gi in zip(
                f["tau"], f["values"], f["errors"], f["matched"]["goe"], f["large_n"]["goe"], strict=True
            )
        ]
        parts.append("form factor: " + "; ".join(vals[:4]))
    elif "form_factor_not_enough_data" in rec:
        parts.append(f"form factor: {rec['form_factor_not_enough_data']}")
    return "; ".join(parts)


def _edge_detail(e: dict[str, Any]) -> str:
    tw, m = e["tracy_widom_1"], e["matched"]
    return (
        f"{e['n_matrices']} largest levels, mean {e['mean']:.3f}, variance {e['variance']:.3f}; matched-size "
        f"reference: mean {m['mean']:.3f}, variance {m['variance']:.3f}, two-sample KS p = {m['ks_p']:.3g}; "
        f"Tracy-Widom F1 (N -> infinity): KS p = {tw['ks_p']:.3g}, z(mean) {tw['z_mean']:+.1f}, "
        f"z(variance) {tw['z_variance']:+.1f}"
    )


def _sde_ratios(rec: dict[str, Any]) -> str:
    """Repulsion and diffusion over their predictions (GRBM: T = alpha/|B|), or over T alone."""
    parts = []
    for key in ("repulsion", "diffusion"):
        if rec[f"{key}_over_predicted"] is not None:
            parts.append(
                f"{key}/predicted = {rec[f'{key}_over_predicted']:.3f}"
                f" +- {rec[f'{key}_over_predicted_error']:.3f}"
            )
        else:
            parts.append(
                f"{key}/T = {rec[f'{key}_over_T']:.4g} +- {rec[f'{key}_over_T_error']:.2g} (no prediction)"
            )
    return ", ".join(parts)


def dyson_beta_status(beta: float, error: float) -> str:
    """pass: beta = 1 within 3 sigma and beta = 0 (no repulsion) rejected beyond 3 sigma; fail:
    beta = 1 rejected; inconclusive: both within 3 sigma (too few data to see the repulsion)."""
    if not (math.isfinite(beta) and math.isfinite(error) and error > 0) or abs(beta - 1) >= 3 * error:
        return "fail"
    return "pass" if abs(beta) >= 3 * error else "inconclusive"


def _dyson_verdicts(a: Analysis) -> list[Verdict]:
    out: list[Verdict] = []
    for r in a.dyson:
        check = f"{r.spectrum} point {r.point} {r.label}: Dyson SDE: beta = 1 within 3 sigma"
        rec = r.record
        if "not_enough_data" in rec:
            out.append(Verdict(check, "inconclusive", rec["not_enough_data"]))
        elif "note" in rec:
            out.append(Verdict(check, "info", rec["note"]))
        else:
            out.append(
                Verdict(
                    check,
                    dyson_beta_status(rec["beta"], rec["beta_error"]),
                    f"beta = {rec['beta']:.3f} +- {rec['beta_error']:.3f} (pull {rec['beta_pull']:+.1f}); "
                    f"{_sde_ratios(rec)}; dt = {rec['dt']:.3g}, {rec['fit']['method']}",
                )
            )
    return out


def _spectral_verdicts(a: Analysis) -> list[Verdict]:
    out: list[Verdict] = []
    for (name, idx), sets in sorted(a.spectral.items(), key=lambda kv: kv[0][1]):
        for rec in sets:
            head = f"{name} point {idx} {rec['label']}"
            missing = rec["not_enough_data"]
            if "nth_ratios" in rec:
                out.append(
                    Verdict(
                        f"{head}: n-th order ratios GOE",
                        _nth_ratio_status(rec["nth_ratios"], rec["expected_goe"]),
                        _nth_ratio_detail(rec["nth_ratios"]),
                    )
                )
            elif "nth_ratios" in missing:
                out.append(Verdict(f"{head}: n-th order ratios GOE", "inconclusive", missing["nth_ratios"]))
            if "long_range" in rec:
                out.append(
                    Verdict(
                        f"{head}: Sigma2, Delta3, form factor", "info", _long_range_detail(rec["long_range"])
                    )
                )
            elif "long_range" in missing:
                out.append(
                    Verdict(f"{head}: Sigma2, Delta3, form factor", "inconclusive", missing["long_range"])
                )
            if "edge" in rec:
                out.append(
                    Verdict(
                        f"{head}: largest level GOE edge",
                        "pass" if rec["edge"]["consistent"] else "fail",
                        _edge_detail(rec["edge"]),
                    )
                )
            elif "edge" in missing:
                out.append(Verdict(f"{head}: largest level GOE edge", "inconclusive", missing["edge"]))
            if "nulls" in rec:  # null models of the spacing statistics (analysis/nulls.py)
                out.append(Verdict(f"{head}: spacing statistics vs null models", *null_verdict(rec["nulls"])))
            for key, why in missing.items():
                if key not in ("nth_ratios", "long_range", "edge"):
                    out.append(Verdict(f"{head}: {key} left out", "info", why))
    for name, e in a.initial_edge.items():
        check = f"{name}: largest eigenvalue at initialisation (Johnstone-Wishart)"
        if "not_enough_data" in e:
            out.append(Verdict(check, "inconclusive", e["not_enough_data"]))
        else:
            out.append(
                Verdict(check, "pass" if e["consistent"] else "fail", f"{e['scaling']}; {_edge_detail(e)}")
            )
    return out + _dyson_verdicts(a)


def write_summary(analysis: Analysis, outdir: Path) -> Path:
    path = outdir / "summary.json"
    path.write_text(json.dumps(jsonable(analysis.summary()), indent=1, allow_nan=False))
    return path
