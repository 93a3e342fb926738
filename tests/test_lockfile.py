"""The results-file lock: who may take over whose lock, and what a failed or lost lock leaves behind.

Owners are real processes: a live child (blocked on its stdin), a zombie (exited, not
reaped), a reaped one (gone), or this process with another start time (a reused pid).
The simultaneous-start races are in tests/test_lock_race.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mpi_dbm import lockfile
from mpi_dbm.errors import ResultsFileError
from mpi_dbm.lockfile import STALE_AFTER_SECONDS, UNREADABLE_GRACE_SECONDS, ResultsLock


def start_ticks(pid: int) -> int:
    """Start time of a process in clock ticks since boot: field 22 of proc(5)'s /proc/PID/stat."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])


def write_lock(path: Path, pid: int, age: float = 0.0, **fields: object) -> None:
    """A lock record of `pid` on this host (as older versions wrote it, plus `fields`), `age` seconds old."""
    record = {"host": socket.gethostname(), "pid": pid, "job": None, "started": "x", **fields}
    path.write_text(json.dumps(record))
    if age:
        then = time.time() - age
        os.utime(path, (then, then))


def contents(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def live_pid() -> Iterator[int]:
    """A live process of this host that does nothing until its stdin closes."""
    proc = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    try:
        yield proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=60)


def test_zombie_owner_is_taken_over(tmp_path: Path) -> None:
    zombie = subprocess.Popen(["true"])
    os.waitid(os.P_PID, zombie.pid, os.WEXITED | os.WNOWAIT)  # it has exited and is not reaped: a zombie
    write_lock(tmp_path / "r.h5.lock", zombie.pid)
    lock = ResultsLock(tmp_path / "r.h5")
    lock.acquire()
    assert lock.note is not None and "is gone" in lock.note
    lock.release()
    zombie.wait(timeout=60)
    assert contents(tmp_path) == []


def test_live_owner_is_refused(tmp_path: Path) -> None:
    write_lock(tmp_path / "r.h5.lock", os.getpid())
    with pytest.raises(ResultsFileError, match="in use by another run"):
        ResultsLock(tmp_path / "r.h5").acquire()
    ResultsLock(tmp_path / "r.h5").acquire(break_lock=True)


@pytest.mark.parametrize("with_start_time", [True, False])
def test_live_owner_on_this_host_is_never_taken_over_whatever_its_heartbeat(
    tmp_path: Path, live_pid: int, with_start_time: bool
) -> None:
    # issue #12 item 9: a work unit longer than the stale time between heartbeats
    extra = {"ticks": start_ticks(live_pid)} if with_start_time else {}
    write_lock(tmp_path / "r.h5.lock", live_pid, age=10 * STALE_AFTER_SECONDS, **extra)
    before = (tmp_path / "r.h5.lock").read_bytes()
    with pytest.raises(ResultsFileError, match=f"in use by another run .*pid {live_pid}"):
        ResultsLock(tmp_path / "r.h5").acquire()
    assert (tmp_path / "r.h5.lock").read_bytes() == before
    assert contents(tmp_path) == ["r.h5.lock"]


def test_reused_pid_is_not_mistaken_for_the_owner(tmp_path: Path, live_pid: int) -> None:
    # the recorded pid is alive but belongs to a process started at another time
    write_lock(tmp_path / "r.h5.lock", live_pid, ticks=start_ticks(live_pid) - 1)
    lock = ResultsLock(tmp_path / "r.h5")
    lock.acquire()
    assert lock.note is not None and "now belongs to another process" in lock.note
    assert json.loads((tmp_path / "r.h5.lock").read_text())["pid"] == os.getpid()


def test_another_hosts_owner_is_judged_by_its_heartbeat(tmp_path: Path) -> None:
    lock_file = tmp_path / "r.h5.lock"
    write_lock(lock_file, 1, age=STALE_AFTER_SECONDS / 2, host="elsewhere.invalid")
    with pytest.raises(ResultsFileError, match="in use by another run"):
        ResultsLock(tmp_path / "r.h5").acquire()
    write_lock(lock_file, 1, age=2 * STALE_AFTER_SECONDS, host="elsewhere.invalid")
    lock = ResultsLock(tmp_path / "r.h5")
    lock.acquire()
    assert lock.note is not None and "no heartbeat for" in lock.note


def test_same_host_name_after_a_reboot_is_judged_by_heartbeat_not_pid(tmp_path: Path) -> None:
    # another boot: the pid (here that of a process long gone) says nothing; a fresh heartbeat does
    gone = subprocess.Popen(["true"])
    gone.wait(timeout=60)
    write_lock(tmp_path / "r.h5.lock", gone.pid, boot="another-boot")
    with pytest.raises(ResultsFileError, match="in use by another run"):
        ResultsLock(tmp_path / "r.h5").acquire()


def test_unreadable_lock_is_taken_over_only_when_old(tmp_path: Path) -> None:
    lock_file = tmp_path / "r.h5.lock"
    lock_file.write_bytes(b"")  # what older versions left on a full disk, or a lock being written
    with pytest.raises(ResultsFileError, match="no readable owner"):
        ResultsLock(tmp_path / "r.h5").acquire()
    assert lock_file.read_bytes() == b""
    old = time.time() - 2 * UNREADABLE_GRACE_SECONDS
    os.utime(lock_file, (old, old))
    lock = ResultsLock(tmp_path / "r.h5")
    lock.acquire()
    assert lock.note is not None and "unreadable lock file" in lock.note


def test_release_after_a_takeover_leaves_the_new_owners_lock(tmp_path: Path) -> None:
    first = ResultsLock(tmp_path / "r.h5")
    first.acquire()
    second = ResultsLock(tmp_path / "r.h5")
    second.acquire(break_lock=True)
    theirs = (tmp_path / "r.h5.lock").read_bytes()
    first.release()
    assert (tmp_path / "r.h5.lock").read_bytes() == theirs
    second.release()
    assert contents(tmp_path) == []


def test_heartbeat_after_a_takeover_does_not_refresh_the_new_owners_lock(tmp_path: Path) -> None:
    first = ResultsLock(tmp_path / "r.h5")
    first.acquire()
    second = ResultsLock(tmp_path / "r.h5")
    second.acquire(break_lock=True)
    old = time.time() - 1000.0
    os.utime(tmp_path / "r.h5.lock", (old, old))
    first._last_beat = -float("inf")  # due for a heartbeat
    first.heartbeat()
    assert (tmp_path / "r.h5.lock").stat().st_mtime == pytest.approx(old, abs=1.0)


def test_late_taker_leaves_a_new_legitimate_owner_alone(tmp_path: Path, live_pid: int) -> None:
    # a taker judges a dead owner's lock stale, is delayed; meanwhile another run takes the lock
    # over and a live owner holds it. The late taker must not remove that lock.
    gone = subprocess.Popen(["true"])
    gone.wait(timeout=60)
    lock_file = tmp_path / "r.h5.lock"
    write_lock(lock_file, gone.pid)
    late = ResultsLock(tmp_path / "r.h5")
    seen = _look(lock_file)
    assert late.stale_reason(lockfile.Owner.parse(seen.data), seen.age) is not None
    winner = ResultsLock(tmp_path / "r.h5")
    winner.acquire()
    assert late._take_over(seen, break_lock=False)  # the capture is not what it judged: left alone
    assert json.loads(lock_file.read_text())["nonce"] == winner.owner.nonce
    with pytest.raises(ResultsFileError, match="in use by another run"):
        late.acquire()
    winner.release()
    assert contents(tmp_path) == []


def _look(path: Path) -> lockfile._Seen:
    seen = lockfile._look(path)
    assert seen is not None
    return seen


def test_takeover_in_progress_elsewhere_is_waited_for_then_reported(tmp_path: Path) -> None:
    # another taker created the capture name of this stale lock and (here) never finishes
    gone = subprocess.Popen(["true"])
    gone.wait(timeout=60)
    lock_file = tmp_path / "r.h5.lock"
    write_lock(lock_file, gone.pid)
    lock = ResultsLock(tmp_path / "r.h5", takeover_wait=0.2)
    capture = tmp_path / f"r.h5.lock.takeover-{_look(lock_file).key}"
    os.link(lock_file, capture)
    with pytest.raises(ResultsFileError, match=r"takeover-\*"):
        lock.acquire()
    assert contents(tmp_path) == sorted(["r.h5.lock", capture.name])
    capture.unlink()
    lock.acquire()
    assert "is gone" in (lock.note or "")


def test_failed_write_of_the_lock_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # ENOSPC may surface only at fsync (NFS, quotas)
    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(ResultsFileError, match="No space left on device"):
        ResultsLock(tmp_path / "r.h5").acquire()
    assert contents(tmp_path) == []


FULL_DISK = textwrap.dedent(
    """
    import os, sys
    from pathlib import Path
    from mpi_dbm.errors import ResultsFileError
    from mpi_dbm.lockfile import ResultsLock
    disk = Path(sys.argv[1])
    fd = os.open(disk / "ballast", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, bytes(4096))
    except OSError:
        pass
    os.close(fd)
    try:
        ResultsLock(disk / "r.h5").acquire()
        print("acquired")
    except ResultsFileError as exc:
        print("refused:", exc)
    print(sorted(os.listdir(disk)))
    """
)


def test_completely_full_disk_gives_one_error_and_no_lock(tmp_path: Path) -> None:
    # a real full file system: a 64 KiB tmpfs in a private mount namespace (needs root or
    # CAP_SYS_ADMIN; gone with the process, nothing to unmount)
    if shutil.which("unshare") is None:
        pytest.skip("no unshare(1) here")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = f'mount -t tmpfs -o size=64k tmpfs "$1" || exit 77; exec "{sys.executable}" -c "$2" "$1"'
    proc = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", str(disk), FULL_DISK],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if proc.returncode == 77 or proc.stderr.startswith("unshare"):
        pytest.skip(f"cannot mount a private tmpfs here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    refusal, listing = proc.stdout.strip().splitlines()
    assert refusal.startswith("refused: cannot write the lock") and "No space left on device" in refusal
    assert listing == "['ballast']"
