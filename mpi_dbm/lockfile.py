"""An advisory lock on a results file that works on cluster file systems.

HDF5's own flock-based locking is often disabled on Lustre/GPFS
(HDF5_USE_FILE_LOCKING=FALSE) and is not applied by the MPI-IO driver, so the
run takes its own: `OUT.h5.lock`, created with O_CREAT|O_EXCL (atomic on local
file systems, NFSv3+, Lustre and GPFS), holding who owns it. The owner refreshes
its modification time (heartbeat). A lock is stale, and taken over with a note,
when its owner is provably gone: same host and the process no longer exists, the
same scheduler job (a requeued SLURM/PBS job), or no heartbeat for `stale_after`
seconds. Otherwise the run is refused; `--break-lock` overrides.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .errors import ResultsFileError

HEARTBEAT_SECONDS = 60.0
STALE_AFTER_SECONDS = 600.0
_JOB_VARIABLES = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID")


def lock_path(results: Path) -> Path:
    return results.with_name(results.name + ".lock")


def _job_id() -> str | None:
    for var in _JOB_VARIABLES:
        if os.environ.get(var):
            return f"{var}={os.environ[var]}"
    return None


def _pid_alive(pid: int) -> bool:
    """True if the process exists and is not a zombie (a dead rank whose parent, e.g. an init
    that does not reap orphans in a container, has not collected it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


@dataclass
class Owner:
    host: str
    pid: int
    job: str | None
    started: str

    @classmethod
    def me(cls) -> Owner:
        return cls(socket.gethostname(), os.getpid(), _job_id(), time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    def describe(self) -> str:
        job = f", {self.job}" if self.job else ""
        return f"host {self.host}, pid {self.pid}{job}, since {self.started}"


class ResultsLock:
    """Held by rank 0 for the duration of a run."""

    def __init__(self, results: Path, stale_after: float = STALE_AFTER_SECONDS) -> None:
        self.path = lock_path(results)
        self.stale_after = stale_after
        self.owner = Owner.me()
        self.note: str | None = None
        self._held = False
        self._last_beat = 0.0

    def _read(self) -> tuple[Owner | None, float]:
        try:
            text = self.path.read_text()
            age = time.time() - self.path.stat().st_mtime
        except FileNotFoundError:
            return None, 0.0
        try:
            return Owner(**json.loads(text)), age
        except (ValueError, TypeError):
            return None, age

    def stale_reason(self, owner: Owner | None, age: float) -> str | None:
        """Why an existing lock may be taken over, or None if its owner may be alive."""
        if owner is None:
            return "unreadable lock file"
        if owner.host == self.owner.host and not _pid_alive(owner.pid):
            return f"its process {owner.pid} on this host is gone"
        if owner.job is not None and owner.job == self.owner.job:
            return f"it belongs to this same scheduler job ({owner.job}, requeued)"
        if age > self.stale_after:
            return f"no heartbeat for {age:.0f} s"
        return None

    def acquire(self, break_lock: bool = False) -> None:
        for _ in range(3):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner, age = self._read()
                reason = "--break-lock" if break_lock else self.stale_reason(owner, age)
                if reason is None:
                    assert owner is not None
                    raise ResultsFileError(
                        f"{self.path.with_suffix('')} is in use by another run ({owner.describe()}); "
                        f"wait for it, or if it is dead remove {self.path} or pass --break-lock"
                    ) from None
                self.note = f"took over the lock {self.path} ({reason})"
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                json.dump(vars(self.owner), f)
            self._held = True
            self._last_beat = time.monotonic()
            return
        raise ResultsFileError(f"could not take the lock {self.path}: it keeps reappearing")

    def heartbeat(self) -> None:
        """Refresh the lock's mtime at most every HEARTBEAT_SECONDS."""
        now = time.monotonic()
        if self._held and now - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = now
            with contextlib.suppress(FileNotFoundError):
                os.utime(self.path)

    def release(self) -> None:
        if self._held:
            self._held = False
            owner, _ = self._read()
            if owner is not None and owner.pid == self.owner.pid and owner.host == self.owner.host:
                self.path.unlink(missing_ok=True)
