"""The GRBM family's configuration: `GRBMSpec` (with its derived quantities and size estimates)
and `parse` of `[model] kind = "grbm"` with its `[target]`.

The model, its options and the fixed point X* = (μ² − K_φ)/σ_h² are described in models/grbm.py;
the samplers in models/grbm_samplers.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tables import MAX_DIMENSION, MAX_SCALE, Table
from . import targets

#: samplers of the PCD chains (models/grbm_samplers.py)
SAMPLERS = ("gibbs", "marginal", "exact")
#: the default: same law as the literal "gibbs", 5–10× faster at the paper's sizes (docs/performance.md)
DEFAULT_SAMPLER = "marginal"


@dataclass(frozen=True)
class GRBMTarget:
    kind: str  # "lattice" | "spectrum"
    mass: float | None = None
    eigenvalues: tuple[float, ...] | None = None
    n_samples: int | None = None  # finite sample set, noise = "minibatch"


@dataclass(frozen=True)
class GRBMSpec:
    kind: str
    n_visible: int
    n_hidden: int
    mu: float
    sigma_h: float
    init_std: float
    gibbs_steps: int
    noise: str
    init: str
    target: GRBMTarget
    sampler: str | None = DEFAULT_SAMPLER  # PCD chain sampler; None unless noise = "pcd"

    # -- derived quantities ------------------------------------------------------
    def kernel(self) -> np.ndarray:
        """K_φ of the target."""
        if self.target.kind == "lattice":
            assert self.target.mass is not None
            return targets.lattice_kernel(self.n_visible, self.target.mass)
        assert self.target.eigenvalues is not None
        return targets.spectrum_kernel(np.array(self.target.eigenvalues))

    def kappa(self) -> np.ndarray:
        """Eigenvalues κ of K_φ, ascending."""
        if self.target.kind == "lattice":
            assert self.target.mass is not None
            return targets.lattice_eigenvalues(self.n_visible, self.target.mass)
        return np.sort(np.array(self.target.eigenvalues, dtype=float))

    def fixed_point(self) -> np.ndarray:
        """Predicted recorded spectrum at the fixed point, ascending.

        x*_k = (μ² − κ_k)/σ_h²; with N_h < N_v only the N_h smallest κ (largest x*)
        are learned (physics.md §2.4, UV cut-off).
        """
        x = (self.mu**2 - self.kappa()) / self.sigma_h**2
        return np.sort(x)[-min(self.n_visible, self.n_hidden) :]

    # -- size estimates (cost.py; no model is built) --------------------------------
    def flops_per_step(self, batch_size: int) -> float:
        """Nominal floating-point operations of one replica update (2mnk per matrix product,
        n³/3 per Cholesky, 2n³/3 per LU), as implemented; elementwise operations not counted."""
        s = self
        n, h, b, k = s.n_visible, s.n_hidden, batch_size, s.gibbs_steps
        update = 2.0 * h * n * n  # W @ (C_data − C_model)
        if s.noise == "none":
            return update + 2.0 * h * n * n + 2.0 * n**3  # X, K⁻¹ (LU-based inverse)
        if s.noise == "minibatch":
            return update + 2.0 * b * n * n + 2.0 * h * n * n + 2.0 * n**3
        cov = 2.0 * b * n * n  # Ĉ = φᵀφ
        if s.sampler == "gibbs":
            return update + cov + k * 2 * (2.0 * b * n * h)
        if s.sampler == "marginal":
            # X, A^2..A^k, S_k A^k, Cholesky, φA^k and zLᵀ
            return update + cov + 2.0 * h * n * n + k * 2.0 * n**3 + n**3 / 3 + 2 * 2.0 * b * n * n
        # exact: X, Cholesky of K, L_K zᵀ, LU solve
        return update + cov + 2.0 * h * n * n + n**3 / 3 + 2.0 * b * n * n + 2 * n**3 / 3 + 2.0 * b * n * n

    def values_per_measurement(self) -> int:
        """Numbers recorded per replica and measurement: the spectrum of X and the loss."""
        return min(self.n_visible, self.n_hidden) + 1

    def memory_terms(self, batch_size: int, replicas: int) -> list[tuple[str, str, int]]:
        """Upper bounds of the bytes a stack of `replicas` allocates at this batch size, as
        (config key = value, what, bytes): the weights with every N×N/N_h×N_v scratch array of
        the sampler, measurement and divergence check (≤ 24 N² + 8 N_h N_v per replica), the
        chains and their per-update draws (PCD) or minibatches, and the finite sample set with
        each replica's epoch order (noise = "minibatch"; shared by all replicas, int64 order)."""
        n, h, b, k = self.n_visible, self.n_hidden, batch_size, self.gibbs_steps
        big = ("n_visible", n) if n >= h else ("n_hidden", h)
        terms = [
            (
                f"[model] {big[0]} = {big[1]}",
                "weights and scratch matrices",
                8 * replicas * (24 * n * n + 8 * h * n),
            ),
        ]
        if self.noise == "pcd":
            draws = k * (h + n) if self.sampler == "gibbs" else n
            per = 10 * b * n + 3 * b * h + b * draws
            terms.append((f"[sweep] batch size {b}", "persistent chains and their draws", 8 * replicas * per))
        elif self.noise == "minibatch":
            d = self.target.n_samples or 0
            terms.append((f"[sweep] batch size {b}", "minibatches", 8 * replicas * 3 * b * n))
            terms.append(
                (
                    f"[target] n_samples = {d}",
                    "the sample set and the replicas' epoch orders",
                    8 * d * (2 * n + 2 * replicas),
                )
            )
        return terms

    def batch_size_problem(self, batch_size: int) -> str | None:
        """Why this family cannot train at `batch_size`, or None."""
        d = self.target.n_samples
        if self.noise == "minibatch" and d is not None and batch_size > d:
            return (
                f"exceeds [target] n_samples = {d}: a minibatch of |B| distinct samples is drawn from "
                "the sample set; raise n_samples or lower the batch size"
            )
        return None

    def to_tables(self) -> dict[str, dict[str, object]]:
        model = {
            "kind": self.kind,
            "n_visible": self.n_visible,
            "n_hidden": self.n_hidden,
            "mu": self.mu,
            "sigma_h": self.sigma_h,
            "init_std": self.init_std,
            "gibbs_steps": self.gibbs_steps,
            "noise": self.noise,
            "init": self.init,
        }
        if self.sampler is not None:
            model["sampler"] = self.sampler
        target = {k: v for k, v in vars(self.target).items() if v is not None}
        return {"model": model, "target": target}


def parse(model: Table, target: Table) -> GRBMSpec:
    """Read and validate `[model] kind = "grbm"` and its `[target]`."""
    n_visible = model.integer("n_visible", 10, minimum=1, maximum=MAX_DIMENSION)
    n_hidden = model.integer("n_hidden", 10, minimum=1, maximum=MAX_DIMENSION)
    mu = model.number("mu", 3.0, positive=True, magnitude=MAX_SCALE)
    sigma_h = model.number("sigma_h", 1.0, positive=True, magnitude=MAX_SCALE)
    init_std = model.number("init_std", 0.1, positive=True, magnitude=MAX_SCALE)
    gibbs_steps = model.integer("gibbs_steps", 3, minimum=1)
    noise = model.string("noise", "pcd", choices=("pcd", "minibatch", "none"))
    init = model.string("init", "random", choices=("random", "fixed_point"))
    sampler: str | None = None
    if noise == "pcd":
        sampler = model.string("sampler", DEFAULT_SAMPLER, choices=SAMPLERS)
    else:
        model.mark_read("sampler")
        if model.has("sampler"):
            raise model.error(
                "sampler",
                f'only used with noise = "pcd" (noise = "{noise}" has no persistent chains to sample); '
                "remove it",
            )

    kind = target.string("kind", "lattice", choices=("lattice", "spectrum"))
    target.mark_read("mass", "eigenvalues", "n_samples")
    mass = eigenvalues = None
    if kind == "lattice":
        mass = target.number("mass", 2.0, positive=True, magnitude=MAX_SCALE)
        kappa = targets.lattice_eigenvalues(n_visible, mass)
    else:
        eigenvalues = target.number_list("eigenvalues", magnitude=MAX_SCALE)
        target.check(
            "eigenvalues",
            len(eigenvalues) == n_visible,
            f"has {len(eigenvalues)} values but [model] n_visible = {n_visible}; "
            "give one eigenvalue of K_phi per visible unit",
        )
        target.check(
            "eigenvalues",
            min(eigenvalues) > 0,
            f"K_phi must be positive definite; smallest eigenvalue is {min(eigenvalues):g}",
        )
        kappa = np.array(eigenvalues)
    for key, owner in (("mass", "lattice"), ("eigenvalues", "spectrum")):
        if target.has(key) and kind != owner:
            raise target.error(key, f'only used with kind = "{owner}"; remove it')
    n_samples = None
    if noise == "minibatch":
        n_samples = target.integer("n_samples", 10000, minimum=2)
    elif target.has("n_samples"):
        raise target.error("n_samples", 'only used with [model] noise = "minibatch"; remove it')
    target.done()
    if init == "fixed_point" and n_hidden < n_visible:
        raise model.error(
            "init",
            f'"fixed_point" needs n_hidden >= n_visible (got {n_hidden} < {n_visible}); use "random"',
        )
    if float(np.max(kappa)) >= mu**2:
        raise model.error(
            "mu",
            f"mu^2 = {mu**2:g} must exceed the largest target eigenvalue {float(np.max(kappa)):g}: "
            "otherwise the GRBM fixed point X* = (mu^2 - K_phi)/sigma_h^2 does not exist; "
            "raise mu or lower the target",
        )
    return GRBMSpec(
        kind="grbm",
        n_visible=n_visible,
        n_hidden=n_hidden,
        mu=mu,
        sigma_h=sigma_h,
        init_std=init_std,
        gibbs_steps=gibbs_steps,
        noise=noise,
        init=init,
        target=GRBMTarget(kind=kind, mass=mass, eigenvalues=eigenvalues, n_samples=n_samples),
        sampler=sampler,
    )
