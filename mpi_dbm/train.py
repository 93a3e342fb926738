"""The SGD loop shared by all models: steps, measurements, divergence detection.

It knows nothing of MPI or files (NetKet's split of driver and loggers): it
returns the recorded arrays, and reports each measurement to an optional
callback (progress, wall-time checks).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .models.base import NON_FINITE, Model
from .streams import ReplicaStreams


@dataclass(frozen=True)
class StackResult:
    """What a stack of R replicas produced; NaN after a replica diverged."""

    spectra: dict[str, np.ndarray]  # name -> (R, n_measure, size)
    scalars: dict[str, np.ndarray]  # name -> (R, n_measure)
    diverged_step: np.ndarray  # (R,) int64, -1 where the replica never diverged
    diverged_reason: np.ndarray  # (R,) int8, models.base.NON_FINITE / OUTSIDE_REGION, 0 if none

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_step >= 0


CheckCallback = Callable[[int], None]  # called with the step at every check; may raise to abandon
StepCallback = Callable[[], None]  # called after every step (must be cheap); may raise to abandon


def train_stack(
    model: Model,
    learning_rate: float,
    batch_size: int,
    streams: ReplicaStreams,
    steps: int,
    measure_every: int,
    check_every: int,
    on_check: CheckCallback | None = None,
    on_step: StepCallback | None = None,
) -> StackResult:
    """Train len(streams) replicas for `steps` SGD updates, measuring at 0, measure_every, ...

    A replica is declared diverged at the first check (every `check_every` steps and at
    each measurement) where `model.unstable` flags it; it is then parked and its later
    measurements are NaN, while the other replicas go on. `on_check(step)` runs after
    every check (progress, heartbeats, stop requests); an exception it raises abandons
    the stack.
    `on_step()` runs after initialisation and after every step: a cheap poll (stop
    requests) that bounds the time to abandon a stack by one step, however large
    `check_every` is or however slow a step of a big model.

    A replica whose measured spectra or scalars are not all finite is declared diverged at
    that measurement with reason NON_FINITE (models.base), like one whose state is
    non-finite: a replica is never finished with NaN or inf in its records.

    A stack larger than the model's `preferred_stack(batch_size)` (if it has one: the
    number of replicas whose working set fits the cache) is trained as consecutive
    sub-stacks; every replica computes the same numbers either way (its draws come from
    its own streams, and no operation mixes replicas), so only the speed changes.
    """
    n_rep = len(streams)
    n_meas = steps // measure_every + 1
    out = StackResult(
        spectra={s.name: np.full((n_rep, n_meas, s.size), np.nan) for s in model.spectra},
        scalars={name: np.full((n_rep, n_meas), np.nan) for name in model.scalars},
        diverged_step=np.full(n_rep, -1, dtype=np.int64),
        diverged_reason=np.zeros(n_rep, dtype=np.int8),
    )
    preferred = getattr(model, "preferred_stack", None)
    size = max(1, int(preferred(batch_size))) if preferred is not None else n_rep
    n_sub = -(-n_rep // size)
    bounds = np.linspace(0, n_rep, n_sub + 1).round().astype(int)  # balanced sub-stacks
    for start, stop in itertools.pairwise(bounds):
        rows = slice(int(start), int(stop))
        sub = streams if n_sub == 1 else streams.subset(rows)
        _train(
            model,
            learning_rate,
            batch_size,
            sub,
            steps,
            measure_every,
            check_every,
            on_check,
            on_step,
            out,
            rows,
        )
    return out


def _train(
    model: Model,
    learning_rate: float,
    batch_size: int,
    streams: ReplicaStreams,
    steps: int,
    measure_every: int,
    check_every: int,
    on_check: CheckCallback | None,
    on_step: StepCallback | None,
    out: StackResult,
    rows: slice,
) -> None:
    """train_stack for one (sub-)stack, writing its rows of `out`."""
    spectra = {name: a[rows] for name, a in out.spectra.items()}
    scalars = {name: a[rows] for name, a in out.scalars.items()}
    diverged_step = out.diverged_step[rows]
    diverged_reason = out.diverged_reason[rows]
    state = model.init(streams, batch_size)
    if on_step is not None:
        on_step()

    def diverge(bad: np.ndarray, step: int, code: np.ndarray | int) -> None:
        diverged_step[bad] = step
        diverged_reason[bad] = code[bad] if isinstance(code, np.ndarray) else code
        model.park(state, bad)

    def check(step: int) -> None:
        code = np.asarray(model.unstable(state)).astype(np.int8)
        bad = (code != 0) & (diverged_step < 0)
        if bad.any():
            diverge(bad, step, code)
        if on_check is not None:
            on_check(step)

    def record(index: int, step: int) -> None:
        check(step)  # first, so that a replica found unstable now is not recorded
        alive = diverged_step < 0
        meas = model.measure(state)
        finite = np.ones(len(alive), dtype=bool)
        for values in (*meas.spectra.values(), *meas.scalars.values()):
            finite &= np.isfinite(values.reshape(len(alive), -1)).all(axis=1)
        if not finite[alive].all():  # e.g. an overflow the state check cannot see
            diverge(alive & ~finite, step, NON_FINITE)
            alive &= finite
        for name, values in meas.spectra.items():
            spectra[name][alive, index] = values[alive]
        for name, values in meas.scalars.items():
            scalars[name][alive, index] = values[alive]

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        record(0, 0)
        for step in range(1, steps + 1):
            model.step(state, learning_rate, batch_size, streams)
            if on_step is not None:
                on_step()
            if step % measure_every == 0:
                record(step // measure_every, step)
            elif step % check_every == 0:
                check(step)
