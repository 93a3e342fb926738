"""Linear one-hidden-layer network f(x) = W₂W₁x trained by SGD (physics.md §3.2, [PFLA24]; reconstruction).

Shapes: W₁ (N_h × N_in), W₂ (N_out × N_h). Teacher W_t = U diag(s) Vᵀ (N_out × N_in) with the
singular values given as species `teacher_singular_values = [[value, multiplicity], ...]`
(r = Σ multiplicities ≤ min(N_in, N_out); the other singular values are zero) and Haar random
orthonormal U, V drawn once per sweep from the shared seed. Inputs x ~ N(0, 𝟙), labels
y = W_t x + η with label noise η ~ N(0, A_label 𝟙) (`label_noise` = A_label, a variance).
Loss ½‖y − W₂W₁x‖²; with M = W₂W₁Ĉ_xx − Ĉ_yx (minibatch moments) the gradients are
∂L/∂W₁ = W₂ᵀM and ∂L/∂W₂ = M W₁ᵀ.

Options:
- train = ["W1", "W2"] (default) or one of them. A frozen layer is fixed at its balanced-minimum
  factor (W₁ = [√Σ Vᵀ; 0], W₂ = [U √Σ, 0]) whatever `init`, so the teacher stays reachable.
- init = "small" (default): trained layers with entries N(0, init_std²); "balanced_minimum":
  W₁ = [√Σ Vᵀ; 0], W₂ = [U √Σ, 0] (needs N_h ≥ r), an exact minimum with W₁W₁ᵀ = W₂ᵀW₂.
- data = "online" (default): |B| fresh samples per step and replica (NOISE stream).
  data = "finite": a data set of data_per_batch·|B| samples (x and noisy y) drawn once per
  sweep and batch size from the shared seed spawned with (DATA_KEY, |B|), shared by all
  replicas; order = "shuffled" (default, a new permutation every epoch from the replica's
  ORDER stream) or "fixed" (minibatches in data-set order, as the teacher–student model).
  With order = "fixed", no gradient noise and a shared data set, all replicas follow the same
  orbit up to their initial condition (and the marginal balance direction).
- gradient_noise = ε ≥ 0: induced noise of strength A = ε² added to the gradient of each
  trained layer, independently per layer: GOE-shaped (Var diag 2ε², off-diagonal ε²) for a
  square layer, i.i.d. entries of variance ε² for a rectangular one, averaged over the batch
  (variance / |B|). gradient_noise_kind = "annealed" (fresh each step) or "quenched" (one
  frozen matrix per data point and replica, needs data = "finite" with order = "fixed"; stored
  as the frozen batch means, exactly equal in law, drawn from the ORDER stream at init).
  Independent noise on the two layers drives the marginal balance direction (see below): the
  imbalance then diffuses without bound.

Recorded spectra (eigenvalues ascending; the smaller Gram matrix of each layer, named after
the one actually used): "W1tW1" (N_in ≤ N_h) or "W1W1t"; "W2W2t" (N_out ≤ N_h) or "W2tW2";
"W2W1_sv" the min(N_in, N_out) singular values of the end-to-end map. Scalars: "loss" (online:
the population loss ½‖W₂W₁ − W_t‖²_F + ½ N_out A_label; finite: the mean of ½‖y − W₂W₁x‖² over
the data set) and "imbalance" ‖W₁W₁ᵀ − W₂ᵀW₂‖_F (conserved by gradient flow: a marginal
direction, physics.md §3.2).

Divergence (/tasks/diverged_reason): NON_FINITE for inf/NaN weights, OUTSIDE_REGION for a weight
entry larger in magnitude than DIVERGENCE_FACTOR · (1 + √max s).

This module is the family's public face; the code is in
- models/linear_spec.py: `LinearSpec` (teacher species, size estimates) and `parse`;
- models/linear_model.py: `LinearNet`, the stacked model (teacher, data sets, init, step with
  gradient noise, measure, divergence).
"""

from __future__ import annotations

from .linear_model import DATA_KEY, DIVERGENCE_FACTOR, TEACHER_KEY, LinearData, LinearNet, LinearState
from .linear_spec import LAYERS, LinearSpec, parse

__all__ = [
    "DATA_KEY",
    "DIVERGENCE_FACTOR",
    "LAYERS",
    "TEACHER_KEY",
    "LinearData",
    "LinearNet",
    "LinearSpec",
    "LinearState",
    "parse",
]
