"""A synthetic results file the size of the paper's GRBM data set, for target 7.

11 (α, |B|) points (α = 0.01…0.1 at |B| = 16, and |B| = 4…128 at α = 0.04) × 7 500
realisations × 6 measurements (steps 0, 20 000, …, 100 000) × 10 eigenvalues, written with
the store's own layout, writers and checksums (mpi_dbm.store), every task done. Measurement 0
is the spectrum of WᵀW at the random initialisation (W ~ N(0, 0.1²)); later ones are drawn from the predicted
stationary law: X = X* + δX in the eigenbasis of K_φ with Var(δX_kl) = T (x*_k + x*_l)/2 ·
(1 + δ_kl), T = α/|B| (physics.md §2.5).

Usage: python benchmarks/synth_results.py OUT.h5 [REPLICAS]
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mpi_dbm import config, models, store
from mpi_dbm.streams import shared_data_seed
from mpi_dbm.train import StackResult

POINTS = [(lr, 16) for lr in (0.01, 0.02, 0.04, 0.06, 0.08, 0.1)] + [(0.04, b) for b in (4, 8, 32, 64, 128)]


def paper_config(replicas: int = 7500) -> config.Config:
    text = f"""
[sweep]
name = "paper-size-synthetic"
seed = 1
replicas = {replicas}
points = {[list(p) for p in POINTS]}
block_size = 250
[model]
kind = "grbm"
[target]
kind = "lattice"
mass = 2.0
[train]
steps = 100000
measure_every = 20000
"""
    return config.parse_text(text)


def make(path: Path, replicas: int = 7500, seed: int = 0) -> config.Config:
    cfg = paper_config(replicas)
    model = models.build(cfg.model, shared_data_seed(cfg.sweep.seed))
    spec = model.spec
    x_star = np.sort(spec.mu**2 - np.linalg.eigvalsh(model.k_phi)) / spec.sigma_h**2
    n, n_meas = spec.n_visible, len(cfg.train.measure_steps)
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w", libver=store.LIBVER) as f:
        store._create_layout(f, cfg, model, store._root_attributes(cfg, 1, False))
        store._write_tables(f, cfg)
        scale = np.sqrt((x_star[:, None] + x_star[None, :]) / 2)
        for p, (lr, bs) in enumerate(cfg.sweep.points):
            rows = slice(p * replicas, (p + 1) * replicas)
            spectra = np.empty((replicas, n_meas, n))
            W = rng.normal(scale=spec.init_std, size=(replicas, spec.n_hidden, n))
            spectra[:, 0] = np.linalg.eigvalsh(W.transpose(0, 2, 1) @ W)
            for m in range(1, n_meas):
                g = rng.normal(size=(replicas, n, n))
                dX = (g + g.transpose(0, 2, 1)) / np.sqrt(2) * scale * np.sqrt(lr / bs)
                spectra[:, m] = np.linalg.eigvalsh(np.diag(x_star) + dX)
            result = StackResult(
                spectra={"X": spectra},
                scalars={"loss": np.abs(rng.normal(size=(replicas, n_meas))) * lr / bs},
                diverged_step=np.full(replicas, -1, dtype=np.int64),
                diverged_reason=np.zeros(replicas, dtype=np.int8),
            )
            store._write_data(f, rows, result)  # the rows with their checksums, as a run writes them
            store._write_status(f, rows, result)
    return cfg


if __name__ == "__main__":
    make(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 7500)
