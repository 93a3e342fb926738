"""What a work unit writes: its data rows and their checksums, then its status."""

from __future__ import annotations

from typing import Protocol

import h5py
import numpy as np

from .checksums import _TABLE_FIELDS, task_checksums
from .layout import DIVERGED, DONE


class UnitResult(Protocol):
    """What the store needs of a stack's result (`train.StackResult` is one): the recorded
    arrays, NaN after a replica diverged, and where and why each replica diverged."""

    @property
    def spectra(self) -> dict[str, np.ndarray]: ...  # name -> (R, n_measure, size)

    @property
    def scalars(self) -> dict[str, np.ndarray]: ...  # name -> (R, n_measure)

    @property
    def diverged_step(self) -> np.ndarray: ...  # (R,) int64, -1 where the replica never diverged

    @property
    def diverged_reason(self) -> np.ndarray: ...  # (R,) int8, 0 if none

    @property
    def diverged(self) -> np.ndarray: ...  # (R,) bool


def _final_status(result: UnitResult) -> np.ndarray:
    return np.where(result.diverged, DIVERGED, DONE).astype(np.int8)


def _write_data(f: h5py.File, tasks: slice, result: UnitResult) -> None:
    """Everything of a unit but its status: the data rows, then their checksums.

    The checksums cover the status the unit will get (`_write_status`) and the constant
    task columns (written at creation; read back here), so each rank computes those of
    its own tasks and parallel writers need no coordination.
    """
    for name, values in result.spectra.items():
        f["spectra"][name][tasks] = values
    for name, values in result.scalars.items():
        f["scalars"][name][tasks] = values
    f["tasks/diverged_step"][tasks] = result.diverged_step
    f["tasks/diverged_reason"][tasks] = result.diverged_reason
    rows: dict[str, np.ndarray] = {f"spectra/{k}": v for k, v in result.spectra.items()}
    rows |= {f"scalars/{k}": v for k, v in result.scalars.items()}
    rows |= {f"tasks/{k}": f["tasks"][k][tasks] for k in _TABLE_FIELDS}
    rows["tasks/diverged_step"] = result.diverged_step
    rows["tasks/diverged_reason"] = result.diverged_reason
    rows["tasks/status"] = _final_status(result)
    f["tasks/checksum"][tasks] = task_checksums(int(tasks.start or 0), rows)


def _write_status(f: h5py.File, tasks: slice, result: UnitResult) -> None:
    """Written last: a task is done only once its data are in the file."""
    f["tasks/status"][tasks] = _final_status(result)
