"""Per-replica random streams: every draw comes from the replica's own SeedSequence.

A replica's randomness is a pure function of (root seed, point index, replica
index); stacking replicas together, or spreading them over ranks, never changes
which numbers a replica sees. Each replica has three independent streams
(spawn keys `INIT`, `NOISE`, `ORDER`) so that e.g. the data order never shifts
the noise sequence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .normals import fill_rows

INIT, NOISE, ORDER = 0, 1, 2
#: spawn key reserved for data shared by every replica of a sweep (drawn once)
SHARED_DATA_KEY = 2**31 - 1
#: normals buffered per replica at most (8 bytes each): 8 192 = 64 KiB per replica
MAX_CHUNK = 1 << 13
#: normals buffered per replica at least: one generator call draws ≥ 2 048 normals (~20 µs),
#: so its fixed cost (~0.5 µs) stays a few per cent
MIN_CHUNK = 1 << 11
#: target size of a stack's whole buffer: about the L2 cache (measured with the Gibbs trainer at
#: R = 64: 4 096 per replica was fastest, 32 768 ~5% slower, 2 048 ~2% slower)
BUFFER_BYTES = 2 << 20


def replica_seed(root_seed: int, point_index: int, replica: int) -> np.random.SeedSequence:
    """SeedSequence of one task: (root seed) spawned by (point index, replica index)."""
    return np.random.SeedSequence(root_seed, spawn_key=(point_index, replica))


def shared_data_seed(root_seed: int, data_set: int = 0) -> np.random.SeedSequence:
    """SeedSequence for data drawn once per sweep and shared by all replicas.

    `data_set` ([train] data_set) selects another shared draw (a replicate data set, e.g. one per
    point of a scan); 0, the default, is the sweep's own draw of every earlier version."""
    key = (SHARED_DATA_KEY,) if data_set == 0 else (SHARED_DATA_KEY, data_set)
    return np.random.SeedSequence(root_seed, spawn_key=key)


def _child(seed: np.random.SeedSequence, stream: int) -> np.random.Generator:
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, stream))
    return np.random.default_rng(child)


def default_chunk(n_replicas: int) -> int:
    """Normals buffered per replica: the stack's buffer stays near BUFFER_BYTES (a power of 2 in
    [MIN_CHUNK, MAX_CHUNK]). The values drawn never depend on it."""
    per_replica = BUFFER_BYTES // (8 * max(n_replicas, 1))
    chunk = 1 << max(int(per_replica).bit_length() - 1, 0)
    return int(min(MAX_CHUNK, max(MIN_CHUNK, chunk)))


class ReplicaStreams:
    """Random numbers for a stack of replicas, shape (R, ...), one Generator per row.

    Normals are drawn in chunks per replica and served from a buffer, so a step
    costs one slice instead of R generator calls. A Generator's normal stream
    does not depend on how it is chunked, so the values are those of drawing
    one at a time. A refill draws every row in one call (normals.fill_rows: numpy's
    bits, compiled when it was built). The buffer is allocated once and refilled in place (no page
    faults of a fresh allocation per refill); `chunk` defaults to `default_chunk(R)`.
    """

    def __init__(self, seeds: Sequence[np.random.SeedSequence], chunk: int | None = None) -> None:
        self.seeds = list(seeds)
        self.init = [_child(s, INIT) for s in self.seeds]
        self.order = [_child(s, ORDER) for s in self.seeds]
        self._noise = [_child(s, NOISE) for s in self.seeds]
        self._chunk = default_chunk(len(self.seeds)) if chunk is None else int(chunk)
        self._buffer = np.empty((len(self.seeds), 0))
        self._pos = 0

    def __len__(self) -> int:
        return len(self.seeds)

    @property
    def buffer_bytes(self) -> int:
        """Bytes held by the normal buffer (all replicas)."""
        return int(self._buffer.nbytes)

    def subset(self, rows: slice) -> ReplicaStreams:
        """The streams of replicas `rows` (a slice of this stack) as a stack of their own.

        They share the Generators, and take over the normals this stack had buffered for those
        rows: drawing from the subset continues each replica's stream exactly. Use either the
        subset or this stack for those replicas afterwards, not both.
        """
        sub = ReplicaStreams.__new__(ReplicaStreams)
        sub.seeds = self.seeds[rows]
        sub.init = self.init[rows]
        sub.order = self.order[rows]
        sub._noise = self._noise[rows]
        sub._chunk = default_chunk(len(sub.seeds))
        sub._buffer = self._buffer[rows, self._pos :].copy()
        sub._pos = 0
        return sub

    def normal(self, shape: tuple[int, ...]) -> np.ndarray:
        """Standard normals of shape (R, *shape); a view valid until the next call.

        The caller may scale the view in place: those numbers are never served again.
        """
        n = math.prod(shape)  # not np.prod: that costs more than serving a small step
        if self._pos + n > self._buffer.shape[1]:
            self._refill(n)
        out = self._buffer[:, self._pos : self._pos + n]
        self._pos += n
        return out.reshape(len(self.seeds), *shape)

    def _refill(self, need: int) -> None:
        keep = self._buffer.shape[1] - self._pos
        size = max(self._chunk, need)
        if size > self._buffer.shape[1]:
            fresh = np.empty((len(self.seeds), size))
            fresh[:, :keep] = self._buffer[:, self._pos :]
            self._buffer = fresh
        elif keep:
            self._buffer[:, :keep] = self._buffer[:, self._pos :].copy()
        fill_rows(self._noise, self._buffer, keep)
        self._pos = 0
