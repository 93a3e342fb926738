"""Progress of a sweep on rank 0: tasks done / total, rate, ETA (on a terminal only)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ..durations import format_duration

__all__ = ["Progress", "format_duration"]


class Progress:
    """A one-line live display, redrawn at most every `interval` seconds."""

    def __init__(
        self,
        total: int,
        already: int,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        interval: float = 0.5,
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = total
        self.already = already
        self.interval = interval
        self.start = time.monotonic()
        self._last = -float("inf")
        self._drawn = False

    def update(self, done: int, force: bool = False) -> None:
        """`done`: tasks finished in this run (not counting those done before a resume)."""
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        left = self.total - done
        eta = format_duration(left / rate) if rate > 0 else "?"
        shown = self.already + done
        whole = self.already + self.total
        pct = 100.0 * shown / whole if whole else 100.0
        self.stream.write(
            f"\r[mpi-dbm] {shown}/{whole} tasks ({pct:.0f}%)  {rate:.2f} tasks/s  "
            f"elapsed {format_duration(elapsed)}  ETA {eta}   "
        )
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
