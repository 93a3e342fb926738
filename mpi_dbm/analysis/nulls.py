"""Spacing statistics of a level set beside their null models (issue #16 item 2).

For one level set at one point, with one spectrum per replica (the last analysed measurement, so
that rows are independent realisations as the null ensembles are), :func:`spacing_statistics`
gives the statistics the report shows: ⟨r̃^(n)⟩, n = 1, 2, 3, over every level of the set (no
unfolding), and of the ensemble-unfolded bulk (trim UNFOLD_TRIM per side) P(s) summarised by its
KS distance to the GOE Wigner surmise and by ⟨s²⟩ (GOE 4/π, Poisson 2), the small-s exponent β
(rmt.beta_from_small_s) and the Brody q (rmt.fit_brody). The same function runs on

* the GOE and Wishart nulls of :mod:`mpi_dbm.rmt.nulls` (K ensembles of the same replicas ×
  levels, matched in mean and variance): mean, spread, z, p, distinguishable iff p < α;
* the shuffled-entry null: spectra ``NAME.shuffled`` of entry-shuffled copies of the same matrices
  (written by ``mpi-dbm import``; ``run`` stores only eigenvalues, so its files have none). One
  shuffled ensemble exists, so measured and shuffled values are compared by their jackknife errors
  over replicas: z = (x − x_sh)/√(σ² + σ_sh²), p = 2Φ(−|z|).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.stats import norm

from .. import rmt
from ..rmt import nulls as rnulls
from .data import Dataset

#: suffix of the spectrum of entry-shuffled copies of the matrices of spectrum NAME
SHUFFLED_SUFFIX = ".shuffled"
#: the shuffled column when the file has no NAME.shuffled
NO_SHUFFLED = "needs the matrices (only eigenvalues are stored by run)"
#: null ensembles per null model (fewer when rows × levels exceed NULL_LEVEL_BUDGET)
NULL_ENSEMBLES = 20
MIN_NULL_ENSEMBLES = 5
#: sampled levels per null model and level set that K may use (bounds analyze's time)
NULL_LEVEL_BUDGET = 400_000
#: jackknife blocks of the shuffled comparison
JACKKNIFE_BLOCKS = 10
#: fraction of levels trimmed per side before the unfolding of P(s), β and Brody
UNFOLD_TRIM = 0.1
NULL_SEED = 26032788
#: statistic key -> what it is (report and verdict labels)
STATISTICS = {
    "rtilde_1": "<r~>",
    "rtilde_2": "<r~^(2)>",
    "rtilde_3": "<r~^(3)>",
    "ps_ks_goe": "P(s): KS distance to GOE surmise",
    "s2": "P(s): <s^2>",
    "beta": "beta (small s)",
    "brody_q": "Brody q",
}


def _brody(s: np.ndarray) -> float:
    s = s[s > 0]
    if s.size < 10:
        return math.nan
    return float(rmt.fit_brody(s, errors="none")["q"])


def _beta(s: np.ndarray) -> float:
    try:
        return float(rmt.beta_from_small_s(s[s > 0]).value)
    except (rmt.InsufficientDataError, ValueError):
        return math.nan


def unfolded_spacings(levels: np.ndarray) -> np.ndarray:
    """Spacings of the ensemble-unfolded bulk (trim UNFOLD_TRIM per side), shape (rows, kept − 1)."""
    return rmt.unfold_ensemble(levels, trim=UNFOLD_TRIM).spacings


def ks_distance(s: np.ndarray, ensemble: str = "goe") -> float:
    """Kolmogorov distance sup|F_N(s) − F(s)| of spacings s to the ensemble's spacing surmise."""
    x = np.sort(s)
    f = rmt.spacing_cdf(x, ensemble)
    i = np.arange(1, x.size + 1) / x.size
    return float(max(np.max(i - f), np.max(f - (i - 1.0 / x.size))))


def spacing_statistics(levels: np.ndarray) -> dict[str, float]:
    """Every statistic of STATISTICS on level rows (rows, n); NaN where one cannot be computed."""
    x = np.sort(np.asarray(levels, dtype=float), axis=1)
    n = x.shape[1]
    out: dict[str, float] = {}
    for order in (1, 2, 3):
        ok = n >= 2 * order + 1
        out[f"rtilde_{order}"] = float(np.nanmean(rmt.nth_rtildes(x, order))) if ok else math.nan
    try:
        s = unfolded_spacings(x).ravel()
    except ValueError:
        s = np.empty(0)
    s = s[np.isfinite(s)]
    if s.size < 10 or s.mean() <= 0:
        return {**out, **dict.fromkeys(("ps_ks_goe", "s2", "beta", "brody_q"), math.nan)}
    s = s / s.mean()
    out["ps_ks_goe"] = ks_distance(s)
    out["s2"] = float(np.mean(s**2))
    out["beta"] = _beta(s)
    out["brody_q"] = _brody(s)
    return out


def measured_spacings(levels: np.ndarray, alpha: float) -> dict[str, Any]:
    """P(s) of the unfolded bulk against the surmises (rmt.verdict: consistent/rejected, small-s
    β) and the Brody fit with its error, for the level-set table."""
    s = unfolded_spacings(levels)
    ver = rmt.verdict(s, quantity="s", alpha=alpha)
    flat = s.ravel()
    flat = flat[flat > 0]
    brody = rmt.fit_brody(flat) if flat.size >= 10 else None
    return {
        "unfolding": {"method": "ensemble", "trim": UNFOLD_TRIM},
        "n_spacings": int(s.size),
        "test": {**ver.record(), "summary": ver.summary()},
        "brody": brody.record() if brody is not None else None,
    }


def _null_count(rows: int, n: int) -> int:
    return max(MIN_NULL_ENSEMBLES, min(NULL_ENSEMBLES, NULL_LEVEL_BUDGET // max(1, rows * n)))


def _jackknife(levels: np.ndarray, statistic: rnulls.Statistic) -> tuple[dict[str, float], dict[str, float]]:
    keys = tuple(statistic(levels))

    def stat(rows: np.ndarray) -> np.ndarray:
        got = statistic(rows)
        return np.array([got[k] for k in keys])

    res = rmt.jackknife(levels, stat, n_blocks=min(levels.shape[0], JACKKNIFE_BLOCKS))
    value = np.asarray(res.estimate, dtype=float)
    err = np.broadcast_to(np.asarray(res.error, dtype=float), value.shape)
    return dict(zip(keys, value.tolist(), strict=True)), dict(zip(keys, err.tolist(), strict=True))


def _shuffled(
    measured: np.ndarray, shuffled: np.ndarray, alpha: float, statistic: rnulls.Statistic
) -> dict[str, dict[str, Any]]:
    m, m_err = _jackknife(measured, statistic)
    s, s_err = _jackknife(shuffled, statistic)
    out = {}
    for key in m:
        se = math.hypot(m_err[key], s_err[key])
        z = (m[key] - s[key]) / se if se > 0 else math.nan
        p = float(2.0 * norm.sf(abs(z))) if math.isfinite(z) else math.nan
        out[key] = {
            "value": s[key],
            "error": s_err[key],
            "measured_error": m_err[key],
            "z": z,
            "p": p,
            "distinguishable": bool(p < alpha) if math.isfinite(p) else None,
        }
    return out


def _against_nulls(
    levels: np.ndarray,
    shuffled: np.ndarray | None,
    alpha: float,
    seed_key: tuple[int, ...],
    statistic: rnulls.Statistic,
    models: tuple[rnulls.NullModel, ...],
) -> dict[str, Any]:
    """The one null test: ``statistic`` of independent level rows (rows, n) beside K ensembles of
    each null model (rmt.nulls.compare) and, when given, the shuffled-entry spectra (jackknife)."""
    rows, n = levels.shape
    k = _null_count(rows, n)
    measured = statistic(levels)
    stats: dict[str, dict[str, Any]] = {key_: {"measured": v} for key_, v in measured.items()}
    for i, model in enumerate(models):
        seed = np.random.SeedSequence(NULL_SEED, spawn_key=(i, rows, n, *seed_key))
        values = rnulls.null_distribution(statistic, model, rows, k, seed)
        for stat, v in values.items():
            stats[stat][model.name] = rnulls.compare(measured[stat], v, alpha).record()
    if shuffled is not None and shuffled.shape[0] >= 2:
        for stat, rec in _shuffled(levels, shuffled, alpha, statistic).items():
            stats[stat]["shuffled"] = rec
        shuffled_note = None
    else:
        shuffled_note = NO_SHUFFLED if shuffled is None else "not enough data: need 2 shuffled spectra"
    return {
        "rows": rows,
        "k": k,
        "models": {m.name: m.record() for m in models},
        "statistics": stats,
        "shuffled_note": shuffled_note,
    }


def null_comparison(
    levels: np.ndarray, shuffled: np.ndarray | None, alpha: float, key: tuple[int, ...] = ()
) -> dict[str, Any]:
    """Measured spacing statistics of independent level rows (replicas, n) beside the GOE,
    Wishart and (when given) shuffled-entry nulls; ``key`` (ints) makes the null seeds of
    different level sets differ."""
    models = tuple(rnulls.matched_null(name, levels) for name in rnulls.NULL_MODELS)
    return _against_nulls(levels, shuffled, alpha, key, spacing_statistics, models)


# -- clusters of 2-7 levels (pairs: the seed paper's statistics; 3-7 levels: <r~>) ---------------

#: pair statistic key -> what it is (spacings s = λ₂ − λ₁ normalised by their mean)
PAIR_STATISTICS = {
    "s2": "<s^2> (<S^2>/<S>^2)",
    "ps_ks_goe": "P(s): KS distance to the Wigner surmise",
    "beta": "beta (small s)",
}
#: cluster (3-7 levels) statistic key -> what it is
CLUSTER_STATISTICS = {"rtilde": "<r~>"}
#: largest cluster with its own null comparison (level sets of 8 or more levels have theirs)
MAX_CLUSTER_LEVELS = 7
#: fewest replicas (one spectrum each) a cluster's null comparison needs
MIN_CLUSTER_ROWS = 3


def pair_statistics(levels: np.ndarray) -> dict[str, float]:
    """PAIR_STATISTICS of pair rows (rows, 2): s = λ₂ − λ₁ over ⟨s⟩; ⟨s²⟩ (2×2 GOE 4/π, Poisson 2),
    the KS distance to the β = 1 Wigner surmise (the exact spacing law of the 2×2 GOE) and the
    small-s exponent β (rmt.beta_from_small_s; NaN with fewer than 5 small spacings)."""
    x = np.sort(np.asarray(levels, dtype=float), axis=1)
    s = x[:, 1] - x[:, 0]
    s = s[np.isfinite(s)]
    if s.size < 2 or not s.mean() > 0:
        return dict.fromkeys(PAIR_STATISTICS, math.nan)
    s = s / s.mean()
    return {"s2": float(np.mean(s**2)), "ps_ks_goe": ks_distance(s), "beta": _beta(s)}


def cluster_ratio_statistics(levels: np.ndarray) -> dict[str, float]:
    """CLUSTER_STATISTICS of cluster rows (rows, n), n ≥ 3: ⟨r̃⟩ over every ratio of every row."""
    x = np.sort(np.asarray(levels, dtype=float), axis=1)
    return {"rtilde": float(np.nanmean(rmt.nth_rtildes(x, 1)))}


def cluster_nulls(
    rows: np.ndarray, shuffled: np.ndarray | None, alpha: float, key: tuple[int, ...] = ()
) -> dict[str, Any]:
    """A cluster's statistics (pairs: PAIR_STATISTICS, n ≥ 3: CLUSTER_STATISTICS) on one spectrum
    per replica (the last measurement of rows (replicas, window, n)) beside the Wishart null
    (rmt.nulls.gram_null: m matched to mean and variance), the GOE null of the same n (for a pair
    the 2×2 GOE, whose spacing law is the Wigner surmise: also the theory reference) and the
    shuffled-entry null (the same levels of NAME.shuffled, (replicas, window, n)) if given;
    ``{"not_enough_data": ...}`` when fewer than MIN_CLUSTER_ROWS replicas or no spread."""
    last = _last_rows(rows)
    n = last.shape[1]
    if last.shape[0] < MIN_CLUSTER_ROWS:
        need = rmt.InsufficientDataError(MIN_CLUSTER_ROWS, last.shape[0], "replicas (one spectrum each)")
        return {"not_enough_data": str(need)}
    if n < 2 or not np.ptp(last, axis=1).max() > 0:
        return {"not_enough_data": "the cluster has no spacings with spread"}
    statistic = pair_statistics if n == 2 else cluster_ratio_statistics
    models = (rnulls.gram_null(last), rnulls.matched_null("goe", last))
    sh = _last_rows(shuffled) if shuffled is not None else None
    rec = _against_nulls(last, sh, alpha, (2, *key), statistic, models)
    labels = PAIR_STATISTICS if n == 2 else CLUSTER_STATISTICS
    rec["verdict"] = null_verdict(rec, labels)[1]
    return rec


def _last_rows(rows: np.ndarray) -> np.ndarray:
    """One sorted spectrum per replica (the last measurement) of finite (replicas, window, n)."""
    r = np.asarray(rows, dtype=float)
    r = r[np.isfinite(r).all(axis=(1, 2))]
    return np.sort(r[:, -1, :], axis=1)


# -- results files with NAME.shuffled -----------------------------------------------------------


def shuffled_names(names: tuple[str, ...]) -> dict[str, str]:
    """NAME -> NAME.shuffled for every spectrum with a shuffled companion in ``names``."""
    return {n: n + SHUFFLED_SUFFIX for n in names if n + SHUFFLED_SUFFIX in names}


def without_shuffled(ds: Dataset) -> Dataset:
    """The dataset with NAME.shuffled left out of ``spectra`` (analysed only as NAME's null; its
    samples stay in every point's ``samples``)."""
    hidden = set(shuffled_names(ds.spectra).values())
    return replace(ds, spectra=tuple(n for n in ds.spectra if n not in hidden)) if hidden else ds


def shuffled_rows(samples: Mapping[str, np.ndarray], name: str, start: int, stop: int) -> np.ndarray | None:
    """Levels [start, stop) of NAME.shuffled at a point (replicas, window, n), or None."""
    got = samples.get(name + SHUFFLED_SUFFIX)
    return None if got is None else got[..., start:stop]


# -- verdict text -------------------------------------------------------------------------------


def _verdict_part(label: str, rec: dict[str, Any]) -> str:
    said = []
    for model, title in (("wishart", "Wishart"), ("goe", "GOE"), ("shuffled", "shuffled")):
        c = rec.get(model)
        if c is None or c.get("distinguishable") is None:
            continue
        word = "distinguishable" if c["distinguishable"] else "not distinguishable"
        said.append(f"{word} from the {title} null (p = {c['p']:.3g})")
    if not said:
        return f"{label}: no null comparison"
    return f"{label} = {rec['measured']:.4g}: " + ", ".join(said)


def null_verdict(rec: dict[str, Any], labels: Mapping[str, str] = STATISTICS) -> tuple[str, str]:
    """(status, detail) of a level set's (or cluster's, with its ``labels``) null comparison:
    "info" (no theory decides); the detail says per statistic whether the measured value is
    distinguishable from each null."""
    parts = [_verdict_part(label, rec["statistics"][key]) for key, label in labels.items()]
    if rec["shuffled_note"]:
        parts.append(f"shuffled-entry null: {rec['shuffled_note']}")
    parts.append(f"{rec['k']} null ensembles of {rec['rows']} spectra each")
    return "info", "; ".join(parts)
