"""The Dyson SDE measured on a measurement series: Kramers–Moyal fits per (spectrum, point).

Needs several equally spaced measurements in the analysed window (``--window``); the time
between two is Δt = measure_every·α (t = nα).

* GRBM, spectrum X: :func:`mpi_dbm.rmt.fit_grbm_dyson` (the GRBM's Dyson SDE of
  :mod:`mpi_dbm.rmt.dyson`, κ of the model's target): repulsion a, diffusion c, both predicted
  T = α/|B|, and the Dyson index β = a/c, predicted 1. The figure shows the binned drift and
  diffusion (:func:`mpi_dbm.rmt.binned_moments`) with the fitted model's curves.
* Other families: a family cluster of n ≥ 2 levels with a predicted relaxation rate γ is
  locally a matrix Ornstein–Uhlenbeck process, i.e. the confined β = 1 Dyson Brownian motion
  D1_i = a Σ_{j≠i} 1/(x_i − x_j) + b − γ'(x_i − x*), D2 = c, β = 2a/c
  (:func:`mpi_dbm.rmt.dyson_model`); fitted with :func:`mpi_dbm.rmt.fit_sde` on the cluster's
  levels where γΔt ≤ MAX_RATE_DT (the Kramers–Moyal estimate of a faster level is dominated by
  its finite-Δt bias). With the family's GOE variance v the matrix OU predicts σ² = 4γv, i.e.
  a = 2γv and c = 4γv (stationary off-diagonal variance σ²/(4γ), rmt.dyson_brownian_motion).
  Elsewhere the Coulomb coefficient is not well defined and a note says why; the binned moments
  are still given for the figure (model-free).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import rmt
from .data import Dataset, PointData
from .expect import Cluster, Expectation

#: the largest γΔt whose levels are fitted (rmt.fit_grbm_dyson's default)
MAX_RATE_DT = 0.12
#: fewest measurements in the window: increments at lags 1 and 2 (Richardson extrapolation)
MIN_MEASUREMENTS = 3
#: bins of the drift/diffusion figure
N_BINS = 16


@dataclass
class SdeResult:
    """One fit: JSON-ready `record`, and the binned moments for the figure (None without)."""

    spectrum: str
    point: int
    label: str
    record: dict[str, Any]
    bins: rmt.KramersMoyalBins | None = None


def series_dt(ds: Dataset) -> tuple[float | None, str | None]:
    """(measurement spacing in steps, None) or (None, why there is no measurement series)."""
    steps = ds.selected_steps
    if steps.size < MIN_MEASUREMENTS:
        need = rmt.InsufficientDataError(MIN_MEASUREMENTS, int(steps.size), "measurements in the window")
        return None, f"{need} (pass --window START:STOP over a measurement series)"
    gaps = np.diff(steps)
    if not np.all(gaps == gaps[0]):
        return None, "the analysed measurements are not equally spaced"
    return float(gaps[0]), None


def _edges(x: np.ndarray, use: list[int] | None = None) -> np.ndarray:
    """N_BINS bins of equal counts over the starting points (equal-width bins over clustered
    levels would leave empty bins between the clusters)."""
    pts = x[..., use] if use is not None else x
    edges = np.unique(np.quantile(pts[np.isfinite(pts)], np.linspace(0.0, 1.0, N_BINS + 1)))
    if edges.size < 2:
        raise rmt.InsufficientDataError(2, int(edges.size), "distinct levels to bin")
    return edges


def _binned(x: np.ndarray, dt: float, **kw: Any) -> rmt.KramersMoyalBins:
    """rmt.binned_moments (bins the gap cut emptied come out NaN, as documented there)."""
    return rmt.binned_moments(x, dt, **kw)


def _coefficients(fit: rmt.SdeFit, temperature: float) -> dict[str, Any]:
    """a/T, c/T, β with errors; a/a_pred and c/c_pred where the model predicts a and c."""
    c = fit.coefficients
    rep, dif, beta = c["repulsion"], c["diffusion"], c["beta"]
    out: dict[str, Any] = {
        "repulsion_over_T": rep.value / temperature,
        "repulsion_over_T_error": rep.error / temperature,
        "diffusion_over_T": dif.value / temperature,
        "diffusion_over_T_error": dif.error / temperature,
        "beta": beta.value,
        "beta_error": beta.error,
        "beta_pull": (beta.value - 1.0) / beta.error if beta.error > 0 else math.inf,
    }
    for key, est in (("repulsion", rep), ("diffusion", dif)):
        pred = fit.model.predicted.get(key)
        out[f"predicted_{key}"] = pred
        out[f"{key}_over_predicted"] = est.value / pred if pred else None
        out[f"{key}_over_predicted_error"] = est.error / pred if pred else None
    return {**out, "fit": fit.record(), "table": fit.table()}


def _attempt(spectrum: str, p: PointData, label: str, compute: Any) -> SdeResult:
    try:
        return compute()  # type: ignore[no-any-return]
    except rmt.InsufficientDataError as exc:
        return SdeResult(spectrum, p.index, label, {"label": label, "not_enough_data": str(exc)})
    except ValueError as exc:  # e.g. no level slow enough for this Δt
        return SdeResult(spectrum, p.index, label, {"label": label, "note": str(exc)})


def grbm_fit(ds: Dataset, p: PointData, steps: float) -> SdeResult:
    """The GRBM's Dyson SDE on /spectra/X of one point."""
    spec = ds.config.model
    label = "GRBM Dyson SDE (all levels with gamma dt <= 0.12)"

    def compute() -> SdeResult:
        if spec.n_hidden < spec.n_visible:
            return SdeResult(
                "X", p.index, label, {"label": label, "note": "the GRBM Dyson SDE assumes N_h >= N_v"}
            )
        x = p.trajectories["X"][:, ds.selected]
        x = x[np.isfinite(x).all(axis=(1, 2))]
        dt = steps * p.learning_rate
        kappa = spec.kappa()
        fit = rmt.fit_grbm_dyson(
            x,
            dt,
            kappa=kappa,
            mu=spec.mu,
            sigma_h=spec.sigma_h,
            temperature=p.temperature,
            max_rate_dt=MAX_RATE_DT,
        )
        rates = rmt.grbm_relaxation_rates(kappa, spec.mu, spec.sigma_h)
        use = [int(i) for i in np.flatnonzero(rates * dt <= MAX_RATE_DT)]
        rec = {"label": label, "dt": dt, "levels_fitted": use, **_coefficients(fit, p.temperature)}
        bins = _binned(
            x,
            dt,
            bins=_edges(x, use),
            use=use,
            lags=(1, 2),
            model=fit.model,
            coefficients=fit.values(),
            min_gap=2.0,
        )
        return SdeResult("X", p.index, label, rec, bins)

    return _attempt("X", p, label, compute)


def cluster_fit(
    ds: Dataset, exp: Expectation, name: str, c: Cluster, p: PointData, steps: float
) -> SdeResult:
    """The confined β = 1 Dyson model on one family cluster (module docstring), or a note."""
    dt = steps * p.learning_rate

    def compute() -> SdeResult:
        x = p.trajectories[name][:, ds.selected, c.start : c.stop]
        x = x[np.isfinite(x).all(axis=(1, 2))]
        rate = exp.relaxation_rate(name, c)
        base = {"label": c.label, "dt": dt}
        if c.n < 2 or c.centre is None:
            note = "a single level has no Coulomb repulsion" if c.n < 2 else "no predicted cluster centre"
            bins = _binned(x, dt, bins=_edges(x), lags=(1, 2))
            return SdeResult(name, p.index, c.label, {**base, "note": note}, bins)
        if rate is None or not rate * dt <= MAX_RATE_DT:
            why = (
                "no predicted relaxation rate to check the lag against"
                if rate is None
                else f"relaxation rate x dt = {rate * dt:.3g} > {MAX_RATE_DT} (finite-dt bias dominates)"
            )
            bins = _binned(x, dt, bins=_edges(x), lags=(1, 2))
            return SdeResult(
                name, p.index, c.label, {**base, "note": f"Coulomb coefficient not well defined: {why}"}, bins
            )
        v = exp.variance(name, c, p.learning_rate, p.batch_size)
        # matrix OU with stationary off-diagonal variance v = σ²/(4γ): a = σ²/2, c = σ² = 4γv
        sigma = math.sqrt(4.0 * rate * v) if v else None
        model = rmt.dyson_model(sigma, rate=rate, centre=c.centre)
        fit = rmt.fit_sde(x, dt, model, lags=(1, 2))
        rec = {**base, "model": model.description, **_coefficients(fit, p.temperature)}
        bins = _binned(
            x, dt, bins=_edges(x), lags=(1, 2), model=model, coefficients=fit.values(), min_gap=2.0
        )
        return SdeResult(name, p.index, c.label, rec, bins)

    return _attempt(name, p, c.label, compute)


def _model_free(ds: Dataset, name: str, p: PointData, steps: float) -> SdeResult:
    """A spectrum without family clusters: the binned moments only (no fixed point to confine the
    levels around, so the Coulomb coefficient of a Dyson model is not defined)."""
    label = "all levels (no family clusters)"
    dt = steps * p.learning_rate

    def compute() -> SdeResult:
        x = p.trajectories[name][:, ds.selected]
        x = x[np.isfinite(x).all(axis=(1, 2))]
        note = "Coulomb coefficient not well defined: the family gives no clusters (no fixed point)"
        bins = _binned(x, dt, bins=_edges(x), lags=(1, 2))
        return SdeResult(name, p.index, label, {"label": label, "dt": dt, "note": note}, bins)

    return _attempt(name, p, label, compute)


def dyson_fits(
    ds: Dataset,
    exp: Expectation,
    clusters: dict[str, list[Cluster]],
    detected: dict[str, bool],
    min_replicas: int,
) -> tuple[dict[str, Any], list[SdeResult]]:
    """Every fit of the file: ({"note"} or {"dt_steps", ...}, results)."""
    steps, why = series_dt(ds)
    if steps is None:
        return {"note": why}, []
    out: list[SdeResult] = []
    grbm = ds.config.model.kind == "grbm"
    for p in ds.points:
        if p.n_done < min_replicas:
            continue
        for name in ds.spectra:
            if grbm and name == "X" and not detected[name]:
                out.append(grbm_fit(ds, p, steps))
                continue
            if detected[name]:
                out.append(_model_free(ds, name, p, steps))
                continue
            out.extend(cluster_fit(ds, exp, name, c, p, steps) for c in clusters[name] if c.n >= 2)
    return {"measure_every_steps": steps, "measurements": int(ds.selected.size)}, out
