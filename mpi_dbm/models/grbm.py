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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..streams import ReplicaStreams
from ..tables import Table
from . import targets
from .base import NON_FINITE, OUTSIDE_REGION, STABLE, Measurement, Model, SpectrumInfo


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
        target = {k: v for k, v in vars(self.target).items() if v is not None}
        return {"model": model, "target": target}


def parse(model: Table, target: Table) -> GRBMSpec:
    """Read and validate `[model] kind = "grbm"` and its `[target]`."""
    n_visible = model.integer("n_visible", 10, minimum=1)
    n_hidden = model.integer("n_hidden", 10, minimum=1)
    mu = model.number("mu", 3.0, positive=True)
    sigma_h = model.number("sigma_h", 1.0, positive=True)
    init_std = model.number("init_std", 0.1, positive=True)
    gibbs_steps = model.integer("gibbs_steps", 3, minimum=1)
    noise = model.string("noise", "pcd", choices=("pcd", "minibatch", "none"))
    init = model.string("init", "random", choices=("random", "fixed_point"))

    kind = target.string("kind", "lattice", choices=("lattice", "spectrum"))
    target.mark_read("mass", "eigenvalues", "n_samples")
    mass = eigenvalues = None
    if kind == "lattice":
        mass = target.number("mass", 2.0, positive=True)
        kappa = targets.lattice_eigenvalues(n_visible, mass)
    else:
        eigenvalues = target.number_list("eigenvalues")
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
    )


@dataclass
class GRBMState:
    W: np.ndarray  # (R, N_h, N_v)
    chains: np.ndarray | None  # (R, |B|, N_v) persistent chains (pcd)
    epoch_order: np.ndarray | None  # (R, D) sample order of the current epoch (minibatch)
    cursor: int  # position in the epoch (minibatch)


class GRBM(Model):
    """Vectorised over a stack of replicas; see the module docstring for the algorithm."""

    def __init__(self, spec: GRBMSpec, shared_seed: np.random.SeedSequence) -> None:
        self.spec = spec
        self.k_phi = spec.kernel()
        self.c_phi = np.linalg.inv(self.k_phi)
        self._samples: np.ndarray | None = None
        if spec.noise == "minibatch":
            assert spec.target.n_samples is not None
            rng = np.random.default_rng(shared_seed)
            chol = np.linalg.cholesky(self.c_phi)
            self._samples = rng.standard_normal((spec.target.n_samples, spec.n_visible)) @ chol.T

    @property
    def spectra(self) -> tuple[SpectrumInfo, ...]:
        n = min(self.spec.n_visible, self.spec.n_hidden)
        gram = "W^T W" if self.spec.n_hidden >= self.spec.n_visible else "W W^T"
        return (SpectrumInfo("X", n, f"eigenvalues of X = {gram} (the smaller Gram matrix), ascending"),)

    def work_per_step(self, batch_size: int) -> float:
        s = self.spec
        if s.noise == "pcd":
            return float(batch_size * s.gibbs_steps * 2 * s.n_visible * s.n_hidden + s.n_visible**3)
        if s.noise == "none":
            return float(2 * s.n_visible**3)
        return float(batch_size * s.n_visible**2 + 2 * s.n_visible**3)

    # -- state -------------------------------------------------------------------
    def init(self, streams: ReplicaStreams, batch_size: int) -> GRBMState:
        s = self.spec
        if s.init == "fixed_point":
            W = np.broadcast_to(self.fixed_point_weights(), (len(streams), s.n_hidden, s.n_visible)).copy()
        else:
            W = np.stack([g.standard_normal((s.n_hidden, s.n_visible)) for g in streams.init]) * s.init_std
        chains = None
        order = None
        if s.noise == "pcd":
            chains = np.ones((len(streams), batch_size, s.n_visible))  # paper: chains start at φ ≡ 1
        elif s.noise == "minibatch":
            assert self._samples is not None
            if batch_size > len(self._samples):
                raise ValueError(f"batch size {batch_size} exceeds n_samples = {len(self._samples)}")
            order = self._shuffle(streams)
        return GRBMState(W=W, chains=chains, epoch_order=order, cursor=0)

    def _shuffle(self, streams: ReplicaStreams) -> np.ndarray:
        assert self._samples is not None
        n = len(self._samples)
        return np.stack([g.permutation(n) for g in streams.order])

    def fixed_point_weights(self) -> np.ndarray:
        """W* (N_h × N_v) with W*ᵀW* = X* = (μ² − K_φ)/σ_h², hidden basis = first N_v units."""
        s = self.spec
        kappa, vecs = np.linalg.eigh(self.k_phi)
        x_star = (s.mu**2 - kappa) / s.sigma_h**2
        W = np.zeros((s.n_hidden, s.n_visible))
        W[: s.n_visible] = np.sqrt(x_star)[:, None] * vecs.T
        return W

    def exact_gradient(self, W: np.ndarray) -> np.ndarray:
        """∂/∂W of the mean log-likelihood: σ_h² W (C_φ − K⁻¹), for a stack (R, N_h, N_v)."""
        return self.spec.sigma_h**2 * (W @ (self.c_phi - self._model_covariance(W)))

    # -- dynamics ----------------------------------------------------------------
    def step(self, state: GRBMState, learning_rate: float, batch_size: int, streams: ReplicaStreams) -> None:
        s = self.spec
        W = state.W
        if s.noise == "none":
            W += learning_rate * self.exact_gradient(W)
            return
        if s.noise == "pcd":
            c_data = self.c_phi
            c_model = self._pcd_covariance(state, streams)
        else:
            c_data = self._minibatch_covariance(state, batch_size, streams)
            c_model = self._model_covariance(W)
        W += (learning_rate * s.sigma_h**2) * (W @ (c_data - c_model))

    def _pcd_covariance(self, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
        """k Gibbs sweeps of every persistent chain; returns Ĉ = (1/|B|) Σ_b φ_b φ_bᵀ."""
        s = self.spec
        W = state.W
        phi = state.chains
        assert phi is not None
        _n_rep, n_chains, n_v = phi.shape
        Wt = W.transpose(0, 2, 1)
        sh2 = s.sigma_h**2
        inv_mu2 = 1.0 / s.mu**2
        inv_mu = 1.0 / s.mu
        for _ in range(s.gibbs_steps):
            h = phi @ Wt
            h *= sh2
            h += s.sigma_h * streams.normal((n_chains, s.n_hidden))
            phi = h @ W
            phi *= inv_mu2
            phi += inv_mu * streams.normal((n_chains, n_v))
        state.chains = phi
        return (phi.transpose(0, 2, 1) @ phi) / n_chains

    def _minibatch_covariance(self, state: GRBMState, batch_size: int, streams: ReplicaStreams) -> np.ndarray:
        assert self._samples is not None and state.epoch_order is not None
        if state.cursor + batch_size > self._samples.shape[0]:  # new epoch, drop the remainder
            state.epoch_order = self._shuffle(streams)
            state.cursor = 0
        idx = state.epoch_order[:, state.cursor : state.cursor + batch_size]
        state.cursor += batch_size
        x = self._samples[idx]  # (R, |B|, N_v)
        return (x.transpose(0, 2, 1) @ x) / batch_size

    def _kernel(self, W: np.ndarray) -> np.ndarray:
        """K = μ² − σ_h² WᵀW for every replica."""
        K = W.transpose(0, 2, 1) @ W
        K *= -(self.spec.sigma_h**2)
        K += self.spec.mu**2 * np.eye(self.spec.n_visible)
        return K

    def _model_covariance(self, W: np.ndarray) -> np.ndarray:
        return np.linalg.inv(self._kernel(W))

    # -- observation ---------------------------------------------------------------
    def gram(self, W: np.ndarray) -> np.ndarray:
        """The smaller Gram matrix of every replica."""
        if self.spec.n_hidden >= self.spec.n_visible:
            return W.transpose(0, 2, 1) @ W
        return W @ W.transpose(0, 2, 1)

    def measure(self, state: GRBMState) -> Measurement:
        x = np.linalg.eigvalsh(self.gram(state.W))
        return Measurement(spectra={"X": x}, scalars={"loss": self.kl_divergence(state.W)})

    def kl_divergence(self, W: np.ndarray) -> np.ndarray:
        """KL(p_data ‖ p_model) = ½[tr(K C_φ) − N − log det(K C_φ)]; ∞ where K is not positive definite.

        This is the exact negative log-likelihood per sample minus the data entropy, zero
        at the fixed point.
        """
        K = self._kernel(W)
        sign, logdet = np.linalg.slogdet(K @ self.c_phi)
        trace = np.einsum("rij,ji->r", K, self.c_phi)
        kl = 0.5 * (trace - self.spec.n_visible - logdet)
        return np.where(sign > 0, kl, np.inf)

    def unstable(self, state: GRBMState) -> np.ndarray:
        """NON_FINITE for inf/NaN in W or the chains; OUTSIDE_REGION where σ_h² x_max ≥ μ² (K not > 0)."""
        W = state.W
        bad = ~np.isfinite(W).all(axis=(1, 2))
        if state.chains is not None:
            bad |= ~np.isfinite(state.chains).all(axis=(1, 2))
        code = np.where(bad, NON_FINITE, STABLE).astype(np.int8)
        ok = ~bad
        if ok.any():
            x_max = np.linalg.eigvalsh(self.gram(W[ok]))[:, -1]
            code[ok] = np.where(self.spec.sigma_h**2 * x_max >= self.spec.mu**2, OUTSIDE_REGION, STABLE)
        return code

    def park(self, state: GRBMState, mask: np.ndarray) -> None:
        state.W[mask] = 0.0
        if state.chains is not None:
            state.chains[mask] = 0.0
