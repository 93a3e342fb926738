"""Non-linear multilayer teacher–student networks: the SGD phase-diagram model of Park, Lucini and
Aarts, "Phase diagram and eigenvalue dynamics of stochastic gradient descent in multilayer neural
networks", arXiv:2509.01349 (2025); physics.md §3.4.

Architecture (input d → hidden L → hidden K → output 1, activation φ = tanh, ReLU or identity):

    ŷ(x) = Z φ(W φ(M x)),      M: L×d,  W: K×L,  Z: 1×K.

Per replica a teacher is drawn from the replica's own TEACHER stream:
M ~ N(m_mean, m_sigma²/d), W_t ~ N(w_mean, w_sigma²/L), Z ~ N(z_mean, z_sigma²/K) entrywise.
The student shares M and Z with its teacher (fixed, not trained); only the middle matrix W is
trained, from W ~ N(0, ε²/L) (INIT stream): ε = `init_width`, the disorder strength of the paper.

Data: per replica a fixed set of D = |B|·batches_per_epoch inputs x ~ N(0, 𝟙_d) (DATA stream),
targets y = Z φ(W_t φ(M x)) (no label noise). An epoch visits the minibatches in order; step n uses
minibatch n mod batches_per_epoch. The first layer never changes, so its activations a = φ(M x)
of the whole data set are computed once per stack, laid out minibatch-major so that a step reads
one contiguous (R, |B|, L) block.

Update (plain SGD on the minibatch loss ℓ = (1/2|B|) Σ_b (y_b − ŷ_b)²):

    δ_b = (ŷ_b − y_b) · Zᵀ ⊙ φ'(W a_b),      W ← W − (α/|B|) Σ_b δ_b a_bᵀ.

Divergence as in the authors' runs: a replica whose minibatch loss exceeds `divergence_loss`
(default 100) at any step is diverged (OUTSIDE_REGION; NON_FINITE for inf/NaN weights) at the
next check, and held at W = 0 afterwards.

Recorded: spectra "singular_values" (K singular values of W, ascending) and "WWt" (eigenvalues of
W Wᵀ, = their squares); scalars "loss" (½ mean over the whole data set of (y − ŷ)²) and
"batch_loss" (the last minibatch's ℓ).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..streams import ReplicaStreams
from ..tables import MAX_DIMENSION, MAX_SCALE, Table
from . import multilayer_step
from .base import NON_FINITE, OUTSIDE_REGION, STABLE, Measurement, Model, SpectrumInfo
from .teacher_student import child_seed

#: spawn keys under each replica's SeedSequence (ReplicaStreams uses 0, 1, 2)
TEACHER_KEY, DATA_KEY = 3, 4
ACTIVATIONS = ("tanh", "relu", "identity")


Forward = Callable[[np.ndarray, np.ndarray], None]  # (pre, out): out ← φ(pre)


def activation(name: str) -> Forward:
    """φ for `name` in ACTIVATIONS, writing into `out` (no allocation). Its derivative is part of
    the step (multilayer_step.py: tanh' = 1 − tanh², relu' = step function, 0 at 0)."""
    if name == "tanh":

        def tanh(pre: np.ndarray, out: np.ndarray) -> None:
            np.tanh(pre, out=out)

        return tanh
    if name == "relu":

        def relu(pre: np.ndarray, out: np.ndarray) -> None:
            np.maximum(pre, 0.0, out=out)

        return relu
    if name != "identity":
        raise ValueError(f"unknown activation {name!r}; choose from {ACTIVATIONS}")

    def identity(pre: np.ndarray, out: np.ndarray) -> None:
        np.copyto(out, pre)

    return identity


def apply(forward: Forward, pre: np.ndarray) -> np.ndarray:
    """φ(pre) as a new array."""
    out = np.empty_like(pre)
    forward(pre, out)
    return out


@dataclass(frozen=True)
class MultilayerSpec:
    kind: str
    n_input: int  # d
    n_hidden: int  # L: width of the first hidden layer (fixed M: L×d)
    n_features: int  # K: width of the second hidden layer (trained W: K×L)
    activation: str
    m_mean: float
    m_sigma: float
    w_mean: float
    w_sigma: float
    z_mean: float
    z_sigma: float
    init_width: float  # ε: student W ~ N(0, ε²/L)
    batches_per_epoch: int
    divergence_loss: float

    def to_tables(self) -> dict[str, dict[str, object]]:
        return {"model": {k: v for k, v in vars(self).items()}}

    def flops_per_step(self, batch_size: int) -> float:
        """Flops of one replica update: the forward product W a_b, the output and the gradient."""
        return float(4 * batch_size * self.n_features * self.n_hidden + 8 * batch_size * self.n_features)

    def values_per_measurement(self) -> int:
        """Numbers recorded per replica and measurement: two spectra of K values and two scalars."""
        return 2 * self.n_features + 2

    def memory_terms(self, batch_size: int, replicas: int) -> list[tuple[str, str, int]]:
        """Upper bounds of the bytes a stack of `replicas` allocates, as (config key = value, what,
        bytes): the first-layer activations and targets of every replica's data set (D = |B| ·
        batches_per_epoch inputs), the measurement's pass over the whole data set (two (D, K)
        arrays per replica), the weights (with their copies at the start and at a measurement) and
        the step's buffers (pre-activations and δ, (|B|, K) each, and the errors)."""
        d = batch_size * self.batches_per_epoch
        k, h = self.n_features, self.n_hidden
        data = f"[model] batches_per_epoch = {self.batches_per_epoch}"
        return [
            (data, "first-layer activations and targets of every replica's data", 8 * replicas * d * (h + 1)),
            (data, "the loss over the whole data set at a measurement", 8 * replicas * d * (2 * k + 1)),
            (
                f"[model] n_hidden = {h}",
                "weights and the step's buffers",
                8 * replicas * (3 * k * h + batch_size * (2 * k + 1)),
            ),
        ]


def parse(model: Table, target: Table) -> MultilayerSpec:
    """Read and validate `[model] kind = "multilayer"` (it takes no [target] table: the teacher is
    drawn per replica from the [model] keys)."""
    n_input = model.integer("n_input", 3, minimum=1, maximum=MAX_DIMENSION)
    n_hidden = model.integer("n_hidden", 32, minimum=1, maximum=MAX_DIMENSION)
    n_features = model.integer("n_features", 16, minimum=1, maximum=MAX_DIMENSION)
    act = model.string("activation", "tanh", choices=ACTIVATIONS)
    spec = MultilayerSpec(
        kind="multilayer",
        n_input=n_input,
        n_hidden=n_hidden,
        n_features=n_features,
        activation=act,
        m_mean=model.number("m_mean", 0.0, magnitude=MAX_SCALE),
        m_sigma=model.number("m_sigma", 1.0, nonnegative=True, magnitude=MAX_SCALE),
        w_mean=model.number("w_mean", 0.0, magnitude=MAX_SCALE),
        w_sigma=model.number("w_sigma", 1.0, nonnegative=True, magnitude=MAX_SCALE),
        z_mean=model.number("z_mean", 0.0, magnitude=MAX_SCALE),
        z_sigma=model.number("z_sigma", 1.0, nonnegative=True, magnitude=MAX_SCALE),
        init_width=model.number("init_width", 1.0, nonnegative=True, magnitude=MAX_SCALE),
        batches_per_epoch=model.integer("batches_per_epoch", 1000, minimum=1),
        divergence_loss=model.number("divergence_loss", 100.0, positive=True, magnitude=MAX_SCALE),
    )
    target.not_taken(
        '[model] kind = "multilayer" takes no [target] table (each replica draws its own teacher from '
        "[model] m_sigma, w_sigma, z_sigma and their means)"
    )
    return spec


@dataclass
class MultilayerState:
    #: W (transposed), Z, the data set's first-layer activations and targets, the divergence
    #: bookkeeping and the step's buffers (multilayer_step.StepArrays), updated in place by `stepper`
    arrays: multilayer_step.StepArrays
    stepper: multilayer_step.Stepper  # one update of the stack, on these arrays
    step: int
    batch_size: int

    @property
    def W(self) -> np.ndarray:
        """(R, K, L): the trained matrices (a view of WT)."""
        return self.arrays.WT.transpose(0, 2, 1)


class Multilayer(Model):
    """Vectorised over a stack of replicas; see the module docstring for the model and update."""

    spec: MultilayerSpec

    def __init__(self, spec: MultilayerSpec, shared_seed: np.random.SeedSequence) -> None:
        self.spec = spec
        self.phi = activation(spec.activation)

    @property
    def spectra(self) -> tuple[SpectrumInfo, ...]:
        k = self.spec.n_features
        return (
            SpectrumInfo("singular_values", k, "singular values of the trained middle matrix W, ascending"),
            SpectrumInfo("WWt", k, "eigenvalues of W W^T (squared singular values), ascending"),
        )

    @property
    def scalars(self) -> tuple[str, ...]:
        return ("loss", "batch_loss")

    def work_per_step(self, batch_size: int) -> float:
        return self.spec.flops_per_step(batch_size)

    # -- state -------------------------------------------------------------------
    def _teacher_and_data(
        self, seed: np.random.SeedSequence, batch_size: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One replica's (first-layer activations (D, L), targets (D,), Z (K,)) from its own streams."""
        s = self.spec
        teacher = np.random.default_rng(child_seed(seed, TEACHER_KEY))
        M = teacher.normal(s.m_mean, s.m_sigma / np.sqrt(s.n_input), (s.n_hidden, s.n_input))
        Wt = teacher.normal(s.w_mean, s.w_sigma / np.sqrt(s.n_hidden), (s.n_features, s.n_hidden))
        Z = teacher.normal(s.z_mean, s.z_sigma / np.sqrt(s.n_features), s.n_features)
        x = np.random.default_rng(child_seed(seed, DATA_KEY)).standard_normal(
            (batch_size * s.batches_per_epoch, s.n_input)
        )
        a = apply(self.phi, x @ M.T)
        y = apply(self.phi, a @ Wt.T) @ Z
        return a, y, Z

    def init(self, streams: ReplicaStreams, batch_size: int) -> MultilayerState:
        s = self.spec
        n_rep, nb, L, K = len(streams), s.batches_per_epoch, s.n_hidden, s.n_features
        a = np.empty((nb, n_rep, batch_size, L))
        y = np.empty((nb, n_rep, batch_size, 1))
        Z = np.empty((n_rep, 1, K))
        for r, seed in enumerate(streams.seeds):
            a_r, y_r, z_r = self._teacher_and_data(seed, batch_size)
            a[:, r] = a_r.reshape(nb, batch_size, L)
            y[:, r, :, 0] = y_r.reshape(nb, batch_size)
            Z[r, 0] = z_r
        W = np.stack([g.standard_normal((K, L)) for g in streams.init]) * (s.init_width / np.sqrt(L))
        arrays = multilayer_step.StepArrays(
            a=a,
            WT=np.ascontiguousarray(W.transpose(0, 2, 1)),
            pre=np.empty((n_rep, batch_size, K)),
            h=np.empty((n_rep, batch_size, K)),
            Z=Z,
            y=y,
            err=np.empty((n_rep, batch_size)),
            worst=np.zeros(n_rep),
            parked=np.zeros(n_rep, dtype=bool),
        )
        stepper = multilayer_step.stepper(arrays, self.phi, s.activation)
        return MultilayerState(arrays=arrays, stepper=stepper, step=0, batch_size=batch_size)

    # -- dynamics ----------------------------------------------------------------
    def step(
        self, state: MultilayerState, learning_rate: float, batch_size: int, streams: ReplicaStreams
    ) -> None:
        k = state.step % self.spec.batches_per_epoch
        state.step += 1
        state.stepper.step(k, learning_rate / batch_size)

    # -- observation -------------------------------------------------------------
    def measure(self, state: MultilayerState) -> Measurement:
        W = np.where(np.isfinite(state.W), state.W, 0.0)
        sv = np.linalg.svd(W, compute_uv=False)[:, ::-1]
        x = state.arrays
        nb, n_rep, bs, L = x.a.shape
        # ŷ − y over the whole data set, one replica at a time: two BLAS products of its own (D, L)
        # activations (a contiguous copy, ~1 MB), so a replica's loss never depends on the stack
        # (a broadcast product over the minibatch-major layout is nb·R tiny matmuls: 10× slower)
        rows = np.empty((n_rep, nb * bs))
        for r in range(n_rep):
            a_r = np.ascontiguousarray(x.a[:, r]).reshape(nb * bs, L)
            np.matmul(apply(self.phi, a_r @ W[r].T), x.Z[r, 0], out=rows[r])
            rows[r] -= x.y[:, r, :, 0].reshape(-1)
        loss = 0.5 * np.mean(rows**2, axis=1)
        last = (state.step - 1) % self.spec.batches_per_epoch if state.step else 0  # last update's
        batch_loss = 0.5 * np.mean(rows[:, last * bs : (last + 1) * bs] ** 2, axis=1)
        return Measurement(
            spectra={"singular_values": np.ascontiguousarray(sv), "WWt": np.ascontiguousarray(sv**2)},
            scalars={"loss": loss, "batch_loss": batch_loss},
        )

    def unstable(self, state: MultilayerState) -> np.ndarray:
        """NON_FINITE for inf/NaN in W; OUTSIDE_REGION when a minibatch loss since the last check
        exceeded `divergence_loss` (the authors' stopping rule)."""
        finite = np.isfinite(state.W).all(axis=(1, 2))
        worst = state.arrays.worst
        big = ~(worst <= 2 * state.batch_size * self.spec.divergence_loss)  # NaN counts as big
        worst[:] = 0.0
        return np.where(~finite, NON_FINITE, np.where(big, OUTSIDE_REGION, STABLE)).astype(np.int8)

    def park(self, state: MultilayerState, mask: np.ndarray) -> None:
        state.arrays.parked[mask] = True
        state.arrays.WT[mask] = 0.0
