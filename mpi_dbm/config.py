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
from typing import Any

from .errors import ConfigError
from .models import families
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
    points: tuple[tuple[float, int], ...]  # (learning rate α, batch size |B|)
    schedule: str
    block_size: int  # replicas per work unit (a performance knob: results do not depend on it)


@dataclass(frozen=True)
class TrainConfig:
    steps: int
    measure_every: int
    check_every: int  # divergence check interval (steps)

    @property
    def measure_steps(self) -> tuple[int, ...]:
        """Steps at which spectra are recorded: 0, measure_every, ..., steps."""
        return tuple(range(0, self.steps + 1, self.measure_every))


@dataclass(frozen=True)
class Config:
    sweep: SweepConfig
    model: Any  # the family's frozen spec, e.g. models.grbm.GRBMSpec
    train: TrainConfig

    @property
    def n_tasks(self) -> int:
        return len(self.sweep.points) * self.sweep.replicas

    def to_toml(self) -> str:
        """Canonical TOML text: every key, fixed order, explicit points."""
        tables: dict[str, dict[str, Any]] = {
            "sweep": {
                "name": self.sweep.name,
                "seed": self.sweep.seed,
                "replicas": self.sweep.replicas,
                "points": [list(p) for p in self.sweep.points],
                "schedule": self.sweep.schedule,
                "block_size": self.sweep.block_size,
            },
            **self.model.to_tables(),
            "train": {
                "steps": self.train.steps,
                "measure_every": self.train.measure_every,
                "check_every": self.train.check_every,
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


def dump_toml(tables: dict[str, dict[str, Any]]) -> str:
    """Tables of scalars and (nested) lists as TOML text."""
    out: list[str] = []
    for name, table in tables.items():
        out.append(f"[{name}]")
        out.extend(f"{key} = {_toml_value(value)}" for key, value in table.items())
        out.append("")
    return "\n".join(out)


# -- parsing ----------------------------------------------------------------------
def _parse_sweep(t: Table) -> SweepConfig:
    name = t.string("name", "sweep")
    t.check("name", bool(name.strip()), "must not be empty")
    seed = t.integer("seed", 0, minimum=0)
    replicas = t.integer("replicas", minimum=1)
    t.mark_read("points", "learning_rates", "batch_sizes")
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
    else:
        if not (t.has("learning_rates") and t.has("batch_sizes")):
            raise ConfigError(
                f"{t.source}: [sweep] needs the grid: `learning_rates` and `batch_sizes` "
                "(their full product), or `points = [[lr, batch_size], ...]`"
            )
        lrs = t.number_list("learning_rates", positive=True)
        bss = t.integer_list("batch_sizes", minimum=1)
        pts = [(lr, bs) for lr in lrs for bs in bss]
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
    t.done()
    return TrainConfig(steps, measure_every, check_every)


def parse(data: dict[str, Any], source: str = "config") -> Config:
    """Validate a parsed TOML document."""
    known = ("sweep", "model", "target", "train")
    top = Table("top level", data, source)
    for key in known:
        top.raw(key, None)
    top.done()
    sweep = _parse_sweep(section(data, "sweep", source))
    model_t = section(data, "model", source)
    kind = model_t.string("kind", choices=tuple(families()))
    spec = families()[kind].parse(model_t, section(data, "target", source, required=False))
    model_t.done()
    train = _parse_train(section(data, "train", source))
    problem = getattr(spec, "batch_size_problem", None)  # e.g. |B| > n_samples (GRBM, minibatch)
    for bs in sorted({bs for _, bs in sweep.points}):
        why = problem(bs) if problem is not None else None
        if why is not None:
            raise ConfigError(f"{source}: [sweep] batch size {bs}: {why}")
    return Config(sweep, spec, train)


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
