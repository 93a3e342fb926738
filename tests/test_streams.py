"""Per-replica randomness: results never depend on stacking or chunking."""

from __future__ import annotations

import numpy as np

from mpi_dbm import config, models
from mpi_dbm.streams import ReplicaStreams, replica_seed, shared_data_seed
from mpi_dbm.train import train_stack


def test_normals_do_not_depend_on_chunk_size():
    seeds = [replica_seed(3, 1, r) for r in range(3)]
    a, b = ReplicaStreams(seeds, chunk=7), ReplicaStreams(seeds, chunk=1 << 12)
    draws_a = np.concatenate([a.normal((5,)).copy() for _ in range(40)], axis=1)
    draws_b = np.concatenate([b.normal((5,)).copy() for _ in range(40)], axis=1)
    np.testing.assert_array_equal(draws_a, draws_b)


def test_replica_seeds_are_distinct_per_point_and_replica():
    firsts = {ReplicaStreams([replica_seed(1, p, r)]).normal((1,)).item() for p in range(3) for r in range(3)}
    assert len(firsts) == 9


def test_a_replica_trains_the_same_alone_or_in_a_stack():
    cfg = config.default()
    model = models.build(cfg.model, shared_data_seed(1))
    seeds = [replica_seed(1, 0, r) for r in range(5)]
    stacked = train_stack(model, 0.04, 8, ReplicaStreams(seeds), 200, 100, 50)
    for r in (0, 3):
        alone = train_stack(model, 0.04, 8, ReplicaStreams(seeds[r : r + 1]), 200, 100, 50)
        np.testing.assert_array_equal(alone.spectra["X"][0], stacked.spectra["X"][r])
