"""Gaussian random-matrix ensembles, Poisson levels and finite-size ⟨r̃⟩ references.

Normalisations (Mehta, *Random Matrices*, ch. 2), with v the off-diagonal variance E|H_ij|²:
* GOE: H = (A + Aᵀ)/2, A_ij ~ N(0, 2v) → off-diagonal variance v, diagonal variance 2v
  (v = σ²/2 for the 2×2 GOE of physics.md §5.3); semicircle radius 2√(n v).
* GUE: H = (A + A†)/2, Re A_ij, Im A_ij ~ N(0, v) → E|H_ij|² = v, diagonal variance v.
* GSE: the 2n×2n self-dual Hermitian H = [[A, B], [−B̄, Ā]] with A a GUE(v) matrix and B complex
  antisymmetric, E|B_ij|² = v. Its eigenvalues are Kramers-degenerate pairs; the n distinct values
  (pair means) follow the β = 4 law, semicircle radius 2√(2n v).
* β-Hermite (Dumitriu & Edelman, J. Math. Phys. 43, 5830 (2002)): tridiagonal H with diagonal
  N(0, 2)/√2 and off-diagonal χ_{β(n−k)}/√2, k = 1…n−1; eigenvalue density
  ∝ Π|λ_i − λ_j|^β exp(−Σλ²/2) for any β > 0: the GOE law with v = 1/2 (β = 1), GUE with v = 1
  (β = 2) and the GSE pair means with v = 1 (β = 4). Its eigenvalues cost O(n²) per matrix
  (LAPACK dsterf) instead of the O(n³) of a dense matrix (O((2n)³) complex for GSE), so the
  matched-size r̃ references (`reference_ratios`) sample it; `sample_levels` can too.
* Poisson: cumulative sums of Exp(1) spacings (uncorrelated levels, mean spacing 1).

All samplers draw from an explicit ``numpy.random.Generator`` (or a seed turned into one).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np
from scipy.linalg.lapack import dsterf

from ._base import Estimate, as_generator, freeze, trim_count
from .spacing import spacing_ratios
from .surmise import BETA, canonical_ensemble

__all__ = [
    "SAMPLERS",
    "beta_hermite_eigenvalues",
    "beta_hermite_tridiagonal",
    "goe",
    "goe_eigenvalues",
    "gse",
    "gse_eigenvalues",
    "gue",
    "gue_eigenvalues",
    "poisson_levels",
    "reference_mean_ratio",
    "reference_ratios",
    "resolve_sampler",
    "sample_levels",
    "tridiagonal_eigenvalues",
    "wishart_eigenvalues",
]

_CHUNK_ELEMENTS = 2_000_000  # matrix entries generated per batch (bounds memory)


def _chunks(size: int, per_item: int) -> list[int]:
    step = max(1, _CHUNK_ELEMENTS // max(1, per_item))
    return [min(step, size - i) for i in range(0, size, step)]


def _shape(size: int | None, n: int) -> tuple[int, ...]:
    if n < 1:
        raise ValueError(f"matrix size must be positive, got {n}")
    return (n, n) if size is None else (int(size), n, n)


def goe(n: int, rng: np.random.Generator | int, size: int | None = None, v: float = 0.5) -> np.ndarray:
    """GOE matrices (size, n, n) (or one (n, n)): off-diagonal variance v, diagonal 2v."""
    a = as_generator(rng).normal(0.0, np.sqrt(2.0 * v), _shape(size, n))
    return 0.5 * (a + np.swapaxes(a, -1, -2))


def gue(n: int, rng: np.random.Generator | int, size: int | None = None, v: float = 0.5) -> np.ndarray:
    """GUE matrices: E|H_ij|² = v off the diagonal, real diagonal of variance v."""
    gen = as_generator(rng)
    shape = _shape(size, n)
    a = gen.normal(0.0, np.sqrt(v), shape) + 1j * gen.normal(0.0, np.sqrt(v), shape)
    return 0.5 * (a + np.conj(np.swapaxes(a, -1, -2)))


def gse(n: int, rng: np.random.Generator | int, size: int | None = None, v: float = 0.5) -> np.ndarray:
    """GSE matrices: 2n×2n self-dual Hermitian [[A, B], [−B̄, Ā]], A GUE, B antisymmetric."""
    gen = as_generator(rng)
    a = gue(n, gen, size, v)
    shape = _shape(size, n)
    c = gen.normal(0.0, np.sqrt(v / 4.0), shape) + 1j * gen.normal(0.0, np.sqrt(v / 4.0), shape)
    b = c - np.swapaxes(c, -1, -2)  # antisymmetric, E|B_ij|² = v
    top = np.concatenate([a, b], axis=-1)
    bottom = np.concatenate([-np.conj(b), np.conj(a)], axis=-1)
    return np.concatenate([top, bottom], axis=-2)


def _eigenvalues(make: Callable[[int], np.ndarray], size: int, per_item: int) -> np.ndarray:
    return np.concatenate([np.linalg.eigvalsh(make(m)) for m in _chunks(size, per_item)], axis=0)


def goe_eigenvalues(n: int, rng: np.random.Generator | int, size: int, v: float = 0.5) -> np.ndarray:
    """Sorted GOE eigenvalues, shape (size, n)."""
    gen = as_generator(rng)
    return _eigenvalues(lambda m: goe(n, gen, m, v), size, n * n)


def gue_eigenvalues(n: int, rng: np.random.Generator | int, size: int, v: float = 0.5) -> np.ndarray:
    """Sorted GUE eigenvalues, shape (size, n)."""
    gen = as_generator(rng)
    return _eigenvalues(lambda m: gue(n, gen, m, v), size, 2 * n * n)


def gse_eigenvalues(n: int, rng: np.random.Generator | int, size: int, v: float = 0.5) -> np.ndarray:
    """Sorted GSE eigenvalues with the Kramers pairs merged (pair means), shape (size, n)."""
    gen = as_generator(rng)
    e = _eigenvalues(lambda m: gse(n, gen, m, v), size, 8 * n * n)
    merged: np.ndarray = 0.5 * (e[:, 0::2] + e[:, 1::2])
    return merged


def beta_hermite_tridiagonal(
    n: int, beta: float, rng: np.random.Generator | int, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(diagonals (size, n), off-diagonals (size, n − 1)) of ``size`` Dumitriu–Edelman β-Hermite
    matrices: diagonal N(0, 2)/√2 = N(0, 1), off-diagonal k = 1 … n − 1 χ_{β(n−k)}/√2
    (Dumitriu & Edelman, J. Math. Phys. 43, 5830 (2002); module docstring).
    The diagonals are drawn first, then the off-diagonals."""
    if n < 1:
        raise ValueError(f"matrix size must be positive, got {n}")
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta}")
    gen = as_generator(rng)
    diag = gen.normal(0.0, 1.0, (size, n))
    off = np.sqrt(gen.chisquare(beta * np.arange(n - 1, 0, -1), (size, n - 1)) / 2.0)
    return diag, off


#: up to this n a batch of tridiagonal matrices is diagonalised densely (one vectorised LAPACK
#: call beats a Python loop over dsterf there); above it, dsterf per matrix. Same eigenvalues.
_BATCHED_MAX_N = 8


def tridiagonal_eigenvalues(d: np.ndarray, e: np.ndarray) -> np.ndarray:
    """Sorted eigenvalues of symmetric tridiagonal matrices, diagonals ``d`` (rows, n) and
    off-diagonals ``e`` (rows, n − 1): LAPACK dsterf (implicit QL/QR without vectors), O(n²) each."""
    d = np.asarray(d, dtype=float)
    e = np.asarray(e, dtype=float)
    rows, n = d.shape
    if n <= _BATCHED_MAX_N:
        idx = np.arange(n)
        parts, lo = [], 0
        for m in _chunks(rows, n * n):
            h = np.zeros((m, n, n))
            h[:, idx, idx] = d[lo : lo + m]
            h[:, idx[:-1], idx[1:]] = e[lo : lo + m]
            h[:, idx[1:], idx[:-1]] = e[lo : lo + m]
            parts.append(np.linalg.eigvalsh(h))
            lo += m
        return np.concatenate(parts, axis=0) if parts else np.empty((0, n))
    out = np.empty_like(d)
    for r in range(rows):
        w, info = dsterf(d[r], e[r])
        if info != 0:
            raise np.linalg.LinAlgError(f"dsterf did not converge (info = {info})")
        out[r] = w
    return np.sort(out, axis=1)


def beta_hermite_eigenvalues(n: int, beta: float, rng: np.random.Generator | int, size: int) -> np.ndarray:
    """Sorted eigenvalues of the Dumitriu–Edelman tridiagonal β-Hermite model, shape (size, n)
    (:func:`beta_hermite_tridiagonal`, diagonalised by :func:`tridiagonal_eigenvalues`)."""
    return tridiagonal_eigenvalues(*beta_hermite_tridiagonal(n, beta, rng, size))


def poisson_levels(n: int, rng: np.random.Generator | int, size: int, density: float = 1.0) -> np.ndarray:
    """Uncorrelated levels: cumulative sums of Exp(mean 1/density) spacings, shape (size, n)."""
    return np.cumsum(as_generator(rng).exponential(1.0 / density, (size, n)), axis=1)


def wishart_eigenvalues(
    n_h: int, n_v: int, rng: np.random.Generator | int, size: int, scale: float = 1.0
) -> np.ndarray:
    """Eigenvalues of X = WᵀW/N_h, W of shape N_h×N_v with iid N(0, s²) entries (s² = scale).

    For N_v ≤ N_h they follow Marchenko–Pastur with ratio q = N_v/N_h. Shape (size, n_v).
    """
    gen = as_generator(rng)

    def make(m: int) -> np.ndarray:
        w = gen.normal(0.0, np.sqrt(scale), (m, n_h, n_v))
        return np.swapaxes(w, -1, -2) @ w / n_h

    return _eigenvalues(make, size, n_h * n_v)


#: how GOE/GUE/GSE levels are sampled: dense matrices, or the β-Hermite tridiagonal model
SAMPLERS = ("dense", "tridiagonal")


def sample_levels(
    ensemble: str, n: int, rng: np.random.Generator | int, size: int, sampler: str = "dense"
) -> np.ndarray:
    """Sorted levels of ``size`` realisations of an n-level 'goe', 'gue', 'gse' or 'poisson'.

    ``sampler`` (GOE/GUE/GSE): ``"dense"`` diagonalises dense matrices (v = 1/2: ``goe``, ``gue``,
    ``gse``), ``"tridiagonal"`` samples the β-Hermite model (same eigenvalue law up to the scale:
    module docstring). Poisson levels ignore it.
    """
    name = canonical_ensemble(ensemble)
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if name == "poisson":
        return poisson_levels(n, rng, size)
    if sampler == "tridiagonal":
        return beta_hermite_eigenvalues(n, float(BETA[name]), rng, size)
    dense = {"goe": goe_eigenvalues, "gue": gue_eigenvalues, "gse": gse_eigenvalues}[name]
    return dense(n, rng, size)


def resolve_sampler(name: str, n: int, sampler: str = "auto") -> str:
    """The sampler ``reference_ratios`` uses for an ensemble name, n and sampler choice
    (``"auto"``: the tridiagonal model, for every n)."""
    if sampler != "auto" and sampler not in SAMPLERS:
        raise ValueError(f"sampler must be 'auto', 'dense' or 'tridiagonal', got {sampler!r}")
    if canonical_ensemble(name) == "poisson":
        return "exponential spacings"
    return "tridiagonal" if sampler == "auto" else sampler


def reference_ratios(
    ensemble: str,
    n: int,
    trim: float = 0,
    n_ratios: int = 100_000,
    seed: int = 20130222,
    sampler: str = "auto",
) -> np.ndarray:
    """r̃ of matched-size synthetic spectra, shape (realisations, ratios per row); read-only, cached.

    ``n`` levels per realisation with ``trim`` levels (count or fraction) dropped at each edge,
    exactly as :func:`~mpi_dbm.rmt.spacing.spacing_ratios` does for data; at least ``n_ratios``
    ratios in total. ``sampler``: ``"dense"`` (GOE/GUE/GSE matrices), ``"tridiagonal"``
    (Dumitriu–Edelman β-Hermite, identical eigenvalue law) or ``"auto"`` (= tridiagonal).
    Deterministic for a given seed and sampler; one cache entry per resolved argument tuple, however
    the arguments were passed.
    """
    name = canonical_ensemble(ensemble)
    return _reference_ratios(name, int(n), trim, int(n_ratios), int(seed), resolve_sampler(name, n, sampler))


@lru_cache(maxsize=64)
def _reference_ratios(name: str, n: int, trim: float, n_ratios: int, seed: int, sampler: str) -> np.ndarray:
    per_row = n - 2 * trim_count(trim, n) - 2
    if per_row < 1:
        raise ValueError(f"n={n} with trim={trim} leaves no spacing ratio")
    rows = -(-n_ratios // per_row)
    gen = np.random.default_rng(seed)
    levels = sample_levels(name, n, gen, rows, "dense" if sampler == "dense" else "tridiagonal")
    r = spacing_ratios(levels, trim)
    r.setflags(write=False)
    return r


@lru_cache(maxsize=64)
def reference_mean_ratio(
    ensemble: str,
    n: int,
    trim: float = 0,
    n_ratios: int = 100_000,
    seed: int = 20130222,
    sampler: str = "auto",
) -> Estimate:
    """Finite-size ⟨r̃⟩ of an ensemble from matched-size sampling, with its standard error.

    Small clusters differ from the large-N constants (e.g. n = 3 GOE: 4 − 2√3 = 0.5359 exactly,
    n = 8: ≈ 0.530, N → ∞: 0.5307), so data from an n-level cluster must be compared with this.
    The error is the standard error over the synthetic realisations.
    """
    name = canonical_ensemble(ensemble)
    r = reference_ratios(name, n, trim, n_ratios, seed, sampler)
    m = np.nanmean(r, axis=1)
    return Estimate(
        float(m.mean()),
        float(m.std(ddof=1) / np.sqrt(m.size)),
        int(m.size),
        "matched-size sampling",
        freeze(
            {
                "ensemble": name,
                "n": n,
                "trim": trim,
                "seed": seed,
                "sampler": resolve_sampler(name, n, sampler),
            }
        ),
    )
