"""mpi_dbm/normals.py: many generators' normals at once, bit for bit numpy's `standard_normal`."""

from __future__ import annotations

import numpy as np
import pytest

from mpi_dbm import normals
from mpi_dbm.streams import ReplicaStreams, replica_seed

needs_compiled = pytest.mark.skipif(not normals.COMPILED, reason="the compiled sampler was not built")

#: the ziggurat's tail starts here: values beyond it come only from numpy's slow path
TAIL = 3.6541528853610088
BIT_GENERATORS = (np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64)


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x).view(np.uint64)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("kind", BIT_GENERATORS, ids=lambda k: k.__name__)
def test_rows_are_the_generators_own_normals_bit_for_bit(kind, compiled):
    """Every row: the same bits as `standard_normal` of its generator, and the generator left in
    the same state (its next raw words agree too). 10⁶ draws per row reach the wedges and the tail."""
    if compiled and not normals.COMPILED:
        pytest.skip("the compiled sampler was not built")
    seeds = (0, 7, 2024)
    ours = [np.random.Generator(kind(s)) for s in seeds]
    theirs = [np.random.Generator(kind(s)) for s in seeds]
    out = np.full((len(seeds), 1_000_003), np.nan)
    # the compiled filler called directly: fill_rows would fall back to numpy's if it disagreed
    fill = normals._compiled_fill if compiled else normals._numpy_fill
    fill(ours, out, 3)
    assert np.isnan(out[:, :3]).all()  # nothing written before `start`
    for row, ref in zip(out, theirs, strict=True):
        assert np.array_equal(_bits(row[3:]), _bits(ref.standard_normal(1_000_000)))
    assert (np.abs(out[:, 3:]) > TAIL).sum() > 100  # the tail (numpy's own code) was taken
    for a, b in zip(ours, theirs, strict=True):
        assert np.array_equal(a.bit_generator.random_raw(3), b.bit_generator.random_raw(3))


@needs_compiled
def test_a_fill_continues_each_stream_exactly():
    """Consecutive fills of any sizes give the stream of one long draw (what ReplicaStreams relies on)."""
    gen, ref = np.random.default_rng(5), np.random.default_rng(5)
    got = []
    for n in (1, 2, 255, 4096, 17):
        out = np.empty((1, n))
        normals._compiled_fill([gen], out, 0)
        got.append(out[0])
    assert np.array_equal(_bits(np.concatenate(got)), _bits(ref.standard_normal(4371)))


def test_the_default_set_up_builds_the_compiled_sampler():
    """`make install` must give the compiled sampler, and it must pass its run-time check: numpy's
    loop is the fallback, ~1.5× slower for a whole GRBM step (docs/performance.md)."""
    assert normals.COMPILED and normals.compiled_agrees()


@needs_compiled
@pytest.mark.parametrize(
    "out, start, capsules, error",
    [
        (np.empty((2, 8), dtype=np.float32), 0, 2, "float64"),
        (np.empty((2, 8))[:, ::2], 0, 2, "contiguous"),
        (np.empty(8), 0, 1, "shape"),
        (np.empty((3, 8)), 0, 2, "shape"),
        (np.empty((2, 8)), 9, 2, "start"),
        (np.empty((2, 8)), -1, 2, "start"),
        (np.empty((2, 8)), 0, "bad", "capsules"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_drawn(out, start, capsules, error):
    from mpi_dbm import _ziggurat

    gens = [np.random.default_rng(i) for i in range(2)]
    states = [g.bit_generator.state for g in gens]
    caps = [g.bit_generator.capsule for g in gens]
    caps = [caps[0], object()] if capsules == "bad" else caps[:capsules]
    with pytest.raises((ValueError, TypeError, BufferError), match=f"(?i){error}"):
        _ziggurat.fill(caps, out, start)
    assert [g.bit_generator.state for g in gens] == states


def test_a_build_that_disagrees_with_numpy_is_not_used(monkeypatch):
    """A compiled sampler that does not reproduce numpy here (built against another numpy) is
    replaced by numpy's loop, with one warning that says what to do."""
    monkeypatch.setattr(normals, "COMPILED", True)
    monkeypatch.setattr(normals, "compiled_agrees", lambda: False)
    monkeypatch.setattr(normals, "_compiled_fill", lambda *a: pytest.fail("the compiled sampler ran"))
    normals._warn_mismatch.cache_clear()
    out = np.empty((1, 10))
    with pytest.warns(RuntimeWarning, match="does not reproduce numpy.*--no-build-isolation"):
        normals.fill_rows([np.random.default_rng(3)], out, compiled=True)
    assert np.array_equal(out[0], np.random.default_rng(3).standard_normal(10))
    normals._warn_mismatch.cache_clear()


def test_replica_streams_serve_the_same_numbers_either_way(monkeypatch):
    """A stack's noise streams are the same with the compiled sampler and with numpy's loop."""
    seeds = [replica_seed(11, 0, r) for r in range(5)]

    def served(compiled: bool) -> np.ndarray:
        monkeypatch.setattr(normals, "COMPILED", compiled and normals.COMPILED)
        streams = ReplicaStreams(seeds, chunk=300)
        return np.concatenate([streams.normal((n,)).copy() for n in (7, 290, 5, 1000)], axis=1)

    assert np.array_equal(_bits(served(True)), _bits(served(False)))
