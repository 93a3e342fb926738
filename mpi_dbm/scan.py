"""Parameter scans: `[sweep.scan]`, any scalar key of [model], [target] and [train] beside α, |B|.

```toml
[sweep.scan]                                  # combine = "product" (default): every combination
"model.noise_strength" = [0.05, 0.06, 0.07]   # of the lists, times the [sweep] (α, |B|) grid

[sweep.scan]                                  # combine = "zip": explicit points, entry i of every
combine = "zip"                               # list together; with `learning_rate` and
learning_rate = [0.1, 0.2]                    # `batch_size` among the lists, they are the points'
batch_size = [16, 16]                         # α and |B| ([sweep] then has no grid), without them
"model.init_width" = [1.0, 4.0]               # every entry is combined with the [sweep] grid
```

A *variant* is one assignment of the scanned [model]/[target]/[train] keys: the config with those
values substituted and parsed again by the family's own parser (so every value is validated as if
written in the file). A *point* is a variant at one (α, |B|); points are numbered variant-major
(all grid points of variant 0 first), so a config without a scan keeps its point numbers, and its
canonical text and hashes. Replica r of point i draws from SeedSequence(seed, spawn_key=(i, r)).

A key that would change the shape of a recorded array (a spectrum's size, the scalars, the
measured steps) cannot be scanned: the results file holds one array per observable for all points.
"""

from __future__ import annotations

import copy
import difflib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ConfigError

Scalar = bool | int | float | str
#: the tables whose keys may be scanned, as `"TABLE.KEY"`
SCANNABLE_TABLES = ("model", "target", "train")
#: zip-only keys that give each point its own α and |B|
AXIS_KEYS = ("learning_rate", "batch_size")
COMBINE = ("product", "zip")
#: keys that select the family or are otherwise not parameters
NOT_SCANNABLE = {"model.kind": "it selects the model family; run one sweep per family"}


@dataclass(frozen=True)
class Scan:
    """The scan as written (canonical values): lists per key and how they combine."""

    combine: str
    keys: tuple[str, ...]
    values: tuple[tuple[Scalar, ...], ...]

    @property
    def parameter_keys(self) -> tuple[str, ...]:
        """The scanned [model]/[target]/[train] keys (not α, |B|)."""
        return tuple(k for k in self.keys if k not in AXIS_KEYS)

    def entries(self) -> list[dict[str, Scalar]]:
        """One mapping key -> value per scan entry, in point order."""
        if self.combine == "zip":
            return [dict(zip(self.keys, row, strict=True)) for row in zip(*self.values, strict=True)]
        return [dict(zip(self.keys, row, strict=True)) for row in itertools.product(*self.values)]

    def table(self) -> dict[str, Any]:
        """The canonical `[sweep.scan]` table."""
        return {"combine": self.combine, **{k: list(v) for k, v in zip(self.keys, self.values, strict=True)}}


@dataclass(frozen=True)
class Variant:
    """One assignment of the scanned keys, with the spec and train config it parses to."""

    index: int
    parameters: tuple[tuple[str, Scalar], ...]
    model: Any  # the family's frozen spec
    train: Any  # config.TrainConfig

    def label(self) -> str:
        return parameters_label(self.parameters)


def format_value(value: Scalar) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def parameters_label(parameters: Sequence[tuple[str, Scalar]]) -> str:
    """The scanned values without their table names: "noise_strength=0.05, data_set=1"."""
    return ", ".join(f"{k.split('.', 1)[1]}={format_value(v)}" for k, v in parameters)


def _is_scalar(value: Any) -> bool:
    return isinstance(value, bool | int | float | str)


def read_scan(raw: Any, source: str) -> tuple[str, dict[str, list[Any]]] | None:
    """The `[sweep.scan]` table as (combine, key -> list); None without one. Checks the form only."""
    if raw is None:
        return None
    where = f"{source}: [sweep.scan]"
    if not isinstance(raw, dict):
        raise ConfigError(f'{where} must be a table of lists, e.g. "model.noise_strength" = [0.05, 0.1]')
    combine = raw.get("combine", "product")
    if combine not in COMBINE:
        raise ConfigError(f'{where} combine: must be "product" or "zip", got {combine!r}')
    lists: dict[str, list[Any]] = {}
    for key, values in raw.items():
        if key == "combine":
            continue
        if isinstance(values, dict):  # a dotted key written without quotes: model.x = [...]
            raise ConfigError(
                f"{where} {key}.{next(iter(values), '')}: quote a dotted key, "
                f'e.g. "{key}.{next(iter(values), "name")}" = [...]'
            )
        table, _, name = key.partition(".")
        if key in AXIS_KEYS:
            if combine != "zip":
                raise ConfigError(
                    f"{where} {key}: α and |B| are scanned by [sweep] learning_rates/batch_sizes (or points);"
                    ' per-point lists of them need combine = "zip"'
                )
        elif table not in SCANNABLE_TABLES or not name:
            raise ConfigError(
                f'{where} {key!r}: unknown key; scan keys are "model.KEY", "target.KEY" or "train.KEY"'
                + (' (and learning_rate, batch_size with combine = "zip")' if "." not in key else "")
            )
        elif key in NOT_SCANNABLE:
            raise ConfigError(f"{where} {key!r} cannot be scanned: {NOT_SCANNABLE[key]}")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where} {key!r}: must be a non-empty list of values, got {values!r}")
        for v in values:
            if not _is_scalar(v):
                raise ConfigError(
                    f"{where} {key!r}: every value must be a number, boolean or string, got {v!r}"
                    " (only scalar keys can be scanned)"
                )
        if combine == "product":
            for i, v in enumerate(values):
                if any(_same(v, w) for w in values[:i]):
                    raise ConfigError(f"{where} {key!r}: the value {v!r} appears twice (duplicate points)")
        lists[key] = values
    if not lists:
        raise ConfigError(f'{where} scans nothing: give at least one "TABLE.KEY" = [values]')
    if combine == "zip":
        lengths = {k: len(v) for k, v in lists.items()}
        if len(set(lengths.values())) > 1:
            detail = ", ".join(f"{k!r} has {n}" for k, n in lengths.items())
            raise ConfigError(f'{where} combine = "zip" needs lists of one length: {detail}')
        if ("learning_rate" in lists) != ("batch_size" in lists):
            raise ConfigError(f"{where} give both learning_rate and batch_size per entry, or neither")
        rows = list(zip(*lists.values(), strict=True))
        for i, row in enumerate(rows):
            for j in range(i):
                if all(_same(a, b) for a, b in zip(row, rows[j], strict=True)):
                    raise ConfigError(f"{where} entries {j} and {i} are the same point (duplicate points)")
    return combine, lists


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def override(data: dict[str, Any], parameters: Sequence[tuple[str, Scalar]]) -> dict[str, Any]:
    """A copy of the parsed TOML document with the scanned values substituted."""
    out = copy.deepcopy(data)
    for key, value in parameters:
        table, name = key.split(".", 1)
        if not isinstance(out.get(table), dict):
            out[table] = {}
        out[table][name] = value
    return out


#: (document) -> (spec, train config); raises ConfigError
ParseVariant = Callable[[dict[str, Any]], tuple[Any, Any]]
#: (spec, train config) -> the shapes of the recorded arrays, {observable: shape}
ShapeOf = Callable[[Any, Any], dict[str, Any]]


def variants(
    data: dict[str, Any],
    combine: str,
    lists: dict[str, list[Any]],
    canonical: dict[str, dict[str, Any]],
    parse_variant: ParseVariant,
    shape_of: ShapeOf,
    source: str,
) -> tuple[Scan, tuple[Variant, ...], list[tuple[int, dict[str, Scalar]]]]:
    """Parse every variant of the scan. Returns the canonical Scan, the variants and, per scan
    entry in point order, (variant index, its α/|B| overrides if any).

    `canonical` holds the base document's canonical tables ({"model": ..., "target": ...,
    "train": ...}): a key missing there is unknown, a list- or table-valued one is not scalar.
    `parse_variant` parses a document; `shape_of` gives the shapes of the arrays a variant
    records, which must be those of the base document for every scanned value.
    """
    where = f"{source}: [sweep.scan]"
    base_shape = shape_of(*parse_variant(data))
    canon_lists: dict[str, list[Scalar]] = {}
    for key, values in lists.items():
        if key in AXIS_KEYS:
            canon_lists[key] = list(values)
            continue
        table, name = key.split(".", 1)
        if name not in canonical.get(table, {}):
            known = sorted(f"{table}.{k}" for k in canonical.get(table, {}))
            hint = difflib.get_close_matches(key, known, n=1)
            scalar = [k for k in known if _is_scalar(_lookup(canonical, k)) and k not in NOT_SCANNABLE]
            raise ConfigError(
                f"{where} {key!r}: unknown key"
                + (f" (did you mean {hint[0]!r}?)" if hint else "")
                + f"; the scalar keys of [{table}] are {', '.join(scalar)}"
            )
        if not _is_scalar(canonical[table][name]):
            raise ConfigError(
                f"{where} {key!r}: not a scalar key (its value is a {type(canonical[table][name]).__name__});"
                " only numbers, booleans and strings can be scanned"
            )
        canon_lists[key] = []
        for value in values:
            try:
                spec, train = parse_variant(override(data, [(key, value)]))
            except ConfigError as exc:
                raise ConfigError(f"{where} {key!r} = {value!r}: {_inner(exc, source)}") from None
            shape = shape_of(spec, train)
            if shape != base_shape:
                raise ConfigError(
                    f"{where} {key!r} changes the shape of the recorded arrays "
                    f"({_shape_change(base_shape, shape)} at {key} = {value!r}): one results file holds "
                    "one array per observable for every point, so such a key cannot be scanned; "
                    "run one sweep per value instead"
                )
            canon = _lookup({**spec.to_tables(), "train": train_table(train)}, key)
            canon_lists[key].append(canon)
    scan = Scan(combine, tuple(lists), tuple(tuple(canon_lists[k]) for k in lists))
    out: list[Variant] = []
    index_of: dict[tuple[tuple[str, Scalar], ...], int] = {}
    entries: list[tuple[int, dict[str, Scalar]]] = []
    for entry in scan.entries():
        params = tuple((k, v) for k, v in entry.items() if k not in AXIS_KEYS)
        if params not in index_of:
            try:
                spec, train = parse_variant(override(data, params))
            except ConfigError as exc:
                label = ", ".join(f"{k} = {v!r}" for k, v in params)
                raise ConfigError(f"{where} the point {label}: {_inner(exc, source)}") from None
            index_of[params] = len(out)
            out.append(Variant(len(out), params, spec, train))
        entries.append((index_of[params], {k: v for k, v in entry.items() if k in AXIS_KEYS}))
    return scan, tuple(out), entries


def _inner(exc: ConfigError, source: str) -> str:
    """A variant's parse error without the repeated source prefix."""
    text = str(exc)
    return text.removeprefix(f"{source}: ")


def _lookup(tables: dict[str, dict[str, Any]], key: str) -> Any:
    table, name = key.split(".", 1)
    return tables.get(table, {}).get(name)


def train_table(train: Any) -> dict[str, Any]:
    return {
        "steps": train.steps,
        "measure_every": train.measure_every,
        "check_every": train.check_every,
        "data_set": train.data_set,
    }


def _shape_change(base: Any, new: Any) -> str:
    """What differs between two shape signatures (dicts of name -> shape)."""
    parts = []
    for name in sorted(set(base) | set(new)):
        if base.get(name) != new.get(name):
            parts.append(f"{name}: {base.get(name, 'absent')} -> {new.get(name, 'absent')}")
    return "; ".join(parts) or "different arrays"
