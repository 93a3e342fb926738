"""Dyson Brownian motion measured: Kramers–Moyal drift and diffusion of recorded level trajectories.

The façade of the Dyson subsystem (every name below is importable from here, as before); the work
is done in one module per job, each with its physics and references in its docstring:

* :mod:`.dyson_processes` — exact simulators: β = 1 Dyson Brownian motion (Dyson 1962; optionally
  the matrix Ornstein–Uhlenbeck process), dλ_i = σ dB_i + (σ²/2) Σ_{j≠i} dt/(λ_i − λ_j); the
  Wishart (Bru 1991) process, dx_i = 2σ√x_i dB_i + σ²(n + Σ_{j≠i} (x_i + x_j)/(x_i − x_j)) dt;
  independent Brownian motions (the null model).
* :mod:`.sde_models` — :class:`SdeModel`, D1_i = Σ_m θ_m f_m(x)_i, D2_i = c·h(x)_i, and the Dyson,
  Wishart and Ornstein–Uhlenbeck models with their predicted coefficients.
* :mod:`.sde_fit` — :func:`fit_sde`, weighted least squares of the coefficients on increments,
  replica-jackknife errors, the gap cut and Richardson extrapolation against the finite-Δt bias.
* :mod:`.km_bins` — :func:`binned_moments`, D1(x) ≈ ⟨Δx | x⟩/τ and D2(x) ≈ ⟨Δx² | x⟩/τ binned in x.
* :mod:`.grbm_sde` — the GRBM's Dyson SDE for the eigenvalues of X = WᵀW under SGD
  (:func:`grbm_model`, :func:`fit_grbm_dyson`): predicted gradient g = 1, repulsion a = T,
  Itô term b = T, diffusion c = T (T = α/|B|), Dyson index β = a/c = 1.
* :mod:`.sde_increments` — the shared plumbing (increments, gap cut, sufficient statistics).
"""

from __future__ import annotations

from .dyson_processes import dyson_brownian_motion, independent_brownian_motions, wishart_process
from .grbm_sde import fit_grbm_dyson, grbm_model, grbm_relaxation_rates
from .km_bins import KramersMoyalBins, binned_moments
from .sde_fit import SdeFit, fit_sde
from .sde_models import SdeModel, dyson_model, linear_drift_model, wishart_model

__all__ = [
    "KramersMoyalBins",
    "SdeFit",
    "SdeModel",
    "binned_moments",
    "dyson_brownian_motion",
    "dyson_model",
    "fit_grbm_dyson",
    "fit_sde",
    "grbm_model",
    "grbm_relaxation_rates",
    "independent_brownian_motions",
    "linear_drift_model",
    "wishart_model",
    "wishart_process",
]
