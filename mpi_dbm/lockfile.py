"""An advisory lock on a results file that works on cluster file systems.

HDF5's own flock-based locking is often disabled on Lustre/GPFS
(HDF5_USE_FILE_LOCKING=FALSE) and is not applied by the MPI-IO driver, so the
run takes its own: `OUT.h5.lock`, holding a JSON record of who owns it.

Taking the lock (the link(2) protocol of open(2)'s NOTES on O_EXCL): the record
is written and fsynced to a unique `OUT.h5.lock.tmp-NONCE` in the same directory
and hard-linked to `OUT.h5.lock`; link fails if the target exists, so exactly one
contender wins and the lock is never seen empty or half-written (a full disk
fails on the temporary file, which is removed). If link reports an error although
it succeeded (a retransmitted NFS request), the temporary file's link count of 2 or more
shows the win. Works on local file systems, NFS, Lustre, GPFS and BeeGFS; a file
system without hard links gets a clear error.

The owner refreshes the lock's modification time (heartbeat). A lock is stale,
and taken over with a note, when its owner is provably gone:
- an owner on this host (same host name, boot id and pid namespace) is judged by
  its process alone: gone if the pid no longer exists, is a zombie, or now
  belongs to a process with another start time (pid reuse; /proc/PID/stat field
  22); a live owner is never overridden, whatever the age of its heartbeat;
- an owner on another host is gone if it is this same scheduler job (a requeued
  SLURM/PBS/LSF job) or has not beaten for `stale_after` seconds;
- a lock without a readable record (written by hand, or by an older version) is
  stale once unchanged for `UNREADABLE_GRACE_SECONDS`.
Otherwise the run is refused; `--break-lock` overrides.

Taking over is race-free: the taker hard-links the lock to a name derived from
the exact instance it judged stale (`OUT.h5.lock.takeover-KEY`, KEY a hash of its
device, inode and contents). Only one taker per instance can create that name;
it then checks that the captured inode is the record it judged (and judges it
again), removes the lock, and competes for it with link like everyone else. An
owner releases its own lock through the same name, so neither another taker
nor a release can remove the instance between the check and the removal, and
a late taker (who judged an instance that has since been replaced) captures the
new lock, sees that it is not what it judged, and leaves it alone.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import ResultsFileError

__all__ = [
    "HEARTBEAT_SECONDS",
    "STALE_AFTER_SECONDS",
    "TAKEOVER_WAIT_SECONDS",
    "UNREADABLE_GRACE_SECONDS",
    "Owner",
    "ResultsLock",
    "lock_path",
]

HEARTBEAT_SECONDS = 60.0
STALE_AFTER_SECONDS = 600.0
#: an unreadable lock younger than this may be another version's lock being written
UNREADABLE_GRACE_SECONDS = 60.0
#: how long to wait for another run that is taking over the same stale lock
TAKEOVER_WAIT_SECONDS = 10.0
_JOB_VARIABLES = ("SLURM_JOB_ID", "PBS_JOBID", "LSB_JOBID")
_MAX_RECORD = 1 << 16
_MAX_ROUNDS = 10_000


def lock_path(results: Path) -> Path:
    return results.with_name(results.name + ".lock")


def _job_id() -> str | None:
    for var in _JOB_VARIABLES:
        if os.environ.get(var):
            return f"{var}={os.environ[var]}"
    return None


def _read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def _proc_stat(pid: int) -> tuple[str, int] | None:
    """(state, start time in clock ticks since boot) from /proc/PID/stat (fields 3 and 22), if readable."""
    text = _read_text(f"/proc/{pid}/stat")
    if text is None:
        return None
    try:
        fields = text.rsplit(")", 1)[1].split()  # the command name (field 2) may contain spaces
        return fields[0], int(fields[19])
    except (IndexError, ValueError):
        return None


def _boot_id() -> str | None:
    text = _read_text("/proc/sys/kernel/random/boot_id")
    return text.strip() if text else None


def _pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _gone(pid: int, ticks: int | None) -> str | None:
    """Why the process `pid` of this host, started at `ticks`, is provably gone; None if it may be alive.

    A zombie (a dead rank whose parent, e.g. an init that does not reap orphans in a
    container, has not collected it) counts as gone; so does a pid that now belongs to a
    process started at another time.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return f"its process {pid} on this host is gone"
    except PermissionError:
        pass
    stat = _proc_stat(pid)
    if stat is None:
        return None
    state, now_ticks = stat
    if state in ("Z", "X"):
        return f"its process {pid} on this host is gone (a zombie)"
    if ticks is not None and now_ticks != ticks:
        return f"its process {pid} on this host is gone (the pid now belongs to another process)"
    return None


def _why(exc: OSError) -> str:
    """The reason of a failed link(2), naming the likely cause when the file system refuses hard links."""
    if exc.errno in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
        return f"{exc.strerror} (the lock needs hard links; this file system may not provide them)"
    return exc.strerror or str(exc)


def _optional(record: dict[str, Any], key: str, kind: type) -> Any:
    value = record.get(key)
    return value if isinstance(value, kind) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class Owner:
    """Who holds a lock. `boot`, `pidns`, `ticks` and `nonce` are None in records of older versions."""

    host: str
    pid: int
    job: str | None
    started: str
    boot: str | None = None  # /proc/sys/kernel/random/boot_id
    pidns: str | None = None  # the pid namespace, /proc/self/ns/pid
    ticks: int | None = None  # process start time, clock ticks since boot (/proc/PID/stat field 22)
    nonce: str | None = None  # makes every lock instance's record unique

    @classmethod
    def me(cls) -> Owner:
        stat = _proc_stat(os.getpid())
        return cls(
            socket.gethostname(),
            os.getpid(),
            _job_id(),
            time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            _boot_id(),
            _pid_namespace(),
            stat[1] if stat else None,
            secrets.token_hex(8),
        )

    @classmethod
    def parse(cls, data: bytes) -> Owner | None:
        """The owner in a lock record, or None if it is not one."""
        try:
            record = json.loads(data)
        except ValueError:  # includes UnicodeDecodeError
            return None
        if not isinstance(record, dict):
            return None
        host, pid = _optional(record, "host", str), _optional(record, "pid", int)
        if host is None or pid is None or pid <= 0:
            return None
        return cls(
            host,
            pid,
            _optional(record, "job", str),
            _optional(record, "started", str) or "?",
            _optional(record, "boot", str),
            _optional(record, "pidns", str),
            _optional(record, "ticks", int),
            _optional(record, "nonce", str),
        )

    def encode(self) -> bytes:
        return json.dumps(vars(self)).encode()

    def same_host(self, other: Owner) -> bool:
        """Whether `other`'s pid can be checked here: same host name, boot and pid namespace (if known)."""
        if self.host != other.host:
            return False
        pairs = ((self.boot, other.boot), (self.pidns, other.pidns))
        return all(a is None or b is None or a == b for a, b in pairs)

    def describe(self) -> str:
        job = f", {self.job}" if self.job else ""
        return f"host {self.host}, pid {self.pid}{job}, since {self.started}"


@dataclass(frozen=True)
class _Seen:
    """One lock instance as read: its contents and the identity of its inode."""

    data: bytes
    dev: int
    ino: int
    mtime: float

    @property
    def age(self) -> float:
        return time.time() - self.mtime

    @property
    def key(self) -> str:
        """Names this instance (a new lock gets a new inode and a new nonce, so a new key)."""
        return hashlib.sha256(f"{self.dev}:{self.ino}:".encode() + self.data).hexdigest()[:20]


def _look(path: Path) -> _Seen | None:
    """Read the lock at `path` (contents and inode from one open file), or None if there is none."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        st = os.fstat(fd)
        data = os.read(fd, _MAX_RECORD)
    finally:
        os.close(fd)
    return _Seen(data, st.st_dev, st.st_ino, st.st_mtime)


class ResultsLock:
    """Held by rank 0 for the duration of a run."""

    def __init__(
        self,
        results: Path,
        stale_after: float = STALE_AFTER_SECONDS,
        takeover_wait: float = TAKEOVER_WAIT_SECONDS,
    ) -> None:
        self.path = lock_path(results)
        self.stale_after = stale_after
        self.takeover_wait = takeover_wait
        self.owner = Owner.me()
        self.note: str | None = None
        self._held = False
        self._fd: int | None = None  # our lock's inode, held open: heartbeat and release touch only it
        self._last_beat = 0.0

    def _capture_path(self, key: str) -> Path:
        return self.path.with_name(f"{self.path.name}.takeover-{key}")

    def stale_reason(self, owner: Owner | None, age: float) -> str | None:
        """Why an existing lock may be taken over, or None if its owner may be alive."""
        if owner is None:
            if age > UNREADABLE_GRACE_SECONDS:
                return f"unreadable lock file, unchanged for {age:.0f} s"
            return None
        if self.owner.same_host(owner):
            return _gone(owner.pid, owner.ticks)  # alive: never overridden, whatever its heartbeat
        if owner.job is not None and owner.job == self.owner.job:
            return f"it belongs to this same scheduler job ({owner.job}, requeued)"
        if age > self.stale_after:
            return f"no heartbeat for {age:.0f} s"
        return None

    def _write_record(self, tmp: Path, data: bytes) -> int:
        """Create `tmp` holding `data` on disk; return its descriptor. No file is left on failure."""
        try:
            fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except OSError as exc:
            raise ResultsFileError(f"cannot create the lock {self.path}: {exc.strerror or exc}") from None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            tmp.unlink(missing_ok=True)
            raise ResultsFileError(
                f"cannot write the lock {self.path}: {exc.strerror or exc}; nothing was written"
            ) from None
        return fd

    def _in_use(self, owner: Owner | None, seen: _Seen) -> ResultsFileError:
        results = self.path.with_suffix("")
        if owner is None:
            return ResultsFileError(
                f"{results} is locked by {self.path}, which holds no readable owner and changed "
                f"{seen.age:.0f} s ago (a run may be creating it); wait, or if no run is starting "
                f"remove it or pass --break-lock"
            )
        return ResultsFileError(
            f"{results} is in use by another run ({owner.describe()}); "
            f"wait for it, or if it is dead remove {self.path} or pass --break-lock"
        )

    def _take_over(self, seen: _Seen, break_lock: bool) -> bool:
        """Remove the lock instance `seen` if it is still there and stale; False if another taker is at it.

        Only the process that creates the instance's capture name may remove it (a taker, or
        its owner releasing), so the lock cannot change between the check and the unlink.
        """
        capture = self._capture_path(seen.key)
        try:
            os.link(self.path, capture)
        except FileNotFoundError:
            return True  # released meanwhile
        except FileExistsError:
            return False
        except OSError as exc:
            raise ResultsFileError(f"cannot take over the lock {self.path}: {_why(exc)}") from None
        try:
            now = _look(capture)
            if now is None or (now.dev, now.ino, now.data) != (seen.dev, seen.ino, seen.data):
                return True  # a new lock replaced the one judged: judge it afresh
            reason = "--break-lock" if break_lock else self.stale_reason(Owner.parse(now.data), now.age)
            if reason is not None:  # not if a heartbeat came meanwhile
                self.path.unlink(missing_ok=True)
                self.note = f"took over the lock {self.path} ({reason})"
            return True
        finally:
            capture.unlink(missing_ok=True)

    def acquire(self, break_lock: bool = False) -> None:
        """Take the lock, taking over a stale one; ResultsFileError if it is held or cannot be written."""
        if self._held:
            return
        self.owner = replace(self.owner, nonce=secrets.token_hex(8))
        tmp = self.path.with_name(f"{self.path.name}.tmp-{self.owner.nonce}")
        fd: int | None = self._write_record(tmp, self.owner.encode())
        assert fd is not None
        try:
            deadline = time.monotonic() + self.takeover_wait
            pause = 0.005
            for _ in range(_MAX_ROUNDS):
                try:
                    os.link(tmp, self.path)
                    won = True
                except FileExistsError:
                    won = os.fstat(fd).st_nlink >= 2  # NFS: the link was made, the reply lost
                except OSError as exc:
                    raise ResultsFileError(f"cannot create the lock {self.path}: {_why(exc)}") from None
                if won:
                    self._fd, fd = fd, None
                    self._held = True
                    self._last_beat = time.monotonic()
                    return
                seen = _look(self.path)
                if seen is None:
                    continue  # released meanwhile
                owner = Owner.parse(seen.data)
                reason = "--break-lock" if break_lock else self.stale_reason(owner, seen.age)
                if reason is None:
                    raise self._in_use(owner, seen)
                if self._take_over(seen, break_lock):
                    continue
                if time.monotonic() > deadline:
                    break
                time.sleep(pause)  # another run is taking over the same lock: let it finish
                pause = min(2 * pause, 0.1)
            raise ResultsFileError(
                f"could not take the lock {self.path}: other runs keep taking it over; if none is "
                f"starting, remove {self.path} and any {self.path.name}.takeover-* beside it"
            )
        finally:
            tmp.unlink(missing_ok=True)
            if fd is not None:
                os.close(fd)

    def heartbeat(self) -> None:
        """Refresh the lock's mtime at most every HEARTBEAT_SECONDS."""
        now = time.monotonic()
        if self._held and self._fd is not None and now - self._last_beat >= HEARTBEAT_SECONDS:
            self._last_beat = now
            with contextlib.suppress(OSError):
                os.utime(self._fd)

    def release(self) -> None:
        """Remove our lock, unless it was taken over meanwhile (then the taker's is left alone)."""
        if not self._held or self._fd is None:
            return
        self._held = False
        fd, self._fd = self._fd, None
        try:
            st = os.fstat(fd)
            if st.st_nlink == 0:
                return  # taken over and removed
            mine = _Seen(self.owner.encode(), st.st_dev, st.st_ino, st.st_mtime)
            capture = self._capture_path(mine.key)
            try:
                os.link(self.path, capture)
            except OSError:
                return  # gone, or being taken over right now: leave it to the taker
            try:
                now = os.stat(capture)
                if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                    self.path.unlink()
            finally:
                capture.unlink(missing_ok=True)
        except OSError:
            pass  # left behind: the next run sees this process gone and takes it over
        finally:
            os.close(fd)
