"""Size estimates (cost.py) against what the trainer really allocates, and the resource check."""

from __future__ import annotations

import tracemalloc

import pytest

from mpi_dbm import config, models
from mpi_dbm.cost import check_resources, footprint, machine_memory
from mpi_dbm.errors import ConfigError
from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
from mpi_dbm.train import train_stack

SWEEP = """
[sweep]
replicas = 8
block_size = 8
points = [[0.001, {b}]]
[model]
{model}
{target}
[train]
steps = 20
measure_every = 10
"""

GRBM = 'kind = "grbm"\nn_visible = 40\nn_hidden = 30\nmu = 6.0\n'
CASES = {
    "grbm marginal": (GRBM, "", 64),
    "grbm gibbs": (GRBM + 'sampler = "gibbs"', "", 64),
    "grbm exact, many chains": ('kind = "grbm"\nn_visible = 10\nsampler = "exact"', "", 256),
    "grbm marginal, big N": ('kind = "grbm"\nn_visible = 80\nn_hidden = 80\nmu = 6.0', "", 8),
    "grbm minibatch": (GRBM + 'noise = "minibatch"', "[target]\nn_samples = 20000", 64),
    "grbm exact gradient": (GRBM + 'noise = "none"', "", 64),
    "teacher-student quenched": ('kind = "teacher_student"\nn = 20\ndata_per_batch = 2000', "", 32),
    "teacher-student annealed": (
        'kind = "teacher_student"\nn = 20\ndata_per_batch = 2000\nnoise = "annealed"',
        "",
        32,
    ),
    "linear online": ('kind = "linear"\nn_in = 30\nn_hidden = 20\nn_out = 25', "", 64),
    "linear finite, shuffled": (
        'kind = "linear"\nn_in = 30\nn_hidden = 20\nn_out = 25\ndata = "finite"\ndata_per_batch = 500',
        "",
        64,
    ),
    "multilayer": ('kind = "multilayer"\nbatches_per_epoch = 300', "", 32),
    "linear finite, quenched noise": (
        'kind = "linear"\nn_in = 30\nn_hidden = 30\nn_out = 30\ndata = "finite"\ndata_per_batch = 500\n'
        'order = "fixed"\ngradient_noise = 0.1\ngradient_noise_kind = "quenched"',
        "",
        64,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_memory_estimate_bounds_the_real_peak(case):
    """The estimate is an upper bound of the peak of Python-traced allocations (numpy arrays) of
    building the model and training one unit, and not a vacuous one (within 8x)."""
    model_text, target, b = CASES[case]
    cfg = config.parse_text(SWEEP.format(b=b, model=model_text, target=target))
    tracemalloc.start()
    try:
        model = models.build(cfg.model, shared_data_seed(0))
        streams = ReplicaStreams([replica_seed(0, 0, r) for r in range(8)])
        train_stack(model, 0.001, b, streams, 20, 10, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate = footprint(cfg).memory_bytes
    assert peak <= estimate <= 8 * peak, (peak, estimate)


def test_file_size_estimate_is_the_recorded_values():
    cfg = config.parse_text(SWEEP.format(b=16, model=GRBM, target=""))
    model = models.build(cfg.model, shared_data_seed(0))
    values = sum(s.size for s in model.spectra) + len(model.scalars)
    n_meas = len(cfg.train.measure_steps)
    assert footprint(cfg).file_bytes >= cfg.n_tasks * n_meas * values * 8


@pytest.mark.parametrize(
    ("model_text", "target", "key"),
    [
        ('kind = "grbm"\nn_visible = 50000\nn_hidden = 50000\nmu = 1000.0', "", "[model] n_visible = 50000"),
        (
            GRBM + 'noise = "minibatch"',
            "[target]\nn_samples = 1000000000000",
            "[target] n_samples = 1000000000000",
        ),
        (
            'kind = "teacher_student"\nn = 10\ndata_per_batch = 1000000000',
            "",
            "[model] data_per_batch = 1000000000",
        ),
        ('kind = "multilayer"\nbatches_per_epoch = 1000000000', "", "[model] batches_per_epoch = 1000000000"),
    ],
)
def test_what_cannot_fit_is_refused_naming_the_key(model_text, target, key):
    cfg = config.parse_text(SWEEP.format(b=16, model=model_text, target=target))
    with pytest.raises(ConfigError) as err:
        check_resources(cfg, source="x.toml")
    message = str(err.value)
    assert message.startswith(f"x.toml: {key}: needs ~") and "of memory per rank" in message
    assert "--force-size" in message
    warnings = check_resources(cfg, source="x.toml", force=True)
    assert any("running anyway (--force-size)" in w for w in warnings)


def test_the_memory_share_is_divided_among_the_ranks_of_a_node(monkeypatch):
    cfg = config.parse_text(SWEEP.format(b=16, model=GRBM, target=""))
    need = footprint(cfg).memory_bytes
    monkeypatch.setenv("MPI_DBM_MEMORY", str(3 * need))
    assert machine_memory() == (3 * need, "MPI_DBM_MEMORY")
    assert check_resources(cfg) == []
    monkeypatch.setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "4")
    with pytest.raises(ConfigError, match="/ 4 ranks on this node"):
        check_resources(cfg)


def test_a_slow_step_is_warned_about():
    cfg = config.parse_text(
        SWEEP.format(b=16, model='kind = "grbm"\nn_visible = 3000\nmu = 100.0', target="")
    )
    fp = footprint(cfg)
    assert fp.step_seconds is not None and fp.step_seconds > 10
    warnings = check_resources(cfg, force=True)
    assert any("[model] n_visible = 3000: one step of a work unit" in w for w in warnings)
