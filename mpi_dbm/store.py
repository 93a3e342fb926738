"""The results file: one HDF5 file, layout fixed up front, rows written per work unit.

The only module (with analysis) that imports h5py, and with sweep/ the only one
that imports mpi4py. It decides between the two writers:
- ParallelWriter: every rank opens the file with driver='mpio' and writes its own
  rows with independent I/O (the default when h5py is built with MPI).
- SerialWriter: rank 0 alone opens the file; other ranks send their results to
  rank 0 over MPI (fallback for h5py without MPI, or `--io serial`).

Within a unit the data rows are written before `/tasks/status`, so a status of
done/diverged means the unit's data were written. Layout: docs/file-format.md.
"""

from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from . import __version__
from .config import RESULT_NEUTRAL, Config, compatibility_sha256, parse_text
from .errors import ConfigError, ResultsFileError
from .models.base import DIVERGENCE_REASONS, Model
from .sweep.grid import WorkUnit, task_table
from .train import StackResult

LAYOUT_VERSION = 1
PENDING, DONE, DIVERGED = 0, 1, 2
STATUS_NAMES = {PENDING: "pending", DONE: "done", DIVERGED: "diverged"}
_TAG_RESULT = 7301


def parallel_available() -> bool:
    """True when h5py was built against parallel HDF5 (driver='mpio' works)."""
    return bool(h5py.get_config().mpi)


def library_versions() -> dict[str, str]:
    import mpi4py
    from mpi4py import MPI

    return {
        "numpy_version": np.__version__,
        "h5py_version": h5py.__version__,
        "hdf5_version": h5py.version.hdf5_version,
        "mpi4py_version": mpi4py.__version__,
        "mpi_library": MPI.Get_library_version().replace("\x00", "").splitlines()[0].strip(),
    }


# -- layout ------------------------------------------------------------------------
def _root_attributes(config: Config, n_ranks: int, parallel_io: bool) -> dict[str, Any]:
    return {
        "format": "mpi-dbm results",
        "layout_version": LAYOUT_VERSION,
        "config": config.to_toml(),
        "config_sha256": config.sha256,
        "model_kind": config.model.kind,
        "mpi_dbm_version": __version__,
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "n_ranks": n_ranks,
        "parallel_io": parallel_io,
        **library_versions(),
    }


def _create_layout(f: h5py.File, config: Config, model: Model, attrs: dict[str, Any]) -> None:
    """Create every group and dataset (collective in parallel mode: same calls on all ranks)."""
    n_tasks = config.n_tasks
    n_meas = len(config.train.measure_steps)
    for key, value in attrs.items():
        f.attrs[key] = value
    tasks = f.create_group("tasks")
    for name, dtype in (("point", "i8"), ("learning_rate", "f8"), ("batch_size", "i8"), ("replica", "i8")):
        tasks.create_dataset(name, shape=(n_tasks,), dtype=dtype)
    tasks.create_dataset("status", shape=(n_tasks,), dtype="i1", fillvalue=PENDING)
    tasks["status"].attrs["meaning"] = "0 pending, 1 done, 2 diverged"
    tasks.create_dataset("diverged_step", shape=(n_tasks,), dtype="i8", fillvalue=-1)
    tasks.create_dataset("diverged_reason", shape=(n_tasks,), dtype="i1", fillvalue=0)
    tasks["diverged_reason"].attrs["meaning"] = ", ".join(f"{k} {v}" for k, v in DIVERGENCE_REASONS.items())
    pts = f.create_group("points")
    pts.create_dataset("learning_rate", shape=(len(config.sweep.points),), dtype="f8")
    pts.create_dataset("batch_size", shape=(len(config.sweep.points),), dtype="i8")
    f.create_group("measure").create_dataset("step", shape=(n_meas,), dtype="i8")
    spectra = f.create_group("spectra")
    for info in model.spectra:
        ds = spectra.create_dataset(
            info.name, shape=(n_tasks, n_meas, info.size), dtype="f8", fillvalue=np.nan
        )
        ds.attrs["description"] = info.description
    scalars = f.create_group("scalars")
    for name in model.scalars:
        scalars.create_dataset(name, shape=(n_tasks, n_meas), dtype="f8", fillvalue=np.nan)


def _write_tables(f: h5py.File, config: Config) -> None:
    """The constant columns (one writer only)."""
    for name, values in task_table(config).items():
        f["tasks"][name][...] = values
    pts = np.array(config.sweep.points, dtype=float).reshape(-1, 2)
    f["points/learning_rate"][...] = pts[:, 0]
    f["points/batch_size"][...] = pts[:, 1].astype(np.int64)
    f["measure/step"][...] = np.array(config.train.measure_steps, dtype=np.int64)


def _write_data(f: h5py.File, tasks: slice, result: StackResult) -> None:
    """Everything of a unit but its status."""
    for name, values in result.spectra.items():
        f["spectra"][name][tasks] = values
    for name, values in result.scalars.items():
        f["scalars"][name][tasks] = values
    f["tasks/diverged_step"][tasks] = result.diverged_step
    f["tasks/diverged_reason"][tasks] = result.diverged_reason


def _write_status(f: h5py.File, tasks: slice, result: StackResult) -> None:
    """Written last: a task is done only once its data are in the file."""
    f["tasks/status"][tasks] = np.where(result.diverged, DIVERGED, DONE).astype(np.int8)


# -- pre-flight (rank 0) --------------------------------------------------------------
@dataclass(frozen=True)
class Preflight:
    """What rank 0 found about the output path, broadcast to all ranks."""

    error: str | None
    exists: bool
    done: np.ndarray | None  # task-done mask of an existing file being resumed


def config_difference(stored: str, wanted: str) -> str:
    """Keys whose values differ between two canonical config texts."""
    import tomllib

    a, b = tomllib.loads(stored), tomllib.loads(wanted)
    diffs = []
    for table in sorted(set(a) | set(b)):
        ta, tb = a.get(table, {}), b.get(table, {})
        for key in sorted(set(ta) | set(tb)):
            if ta.get(key) != tb.get(key) and key not in RESULT_NEUTRAL.get(table, ()):
                diffs.append(f"[{table}] {key}: file has {ta.get(key)!r}, config has {tb.get(key)!r}")
    return "; ".join(diffs) or "(formatting only)"


def preflight(path: Path, config: Config, *, force: bool, resume: bool) -> Preflight:
    """Decide, before anything is written, whether `path` may be created or resumed."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return Preflight(f"output directory {str(parent)!r} does not exist; create it first", False, None)
    if not os.access(parent, os.W_OK):
        return Preflight(f"output directory {str(parent)!r} is not writable", False, None)
    if path.is_dir():
        return Preflight(f"output path {str(path)!r} is a directory; give a file name", False, None)
    if not path.exists():
        return Preflight(None, False, None)
    if resume:
        try:
            res = open_results(path)
        except ResultsFileError as exc:
            return Preflight(f"cannot resume: {exc}", True, None)
        with res:
            if compatibility_sha256(res.config_text) != config.compat_sha256:  # schedule etc. may differ
                diff = config_difference(res.config_text, config.to_toml())
                return Preflight(
                    f"cannot resume {str(path)!r}: it was made with a different config ({diff}); "
                    "use the original config, or another output file",
                    True,
                    None,
                )
            return Preflight(None, True, res.status() != PENDING)
    if force:
        return Preflight(None, True, None)
    return Preflight(
        f"results file {str(path)!r} exists; pass --resume to complete it, "
        "--force to overwrite it, or choose another -o",
        True,
        None,
    )


# -- writers ------------------------------------------------------------------------
def _creating_path(path: Path) -> Path:
    """Where a new file is built before it is renamed into place (atomic creation)."""
    return path.with_name(path.name + ".creating")


class _Durable:
    """fsync through a plain descriptor: pushes the file's dirty pages to disk without a collective."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_RDONLY)

    def sync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        os.close(self._fd)


class ParallelWriter:
    """Every rank holds the file open (driver='mpio') and writes its own units' rows.

    A new file is built under NAME.creating and renamed into place once its layout is
    on disk, so NAME never exists half-created (and `--force` replaces an old file only
    then). Per unit: data rows, fsync, status, fsync — a status of done means the data
    are on disk, whatever kills the job afterwards.
    """

    parallel_io = True

    def __init__(self, path: Path, config: Config, model: Model, comm: Any, *, create: bool) -> None:
        self.comm = comm
        if create:
            attrs = comm.bcast(
                _root_attributes(config, comm.Get_size(), True) if comm.Get_rank() == 0 else None
            )
            tmp = _creating_path(path)
            with h5py.File(tmp, "w", driver="mpio", comm=comm) as f:
                _create_layout(f, config, model, attrs)
                if comm.Get_rank() == 0:
                    _write_tables(f, config)
            if comm.Get_rank() == 0:
                _fsync_path(tmp)
                os.replace(tmp, path)
            comm.Barrier()
        self.file = h5py.File(path, "r+", driver="mpio", comm=comm)
        self._durable = _Durable(path)

    def write_unit(self, unit: WorkUnit, result: StackResult) -> None:
        _write_data(self.file, unit.tasks, result)
        self._durable.sync()
        _write_status(self.file, unit.tasks, result)
        self._durable.sync()

    def poll(self) -> None:
        """Nothing to receive in parallel mode."""

    def finish(self) -> None:
        self._durable.close()
        self.file.close()  # collective


class SerialWriter:
    """Rank 0 writes everything; other ranks send (tasks, result) to rank 0 as they finish."""

    parallel_io = False

    def __init__(self, path: Path, config: Config, model: Model, comm: Any, *, create: bool) -> None:
        self.comm = comm
        self.rank = comm.Get_rank()
        self.received = 0  # units received from other ranks (rank 0)
        self.sent = 0
        self._requests: list[Any] = []
        self.file = None
        if self.rank == 0:
            if create:
                tmp = _creating_path(path)
                with h5py.File(tmp, "w") as f:
                    _create_layout(f, config, model, _root_attributes(config, comm.Get_size(), False))
                    _write_tables(f, config)
                _fsync_path(tmp)
                os.replace(tmp, path)
            self.file = h5py.File(path, "r+")
            self._durable = _Durable(path)
        comm.Barrier()

    def write_unit(self, unit: WorkUnit, result: StackResult) -> None:
        if self.rank == 0:
            self._write(unit.tasks, result)
        else:
            self._requests.append(self.comm.isend((unit.tasks, result), dest=0, tag=_TAG_RESULT))
            self.sent += 1

    def _write(self, tasks: slice, result: StackResult) -> None:
        assert self.file is not None
        _write_data(self.file, tasks, result)
        self.file.flush()
        self._durable.sync()
        _write_status(self.file, tasks, result)
        self.file.flush()
        self._durable.sync()

    def poll(self) -> None:
        if self.rank != 0:
            return
        from mpi4py import MPI

        while self.comm.iprobe(source=MPI.ANY_SOURCE, tag=_TAG_RESULT):
            self._write(*self.comm.recv(source=MPI.ANY_SOURCE, tag=_TAG_RESULT))
            self.received += 1

    def finish(self) -> None:
        """Collective: rank 0 receives every unit the others sent, then closes the file."""
        from mpi4py import MPI

        sent = self.comm.allreduce(self.sent)
        if self.rank == 0:
            while self.received < sent:
                self._write(*self.comm.recv(source=MPI.ANY_SOURCE, tag=_TAG_RESULT))
                self.received += 1
            assert self.file is not None
            self._durable.close()
            self.file.close()
        else:
            MPI.Request.waitall(self._requests)
        self.comm.Barrier()


def _fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


Writer = ParallelWriter | SerialWriter


def resolve_io(io: str) -> bool:
    """True for the parallel writer: io = "auto" (parallel if available), "parallel" or "serial"."""
    if io not in ("auto", "parallel", "serial"):
        raise ConfigError(f"--io must be auto, parallel or serial, got {io!r}")
    if io == "parallel" and not parallel_available():
        raise ConfigError(
            "--io parallel: this h5py was built without MPI (h5py.get_config().mpi is False); "
            "rebuild it against parallel HDF5 (see README) or use --io serial"
        )
    return io == "parallel" or (io == "auto" and parallel_available())


def open_writer(
    path: Path, config: Config, model: Model, comm: Any, *, parallel: bool, create: bool
) -> Writer:
    """Open (create or reopen) the results file for writing, on every rank of `comm`."""
    cls = ParallelWriter if parallel else SerialWriter
    return cls(path, config, model, comm, create=create)


# -- reading ------------------------------------------------------------------------
class Results:
    """Read access to a results file (serial, any process). Use as a context manager."""

    def __init__(self, path: Path, file: h5py.File) -> None:
        self.path = path
        self.file = file

    def __enter__(self) -> Results:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.file.close()

    @property
    def attrs(self) -> dict[str, Any]:
        return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in self.file.attrs.items()}

    @property
    def config_text(self) -> str:
        return str(self.file.attrs["config"])

    @property
    def config_sha256(self) -> str:
        return str(self.file.attrs["config_sha256"])

    def config(self) -> Config:
        return parse_text(self.config_text, source=f"{self.path} (stored config)")

    def status(self) -> np.ndarray:
        return self.file["tasks/status"][...]

    def tasks(self) -> dict[str, np.ndarray]:
        return {name: ds[...] for name, ds in self.file["tasks"].items()}

    def measure_steps(self) -> np.ndarray:
        return self.file["measure/step"][...]

    def spectrum_names(self) -> list[str]:
        return list(self.file["spectra"])

    def spectra(self, name: str, measurement: int | slice = slice(None)) -> np.ndarray:
        return self.file["spectra"][name][:, measurement]

    def scalars(self, name: str) -> np.ndarray:
        return self.file["scalars"][name][...]


_REQUIRED = ("tasks/status", "tasks/learning_rate", "tasks/batch_size", "tasks/replica", "measure/step")


def open_results(path: str | Path) -> Results:
    """Open a results file for reading, or raise ResultsFileError saying what is wrong with it."""
    p = Path(path)
    if not p.exists():
        raise ResultsFileError(f"results file {str(p)!r} does not exist")
    if p.is_dir():
        raise ResultsFileError(f"{str(p)!r} is a directory, not a results file")
    if not h5py.is_hdf5(p):
        raise ResultsFileError(f"{str(p)!r} is not an HDF5 file (truncated, or not written by mpi-dbm)")
    try:
        # locking=False: read while a run holds the file open (the layout never changes during a
        # run, and readers use only rows whose status is done)
        f = h5py.File(p, "r", locking=False)
    except OSError as exc:
        raise ResultsFileError(f"cannot open {str(p)!r}: {exc} (truncated or damaged?)") from None
    try:
        if f.attrs.get("format") != "mpi-dbm results":
            raise ResultsFileError(f"{str(p)!r} is an HDF5 file but not an mpi-dbm results file")
        missing = [name for name in _REQUIRED if name not in f]
        if missing or "spectra" not in f:
            raise ResultsFileError(
                f"{str(p)!r} lacks {', '.join(missing) or 'spectra'}: damaged results file"
            )
        if int(f.attrs.get("layout_version", -1)) > LAYOUT_VERSION:
            raise ResultsFileError(
                f"{str(p)!r} has layout version {f.attrs['layout_version']}; "
                f"this mpi-dbm ({__version__}) reads up to {LAYOUT_VERSION}: upgrade mpi-dbm"
            )
    except ResultsFileError:
        f.close()
        raise
    return Results(p, f)


# -- merging chunk files ------------------------------------------------------------------
@dataclass(frozen=True)
class MergeSummary:
    path: Path
    n_tasks: int
    copied: int
    pending: int


def _runs(mask: np.ndarray) -> list[slice]:
    """Contiguous runs of True in a 1-D mask, as slices."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def merge(output: str | Path, inputs: list[str | Path], *, force: bool = False) -> MergeSummary:
    """Join results files of one sweep (e.g. `run --chunk I/K` outputs) into one file.

    All inputs must carry the same config hash. Every task that is done or diverged in
    some input is copied; a task finished in two inputs must have identical data. The
    output has the layout of a single run, so its /spectra and /tasks equal an
    uninterrupted single-file run's bit for bit once every task is finished.
    """
    from . import models
    from .streams import shared_data_seed

    out = Path(output)
    if not inputs:
        raise ResultsFileError("merge needs at least one input file")
    paths = [Path(p) for p in inputs]
    if any(out.resolve() == p.resolve() for p in paths if p.exists()):
        raise ResultsFileError(f"the output {str(out)!r} is also an input; choose another output file")
    if out.exists() and not force:
        raise ResultsFileError(f"{str(out)!r} exists; pass --force to overwrite it or choose another output")
    if not out.parent.is_dir():
        raise ResultsFileError(f"output directory {str(out.parent)!r} does not exist; create it first")
    opened = [open_results(p) for p in paths]
    try:
        first = opened[0]
        for res in opened[1:]:
            if compatibility_sha256(res.config_text) != compatibility_sha256(first.config_text):
                diff = config_difference(first.config_text, res.config_text)
                raise ResultsFileError(
                    f"{res.path} is not from the same sweep as {first.path} ({diff}); "
                    "only chunk files of one config can be merged"
                )
        config = first.config()
        model = models.build(config.model, shared_data_seed(config.sweep.seed))
        attrs = {
            **_root_attributes(config, int(first.file.attrs.get("n_ranks", 1)), False),
            "merged_from": [str(p) for p in paths],
        }
        tmp = _creating_path(out)
        copied = np.zeros(config.n_tasks, dtype=bool)
        with h5py.File(tmp, "w") as f:
            _create_layout(f, config, model, attrs)
            _write_tables(f, config)
            names = [
                "tasks/diverged_step",
                "tasks/diverged_reason",
                *(f"spectra/{s.name}" for s in model.spectra),
            ]
            names += [f"scalars/{n}" for n in model.scalars]
            for res in opened:
                have = res.status() != PENDING
                for run in _runs(have & copied):
                    for name in [*names, "tasks/status"]:
                        if not np.array_equal(f[name][run], res.file[name][run], equal_nan=True):
                            raise ResultsFileError(
                                f"tasks {run.start}..{run.stop - 1} are finished in two inputs with "
                                f"different data ({name}, {res.path}); the inputs do not belong together"
                            )
                for run in _runs(have & ~copied):
                    for name in names:
                        f[name][run] = res.file[name][run]
                    f["tasks/status"][run] = res.file["tasks/status"][run]
                copied |= have
        _fsync_path(tmp)
        os.replace(tmp, out)
    finally:
        for res in opened:
            res.close()
    return MergeSummary(out, config.n_tasks, int(copied.sum()), int((~copied).sum()))
