"""Configuration: TOML -> validated frozen dataclasses, canonical text and hash.

Tables: [sweep] (grid, seed, schedule), [model] (+ [target], parsed by the model
family named by `kind`), [train] (steps and measurement schedule). Every bad
value raises ConfigError with one message naming the key and the fix. The
canonical text (all defaults filled in, grid written as explicit `points`) is
what the results file stores; its SHA-256 identifies the text. Keys that change no
result (RESULT_NEUTRAL: the schedule and the block size, performance knobs; the I/O
mode is not a config key at all) are left out of the compatibility hash, which
decides whether a file may be resumed or merged with another.
"""

from __future__ import annotations

import hashlib
import json
import math
import tomllib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from . import scan as scans
from .errors import ConfigError
from .models import build, families
from .scan import Scan, Variant
from .streams import shared_data_seed
from .tables import Table, section

SCHEDULES = ("dynamic", "static")
#: keys that change no result bit (performance knobs): stored with the config, but runs and chunks
#: that differ only in them may be resumed and merged (tests/sweep/test_mpi_driver.py compares
#: schedules and block sizes bit for bit)
RESULT_NEUTRAL: dict[str, tuple[str, ...]] = {"sweep": ("schedule", "block_size")}


@dataclass(frozen=True)
class SweepConfig:
    name: str
    seed: int
    replicas: int
    #: the (α, |B|) grid as written ([sweep] points or the product of learning_rates and batch_sizes);
    #: empty when a zip scan gives every point its own α and |B|. Config.points lists the points.
    points: tuple[tuple[float, int], ...]
    schedule: str
    block_size: int  # replicas per work unit (a performance knob: results do not depend on it)


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    measure_every: int
    check_every: int  # divergence check interval (steps)
    #: which draw of the data shared by all replicas (streams.shared_data_seed): 0 = the sweep's own;
    #: scanned with another key, e.g. [0, 1, 2], every point gets a replicate data set
    data_set: int = 0

    @property
    def measure_steps(self) -> tuple[int, ...]:
        """Steps at which spectra are recorded: 0, measure_every, ..., steps."""
        return tuple(range(0, self.steps + 1, self.measure_every))


class PointSpec(NamedTuple):
    """One point of the sweep: (α, |B|) and the scan variant (scan.py) it belongs to."""

    learning_rate: float
    batch_size: int
    variant: int


@dataclass(frozen=True)
class Config:
    sweep: SweepConfig
    model: Any  # the family's frozen spec as written (the base of a scan), e.g. models.grbm.GRBMSpec
    train: TrainConfig
    #: [sweep.scan] as written, None without a scan
    scan: Scan | None = None
    #: the scanned parameter sets, each with its own spec and train config (one without a scan)
    variants: tuple[Variant, ...] = ()
    #: every point, variant-major: point i's replicas use SeedSequence(seed, (i, replica))
    points: tuple[PointSpec, ...] = ()

    @property
    def n_tasks(self) -> int:
        return len(self.points) * self.sweep.replicas

    def variant_of(self, point: int) -> Variant:
        """The scan variant (parameter set) of point `point`."""
        return self.variants[self.points[point].variant]

    @property
    def scanned_keys(self) -> tuple[str, ...]:
        """The scanned [model]/[target]/[train] keys, "model.noise_strength" etc. (not α, |B|)."""
        return self.scan.parameter_keys if self.scan is not None else ()

    def to_toml(self) -> str:
        """Canonical TOML text: every key, fixed order, explicit points."""
        sweep: dict[str, Any] = {
            "name": self.sweep.name,
            "seed": self.sweep.seed,
            "replicas": self.sweep.replicas,
        }
        if self.sweep.points:
            sweep["points"] = [list(p) for p in self.sweep.points]
        sweep |= {"schedule": self.sweep.schedule, "block_size": self.sweep.block_size}
        tables: dict[str, dict[str, Any]] = {
            "sweep": sweep,
            **({"sweep.scan": self.scan.table()} if self.scan is not None else {}),
            **self.model.to_tables(),
            "train": {
                "steps": self.train.steps,
                "measure_every": self.train.measure_every,
                "check_every": self.train.check_every,
                # written only when set: the canonical text (and hash) of every other config is unchanged
                **({"data_set": self.train.data_set} if self.train.data_set else {}),
            },
        }
        return dump_toml(tables)

    @property
    def sha256(self) -> str:
        """SHA-256 of the canonical text (stored as the results file's `config_sha256`)."""
        return hashlib.sha256(self.to_toml().encode()).hexdigest()

    @property
    def compat_sha256(self) -> str:
        """SHA-256 of what the results depend on: `compatibility_sha256(self.to_toml())`."""
        return compatibility_sha256(self.to_toml())


def compatibility_sha256(text: str) -> str:
    """SHA-256 of a canonical config text without its RESULT_NEUTRAL keys.

    Two configs with the same value give the same results bit for bit, so a file made
    with one may be resumed with the other, and their chunk files merged. Computed from
    the text, it also applies to files written before it existed.
    """
    data = tomllib.loads(text)
    for table, keys in RESULT_NEUTRAL.items():
        for key in keys:
            if isinstance(data.get(table), dict):
                data[table].pop(key, None)
    if isinstance(data.get("sweep"), dict) and isinstance(data["sweep"].get("scan"), dict):
        data = {"sweep": data["sweep"], "sweep.scan": data["sweep"].pop("scan"), **data}
    return hashlib.sha256(dump_toml(data).encode()).hexdigest()


# -- TOML output (tomllib only reads) --------------------------------------------
def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write {value} to TOML")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() and key.isascii() else json.dumps(key)


def dump_toml(tables: dict[str, dict[str, Any]]) -> str:
    """Tables of scalars and (nested) lists as TOML text (a name "a.b" is the sub-table [a.b])."""
    out: list[str] = []
    for name, table in tables.items():
        out.append(f"[{name}]")
        out.extend(f"{_toml_key(key)} = {_toml_value(value)}" for key, value in table.items())
        out.append("")
    return "\n".join(out)


# -- parsing ----------------------------------------------------------------------
def _parse_grid(t: Table) -> list[tuple[float, int]]:
    """The (α, |B|) grid: `points`, or the product of `learning_rates` and `batch_sizes`."""
    if t.has("points"):
        for key in ("learning_rates", "batch_sizes"):
            if t.has(key):
                raise t.error(key, "give either `points` or `learning_rates` + `batch_sizes`, not both")
        raw = t.raw("points")
        if not isinstance(raw, list) or not raw:
            raise t.error("points", "must be a non-empty list of [learning_rate, batch_size] pairs")
        pts = []
        for i, p in enumerate(raw):
            if not (isinstance(p, list) and len(p) == 2):
                raise t.error(f"points[{i}]", f"must be a pair [learning_rate, batch_size], got {p!r}")
            lr = t._check_number(f"points[{i}][0] (learning rate)", p[0], positive=True)
            bs = t._check_int(f"points[{i}][1] (batch size)", p[1], 1)
            pts.append((lr, bs))
        return pts
    if not (t.has("learning_rates") and t.has("batch_sizes")):
        raise ConfigError(
            f"{t.source}: [sweep] needs the grid: `learning_rates` and `batch_sizes` "
            "(their full product), or `points = [[lr, batch_size], ...]` (or a [sweep.scan] with "
            'combine = "zip" and per-point learning_rate and batch_size lists)'
        )
    lrs = t.number_list("learning_rates", positive=True)
    bss = t.integer_list("batch_sizes", minimum=1)
    return [(lr, bs) for lr in lrs for bs in bss]


def _parse_sweep(t: Table, grid_from_scan: bool) -> SweepConfig:
    name = t.string("name", "sweep")
    t.check("name", bool(name.strip()), "must not be empty")
    seed = t.integer("seed", 0, minimum=0)
    replicas = t.integer("replicas", minimum=1)
    t.mark_read("points", "learning_rates", "batch_sizes", "scan")
    if grid_from_scan:
        for key in ("points", "learning_rates", "batch_sizes"):
            if t.has(key):
                raise t.error(
                    key,
                    "the [sweep.scan] lists learning_rate and batch_size give every point's α and |B|: "
                    "drop the grid here, or those two lists there",
                )
        pts: list[tuple[float, int]] = []
    else:
        pts = _parse_grid(t)
    seen: set[tuple[float, int]] = set()
    for p in pts:
        if p in seen:
            raise t.error("points", f"the point (learning rate {p[0]:g}, batch size {p[1]}) appears twice")
        seen.add(p)
    schedule = t.string("schedule", "dynamic", choices=SCHEDULES)
    block_size = t.integer("block_size", min(replicas, DEFAULT_BLOCK_SIZE), minimum=1)
    t.done()
    return SweepConfig(name, seed, replicas, tuple(pts), schedule, min(block_size, replicas))


#: replicas per work unit when [sweep] block_size is not given: the fastest stack of the default
#: GRBM on one core (benchmarks/t9_block_size.py: 64 beats 16, 32 and 128, whole process)
DEFAULT_BLOCK_SIZE = 64


def _parse_train(t: Table) -> TrainConfig:
    steps = t.integer("steps", minimum=1)
    measure_every = t.integer("measure_every", max(1, steps // 10), minimum=1)
    if measure_every > steps:
        raise t.error(
            "measure_every",
            f"{measure_every} exceeds steps = {steps}; spectra are recorded at 0, measure_every, "
            f"..., steps: use measure_every = {steps} (or a divisor of it), or steps = {measure_every}",
        )
    if steps % measure_every:
        lower = steps - steps % measure_every
        raise t.error(
            "measure_every",
            f"{measure_every} does not divide steps = {steps}; spectra are recorded at "
            f"0, measure_every, ..., steps: use steps = {lower or measure_every} "
            f"or {lower + measure_every}, or a divisor of {steps}",
        )
    check_every = t.integer("check_every", min(100, measure_every), minimum=1)
    data_set = t.integer("data_set", 0, minimum=0)
    t.done()
    return TrainConfig(steps, measure_every, check_every, data_set)


def _parse_model_and_train(data: dict[str, Any], source: str) -> tuple[Any, TrainConfig]:
    """[model] (+ [target]) by the family named in `kind`, and [train]."""
    model_t = section(data, "model", source)
    kind = model_t.string("kind", choices=tuple(families()))
    spec = families()[kind].parse(model_t, section(data, "target", source, required=False))
    model_t.done()
    return spec, _parse_train(section(data, "train", source))


def _recorded_shapes(spec: Any, train: TrainConfig, seed: int) -> dict[str, Any]:
    """The shapes of the arrays a run records per task: spectra sizes, scalars, measurements."""
    model = build(spec, shared_data_seed(seed, train.data_set))
    return {
        **{f"spectrum {s.name}": s.size for s in model.spectra},
        "scalars": ", ".join(model.scalars),
        "measurements": f"steps 0..{train.steps} every {train.measure_every}",
    }


def _points(
    sweep: SweepConfig, entries: list[tuple[int, dict[str, Any]]], source: str
) -> tuple[PointSpec, ...]:
    """Every point, variant-major; the α/|B| of a zip entry are checked here."""
    out: list[PointSpec] = []
    for i, (variant, axes) in enumerate(entries):
        if not axes:
            out.extend(PointSpec(lr, bs, variant) for lr, bs in sweep.points)
            continue
        lr, bs = axes["learning_rate"], axes["batch_size"]
        if isinstance(lr, bool) or not isinstance(lr, int | float) or not (math.isfinite(lr) and lr > 0):
            raise ConfigError(
                f"{source}: [sweep.scan] learning_rate[{i}]: must be a positive number, got {lr!r}"
            )
        if isinstance(bs, bool) or not isinstance(bs, int) or bs < 1:
            raise ConfigError(f"{source}: [sweep.scan] batch_size[{i}]: must be an integer >= 1, got {bs!r}")
        out.append(PointSpec(float(lr), bs, variant))
    return tuple(out)


def parse(data: dict[str, Any], source: str = "config") -> Config:
    """Validate a parsed TOML document."""
    known = ("sweep", "model", "target", "train")
    top = Table("top level", data, source)
    for key in known:
        top.raw(key, None)
    top.done()
    sweep_t = section(data, "sweep", source)
    form = scans.read_scan(sweep_t.raw("scan", None), source)
    sweep = _parse_sweep(sweep_t, grid_from_scan=form is not None and "learning_rate" in form[1])
    spec, train = _parse_model_and_train(data, source)
    scan: Scan | None = None
    variants: tuple[Variant, ...] = (Variant(0, (), spec, train),)
    entries: list[tuple[int, dict[str, Any]]] = [(0, {})]
    if form is not None:
        canonical = {**spec.to_tables(), "train": scans.train_table(train)}
        scan, variants, entries = scans.variants(
            data,
            *form,
            canonical,
            lambda doc: _parse_model_and_train(doc, source),
            lambda s, t: _recorded_shapes(s, t, sweep.seed),
            source,
        )
    points = _points(sweep, entries, source)
    for v in variants:
        problem = getattr(v.model, "batch_size_problem", None)  # e.g. |B| > n_samples (GRBM, minibatch)
        for bs in sorted({p.batch_size for p in points if p.variant == v.index}):
            why = problem(bs) if problem is not None else None
            if why is not None:
                at = f" ({v.label()})" if v.parameters else ""
                raise ConfigError(f"{source}: [sweep] batch size {bs}{at}: {why}")
    return Config(sweep, spec, train, scan, variants, points)


def parse_text(text: str, source: str = "config") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    return parse(data, source)


def load(path: str | Path) -> Config:
    """Read and validate a TOML config file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {str(p)!r} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {str(p)!r} is a directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {str(p)!r}: {exc}") from None
    return parse_text(text, source=str(p))


def default_text() -> str:
    """The embedded default config (commented TOML)."""
    return resources.files("mpi_dbm").joinpath("default.toml").read_text(encoding="utf-8")


def default() -> Config:
    return parse_text(default_text(), source="<embedded default>")
