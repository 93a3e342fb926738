"""Is the O(α/|B|) mean shift of physics.md §2.6 wrong, or is it the persistent chains?

An independent numpy re-implementation of the GRBM update ΔW = α W (C_φ − Ĉ) (σ_h = 1, started at
the fixed point), with the model phase Ĉ sampled three ways:

  exact   |B| independent draws φ ~ N(0, K⁻¹) every update (the spec's assumption, §2.3, §2.6)
  pcd K   |B| persistent chains, K Gibbs sweeps (h|φ, φ|h) per update (the paper: K = 3)

and the stationary mean shift (per unit α/|B|) and variance of the levels measured over the window
t = nα in [t0, t0 + 140], one snapshot every Δt = 2. Used for docs/physics-notes.md, "Reproduction
(issue 8)":

    .venv/bin/python analysis/investigations/sampler_bias.py lattice   # kappa = 4 and 8, the pairs
    .venv/bin/python analysis/investigations/sampler_bias.py cluster   # K_phi = 5*1, n = 8

Each line takes 1-3 minutes on one core.
"""

from __future__ import annotations

import sys

import numpy as np

from mpi_dbm import theory
from mpi_dbm.models.targets import lattice_kernel

MU = 3.0


def simulate(kernel, sampler, gibbs, lr, bs, replicas, t_end, t0, seed):
    rng = np.random.default_rng(seed)
    n = kernel.shape[0]
    c_phi = np.linalg.inv(kernel)
    kappa, vecs = np.linalg.eigh(kernel)
    W = np.broadcast_to(np.sqrt(MU**2 - kappa)[:, None] * vecs.T, (replicas, n, n)).copy()
    phi = np.ones((replicas, bs, n))
    every = max(1, round(2 / lr))
    out = []
    for step in range(1, round(t_end / lr) + 1):
        if sampler == "exact":
            K = MU**2 * np.eye(n) - W.transpose(0, 2, 1) @ W
            L = np.linalg.cholesky(np.linalg.inv(K))
            phi = rng.standard_normal((replicas, bs, n)) @ L.transpose(0, 2, 1)
        else:
            for _ in range(gibbs):
                h = phi @ W.transpose(0, 2, 1) + rng.standard_normal((replicas, bs, n))
                phi = h @ W / MU**2 + rng.standard_normal((replicas, bs, n)) / MU
        c_hat = phi.transpose(0, 2, 1) @ phi / bs
        W += lr * W @ (c_phi - c_hat)
        if step * lr >= t0 and step % every == 0:
            out.append(np.linalg.eigvalsh(W.transpose(0, 2, 1) @ W))
    return np.array(out)  # (snapshots, replicas, n)


def lattice(replicas=800):
    K = lattice_kernel(10, 2.0)
    kappa = np.linalg.eigvalsh(K)
    x_star = np.sort(MU**2 - kappa)
    lr, bs = 0.04, 32
    T = lr / bs
    spec = theory.grbm_mean_shift(kappa, MU, lr, bs)[np.argsort(MU**2 - kappa)] / T
    print(f"lattice target, (alpha, |B|) = ({lr}, {bs}), {replicas} replicas; spec kappa=4: {spec[9]:+.1f}")
    for sampler, gibbs in (("exact", 0), ("pcd", 3), ("pcd", 10)):
        x = simulate(K, sampler, gibbs, lr, bs, replicas, 200, 60, 1)
        shift = (x.mean(axis=(0, 1)) - x_star) / T
        err = x.mean(axis=0).std(axis=0, ddof=1) / np.sqrt(replicas) / T
        var = x.var(axis=(0, 1)) / (2 * T * x_star)
        name = sampler if sampler == "exact" else f"pcd k={gibbs}"
        print(
            f"  {name:9} kappa=4: shift/T {shift[9]:+.1f} +- {err[9]:.1f}, Var/(2Tx*) {var[9]:.3f};"
            f"  kappa=8: shift/T {shift[0]:+.1f} +- {err[0]:.1f}, Var/(2Tx*) {var[0]:.3f}"
        )


def cluster(replicas=1600, n=8):
    K = 5.0 * np.eye(n)
    lr, bs = 0.04, 32
    T = lr / bs
    spec = -0.5 * (n + 1) * (1 + 2 * 4 / 5) / 4
    print(
        f"K_phi = 5*1, n = {n}, (alpha, |B|) = ({lr}, {bs}), {replicas} replicas; "
        f"spec dx/x* per T: {spec:.3f}"
    )
    for sampler, gibbs in (("exact", 0), ("pcd", 3), ("pcd", 10)):
        x = simulate(K, sampler, gibbs, lr, bs, replicas, 70, 20, 21)
        shift = (x.mean() - 4.0) / 4.0 / T
        err = x.mean(axis=(0, 2)).std(ddof=1) / np.sqrt(replicas) / 4.0 / T
        m2 = ((x - x.mean()) ** 2).mean() / ((n + 1) * T * 4.0)
        name = sampler if sampler == "exact" else f"pcd k={gibbs}"
        print(f"  {name:9} dx/x* per T {shift:+.3f} +- {err:.3f}; <(x - <x>)^2>/((n+1)v) {m2:.4f}")


if __name__ == "__main__":
    {"lattice": lattice, "cluster": cluster}[sys.argv[1] if len(sys.argv) > 1 else "lattice"]()
