"""Small shared pieces: result records, row handling, edge trimming, RNG coercion."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

__all__ = ["Estimate", "InsufficientDataError", "as_generator", "as_rows", "freeze", "trim_count"]


class InsufficientDataError(ValueError):
    """A statistic needs more data than it was given: "not enough data: need N WHAT, have M".

    A ValueError, so callers that treat bad input alike keep working; an analysis can catch it
    alone and report the statistic as undecided instead of failing.
    """

    def __init__(self, need: int, have: int, what: str = "values") -> None:
        self.need, self.have, self.what = int(need), int(have), what
        super().__init__(f"not enough data: need {self.need} {what}, have {self.have}")


def freeze(params: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """Read-only copy of a parameter mapping (for frozen result records)."""
    return MappingProxyType(dict(params or {}))


@dataclass(frozen=True)
class Estimate:
    """A value with its standard error, the number of independent units it rests on,
    and the method and parameters that produced it.

    Unpacks as ``value, error = estimate``.
    """

    value: float
    error: float
    n: int = 0
    method: str = ""
    params: Mapping[str, Any] = field(default_factory=freeze)

    def __iter__(self) -> Iterator[float]:
        return iter((self.value, self.error))

    def record(self) -> dict[str, Any]:
        """Plain dict (value, error, n, method, params) for storing next to results."""
        return {
            "value": self.value,
            "error": self.error,
            "n": self.n,
            "method": self.method,
            "params": dict(self.params),
        }


def as_generator(rng: np.random.Generator | int) -> np.random.Generator:
    """A Generator from a Generator (returned as is) or an integer seed; never the global RNG."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.default_rng(int(rng))
    raise TypeError(f"expected a numpy.random.Generator or an integer seed, got {type(rng).__name__}")


def as_rows(levels: np.ndarray, *, sort: bool = True) -> np.ndarray:
    """Levels as a 2-D float array (rows = realisations), rows containing NaN dropped.

    A 1-D input is one realisation. With ``sort``, every row is sorted ascending.
    """
    x = np.asarray(levels, dtype=float)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ValueError(f"levels must be 1-D or 2-D (rows = realisations), got shape {x.shape}")
    x = x[~np.isnan(x).any(axis=1)]
    return np.sort(x, axis=1) if sort else x


def trim_count(trim: float, n: int) -> int:
    """Levels to drop at each edge: an int is a count, a float in [0, 0.5) a fraction of n."""
    if isinstance(trim, bool):
        raise TypeError("trim must be an int (count per side) or a float (fraction per side)")
    if isinstance(trim, (int, np.integer)):
        k = int(trim)
    else:
        if not 0.0 <= trim < 0.5:
            raise ValueError(f"a fractional trim must lie in [0, 0.5), got {trim}")
        k = round(float(trim) * n)
    if k < 0 or n - 2 * k < 1:
        raise ValueError(f"trim={trim} leaves no level out of {n}")
    return k
