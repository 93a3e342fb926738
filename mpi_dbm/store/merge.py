"""Merging results files of one sweep (e.g. `run --chunk I/K` outputs) into one."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import models
from ..config import Config, compatibility_sha256
from ..errors import ResultsFileError
from ..streams import shared_data_seed
from .create import _building, results_file_size, space_error
from .hdf5 import _runs
from .layout import PENDING, _create_layout, _root_attributes, _write_tables
from .preflight import config_difference
from .reader import Results, open_results


@dataclass(frozen=True)
class MergeSummary:
    path: Path
    n_tasks: int
    copied: int
    pending: int


def merge(output: str | Path, inputs: list[str | Path], *, force: bool = False) -> MergeSummary:
    """Join results files of one sweep (e.g. `run --chunk I/K` outputs) into one file.

    All inputs must carry the same config hash. Every task that is done or diverged in
    some input is copied; a task finished in two inputs must have identical data. The
    output has the layout of a single run, so its /spectra and /tasks equal an
    uninterrupted single-file run's bit for bit once every task is finished.
    """
    out = Path(output)
    if not inputs:
        raise ResultsFileError("merge needs at least one input file")
    paths = [Path(p) for p in inputs]
    if any(out.resolve() == p.resolve() for p in paths if p.exists()):
        raise ResultsFileError(f"the output {str(out)!r} is also an input; choose another output file")
    if out.exists() and not force:
        raise ResultsFileError(f"{str(out)!r} exists; pass --force to overwrite it or choose another output")
    if not out.parent.is_dir():
        raise ResultsFileError(f"output directory {str(out.parent)!r} does not exist; create it first")
    opened = []
    try:
        for p in paths:
            opened.append(open_results(p))
            opened[-1].require_intact()  # damaged rows must not spread into the merged file
    except ResultsFileError:
        for res in opened:
            res.close()
        raise
    try:
        first = opened[0]
        for res in opened[1:]:
            if compatibility_sha256(res.config_text) != compatibility_sha256(first.config_text):
                diff = config_difference(first.config_text, res.config_text)
                raise ResultsFileError(
                    f"{res.path} is not from the same sweep as {first.path} ({diff}); "
                    "only chunk files of one config can be merged"
                )
        config = first.config()
        copied = _merge_into(out, paths, opened, config)
    finally:
        for res in opened:
            res.close()
    return MergeSummary(out, config.n_tasks, int(copied.sum()), int((~copied).sum()))


def _merge_into(out: Path, paths: list[Path], opened: list[Results], config: Config) -> np.ndarray:
    """Build `out` from the intact inputs `opened` of `config`: the mask of tasks copied."""
    model = models.build(config.model, shared_data_seed(config.sweep.seed))
    first = opened[0]
    attrs = {
        **_root_attributes(config, int(first.file.attrs.get("n_ranks", 1)), False),
        "merged_from": [str(p) for p in paths],
    }
    copied = np.zeros(config.n_tasks, dtype=bool)
    if (no_room := space_error(out, config, model)) is not None:
        raise ResultsFileError(no_room)
    with _building(out, results_file_size(config, model)) as f:
        _create_layout(f, config, model, attrs)
        _write_tables(f, config)
        names = [
            "tasks/diverged_step",
            "tasks/diverged_reason",
            "tasks/checksum",
            *(f"spectra/{s.name}" for s in model.spectra),
        ]
        names += [f"scalars/{n}" for n in model.scalars]
        for res in opened:
            have = res.status() != PENDING
            for run in _runs(have & copied):
                for name in [*names, "tasks/status"]:
                    if not np.array_equal(f[name][run], res._read(name, run), equal_nan=True):
                        raise ResultsFileError(
                            f"tasks {run.start}..{run.stop - 1} are finished in two inputs with "
                            f"different data ({name}, {res.path}); the inputs do not belong together"
                        )
            for run in _runs(have & ~copied):
                for name in names:
                    f[name][run] = res._read(name, run)
                f["tasks/status"][run] = res._read("tasks/status", run)
            copied |= have
    return copied
