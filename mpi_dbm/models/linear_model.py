"""The linear one-hidden-layer network of a stack of replicas (`LinearNet`): teacher, shared
data sets, initialisation, the SGD step with induced gradient noise, measurement and divergence.
The model is described in models/linear.py; its configuration is in models/linear_spec.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..streams import ReplicaStreams
from .base import Measurement, Model, SpectrumInfo
from .linear_spec import LinearSpec
from .teacher_student import child_seed, divergence_code, goe_from_normals, haar_orthogonal

TEACHER_KEY, DATA_KEY = 1, 0
DIVERGENCE_FACTOR = 1.0e3


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
    """Vectorised over a stack of replicas; see models/linear.py for the algorithm."""

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
