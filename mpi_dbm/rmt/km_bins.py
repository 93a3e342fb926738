"""Kramers–Moyal conditional moments binned in x, with replica-jackknife errors (for figures and χ²).

Estimators (Kramers–Moyal; H. Risken, *The Fokker–Planck Equation*, 2nd ed. (1989), §4.7;
R. Friedrich et al., Phys. Rep. 506, 87 (2011))
----------------------------------------------------------------------------------------------
For levels x(t) recorded every Δt (array (replicas, measurements, levels)) and a lag of m
measurements, τ = mΔt, Δx_i = x_i(t + τ) − x_i(t):

    D1(x) ≈ ⟨Δx | x⟩/τ,     D2(x) ≈ ⟨Δx² | x⟩/τ          (dx = D1 dt + √D2 dB).

* :func:`binned_moments`: both, binned in x (one level index, a set, or pooled), with
  delete-one-replica jackknife errors (ratio estimators on per-replica sums), and — for a figure —
  the model's D1 and D2 averaged over the same points of every bin (the drift depends on all
  levels, so the model curve is a bin average, not a function of x alone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ._base import InsufficientDataError
from .sde_increments import _as_trajectories, _gap_ok, _groups, _lags, _preliminary_scale, _select
from .sde_models import SdeModel

__all__ = ["KramersMoyalBins", "binned_moments"]


@dataclass(frozen=True, eq=False)
class KramersMoyalBins:
    """Binned conditional moments D1(x) = ⟨Δx|x⟩/τ and D2(x) = ⟨Δx²|x⟩/τ with jackknife errors.

    ``centres`` are the mean x of each bin's points; ``predicted_drift`` / ``predicted_diffusion``
    the model's D1, D2 averaged over the same points (NaN without a model). Empty bins are NaN.
    """

    edges: np.ndarray
    centres: np.ndarray
    counts: np.ndarray
    drift: np.ndarray
    drift_error: np.ndarray
    diffusion: np.ndarray
    diffusion_error: np.ndarray
    predicted_drift: np.ndarray
    predicted_diffusion: np.ndarray
    levels: tuple[int, ...]
    lags: tuple[int, ...]
    tau: float  # the shortest lag in time units

    def chi2(self, which: str = "drift", min_count: int = 100) -> tuple[float, int]:
        """Σ ((measured − predicted)/error)² over bins with ≥ ``min_count`` increments and a finite
        error (a jackknife error over a handful of points is itself unreliable), and their number."""
        if which not in ("drift", "diffusion"):
            raise ValueError(f"which must be 'drift' or 'diffusion', got {which!r}")
        value, error, pred = (
            (self.drift, self.drift_error, self.predicted_drift)
            if which == "drift"
            else (self.diffusion, self.diffusion_error, self.predicted_diffusion)
        )
        good = np.isfinite(value) & np.isfinite(pred) & (error > 0) & (self.counts >= min_count)
        return float(np.sum(((value[good] - pred[good]) / error[good]) ** 2)), int(good.sum())


def _start_points(
    x: np.ndarray, lag_t: tuple[int, ...], use_mask: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """Start points x0 (R, M − max lag, L), the levels one lag later (one array per lag), and the
    mask of the used levels at start points finite at every lag (elsewhere x0 holds a filler)."""
    m, n_levels = x.shape[1], x.shape[2]
    max_lag = max(lag_t)
    x0 = x[:, : m - max_lag]
    ends = [x[:, lag : m - max_lag + lag] for lag in lag_t]
    valid = np.isfinite(x0).all(axis=-1)
    for e in ends:
        valid &= np.isfinite(e).all(axis=-1)
    keep = valid[..., None] & use_mask
    x0 = np.where(valid[..., None], x0, np.arange(n_levels, dtype=float))
    return x0, ends, keep


def _replica_sums(
    x0: np.ndarray, ends: list[np.ndarray], keep: np.ndarray, which: np.ndarray, n_bins: int
) -> np.ndarray:
    """Per-replica, per-bin sums (R, 2 + 2K, bins): count, Σ x0, then Σ Δx and Σ Δx² for each lag."""
    r = x0.shape[0]
    replica = np.broadcast_to(np.arange(r)[:, None, None], x0.shape)
    index = (replica * n_bins + which)[keep]

    def per_replica(weights: np.ndarray | None) -> np.ndarray:
        return np.bincount(index, weights, minlength=r * n_bins).reshape(r, n_bins)

    columns = [per_replica(None), per_replica(x0[keep])]
    for e in ends:
        d = (e - x0)[keep]
        columns += [per_replica(d), per_replica(d * d)]
    return np.stack(columns, axis=1)


def _jackknife_moments(
    sums: np.ndarray, taus: np.ndarray, centred: bool, groups: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(D1, D2) per bin (2, bins) from the summed :func:`_replica_sums`, extrapolated to τ = 0
    over several lags, and their jackknife errors over groups of replicas (NaN where undecided)."""
    n_bins = sums.shape[-1]
    intercept = (
        np.linalg.pinv(np.stack([np.ones_like(taus), taus], axis=1))[0] if len(taus) > 1 else np.ones(1)
    )
    total = sums.sum(axis=0)

    def moments(s: np.ndarray) -> np.ndarray:
        out = np.zeros((2, n_bins))
        with np.errstate(invalid="ignore", divide="ignore"):
            for k, tau in enumerate(taus):
                m1 = s[2 + 2 * k] / s[0]
                m2 = s[3 + 2 * k] / s[0] - (m1 * m1 if centred else 0.0)
                out += intercept[k] * np.stack([m1 / tau, m2 / tau])
        return out

    full = moments(total)
    reps = np.stack([moments(total - sums[g].sum(axis=0)) for g in groups])
    n_groups = len(groups)
    var = np.full(reps.shape[1:], np.nan)
    decided = np.isfinite(reps).sum(axis=0) >= 2  # a bin empty in all but one group has no error
    var[decided] = np.nanvar(reps[:, decided], axis=0)
    return full, np.sqrt((n_groups - 1) * var)


def binned_moments(
    levels: np.ndarray,
    dt: float,
    *,
    bins: int | np.ndarray = 20,
    use: Sequence[int] | None = None,
    lags: int | Sequence[int] = 1,
    model: SdeModel | None = None,
    coefficients: Mapping[str, float] | None = None,
    min_gap: float | None = None,
    centred: bool = True,
    max_groups: int = 100,
) -> KramersMoyalBins:
    """Kramers–Moyal moments of the increments of the levels ``use`` (default: all, pooled), binned in x.

    D1 = ⟨Δx⟩/τ per bin; D2 = ⟨Δx²⟩/τ, or with ``centred`` (default) the bin's conditional
    variance (⟨Δx²⟩ − ⟨Δx⟩²)/τ, which removes the O(τ) bias term D1²τ of the raw moment.
    ``lags``: one lag, or several (same start points) whose moments are extrapolated bin by bin
    linearly in τ to τ = 0 (Richardson; what :func:`fit_sde` does to the coefficients).
    ``bins``: a number of equal-width bins over the data range, or the edges. With ``model``,
    the model's D1 and D2 (``coefficients``, default ``model.predicted``) are averaged over each
    bin's points, and ``min_gap`` applies the gap cut of :func:`fit_sde` (at the longest lag) to
    both. Errors: delete-one-replica jackknife of the ratio estimators (blocks beyond
    ``max_groups`` replicas).
    """
    lag_t = _lags(lags)
    max_lag = max(lag_t)
    x = _as_trajectories(levels, max_lag)
    if not dt > 0:
        raise ValueError(f"dt must be positive, got {dt}")
    if min_gap is not None and model is None:
        raise ValueError("the gap cut needs a model (for the diffusion shape h)")
    taus = np.array(lag_t, dtype=float) * dt
    r, n_levels = x.shape[0], x.shape[2]
    use_mask = _select(use, n_levels)
    x0, ends, keep = _start_points(x, lag_t, use_mask)
    if model is not None and min_gap is not None:
        scale = _preliminary_scale(x, dt, model)
        keep &= _gap_ok(x0, model.diffusion_shape(x0), scale, float(taus[-1]), min_gap, model.lower_bound)
    pts = x0[keep]
    if pts.size == 0:
        raise InsufficientDataError(1, 0, "increments to bin")
    edges = (
        np.linspace(pts.min(), pts.max(), int(bins) + 1) if np.ndim(bins) == 0 else np.asarray(bins, float)
    )
    n_bins = len(edges) - 1
    which = np.clip(np.searchsorted(edges, x0, side="right") - 1, 0, n_bins - 1)
    keep &= (x0 >= edges[0]) & (x0 <= edges[-1])
    sums = _replica_sums(x0, ends, keep, which, n_bins)  # (R, 2 + 2K, bins)
    total = sums.sum(axis=0)
    full, err = _jackknife_moments(sums, taus, centred, _groups(r, max_groups))
    counts = total[0].astype(np.int64)
    err[:, counts == 0] = np.nan
    pred = np.full((2, n_bins), np.nan)
    if model is not None:
        coef = dict(model.predicted if coefficients is None else coefficients)
        bin_of = which[keep]
        with np.errstate(invalid="ignore", divide="ignore"):
            pred[0] = np.bincount(bin_of, model.drift(x0, coef)[keep], minlength=n_bins) / total[0]
            pred[1] = np.bincount(bin_of, model.diffusion(x0, coef)[keep], minlength=n_bins) / total[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        centres = total[1] / total[0]
    return KramersMoyalBins(
        edges=edges,
        centres=centres,
        counts=counts,
        drift=full[0],
        drift_error=err[0],
        diffusion=full[1],
        diffusion_error=err[1],
        predicted_drift=pred[0],
        predicted_diffusion=pred[1],
        levels=tuple(int(i) for i in np.flatnonzero(use_mask)),
        lags=lag_t,
        tau=float(taus[0]),
    )
