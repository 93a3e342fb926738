"""The N×N teacher–student model of [ALP24] with induced GOE-shaped gradient noise (physics.md §3.1).

Student W_s (N×N, not symmetrised), teacher W_t = O diag(teacher_eigenvalues) Oᵀ with a Haar
random orthogonal O drawn once per sweep (the default teacher 2·𝟙 does not depend on O).
Inputs x ~ N(0, 𝟙), targets y = W_t x (no label noise), loss ½‖y − W_s x‖².

Update of every replica, with minibatch k = step mod data_per_batch in fixed order:

    W_s ← W_s + α [ (W_t − W_s) Ĉ_k + ā_k ],   Ĉ_k = (1/|B|) Σ_{b∈k} x_b x_bᵀ,

where ā_k = (1/|B|) Σ_{b∈k} a_b is the batch mean of GOE-shaped symmetric matrices
(Var a_ii = 2ε², Var a_ij = ε², A = ε² = noise_strength²).

Data set: D = data_per_batch · |B| samples, shared by all replicas and drawn ONCE per sweep
for each batch size, from the SeedSequence `shared_seed` spawned with (DATA_KEY, |B|): the
points of one sweep with equal |B| see the same data set, and a replica's data never depends
on rank count or stacking.

Noise:
- noise = "quenched" (paper): each replica carries one frozen a_b per data point. Because the
  minibatches come in a fixed order, only their batch means ā_k enter, and a sum of |B|
  independent GOE matrices is exactly a GOE matrix of |B| times the variance; so the model
  draws the ā_k directly (data_per_batch matrices of variance ε²/|B| per replica, from the
  replica's ORDER stream, once at init). Same law as per-point draws, |B| times less memory
  (data_per_batch · N² floats per replica).
- noise = "annealed": a fresh ā from the replica's NOISE stream every step.
- noise_strength = 0: no induced noise (deterministic flow to the teacher).

Divergence (/tasks/diverged_reason): NON_FINITE for inf/NaN entries, OUTSIDE_REGION for an
entry of W_s larger in magnitude than DIVERGENCE_FACTOR · (1 + max|teacher eigenvalue|). The
dynamics is linear, so a diverging replica grows geometrically and crosses this bound within a
few steps; SGD on this loss is unstable for α ≳ 2. Diverged replicas are held at W_s = 0.

Recorded: spectra "singular_values" (of W_s, ascending) and "WtW" (eigenvalues of W_sᵀW_s,
ascending, = squared singular values); scalars "loss" (the training loss: mean over the
data set of ½‖y − W_s x‖² = ½ tr((W_t − W_s) S (W_t − W_s)ᵀ), S the data-set covariance) and
"asymmetry" (‖W_s − W_sᵀ‖_F). With `record_entries = true` also the entries of the top-left
2×2 block of W_s as scalars "w11", "w12", "w21", "w22" (1-based, data basis; only "w11" for
n = 1): the diagonal and off-diagonal variances of the GOE block (physics.md §6 item 5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..streams import ReplicaStreams
from ..tables import MAX_DIMENSION, MAX_SCALE, Table
from .base import NON_FINITE, OUTSIDE_REGION, STABLE, Measurement, Model, SpectrumInfo

#: spawn keys under the sweep's shared SeedSequence
TEACHER_KEY, DATA_KEY = 1, 0
DIVERGENCE_FACTOR = 1.0e3


# -- helpers shared with models/linear_model.py ---------------------------------------------
def child_seed(seed: np.random.SeedSequence, *keys: int) -> np.random.SeedSequence:
    """A deterministic child of `seed` (independent of how often `seed.spawn` was called)."""
    return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, *keys))


def haar_orthogonal(rng: np.random.Generator, n: int) -> np.ndarray:
    """A Haar-distributed n×n orthogonal matrix (QR of a Gaussian matrix with the sign fix)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def goe_from_normals(z: np.ndarray, scale: float) -> np.ndarray:
    """Symmetric matrices (..., N, N) with Var(diag) = 2 scale², Var(off-diag) = scale²,
    from standard normals z of the same shape."""
    sym: np.ndarray = (z + np.swapaxes(z, -1, -2)) * (scale / np.sqrt(2.0))
    return sym


def divergence_code(bound: float, *weights: np.ndarray) -> np.ndarray:
    """Per replica: NON_FINITE if any weight is inf/NaN, else OUTSIDE_REGION if any |entry| > bound."""
    finite = np.ones(len(weights[0]), dtype=bool)
    big = np.zeros(len(weights[0]), dtype=bool)
    for W in weights:
        ok = np.isfinite(W)
        finite &= ok.all(axis=(1, 2))
        big |= np.abs(np.where(ok, W, 0.0)).max(axis=(1, 2)) > bound
    return np.where(~finite, NON_FINITE, np.where(big, OUTSIDE_REGION, STABLE)).astype(np.int8)


@dataclass(frozen=True)
class TeacherStudentSpec:
    kind: str
    n: int
    teacher_eigenvalues: tuple[float, ...]
    data_per_batch: int
    noise: str
    noise_strength: float
    init: str
    init_std: float | None
    record_entries: bool = False  # also record the top-left 2×2 entries of W_s as scalars

    @property
    def entry_names(self) -> tuple[str, ...]:
        """Scalars "w<i><j>" (1-based) of the recorded top-left block (empty unless record_entries)."""
        if not self.record_entries:
            return ()
        m = min(self.n, 2)
        return tuple(f"w{i + 1}{j + 1}" for i in range(m) for j in range(m))

    def teacher_matrix(self, shared_seed: np.random.SeedSequence) -> np.ndarray:
        """W_t = O diag(λ) Oᵀ, O Haar from the sweep's shared seed (2·𝟙 by default)."""
        lam = np.array(self.teacher_eigenvalues)
        o = haar_orthogonal(np.random.default_rng(child_seed(shared_seed, TEACHER_KEY)), self.n)
        teacher: np.ndarray = (o * lam) @ o.T
        return teacher

    # -- size estimates (cost.py; no model is built) --------------------------------
    def flops_per_step(self, batch_size: int) -> float:
        """Flops of one replica update: (W_s − W_t) Ĉ_k and the noise (Ĉ_k precomputed)."""
        return float(2 * self.n**3 + 2 * self.n**2)

    def values_per_measurement(self) -> int:
        """Numbers recorded per replica and measurement: two spectra of n values and the scalars."""
        return 2 * self.n + 2 + len(self.entry_names)

    def memory_terms(self, batch_size: int, replicas: int) -> list[tuple[str, str, int]]:
        """Upper bounds of the bytes a stack of `replicas` allocates, as (config key = value, what,
        bytes): weights with the update, SVD and Gram scratch (≤ 12 n² per replica); the shared
        data set of this batch size (inputs D × n while the minibatch covariances, data_per_batch
        × n², are formed); the frozen batch-mean noise (quenched: data_per_batch × n² per replica,
        with the temporaries of its GOE draw, 4×)."""
        n, b, k = self.n, batch_size, self.data_per_batch
        data = f"[model] data_per_batch = {k}"
        terms = [
            (f"[model] n = {n}", "weights and scratch matrices", 8 * replicas * 12 * n * n),
            (data, f"the shared data set of batch size {b}", 8 * k * (2 * b * n + 2 * n * n)),
        ]
        if self.noise == "quenched" and self.noise_strength > 0:
            terms.append((data, "the frozen noise of every replica", 8 * 4 * replicas * k * n * n))
        return terms

    def to_tables(self) -> dict[str, dict[str, object]]:
        model: dict[str, object] = {
            "kind": self.kind,
            "n": self.n,
            "teacher_eigenvalues": list(self.teacher_eigenvalues),
            "data_per_batch": self.data_per_batch,
            "noise": self.noise,
            "noise_strength": self.noise_strength,
            "init": self.init,
            "init_std": self.init_std,
        }
        if self.record_entries:  # only when set, so existing configs keep their canonical form and hash
            model["record_entries"] = True
        return {"model": {k: v for k, v in model.items() if v is not None}}


def parse(model: Table, target: Table) -> TeacherStudentSpec:
    """Read and validate `[model] kind = "teacher_student"` (it takes no [target] keys)."""
    n = model.integer("n", 2, minimum=1, maximum=MAX_DIMENSION)
    eig = model.number_list("teacher_eigenvalues", [2.0] * n, magnitude=MAX_SCALE)
    model.check(
        "teacher_eigenvalues",
        len(eig) == n,
        f"has {len(eig)} values but n = {n}; give one eigenvalue of the (symmetric) teacher per row",
    )
    data_per_batch = model.integer("data_per_batch", 500, minimum=1)
    noise = model.string("noise", "quenched", choices=("quenched", "annealed"))
    noise_strength = model.number("noise_strength", 0.1, nonnegative=True, magnitude=MAX_SCALE)
    init = model.string("init", "random", choices=("random", "teacher"))
    init_std = None
    if init == "random":
        init_std = model.number("init_std", 0.1, nonnegative=True, magnitude=MAX_SCALE)
    elif model.has("init_std"):
        raise model.error("init_std", 'only used with init = "random"; remove it')
    record_entries = model.raw("record_entries", False)
    if not isinstance(record_entries, bool):
        raise model.error("record_entries", f"must be true or false, got {record_entries!r}")
    target.not_taken(
        '[model] kind = "teacher_student" takes no [target] table '
        "(its teacher is [model] teacher_eigenvalues)"
    )
    return TeacherStudentSpec(
        kind="teacher_student",
        n=n,
        teacher_eigenvalues=eig,
        data_per_batch=data_per_batch,
        noise=noise,
        noise_strength=noise_strength,
        init=init,
        init_std=init_std,
        record_entries=record_entries,
    )


@dataclass(frozen=True)
class TSData:
    """The shared data set of one batch size, reduced to what the dynamics needs."""

    batch_cov: np.ndarray  # (n_batches, N, N): Ĉ_k of each minibatch, in order
    data_cov: np.ndarray  # (N, N): covariance of the whole data set (for the loss)


@dataclass
class TSState:
    W: np.ndarray  # (R, N, N)
    data: TSData
    noise: np.ndarray | None  # (R, n_batches, N, N) frozen batch-mean noise ā_k (quenched)
    step: int
    parked: np.ndarray  # (R,) bool: diverged replicas, held at W = 0


class TeacherStudent(Model):
    """Vectorised over a stack of replicas; see the module docstring for the algorithm."""

    spec: TeacherStudentSpec

    def __init__(self, spec: TeacherStudentSpec, shared_seed: np.random.SeedSequence) -> None:
        self.spec = spec
        self.shared_seed = shared_seed
        self.teacher = spec.teacher_matrix(shared_seed)
        self._bound = DIVERGENCE_FACTOR * (1.0 + max(abs(v) for v in spec.teacher_eigenvalues))
        self._data: dict[int, TSData] = {}

    @property
    def spectra(self) -> tuple[SpectrumInfo, ...]:
        n = self.spec.n
        return (
            SpectrumInfo("singular_values", n, "singular values of the student W_s, ascending"),
            SpectrumInfo("WtW", n, "eigenvalues of W_s^T W_s, ascending"),
        )

    @property
    def scalars(self) -> tuple[str, ...]:
        return ("loss", "asymmetry", *self.spec.entry_names)

    def work_per_step(self, batch_size: int) -> float:
        n = self.spec.n
        return float(2 * n**3 + 2 * n**2)  # batch covariances are precomputed: |B| drops out

    # -- data --------------------------------------------------------------------
    def data_inputs(self, batch_size: int) -> np.ndarray:
        """The shared inputs x (D, N), D = data_per_batch·|B|, of this batch size (fixed order)."""
        rng = np.random.default_rng(child_seed(self.shared_seed, DATA_KEY, batch_size))
        return rng.standard_normal((self.spec.data_per_batch * batch_size, self.spec.n))

    def data(self, batch_size: int) -> TSData:
        if batch_size not in self._data:
            x = self.data_inputs(batch_size)
            xb = x.reshape(self.spec.data_per_batch, batch_size, self.spec.n)
            batch_cov = np.einsum("kbi,kbj->kij", xb, xb) / batch_size
            self._data[batch_size] = TSData(batch_cov=batch_cov, data_cov=x.T @ x / len(x))
        return self._data[batch_size]

    # -- state -------------------------------------------------------------------
    def init(self, streams: ReplicaStreams, batch_size: int) -> TSState:
        s = self.spec
        n_rep = len(streams)
        if s.init == "teacher":
            W = np.broadcast_to(self.teacher, (n_rep, s.n, s.n)).copy()
        else:
            assert s.init_std is not None
            W = np.stack([g.standard_normal((s.n, s.n)) for g in streams.init]) * s.init_std
        noise = None
        if s.noise == "quenched" and s.noise_strength > 0:
            scale = s.noise_strength / np.sqrt(batch_size)
            noise = np.stack(
                [
                    goe_from_normals(g.standard_normal((s.data_per_batch, s.n, s.n)), scale)
                    for g in streams.order
                ]
            )
        return TSState(
            W=W, data=self.data(batch_size), noise=noise, step=0, parked=np.zeros(n_rep, dtype=bool)
        )

    # -- dynamics ----------------------------------------------------------------
    def batch_gradient(self, W: np.ndarray, batch_cov: np.ndarray) -> np.ndarray:
        """∂/∂W_s of the minibatch loss (1/|B|) Σ ½‖y − W_s x‖² = (W_s − W_t) Ĉ, for a stack."""
        grad: np.ndarray = (W - self.teacher) @ batch_cov
        return grad

    def step(self, state: TSState, learning_rate: float, batch_size: int, streams: ReplicaStreams) -> None:
        s = self.spec
        k = state.step % s.data_per_batch
        state.step += 1
        update = self.batch_gradient(state.W, state.data.batch_cov[k])
        if s.noise_strength > 0:
            if state.noise is not None:
                update -= state.noise[:, k]
            else:
                update -= goe_from_normals(streams.normal((s.n, s.n)), s.noise_strength / np.sqrt(batch_size))
        update *= learning_rate
        state.W -= update
        if state.parked.any():  # an unstable step size would blow parked replicas up again
            state.W[state.parked] = 0.0

    # -- observation -------------------------------------------------------------
    def measure(self, state: TSState) -> Measurement:
        W = np.where(np.isfinite(state.W), state.W, 0.0)  # rows about to be flagged are not recorded
        sv = np.linalg.svd(W, compute_uv=False)[:, ::-1]
        wtw = np.linalg.eigvalsh(W.transpose(0, 2, 1) @ W)
        delta = self.teacher - W
        loss = 0.5 * np.einsum("rij,jk,rik->r", delta, state.data.data_cov, delta)
        asym = np.linalg.norm(W - W.transpose(0, 2, 1), axis=(1, 2))
        scalars = {"loss": loss, "asymmetry": asym}
        for name in self.spec.entry_names:
            scalars[name] = W[:, int(name[1]) - 1, int(name[2]) - 1].copy()
        return Measurement(
            spectra={"singular_values": np.ascontiguousarray(sv), "WtW": wtw},
            scalars=scalars,
        )

    def unstable(self, state: TSState) -> np.ndarray:
        """NON_FINITE for inf/NaN in W_s; OUTSIDE_REGION where an entry exceeds the divergence bound."""
        return divergence_code(self._bound, state.W)

    def park(self, state: TSState, mask: np.ndarray) -> None:
        state.parked |= mask
        state.W[mask] = 0.0
