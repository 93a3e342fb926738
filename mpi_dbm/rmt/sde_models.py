"""Linear-in-coefficients SDE models of level dynamics: D1_i = Σ_m θ_m f_m(x)_i, D2_i = c·h(x)_i.

:class:`SdeModel` supplies the drift basis f and the diffusion shape h that :func:`~.sde_fit.fit_sde`
regresses on and :func:`~.km_bins.binned_moments` compares with; the models here are those of the
exact simulators in :mod:`.dyson_processes` — Dyson (β = 2a/c, optional matrix-OU confinement),
Wishart/Bru (β = 4a/c, hard edge x ≥ 0) and independent Ornstein–Uhlenbeck levels (no repulsion).
The GRBM model is in :mod:`.grbm_sde`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ._base import freeze

__all__ = ["SdeModel", "dyson_model", "linear_drift_model", "wishart_model"]

Basis = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class SdeModel:
    """A linear-in-coefficients SDE for L levels: D1_i = Σ_m θ_m f_m(x)_i, D2_i = c·h(x)_i.

    ``drift_basis`` maps x (N, L) to f (N, L, P); ``diffusion_shape`` maps x (N, L) to h > 0
    (N, L). ``predicted`` holds theory values of the coefficients (names from ``drift_names``,
    ``"diffusion"`` for c and ``"beta"``), ``beta_factor`` the ratio β = factor·θ_repulsion/c of
    the model's normalisation (needs a drift term named ``"repulsion"``), ``lower_bound`` a hard
    edge of the levels (x ≥ 0 for a Gram matrix) treated like a neighbour by the gap cut.
    """

    name: str
    drift_names: tuple[str, ...]
    drift_basis: Basis
    diffusion_shape: Basis
    predicted: Mapping[str, float] = field(default_factory=freeze)
    beta_factor: float | None = None
    lower_bound: float | None = None
    description: str = ""

    def drift(self, x: np.ndarray, coefficients: Mapping[str, float]) -> np.ndarray:
        """D1(x) for the given drift coefficients, shape of x."""
        theta = np.array([coefficients[name] for name in self.drift_names])
        return np.asarray(self.drift_basis(np.asarray(x, dtype=float)) @ theta)

    def diffusion(self, x: np.ndarray, coefficients: Mapping[str, float]) -> np.ndarray:
        """D2(x) = c·h(x), shape of x."""
        return coefficients["diffusion"] * self.diffusion_shape(np.asarray(x, dtype=float))


def _differences(x: np.ndarray) -> np.ndarray:
    """x_i − x_j (..., L, L) with the diagonal replaced by inf, so that Σ_j g/(x_i − x_j) skips j = i."""
    d = x[..., :, None] - x[..., None, :]
    return np.where(np.eye(x.shape[-1], dtype=bool), np.inf, d)


def dyson_model(sigma: float | None = None, *, rate: float | None = None, centre: float = 0.0) -> SdeModel:
    """Dyson model: D1_i = a Σ_{j≠i} 1/(x_i − x_j) + b [− γ (x_i − centre)], D2 = c; β = 2a/c.

    ``rate``: include the linear confinement term ("rate", coefficient γ) of the matrix
    Ornstein–Uhlenbeck process. With ``sigma`` (and ``rate``) the predictions of
    :func:`~.dyson_processes.dyson_brownian_motion` are attached: a = σ²/2, b = 0, c = σ², β = 1 (and γ).
    """
    confined = rate is not None

    def basis(x: np.ndarray) -> np.ndarray:
        d = _differences(x)
        terms = [np.sum(1.0 / d, axis=-1), np.ones_like(x)]
        if confined:
            terms.append(centre - x)
        return np.stack(terms, axis=-1)

    predicted: dict[str, float] = {}
    if sigma is not None:
        predicted = {"repulsion": sigma**2 / 2, "constant": 0.0, "diffusion": sigma**2, "beta": 1.0}
    if rate is not None:
        predicted["rate"] = float(rate)
    return SdeModel(
        name="dyson" + ("-ou" if confined else ""),
        drift_names=("repulsion", "constant", *(("rate",) if confined else ())),
        drift_basis=basis,
        diffusion_shape=np.ones_like,
        predicted=freeze(predicted),
        beta_factor=2.0,
        description="D1_i = a Σ 1/(x_i − x_j) + b" + (" − γ(x_i − centre)" if confined else "") + ", D2 = c",
    )


def _wishart_basis(x: np.ndarray) -> np.ndarray:
    d = _differences(x)
    s = x[..., :, None] + x[..., None, :]
    return np.stack([np.sum(s / d, axis=-1), np.ones_like(x)], axis=-1)


def wishart_model(sigma: float | None = None, n: int | None = None) -> SdeModel:
    """Wishart/Bru model: D1_i = a Σ_{j≠i} (x_i + x_j)/(x_i − x_j) + b, D2 = c·x; β = 4a/c.

    With ``sigma`` and ``n`` (rows of W) the predictions a = σ², b = nσ², c = 4σ², β = 1 are
    attached (Bru 1991). The levels have the hard edge x ≥ 0.
    """
    predicted: dict[str, float] = {}
    if sigma is not None:
        predicted = {"repulsion": sigma**2, "diffusion": 4 * sigma**2, "beta": 1.0}
        if n is not None:
            predicted["constant"] = n * sigma**2
    return SdeModel(
        name="wishart",
        drift_names=("repulsion", "constant"),
        drift_basis=_wishart_basis,
        diffusion_shape=lambda x: np.asarray(x, dtype=float).copy(),
        predicted=freeze(predicted),
        beta_factor=4.0,
        lower_bound=0.0,
        description="D1_i = a Σ (x_i + x_j)/(x_i − x_j) + b, D2 = c x (Bru 1991)",
    )


def linear_drift_model(centre: float = 0.0) -> SdeModel:
    """Independent Ornstein–Uhlenbeck levels: D1 = −γ (x − centre) + b, D2 = c (names "rate", "constant").

    No repulsion term: for checking the finite-Δt bias, ⟨Δx|x⟩/τ = −(x − x̄)(1 − e^{−γτ})/τ exactly.
    """
    return SdeModel(
        name="ornstein-uhlenbeck",
        drift_names=("rate", "constant"),
        drift_basis=lambda x: np.stack([centre - x, np.ones_like(x)], axis=-1),
        diffusion_shape=np.ones_like,
        description="D1 = −γ(x − centre) + b, D2 = c",
    )
