"""Configurations -> the config of an imported file (its points, [model], [train]).

One configuration is one point. Their α and |B| become `[sweep] points` when every label is the
same everywhere; when a label differs (e.g. `noise` per configuration), the points are one
`[sweep.scan]` with `combine = "zip"`: entry i holds configuration i's learning_rate, batch_size
and every differing label as `"model.NAME"`. The snapshot axis becomes the measurements: the
steps must be 0, Δ, 2Δ, ... ([train] steps = last step, measure_every = Δ).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..config import Config, dump_toml, parse_text
from ..errors import ConfigError
from ..models.imported import KIND, ImportedSpec, Label
from .options import ImportOptions
from .sources import Configuration
from .spectra import describe, spectrum_names

SOURCE = "mpi-dbm import"


def common_shape(configs: list[Configuration], keys: tuple[str, ...]) -> tuple[int, int]:
    """(replicas, snapshots) shared by every configuration, and one matrix shape per key."""
    first = configs[0]
    for c in configs[1:]:
        if c.shape != first.shape:
            raise ConfigError(
                f"{c.source!r} has {c.shape[0]} replicas x {c.shape[1]} snapshots, {first.source!r} "
                f"{first.shape[0]} x {first.shape[1]}: every configuration needs the same"
            )
        for key in keys:
            if c.matrices[key].shape[2:] != first.matrices[key].shape[2:]:
                raise ConfigError(
                    f"{c.source!r}: {key!r} is {c.matrices[key].shape[2:]}, in {first.source!r} "
                    f"{first.matrices[key].shape[2:]}: a spectrum has one size in a results file"
                )
    return first.shape


def measured_steps(configs: list[Configuration], o: ImportOptions, snapshots: int) -> np.ndarray:
    """The step of each snapshot: --steps, else the input's steps (all equal), else 0..S-1."""
    if o.steps is not None:
        steps, where = np.array(o.steps, dtype=np.int64), "--steps"
    elif configs[0].steps is not None:
        steps, where = configs[0].steps, f"{configs[0].source!r}"
        for c in configs[1:]:
            if c.steps is None or not np.array_equal(c.steps, steps):
                raise ConfigError(f"{c.source!r}: its steps differ from those of {where}")
    else:
        steps, where = np.arange(snapshots, dtype=np.int64), "the default 0..S-1"
    if len(steps) != snapshots:
        raise ConfigError(f"{where}: {len(steps)} steps for {snapshots} snapshots")
    if snapshots < 2:
        raise ConfigError(
            "one snapshot per replica: a results file records at least two measurements "
            "(steps 0 and the last); import two or more snapshots"
        )
    gaps = np.diff(steps)
    if steps[0] != 0 or gaps[0] <= 0 or np.any(gaps != gaps[0]):
        shown = ", ".join(str(s) for s in steps[:6]) + (", ..." if len(steps) > 6 else "")
        raise ConfigError(
            f"{where}: steps {shown} are not 0, d, 2d, ... (evenly spaced from 0), as the results file "
            "records them ([train] measure_every); give --steps, or import evenly spaced snapshots"
        )
    return steps


def _hyper(c: Configuration) -> tuple[float, int]:
    for value, option in (
        (c.learning_rate, "--learning-rate or --lr-key"),
        (c.batch_size, "--batch-size or --bs-key"),
    ):
        if value is None:
            what = "learning rate" if option.startswith("--l") else "batch size"
            raise ConfigError(f"{c.source!r}: no {what}: give {option}")
    assert c.learning_rate is not None and c.batch_size is not None
    return c.learning_rate, c.batch_size


def _same(a: Label, b: Label) -> bool:
    return type(a) is type(b) and a == b


def sweep_tables(configs: list[Configuration], replicas: int, o: ImportOptions) -> dict[str, dict[str, Any]]:
    """[sweep] and, when a label differs between configurations, the zip [sweep.scan]."""
    hyper = [_hyper(c) for c in configs]
    names = sorted(configs[0].labels)
    for c in configs[1:]:
        if sorted(c.labels) != names:
            raise ConfigError(f"{c.source!r}: labels {sorted(c.labels)}, {configs[0].source!r} has {names}")
    varying = [n for n in names if any(not _same(c.labels[n], configs[0].labels[n]) for c in configs)]
    rows = [(*hyper[i], *(c.labels[n] for n in varying)) for i, c in enumerate(configs)]
    for i, row in enumerate(rows):
        for j in range(i):
            if all(_same(a, b) for a, b in zip(row, rows[j], strict=True)):
                raise ConfigError(
                    f"{configs[j].source!r} and {configs[i].source!r} have the same learning rate, batch size"
                    " and labels: give each configuration its own (--param-key), or import them separately"
                )
    sweep: dict[str, Any] = {"name": o.name, "seed": o.seed, "replicas": replicas}
    if not varying:
        return {"sweep": sweep | {"points": [list(h) for h in hyper]}}
    scan: dict[str, Any] = {
        "combine": "zip",
        "learning_rate": [h[0] for h in hyper],
        "batch_size": [h[1] for h in hyper],
    }
    scan |= {f"model.{n}": [c.labels[n] for c in configs] for n in varying}
    return {"sweep": sweep, "sweep.scan": scan}


def make_config(configs: list[Configuration], o: ImportOptions) -> tuple[Config, np.ndarray]:
    """The config of the imported file (validated by config.parse_text) and the measured steps."""
    replicas, snapshots = common_shape(configs, o.keys)
    steps = measured_steps(configs, o, snapshots)
    names, sizes, descriptions = [], [], []
    for key in o.keys:
        shape = configs[0].matrices[key].shape[2:]
        for name in spectrum_names((key,), o.shuffled):
            names.append(name)
            sizes.append(min(shape))
            descriptions.append(describe(key, shape, shuffled=name != key))
    spec = ImportedSpec(
        KIND,
        tuple(names),
        tuple(sizes),
        tuple(descriptions),
        tuple(c.source for c in configs),
        tuple(sorted(configs[0].labels.items())),
    )
    gap = int(steps[1] - steps[0])
    tables = sweep_tables(configs, replicas, o)
    tables |= spec.to_tables()
    tables["train"] = {"steps": int(steps[-1]), "measure_every": gap, "check_every": gap}
    config = parse_text(dump_toml(tables), source=SOURCE)
    return config, steps
