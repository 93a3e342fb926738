"""Per-replica random streams: every draw comes from the replica's own SeedSequence.

A replica's randomness is a pure function of (root seed, point index, replica
index); stacking replicas together, or spreading them over ranks, never changes
which numbers a replica sees. Each replica has three independent streams
(spawn keys `INIT`, `NOISE`, `ORDER`) so that e.g. the data order never shifts
the noise sequence.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

INIT, NOISE, ORDER = 0, 1, 2
#: spawn key reserved for data shared by every replica of a sweep (drawn once)
SHARED_DATA_KEY = 2**31 - 1


def replica_seed(root_seed: int, point_index: int, replica: int) -> np.random.SeedSequence:
    """SeedSequence of one task: (root seed) spawned by (point index, replica index)."""
    return np.random.SeedSequence(root_seed, spawn_key=(point_index, replica))


def shared_data_seed(root_seed: int) -> np.random.SeedSequence:
    """SeedSequence for data drawn once per sweep and shared by all replicas."""
    return np.random.SeedSequence(root_seed, spawn_key=(SHARED_DATA_KEY,))


def _child(seed: np.random.SeedSequence, stream: int) -> np.random.Generator:
    child = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, stream))
    return np.random.default_rng(child)


class ReplicaStreams:
    """Random numbers for a stack of replicas, shape (R, ...), one Generator per row.

    Normals are drawn in chunks per replica and served from a buffer, so a step
    costs one slice instead of R generator calls. A Generator's normal stream
    does not depend on how it is chunked, so the values are those of drawing
    one at a time.
    """

    def __init__(self, seeds: Sequence[np.random.SeedSequence], chunk: int = 1 << 15) -> None:
        self.seeds = list(seeds)
        self.init = [_child(s, INIT) for s in self.seeds]
        self.order = [_child(s, ORDER) for s in self.seeds]
        self._noise = [_child(s, NOISE) for s in self.seeds]
        self._chunk = chunk
        self._buffer = np.empty((len(self.seeds), 0))
        self._pos = 0

    def __len__(self) -> int:
        return len(self.seeds)

    def normal(self, shape: tuple[int, ...]) -> np.ndarray:
        """Standard normals of shape (R, *shape); a view valid until the next call."""
        n = int(np.prod(shape))
        if self._pos + n > self._buffer.shape[1]:
            self._refill(n)
        out = self._buffer[:, self._pos : self._pos + n]
        self._pos += n
        return out.reshape(len(self.seeds), *shape)

    def _refill(self, need: int) -> None:
        left = self._buffer[:, self._pos :]
        size = max(self._chunk, need)
        fresh = np.empty((len(self.seeds), size))
        keep = left.shape[1]
        fresh[:, :keep] = left
        for row, gen in zip(fresh, self._noise, strict=True):
            gen.standard_normal(out=row[keep:])
        self._buffer, self._pos = fresh, 0
