"""BASELINE for target 10: the multilayer teacher–student model of arXiv:2509.01349 as a
single-core research script trains it: one seed after another, per-step numpy calls, the first
layer recomputed every step, the loss checked every step. Not used by mpi-dbm itself.

    for each seed:  draw teacher (M, W_t, Z), data x, targets y; W ~ N(0, ε²/L)
        for each step n:  minibatch k = n mod batches_per_epoch
            h1 = tanh(x_k Mᵀ);  h2 = tanh(h1 Wᵀ);  ŷ = h2 Z;  ℓ = ½ mean (ŷ − y_k)²
            stop if ℓ > 100;   W −= α/|B| · ((ŷ − y) Zᵀ ⊙ (1 − h2²))ᵀ h1
"""

from __future__ import annotations

import numpy as np


def train_seed(
    seed: int,
    steps: int,
    learning_rate: float = 0.5,
    batch_size: int = 4,
    batches_per_epoch: int = 1000,
    init_width: float = 1.0,
    d: int = 3,
    L: int = 32,
    K: int = 16,
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    M = rng.normal(0.0, 1 / np.sqrt(d), (L, d))
    Wt = rng.normal(0.0, 1 / np.sqrt(L), (K, L))
    Z = rng.normal(0.0, 1 / np.sqrt(K), K)
    X = rng.standard_normal((batch_size * batches_per_epoch, d))
    Y = np.tanh(np.tanh(X @ M.T) @ Wt.T) @ Z
    W = rng.normal(0.0, init_width / np.sqrt(L), (K, L))
    for n in range(steps):
        k = n % batches_per_epoch
        x = X[k * batch_size : (k + 1) * batch_size]
        y = Y[k * batch_size : (k + 1) * batch_size]
        h1 = np.tanh(x @ M.T)
        h2 = np.tanh(h1 @ W.T)
        err = h2 @ Z - y
        if 0.5 * np.mean(err**2) > 100.0:
            break
        delta = (err[:, None] * Z[None, :]) * (1.0 - h2**2)
        W -= learning_rate * (delta.T @ h1) / batch_size
    return W


def train_many(n_seeds: int, steps: int, **kw: float) -> list[np.ndarray]:
    return [train_seed(s, steps, **kw) for s in range(n_seeds)]  # type: ignore[arg-type]
