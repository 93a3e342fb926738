"""Cost of a sweep: a timing run with the real trainer (`estimate`), and size estimates
made before anything is built or written (`footprint`, `check_resources`).

The size estimates are upper bounds from the families' own accounting (`memory_terms`,
`flops_per_step`, `values_per_measurement` of each spec; a family without them is asked
through its built model: `memory_bytes(replicas, batch_size)`, its spectra and scalars):
the arrays one work unit of `block_size` replicas allocates (weights, chains, scratch, data
sets, its records), what every rank holds for the whole sweep (task table, masks, units), the
results file, and the time of one step of a unit at a nominal FLOP_RATE. `check_resources` refuses, with one
message naming the key and the estimate, a config whose memory per rank exceeds what this
machine has (physical memory or the cgroup limit, or MPI_DBM_MEMORY; divided by the ranks
on the node when the MPI launcher says how many), unless forced.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import models
from .config import Config
from .errors import ConfigError
from .launcher_env import local_size
from .streams import ReplicaStreams, replica_seed, shared_data_seed
from .train import train_stack

#: nominal speed of one core on a step's dense products (flop/s), for estimates only: BLAS
#: reaches 2-3e10 on one core for N >= 50 (measured on the 2-core test machine)
FLOP_RATE = 1e10
#: an estimated step of a work unit slower than this gets a warning (a stop waits for it)
SLOW_STEP_SECONDS = 10.0
#: what every rank holds per task (task table columns, done mask, status, the pickled mask of a
#: resume), per work unit (unit and point objects, their places in the plans) and per measurement
TASK_BYTES = 64
UNIT_BYTES = 1024
MEASUREMENT_BYTES = 64
#: a family that only counts what its stack holds (`memory_bytes`) needs this much more at its peak
FALLBACK_BUILD_FACTOR = 3
#: bytes per task in the results file besides its spectra and scalars (the /tasks columns)
TASK_FILE_BYTES = 40
#: environment variable giving the memory this job may use (bytes; K, M, G, T suffixes)
MEMORY_VARIABLE = "MPI_DBM_MEMORY"


@dataclass(frozen=True)
class CostEstimate:
    n_points: int
    n_tasks: int
    n_units: int
    replica_steps: int
    core_seconds: float
    file_bytes: int
    steps_timed: int


@dataclass(frozen=True)
class MemoryTerm:
    key: str  # the config key (with its value) that drives it, e.g. "[model] n_visible = 5000"
    what: str
    bytes: int


@dataclass(frozen=True)
class Footprint:
    """Size estimates of a config, before anything is built."""

    terms: tuple[MemoryTerm, ...]  # memory of one rank: its largest work unit + the sweep's bookkeeping
    file_bytes: int  # the results file
    step_seconds: float | None  # one step of the slowest work unit at FLOP_RATE (None: family gives no flops)
    step_key: str  # the key that drives the step time

    @property
    def memory_bytes(self) -> int:
        return sum(t.bytes for t in self.terms)

    def largest(self) -> MemoryTerm:
        """The term whose key to name (summed over terms that share a key)."""
        by_key: dict[str, int] = {}
        for t in self.terms:
            by_key[t.key] = by_key.get(t.key, 0) + t.bytes
        key = max(by_key, key=lambda k: by_key[k])
        return MemoryTerm(key, ", ".join(t.what for t in self.terms if t.key == key), by_key[key])


def format_bytes(n: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{int(n)} B"


def _format_seconds(s: float) -> str:
    from .durations import format_duration

    return format_duration(s)


def footprint(config: Config) -> Footprint:
    """Memory of one rank (the largest work unit over scan variants and batch sizes, plus
    bookkeeping), results file size and the time of one step of the slowest unit; see the module
    docstring."""
    block = config.sweep.block_size
    n_tasks = config.n_tasks
    n_meas = config.train.steps // config.train.measure_every + 1
    n_units = len(config.points) * -(-config.sweep.replicas // block)
    values = 0
    unit_terms: list[MemoryTerm] = []
    worst = -1
    step_seconds: float | None = None
    step_key = f"[model] kind = {config.model.kind!r}"
    for v in config.variants:
        batch_sizes = sorted({p.batch_size for p in config.points if p.variant == v.index})
        values, per_size = _unit_terms(v.model, batch_sizes, block, config.sweep.seed)
        for terms, seconds in per_size:
            if sum(t.bytes for t in terms) > worst:
                worst, unit_terms = sum(t.bytes for t in terms), terms
            if seconds is not None and (step_seconds is None or seconds > step_seconds):
                step_seconds = seconds
                step_key = terms[0].key if terms else step_key
    measure_key = f"[train] measure_every = {config.train.measure_every}"
    terms = [
        *unit_terms,
        MemoryTerm(
            measure_key, f"the records of a unit ({n_meas} measurements)", 2 * 8 * block * n_meas * values
        ),
        MemoryTerm(measure_key, "the measurement steps", MEASUREMENT_BYTES * n_meas),
        MemoryTerm(
            f"[sweep] replicas = {config.sweep.replicas}",
            f"the sweep's bookkeeping ({n_tasks} tasks in {n_units} units)",
            TASK_BYTES * n_tasks + UNIT_BYTES * n_units,
        ),
    ]
    file_bytes = n_tasks * (n_meas * values * 8 + TASK_FILE_BYTES) + 8 * n_meas
    return Footprint(tuple(terms), file_bytes, step_seconds, step_key)


def _unit_terms(
    spec: Any, batch_sizes: list[int], block: int, seed: int
) -> tuple[int, list[tuple[list[MemoryTerm], float | None]]]:
    """(values recorded per measurement, [(memory terms of a unit, seconds of its step)] per |B|)
    of one spec (one scan variant), from its own accounting or, without it, its built model."""
    per_meas = getattr(spec, "values_per_measurement", None)
    built = None  # a family without spec-level estimates: ask its (cheaply built) model instead
    if per_meas is None or not hasattr(spec, "memory_terms"):
        built = models.build(spec, shared_data_seed(seed))
    if per_meas is not None:
        values = int(per_meas())
    else:
        assert built is not None
        values = sum(info.size for info in built.spectra) + len(built.scalars)
    memory_of = getattr(spec, "memory_terms", None)
    flops_of = getattr(spec, "flops_per_step", None)
    out: list[tuple[list[MemoryTerm], float | None]] = []
    for bs in batch_sizes:
        if memory_of is not None:
            terms = [MemoryTerm(*t) for t in memory_of(bs, block)]
        elif built is not None and hasattr(built, "memory_bytes"):  # a family without memory_terms
            # what a stack holds, by the model's count; x FALLBACK_BUILD_FACTOR for the temporaries
            # of building it (the multilayer model's count, before its spec had memory_terms: traced
            # peak 2.0x)
            held = int(built.memory_bytes(block, bs))
            what = f"the data, weights and scratch of {block} replicas"
            terms = [MemoryTerm(f"[model] kind = {spec.kind!r}", what, FALLBACK_BUILD_FACTOR * held)]
        else:
            terms = []
        seconds = block * float(flops_of(bs)) / FLOP_RATE if flops_of is not None else None
        out.append((terms, seconds))
    return values, out


def _parse_bytes(text: str) -> int:
    scales = {"K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
    t = text.strip().upper().removesuffix("B")
    scale = scales.get(t[-1:], 1)
    value = float(t[:-1] if t[-1:] in scales else t)
    if not value > 0:
        raise ValueError(text)
    return int(value * scale)


def machine_memory() -> tuple[int, str]:
    """(bytes, where from): MPI_DBM_MEMORY if set, else physical memory or the cgroup limit if lower."""
    text = os.environ.get(MEMORY_VARIABLE)
    if text:
        try:
            return _parse_bytes(text), MEMORY_VARIABLE
        except ValueError:
            raise ConfigError(f"{MEMORY_VARIABLE}={text!r}: give bytes, e.g. 64G or 2048M") from None
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    source = "physical memory"
    for limit in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            value = int(Path(limit).read_text().strip())
        except (OSError, ValueError):  # absent, or "max"
            continue
        if 0 < value < total:
            total, source = value, "cgroup memory limit"
    return total, source


def check_resources(
    config: Config, *, force: bool = False, ranks: int | None = None, source: str = "config"
) -> list[str]:
    """Refuse (ConfigError) a config whose estimated memory per rank exceeds this machine's share;
    with `force`, say so in a warning instead. Returns the warnings (also: a slow step)."""
    fp = footprint(config)
    total, origin = machine_memory()
    n = ranks if ranks is not None else local_size()
    share = total / n
    warnings = []
    if fp.memory_bytes > share:
        top = fp.largest()
        parts = "; ".join(
            f"{t.what} {format_bytes(t.bytes)}" for t in sorted(fp.terms, key=lambda t: -t.bytes)[:3]
        )
        per = f" / {n} ranks on this node" if n > 1 else ""
        unit_sized = top.key.startswith(("[model]", "[target]", "[sweep] batch size"))
        name = top.key.split(" = ")[0]
        fix = ("shrink the model (its size keys)" if name == "[model] kind" else f"lower {name}") + (
            f" or [sweep] block_size = {config.sweep.block_size} (replicas trained together)"
            if unit_sized and config.sweep.block_size > 1
            else ""
        )
        message = (
            f"{source}: {top.key}: needs ~{format_bytes(fp.memory_bytes)} of memory per rank, more than "
            f"the {format_bytes(share)} this machine has per rank ({origin} {format_bytes(total)}{per}); "
            f"most of it: {parts}"
        )
        if not force:
            raise ConfigError(f"{message}. {fix[0].upper()}{fix[1:]}, or pass --force-size to run anyway")
        warnings.append(f"{message}; running anyway (--force-size)")
    if fp.step_seconds is not None and fp.step_seconds > SLOW_STEP_SECONDS:
        warnings.append(
            f"{source}: {fp.step_key}: one step of a work unit ({config.sweep.block_size} replicas) "
            f"takes ~{_format_seconds(fp.step_seconds)} (estimated at {FLOP_RATE:.0e} flop/s): a stop "
            "(signal, --time-limit) waits for the step in flight"
        )
    return warnings


def estimate(config: Config, budget_seconds: float = 1.0) -> CostEstimate:
    """Time short runs of one unit per cost group; extrapolate to the sweep.

    A cost group is a batch size together with the model's flop count at it (`flops_per_step`; a
    family without one: each scan variant is its own group), so the variants of a scan that only
    change values (an initial width, a noise strength) are timed once. Each group runs n and 2n
    steps with a measurement at the start and the end of each: the difference is the time of n
    steps, the rest the start-up and measurements, counted once per measurement. Total =
    Σ_points units · (steps · step time + measurements · measurement time). A group whose short run
    would itself take far longer than the budget (a big model) is not timed: its step time is the
    flop count at FLOP_RATE.
    """
    from .sweep.grid import work_units  # local: keeps `config check` import light
    from .sweep.variants import VariantModels

    built = VariantModels(config)
    block = config.sweep.block_size
    groups: dict[tuple[int, float | int], tuple[int, int]] = {}  # key -> (variant, |B|) timed
    group_of: dict[tuple[int, int], tuple[int, float | int]] = {}
    for p in config.points:
        flops_of = getattr(config.variants[p.variant].model, "flops_per_step", None)
        key = (p.batch_size, float(flops_of(p.batch_size)) if flops_of is not None else -1 - p.variant)
        groups.setdefault(key, (p.variant, p.batch_size))
        group_of[p.variant, p.batch_size] = key
    per_group = budget_seconds / len(groups)
    timing: dict[tuple[int, float | int], tuple[float, float]] = {}  # key -> (step s, measurement s)
    steps_timed = 0
    for key, (variant, bs) in groups.items():
        spec, train = config.variants[variant].model, config.variants[variant].train
        flops_of = getattr(spec, "flops_per_step", None)
        lr = min(p.learning_rate for p in config.points if (p.variant, p.batch_size) == (variant, bs))
        n = 10
        if flops_of is not None and block * 2 * n * flops_of(bs) / FLOP_RATE > 10 * per_group:
            timing[key] = (block * float(flops_of(bs)) / FLOP_RATE, 0.0)
            continue
        while True:
            one, two = (_time_run(built[variant], lr, bs, block, m) for m in (n, 2 * n))
            if one + two > per_group / 4 or 2 * n >= train.steps:
                break
            n *= 4
        steps_timed = max(steps_timed, 2 * n)
        step = max(two - one, 0.5 * two / (2 * n)) / n  # noise can make the difference tiny
        timing[key] = (step, max(one - n * step, 0.0) / 2)
    units_per_point = config.sweep.replicas / block  # replicas in units of a full stack
    core_seconds = 0.0
    for p in config.points:
        train = config.variants[p.variant].train
        step, meas = timing[group_of[p.variant, p.batch_size]]
        core_seconds += units_per_point * (train.steps * step + len(train.measure_steps) * meas)
    n_meas = len(config.train.measure_steps)
    model = built[0]
    per_task = n_meas * (sum(s.size for s in model.spectra) + len(model.scalars)) * 8 + 40
    return CostEstimate(
        n_points=len(config.points),
        n_tasks=config.n_tasks,
        n_units=len(work_units(config)),
        replica_steps=config.n_tasks * config.train.steps,
        core_seconds=core_seconds,
        file_bytes=config.n_tasks * per_task,
        steps_timed=steps_timed,
    )


def _time_run(model: models.Model, lr: float, bs: int, block: int, steps: int) -> float:
    """Seconds of a stack of `block` replicas trained `steps` steps, measured at 0 and `steps`."""
    streams = ReplicaStreams([replica_seed(0, 0, r) for r in range(block)])
    t = time.perf_counter()
    train_stack(model, lr, bs, streams, steps, steps, steps)
    return time.perf_counter() - t
