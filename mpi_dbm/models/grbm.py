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

Samplers of the PCD chains (`sampler`, noise = "pcd" only; docs/performance.md):
- "gibbs": the paper's literal algorithm. Per update and chain, `gibbs_steps` = k sweeps
  h ~ p(h|φ), φ ~ p(φ|h): (N_h + N_v)·k normals. The same draws and operations as the
  implementation before samplers existed (bitwise with OpenBLAS).
- "marginal" (default): the same Markov chain on φ, drawn in one step. One sweep is
  φ' = Wᵀh/μ² + ξ/μ with h = σ_h²Wφ + σ_h ζ (ζ, ξ standard normal), i.e.

      φ' = A φ + η,   A = σ_h² X/μ²  (X = WᵀW, symmetric),
      η = (σ_h/μ²) Wᵀζ + ξ/μ ~ N(0, Q),   Q = σ_h² X/μ⁴ + 1/μ² = (1 + A)/μ².

  k sweeps give φ_k = A^k φ_0 + Σ_{j<k} A^(k−1−j) η_j, a Gaussian with mean A^k φ_0 and
  covariance Σ_k = Σ_{j<k} A^j Q A^j. Q commutes with A, so

      Σ_k = μ⁻² Σ_{m<2k} A^m = μ⁻² S_k (1 + A^k),   S_k = Σ_{m<k} A^m,

  and φ' = A^k φ + L z with L Lᵀ = Σ_k (Cholesky) and z ~ N(0, 1_{N_v}): N_v normals
  per chain and update instead of (N_h + N_v)·k. Since h is redrawn from φ at every
  sweep, the φ-chain of the Gibbs sampler is itself Markov with exactly this kernel:
  the chains, Ĉ and every W trajectory have the same law as with "gibbs" (only the
  random numbers differ). Stationarity: A^k K⁻¹ A^k + Σ_k = K⁻¹ with K⁻¹ = μ⁻²(1 − A)⁻¹
  = (μ² − σ_h²X)⁻¹ (k → ∞ in Σ_k gives the same), so the chains sample the model.
- "exact": independent draws φ ~ N(0, K⁻¹) at every update (no persistence, no chain
  autocorrelation): φᵀ = K⁻¹ L_K z with K = L_K L_Kᵀ. Where K is not positive definite
  the replica is outside the stability region and is flagged so at the next check.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..streams import ReplicaStreams
from ..tables import MAX_DIMENSION, MAX_SCALE, Table
from . import targets
from .base import NON_FINITE, OUTSIDE_REGION, STABLE, Measurement, Model, SpectrumInfo

#: samplers of the PCD chains (module docstring)
SAMPLERS = ("gibbs", "marginal", "exact")
#: the default: same law as the literal "gibbs", 5–10× faster at the paper's sizes (docs/performance.md)
DEFAULT_SAMPLER = "marginal"

# Cost model of one replica-step in flop-equivalents (scheduling only). Checked against measured
# times per update at |B| = 4…128 (docs/performance.md): the fixed part is worth ~1 chain for
# "gibbs" (model: 2) and ~13 chains for "marginal" (model: 19); t5_scheduling.py measures the plans.
#: one standard normal from numpy's Generator costs about as much as this many small-matrix flops
NORMAL_FLOPS = 60.0
#: fixed cost of one update of one replica in a stack (numpy calls, small LAPACK calls)
STEP_FLOPS = {"gibbs": 8000.0, "marginal": 12000.0, "exact": 25000.0, "none": 20000.0, "minibatch": 8000.0}


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


@dataclass
class GRBMState:
    W: np.ndarray  # (R, N_h, N_v)
    chains: np.ndarray | None  # (R, |B|, N_v) persistent chains (pcd)
    epoch_order: np.ndarray | None  # (R, D) sample order of the current epoch (minibatch)
    cursor: int  # position in the epoch (minibatch)
    outside: np.ndarray | None = None  # (R,) bool: K not positive definite at the last draw ("exact")
    work: dict[str, np.ndarray] = field(default_factory=dict)  # preallocated scratch arrays

    def buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """A scratch array of `shape`, allocated on first use and reused by every step."""
        buf = self.work.get(name)
        if buf is None or buf.shape != shape:
            buf = self.work[name] = np.empty(shape)
        return buf

    @property
    def nbytes(self) -> int:
        """Bytes held by the state (weights, chains, scratch)."""
        arrays = [self.W, self.chains, self.epoch_order, *self.work.values()]
        return int(sum(a.nbytes for a in arrays if a is not None and a.base is None))


def _cholesky(M: np.ndarray, upper: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Cholesky factors of a stack (lower L Lᵀ = M, or upper UᵀU = M); (factor, failed) with
    failed = None when all succeeded.

    A failing matrix is retried alone (the others' factors are the same bits as in any other
    stack) and its factor is NaN.
    """
    try:
        return np.linalg.cholesky(M, upper=upper), None
    except np.linalg.LinAlgError:
        L = np.full_like(M, np.nan)
        failed = np.zeros(len(M), dtype=bool)
        for r, m in enumerate(M):
            try:
                L[r] = np.linalg.cholesky(m, upper=upper)
            except np.linalg.LinAlgError:
                failed[r] = True
        return L, failed


@functools.cache
def _l2_cache_bytes() -> int:
    """Size of this machine's per-core L2 cache (Linux sysfs), 1 MiB if unknown."""
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    try:
        for index in sorted(base.glob("index*")):
            if (index / "level").read_text().strip() == "2":
                text = (index / "size").read_text().strip().upper()
                scale = {"K": 1 << 10, "M": 1 << 20}.get(text[-1:], 1)
                return int(text.rstrip("KM")) * scale
    except (OSError, ValueError):
        pass
    return 1 << 20


def _transposed(state: GRBMState, name: str, M: np.ndarray) -> np.ndarray:
    """A contiguous copy of the stack of transposes of M, in the scratch buffer `name`."""
    out = state.buffer(name, (M.shape[0], M.shape[2], M.shape[1]))
    np.copyto(out, M.transpose(0, 2, 1))
    return out


class GRBM(Model):
    """Vectorised over a stack of replicas; see the module docstring for the algorithm."""

    spec: GRBMSpec

    def __init__(self, spec: GRBMSpec, shared_seed: np.random.SeedSequence) -> None:
        self.spec = spec
        self.k_phi = spec.kernel()
        self.c_phi = np.linalg.inv(self.k_phi)
        self._eye = np.eye(spec.n_visible)
        self._samples: np.ndarray | None = None
        if spec.noise == "minibatch":
            assert spec.target.n_samples is not None
            rng = np.random.default_rng(shared_seed)
            chol = np.linalg.cholesky(self.c_phi)
            self._samples = rng.standard_normal((spec.target.n_samples, spec.n_visible)) @ chol.T

    @property
    def sampler(self) -> str | None:
        return self.spec.sampler if self.spec.noise == "pcd" else None

    @property
    def spectra(self) -> tuple[SpectrumInfo, ...]:
        n = min(self.spec.n_visible, self.spec.n_hidden)
        gram = "W^T W" if self.spec.n_hidden >= self.spec.n_visible else "W W^T"
        return (SpectrumInfo("X", n, f"eigenvalues of X = {gram} (the smaller Gram matrix), ascending"),)

    # -- cost ----------------------------------------------------------------------
    def normals_per_step(self, batch_size: int) -> int:
        """Standard normals one replica draws per update."""
        s = self.spec
        if s.noise != "pcd":
            return 0
        if s.sampler == "gibbs":
            return batch_size * s.gibbs_steps * (s.n_hidden + s.n_visible)
        return batch_size * s.n_visible

    def flops_per_step(self, batch_size: int) -> float:
        """Nominal floating-point operations of one replica update (GRBMSpec.flops_per_step)."""
        return self.spec.flops_per_step(batch_size)

    def work_per_step(self, batch_size: int) -> float:
        """Cost of one update of one replica in flop-equivalents: flops + normals + a fixed part
        (only ratios matter: they order and balance the work units)."""
        key = self.sampler or self.spec.noise
        return (
            self.flops_per_step(batch_size)
            + NORMAL_FLOPS * self.normals_per_step(batch_size)
            + STEP_FLOPS[key]
        )

    def preferred_stack(self, batch_size: int) -> int:
        """Replicas to train together: as many as keep the stack's working set (chains, hidden
        units, N×N scratch matrices) within 4× the L2 cache, between 8 and 256. More replicas
        share each numpy call's fixed cost; past that size cache misses cost more (measured:
        marginal, |B| = 16: 256 best, 64 5–10% slower; |B| = 256: 32 best, 256 ~30% slower)."""
        s = self.spec
        n, h, b = s.n_visible, s.n_hidden, batch_size
        per_replica = 8 * (4 * b * n + 2 * b * h + 3 * h * n + 10 * n * n)
        return int(min(256, max(8, 4 * _l2_cache_bytes() // per_replica)))

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
        outside = np.zeros(len(streams), dtype=bool) if self.sampler == "exact" else None
        return GRBMState(W=W, chains=chains, epoch_order=order, cursor=0, outside=outside)

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
        grad: np.ndarray = self.spec.sigma_h**2 * (W @ (self.c_phi - self._model_covariance(W)))
        return grad

    # -- dynamics ----------------------------------------------------------------
    def step(self, state: GRBMState, learning_rate: float, batch_size: int, streams: ReplicaStreams) -> None:
        s = self.spec
        W = state.W
        if s.noise == "none":
            W += learning_rate * self.exact_gradient(W)
            return
        if s.noise == "minibatch":
            c_data = self._minibatch_covariance(state, batch_size, streams)
            c_model = self._model_covariance(W)
            W += (learning_rate * s.sigma_h**2) * (W @ (c_data - c_model))
            return
        # pcd: W += α σ_h² W (C_φ − Ĉ), Ĉ = φᵀφ/|B|, in preallocated buffers
        phi = self._sample_chains(state, streams)
        n_rep, n_chains, n_v = phi.shape
        C = state.buffer("C", (n_rep, n_v, n_v))
        G = state.buffer("G", W.shape)
        eta = learning_rate * s.sigma_h**2
        if s.sampler == "gibbs":  # the operations of the original code: "gibbs" keeps its bits
            np.matmul(phi.transpose(0, 2, 1), phi, out=C)  # numpy's syrk path
            np.divide(C, n_chains, out=C)
            np.subtract(self.c_phi, C, out=C)
            np.matmul(W, C, out=G)
            G *= eta
        else:  # a transposed copy and a plain gemm (~2× faster than syrk here); α folded into C
            np.matmul(_transposed(state, "phiT", phi), phi, out=C)
            C *= -eta / n_chains
            C += self._scaled_c_phi(eta)
            np.matmul(W, C, out=G)
        W += G

    def _scaled_c_phi(self, eta: float) -> np.ndarray:
        """η C_φ, cached for the last η (the learning rate is fixed within a stack)."""
        cached = getattr(self, "_eta_c_phi", None)
        if cached is None or cached[0] != eta:
            cached = self._eta_c_phi = (eta, eta * self.c_phi)
        return cached[1]

    def _pcd_covariance(self, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
        """Advance every persistent chain by one update; returns Ĉ = (1/|B|) Σ_b φ_b φ_bᵀ (a new array)."""
        phi = self._sample_chains(state, streams)
        cov: np.ndarray = (phi.transpose(0, 2, 1) @ phi) / phi.shape[1]
        return cov

    def _sample_chains(self, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
        """One update of the chains with the configured sampler, in place; returns them."""
        if self.spec.sampler == "gibbs":
            return self._gibbs(state, streams)
        if self.spec.sampler == "exact":
            return self._exact(state, streams)
        return self._marginal(state, streams)

    def _gibbs(self, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
        """k sweeps h ~ N(σ_h²Wφ, σ_h²), φ ~ N(Wᵀh/μ², 1/μ²) of every chain (the paper's sampler).

        The draws are taken in the order (h of all chains, φ of all chains) per sweep, as one
        slice of the stream; scaling by σ_h = 1 is skipped (multiplying by 1.0 is exact).
        """
        s = self.spec
        W = state.W
        phi = state.chains
        assert phi is not None
        n_rep, n_chains, n_v = phi.shape
        n_h, k = s.n_hidden, s.gibbs_steps
        sh2 = s.sigma_h**2
        inv_mu2 = 1.0 / s.mu**2
        z = streams.normal((k, n_chains * (n_h + n_v)))
        z_h = z[:, :, : n_chains * n_h].reshape(n_rep, k, n_chains, n_h)
        z_phi = z[:, :, n_chains * n_h :].reshape(n_rep, k, n_chains, n_v)
        if s.sigma_h != 1.0:
            z_h *= s.sigma_h
        z_phi *= 1.0 / s.mu
        # small W: a transposed copy makes the products NN gemms (faster than NT at N ~ 10, the
        # same bits with OpenBLAS); large W: the transposed view (the copy would cost more)
        Wt = _transposed(state, "Wt", W) if n_v * n_h <= 4096 else W.transpose(0, 2, 1)
        h = state.buffer("h", (n_rep, n_chains, n_h))
        for j in range(k):
            np.matmul(phi, Wt, out=h)
            if sh2 != 1.0:
                h *= sh2
            h += z_h[:, j]
            np.matmul(h, W, out=phi)
            phi *= inv_mu2
            phi += z_phi[:, j]
        return phi

    def transition(
        self, W: np.ndarray, state: GRBMState | None = None, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(A^k, U) of the k-sweep chain on φ at weights W (R, N_h, N_v), for row vectors:
        φ' = φ A^k + z U with UᵀU = Σ_k = μ⁻² S_k (1 + A^k) (module docstring; A is symmetric).
        Non-finite W gives NaN in U. The arrays are scratch buffers of `state`, or the two
        halves out[:, :N_v] = A^k, out[:, N_v:] = U of `out` (R, 2N_v, N_v)."""
        s = self.spec
        if state is None:
            state = GRBMState(W=W, chains=None, epoch_order=None, cursor=0)
        n_rep, _, n_v = W.shape
        shape = (n_rep, n_v, n_v)
        if out is None:
            out = state.buffer("transition", (n_rep, 2 * n_v, n_v))
        A, S, T = (state.buffer(name, shape) for name in ("A", "S", "T"))
        Wt = state.buffer("Wt_scaled", (n_rep, n_v, W.shape[1]))
        np.multiply(W.transpose(0, 2, 1), s.sigma_h**2 / s.mu**2, out=Wt)
        np.matmul(Wt, W, out=A)  # A = σ_h² WᵀW / μ²
        k = s.gibbs_steps
        Ak = out[:, :n_v]
        eye = state.work.get("eye")
        if eye is None or eye.shape != shape:
            eye = state.work["eye"] = np.broadcast_to(self._eye, shape).copy()
        if k == 1:
            np.copyto(S, eye)
            np.copyto(Ak, A)
        else:
            np.add(eye, A, out=S)
        P = A
        powers = (state.buffer("P1", shape), state.buffer("P2", shape))
        for m in range(2, k + 1):  # P = A^m; S = 1 + A + … + A^(k−1)
            dest = Ak if m == k else powers[m % 2]
            np.matmul(P, A, out=dest)
            P = dest
            if m < k:
                S += P
        np.matmul(S, Ak, out=T)
        T += S  # μ² Σ_k = S_k (1 + A^k)
        U, failed = _cholesky(T, upper=True)
        if failed is not None:  # far outside the stability region, or non-finite W
            for r in np.flatnonzero(failed & np.isfinite(T).all(axis=(1, 2))):
                w, V = np.linalg.eigh(T[r])
                U[r] = (V * np.sqrt(np.clip(w, 0.0, None))).T
        np.multiply(U, 1.0 / s.mu, out=out[:, n_v:])
        return Ak, out[:, n_v:]

    def _marginal(self, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
        """φ' = φ A^k + z U: the k-sweep Gibbs kernel drawn at once (N_v normals per chain)."""
        phi = state.chains
        assert phi is not None
        Ak, U = self.transition(state.W, state)
        mean = state.buffer("mean", phi.shape)
        np.matmul(phi, Ak, out=mean)
        np.matmul(streams.normal(phi.shape[1:]), U, out=phi)
        phi += mean
        return phi

    def _exact(self, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
        """Fresh independent draws φ ~ N(0, K⁻¹): φᵀ = K⁻¹ L_K zᵀ (covariance K⁻¹ L_K L_Kᵀ K⁻¹ = K⁻¹)."""
        phi = state.chains
        assert phi is not None and state.outside is not None
        K = self._kernel(state.W)
        L, failed = _cholesky(K)
        z = streams.normal(phi.shape[1:])
        Y = L @ z.transpose(0, 2, 1)  # (R, N_v, |B|)
        if failed is not None:
            state.outside |= failed & np.isfinite(state.W).all(axis=(1, 2))
            K[failed] = np.eye(K.shape[-1])
            Y[failed] = np.nan
        phi[...] = np.linalg.solve(K, Y).transpose(0, 2, 1)
        return phi

    def _minibatch_covariance(self, state: GRBMState, batch_size: int, streams: ReplicaStreams) -> np.ndarray:
        assert self._samples is not None and state.epoch_order is not None
        if state.cursor + batch_size > self._samples.shape[0]:  # new epoch, drop the remainder
            state.epoch_order = self._shuffle(streams)
            state.cursor = 0
        idx = state.epoch_order[:, state.cursor : state.cursor + batch_size]
        state.cursor += batch_size
        x = self._samples[idx]  # (R, |B|, N_v)
        cov: np.ndarray = (x.transpose(0, 2, 1) @ x) / batch_size
        return cov

    def _kernel(self, W: np.ndarray) -> np.ndarray:
        """K = μ² − σ_h² WᵀW for every replica."""
        K: np.ndarray = W.transpose(0, 2, 1) @ W
        K *= -(self.spec.sigma_h**2)
        K += self.spec.mu**2 * np.eye(self.spec.n_visible)
        return K

    def _model_covariance(self, W: np.ndarray) -> np.ndarray:
        return np.linalg.inv(self._kernel(W))

    # -- observation ---------------------------------------------------------------
    def gram(self, W: np.ndarray) -> np.ndarray:
        """The smaller Gram matrix of every replica."""
        gram: np.ndarray = (
            W.transpose(0, 2, 1) @ W
            if self.spec.n_hidden >= self.spec.n_visible
            else W @ W.transpose(0, 2, 1)
        )
        return gram

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
        """NON_FINITE for inf/NaN in W or the chains; OUTSIDE_REGION where σ_h² x_max ≥ μ² (K not > 0),
        or where the "exact" sampler found K not positive definite."""
        W = state.W
        bad = ~np.isfinite(W).all(axis=(1, 2))
        if state.chains is not None:
            bad |= ~np.isfinite(state.chains).all(axis=(1, 2))
        code = np.where(bad, NON_FINITE, STABLE).astype(np.int8)
        ok = ~bad
        if ok.any() and not self._inside_region(W[ok]):
            x_max = np.linalg.eigvalsh(self.gram(W[ok]))[:, -1]
            code[ok] = np.where(self.spec.sigma_h**2 * x_max >= self.spec.mu**2, OUTSIDE_REGION, STABLE)
        if state.outside is not None:
            code[state.outside] = OUTSIDE_REGION
        return code

    def _inside_region(self, W: np.ndarray) -> bool:
        """True if K = μ² − σ_h²WᵀW is positive definite for every replica, with a margin.

        A Cholesky factorisation (N³/3 flop) settles the common case; only when some replica
        is near or past the boundary does `unstable` compute the eigenvalues (~4N³ flop), so
        the verdicts are those of the eigenvalue test.
        """
        K = self._kernel(W)
        K -= 1e-9 * self.spec.mu**2 * self._eye  # near-boundary cases go to the eigenvalue test
        try:
            np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            return False
        return True

    def park(self, state: GRBMState, mask: np.ndarray) -> None:
        state.W[mask] = 0.0
        if state.chains is not None:
            state.chains[mask] = 0.0
        if state.outside is not None:
            state.outside[mask] = False
