"""From a results file to ensembles per (α, |B|) point (the only analysis module that reads HDF5).

Realisations are the finished, non-diverged replicas of a point; with a window
of measurements each (replica, measurement) is a realisation, and errors are
computed with blocks = replicas (measurements of one replica are correlated).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..errors import ResultsFileError
from ..scan import parameters_label
from ..store import DIVERGED, DONE, PENDING, open_results


@dataclass(frozen=True)
class PointData:
    index: int
    learning_rate: float
    batch_size: int
    n_total: int
    n_done: int
    n_diverged: int
    n_pending: int
    samples: dict[str, np.ndarray]  # name -> (n_done, n_window, size): the analysed ensemble
    trajectories: dict[str, np.ndarray]  # name -> (n_done, n_measure, size): all measurements
    scalars: dict[str, np.ndarray]  # name -> (n_done, n_measure)
    diverged_steps: np.ndarray  # steps at which diverged replicas were caught
    variant: int = 0  # the scan variant (config.variants); 0 without a scan
    #: the scanned keys' values at this point, (("model.noise_strength", 0.05), ...)
    parameters: tuple[tuple[str, Any], ...] = ()

    @property
    def temperature(self) -> float:
        return self.learning_rate / self.batch_size

    @property
    def label(self) -> str:
        """ "(α, |B|)", followed by the scanned parameters, e.g. "(0.1, 16) noise_strength=0.05"."""
        scanned = f" {parameters_label(self.parameters)}" if self.parameters else ""
        return f"({self.learning_rate:g}, {self.batch_size}){scanned}"

    def realisations(self, name: str) -> np.ndarray:
        """(n_done · n_window, size): every selected measurement of every replica as a row."""
        s = self.samples[name]
        return s.reshape(-1, s.shape[-1])

    @property
    def n_window(self) -> int:
        return next(iter(self.samples.values())).shape[1] if self.samples else 0


@dataclass(frozen=True)
class Dataset:
    path: Path
    config: Config
    attrs: dict[str, Any]  # the results file's root attributes
    steps: np.ndarray  # all measurement steps
    selected: np.ndarray  # indices of the analysed measurements
    spectra: tuple[str, ...]
    points: tuple[PointData, ...]
    initial: dict[str, np.ndarray]  # name -> (n, size) spectra at step 0 of every measured task

    @property
    def selected_steps(self) -> np.ndarray:
        steps: np.ndarray = self.steps[self.selected]
        return steps


def select_measurements(
    steps: np.ndarray, measurement: int | None, window: tuple[int, int] | None
) -> np.ndarray:
    """Indices of the analysed measurements: one (default: the last) or all steps in [start, stop]."""
    if window is not None:
        start, stop = window
        idx = np.flatnonzero((steps >= start) & (steps <= stop))
        if idx.size == 0:
            raise ResultsFileError(
                f"--window {start}:{stop} contains no measurement; measured steps are "
                f"{steps[0]}..{steps[-1]} every {steps[1] - steps[0] if len(steps) > 1 else 0}"
            )
        return idx
    m = -1 if measurement is None else measurement
    if not -len(steps) <= m < len(steps):
        raise ResultsFileError(
            f"--measurement {m}: the file has {len(steps)} measurements (0..{len(steps) - 1})"
        )
    return np.array([m % len(steps)])


def load(path: str | Path, measurement: int | None = None, window: tuple[int, int] | None = None) -> Dataset:
    """Read a results file into per-point ensembles of finished, non-diverged replicas."""
    with open_results(path) as res:
        res.require_intact()  # damaged rows or structure: one ResultsFileError naming them
        config = res.config()
        tasks = res.tasks()
        steps = res.measure_steps()
        selected = select_measurements(steps, measurement, window)
        names = tuple(res.spectrum_names())
        spectra = {name: res.spectra(name) for name in names}
        scalars = {name: res.scalars(name) for name in res.scalar_names()}
        attrs = res.attrs
    status = tasks["status"]
    points = []
    ok_all = status == DONE
    for p, spec in enumerate(config.points):
        mine = tasks["point"] == p
        ok = mine & ok_all
        points.append(
            PointData(
                index=p,
                learning_rate=spec.learning_rate,
                batch_size=spec.batch_size,
                n_total=int(mine.sum()),
                n_done=int(ok.sum()),
                n_diverged=int((mine & (status == DIVERGED)).sum()),
                n_pending=int((mine & (status == PENDING)).sum()),
                samples={n: spectra[n][ok][:, selected] for n in names},
                trajectories={n: spectra[n][ok] for n in names},
                scalars={n: v[ok] for n, v in scalars.items()},
                diverged_steps=tasks["diverged_step"][mine & (status == DIVERGED)],
                variant=spec.variant,
                parameters=config.variants[spec.variant].parameters,
            )
        )
    # the initial spectra of variant 0 (all tasks without a scan): a scan may change their law
    first = np.isin(tasks["point"], [i for i, spec in enumerate(config.points) if spec.variant == 0])
    measured = (status != PENDING) & first
    initial = {n: spectra[n][measured, 0] for n in names}
    initial = {n: v[np.isfinite(v).all(axis=1)] for n, v in initial.items()}
    return Dataset(Path(path), config, attrs, steps, selected, names, tuple(points), initial)
