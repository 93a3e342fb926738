"""Gaussian restricted Boltzmann machine trained by SGD (physics.md §2, [ALP24]).

Energy E(φ,h) = μ²φ²/2 + h²/(2σ_h²) − φᵀWᵀh with W of shape (N_h, N_v), so
p(h|φ) = N(σ_h² Wφ, σ_h²), p(φ|h) = N(Wᵀh/μ², 1/μ²) and the marginal is
p(φ) ∝ exp(−φᵀKφ/2), K = μ² − σ_h² WᵀW.

Log-likelihood gradient (ascent):  ΔW = α σ_h² W (C_data − C_model).
- noise = "pcd": C_data = C_φ exactly; C_model from |B| persistent chains, each
  update running `gibbs_steps` sweeps (h|φ then φ|h) and averaging φφᵀ over the
  chains — the batch size *is* the number of chains.
- noise = "none": C_data = C_φ and C_model = K⁻¹ exactly: deterministic gradient
  flow, converging to the fixed point (a check of the dynamics, no fluctuations).
- noise = "minibatch": C_data from minibatches of |B| samples of a finite set of
  `n_samples` draws of N(0, C_φ) (shared by all replicas, reshuffled every epoch
  per replica); C_model = K⁻¹ exactly.

Fixed point: X* = WᵀW = (μ² − K_φ)/σ_h², which needs μ² > max κ.
init = "fixed_point" starts every replica at W* = diag(√x*) Oᵀ (O: eigenvectors of
K_φ, so W*ᵀW* = X*), to study the stationary fluctuations without the learning
transient; init = "random" (default, paper) draws W ~ N(0, init_std²).

Samplers of the PCD chains (`sampler`, noise = "pcd" only; docs/performance.md): "gibbs" (the
paper's literal k sweeps h|φ, φ|h), "marginal" (default: the same Markov chain on φ, its k
sweeps drawn as one Gaussian step φ' = A^k φ + L z) and "exact" (independent draws
φ ~ N(0, K⁻¹)). Their derivation is in models/grbm_samplers.py.

This module is the family's public face; the code is in
- models/grbm_spec.py: `GRBMSpec` (derived quantities, size estimates) and `parse`;
- models/grbm_samplers.py: `GRBMState` and the chain samplers (gibbs, marginal, exact);
- models/grbm_model.py: `GRBM`, the stacked model (init, step, measure, divergence, cost).
"""

from __future__ import annotations

from .grbm_model import GRBM, NORMAL_FLOPS, STEP_FLOPS
from .grbm_samplers import GRBMState
from .grbm_spec import DEFAULT_SAMPLER, SAMPLERS, GRBMSpec, GRBMTarget, parse

__all__ = [
    "DEFAULT_SAMPLER",
    "GRBM",
    "NORMAL_FLOPS",
    "SAMPLERS",
    "STEP_FLOPS",
    "GRBMSpec",
    "GRBMState",
    "GRBMTarget",
    "parse",
]
