"""The results-file lock: a dead owner (even an unreaped zombie rank) does not block the next run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time

import pytest

from mpi_dbm.errors import ResultsFileError
from mpi_dbm.lockfile import ResultsLock


def write_lock(path, pid: int) -> None:
    path.write_text(json.dumps({"host": socket.gethostname(), "pid": pid, "job": None, "started": "x"}))


def test_zombie_owner_is_taken_over(tmp_path):
    zombie = subprocess.Popen(["true"])  # exits and is not reaped until wait(): a zombie
    time.sleep(0.3)
    write_lock(tmp_path / "r.h5.lock", zombie.pid)
    lock = ResultsLock(tmp_path / "r.h5")
    lock.acquire()
    assert "is gone" in lock.note
    lock.release()
    zombie.wait()
    assert not (tmp_path / "r.h5.lock").exists()


def test_live_owner_is_refused(tmp_path):
    write_lock(tmp_path / "r.h5.lock", os.getpid())
    with pytest.raises(ResultsFileError, match="in use by another run"):
        ResultsLock(tmp_path / "r.h5").acquire()
    ResultsLock(tmp_path / "r.h5").acquire(break_lock=True)
