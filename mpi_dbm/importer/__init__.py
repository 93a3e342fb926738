"""`mpi-dbm import`: weights trained elsewhere -> a results file that `analyze` accepts.

Inputs (docs/import.md): stacked .npz/.npy files, one configuration each (a directory or glob
of them = several configurations, the points of one file), or checkpoints, one file per
(replica, snapshot), found by a glob. Per imported key the file records the spectrum a run
records (the smaller Gram matrix's eigenvalues, ascending) and, unless `shuffled=False`, the
same spectrum of an entry-shuffled copy (`NAME.shuffled`, a null model). The model family is
`kind = "imported"` (models/imported.py): no theory, so the analysis reports measured
statistics and no theory verdicts.

Modules: options.py (the options, checked), sources.py (reading files), build.py (the config),
spectra.py (spectra, divergence, null models), write.py (the file, all or nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .build import make_config
from .options import (
    ImportOptions,
    parse_axes,
    parse_integer,
    parse_number,
    parse_param,
    parse_steps,
    parse_value,
)
from .sources import Configuration, expand_inputs, read_checkpoints, read_stacked
from .spectra import point_spectra
from .write import check_output, write_results


@dataclass(frozen=True)
class ImportSummary:
    path: Path
    sources: tuple[str, ...]  # configuration i = point i
    replicas: int
    snapshots: int
    spectra: tuple[str, ...]
    diverged: int  # replicas recorded diverged (non-finite weights)


def read_configurations(
    inputs: tuple[str, ...] | list[str], options: ImportOptions, checkpoints: str | None = None
) -> list[Configuration]:
    """Stacked files (one configuration each), or one configuration of checkpoints."""
    from ..errors import ConfigError

    if checkpoints is not None:
        if inputs:
            raise ConfigError("give either input files or --checkpoints GLOB, not both")
        return [read_checkpoints(checkpoints, options)]
    if options.replica_from or options.snapshot_from:
        raise ConfigError("--replica-from and --snapshot-from apply to --checkpoints only")
    return [read_stacked(path, options) for path in expand_inputs(inputs)]


def import_weights(
    inputs: tuple[str, ...] | list[str],
    output: str | Path,
    options: ImportOptions,
    checkpoints: str | None = None,
) -> ImportSummary:
    """Read, check, compute every spectrum, then write `output` (nothing written on any error)."""
    path = Path(output)
    check_output(path, options.force)
    configs = read_configurations(inputs, options, checkpoints)
    config, steps = make_config(configs, options)
    points = [point_spectra(c, i, options.seed, steps, options.shuffled) for i, c in enumerate(configs)]
    write_results(path, config, points, options.force)
    return ImportSummary(
        path,
        tuple(c.source for c in configs),
        config.sweep.replicas,
        len(steps),
        tuple(config.model.spectra),
        sum(int((p.diverged_step >= 0).sum()) for p in points),
    )


__all__ = [
    "Configuration",
    "ImportOptions",
    "ImportSummary",
    "import_weights",
    "parse_axes",
    "parse_integer",
    "parse_number",
    "parse_param",
    "parse_steps",
    "parse_value",
    "read_configurations",
]
