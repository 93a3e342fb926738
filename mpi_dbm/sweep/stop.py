"""Clean stops: wall-time signals and time limits, agreed on by all ranks.

SLURM (`--signal`), PBS and LSF send SIGTERM / SIGUSR1 / SIGUSR2 before killing a
job; a signal may reach one rank or all. A handler only sets a flag; the trainer
asks `requested()` after every SGD step and at every divergence check, and the first
rank that sees a stop raises a shared flag (an RMA counter on rank 0) so that every
rank abandons its unit at its next step. No rank is ever inside a collective when it
decides, so nothing deadlocks; units not finished are left pending for `--resume`.

A signal can arrive at any moment of a rank's life, also while it is still importing
numpy/h5py/mpi4py (a fraction of a second on a cold machine). `catch_early()` is
therefore the first thing the `mpi-dbm` process does (top of cli.py and __main__.py,
before any heavy import): it installs handlers that only record the signal, and
`StopRequest.install()` takes over such an early request, so the run stops cleanly
(exit 75) at its first step. Commands that do not stop cleanly call `release_early()`:
default handlers back, and a signal recorded meanwhile is re-delivered.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)
#: exit status of a run stopped by a signal or time limit: incomplete but resumable (EX_TEMPFAIL)
EXIT_INTERRUPTED = 75


_early: list[int] = []  # stop signals received before a StopRequest was installed


def _record_early(signum: int, frame: object) -> None:
    _early.append(signum)


def catch_early() -> None:
    """Record (not act on) STOP_SIGNALS from now on; a no-op outside the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        signal.signal(sig, _record_early)


def early_request() -> str | None:
    """Name of the first stop signal recorded by `catch_early`'s handlers, or None."""
    return signal.Signals(_early[0]).name if _early else None


def release_early() -> None:
    """Default handlers for STOP_SIGNALS again; a signal recorded meanwhile is re-delivered now."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in STOP_SIGNALS:
        if signal.getsignal(sig) is _record_early:
            signal.signal(sig, signal.SIG_DFL)
    if _early:
        pending, _early[:] = _early[0], []
        os.kill(os.getpid(), pending)


def die_with_launcher() -> None:
    """Linux: have the kernel SIGKILL this rank when its parent (mpiexec/orted) dies.

    Without it, a rank whose launcher went away (another rank was killed, mpiexec was
    killed) can hang forever in a collective with a dead peer, burning its allocation
    and holding the results file's lock. A no-op where prctl is not available.
    """
    import ctypes
    import os
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)
        if os.getppid() != parent:  # the launcher died before the request took effect
            os.kill(os.getpid(), signal.SIGKILL)
    except (OSError, AttributeError):
        return


class Interrupted(Exception):
    """Raised inside the training loop to abandon the current unit."""


class StopRequest:
    """Local signal flag + optional time limit + a flag shared by all ranks."""

    def __init__(self, comm: Any, time_limit: float | None = None, poll_interval: float = 0.2) -> None:
        self.reason: str | None = None
        self._deadline = None if time_limit is None else time.monotonic() + time_limit
        self._shared = None
        self._published = False
        self._poll_interval = poll_interval
        self._last_poll = 0.0
        self._previous: dict[int, Any] = {}
        if comm.Get_size() > 1:
            from mpi4py.util.sync import Counter

            self._shared = Counter(comm=comm, typecode="i")

    def install(self) -> None:
        """Handle STOP_SIGNALS; a signal recorded before (`catch_early`) counts as received now."""
        for sig in STOP_SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        if self.reason is None:
            self.reason = early_request()

    def restore(self) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: object) -> None:
        if self.reason is None:
            self.reason = signal.Signals(signum).name

    def requested(self) -> bool:
        """True once any rank has been asked to stop (cheap; polls the shared flag sparingly)."""
        if self.reason is None and self._deadline is not None and time.monotonic() > self._deadline:
            self.reason = "time limit"
        if self.reason is not None:
            if self._shared is not None and not self._published:
                self._shared.next(1)
                self._published = True
            return True
        if self._shared is not None:
            now = time.monotonic()
            if now - self._last_poll >= self._poll_interval:
                self._last_poll = now
                if self._shared.next(0) > 0:
                    self.reason = "another rank stopped"
                    self._published = True
                    return True
        return False

    def free(self) -> None:
        if self._shared is not None:
            self._shared.free()
