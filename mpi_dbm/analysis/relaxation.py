"""Relaxation rates from eigenvalue time series (physics.md §5.2, §6 item 10).

In the stationary state the fluctuation δx of a level (or of the centre of a cluster) is an
Ornstein–Uhlenbeck process at leading order, so its autocorrelation decays as exp(−γ t) with
t = nα. Here the fluctuation is taken about the ENSEMBLE mean at each measurement (not about each
replica's time average, which removes a fraction ≈ 2/(γ t_window) of the variance of slow modes
and biases the rate upwards), the normalised autocorrelation C(k) is averaged over replicas and
time origins, and γ is the least-squares slope of −log C(k) against the lag k·Δt over the lags
with C(k) ≥ `floor` (at least one lag; the lags are fixed on the full sample), or over a given
number of lags. Errors: blockwise jackknife over replicas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import rmt

#: lags are used while the autocorrelation stays above this (≈ 1.2 correlation times)
DEFAULT_FLOOR = 0.3


@dataclass(frozen=True)
class RelaxationRate:
    label: str
    rate: float  # in units of t = n·α
    error: float
    lags: int  # number of lags in the fit
    dt: float  # t between consecutive measurements
    autocorrelation: tuple[float, ...]  # C(0..lags)

    def record(self) -> dict[str, Any]:
        return {
            "cluster": self.label,
            "rate": self.rate,
            "error": self.error,
            "lags": self.lags,
            "dt": self.dt,
            "autocorrelation": list(self.autocorrelation),
            "method": "ensemble-mean-subtracted autocorrelation, slope of -log C(k) vs k dt, "
            "jackknife over replicas",
        }


def autocorrelation(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Normalised C(k), k = 0..max_lag, of x (replicas, times) about the ensemble mean at each time."""
    d = x - np.nanmean(x, axis=0, keepdims=True)
    var = np.nanmean(d * d)
    out = np.empty(max_lag + 1)
    out[0] = 1.0
    for k in range(1, max_lag + 1):
        out[k] = np.nanmean(d[:, k:] * d[:, :-k]) / var
    return out


def _slope(c: np.ndarray, dt: float) -> float:
    k = np.arange(1, len(c))
    y = -np.log(np.clip(c[1:], 1e-12, None))
    return float(np.sum(k * dt * y) / np.sum((k * dt) ** 2))


def relaxation_rate(
    x: np.ndarray,
    dt: float,
    label: str = "",
    floor: float = DEFAULT_FLOOR,
    n_blocks: int = 20,
    lags: int | None = None,
) -> RelaxationRate:
    """Decay rate of the autocorrelation of x (replicas, times), measurements dt apart in t.

    `lags`: fit lags 1..lags (e.g. from a predicted rate, so that runs at different α/|B| use the
    same range); default: while the measured C stays above `floor`.
    """
    n_rep, n_t = x.shape
    max_lag = max(1, n_t // 4)
    full = autocorrelation(x, max_lag if lags is None else min(max(lags, 1), max_lag))
    if lags is None:
        below = np.flatnonzero(full[1:] < floor)
        lags = int(below[0]) if below.size else max_lag  # lags 1..lags have C >= floor
    lags = min(max(lags, 1), max_lag)

    def statistic(rows: np.ndarray) -> float:
        return _slope(autocorrelation(rows, lags), dt)

    rate = statistic(x)
    err = float(rmt.jackknife(x, statistic, n_blocks=min(n_rep, n_blocks)).error) if n_rep >= 2 else math.nan
    return RelaxationRate(label, rate, err, lags, dt, tuple(float(v) for v in full[: lags + 1]))
