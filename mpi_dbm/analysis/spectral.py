"""Level statistics beyond nearest neighbours, per (spectrum, point, level set): n-th order
spacing ratios, number variance, spectral rigidity, form factor, and the largest-level edge.

A *level set* is a family cluster of n ≥ MIN_LEVELS levels or, when the family gives no
clusters for a spectrum (clusters detected from the data), the whole spectrum of ≥ MIN_LEVELS
levels. Every statistic is compared with

* the N → ∞ references of :mod:`mpi_dbm.rmt` (β'-surmise ⟨r̃^(n)⟩, β' = n(n+1)/2·β + n − 1,
  Tekur et al., PRB 98, 104305 (2018); exact Poisson beta-prime(n, n); Σ², Δ₃, K(τ) from the
  two-level cluster function, Mehta ch. 16; Tracy–Widom F₁), and
* matched-size references: the same estimator applied to sampled GOE/GUE/Poisson spectra of the
  same number of levels (fixed seeds, cached). Small clusters differ from N → ∞ by more than the
  data's errors (measured: ⟨r̃^(2)⟩ of 8×8 GOE 0.6665(8) against the surmise 0.6762; the largest
  eigenvalue of an 8×8 GOE is O(n^{−2/3}) off Tracy–Widom), so decisions use the matched ones.

Errors of the ratio means are jackknife over replicas (measurements of one replica are
correlated); the long-range statistics and the edge use one measurement per replica (the last
analysed one), so their rows are independent realisations as :mod:`mpi_dbm.rmt.longrange` and
:func:`mpi_dbm.rmt.edge_test` assume.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from scipy.stats import ks_2samp, norm

from .. import rmt
from .expect import Cluster, InitialLaw
from .nulls import measured_spacings, null_comparison
from .observables import DEGENERATE, jackknife_over_replicas

#: fewest levels in a level set for the statistics of this module
MIN_LEVELS = 8
#: ratio orders n of ⟨r̃^(n)⟩
ORDERS = (1, 2, 3)
#: ensembles compared with (GSE has no long-range reference in rmt.longrange)
ENSEMBLES = ("goe", "gue", "poisson")
#: window lengths L (unfolded mean spacings) tried for Σ²(L), Δ₃(L); those that fit are kept
LENGTHS = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0)
#: τ bins of the form factor (bin edges)
TAU_EDGES = (0.1, 0.3, 0.5, 0.7, 0.9, 1.2, 1.6)
#: fraction of levels trimmed at each edge before the ensemble unfolding
UNFOLD_TRIM = 0.1
#: sampled matrices of a matched-size reference (error ≈ 1/√REFERENCE_ROWS of the spread)
REFERENCE_ROWS = 4000
#: replicas needed for a jackknife error over replicas that a test can rest on
MIN_REPLICAS = 3
_SEEDS = {"goe": 16001, "gue": 16002, "poisson": 16003}


@dataclass(frozen=True)
class LevelSet:
    """Levels [start, stop) of a spectrum analysed as one set; `expected_goe`: theory predicts a
    GOE block (a family cluster), else the comparison is descriptive."""

    start: int
    stop: int
    label: str
    expected_goe: bool
    whole: bool  # the set is the whole spectrum

    @property
    def n(self) -> int:
        return self.stop - self.start


def level_sets(clusters: list[Cluster], detected: bool, size: int) -> list[LevelSet]:
    """Family clusters of ≥ MIN_LEVELS levels; when the clusters were detected from the data
    instead, the whole spectrum and every detected cluster of ≥ MIN_LEVELS levels (smaller ones get
    the cluster nulls of analysis.nulls, so every cluster's spacings stand beside a null model)."""
    if detected:
        whole = LevelSet(0, size, f"whole spectrum ({size} levels)", False, True)
        return ([whole] if size >= MIN_LEVELS else []) + [
            LevelSet(c.start, c.stop, c.label, False, False) for c in clusters if MIN_LEVELS <= c.n < size
        ]
    return [
        LevelSet(c.start, c.stop, c.label, True, c.n == size)
        for c in clusters
        if c.n >= MIN_LEVELS and c.centre is not None
    ]


# -- matched-size references --------------------------------------------------------------------


@lru_cache(maxsize=32)
def reference_levels(ensemble: str, n: int) -> np.ndarray:
    """REFERENCE_ROWS sorted spectra of n levels of `ensemble` (fixed seed; read-only, cached).

    Drawn from the tridiagonal β-Hermite model (rmt.ensembles; the GOE/GUE eigenvalue law at a cost
    linear in n, up to an overall scale): every use here is scale-free (ratios, unfolded Σ², Δ₃ and
    form factor, the edge standardised by its own pooled moments)."""
    x = rmt.sample_levels(ensemble, n, _SEEDS[ensemble], REFERENCE_ROWS, sampler="tridiagonal")
    x.setflags(write=False)
    return x


@lru_cache(maxsize=64)
def _reference_ratio(ensemble: str, n: int, order: int) -> tuple[float, float]:
    est = rmt.mean_nth_ratio(reference_levels(ensemble, n), order)
    return est.value, est.error


def _consistent(value: float, error: float, ref: float, ref_error: float, alpha: float) -> tuple[bool, float]:
    """Two-sided z test of value against ref: consistent iff p = 2Φ(−|z|) ≥ alpha."""
    z = (value - ref) / math.hypot(error, ref_error)
    return bool(2.0 * norm.sf(abs(z)) >= alpha), float(z)


# -- n-th order ratios --------------------------------------------------------------------------


def nth_ratios(rows: np.ndarray, alpha: float) -> dict[str, Any]:
    """⟨r̃^(n)⟩, n = 1, 2, 3, of level rows (replicas, window, n_levels) against GOE/GUE/Poisson.

    The mean pools every r̃^(n) of every row; its error is a jackknife over replicas. Per order:
    the matched-size references (decision) and the N → ∞ ones (β'-surmise, exact Poisson).
    """
    replicas, _, n_levels = rows.shape
    if replicas < MIN_REPLICAS:
        raise rmt.InsufficientDataError(MIN_REPLICAS, replicas, "replicas (jackknife errors over replicas)")
    out: dict[str, Any] = {}
    for order in ORDERS:
        key = f"n{order}"
        if n_levels < 2 * order + 1:
            out[key] = {"not_enough_data": str(rmt.InsufficientDataError(2 * order + 1, n_levels, "levels"))}
            continue
        r = rmt.nth_rtildes(rows.reshape(-1, n_levels), order).reshape(replicas, -1)
        value, error = jackknife_over_replicas(r, np.nanmean)
        refs: dict[str, Any] = {}
        consistent: list[str] = []
        rejected: list[str] = []
        for ens in ENSEMBLES:
            ref, ref_err = _reference_ratio(ens, n_levels, order)
            ok, z = _consistent(value, error, ref, ref_err, alpha)
            refs[ens] = {
                "matched": ref,
                "matched_error": ref_err,
                "large_n": rmt.nth_rtilde_mean(order, ens),
                "z": z,
            }
            (consistent if ok else rejected).append(ens)
        out[key] = {
            "value": value,
            "error": error,
            "references": refs,
            "consistent": consistent,
            "rejected": rejected,
            "effective_beta_goe": rmt.effective_beta(order, "goe"),
        }
    return out


# -- long-range statistics ----------------------------------------------------------------------


def _unfold(levels: np.ndarray) -> rmt.Unfolding:
    return rmt.unfold_ensemble(levels, trim=UNFOLD_TRIM)


def _fitting_lengths(unf: rmt.Unfolding) -> list[float]:
    """The LENGTHS that fit into the unfolded range common to every row (2-spacing margins)."""
    x = unf.levels
    width = float(np.min(x[:, -1]) - np.max(x[:, 0])) - 4.0
    return [L for L in LENGTHS if width >= L]


@lru_cache(maxsize=64)
def _matched_longrange(
    ensemble: str, n: int, rows: int, lengths: tuple[float, ...]
) -> dict[str, list[float]]:
    """Σ², Δ₃ of `rows` sampled spectra of n levels, unfolded and windowed as the data; NaN at an L
    the sample's common unfolded range cannot hold (the range shrinks with the number of rows)."""
    unf = _unfold(reference_levels(ensemble, n)[:rows])
    out: dict[str, list[float]] = {}
    for stat, fn in (("number_variance", rmt.number_variance), ("rigidity", rmt.rigidity)):
        values, errors = [], []
        for length in lengths:
            try:
                res = fn(unf, length)
                values.append(float(res.values[0]))
                errors.append(float(res.errors[0]))
            except rmt.InsufficientDataError:
                values.append(math.nan)
                errors.append(math.nan)
        out[stat], out[f"{stat}_error"] = values, errors
    return out


@lru_cache(maxsize=32)
def _matched_form_factor(ensemble: str, n: int, rows: int) -> list[float]:
    """Binned K(τ) of `rows` sampled spectra of n levels, unfolded and windowed as the data."""
    ff = _form_factor(_unfold(reference_levels(ensemble, n)[:rows]))
    return ff.binned(np.array(TAU_EDGES))[1].tolist()  # type: ignore[no-any-return]


def _form_factor(unf: rmt.Unfolding) -> rmt.FormFactor:
    """K(τ) with a Gaussian window at the pooled mean unfolded level, width a sixth of the kept
    levels per row (rmt's default, a sixth of the range common to all rows, vanishes when the
    rows' ranges do not overlap widely, as for many Poisson rows)."""
    x = unf.levels
    taus = np.linspace(TAU_EDGES[0], TAU_EDGES[-1], 150, endpoint=False)
    return rmt.form_factor(unf, taus, width=x.shape[1] / 6.0, centre=float(x.mean()))


def long_range(levels: np.ndarray) -> dict[str, Any]:
    """Σ²(L), Δ₃(L) and K(τ) of independent level rows (realisations, n_levels), ensemble-unfolded.

    References: N → ∞ GOE/GUE/Poisson (rmt.longrange) and matched-size samples (Σ², Δ₃: GOE; K: GOE
    and Poisson) of as many rows (capped at REFERENCE_ROWS), unfolded and windowed identically.
    """
    rows, n_levels = levels.shape
    if rows < 2:
        raise rmt.InsufficientDataError(2, rows, "replicas (realisations of the spectrum)")
    unf = _unfold(levels)
    out: dict[str, Any] = {"unfolding": _plain(unf.record())}
    lengths = _fitting_lengths(unf)
    if not lengths:
        x = unf.levels
        have = max(0, math.floor(float(np.min(x[:, -1]) - np.max(x[:, 0]))))
        out["long_range_not_enough_data"] = str(
            rmt.InsufficientDataError(math.ceil(LENGTHS[0] + 4), have, "unfolded spacings common to all rows")
        )
    else:
        L = np.array(lengths)
        sig = rmt.number_variance(unf, L)
        d3 = rmt.rigidity(unf, L)
        matched = {"goe": _matched_longrange("goe", n_levels, min(rows, REFERENCE_ROWS), tuple(lengths))}
        for key, res, ref_fn in (
            ("number_variance", sig, rmt.number_variance_reference),
            ("rigidity", d3, rmt.rigidity_reference),
        ):
            out[key] = {
                "lengths": lengths,
                "values": res.values.tolist(),
                "errors": res.errors.tolist(),
                "rows": res.rows,
                "windows": {k: _plain(v) for k, v in res.params.items() if k != "unfolding"},
                "large_n": {e: ref_fn(L, e).tolist() for e in ENSEMBLES},
                "matched": {e: matched[e][key] for e in matched},
                "matched_errors": {e: matched[e][f"{key}_error"] for e in matched},
            }
    try:
        ff = _form_factor(unf)
        centres, means, errors = ff.binned(np.array(TAU_EDGES))
        out["form_factor"] = {
            "tau": centres.tolist(),
            "values": means.tolist(),
            "errors": errors.tolist(),
            "window": {k: _plain(v) for k, v in ff.params.items() if k != "unfolding"},
            "large_n": {e: rmt.form_factor_reference(centres, e).tolist() for e in ENSEMBLES},
            "matched": {
                e: _matched_form_factor(e, n_levels, min(rows, REFERENCE_ROWS)) for e in ("goe", "poisson")
            },
        }
    except rmt.InsufficientDataError as exc:
        out["form_factor_not_enough_data"] = str(exc)
    return out


def _plain(v: Any) -> Any:
    if isinstance(v, dict) or hasattr(v, "items"):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    return v


# -- the largest level --------------------------------------------------------------------------


@lru_cache(maxsize=16)
def _goe_edge_reference(n: int) -> np.ndarray:
    return _cluster_edge(reference_levels("goe", n))


def _cluster_edge(levels: np.ndarray) -> np.ndarray:
    """(λ_max − c − 2√(n v̂))/(√v̂ n^{−1/6}) per row, c the pooled mean level and v̂ = m₂/(n + 1)
    from the pooled second moment (an n×n GOE has ⟨(x − c)²⟩ = (n + 1) v)."""
    n = levels.shape[1]
    c = float(levels.mean())
    v = float(np.mean((levels - c) ** 2)) / (n + 1)
    mu, sigma = rmt.wigner_edge_scaling(n, v)
    return np.asarray((levels[:, -1] - c - mu) / sigma)


def _edge_record(scaled: np.ndarray, reference: np.ndarray, alpha: float, scaling: str) -> dict[str, Any]:
    tw = rmt.edge_test(scaled, beta=1)
    ks = ks_2samp(scaled, reference)
    return {
        "scaling": scaling,
        "n_matrices": int(scaled.size),
        "mean": tw.mean,
        "variance": tw.variance,
        "tracy_widom_1": {
            "ks_p": tw.ks_pvalue,
            "ks_statistic": tw.ks_statistic,
            "z_mean": tw.z_mean,
            "z_variance": tw.z_variance,
            "mean": rmt.TW_MOMENTS[1][0],
            "variance": rmt.TW_MOMENTS[1][1],
        },
        "matched": {
            "ks_p": float(ks.pvalue),
            "ks_statistic": float(ks.statistic),
            "mean": float(reference.mean()),
            "variance": float(reference.var(ddof=1)),
            "n_reference": int(reference.size),
        },
        "consistent": bool(ks.pvalue >= alpha),
    }


def cluster_edge(levels: np.ndarray, alpha: float) -> dict[str, Any]:
    """Largest level of a GOE-like set (rows, n), one row per independent replica, against TW₁
    (asymptotic) and the same scaling of sampled n×n GOE matrices (decision, two-sample KS)."""
    if levels.shape[0] < 5:
        raise rmt.InsufficientDataError(5, levels.shape[0], "replicas (one largest level each)")
    n = levels.shape[1]
    return _edge_record(
        _cluster_edge(levels),
        _goe_edge_reference(n),
        alpha,
        "Wigner: (lambda_max - c - 2 sqrt(n v))/(sqrt(v) n^(-1/6)), c the pooled mean level, "
        "v = <(x - c)^2>/(n + 1) of the data",
    )


@lru_cache(maxsize=16)
def _wishart_edge_reference(n_big: int, n_small: int, scale: float) -> np.ndarray:
    x = rmt.wishart_eigenvalues(n_big, n_small, 16004, REFERENCE_ROWS, scale)
    mu, sigma = rmt.wishart_edge_scaling(n_big, n_small, scale)
    out = np.asarray((x[:, -1] - mu) / sigma)
    out.setflags(write=False)
    return out


def initial_edge(initial: np.ndarray, law: InitialLaw, alpha: float) -> dict[str, Any]:
    """Largest eigenvalue at step 0 (one per task) against Johnstone–Wishart: (λ_max/N − μ)/σ with
    (μ, σ) = wishart_edge_scaling(N_big, N_small, s²) of the known initial law, TW₁ and matched
    sampled Wishart matrices of the same shape."""
    if initial.shape[0] < 5:
        raise rmt.InsufficientDataError(5, initial.shape[0], "spectra at step 0")
    n_small = initial.shape[1]
    n_big = round(law.normalisation)
    big, small = max(n_big, n_small), min(n_big, n_small)
    if round(law.ratio * big) != small:  # the recorded spectrum is not the smaller Gram matrix
        small = round(law.ratio * big)
    mu, sigma = rmt.wishart_edge_scaling(big, small, law.scale)
    scaled = (initial[:, -1] / law.normalisation - mu) / sigma
    rec = _edge_record(
        scaled,
        _wishart_edge_reference(big, small, law.scale),
        alpha,
        f"Johnstone: (lambda_max/{law.normalisation:g} - mu)/sigma, mu = {mu:.5g}, sigma = {sigma:.5g} "
        f"(W of {big} x {small}, entry variance {law.scale:g})",
    )
    return rec


# -- one level set -------------------------------------------------------------------------------


def level_set_stats(
    rows: np.ndarray, ls: LevelSet, alpha: float, edge: bool, shuffled: np.ndarray | None = None
) -> dict[str, Any]:
    """Every statistic of one level set at one point; rows: (replicas, window, n); ``shuffled``:
    the same levels of entry-shuffled copies of the matrices (spectrum NAME.shuffled), if stored.
    Statistics the data are too few for are under "not_enough_data" (statistic -> "not enough
    data: ...")."""
    rows = rows[np.isfinite(rows).all(axis=(1, 2))]
    out: dict[str, Any] = {
        "levels": [ls.start, ls.stop],
        "label": ls.label,
        "n_levels": ls.n,
        "expected_goe": ls.expected_goe,
        "replicas": int(rows.shape[0]),
        "not_enough_data": {},
    }
    missing = out["not_enough_data"]
    if rows.size and np.all(np.ptp(rows, axis=2) == 0):
        missing["level statistics"] = DEGENERATE
        return out
    try:
        out["nth_ratios"] = nth_ratios(rows, alpha)
    except rmt.InsufficientDataError as exc:
        missing["nth_ratios"] = str(exc)
    last = np.sort(rows[:, -1, :], axis=1)  # one independent spectrum per replica
    try:
        out["long_range"] = long_range(last)
    except rmt.InsufficientDataError as exc:
        missing["long_range"] = str(exc)
    if edge:
        try:
            out["edge"] = cluster_edge(last, alpha)
        except rmt.InsufficientDataError as exc:
            missing["edge"] = str(exc)
    _spacings_and_nulls(out, last, shuffled, ls, alpha)
    return out


def _spacings_and_nulls(
    out: dict[str, Any], last: np.ndarray, shuffled: np.ndarray | None, ls: LevelSet, alpha: float
) -> None:
    """P(s), β and Brody of the unfolded set, and every spacing statistic beside its null models
    (analysis.nulls), on one spectrum per replica (the last analysed measurement)."""
    missing = out["not_enough_data"]
    if last.shape[0] < MIN_REPLICAS:
        why = str(rmt.InsufficientDataError(MIN_REPLICAS, last.shape[0], "replicas (one spectrum each)"))
        missing["spacings"] = missing["nulls"] = why
        return
    try:
        out["spacings"] = measured_spacings(last, alpha)
    except rmt.InsufficientDataError as exc:
        missing["spacings"] = str(exc)
    if shuffled is not None:
        shuffled = shuffled[np.isfinite(shuffled).all(axis=(1, 2))]
        shuffled = np.sort(shuffled[:, -1, :], axis=1)
    out["nulls"] = null_comparison(last, shuffled, alpha, (ls.start, ls.stop))
