"""Spacings and spacing ratios of level sequences (rows = realisations).

* nearest-neighbour spacings s_i = λ_{i+1} − λ_i of each sorted row;
* ratios r_i = s_i/s_{i−1} and r̃_i = min(r_i, 1/r_i) = min(s_i, s_{i−1})/max(s_i, s_{i−1})
  (Oganesyan & Huse, PRB 75, 155111 (2007); Atas et al., PRL 110, 084101 (2013)); no unfolding
  is needed;
* pair spacing S = |x_a − x_b| of a doubly degenerate cluster and s = S/⟨S⟩ (physics.md §5.1).

Rows containing NaN are dropped; never mix levels of different matrices or symmetry sectors in
one row.
"""

from __future__ import annotations

import numpy as np

from ._base import Estimate, InsufficientDataError, as_rows, freeze, trim_count
from .resample import jackknife

__all__ = [
    "fd_bin_edges",
    "histogram_mean",
    "mean_of_ratios",
    "mean_spacing_ratio",
    "nearest_neighbour_spacings",
    "normalised_spacings",
    "pair_spacing",
    "spacing_ratios",
    "trimmed_levels",
]


def trimmed_levels(levels: np.ndarray, trim: float = 0) -> np.ndarray:
    """Sorted rows (NaN rows dropped) without ``trim`` levels at each edge (count or fraction)."""
    x = as_rows(levels)
    k = trim_count(trim, x.shape[1])
    return x[:, k : x.shape[1] - k]


def nearest_neighbour_spacings(levels: np.ndarray, trim: float = 0) -> np.ndarray:
    """Raw spacings λ_{i+1} − λ_i per sorted (and trimmed) row; shape (rows, n − 2·trim − 1)."""
    return np.diff(trimmed_levels(levels, trim), axis=1)


def spacing_ratios(levels: np.ndarray, trim: float = 0) -> np.ndarray:
    """r̃_i = min(s_i, s_{i−1})/max(s_i, s_{i−1}) per row; shape (rows, n − 2·trim − 2).

    Rows are sorted here; rows with NaN are dropped. A ratio of two zero spacings is NaN.
    """
    s = nearest_neighbour_spacings(levels, trim)
    if s.shape[1] < 2:
        raise InsufficientDataError(3, s.shape[1] + 1, "levels per row after trimming for a spacing ratio")
    lo = np.minimum(s[:, 1:], s[:, :-1])
    hi = np.maximum(s[:, 1:], s[:, :-1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(hi > 0, lo / np.where(hi > 0, hi, 1.0), np.nan)


def mean_spacing_ratio(levels: np.ndarray, trim: float = 0, n_blocks: int = 20) -> Estimate:
    """⟨r̃⟩ with its standard error over realisations.

    Each row (realisation) gives the mean of its r̃; the estimate is the mean over rows and the
    error the standard error of that mean (identical to the delete-one jackknife for a mean).
    A single row (one long spectrum) falls back to a blockwise jackknife over ``n_blocks``
    contiguous blocks of its ratios, which absorbs the short-range correlation of neighbouring r̃.
    """
    r = spacing_ratios(levels, trim)
    return mean_of_ratios(r, {"trim": trim, "levels_per_row": r.shape[1] + 2}, n_blocks)


def mean_of_ratios(r: np.ndarray, params: dict[str, object], n_blocks: int = 20) -> Estimate:
    """Mean of ratios r (rows = realisations, NaN where undefined) with its standard error: over
    several rows, the mean of the row means and their standard error (rows are independent); for
    one row, a blockwise jackknife over ``n_blocks`` contiguous blocks (absorbs the correlation of
    neighbouring ratios). ``params`` describe how r was made; the number of rows is added."""
    rows = r.shape[0]
    if rows == 0:
        raise InsufficientDataError(1, 0, "realisations without NaN")
    record = freeze({**params, "rows": rows})
    if rows >= 2:
        m = np.nanmean(r, axis=1)
        return Estimate(
            float(m.mean()), float(m.std(ddof=1) / np.sqrt(rows)), rows, "mean over rows, SEM", record
        )
    flat = r[0][~np.isnan(r[0])]
    res = jackknife(flat, np.mean, n_blocks=min(n_blocks, flat.size))
    return Estimate(
        float(res.estimate),
        float(res.error),
        1,
        "single row, blockwise jackknife",
        freeze({**record, "n_blocks": res.n_groups}),
    )


def pair_spacing(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """S = |x_a − x_b| per realisation, from two arrays or one array of shape (n, 2)."""
    if b is None:
        x = np.asarray(a, dtype=float)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"expected shape (n, 2), got {x.shape}")
        a, b = x[:, 0], x[:, 1]
    s: np.ndarray = np.abs(np.asarray(a, dtype=float) - np.asarray(b, dtype=float))
    spacings: np.ndarray = s[~np.isnan(s)]
    return spacings


def fd_bin_edges(x: np.ndarray, width_from: np.ndarray | None = None) -> np.ndarray:
    """Freedman–Diaconis bin edges, width 2·IQR/n^{1/3}, spanning ``x``.

    ``width_from``: take the width from this sample instead (the authors use one eigenvalue's
    histogram width for the pooled pair).
    """
    x = np.asarray(x, dtype=float).ravel()
    x = x[~np.isnan(x)]
    ref = x if width_from is None else np.asarray(width_from, dtype=float).ravel()
    ref = ref[~np.isnan(ref)]
    q75, q25 = np.percentile(ref, [75, 25])
    width = 2.0 * (q75 - q25) / ref.size ** (1.0 / 3.0)
    lo, hi = float(x.min()), float(x.max())
    if hi <= lo:
        return np.array([lo - 0.5, hi + 0.5])
    if not width > 0:
        return np.array([lo, hi])
    n_bins = max(1, int(np.ceil((hi - lo) / width)))
    edges: np.ndarray = lo + width * np.arange(n_bins + 1)
    return edges


def histogram_mean(x: np.ndarray, bins: np.ndarray | str = "fd") -> float:
    """Histogram-weighted mean of bin centres (the authors' ⟨S⟩; close to the sample mean)."""
    x = np.asarray(x, dtype=float).ravel()
    x = x[~np.isnan(x)]
    edges = fd_bin_edges(x) if isinstance(bins, str) and bins == "fd" else bins
    counts, edges = np.histogram(x, bins=edges)
    centres = 0.5 * (edges[1:] + edges[:-1])
    return float(np.sum(counts * centres) / np.sum(counts))


def normalised_spacings(spacings: np.ndarray, method: str = "sample") -> np.ndarray:
    """s = S/⟨S⟩ with ⟨S⟩ the sample mean (``"sample"``) or the histogram mean (``"histogram"``)."""
    s = np.asarray(spacings, dtype=float).ravel()
    s = s[~np.isnan(s)]
    if method == "sample":
        mean = float(s.mean())
    elif method == "histogram":
        mean = histogram_mean(s)
    else:
        raise ValueError(f"unknown method {method!r}; expected 'sample' or 'histogram'")
    normalised: np.ndarray = s / mean
    return normalised
