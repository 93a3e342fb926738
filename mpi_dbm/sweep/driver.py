"""The MPI driver: `mpiexec -n P mpi-dbm run CONFIG -o OUT.h5`.

All ranks parse the same config, rank 0 checks the output path, the store is
opened (collectively in parallel mode), work units are distributed (static:
cost-balanced plan; dynamic: claimed from an MPI RMA counter in LPT order),
trained as stacks of replicas, and written as soon as each is done.

Failure mode (as mpi4py documents): an uncaught exception on one rank would
leave the others waiting in a collective forever; the driver therefore aborts
the whole job (MPI_Abort) with the rank and the error, so no allocation hours
burn on a hung job.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..config import Config
from ..errors import ConfigError, ResultsFileError, WriteError
from ..lockfile import ResultsLock
from ..models import family
from ..store import Preflight, SerialWriter, open_writer, preflight, resolve_io, space_error
from ..streams import ReplicaStreams
from ..threads import limit_blas_threads
from ..train import train_stack
from .grid import WorkUnit, work_units
from .progress import Progress
from .schedule import lpt_order, static_assignment
from .stop import Interrupted, StopRequest, die_with_launcher
from .variants import VariantModels


@dataclass(frozen=True)
class RunSummary:
    path: Path
    n_tasks: int
    skipped: int  # tasks already done/diverged in a resumed file (or outside the chunk)
    trained: int
    diverged: int
    pending: int  # tasks of this run (chunk) still pending: > 0 only after a stop
    seconds: float
    parallel_io: bool
    n_ranks: int
    schedule: str
    stopped: str | None  # why the run stopped early (signal name, "time limit"), or None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """Part `index` of `count` (0-based) of a sweep split across jobs: a cost-balanced share of units."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Chunk:
        """'I/K' with 1 <= I <= K (1-based on the command line)."""
        try:
            i, k = (int(v) for v in text.split("/"))
        except ValueError:
            raise ConfigError(f"--chunk must look like I/K (e.g. 2/8), got {text!r}") from None
        if not 1 <= i <= k:
            raise ConfigError(f"--chunk {text}: need 1 <= I <= K")
        return cls(i - 1, k)


def _world() -> Any:
    from mpi4py import MPI

    return MPI.COMM_WORLD


class _SharedCount:
    """Tasks finished, summed over ranks (an RMA counter held by rank 0)."""

    def __init__(self, comm: Any) -> None:
        self.comm = comm
        self.local = 0
        self._counter = None
        if comm.Get_size() > 1:
            from mpi4py.util.sync import Counter

            self._counter = Counter(comm=comm, typecode="q")

    def add(self, n: int) -> None:
        self.local += n
        if self._counter is not None:
            self._counter.next(n)

    def value(self) -> int:
        return self._counter.next(0) if self._counter is not None else self.local

    def free(self) -> None:
        if self._counter is not None:
            self._counter.free()


class _Claims:
    """This rank's units: a fixed plan (static) or claimed one at a time (dynamic).

    The dynamic claim counter is created and freed collectively by `run_sweep`, outside
    the loop, so that a failing rank never leaves the others in a collective free.
    """

    def __init__(self, todo: list[WorkUnit], config: Config, built: VariantModels, comm: Any) -> None:
        size, rank = comm.Get_size(), comm.Get_rank()
        self._counter = None
        if config.sweep.schedule == "static" or size == 1:
            self._plan = static_assignment(todo, built.cost, size)[rank]
        else:
            from mpi4py.util.sync import Counter

            self._plan = lpt_order(todo, built.cost)
            self._counter = Counter(comm=comm, typecode="q")

    def __iter__(self) -> Iterator[WorkUnit]:
        if self._counter is None:
            yield from self._plan
            return
        while (i := self._counter.next()) < len(self._plan):
            yield self._plan[i]

    def free(self) -> None:
        if self._counter is not None:
            self._counter.free()


def run_sweep(
    config: Config,
    path: str | Path,
    *,
    comm: Any = None,
    io: str = "auto",
    force: bool = False,
    resume: bool = False,
    quiet: bool = False,
    progress_stream: TextIO | None = None,
    schedule: str | None = None,
    chunk: Chunk | None = None,
    time_limit: float | None = None,
    break_lock: bool = False,
    source: str = "config",
) -> RunSummary:
    """Run (or complete, with `resume`) the sweep of `config` into `path`, on all ranks of `comm`.

    `chunk` restricts the run to a cost-balanced share of the units (the file keeps the
    full layout; `mpi-dbm merge` joins chunk files). `time_limit` (seconds) and the
    signals of `stop.STOP_SIGNALS` stop the run cleanly: finished units are kept,
    unfinished ones stay pending, and `RunSummary.stopped` says why. `source` names the config
    in messages (its file).

    Failure handling, in three steps with the same collective calls in the same order on every
    rank (a mismatch deadlocks): `_check_path` (rank 0 alone, never raises; its verdict is
    broadcast and raised on every rank), `_Training` (any failure aborts the job with
    comm.Abort unless every rank raised it together; a write error stops every rank cleanly),
    `_close` (the reductions; a write error on any rank is raised on every rank).
    """
    limit_blas_threads()  # one BLAS thread per rank (MPI_DBM_BLAS_THREADS overrides; threads.py)
    comm = comm or _world()
    rank, size = comm.Get_rank(), comm.Get_size()
    path = Path(path)
    if schedule is not None:
        config = replace(config, sweep=replace(config.sweep, schedule=schedule))
    t0 = time.monotonic()
    parallel = resolve_io(io)
    lock = ResultsLock(path) if rank == 0 else None

    checked = _check_path(config, path, lock, source, force, resume, break_lock) if rank == 0 else None
    pre = comm.bcast(checked)
    if pre.error:
        raise ResultsFileError(pre.error)

    if size > 1:
        die_with_launcher()
    stop = StopRequest(comm, time_limit)
    run = _Training(config, path, comm, lock, stop)  # local only: no collective call, cannot fail
    stop.install()
    try:
        run.open(pre, parallel, chunk, quiet, progress_stream)
        run.train()
    except (Exception, KeyboardInterrupt) as exc:
        if size == 1 or exc is run.agreed:
            _release(lock)
            raise
        sys.stderr.write(f"mpi-dbm: rank {rank} of {size} failed: {exc!r}\n")
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        comm.Abort(1)
        raise
    finally:
        stop.restore()
    stop.free()
    return _close(run, t0)


def _check_path(
    config: Config,
    path: Path,
    lock: ResultsLock | None,
    source: str,
    force: bool,
    resume: bool,
    break_lock: bool,
) -> Preflight:
    """Rank 0 only; never raises, so the other ranks are never left waiting in the bcast."""
    try:
        if (refused := untrainable(config, source)) is not None:  # before any file or lock
            return Preflight(refused, False, None)
        pre = preflight(path, config, force=force, resume=resume)
        if pre.error is None and pre.done is None:  # a new file: is there room for it?
            model = VariantModels(config)[0]  # every variant records arrays of the same shapes
            if (no_room := space_error(path, config, model)) is not None:
                return Preflight(no_room, pre.exists, None)
        if pre.error is None:
            assert lock is not None
            lock.acquire(break_lock=break_lock)
            # again under the lock: a run that held it meanwhile may have made the file
            pre = preflight(path, config, force=force, resume=resume)
            if pre.error is not None:
                lock.release()
        return pre
    except ResultsFileError as exc:
        _release(lock)
        return Preflight(str(exc), False, None)
    except Exception as exc:  # e.g. permissions, a broken file system
        _release(lock)
        return Preflight(f"cannot prepare {path}: {exc!r}", False, None)


class _Training:
    """One rank's part of a sweep between the pre-flight and the closing reductions.

    `open` builds the models, selects the units still to do and opens the file (collective);
    `train` trains and writes this rank's units until they run out or a stop. Any exception
    they raise is handled by `run_sweep`: `agreed` is the one error every rank raised together
    (no abort needed); `write_error` is this rank's failed write, after which it stopped cleanly.
    """

    def __init__(
        self, config: Config, path: Path, comm: Any, lock: ResultsLock | None, stop: StopRequest
    ) -> None:
        self.config, self.path, self.comm, self.lock, self.stop = config, path, comm, lock, stop
        self.rank = comm.Get_rank()
        self.agreed: BaseException | None = None  # an error every rank raised together
        self.write_error: str | None = None  # this rank's failed write (WriteError): all ranks stop cleanly
        self.diverged = 0

    def open(
        self, pre: Preflight, parallel: bool, chunk: Chunk | None, quiet: bool, progress_stream: TextIO | None
    ) -> None:
        config, comm = self.config, self.comm
        self.built = built = VariantModels(config)
        model = built[0]  # the layout: every scan variant records arrays of the same shapes
        units = work_units(config)
        if chunk is not None:
            units = static_assignment(units, built.cost, chunk.count)[chunk.index]
        done_mask = pre.done if pre.done is not None else np.zeros(config.n_tasks, dtype=bool)
        self.todo = [u for u in units if not done_mask[u.tasks].all()]
        self.n_todo_tasks = sum(u.n_replicas for u in self.todo)
        self.skipped = config.n_tasks - self.n_todo_tasks
        try:
            self.writer = open_writer(
                self.path, config, model, comm, parallel=parallel, create=pre.done is None
            )
        except ResultsFileError as exc:  # creation failed: rank 0's verdict, raised on every rank
            self.agreed = exc
            raise
        self.finished = _SharedCount(comm)
        self.progress = Progress(
            self.n_todo_tasks, self.skipped, progress_stream, enabled=False if quiet else None
        )
        self.progress.enabled = self.progress.enabled and self.rank == 0

    def on_check(self, step: int) -> None:
        self.writer.poll()
        if self.rank == 0:
            assert self.lock is not None
            self.lock.heartbeat()
            self.progress.update(self.finished.value())
        if self.stop.requested():
            raise Interrupted

    def on_step(self) -> None:  # after every SGD step: a stop is seen within one step, however big
        if self.stop.requested():
            raise Interrupted

    def train(self) -> None:
        config, stop, writer = self.config, self.stop, self.writer
        claims = _Claims(self.todo, config, self.built, self.comm)
        fault = _injected_fault(self.rank)
        try:
            for n_done, unit in enumerate(claims):
                if n_done == fault:
                    raise RuntimeError(f"fault injected by {FAULT_VARIABLE} before unit {unit.index}")
                streams = ReplicaStreams(unit.seeds(config.sweep.seed))
                train = config.variants[unit.point.variant].train
                result = train_stack(
                    self.built.of(unit),
                    unit.point.learning_rate,
                    unit.point.batch_size,
                    streams,
                    train.steps,
                    train.measure_every,
                    train.check_every,
                    self.on_check,
                    self.on_step,
                )
                writer.write_unit(unit, result)
                self.diverged += int(result.diverged.sum())
                self.finished.add(unit.n_replicas)
                self.on_check(-1)
        except Interrupted:
            pass  # the unit in flight is abandoned: its status stays pending
        except WriteError as exc:
            # disk full, quota, I/O error: raise the shared stop flag so every rank abandons its
            # unit at its next step, then close collectively as after a stop (never MPI_Abort:
            # the ranks agree, the lock is released, and the file stays resumable)
            self.write_error = str(exc)
            if stop.reason is None:
                stop.reason = "write error"
            stop.requested()
        claims.free()
        writer.finish()
        if self.write_error is None and isinstance(writer, SerialWriter) and writer.error is not None:
            self.write_error = str(writer.error)  # a unit received while draining could not be written


def _close(run: _Training, t0: float) -> RunSummary:
    """The closing reductions (every rank, in this order); a write error on any rank raises here."""
    comm, lock, finished, config = run.comm, run.lock, run.finished, run.config
    if run.rank == 0:
        run.progress.update(finished.value(), force=True)
        run.progress.close()
    totals = comm.allreduce(np.array([finished.local, run.diverged]))
    reasons = [r for r in comm.allgather(run.stop.reason) if r is not None]
    failures = [e for e in comm.allgather(run.write_error) if e is not None]
    finished.free()
    if failures:
        _release(lock)
        pending = run.n_todo_tasks - int(totals[0])
        raise WriteError(
            f"{failures[0]}; all ranks stopped, {pending} tasks are still pending and the "
            f"finished ones are kept: make room, then rerun the same command with --resume"
        )
    _release(lock)
    first_hand = [r for r in reasons if r != "another rank stopped"]
    return RunSummary(
        path=run.path,
        n_tasks=config.n_tasks,
        skipped=run.skipped,
        trained=int(totals[0]),
        diverged=int(totals[1]),
        pending=run.n_todo_tasks - int(totals[0]),
        seconds=time.monotonic() - t0,
        parallel_io=run.writer.parallel_io,
        n_ranks=comm.Get_size(),
        schedule=config.sweep.schedule,
        stopped=(first_hand or reasons or [None])[0],
        notes=tuple(n for n in [lock.note if lock else None] if n),
    )


FAULT_VARIABLE = "MPI_DBM_INJECT_FAULT"


def untrainable(config: Config, source: str = "config") -> str | None:
    """Why `config` cannot be run (its family only describes spectra made elsewhere), else None."""
    kind = config.model.kind
    if family(kind).trainable:
        return None
    return (
        f"{source}: [model] kind = {kind!r} holds imported spectra: an imported family cannot be trained "
        "(mpi-dbm import makes such files; analyze them with mpi-dbm analyze)"
    )


def _injected_fault(rank: int) -> int | None:
    """Test hook: MPI_DBM_INJECT_FAULT="RANK:N" makes RANK raise before its N-th unit (0-based)."""
    spec = os.environ.get(FAULT_VARIABLE)
    if not spec:
        return None
    fault_rank, n = (int(v) for v in spec.split(":"))
    return n if fault_rank == rank else None


def _release(lock: ResultsLock | None) -> None:
    if lock is not None:
        lock.release()
