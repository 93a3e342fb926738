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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..streams import ReplicaStreams
from ..tables import MAX_DIMENSION, MAX_SCALE, Table
from .base import Measurement, Model, SpectrumInfo
from .teacher_student import child_seed, divergence_code, goe_from_normals, haar_orthogonal

TEACHER_KEY, DATA_KEY = 1, 0
DIVERGENCE_FACTOR = 1.0e3
LAYERS = ("W1", "W2")


@dataclass(frozen=True)
class LinearSpec:
    kind: str
    n_in: int
    n_hidden: int
    n_out: int
    train: tuple[str, ...]
    teacher_singular_values: tuple[tuple[float, int], ...]
    label_noise: float
    gradient_noise: float
    gradient_noise_kind: str | None
    data: str
    data_per_batch: int | None
    order: str | None
    init: str
    init_std: float | None

    @property
    def rank(self) -> int:
        return sum(m for _, m in self.teacher_singular_values)

    def singular_values(self) -> np.ndarray:
        """The r nonzero teacher singular values, species in the given order."""
        return np.concatenate([np.full(m, v) for v, m in self.teacher_singular_values])

    # -- size estimates (cost.py; no model is built) --------------------------------
    def flops_per_step(self, batch_size: int) -> float:
        """Flops of one replica update (the minibatch moments and the two gradients)."""
        n_in, h, n_out = self.n_in, self.n_hidden, self.n_out
        return float(
            batch_size * (n_in**2 + n_in * n_out + n_in + n_out) + 3 * n_out * h * n_in + n_out * n_in**2
        )

    def values_per_measurement(self) -> int:
        """Numbers recorded per replica and measurement: three spectra, loss and imbalance."""
        n_in, h, n_out = self.n_in, self.n_hidden, self.n_out
        return min(n_in, h) + min(n_out, h) + min(n_in, n_out) + 2

    def memory_terms(self, batch_size: int, replicas: int) -> list[tuple[str, str, int]]:
        """Upper bounds of the bytes a stack of `replicas` allocates, as (config key = value, what,
        bytes): weights, gradients and Gram/SVD scratch (≤ 8 × the sum of the layer and map sizes
        per replica); the per-step minibatch draws (online, 4 × |B|(N_in + N_out)); the shared
        finite data set (x, y and, order = "fixed", its minibatch moments) with each replica's
        epoch order (shuffled); the frozen noise (quenched, with its draw's temporaries, 3×)."""
        n_in, h, n_out, b = self.n_in, self.n_hidden, self.n_out, batch_size
        dims = {"n_in": n_in, "n_hidden": h, "n_out": n_out}
        big = max(dims, key=lambda key: dims[key])
        sizes = h * n_in + n_out * h + n_in * n_out + n_in * n_in + n_out * n_out + h * h
        terms = [(f"[model] {big} = {dims[big]}", "weights and scratch matrices", 8 * replicas * 8 * sizes)]
        terms.append((f"[sweep] batch size {b}", "minibatches", 8 * replicas * 4 * b * (n_in + n_out)))
        if self.data == "finite":
            k = self.data_per_batch or 0
            d = k * b
            data = f"[model] data_per_batch = {k}"
            shared = 2 * d * (n_in + n_out) + (2 * k * n_in * (n_in + n_out) if self.order == "fixed" else 0)
            terms.append((data, f"the shared data set of batch size {b}", 8 * shared))
            if self.order == "shuffled":
                terms.append((data, "the replicas' epoch orders", 8 * 2 * replicas * d))
            if self.gradient_noise_kind == "quenched":
                layers = {"W1": h * n_in, "W2": n_out * h}
                frozen = sum(layers[name] for name in self.train)
                terms.append((data, "the frozen noise of every replica", 8 * 3 * replicas * k * frozen))
        return terms

    def to_tables(self) -> dict[str, dict[str, object]]:
        model: dict[str, object] = {
            "kind": self.kind,
            "n_in": self.n_in,
            "n_hidden": self.n_hidden,
            "n_out": self.n_out,
            "train": list(self.train),
            "teacher_singular_values": [[v, m] for v, m in self.teacher_singular_values],
            "label_noise": self.label_noise,
            "gradient_noise": self.gradient_noise,
            "gradient_noise_kind": self.gradient_noise_kind,
            "data": self.data,
            "data_per_batch": self.data_per_batch,
            "order": self.order,
            "init": self.init,
            "init_std": self.init_std,
        }
        return {"model": {k: v for k, v in model.items() if v is not None}}


def _species(model: Table, n_in: int, n_out: int) -> tuple[tuple[float, int], ...]:
    key = "teacher_singular_values"
    raw = model.raw(key, [[1.0, min(n_in, n_out)]])
    if not isinstance(raw, list) or not raw:
        raise model.error(
            key, "must be a non-empty list of [value, multiplicity] pairs, e.g. [[1.0, 6], [2.0, 4]]"
        )
    out = []
    for i, p in enumerate(raw):
        if not (isinstance(p, list) and len(p) == 2):
            raise model.error(f"{key}[{i}]", f"must be a pair [value, multiplicity], got {p!r}")
        value = model._check_number(
            f"{key}[{i}][0] (singular value)", p[0], positive=True, magnitude=MAX_SCALE
        )
        mult = model._check_int(f"{key}[{i}][1] (multiplicity)", p[1], 1)
        out.append((value, mult))
    values = [v for v, _ in out]
    model.check(key, len(set(values)) == len(values), "a singular value appears in two species; merge them")
    r = sum(m for _, m in out)
    model.check(
        key,
        r <= min(n_in, n_out),
        f"multiplicities add up to {r}, more than min(n_in, n_out) = {min(n_in, n_out)} singular values",
    )
    return tuple(out)


def parse(model: Table, target: Table) -> LinearSpec:
    """Read and validate `[model] kind = "linear"` (it takes no [target] keys)."""
    n_in = model.integer("n_in", 10, minimum=1, maximum=MAX_DIMENSION)
    n_hidden = model.integer("n_hidden", 10, minimum=1, maximum=MAX_DIMENSION)
    n_out = model.integer("n_out", 10, minimum=1, maximum=MAX_DIMENSION)
    train_raw = model.raw("train", list(LAYERS))
    if not isinstance(train_raw, list) or not train_raw:
        raise model.error("train", 'must be a non-empty list of layer names, e.g. ["W1", "W2"] or ["W1"]')
    for i, name in enumerate(train_raw):
        if name not in LAYERS:
            raise model.error(f"train[{i}]", f'{name!r} is not a layer: use "W1" and/or "W2"')
    model.check("train", len(set(train_raw)) == len(train_raw), "a layer is listed twice")
    train = tuple(name for name in LAYERS if name in train_raw)
    species = _species(model, n_in, n_out)
    label_noise = model.number("label_noise", 1.0, nonnegative=True, magnitude=MAX_SCALE)
    gradient_noise = model.number("gradient_noise", 0.0, nonnegative=True, magnitude=MAX_SCALE)
    data = model.string("data", "online", choices=("online", "finite"))
    data_per_batch = order = None
    if data == "finite":
        data_per_batch = model.integer("data_per_batch", 500, minimum=1)
        order = model.string("order", "shuffled", choices=("shuffled", "fixed"))
    else:
        for key in ("data_per_batch", "order"):
            if model.has(key):
                raise model.error(key, 'only used with data = "finite"; remove it')
    kind = None
    if gradient_noise > 0:
        kind = model.string("gradient_noise_kind", "annealed", choices=("annealed", "quenched"))
        if kind == "quenched" and order != "fixed":
            raise model.error(
                "gradient_noise_kind",
                '"quenched" freezes one noise matrix per data point, which needs data = "finite" '
                'with order = "fixed"; use "annealed" or change data/order',
            )
    elif model.has("gradient_noise_kind"):
        raise model.error("gradient_noise_kind", "only used with gradient_noise > 0; remove it")
    init = model.string("init", "small", choices=("small", "balanced_minimum"))
    init_std = None
    if init == "small":
        init_std = model.number("init_std", 0.01, nonnegative=True, magnitude=MAX_SCALE)
    elif model.has("init_std"):
        raise model.error("init_std", 'only used with init = "small"; remove it')
    r = sum(m for _, m in species)
    if n_hidden < r and (init == "balanced_minimum" or len(train) < 2):
        why = 'init = "balanced_minimum"' if init == "balanced_minimum" else "a frozen layer"
        raise model.error(
            "n_hidden",
            f"{why} needs n_hidden >= the teacher rank {r} (got {n_hidden}); raise n_hidden",
        )
    target.not_taken(
        '[model] kind = "linear" takes no [target] table (its teacher is [model] teacher_singular_values)'
    )
    return LinearSpec(
        kind="linear",
        n_in=n_in,
        n_hidden=n_hidden,
        n_out=n_out,
        train=train,
        teacher_singular_values=species,
        label_noise=label_noise,
        gradient_noise=gradient_noise,
        gradient_noise_kind=kind,
        data=data,
        data_per_batch=data_per_batch,
        order=order,
        init=init,
        init_std=init_std,
    )


@dataclass(frozen=True)
class LinearData:
    """The shared finite data set of one batch size."""

    x: np.ndarray  # (D, N_in)
    y: np.ndarray  # (D, N_out)
    sxx: np.ndarray  # (N_in, N_in) data-set moments, for the loss
    sxy: np.ndarray  # (N_in, N_out)
    syy: float
    batch_cxx: np.ndarray | None  # (n_batches, N_in, N_in), order = "fixed"
    batch_cyx: np.ndarray | None  # (n_batches, N_out, N_in)


@dataclass
class LinearState:
    W1: np.ndarray  # (R, N_h, N_in)
    W2: np.ndarray  # (R, N_out, N_h)
    data: LinearData | None
    epoch_order: np.ndarray | None  # (R, D), order = "shuffled"
    cursor: int
    step: int
    noise: dict[str, np.ndarray]  # layer -> (R, n_batches, *shape) frozen batch means (quenched)
    parked: np.ndarray  # (R,) bool: diverged replicas, held at zero weights


class LinearNet(Model):
    """Vectorised over a stack of replicas; see the module docstring for the algorithm."""

    spec: LinearSpec

    def __init__(self, spec: LinearSpec, shared_seed: np.random.SeedSequence) -> None:
        self.spec = spec
        self.shared_seed = shared_seed
        rng = np.random.default_rng(child_seed(shared_seed, TEACHER_KEY))
        r = spec.rank
        self.U = haar_orthogonal(rng, spec.n_out)[:, :r]
        self.V = haar_orthogonal(rng, spec.n_in)[:, :r]
        self.s = spec.singular_values()
        self.teacher = (self.U * self.s) @ self.V.T
        self._bound = DIVERGENCE_FACTOR * (1.0 + np.sqrt(self.s.max()))
        self._data: dict[int, LinearData] = {}
        self.shapes = {"W1": (spec.n_hidden, spec.n_in), "W2": (spec.n_out, spec.n_hidden)}
        self.gram_names = (
            "W1tW1" if spec.n_in <= spec.n_hidden else "W1W1t",
            "W2W2t" if spec.n_out <= spec.n_hidden else "W2tW2",
        )

    # -- teacher factors ---------------------------------------------------------
    def balanced_minimum(self) -> tuple[np.ndarray, np.ndarray]:
        """W₁ = [√Σ Vᵀ; 0] (N_h × N_in) and W₂ = [U √Σ, 0] (N_out × N_h); needs N_h ≥ r."""
        s, r = self.spec, self.spec.rank
        W1 = np.zeros((s.n_hidden, s.n_in))
        W2 = np.zeros((s.n_out, s.n_hidden))
        W1[:r] = np.sqrt(self.s)[:, None] * self.V.T
        W2[:, :r] = self.U * np.sqrt(self.s)
        return W1, W2

    @property
    def spectra(self) -> tuple[SpectrumInfo, ...]:
        s = self.spec
        g1, g2 = self.gram_names
        return (
            SpectrumInfo(
                g1, min(s.n_in, s.n_hidden), f"eigenvalues of {g1} (smaller Gram matrix of W1), ascending"
            ),
            SpectrumInfo(
                g2, min(s.n_out, s.n_hidden), f"eigenvalues of {g2} (smaller Gram matrix of W2), ascending"
            ),
            SpectrumInfo(
                "W2W1_sv", min(s.n_in, s.n_out), "singular values of the end-to-end map W2 W1, ascending"
            ),
        )

    @property
    def scalars(self) -> tuple[str, ...]:
        return ("loss", "imbalance")

    def work_per_step(self, batch_size: int) -> float:
        s = self.spec
        return float(
            batch_size * (s.n_in**2 + s.n_in * s.n_out + s.n_in + s.n_out)
            + 3 * s.n_out * s.n_hidden * s.n_in
            + s.n_out * s.n_in**2
        )

    # -- data --------------------------------------------------------------------
    def data(self, batch_size: int) -> LinearData:
        """The shared data set of this batch size (data = "finite")."""
        if batch_size not in self._data:
            s = self.spec
            assert s.data_per_batch is not None
            rng = np.random.default_rng(child_seed(self.shared_seed, DATA_KEY, batch_size))
            d = s.data_per_batch * batch_size
            x = rng.standard_normal((d, s.n_in))
            y = x @ self.teacher.T + np.sqrt(s.label_noise) * rng.standard_normal((d, s.n_out))
            cxx = cyx = None
            if s.order == "fixed":
                xb = x.reshape(s.data_per_batch, batch_size, s.n_in)
                yb = y.reshape(s.data_per_batch, batch_size, s.n_out)
                cxx = np.einsum("kbi,kbj->kij", xb, xb) / batch_size
                cyx = np.einsum("kbi,kbj->kij", yb, xb) / batch_size
            self._data[batch_size] = LinearData(
                x=x,
                y=y,
                sxx=x.T @ x / d,
                sxy=x.T @ y / d,
                syy=float(np.mean(np.sum(y * y, axis=1))),
                batch_cxx=cxx,
                batch_cyx=cyx,
            )
        return self._data[batch_size]

    # -- state -------------------------------------------------------------------
    def init(self, streams: ReplicaStreams, batch_size: int) -> LinearState:
        s = self.spec
        n_rep = len(streams)
        B1, B2 = self.balanced_minimum() if s.rank <= s.n_hidden else (None, None)
        if s.init == "balanced_minimum":
            W1, W2 = B1, B2
        else:
            assert s.init_std is not None
            draws = [
                (g.standard_normal(self.shapes["W1"]), g.standard_normal(self.shapes["W2"]))
                for g in streams.init
            ]
            W1 = np.stack([d[0] for d in draws]) * s.init_std if "W1" in s.train else B1
            W2 = np.stack([d[1] for d in draws]) * s.init_std if "W2" in s.train else B2
        assert W1 is not None and W2 is not None  # parse: n_hidden >= rank wherever B1, B2 are used
        W1 = np.broadcast_to(W1, (n_rep, *self.shapes["W1"])).copy()
        W2 = np.broadcast_to(W2, (n_rep, *self.shapes["W2"])).copy()
        data = order = None
        noise: dict[str, np.ndarray] = {}
        if s.data == "finite":
            data = self.data(batch_size)
            if s.order == "shuffled":
                order = self._shuffle(streams, len(data.x))
        if s.gradient_noise_kind == "quenched":
            assert s.data_per_batch is not None
            n_k = s.data_per_batch
            for layer in s.train:
                noise[layer] = np.empty((n_rep, n_k, *self.shapes[layer]))
            for i, g in enumerate(streams.order):  # once per replica at init, layers in order
                for layer in s.train:
                    z = g.standard_normal((n_k, *self.shapes[layer]))
                    noise[layer][i] = self._shape_noise(z, batch_size)
        return LinearState(
            W1=W1,
            W2=W2,
            data=data,
            epoch_order=order,
            cursor=0,
            step=0,
            noise=noise,
            parked=np.zeros(n_rep, dtype=bool),
        )

    def _shuffle(self, streams: ReplicaStreams, n: int) -> np.ndarray:
        order: np.ndarray = np.stack([g.permutation(n) for g in streams.order])
        return order

    def _shape_noise(self, z: np.ndarray, batch_size: int) -> np.ndarray:
        """Batch-mean induced noise from standard normals z (..., a, b): GOE-shaped if a = b."""
        scale = self.spec.gradient_noise / np.sqrt(batch_size)
        if z.shape[-1] == z.shape[-2]:
            return goe_from_normals(z, scale)
        noise: np.ndarray = z * scale
        return noise

    # -- dynamics ----------------------------------------------------------------
    def gradients(
        self, W1: np.ndarray, W2: np.ndarray, cxx: np.ndarray, cyx: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(∂L/∂W₁, ∂L/∂W₂) of the minibatch loss with moments Ĉ_xx = XᵀX/|B|, Ĉ_yx = YᵀX/|B|."""
        M = W2 @ W1 @ cxx - cyx
        return np.swapaxes(W2, -1, -2) @ M, M @ np.swapaxes(W1, -1, -2)

    @staticmethod
    def batch_loss(W1: np.ndarray, W2: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        """(1/|B|) Σ_b ½‖y_b − W₂W₁x_b‖² for one replica (a reference for the gradient)."""
        r = y - x @ (W2 @ W1).T
        return 0.5 * float(np.mean(np.sum(r * r, axis=1)))

    def _moments(
        self, state: LinearState, batch_size: int, streams: ReplicaStreams
    ) -> tuple[np.ndarray, np.ndarray]:
        s = self.spec
        if s.data == "online":
            z = streams.normal((batch_size, s.n_in + s.n_out))
            x = z[..., : s.n_in]
            y = x @ self.teacher.T
            if s.label_noise > 0:
                y += np.sqrt(s.label_noise) * z[..., s.n_in :]
        else:
            data = state.data
            assert data is not None and s.data_per_batch is not None
            if s.order == "fixed":
                k = state.step % s.data_per_batch
                assert data.batch_cxx is not None and data.batch_cyx is not None  # built for order = "fixed"
                return data.batch_cxx[k], data.batch_cyx[k]
            assert state.epoch_order is not None
            if state.cursor + batch_size > len(data.x):
                state.epoch_order = self._shuffle(streams, len(data.x))
                state.cursor = 0
            idx = state.epoch_order[:, state.cursor : state.cursor + batch_size]
            state.cursor += batch_size
            x, y = data.x[idx], data.y[idx]
        xt = np.swapaxes(x, 1, 2)
        return (xt @ x) / batch_size, (np.swapaxes(y, 1, 2) @ x) / batch_size

    def step(
        self, state: LinearState, learning_rate: float, batch_size: int, streams: ReplicaStreams
    ) -> None:
        s = self.spec
        cxx, cyx = self._moments(state, batch_size, streams)
        k = state.step % s.data_per_batch if s.data_per_batch else 0
        state.step += 1
        G1, G2 = self.gradients(state.W1, state.W2, cxx, cyx)
        for layer, W, g in (("W1", state.W1, G1), ("W2", state.W2, G2)):
            if layer not in s.train:
                continue
            if s.gradient_noise > 0:
                if s.gradient_noise_kind == "quenched":
                    g -= state.noise[layer][:, k]
                else:
                    g -= self._shape_noise(streams.normal(self.shapes[layer]), batch_size)
            g *= learning_rate
            W -= g
        if state.parked.any():  # an unstable step size would blow parked replicas up again
            state.W1[state.parked] = 0.0
            state.W2[state.parked] = 0.0

    # -- observation -------------------------------------------------------------
    def gram(self, W1: np.ndarray, W2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.spec
        W1t, W2t = np.swapaxes(W1, 1, 2), np.swapaxes(W2, 1, 2)
        g1 = W1t @ W1 if s.n_in <= s.n_hidden else W1 @ W1t
        g2 = W2 @ W2t if s.n_out <= s.n_hidden else W2t @ W2
        return g1, g2

    def measure(self, state: LinearState) -> Measurement:
        s = self.spec
        # rows with non-finite weights are flagged before they are recorded: keep linalg quiet
        W1 = np.where(np.isfinite(state.W1), state.W1, 0.0)
        W2 = np.where(np.isfinite(state.W2), state.W2, 0.0)
        g1, g2 = self.gram(W1, W2)
        W = W2 @ W1
        sv = np.ascontiguousarray(np.linalg.svd(W, compute_uv=False)[:, ::-1])
        if s.data == "online":
            diff = W - self.teacher
            loss = 0.5 * (np.sum(diff * diff, axis=(1, 2)) + s.n_out * s.label_noise)
        else:
            d = state.data
            assert d is not None
            quad = np.einsum("rij,jk,rik->r", W, d.sxx, W)
            cross = np.einsum("rij,ji->r", W, d.sxy)
            loss = 0.5 * (d.syy - 2.0 * cross + quad)
        imb = W1 @ np.swapaxes(W1, 1, 2) - np.swapaxes(W2, 1, 2) @ W2
        return Measurement(
            spectra={
                self.gram_names[0]: np.linalg.eigvalsh(g1),
                self.gram_names[1]: np.linalg.eigvalsh(g2),
                "W2W1_sv": sv,
            },
            scalars={"loss": loss, "imbalance": np.linalg.norm(imb, axis=(1, 2))},
        )

    def unstable(self, state: LinearState) -> np.ndarray:
        """NON_FINITE for inf/NaN weights; OUTSIDE_REGION where an entry exceeds the divergence bound."""
        return divergence_code(self._bound, state.W1, state.W2)

    def park(self, state: LinearState, mask: np.ndarray) -> None:
        state.parked |= mask
        state.W1[mask] = 0.0
        state.W2[mask] = 0.0
