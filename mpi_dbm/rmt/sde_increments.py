"""Increments of recorded level trajectories, the gap cut and the per-replica WLS sufficient
statistics shared by :func:`~.sde_fit.fit_sde` and :func:`~.km_bins.binned_moments`.

Levels are (replicas, measurements, levels) recorded every Δt; an increment over a lag of m
measurements is Δx_i = x_i(t + mΔt) − x_i(t). The gap cut (:func:`_gap_ok`) and the reason for it
are in the :mod:`.sde_fit` docstring (finite-Δt bias). Errors are jackknives over groups of
independent replicas (:func:`_groups`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ._base import InsufficientDataError
from .sde_models import SdeModel

__all__: list[str] = []  # private helpers of sde_fit, km_bins and grbm_sde

_CHUNK_ELEMENTS = 4_000_000  # basis entries evaluated per batch of replicas (bounds memory)


def _as_trajectories(levels: np.ndarray, max_lag: int) -> np.ndarray:
    x = np.asarray(levels, dtype=float)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"levels must be (replicas, measurements, levels), got shape {x.shape}")
    if x.shape[1] <= max_lag:
        raise ValueError(f"{x.shape[1]} measurements leave no increment at lag {max_lag}")
    return x


def _lags(lags: int | Sequence[int]) -> tuple[int, ...]:
    out = (int(lags),) if isinstance(lags, (int, np.integer)) else tuple(int(m) for m in lags)
    if not out or min(out) < 1 or len(set(out)) != len(out):
        raise ValueError(f"lags must be distinct positive integers, got {lags}")
    return out


def _gap_ok(
    x0: np.ndarray, h: np.ndarray, scale: float, tau: float, min_gap: float, lower: float | None
) -> np.ndarray:
    """True where the nearest-level gap (and the distance to a hard edge) exceeds min_gap·ℓ,
    ℓ² = τ ĉ₀ (h_i + h_j) (h_i alone for the edge)."""
    order = np.argsort(x0, axis=-1)
    xs = np.take_along_axis(x0, order, axis=-1)
    hs = np.take_along_axis(h, order, axis=-1)
    ok = np.ones_like(xs, dtype=bool)
    if xs.shape[-1] > 1:
        gap = np.diff(xs, axis=-1)
        pair_ok = gap**2 >= min_gap**2 * tau * scale * (hs[..., 1:] + hs[..., :-1])
        ok[..., 1:] &= pair_ok
        ok[..., :-1] &= pair_ok
    if lower is not None:
        ok &= (xs - lower) ** 2 >= min_gap**2 * tau * scale * hs
    back = np.empty_like(ok)
    np.put_along_axis(back, order, ok, axis=-1)
    return back


@dataclass(frozen=True)
class _Stats:
    """Per-replica WLS sufficient statistics, one slot per lag: A (R, K, P, P), b (R, K, P),
    q (R, K) = Σ Δx²/(τh), n (R,) increments used."""

    A: np.ndarray
    b: np.ndarray
    q: np.ndarray
    n: np.ndarray


def _select(use: Sequence[int] | None, n_levels: int) -> np.ndarray:
    mask = np.zeros(n_levels, dtype=bool)
    if use is None:
        mask[:] = True
    else:
        idx = np.asarray(list(use), dtype=int)
        if idx.size == 0 or idx.min() < -n_levels or idx.max() >= n_levels:
            raise ValueError(f"level indices {list(use)} out of range for {n_levels} levels")
        mask[idx] = True
    return mask


def _statistics(
    x: np.ndarray,
    dt: float,
    model: SdeModel,
    lags: tuple[int, ...],
    use: np.ndarray,
    min_gap: float | None,
    scale: float,
) -> tuple[_Stats, int]:
    r, m, n_levels = x.shape
    max_lag = max(lags)
    p = len(model.drift_names)
    A = np.zeros((r, len(lags), p, p))
    b = np.zeros((r, len(lags), p))
    q = np.zeros((r, len(lags)))
    counts = np.zeros(r, dtype=np.int64)
    excluded = 0
    chunk = max(1, _CHUNK_ELEMENTS // max(1, (m - max_lag) * n_levels * (p + n_levels)))
    for lo in range(0, r, chunk):
        sl = slice(lo, min(r, lo + chunk))
        x0 = x[sl, : m - max_lag]
        valid = np.isfinite(x0).all(axis=-1)
        for lag in lags:
            valid &= np.isfinite(x[sl, lag : m - max_lag + lag]).all(axis=-1)
        x0 = np.where(valid[..., None], x0, np.arange(n_levels, dtype=float))  # harmless filler
        with np.errstate(divide="ignore", invalid="ignore"):  # exact degeneracies: cut below
            f = model.drift_basis(x0)
        h = model.diffusion_shape(x0)
        keep = valid[..., None] & use
        if min_gap is not None:
            ok = _gap_ok(x0, h, scale, max_lag * dt, min_gap, model.lower_bound)
            excluded += int(np.count_nonzero(keep & ~ok))
            keep &= ok
        w = np.where(keep, 1.0 / np.where(keep, h, 1.0), 0.0)
        f = np.where(keep[..., None], f, 0.0)
        counts[sl] = keep.sum(axis=(1, 2))
        fw = f * w[..., None]
        for j, lag in enumerate(lags):
            tau = lag * dt
            dx = np.where(keep, x[sl, lag : m - max_lag + lag] - x[sl, : m - max_lag], 0.0)
            A[sl, j] = tau * np.einsum("rmlp,rmlq->rpq", fw, f)
            b[sl, j] = np.einsum("rmlp,rml->rp", fw, dx)
            q[sl, j] = np.einsum("rml,rml->r", dx * dx, w) / tau
    return _Stats(A, b, q, counts), excluded


def _solve(A: np.ndarray, b: np.ndarray, q: np.ndarray, n: float) -> np.ndarray:
    """(θ, c) per lag from summed statistics: θ = A⁻¹b, c = (q − θᵀb)/n. Shape (K, P + 1)."""
    out = np.empty((A.shape[0], A.shape[1] + 1))
    for j in range(A.shape[0]):
        theta = np.linalg.solve(A[j], b[j])
        out[j, :-1] = theta
        out[j, -1] = (q[j] - theta @ b[j]) / n
    return out


def _extrapolate(per_lag: np.ndarray, taus: np.ndarray) -> np.ndarray:
    """Intercept at τ = 0 of a straight line through the per-lag estimates (Richardson for 2 lags)."""
    if len(taus) == 1:
        return np.asarray(per_lag[0])
    design = np.stack([np.ones_like(taus), taus], axis=1)
    coef, *_ = np.linalg.lstsq(design, per_lag, rcond=None)
    return np.asarray(coef[0])


def _groups(r: int, max_groups: int) -> list[np.ndarray]:
    if r < 2:
        raise InsufficientDataError(2, r, "replicas (for the replica jackknife)")
    if r <= max_groups:
        return [np.array([i]) for i in range(r)]
    return np.array_split(np.arange(r), max_groups)


def _preliminary_scale(x: np.ndarray, dt: float, model: SdeModel) -> float:
    """ĉ₀ = ⟨Δx²/(Δt h)⟩ at lag 1 over all valid points (for the gap cut only)."""
    x0, x1 = x[:, :-1], x[:, 1:]
    valid = np.isfinite(x0).all(axis=-1) & np.isfinite(x1).all(axis=-1)
    a, d = x0[valid], (x1 - x0)[valid]
    if a.size == 0:
        raise InsufficientDataError(1, 0, "finite increments")
    h = model.diffusion_shape(a)
    good = h > 0
    return float(np.mean(d[good] ** 2 / (dt * h[good])))
