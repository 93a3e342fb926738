"""The GRBM model of a stack of replicas (`GRBM`): initialisation, the SGD step for every noise
mode, measurement, divergence checks, and its cost for the scheduler. The model is described in
models/grbm.py; its configuration is in models/grbm_spec.py, the chain samplers in
models/grbm_samplers.py.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from ..streams import ReplicaStreams
from . import grbm_samplers as samplers
from .base import NON_FINITE, OUTSIDE_REGION, STABLE, Measurement, Model, SpectrumInfo
from .grbm_samplers import GRBMState
from .grbm_spec import GRBMSpec

# Cost model of one replica-step in flop-equivalents (scheduling only). Checked against measured
# times per update at |B| = 4…128 (docs/performance.md): the fixed part is worth ~1 chain for
# "gibbs" (model: 2) and ~13 chains for "marginal" (model: 19); t5_scheduling.py measures the plans.
#: one standard normal from numpy's Generator costs about as much as this many small-matrix flops
NORMAL_FLOPS = 60.0
#: fixed cost of one update of one replica in a stack (numpy calls, small LAPACK calls)
STEP_FLOPS = {"gibbs": 8000.0, "marginal": 12000.0, "exact": 25000.0, "none": 20000.0, "minibatch": 8000.0}


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


class GRBM(Model):
    """Vectorised over a stack of replicas; see models/grbm.py for the algorithm."""

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
            np.matmul(samplers.transposed(state, "phiT", phi), phi, out=C)
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
        return samplers.sample_chains(self.spec, state, streams)

    def transition(
        self, W: np.ndarray, state: GRBMState | None = None, out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(A^k, U) of the k-sweep chain on φ at weights W: grbm_samplers.transition."""
        return samplers.transition(self.spec, W, state, out)

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
        return samplers.kernel(self.spec, W)

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
