"""The analysis steps after the cluster statistics: level-set statistics, the step-0 spectrum
(Marchenko–Pastur, largest eigenvalue), pooled pair-spacing verdicts, relaxation rates, collapse
tests, linear-scaling fits and non-universal shifts. Each takes the dataset and returns records
for `Analysis` (pipeline.py runs them in order)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import rmt
from .data import Dataset, PointData
from .expect import UNIVERSAL_SLOPES, Cluster, Expectation, cluster_rms_slope
from .nulls import shuffled_rows
from .observables import ClusterStats
from .result import MIN_INITIAL_EIGENVALUES, MIN_REPLICAS, VariantClusters
from .scaling import CollapseTest, ProportionalFit, collapse_test, equal_temperature_groups, proportional_fit
from .spectral import initial_edge, level_set_stats, level_sets


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
