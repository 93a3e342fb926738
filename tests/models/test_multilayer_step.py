"""The multilayer family's compiled step (mpi_dbm/models/_multilayer_step.c) computes the same bits
as its numpy reference, for every activation, odd sizes (partial vector tiles, batch sizes beside
the tile height), parked replicas and diverging ones; and the default set-up builds it."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm.models import multilayer_step
from mpi_dbm.models.multilayer import activation

needs_kernel = pytest.mark.skipif(not multilayer_step.COMPILED, reason="the C kernel was not built")


def arrays(rng: np.random.Generator, nb: int, R: int, B: int, L: int, K: int, scale: float) -> dict:
    return {
        "a": np.tanh(rng.standard_normal((nb, R, B, L))),
        "WT": rng.standard_normal((R, L, K)) * scale / np.sqrt(L),
        "pre": np.empty((R, B, K)),
        "h": np.empty((R, B, K)),
        "Z": rng.standard_normal((R, 1, K)) / np.sqrt(K),
        "y": rng.standard_normal((nb, R, B, 1)),
        "err": np.empty((R, B)),
        "worst": np.zeros(R),
        "parked": np.zeros(R, dtype=bool),
    }


def run(act: str, compiled: bool, shape: tuple[int, ...], steps: int, scale: float = 1.0, rate: float = 0.05):
    nb, R, B, L, K = shape
    x = arrays(np.random.default_rng(list(shape)), nb, R, B, L, K, scale)
    x["parked"][::3] = True  # every third replica is held (its W must not move)
    x["WT"][x["parked"]] = 0.0
    # the kernel itself, not `stepper` (which would fall back to the reference if they disagreed)
    step_arrays, phi = multilayer_step.StepArrays(**x), activation(act)
    if compiled:
        s = multilayer_step.compiled_stepper(step_arrays, phi, act)
    else:
        s = multilayer_step.ReferenceStepper(step_arrays, phi, multilayer_step.DERIVATIVES[act])
    for n in range(steps):
        s.step(n % nb, rate)
    return x


@needs_kernel
@pytest.mark.parametrize("act", ["tanh", "relu", "identity"])
@pytest.mark.parametrize(
    "shape",
    # (batches, replicas, |B|, L, K): the default; |B| below, beside and above the tile height 4;
    # K with partial vectors (7, 17), two whole tiles (16), one and a half (24), a single output
    [
        (3, 5, 4, 32, 16),
        (2, 4, 1, 5, 7),
        (3, 3, 3, 9, 17),
        (2, 2, 5, 32, 24),
        (2, 3, 6, 1, 8),
        (1, 1, 2, 3, 1),
    ],
)
def test_compiled_step_equals_the_reference_bit_for_bit(act, shape):
    kernel, reference = run(act, True, shape, 25), run(act, False, shape, 25)
    for name in ("WT", "pre", "err", "worst"):
        np.testing.assert_array_equal(kernel[name], reference[name], err_msg=name)
    parked = kernel["parked"]
    np.testing.assert_array_equal(kernel["h"][~parked], reference["h"][~parked])  # δ (scratch)
    assert not kernel["WT"][parked].any()  # held at W = 0
    assert np.all(kernel["worst"] > 0)


@needs_kernel
def test_diverging_replicas_give_the_same_nan_and_inf_bits():
    """A learning rate far too large: overflow to inf, then NaN; `worst` keeps the NaN (np.maximum)."""
    shape = (2, 4, 4, 8, 8)
    with np.errstate(all="ignore"):
        kernel = run("identity", True, shape, 120, scale=30.0, rate=1e4)
        reference = run("identity", False, shape, 120, scale=30.0, rate=1e4)
    live = ~kernel["parked"]
    assert np.isnan(kernel["worst"][live]).all() and np.isnan(kernel["WT"][live]).all()
    for name in ("WT", "err", "worst"):
        np.testing.assert_array_equal(kernel[name], reference[name], err_msg=name)


def test_the_step_is_the_sgd_update_written_out():
    """Either implementation: W ← W − (α/|B|) Σ_b δ_b a_bᵀ, δ_b = (ŷ_b − y_b) Zᵀ ⊙ tanh'(W a_b),
    to rounding, from a direct transcription."""
    R, B = 2, 4
    x = arrays(np.random.default_rng(5), 1, R, B, 6, 5, 1.0)
    W0 = x["WT"].transpose(0, 2, 1).copy()
    s = multilayer_step.stepper(multilayer_step.StepArrays(**x), phi=activation("tanh"), activation="tanh")
    s.step(0, 0.1 / B)
    for r in range(R):
        a, y, Z = x["a"][0, r], x["y"][0, r, :, 0], x["Z"][r, 0]
        h = np.tanh(a @ W0[r].T)
        delta = ((h @ Z - y)[:, None] * Z[None, :]) * (1 - h**2)
        np.testing.assert_allclose(x["WT"][r].T, W0[r] - 0.1 / B * delta.T @ a, rtol=1e-13, atol=1e-15)


def test_bad_arrays_are_refused_by_the_kernel():
    if not multilayer_step.COMPILED:
        pytest.skip("the C kernel was not built")
    x = arrays(np.random.default_rng(1), 2, 3, 4, 5, 6, 1.0)
    x["h"] = np.empty((3, 4, 7))
    with pytest.raises(ValueError, match="h: expected 72 items"):
        multilayer_step.compiled_stepper(multilayer_step.StepArrays(**x), activation("tanh"), "tanh")
    x = arrays(np.random.default_rng(1), 2, 3, 4, 5, 6, 1.0)
    x["WT"] = np.asfortranarray(x["WT"])
    with pytest.raises((ValueError, BufferError)):
        multilayer_step.compiled_stepper(multilayer_step.StepArrays(**x), activation("tanh"), "tanh")
    x = arrays(np.random.default_rng(1), 2, 3, 4, 5, 6, 1.0)
    s = multilayer_step.compiled_stepper(multilayer_step.StepArrays(**x), activation("tanh"), "tanh")
    with pytest.raises(ValueError, match="out of range"):
        s.step(2, 0.1)


def test_the_default_set_up_builds_the_kernel():
    """`make install` (pip install -e . with a C compiler) must give the compiled step, and it must
    pass its run-time check: the reference is a fallback, ~20x slower."""
    assert multilayer_step.COMPILED and multilayer_step.kernel_agrees()
    x = arrays(np.random.default_rng(2), 1, 2, 4, 5, 6, 1.0)
    s = multilayer_step.stepper(multilayer_step.StepArrays(**x), phi=activation("tanh"), activation="tanh")
    assert not isinstance(s, multilayer_step.ReferenceStepper)


def test_a_kernel_that_disagrees_with_its_reference_is_not_used(monkeypatch):
    """A build whose bits differ from the reference (a compiler with fast-math defaults, say) is
    replaced by the reference, with one warning that says what to do."""
    monkeypatch.setattr(multilayer_step, "COMPILED", True)
    monkeypatch.setattr(multilayer_step, "kernel_agrees", lambda: False)
    multilayer_step._warn_mismatch.cache_clear()
    x = arrays(np.random.default_rng(3), 1, 2, 4, 5, 6, 1.0)
    with pytest.warns(RuntimeWarning, match="does not reproduce its numpy reference.*CC=gcc"):
        s = multilayer_step.stepper(
            multilayer_step.StepArrays(**x), phi=activation("tanh"), activation="tanh"
        )
    assert isinstance(s, multilayer_step.ReferenceStepper)
    multilayer_step._warn_mismatch.cache_clear()


@needs_kernel
def test_a_training_with_the_reference_step_records_the_same_bits(monkeypatch):
    """The whole trainer (measurements, divergence checks, parking) on the fallback, as on a machine
    where the extension could not be built: every recorded number is the same (identity activation
    at α = 0.5: three of five replicas diverge and are parked, two train)."""
    from mpi_dbm import config, models
    from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
    from mpi_dbm.train import train_stack

    cfg = config.parse_text(
        '[sweep]\nreplicas = 5\npoints = [[0.5, 4]]\n[model]\nkind = "multilayer"\n'
        'activation = "identity"\nn_hidden = 12\nn_features = 6\nbatches_per_epoch = 20\n'
        "[train]\nsteps = 300\nmeasure_every = 100\n"
    )
    model = models.build(cfg.model, shared_data_seed(cfg.sweep.seed))

    def train():
        streams = ReplicaStreams([replica_seed(cfg.sweep.seed, 0, r) for r in range(5)])
        return train_stack(model, 0.5, 4, streams, 300, 100, 10)

    kernel = train()
    monkeypatch.setattr(multilayer_step, "COMPILED", False)
    reference = train()
    for group in ("spectra", "scalars"):
        for name, values in getattr(kernel, group).items():
            np.testing.assert_array_equal(values, getattr(reference, group)[name], err_msg=name)
    np.testing.assert_array_equal(kernel.diverged_step, reference.diverged_step)
    assert (kernel.diverged_step > 0).sum() == 3 and (kernel.diverged_step < 0).sum() == 2  # both kinds
