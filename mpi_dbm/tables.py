"""Typed, strict reading of TOML tables: every key checked, unknown keys refused.

Used by `config` and by each model family to parse its own `[model]`/`[target]`
tables, so that every bad value produces one message naming the key and the fix.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Sequence
from typing import Any

from .errors import ConfigError

_MISSING = object()
#: largest magnitude accepted for a physical scale (eigenvalues, masses, noise strengths,
#: initial widths) where a family asks for it: recorded quantities are squares of weights
#: bounded by ~1e3 x the scale (the divergence bounds of the families), so a scale of 1e50 keeps
#: them below ~1e106 x N, far from overflow (1.8e308); beyond it spectra would be inf/NaN
MAX_SCALE = 1e50
#: largest matrix dimension a family accepts (n_visible, n, n_in, ...): one 10^5 × 10^5 matrix
#: of float64 is 80 GB, beyond a rank's memory anywhere; parsing must not allocate such sizes
#: either (the memory estimate of cost.py judges everything below)
MAX_DIMENSION = 100_000


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


class Table:
    """One TOML table being read. Call `done()` once every key has been read."""

    def __init__(self, name: str, data: Any, source: str = "config") -> None:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: [{name}] must be a table, got {_type_name(data)}")
        self.name = name
        self.data = dict(data)
        self.source = source
        self._read: set[str] = set()

    # -- errors -----------------------------------------------------------------
    def error(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.source}: [{self.name}] {key}: {message}")

    def has(self, key: str) -> bool:
        return key in self.data

    def _get(self, key: str, default: Any) -> Any:
        self._read.add(key)
        if key in self.data:
            return self.data[key]
        if default is _MISSING:
            raise self.error(key, "missing (this key is required)")
        return default

    # -- typed getters ----------------------------------------------------------
    def string(self, key: str, default: Any = _MISSING, choices: Sequence[str] | None = None) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {_type_name(value)} {value!r}")
        if choices is not None and value not in choices:
            hint = difflib.get_close_matches(value, choices, n=1)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            allowed = ", ".join(repr(c) for c in choices)
            raise self.error(key, f"{value!r} is not one of {allowed}{did}")
        return value

    def integer(
        self, key: str, default: Any = _MISSING, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self._check_int(key, self._get(key, default), minimum)
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be <= {maximum}, got {value}")
        return value

    def _check_int(self, key: str, value: Any, minimum: int | None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be an integer, got {_type_name(value)} {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be >= {minimum}, got {value}")
        return value

    def number(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        positive: bool = False,
        nonnegative: bool = False,
        magnitude: float | None = None,
    ) -> float:
        value = self._get(key, default)
        return self._check_number(key, value, positive=positive, nonnegative=nonnegative, magnitude=magnitude)

    def _check_number(
        self,
        key: str,
        value: Any,
        *,
        positive: bool = False,
        nonnegative: bool = False,
        magnitude: float | None = None,
    ) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, got {_type_name(value)} {value!r}")
        number = float(value)
        if not math.isfinite(number):
            raise self.error(key, f"must be finite, got {number}")
        if positive and number <= 0:
            raise self.error(key, f"must be > 0, got {number:g}")
        if nonnegative and number < 0:
            raise self.error(key, f"must be >= 0, got {number:g}")
        if magnitude is not None and abs(number) > magnitude:
            raise self.error(
                key,
                f"{number:g} is out of scale: at most {magnitude:g} in magnitude (the recorded spectra, "
                "squares of the weights, would overflow to inf/NaN)",
            )
        return number

    def number_list(
        self,
        key: str,
        default: Any = _MISSING,
        *,
        positive: bool = False,
        magnitude: float | None = None,
    ) -> tuple[float, ...]:
        value = self._get(key, default)
        if value is None:
            return ()
        items = self._list(key, value)
        return tuple(
            self._check_number(f"{key}[{i}]", v, positive=positive, magnitude=magnitude)
            for i, v in enumerate(items)
        )

    def integer_list(self, key: str, default: Any = _MISSING, minimum: int | None = None) -> tuple[int, ...]:
        value = self._get(key, default)
        if value is None:
            return ()
        items = self._list(key, value)
        return tuple(self._check_int(f"{key}[{i}]", v, minimum) for i, v in enumerate(items))

    def mark_read(self, *keys: str) -> None:
        """Count keys as known (for did-you-mean) without reading them."""
        self._read.update(keys)

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        return self._get(key, default)

    def _list(self, key: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise self.error(key, f"must be a list, got {_type_name(value)} {value!r}")
        if not value:
            raise self.error(key, "must not be empty")
        return value

    def check(self, key: str, ok: bool, message: str) -> None:
        if not ok:
            raise self.error(key, message)

    def not_taken(self, reason: str) -> None:
        """Refuse a table that must stay empty (`reason` says who takes none)."""
        if self.data:
            keys = ", ".join(sorted(self.data))
            raise ConfigError(f"{self.source}: [{self.name}] ({keys}): {reason}; remove the table")

    def done(self) -> None:
        """Refuse keys nobody read, with a did-you-mean from the keys that were read."""
        unknown = sorted(set(self.data) - self._read)
        if not unknown:
            return
        if not self._read:
            self.not_taken("this table takes no keys")
        key = unknown[0]
        hint = difflib.get_close_matches(key, sorted(self._read), n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        known = ", ".join(sorted(self._read))
        raise ConfigError(f"{self.source}: [{self.name}] unknown key {key!r}{did}; known keys: {known}")


def section(data: dict[str, Any], name: str, source: str, required: bool = True) -> Table:
    if name not in data and required:
        raise ConfigError(f"{source}: missing table [{name}]")
    return Table(name, data.get(name), source)


Validator = Callable[[Table], None]
