"""The SGD loop (train.py): non-finite measurements mean divergence; the per-step poll bounds a stop."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm import config, models
from mpi_dbm.models.base import NON_FINITE
from mpi_dbm.models.teacher_student import TeacherStudentSpec
from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
from mpi_dbm.train import train_stack

TINY_GRBM = """
[sweep]
replicas = 3
points = [[0.02, 8]]
[model]
kind = "grbm"
n_visible = 4
n_hidden = 4
[train]
steps = 10
"""


def streams(n: int) -> ReplicaStreams:
    return ReplicaStreams([replica_seed(5, 0, r) for r in range(n)])


def test_a_replica_with_non_finite_measurements_is_diverged_never_done():
    """A teacher of 1e300 (refused by validation, built here directly) keeps the weights finite
    and inside the divergence bound, but W^T W overflows: the replicas must be diverged with
    reason non-finite at that measurement, with nothing recorded, never finished with inf/NaN."""
    spec = TeacherStudentSpec(
        kind="teacher_student",
        n=2,
        teacher_eigenvalues=(1e300, 1.0),
        data_per_batch=5,
        noise="annealed",
        noise_strength=0.0,
        init="teacher",
        init_std=None,
    )
    model = models.build(spec, shared_data_seed(0))
    out = train_stack(model, 0.1, 4, streams(3), steps=10, measure_every=5, check_every=5)
    assert np.isfinite(model.teacher).all()
    assert (out.diverged_step == 0).all()
    assert (out.diverged_reason == NON_FINITE).all()
    for values in (*out.spectra.values(), *out.scalars.values()):
        assert np.isnan(values).all()  # nothing recorded, not inf


def test_finite_replicas_are_unaffected_by_a_non_finite_neighbour():
    """Only the replica whose measurement is non-finite is diverged; the others are recorded."""
    cfg = config.parse_text(TINY_GRBM)
    model = models.build(cfg.model, shared_data_seed(0))
    reference = train_stack(model, 0.02, 8, streams(3), 10, 5, 5)
    original = model.measure

    def measure(state):  # replica 1's loss overflows at step 5 (its state stays finite)
        meas = original(state)
        if measure.calls == 1:
            meas.scalars["loss"][1] = np.inf
        measure.calls += 1
        return meas

    measure.calls = 0
    model.measure = measure
    out = train_stack(model, 0.02, 8, streams(3), 10, 5, 5)
    assert out.diverged_step.tolist() == [-1, 5, -1]
    assert out.diverged_reason.tolist() == [0, NON_FINITE, 0]
    np.testing.assert_array_equal(out.spectra["X"][[0, 2]], reference.spectra["X"][[0, 2]])
    np.testing.assert_array_equal(out.spectra["X"][1, 0], reference.spectra["X"][1, 0])
    assert np.isnan(out.spectra["X"][1, 1:]).all() and np.isnan(out.scalars["loss"][1, 1:]).all()


class Stop(Exception):
    pass


@pytest.mark.parametrize("after", [0, 1, 7])
def test_on_step_abandons_the_stack_within_one_step(after):
    """With check_every = steps (no check until the end), a stop polled by on_step still ends the
    stack right after the step at which it was requested, and after initialisation (after = 0)."""
    cfg = config.parse_text(TINY_GRBM.replace("steps = 10", "steps = 1000"))
    model = models.build(cfg.model, shared_data_seed(0))
    steps_taken = []
    original = model.step

    def step(*args):
        steps_taken.append(1)
        return original(*args)

    model.step = step
    polls = []

    def on_step():
        polls.append(1)
        if len(polls) > after:
            raise Stop

    with pytest.raises(Stop):
        train_stack(model, 0.02, 8, streams(3), 1000, 1000, 1000, on_step=on_step)
    assert len(steps_taken) == after
