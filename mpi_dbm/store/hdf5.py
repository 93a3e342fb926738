"""Small helpers of the store: fixed-length string attributes, read errors as one
ResultsFileError, and runs of a task mask ("3, 7..9, 12")."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import ResultsFileError


def _attr(value: Any) -> Any:
    """An attribute value with strings as fixed-length UTF-8 (no variable-length data, hence no
    global heap: HDF5 1.10.8 loops forever on a damaged one, and it has no checksum)."""
    if isinstance(value, str):
        raw = value.encode()
        return np.array(raw, dtype=h5py.string_dtype("utf-8", max(1, len(raw))))
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        raws = [v.encode() for v in value]
        return np.array(raws, dtype=h5py.string_dtype("utf-8", max([1, *map(len, raws)])))
    return value


def _plain(value: Any) -> Any:
    """An attribute value as read back: bytes decoded, numpy scalars as Python scalars."""
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, np.ndarray) and value.dtype.kind in "SO":
        return [_plain(v) for v in value.tolist()]
    return value.item() if isinstance(value, np.generic) else value


_READ_ERRORS = (OSError, KeyError, RuntimeError, ValueError, TypeError, IndexError, AttributeError)


@contextlib.contextmanager
def _reading(path: Path, what: str) -> Iterator[None]:
    """Turn any error HDF5 raises while reading `what` into one ResultsFileError."""
    try:
        yield
    except _READ_ERRORS as exc:
        text = " ".join(str(exc).split()) or type(exc).__name__
        raise ResultsFileError(f"{str(path)!r} is damaged: cannot read {what} ({text})") from None


def _ranges(indices: np.ndarray, limit: int = 12) -> str:
    """'3, 7..9, 12' for sorted indices (at most `limit` runs, then '... (N in all)')."""
    runs = _runs(np.isin(np.arange(int(indices.max()) + 1), indices)) if indices.size else []
    text = ", ".join(
        f"{r.start}" if r.stop - r.start == 1 else f"{r.start}..{r.stop - 1}" for r in runs[:limit]
    )
    return text + (f", ... ({indices.size} in all)" if len(runs) > limit else "")


def _runs(mask: np.ndarray) -> list[slice]:
    """Contiguous runs of True in a 1-D mask, as slices."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
