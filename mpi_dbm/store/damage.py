"""Damage checks of a results file (`Results.damage`, `mpi-dbm verify`): its structure against
the stored config, and every finished task's rows against its checksum."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import h5py
import numpy as np

from ..config import Config
from ..errors import ConfigError
from ..sweep.grid import point_table, task_table
from .checksums import _TABLE_FIELDS, _TASK_FIELD_DTYPES, task_checksums
from .hdf5 import _ranges, _reading
from .layout import DIVERGED, DONE, PENDING
from .scales import coordinates, level_dimensions

if TYPE_CHECKING:  # the reader calls these checks: a run-time import would be a cycle
    from .reader import Results


def _none() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass(frozen=True)
class Damage:
    """What `Results.damage` found: structural problems and finished tasks whose rows fail their checksum."""

    problems: tuple[str, ...]
    damaged_tasks: np.ndarray  # indices of done/diverged tasks whose rows do not match /tasks/checksum
    checked: int  # done/diverged tasks whose rows were verified
    pending: int
    #: pending tasks whose rows are complete and match their checksum: a run stopped between
    #: writing a unit's rows and its status, or the status was damaged; `--resume` recomputes them
    unmarked: np.ndarray
    #: pending tasks with a checksum that does not match their rows as finished: rows or
    #: checksum damaged (a unit's rows are written before its checksum, and a rewritten unit
    #: has the same rows); `--resume` recomputes them
    broken_pending: np.ndarray

    @property
    def resumable(self) -> bool:
        """`run --resume` may complete the file: all damage is in rows it recomputes."""
        return not self.problems and self.damaged_tasks.size == 0

    def note(self) -> str | None:
        """What to say about `unmarked` tasks (not damage: `run --resume` recomputes them), if any."""
        if not self.unmarked.size:
            return None
        return (
            f"{self.unmarked.size} pending task(s) have complete rows that match their checksums "
            f"(tasks {_ranges(self.unmarked)}): a run stopped between writing their rows and their "
            "status, or their status was damaged; `mpi-dbm run --resume` recomputes them"
        )

    @property
    def intact(self) -> bool:
        return self.resumable and self.broken_pending.size == 0

    def message(self, path: Path) -> str:
        """One line naming every problem (for ResultsFileError)."""
        parts = list(self.problems)
        if self.damaged_tasks.size:
            parts.append(
                f"{self.damaged_tasks.size} finished task(s) whose data do not match their checksum: "
                f"tasks {_ranges(self.damaged_tasks)}"
            )
        if self.broken_pending.size:
            parts.append(
                f"{self.broken_pending.size} pending task(s) whose rows do not match their checksum: "
                f"tasks {_ranges(self.broken_pending)} (`mpi-dbm run --resume` recomputes them)"
            )
        return f"{str(path)!r} is damaged: {'; '.join(parts)}"


def _structural(problem: str) -> Damage:
    return Damage((problem,), _none(), 0, 0, _none(), _none())


def find_damage(res: Results, block: int) -> Damage:
    """`Results.damage`: the structure first (a damaged layout stops there), then the rows."""
    res._read_all_metadata()
    text = res.config_text
    if hashlib.sha256(text.encode()).hexdigest() != res.config_sha256:
        return _structural("the stored config does not match its config_sha256")
    try:
        config = res.config()
    except ConfigError as exc:
        return _structural(f"the stored config does not parse ({exc})")
    spectra = [f"spectra/{s}" for s in res.spectrum_names()]
    scalars = [f"scalars/{s}" for s in res.scalar_names()]
    problems = _layout_problems(res, config, spectra, scalars)
    if problems:
        return Damage(tuple(problems), _none(), 0, 0, _none(), _none())
    problems = _table_problems(res, config)
    status = res.status()
    bad_status = np.flatnonzero(~np.isin(status, (PENDING, DONE, DIVERGED)))
    if bad_status.size:
        problems.append(f"/tasks/status of tasks {_ranges(bad_status)} is not 0, 1 or 2")
    names = [f"tasks/{k}" for k in _TASK_FIELD_DTYPES] + spectra + scalars
    damaged, unmarked, broken = _row_damage(res, status, names, block)
    return Damage(
        tuple(problems),
        damaged,
        int(np.isin(status, (DONE, DIVERGED)).sum()),
        int((status == PENDING).sum()),
        unmarked,
        broken,
    )


def _expected(
    config: Config, spectra: list[str], scalars: list[str], coords: list[str]
) -> dict[str, tuple[tuple[int, ...] | None, str]]:
    """Every dataset of the layout: its shape (None for a spectrum, whose size is its own, and for
    the coordinates, checked against their values in `_table_problems`) and dtype."""
    n, n_meas = config.n_tasks, len(config.train.measure_steps)
    return {
        **{f"tasks/{k}": ((n,), v) for k, v in _TASK_FIELD_DTYPES.items()},
        "tasks/checksum": ((n,), "<u8"),
        "measure/step": ((n_meas,), "<i8"),
        **{f"points/{k}": (c.shape, c.dtype.str) for k, c in point_table(config).items()},
        **{name: (None, "<f8") for name in spectra},
        **{name: ((n, n_meas), "<f8") for name in scalars},
        **{name: (None, "<i8") for name in coords},
    }


def _layout_problems(res: Results, config: Config, spectra: list[str], scalars: list[str]) -> list[str]:
    """Missing datasets, and datasets of another shape or dtype than the layout's."""
    problems: list[str] = []
    n, n_meas = config.n_tasks, len(config.train.measure_steps)
    for name, (shape, dtype) in _expected(config, spectra, scalars, _coordinate_names(res)).items():
        with _reading(res.path, f"/{name}"):
            if name not in res.file:
                problems.append(f"/{name} is missing")
                continue
            ds = res.file[name]
            if not isinstance(ds, h5py.Dataset):
                problems.append(f"/{name} is not a dataset")
                continue
            got_shape, got_dtype = ds.shape, ds.dtype
        if shape is None and not name.startswith("spectra/"):  # a coordinate
            shape = got_shape if len(got_shape) == 1 else (-1,)
        if shape is None:  # a spectrum: (n_tasks, n_measure, size)
            shape = (n, n_meas, got_shape[-1] if len(got_shape) == 3 else -1)
        if got_dtype != np.dtype(dtype) or got_shape != shape:
            problems.append(f"/{name} has shape {got_shape} and type {got_dtype}, not the layout's")
    if not spectra:
        problems.append("/spectra holds no spectrum")
    return problems


def _coordinate_names(res: Results) -> list[str]:
    """The root coordinates (dimension scales) the file must have: none if it has none (written
    before mpi-dbm recorded dimension scales), else every one the layout defines."""
    with _reading(res.path, "the root group"):
        names = set(res.file)
    if not names & {"task", "measurement", "point"}:
        return []
    sizes = _spectrum_sizes(res)
    return ["task", "measurement", "point", *sorted(set(level_dimensions(sizes).values()))]


def _spectrum_sizes(res: Results) -> dict[str, int]:
    """Spectrum name -> its number of levels (-1 for a dataset that is not 3-D)."""
    sizes = {}
    for name in res.spectrum_names():
        with _reading(res.path, f"/spectra/{name}"):
            shape = res.file[f"spectra/{name}"].shape
        sizes[name] = int(shape[-1]) if len(shape) == 3 else -1
    return sizes


def _table_problems(res: Results, config: Config) -> list[str]:
    """The constant columns (/measure/step, /points, the task table, the coordinates) against the config."""
    problems: list[str] = []
    if _coordinate_names(res):
        expected = coordinates(config, _spectrum_sizes(res))
        wrong_coords = [k for k, c in expected.items() if not np.array_equal(res._read(k), c)]
        if wrong_coords:
            problems.append(
                f"the coordinates {', '.join('/' + k for k in wrong_coords)} differ from the layout"
            )
    if not np.array_equal(res.measure_steps(), np.array(config.train.measure_steps)):
        problems.append("/measure/step differs from the stored config")
    if not all(np.array_equal(res._read(f"points/{k}"), c) for k, c in point_table(config).items()):
        problems.append("/points differs from the stored config")
    table = task_table(config)
    wrong = np.zeros(config.n_tasks, dtype=bool)
    for k in _TABLE_FIELDS:
        wrong |= res._read(f"tasks/{k}") != table[k]
    if wrong.any():
        problems.append(
            "the task columns (point, learning_rate, batch_size, replica) of tasks "
            f"{_ranges(np.flatnonzero(wrong))} differ from the stored config"
        )
    return problems


def _row_damage(
    res: Results, status: np.ndarray, names: list[str], block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(damaged finished tasks, unmarked pending tasks, broken pending tasks); `block` tasks at a time."""
    n = status.size
    finished = np.isin(status, (DONE, DIVERGED))
    stored = res._read("tasks/checksum")
    # pending with a checksum: interrupted between rows and status, or a damaged status
    candidates = (status == PENDING) & (stored != 0)
    damaged: list[np.ndarray] = []
    unmarked: list[np.ndarray] = []
    broken: list[np.ndarray] = []
    for start in range(0, n, block):
        sel = slice(start, min(start + block, n))
        if not (finished[sel].any() or candidates[sel].any()):
            continue
        rows = {name: res._read(name, sel) for name in names}
        ok = task_checksums(start, rows) == stored[sel]
        damaged.append(start + np.flatnonzero(finished[sel] & ~ok))
        if candidates[sel].any():
            diverged = rows["tasks/diverged_step"] >= 0  # the status the writer gave (_final_status)
            rows["tasks/status"] = np.where(diverged, DIVERGED, DONE).astype(np.int8)
            ok = task_checksums(start, rows) == stored[sel]
            unmarked.append(start + np.flatnonzero(candidates[sel] & ok))
            broken.append(start + np.flatnonzero(candidates[sel] & ~ok))

    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts) if parts else _none()

    return joined(damaged), joined(unmarked), joined(broken)
