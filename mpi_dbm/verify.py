"""`mpi-dbm verify`: check a results file against its checksums and its stored config.

What is checked (store.Results.damage; docs/file-format.md, "Checksums"): the stored
config against its SHA-256, the shape and type of every dataset, /points, /measure/step
and the task columns against the config, status values, and the rows of every finished
task against its /tasks/checksum. HDF5 itself verifies the checksum of every piece of
metadata it reads (layout 2 uses the HDF5 1.10 format), so damaged metadata is an error
too, never a hang.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import ResultsFileError
from .store import Damage, open_results

__all__ = ["Verified", "verify"]


@dataclass(frozen=True)
class Verified:
    """An intact file: how many finished tasks were checked, how many are pending."""

    path: Path
    checked: int
    pending: int
    note: str | None  # Damage.note(): pending tasks with complete rows

    def text(self) -> str:
        text = (
            f"{self.path}: intact: {self.checked} finished task(s) match their checksums, "
            f"{self.pending} pending; config, layout and task table consistent"
        )
        return text + (f"\nnote: {self.note}" if self.note else "")


def check(path: str | Path) -> Damage:
    """The damage found in `path` (intact or not); unreadable files raise ResultsFileError."""
    with open_results(path) as res:
        return res.damage()


def verify(path: str | Path) -> Verified:
    """Verify `path`; raise ResultsFileError with one line listing the damage if there is any."""
    found = check(path)
    if not found.intact:
        raise ResultsFileError(found.message(Path(path)))
    return Verified(Path(path), found.checked, found.pending, found.note())
