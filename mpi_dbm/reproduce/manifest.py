"""The recipe of one reproduction size: `SIZE/reproduce.toml` of the recipes folder (the package's
`mpi_dbm/recipes/`, or `reproduce --recipes DIR`).

One table per experiment, naming the sweep configs (next to the manifest) that make it up and
the stationary window that is analysed:

    [lattice]                      # experiment name (see experiments.py)
    configs = ["grbm-a0.01-b16.toml", ...]
    window_t = [100, 200]          # analyse every measurement with t = n*alpha in [100, 200]
                                   # (per file, with its smallest alpha); default: the last one
    series_t = [100, 1000]         # optional: the time series used for relaxation rates

The full size also says what its cluster jobs need, per config (`mpi-dbm reproduce --size full
--jobscripts DIR` renders one job script per config from these):

    [jobs]                         # not an experiment: job-script inputs
    default = { nodes = 1, ranks_per_node = 32, time = "00:30:00" }
    grbm-e1 = { ranks_per_node = 64, time = "01:00:00" }    # overrides for one config

Everything is checked (unknown experiments or keys, missing or invalid configs) before
anything runs, with one message naming the file and key.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config, load
from ..errors import ConfigError
from ..tables import Table
from .experiments import EXPERIMENTS

MANIFEST = "reproduce.toml"
#: the manifest table of job-script inputs (not an experiment)
JOBS = "jobs"
JOB_KEYS = ("nodes", "ranks_per_node", "time")


@dataclass(frozen=True)
class Run:
    """One sweep of an experiment: its config and the analysed window (in steps)."""

    name: str  # config file stem; the results file is <outdir>/<name>.h5
    config_path: Path
    config: Config
    window: tuple[int, int] | None  # steps, inclusive; None = last measurement
    series: tuple[int, int] | None = None  # steps of the time series for relaxation rates

    @property
    def min_alpha(self) -> float:
        return min(p.learning_rate for p in self.config.points)


@dataclass(frozen=True)
class JobSpec:
    """What one config's cluster job needs: nodes, ranks per node, wall time ('HH:MM:SS')."""

    nodes: int
    ranks_per_node: int
    time: str


@dataclass(frozen=True)
class ExperimentRecipe:
    name: str
    description: str
    runs: tuple[Run, ...]
    window_t: tuple[float, float] | None


@dataclass(frozen=True)
class Manifest:
    path: Path
    size: str
    experiments: tuple[ExperimentRecipe, ...]
    jobs: dict[str, JobSpec] = field(default_factory=dict)  # config name -> job inputs (full size)

    def select(self, only: tuple[str, ...] | None) -> Manifest:
        if not only:
            return self
        known = {e.name for e in self.experiments}
        for name in only:
            if name not in known:
                raise ConfigError(
                    f"--only {name}: no such experiment in {self.path}; "
                    f"choose from {', '.join(e.name for e in self.experiments)}"
                )
        chosen = tuple(e for e in self.experiments if e.name in only)
        return Manifest(self.path, self.size, chosen, self.jobs)

    @property
    def runs(self) -> list[Run]:
        return [r for e in self.experiments for r in e.runs]


def window_steps(
    config: Config, window_t: tuple[float, float] | None, source: str, key: str = "window_t"
) -> tuple[int, int] | None:
    """The measured steps whose t = n·α_min lies in window_t (α_min: the file's smallest α)."""
    if window_t is None:
        return None
    alpha = min(p.learning_rate for p in config.points)
    start, stop = math.ceil(window_t[0] / alpha - 1e-9), math.floor(window_t[1] / alpha + 1e-9)
    measured = [s for s in config.train.measure_steps if start <= s <= stop]
    if len(measured) < 1:
        raise ConfigError(
            f"{source}: {key} = [{window_t[0]:g}, {window_t[1]:g}] contains no measurement of "
            f"{config.sweep.name!r} (t = n*alpha with alpha = {alpha:g}: steps {start}..{stop}, "
            f"measured every {config.train.measure_every} up to {config.train.steps})"
        )
    return measured[0], measured[-1]


def read_manifest(recipes: Path, size: str) -> Manifest:
    """Read and check `recipes/size/reproduce.toml` and every config it names."""
    folder = recipes / size
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ConfigError(f"no recipes for size {size!r}: {str(folder)!r} is not a directory")
    if not path.is_file():
        raise ConfigError(f"{str(path)!r} does not exist: every recipe folder needs a {MANIFEST}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    experiments = []
    seen: dict[str, str] = {}
    job_table = data.pop(JOBS, None)
    for name, table in data.items():
        if name not in EXPERIMENTS:
            raise ConfigError(
                f"{path}: unknown experiment [{name}]; known experiments: {', '.join(EXPERIMENTS)}"
            )
        t = Table(name, table, str(path))
        files = t.raw("configs")
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise t.error("configs", "must be a non-empty list of config file names")
        windows: dict[str, tuple[float, float] | None] = {}
        for key in ("window_t", "series_t"):
            windows[key] = None
            if t.has(key):
                w = t.number_list(key)
                t.check(
                    key, len(w) == 2 and 0 <= w[0] <= w[1], "must be [start, stop] with 0 <= start <= stop"
                )
                windows[key] = (w[0], w[1])
        window_t = windows["window_t"]
        t.done()
        runs = []
        for f in files:
            cfg_path = folder / f
            stem = Path(f).stem
            if stem in seen:
                raise ConfigError(f"{path}: [{name}] configs: {f!r} is also used by [{seen[stem]}]")
            seen[stem] = name
            if not cfg_path.is_file():
                raise ConfigError(f"{path}: [{name}] configs: {str(cfg_path)!r} does not exist")
            cfg = load(cfg_path)
            where = f"{path}: [{name}]"
            series = window_steps(cfg, windows["series_t"], where, "series_t")
            runs.append(Run(stem, cfg_path, cfg, window_steps(cfg, window_t, where), series))
        experiments.append(ExperimentRecipe(name, EXPERIMENTS[name].description, tuple(runs), window_t))
    if not experiments:
        raise ConfigError(f"{path}: names no experiment")
    names = [r.name for e in experiments for r in e.runs]
    jobs = _read_jobs(job_table, names, str(path)) if job_table is not None else {}
    return Manifest(path, size, tuple(experiments), jobs)


def _read_jobs(table: Any, runs: list[str], source: str) -> dict[str, JobSpec]:
    """The [jobs] table: `default` plus per-config overrides, merged into one JobSpec per config."""
    from ..jobscript import parse_count, parse_walltime

    if not isinstance(table, dict):
        raise ConfigError(f"{source}: [{JOBS}] must be a table of config name -> {{{', '.join(JOB_KEYS)}}}")
    unknown = sorted(set(table) - {"default", *runs})
    if unknown:
        raise ConfigError(
            f"{source}: [{JOBS}] {unknown[0]!r} is neither 'default' nor a config of this manifest "
            f"({', '.join(runs)})"
        )
    entries: dict[str, dict[str, Any]] = {}
    for key, entry in table.items():
        t = Table(f"{JOBS}.{key}", entry if isinstance(entry, dict) else {}, source)
        if not isinstance(entry, dict):
            raise t.error(key, "must be an inline table { nodes = N, ranks_per_node = N, time = 'HH:MM:SS' }")
        got = {k: t.raw(k) for k in JOB_KEYS if t.has(k)}
        t.done()
        entries[key] = got
    base = entries.get("default", {})
    jobs = {}
    for run in runs:
        merged = {**base, **entries.get(run, {})}
        missing = [k for k in JOB_KEYS if k not in merged]
        if missing:
            raise ConfigError(f"{source}: [{JOBS}] gives no {', '.join(missing)} for {run!r} (nor a default)")
        where = f"{source}: [{JOBS}] {run}"
        nodes = parse_count(merged["nodes"], f"{where}: nodes")
        ranks = parse_count(merged["ranks_per_node"], f"{where}: ranks_per_node")
        if not isinstance(merged["time"], str):
            raise ConfigError(f"{where}: time must be a string 'HH:MM:SS', got {merged['time']!r}")
        parse_walltime(merged["time"], f"{where}: time")
        jobs[run] = JobSpec(nodes, ranks, merged["time"])
    return jobs
