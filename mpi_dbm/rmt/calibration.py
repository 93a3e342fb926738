"""Finite-size calibrations: what an estimator returns on an exact random-matrix ensemble of the
size at hand, by Monte Carlo with a fixed seed (pure functions, cached per argument tuple).

A fit of a large-N law to a finite sample is biased at O(1/N); comparing a measured fit with
the same fit on sampled matrices of the same shape removes that bias from the comparison:

- `semicircle_fit_factor`: the minimum-distance semicircle radius of n×n GOE eigenvalues
  (entry variance v = 1 off the diagonal) over the large-n radius R = 2√(n v) (Wigner, Ann. Math.
  67, 325 (1958); Mehta, *Random Matrices*, 3rd ed., §3);
- `mp_fit_reference`: the Marchenko–Pastur fit (scale s², ratio q) of WᵀW/N_big for W of shape
  N_big×N_small with iid N(0, s²) entries (Marchenko & Pastur, Math. USSR Sb. 1, 457 (1967));
- `goe_shape_reference`: standardised n×n GOE eigenvalues, the reference sample of a
  two-sample KS test of a spectrum's shape.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .ensembles import goe_eigenvalues, wishart_eigenvalues
from .fits import FitResult, fit_marchenko_pastur, fit_semicircle

__all__ = ["goe_shape_reference", "mp_fit_reference", "semicircle_fit_factor"]


@lru_cache(maxsize=8)
def semicircle_fit_factor(n: int, n_matrices: int = 2000, seed: int = 7) -> tuple[float, float]:
    """(R_fit/(2√n), its error): the semicircle fit (`fit_semicircle`, minimum Cramér–von Mises,
    jackknife over 20 blocks of matrices) of `n_matrices` sampled n×n GOE matrices (v = 1),
    each centred on the pooled mean, over the large-n radius 2√(n v)."""
    x = goe_eigenvalues(n, seed, n_matrices, v=1.0)
    fit = fit_semicircle((x - x.mean()).reshape(n_matrices, n), n_blocks=20)
    r = 2.0 * math.sqrt(n)
    return fit["radius"] / r, fit.error("radius") / r


@lru_cache(maxsize=16)
def mp_fit_reference(
    n_big: int, n_small: int, scale: float, n_matrices: int = 4000, seed: int = 3
) -> FitResult:
    """`fit_marchenko_pastur` of the pooled eigenvalues of `n_matrices` sampled WᵀW/n_big, W of
    shape n_big×n_small with entry variance `scale`: the finite-size values (s², q) the fit
    returns for an exact MP ensemble (q comes out high by ≈ 1/n_big at small sizes)."""
    x = wishart_eigenvalues(n_big, n_small, seed, n_matrices, scale)
    return fit_marchenko_pastur(x.reshape(-1))


@lru_cache(maxsize=8)
def goe_shape_reference(n: int, n_matrices: int = 4000, seed: int = 11) -> np.ndarray:
    """Eigenvalues of `n_matrices` sampled n×n GOE matrices, shape (n_matrices, n), shifted and
    scaled to pooled mean 0 and standard deviation 1 (read-only: the array is cached)."""
    ref = goe_eigenvalues(n, seed, n_matrices, v=1.0)
    z: np.ndarray = (ref - ref.mean()) / ref.std()
    z.setflags(write=False)
    return z
