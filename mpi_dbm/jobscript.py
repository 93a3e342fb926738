"""Batch job scripts for SLURM and PBS: `mpi-dbm jobscript` (docs/cluster.md).

A script is a template from `mpi_dbm/templates/` (`slurm.sbatch`, `pbs.sh`) with the
scheduler directives, a header with the cost estimate, and a few settings filled
in. The script runs `mpi-dbm run CONFIG -o RESULTS --resume`, so submitting it
again continues the sweep. Before the wall time ends it makes the run stop
cleanly (SLURM: `--signal=B:USR1@GRACE`, forwarded to `srun`; PBS, which sends
no warning signal: `run --time-limit`), and on exit code 75 continues in a new
job: `scontrol requeue` (SLURM, `requeue` times at most) or a dependent copy of
itself (`chain` follow-ups at most). With `array = K` the sweep is split into K
chunks (`run --chunk I/K`, one results file each) run as a job array; the last
chunk to finish merges them. Then `mpi-dbm analyze` runs if available.

Pure text: nothing here imports MPI or h5py.
"""

from __future__ import annotations

import math
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import __version__
from .config import Config
from .cost import CostEstimate
from .durations import format_duration, parse_duration
from .errors import ConfigError
from .resources import template_path

SCHEDULERS = {"slurm": "slurm.sbatch", "pbs": "pbs.sh"}
SUBMIT = {"slurm": "sbatch", "pbs": "qsub"}
#: seconds before the wall time at which the run is told to stop
DEFAULT_GRACE = 300
#: automatic continuations of an interrupted job when neither --requeue nor --chain is given
DEFAULT_RESTARTS = 4
#: start-up of a job (MPI, imports, opening the file) assumed by the wall-time estimate
STARTUP_SECONDS = 30
#: below this many seconds of run time a job is pointless
MIN_RUN_SECONDS = 60
_NAME = re.compile(r"^[A-Za-z0-9_.:,@+%=-]+$")


def template_dir() -> Path:
    """The job-script templates shipped in the package (`mpi_dbm/templates/`)."""
    return template_path(SCHEDULERS["slurm"]).parent


# -- parsing of option values --------------------------------------------------------
def parse_walltime(text: str, option: str = "--time") -> int:
    """Whole seconds from 'HH:MM:SS' or 'D-HH:MM:SS' (hours may exceed 23 without a day part)."""
    return round(parse_duration(text, option, clock=True))


def parse_count(text: str | int, option: str, minimum: int = 1) -> int:
    """An integer option value >= minimum, with a one-line error naming the option."""
    try:
        value = int(str(text).strip())
    except ValueError:
        raise ConfigError(f"{option}: must be a whole number, got {text!r}") from None
    if value < minimum:
        raise ConfigError(f"{option}: must be >= {minimum}, got {value}")
    return value


def format_walltime(seconds: float, days: bool = False) -> str:
    """HH:MM:SS (hours unbounded), or D-HH:MM:SS from one day on when `days`."""
    return format_duration(seconds, pad=True, days=days)


# -- what the user asked for ------------------------------------------------------------
@dataclass(frozen=True)
class JobOptions:
    """Everything `mpi-dbm jobscript` renders; validated on construction (ConfigError).

    Paths are written as given: the script runs in the directory it is submitted from.
    `requeue`/`chain` None means the default (SLURM: requeue DEFAULT_RESTARTS times;
    PBS: chain DEFAULT_RESTARTS jobs, none for arrays).
    """

    config_path: str
    scheduler: str
    nodes: int
    ranks_per_node: int
    walltime: int  # seconds
    account: str | None = None
    partition: str | None = None
    array: int = 0  # 0: one job; K >= 2: job array of K chunks
    chain: int | None = None
    requeue: int | None = None
    grace: int = DEFAULT_GRACE
    results: str | None = None  # default: NAME.h5 from [sweep] name
    analyze: bool = True
    job_name: str | None = None
    venv: str | None = None  # activated in the user section; None: a commented example
    script_path: str | None = None  # where the script is written (PBS resubmits it from there)

    def __post_init__(self) -> None:
        if self.scheduler not in SCHEDULERS:
            raise ConfigError(f"--scheduler: must be slurm or pbs, got {self.scheduler!r}")
        for option, count in (("--nodes", self.nodes), ("--ranks-per-node", self.ranks_per_node)):
            parse_count(count, option, 1)
        if self.walltime <= 0:
            raise ConfigError("--time: must be positive")
        if self.array and self.array < 2:
            raise ConfigError(f"--array: needs K >= 2 chunks, got {self.array}")
        if self.chain is not None and self.chain < 0:
            raise ConfigError(f"--chain: must be >= 0, got {self.chain}")
        if self.requeue is not None and self.requeue < 0:
            raise ConfigError(f"--requeue: must be >= 0, got {self.requeue}")
        if self.chain is not None and self.requeue is not None:
            raise ConfigError("--chain and --requeue exclude each other: choose one way to continue")
        if self.array and self.chain:
            raise ConfigError(
                "--array and --chain exclude each other: a chained job resubmits the whole script; "
                "array chunks continue by --requeue (SLURM) or by submitting the array again"
            )
        if self.requeue is not None and self.scheduler == "pbs":
            raise ConfigError(
                "--requeue: PBS jobs cannot requeue themselves; use --chain N (0: no follow-ups)"
            )
        if not 0 < self.grace < 65536:
            raise ConfigError(f"--grace: must be between 1 and 65535 seconds, got {self.grace}")
        if self.walltime - self.grace < MIN_RUN_SECONDS:
            raise ConfigError(
                f"--time {format_walltime(self.walltime)} leaves less than {MIN_RUN_SECONDS} s to run "
                f"after the --grace of {self.grace} s kept for a clean stop; raise --time or lower --grace"
            )
        for option, value in (
            ("--account", self.account),
            ("--partition", self.partition),
            ("--job-name", self.job_name),
        ):
            if value is not None and not _NAME.match(value):
                raise ConfigError(
                    f"{option}: {value!r} has characters a job script cannot carry "
                    "(use letters, digits and _ . : , @ + % = -)"
                )
        for option, value in (
            ("CONFIG_FILE", self.config_path),
            ("--output-file", self.results),
            ("--output", self.script_path),
            ("--venv", self.venv),
        ):
            if value is not None and (not value or "\n" in value):
                raise ConfigError(f"{option}: not a usable path: {value!r}")
        if self.results is not None and Path(self.results).suffix != ".h5":
            raise ConfigError(f"--output-file: the results file must end in .h5, got {self.results!r}")

    @property
    def ranks(self) -> int:
        return self.nodes * self.ranks_per_node

    @property
    def n_requeue(self) -> int:
        """How often an interrupted job requeues itself (SLURM)."""
        if self.scheduler != "slurm" or self.chain is not None:
            return 0
        return DEFAULT_RESTARTS if self.requeue is None else self.requeue

    @property
    def n_chain(self) -> int:
        """How many dependent follow-up jobs an interrupted job may submit."""
        if self.chain is not None:
            return self.chain
        if self.scheduler == "pbs" and not self.array:
            return DEFAULT_RESTARTS
        return 0

    @property
    def restarts(self) -> int:
        return self.n_requeue + self.n_chain

    def continuation(self) -> str:
        if self.n_requeue:
            return f"requeued (scontrol requeue) up to {self.n_requeue} time(s)"
        if self.n_chain:
            return f"continued by up to {self.n_chain} dependent follow-up job(s)"
        if self.array and self.scheduler == "pbs":
            return "not continued automatically (submit the array again: finished chunks end at once)"
        return "not continued automatically (submit the script again)"


# -- the cost estimate applied to this job layout ----------------------------------------
@dataclass(frozen=True)
class Timing:
    core_seconds: float  # the whole sweep
    n_units: int  # the whole sweep
    units_per_job: int  # the largest chunk (or the whole sweep)
    effective_ranks: int  # ranks with work: min(ranks, units_per_job)
    seconds_needed: float  # wall time of the largest chunk on these ranks (LPT makespan)
    longest_unit: float  # seconds
    usable_per_job: float  # wall time minus grace minus start-up
    jobs_needed: int | None  # None: can never finish (a unit is longer than a job)
    jobs_allowed: int


def timing(config: Config, options: JobOptions, estimate: CostEstimate) -> Timing:
    """Wall time the sweep needs with this layout, from the measured `estimate`.

    Work units are indivisible: ranks beyond the number of units idle, and a job that is
    stopped loses the units in flight (they are retrained), so each continuation job
    achieves its usable time minus about one unit.
    """
    from .sweep.grid import work_units
    from .sweep.schedule import static_assignment
    from .sweep.variants import VariantModels

    built = VariantModels(config)
    units = work_units(config)
    cost = {u.index: built.cost(u) for u in units}
    scale = estimate.core_seconds / max(sum(cost.values()), 1e-300)
    chunks = static_assignment(units, built.cost, options.array) if options.array else [units]
    needed, per_job = 0.0, 0
    for chunk in chunks:
        loads = [
            sum(cost[u.index] for u in plan) for plan in static_assignment(chunk, built.cost, options.ranks)
        ]
        needed = max(needed, max(loads) * scale)
        per_job = max(per_job, len(chunk))
    longest = max(cost.values()) * scale
    usable = options.walltime - options.grace - STARTUP_SECONDS
    if needed <= usable:
        jobs: int | None = 1
    elif usable - longest <= 0:
        jobs = None
    else:
        jobs = 1 + math.ceil((needed - usable) / (usable - longest))
    return Timing(
        core_seconds=estimate.core_seconds,
        n_units=len(units),
        units_per_job=per_job,
        effective_ranks=min(options.ranks, per_job),
        seconds_needed=needed,
        longest_unit=longest,
        usable_per_job=usable,
        jobs_needed=jobs,
        jobs_allowed=1 + options.restarts,
    )


def warnings_for(config: Config, options: JobOptions, t: Timing | None) -> list[str]:
    """What the user should know before submitting (also written into the header)."""
    from .sweep.grid import work_units

    out = []
    n_units = t.n_units if t else len(work_units(config))
    if options.array > n_units:
        raise ConfigError(
            f"--array {options.array}: the sweep has only {n_units} work units, so some chunks would be "
            f"empty; use --array <= {n_units} (or a smaller [sweep] block_size)"
        )
    per_job = t.units_per_job if t else math.ceil(n_units / max(options.array, 1))
    if options.ranks > per_job:
        where = "each chunk has at most" if options.array else "the sweep has"
        out.append(
            f"{options.nodes} x {options.ranks_per_node} = {options.ranks} ranks but {where} {per_job} "
            f"work units: {options.ranks - per_job} rank(s) will idle; use fewer ranks, fewer chunks "
            "or a smaller [sweep] block_size"
        )
    if t is None:
        return out
    if t.jobs_needed is None:
        out.append(
            f"one work unit takes ~{format_walltime(t.longest_unit)}, longer than the usable "
            f"{format_walltime(t.usable_per_job)} of a {format_walltime(options.walltime)} job: the sweep "
            "can never finish; raise --time or lower [sweep] block_size"
        )
    elif t.jobs_needed > t.jobs_allowed:
        what = "each chunk needs" if options.array else "the sweep needs"
        out.append(
            f"{what} ~{format_walltime(t.seconds_needed)} on {t.effective_ranks} busy rank(s), "
            f"i.e. ~{t.jobs_needed} job(s) of {format_walltime(options.walltime)}, but the script allows "
            f"{t.jobs_allowed} "
            f"(1 + {options.restarts} continuation(s)); raise --time, --nodes, "
            + ("--requeue" if options.scheduler == "slurm" and not options.chain else "--chain")
            + (" or --array" if not options.array and not options.chain else "")
        )
    return out


# -- rendering ------------------------------------------------------------------------
@dataclass(frozen=True)
class Rendered:
    text: str
    warnings: list[str] = field(default_factory=list)
    timing: Timing | None = None


def job_name(config: Config, options: JobOptions) -> str:
    if options.job_name:
        return options.job_name
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", config.sweep.name).strip("-.") or "mpi-dbm"
    if not name[0].isalpha():
        name = "j" + name
    return name[:64]


def _directives(config: Config, o: JobOptions) -> list[str]:
    name = job_name(config, o)
    if o.scheduler == "slurm":
        lines = [
            f"--job-name={name}",
            f"--nodes={o.nodes}",
            f"--ntasks-per-node={o.ranks_per_node}",
            "--cpus-per-task=1",
            f"--time={format_walltime(o.walltime, days=True)}",
        ]
        lines += [f"--account={o.account}"] if o.account else []
        lines += [f"--partition={o.partition}"] if o.partition else []
        lines += [
            f"--signal=B:USR1@{o.grace}",
            "--requeue" if o.n_requeue else "--no-requeue",
            "--open-mode=append",
            f"--output={name}-%A_%a.out" if o.array else f"--output={name}-%j.out",
        ]
        lines += [f"--array=1-{o.array}"] if o.array else []
        return [f"#SBATCH {line}" for line in lines]
    lines = [
        f"-N {name}",
        f"-l select={o.nodes}:ncpus={o.ranks_per_node}:mpiprocs={o.ranks_per_node}",
        f"-l walltime={format_walltime(o.walltime)}",
    ]
    lines += [f"-A {o.account}"] if o.account else []
    lines += [f"-q {o.partition}"] if o.partition else []
    lines += ["-j oe", "-r y"]
    lines += [f"-J 1-{o.array}"] if o.array else []
    return [f"#PBS {line}" for line in lines]


def _header(config: Config, o: JobOptions, t: Timing | None, warns: list[str], command: str | None) -> str:
    sched = {"slurm": "SLURM", "pbs": "PBS"}[o.scheduler]
    results = o.results or f"{config.sweep.name}.h5"
    lines = [
        f"mpi-dbm job script for {sched} (mpi-dbm {__version__}): sweep {config.sweep.name!r}"
        f" of {o.config_path} -> {results}",
    ]
    if command:
        lines.append("rendered by: " + " ".join(command.split("\n")))
    lines += [
        f"submit from the directory the paths below are relative to:  "
        f"{SUBMIT[o.scheduler]} {o.script_path or 'THIS_SCRIPT'}",
        f"sweep: {len(config.points)} points x {config.sweep.replicas} replicas = {config.n_tasks} "
        f"tasks of {config.train.steps} steps" + (f" in {t.n_units} work units" if t else ""),
        f"job: {o.nodes} node(s) x {o.ranks_per_node} rank(s) = {o.ranks} ranks, wall time "
        f"{format_walltime(o.walltime)}; the run is told to stop {o.grace} s before the end",
    ]
    if o.array:
        lines.append(
            f"job array of {o.array} chunks (run --chunk I/{o.array}); the last chunk to finish merges "
            f"them into {results}"
        )
    lines.append(f"an interrupted job (exit 75) is {o.continuation()}")
    if t is None:
        lines.append("cost estimate: not measured (--no-estimate)")
    else:
        per = "the largest chunk" if o.array else "the sweep"
        need = "never (a unit is longer than a job)" if t.jobs_needed is None else str(t.jobs_needed)
        lines += [
            f"cost estimate (timed on the machine that rendered this; cluster cores differ): "
            f"{t.core_seconds / 3600:.3g} core-hours,",
            f"  {per}: {t.units_per_job} work units, ~{format_walltime(t.seconds_needed)} on "
            f"{t.effective_ranks} busy rank(s); jobs needed: {need}, allowed: {t.jobs_allowed}",
        ]
    lines += [f"WARNING: {w}" for w in warns]
    return "\n".join(f"# {line}" for line in lines)


def _venv_lines(venv: str | None) -> str:
    if venv is None:
        return "# source /path/to/mpi-dbm/.venv/bin/activate      # <- mpi-dbm's virtual environment"
    activate = shlex.quote(str(Path(venv) / "bin" / "activate"))
    return f"# shellcheck source=/dev/null\nsource {activate}"


def current_venv() -> str | None:
    """The virtual environment running this command, if any."""
    if sys.prefix != sys.base_prefix and (Path(sys.prefix) / "bin" / "activate").is_file():
        return sys.prefix
    return None


def render(
    config: Config,
    options: JobOptions,
    estimate: CostEstimate | None = None,
    *,
    command: str | None = None,
    template: str | None = None,
) -> Rendered:
    """The job script text for `options` (with the cost estimate if given) and its warnings."""
    if template is None:
        template = template_path(SCHEDULERS[options.scheduler]).read_text(encoding="utf-8")
    t = timing(config, options, estimate) if estimate is not None else None
    warns = warnings_for(config, options, t)
    results = options.results or f"{config.sweep.name}.h5"
    analysis_dir = results[: -len(".h5")] + "-analysis"
    values = {
        "HEADER": _header(config, options, t, warns, command),
        "DIRECTIVES": "\n".join(_directives(config, options)),
        "VENV": _venv_lines(options.venv),
        "CONFIG": shlex.quote(options.config_path),
        "RESULTS": shlex.quote(results),
        "ARRAY": str(options.array),
        "REQUEUE": str(options.n_requeue),
        "CHAIN": str(options.n_chain),
        "GRACE": str(options.grace),
        "WALLTIME_SECONDS": str(options.walltime),
        "NRANKS": str(options.ranks),
        "ANALYZE": "1" if options.analyze else "0",
        "ANALYSIS_DIR": shlex.quote(analysis_dir),
        "JOBSCRIPT": shlex.quote(options.script_path) if options.script_path else "''",
    }
    text = template
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = sorted(set(re.findall(r"\{\{([A-Z_]+)\}\}", text)))
    if left:
        raise ConfigError(f"job script template: unknown placeholder(s) {', '.join(left)}")
    return Rendered(text=text, warnings=warns, timing=t)


def summary(options: JobOptions, rendered: Rendered) -> str:
    """One line for the terminal once the script is written."""
    t = rendered.timing
    cost = ""
    if t is not None:
        jobs = t.jobs_needed or "too many"
        cost = f"; estimated {t.core_seconds / 3600:.3g} core-hours, {jobs} job(s) needed"
    return (
        f"mpi-dbm: wrote {options.script_path} ({options.scheduler}, {options.nodes} x "
        f"{options.ranks_per_node} ranks, {format_walltime(options.walltime)}{cost}); submit it from "
        f"this directory with: {SUBMIT[options.scheduler]} {options.script_path}"
    )


def command_line(argv: list[str]) -> str | None:
    """`mpi-dbm jobscript ...` as typed (for the header), from sys.argv."""
    if "jobscript" not in argv:
        return None
    return "mpi-dbm jobscript " + shlex.join(argv[argv.index("jobscript") + 1 :])


def check_script_path(path: str | Path, force: bool = False) -> Path:
    """Refuse a script path that is a directory, in a missing directory, or exists (without force)."""
    out = Path(path)
    if out.is_dir():
        raise ConfigError(f"--output: {str(out)!r} is a directory")
    if out.exists() and not force:
        raise ConfigError(f"{str(out)!r} exists; pass --force to replace it (edits made to it would be lost)")
    if not out.parent.is_dir():
        raise ConfigError(f"output directory {str(out.parent)!r} does not exist; create it first")
    return out


def write_script(path: str | Path, text: str, force: bool = False) -> Path:
    """Write the script atomically and executable; refuse to replace an existing file without force."""
    out = check_script_path(path, force)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out
