"""The multilayer teacher–student family (arXiv:2509.01349): the update is the exact minibatch
gradient, stacking and rank count never change a replica's numbers, the divergence rule, input
validation."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_cli

from mpi_dbm import config, models
from mpi_dbm.errors import ConfigError
from mpi_dbm.models.base import OUTSIDE_REGION, STABLE
from mpi_dbm.models.multilayer import Multilayer, apply
from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
from mpi_dbm.train import train_stack

BASE = """
[sweep]
name = "ml"
seed = 11
replicas = 6
points = [[0.5, 4], [4.0, 4]]
block_size = 3
[model]
kind = "multilayer"
n_hidden = 12
n_features = 6
batches_per_epoch = 20
{extra}
[train]
steps = 200
measure_every = 50
check_every = 10
"""


def build(extra: str = "") -> Multilayer:
    cfg = config.parse_text(BASE.format(extra=extra))
    model = models.build(cfg.model, shared_data_seed(cfg.sweep.seed))
    assert isinstance(model, Multilayer)
    return model


def streams(n: int, point: int = 0) -> ReplicaStreams:
    return ReplicaStreams([replica_seed(11, point, r) for r in range(n)])


def minibatch_loss(model: Multilayer, W: np.ndarray, a: np.ndarray, y: np.ndarray, Z: np.ndarray) -> float:
    """ℓ = (1/2|B|) Σ_b (y_b − Z φ(W a_b))² for one replica, written out directly."""
    yhat = apply(model.phi, a @ W.T) @ Z
    return float(0.5 * np.mean((y - yhat) ** 2))


@pytest.mark.parametrize("act", ["tanh", "relu", "identity"])
def test_step_is_sgd_on_the_minibatch_loss(act):
    """W_{n+1} − W_n = −α ∇_W ℓ_k, with the gradient from central differences of the loss."""
    model = build(f'activation = "{act}"')
    st = model.init(streams(2), 4)
    alpha, k = 0.3, 0
    W0 = st.W.copy()
    model.step(st, alpha, 4, streams(2))
    for r in range(2):
        a, y, Z = st.arrays.a[k, r], st.arrays.y[k, r, :, 0], st.arrays.Z[r, 0]
        grad = np.zeros_like(W0[r])
        h = 1e-6
        for i in range(W0.shape[1]):
            for j in range(W0.shape[2]):
                Wp, Wm = W0[r].copy(), W0[r].copy()
                Wp[i, j] += h
                Wm[i, j] -= h
                grad[i, j] = (minibatch_loss(model, Wp, a, y, Z) - minibatch_loss(model, Wm, a, y, Z)) / (
                    2 * h
                )
        np.testing.assert_allclose(st.W[r] - W0[r], -alpha * grad, rtol=1e-5, atol=1e-9)


def test_teacher_data_and_init_come_from_each_replicas_own_streams():
    """A replica's teacher, data and start depend on its seed only: stacked or alone, same bits;
    different replicas get different teachers."""
    model = build()
    stack = model.init(streams(4), 4)
    alone = model.init(ReplicaStreams([replica_seed(11, 0, 2)]), 4)
    np.testing.assert_array_equal(stack.arrays.a[:, 2], alone.arrays.a[:, 0])
    np.testing.assert_array_equal(stack.arrays.y[:, 2], alone.arrays.y[:, 0])
    np.testing.assert_array_equal(stack.W[2], alone.W[0])
    assert not np.array_equal(stack.arrays.Z[0], stack.arrays.Z[1]) and not np.array_equal(
        stack.arrays.a[:, 0], stack.arrays.a[:, 1]
    )


def test_training_a_stack_equals_training_each_replica_alone():
    model = build()
    together = train_stack(model, 0.5, 4, streams(3), 200, 50, 10)
    for r in range(3):
        one = train_stack(model, 0.5, 4, ReplicaStreams([replica_seed(11, 0, r)]), 200, 50, 10)
        for name, values in one.spectra.items():
            np.testing.assert_array_equal(together.spectra[name][r], values[0])
        for name, values in one.scalars.items():
            np.testing.assert_array_equal(together.scalars[name][r], values[0])


def test_records_are_consistent():
    """Singular values ascending, W Wᵀ eigenvalues their squares, loss of the whole data set."""
    model = build()
    st = model.init(streams(2), 4)
    for _ in range(7):
        model.step(st, 0.5, 4, streams(2))
    meas = model.measure(st)
    sv = meas.spectra["singular_values"]
    assert np.all(np.diff(sv, axis=1) >= 0)
    np.testing.assert_allclose(
        np.sort(np.linalg.eigvalsh(st.W @ st.W.transpose(0, 2, 1)), axis=1), sv**2, atol=1e-12
    )
    for r in range(2):
        a = st.arrays.a[:, r].reshape(-1, st.arrays.a.shape[-1])
        y = st.arrays.y[:, r].reshape(-1)
        assert meas.scalars["loss"][r] == pytest.approx(
            minibatch_loss(model, st.W[r], a, y, st.arrays.Z[r, 0]), rel=1e-12
        )
        k = (st.step - 1) % model.spec.batches_per_epoch
        expected = minibatch_loss(
            model, st.W[r], st.arrays.a[k, r], st.arrays.y[k, r, :, 0], st.arrays.Z[r, 0]
        )
        assert meas.scalars["batch_loss"][r] == pytest.approx(expected, rel=1e-12)


def test_a_minibatch_loss_above_the_threshold_diverges_the_replica():
    """The authors' rule: any minibatch loss > divergence_loss since the last check."""
    model = build('activation = "identity"\nz_sigma = 30.0\ndivergence_loss = 100.0')
    res = train_stack(model, 4.0, 4, streams(3), 200, 50, 10)
    assert (res.diverged_reason == OUTSIDE_REGION).all()
    assert np.isnan(res.spectra["singular_values"][:, -1]).all()  # nothing recorded after
    calm = train_stack(build(), 0.05, 4, streams(3), 200, 50, 10)
    assert (calm.diverged_reason == STABLE).all() and np.isfinite(calm.spectra["WWt"]).all()


def test_unstable_reads_the_loss_since_the_last_check():
    model = build()
    st = model.init(streams(2), 4)
    st.arrays.worst[:] = [
        2 * 4 * 50.0,
        2 * 4 * 150.0,
    ]  # Σ_b (ŷ − y)² of minibatch losses 50 and 150 (|B| = 4)
    np.testing.assert_array_equal(model.unstable(st), [STABLE, OUTSIDE_REGION])
    np.testing.assert_array_equal(model.unstable(st), [STABLE, STABLE])  # reset at every check


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('activation = "sigmoid"', "activation"),
        ("init_width = -1.0", "init_width: must be >= 0"),
        ("n_input = 0", "n_input: must be >= 1"),
        ("divergence_loss = 0", "divergence_loss: must be > 0"),
        ("init_widht = 1.0", "did you mean 'init_width'"),
    ],
)
def test_bad_model_keys_get_one_message(extra, message):
    with pytest.raises(ConfigError, match=message):
        build(extra)


def test_a_target_table_is_refused():
    text = BASE.format(extra="") + '\n[target]\nkind = "lattice"\n'
    with pytest.raises(ConfigError, match="target"):
        config.parse_text(text)


@pytest.mark.parametrize("ranks", [1, 3])
def test_results_are_bitwise_the_same_for_1_and_3_ranks(tmp_path, ranks):
    import h5py

    cfg = tmp_path / "ml.toml"
    cfg.write_text(BASE.format(extra="") + "")
    ref = tmp_path / "ref.h5"
    if not ref.exists():
        proc = run_cli("run", str(cfg), "-o", str(ref), "--io", "serial")
        assert proc.returncode == 0, proc.stderr
    out = tmp_path / f"out{ranks}.h5"
    proc = run_cli("run", str(cfg), "-o", str(out), ranks=ranks)
    assert proc.returncode == 0, proc.stderr
    with h5py.File(ref, "r") as a, h5py.File(out, "r") as b:
        for name in (
            "spectra/singular_values",
            "spectra/WWt",
            "scalars/loss",
            "scalars/batch_loss",
            "tasks/status",
        ):
            np.testing.assert_array_equal(a[name][()], b[name][()])
