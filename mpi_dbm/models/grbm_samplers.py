"""The state of a stack of GRBM replicas and the samplers of its PCD chains (models/grbm.py for
the model; the chains hold row vectors φ, one per chain, of every replica).

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

from dataclasses import dataclass, field

import numpy as np

from ..streams import ReplicaStreams
from .grbm_spec import GRBMSpec

try:  # numpy's Cholesky gufuncs (private; what np.linalg.cholesky calls), else the public function
    from numpy.linalg import _umath_linalg

    _CHOLESKY = {True: _umath_linalg.cholesky_up, False: _umath_linalg.cholesky_lo}
except (ImportError, AttributeError):  # pragma: no cover - another numpy layout
    _CHOLESKY = {}


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


def _cholesky(
    M: np.ndarray, upper: bool = False, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Cholesky factors of a stack (lower L Lᵀ = M, or upper UᵀU = M); (factor, failed) with
    failed = None when all succeeded. `out`: an array of M's shape to write the factors into.

    numpy's Cholesky gufunc (that of `np.linalg.cholesky`, so the same LAPACK call and bits per
    matrix) is called directly, into `out`: the wrapper's checks and a fresh result array per
    call cost more than the factorisation of a small stack. The gufunc writes NaN where a
    factorisation fails; such a matrix (or one with non-finite input) is retried alone, as
    `np.linalg.cholesky` would see it (the others' factors are the same bits as in any other
    stack), and its factor is NaN if that fails.
    """
    gufunc = _CHOLESKY.get(upper)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore", under="ignore"):
        if gufunc is not None:
            L: np.ndarray = gufunc(M, signature="d->d", out=out)
        else:  # pragma: no cover
            L = np.full_like(M, np.nan) if out is None else out
            try:
                L[...] = np.linalg.cholesky(M, upper=upper)
            except np.linalg.LinAlgError:
                L[...] = np.nan
    suspect = ~np.isfinite(L[:, -1, -1])  # a failure fills the whole factor with NaN
    if not suspect.any():
        return L, None
    failed = np.zeros(len(M), dtype=bool)
    for r in np.flatnonzero(suspect):
        try:
            L[r] = np.linalg.cholesky(M[r], upper=upper)
        except np.linalg.LinAlgError:
            L[r] = np.nan
            failed[r] = True
    return L, (failed if failed.any() else None)


def transposed(state: GRBMState, name: str, M: np.ndarray) -> np.ndarray:
    """A contiguous copy of the stack of transposes of M, in the scratch buffer `name`."""
    out = state.buffer(name, (M.shape[0], M.shape[2], M.shape[1]))
    np.copyto(out, M.transpose(0, 2, 1))
    return out


def kernel(spec: GRBMSpec, W: np.ndarray) -> np.ndarray:
    """K = μ² − σ_h² WᵀW for every replica."""
    K: np.ndarray = W.transpose(0, 2, 1) @ W
    K *= -(spec.sigma_h**2)
    K += spec.mu**2 * np.eye(spec.n_visible)
    return K


def sample_chains(spec: GRBMSpec, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
    """One update of the chains with the configured sampler, in place; returns them."""
    if spec.sampler == "gibbs":
        return gibbs(spec, state, streams)
    if spec.sampler == "exact":
        return exact(spec, state, streams)
    return marginal(spec, state, streams)


def gibbs(spec: GRBMSpec, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
    """k sweeps h ~ N(σ_h²Wφ, σ_h²), φ ~ N(Wᵀh/μ², 1/μ²) of every chain (the paper's sampler).

    The draws are taken in the order (h of all chains, φ of all chains) per sweep, as one
    slice of the stream; scaling by σ_h = 1 is skipped (multiplying by 1.0 is exact).
    """
    s = spec
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
    Wt = transposed(state, "Wt", W) if n_v * n_h <= 4096 else W.transpose(0, 2, 1)
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
    spec: GRBMSpec, W: np.ndarray, state: GRBMState | None = None, out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(A^k, U) of the k-sweep chain on φ at weights W (R, N_h, N_v), for row vectors:
    φ' = φ A^k + z U with UᵀU = Σ_k = μ⁻² S_k (1 + A^k) (module docstring; A is symmetric).
    Non-finite W gives NaN in U. The arrays are scratch buffers of `state`, or the two
    halves out[:, :N_v] = A^k, out[:, N_v:] = U of `out` (R, 2N_v, N_v)."""
    s = spec
    if state is None:
        state = GRBMState(W=W, chains=None, epoch_order=None, cursor=0)
    n_rep, _, n_v = W.shape
    shape = (n_rep, n_v, n_v)
    buf = state.work
    if buf.get("A") is None or buf["A"].shape != shape:  # once per stack: the scratch arrays
        for name in ("A", "S", "T", "L", "P1", "P2", "Ak", "U"):
            buf[name] = np.empty(shape)
        buf["Wt_scaled"] = np.empty((n_rep, n_v, W.shape[1]))
        buf["eye"] = np.broadcast_to(np.eye(n_v), shape).copy()
    A, S, T, eye = buf["A"], buf["S"], buf["T"], buf["eye"]
    if out is None:
        Ak, U = buf["Ak"], buf["U"]
    else:
        Ak, U = out[:, :n_v], out[:, n_v:]
    Wt = buf["Wt_scaled"]
    np.multiply(W.transpose(0, 2, 1), s.sigma_h**2 / s.mu**2, out=Wt)
    np.matmul(Wt, W, out=A)  # A = σ_h² WᵀW / μ²
    k = s.gibbs_steps
    if k == 1:
        np.copyto(S, eye)
        np.copyto(Ak, A)
    else:
        np.add(eye, A, out=S)
    P = A
    powers = (buf["P1"], buf["P2"])
    for m in range(2, k + 1):  # P = A^m; S = 1 + A + … + A^(k−1)
        dest = Ak if m == k else powers[m % 2]
        np.matmul(P, A, out=dest)
        P = dest
        if m < k:
            S += P
    np.matmul(S, Ak, out=T)
    T += S  # μ² Σ_k = S_k (1 + A^k)
    L, failed = _cholesky(T, upper=True, out=buf["L"])
    if failed is not None:  # far outside the stability region, or non-finite W
        for r in np.flatnonzero(failed & np.isfinite(T).all(axis=(1, 2))):
            w, V = np.linalg.eigh(T[r])
            L[r] = (V * np.sqrt(np.clip(w, 0.0, None))).T
    np.multiply(L, 1.0 / s.mu, out=U)
    return Ak, U


def marginal(spec: GRBMSpec, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
    """φ' = φ A^k + z U: the k-sweep Gibbs kernel drawn at once (N_v normals per chain)."""
    phi = state.chains
    assert phi is not None
    Ak, U = transition(spec, state.W, state)
    mean = state.buffer("mean", phi.shape)
    np.matmul(phi, Ak, out=mean)
    np.matmul(streams.normal(phi.shape[1:]), U, out=phi)
    phi += mean
    return phi


def exact(spec: GRBMSpec, state: GRBMState, streams: ReplicaStreams) -> np.ndarray:
    """Fresh independent draws φ ~ N(0, K⁻¹): φᵀ = K⁻¹ L_K zᵀ (covariance K⁻¹ L_K L_Kᵀ K⁻¹ = K⁻¹)."""
    phi = state.chains
    assert phi is not None and state.outside is not None
    K = kernel(spec, state.W)
    L, failed = _cholesky(K)
    z = streams.normal(phi.shape[1:])
    Y = L @ z.transpose(0, 2, 1)  # (R, N_v, |B|)
    if failed is not None:
        state.outside |= failed & np.isfinite(state.W).all(axis=(1, 2))
        K[failed] = np.eye(K.shape[-1])
        Y[failed] = np.nan
    phi[...] = np.linalg.solve(K, Y).transpose(0, 2, 1)
    return phi
