"""Per-task checksums: the 64-bit BLAKE2b of a task's rows (docs/file-format.md, "Checksums")."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

#: dtypes (little-endian) of the /tasks columns a task's checksum covers; with them every
#: dataset of /spectra and /scalars. Not covered: /tasks/checksum itself.
_TASK_FIELD_DTYPES = {
    "point": "<i8",
    "learning_rate": "<f8",
    "batch_size": "<i8",
    "replica": "<i8",
    "status": "|i1",
    "diverged_step": "<i8",
    "diverged_reason": "|i1",
}
_TABLE_FIELDS = ("point", "learning_rate", "batch_size", "replica")
_CHECKSUM_PERSON = b"mpi-dbm task"


def task_checksums(first: int, rows: Mapping[str, np.ndarray]) -> np.ndarray:
    """Checksum of each task's rows, as uint64 (docs/file-format.md, "Checksums").

    `rows` maps dataset paths ("tasks/status", "spectra/X", "scalars/loss", ...) to arrays
    whose first axis runs over tasks first, first + 1, ... For task t the checksum is the
    64-bit BLAKE2b (RFC 7693; digest_size 8, personalisation b"mpi-dbm task") of
    t as little-endian int64, then for each path in sorted order: the path in UTF-8, a NUL
    byte, and the task's row in C order as little-endian bytes of the dataset's dtype
    (float64 for /spectra and /scalars). The digest is read as a little-endian uint64.
    """
    names = sorted(rows)
    arrays = [np.ascontiguousarray(rows[name], dtype=_row_dtype(name)) for name in names]
    n = len(arrays[0]) if arrays else 0
    # every task's hashed bytes laid out in one row of `message`, filled column block by block
    # (hashing one buffer per task gives the digest of the piecewise updates the docstring lists)
    parts: list[np.ndarray] = [(first + np.arange(n, dtype="<i8")).view(np.uint8).reshape(n, 8)]
    for name, a in zip(names, arrays, strict=True):
        key = np.frombuffer(name.encode() + b"\0", dtype=np.uint8)
        parts += [np.broadcast_to(key, (n, key.size)), a.reshape(n, a[0].size if n else 0).view(np.uint8)]
    message = np.concatenate(parts, axis=1)
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        digest = hashlib.blake2b(message[i], digest_size=8, person=_CHECKSUM_PERSON).digest()
        out[i] = int.from_bytes(digest, "little")
    return out


def _row_dtype(name: str) -> str:
    group, _, field = name.partition("/")
    return _TASK_FIELD_DTYPES[field] if group == "tasks" else "<f8"
