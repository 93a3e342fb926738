"""The multilayer phase diagram of one analysed results file (arXiv:2509.01349, issue #15): every
(α, |B|, ε) point's observables and phase (`phases.py`), the measured temperature boundary T_c(ε)
and the release's boundaries, as summary.json "phases" and info verdicts.

`of_dataset` reads a `Dataset` (any sweep of `kind = "multilayer"`, with or without a
`[sweep.scan]` of `model.init_width`: each point takes ε from its own scan variant) and returns
None for other families, so `analyze` calls it unconditionally. The phases use the whole recorded
trajectory (first and last measurement, late-time fluctuations), not the analysis window; the
spacing statistics use each replica's last spectrum.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..rmt import InsufficientDataError
from .data import Dataset, PointData
from .phases import (
    EPS_C,
    PHASES,
    SIGMA_C2,
    T_STAR_RELEASE,
    PhasePoint,
    SpacingStats,
    classify,
    empirical_temperature_boundary,
    paper_phase,
    point_observables,
    spacing_statistics,
    teacher_edge,
)

KIND = "multilayer"
SPECTRUM, LOSS = "singular_values", "loss"

#: how the phases were made (summary.json "phases"."method")
METHOD = (
    "per point, from the recorded singular values of W (all measurements, diverged replicas counted): "
    "noisy if s_max,end > max(2 s_t, 1.25 s_max,0) (s_t: teacher's Marchenko-Pastur edge), else jammed if "
    "the median relative change |s_end - s_0|/|s_0| < 0.1, else ordered; diverged if > 1/2 of the replicas "
    "diverged (mpi_dbm/analysis/phases.py). paper_phase: the release's diagram, eps_c = 1/sqrt2 "
    "(tanh soft-spin bimodality, sigma_c^2 = 1/2) below T* = 0.87 (the end of its eps_c line, read from "
    "the notebook), noisy above T*"
)


@dataclass(frozen=True)
class DiagramPoint:
    index: int  # the point's index in the results file
    phase: PhasePoint


@dataclass
class PhaseDiagram:
    points: list[DiagramPoint]
    skipped: dict[int, str] = field(default_factory=dict)  # point index -> why it has no phase

    @property
    def phase_points(self) -> list[PhasePoint]:
        return [d.phase for d in self.points]

    def boundary(self) -> dict[float, float]:
        """Measured T_c(ε) (`phases.empirical_temperature_boundary`)."""
        pts = self.phase_points
        return empirical_temperature_boundary(
            [p.observables.temperature for p in pts],
            [p.observables.init_width for p in pts],
            [p.phase for p in pts],
        )

    def agreement(self) -> tuple[int, int]:
        """(points whose phase is the release diagram's, points classified)."""
        pts = self.phase_points
        agree = sum(p.phase == paper_phase(p.observables.temperature, p.observables.init_width) for p in pts)
        return agree, len(pts)

    def record(self) -> dict[str, Any]:
        """summary.json "phases"."""
        counts = Counter(d.phase.phase for d in self.points)
        agree, n = self.agreement()
        return {
            "method": METHOD,
            "release_boundaries": {"eps_c": EPS_C, "sigma_c2": SIGMA_C2, "T_star": T_STAR_RELEASE},
            "measured_T_c": [{"init_width": e, "temperature": t} for e, t in sorted(self.boundary().items())],
            "counts": {ph: counts.get(ph, 0) for ph in PHASES},
            "agreement_with_release": {"agree": agree, "of": n},
            "points": [_point_record(d) for d in self.points],
            "skipped": [{"index": i, "reason": why} for i, why in sorted(self.skipped.items())],
        }

    def verdicts(self) -> list[tuple[str, str, str]]:
        """(name, status, detail) info verdicts: the phases found and the agreement with the release."""
        counts = Counter(d.phase.phase for d in self.points)
        agree, n = self.agreement()
        found = ", ".join(f"{ph} {counts.get(ph, 0)}" for ph in PHASES)
        boundary = "; ".join(f"ε={e:g}: {t:.3g}" for e, t in sorted(self.boundary().items())) or "none"
        out = [
            (
                "multilayer phases (arXiv:2509.01349)",
                "info",
                f"{n} points classified: {found}; as the release's diagram (ε_c = 1/√2, T* ≈ 0.87): "
                f"{agree}/{n}; measured T_c(ε): {boundary}",
            )
        ]
        if self.skipped:
            out.append(
                (
                    "multilayer phases: points left out",
                    "info",
                    "; ".join(f"point {i}: {why}" for i, why in sorted(self.skipped.items())),
                )
            )
        return out


def _point_record(d: DiagramPoint) -> dict[str, Any]:
    o, sp = d.phase.observables, d.phase.spacing
    return {
        "index": d.index,
        "learning_rate": o.learning_rate,
        "batch_size": o.batch_size,
        "init_width": o.init_width,
        "temperature": o.temperature,
        "phase": d.phase.phase,
        "paper_phase": paper_phase(o.temperature, o.init_width),
        "replicas": o.n_replicas,
        "diverged_fraction": o.diverged_fraction,
        "change": o.change,
        "s_max_initial": o.s_max_initial,
        "s_max_final": o.s_max_final,
        "teacher_scale": o.teacher_scale,
        "growth": o.growth,
        "fluctuation": o.fluctuation,
        "loss_initial": o.loss_initial,
        "loss_final": o.loss_final,
        "spacing_ratio": None
        if sp is None
        else {
            "mean": sp.mean,
            "error": sp.error,
            "n_spectra": sp.n_spectra,
            "goe": sp.goe,
            "poisson": sp.poisson,
        },
    }


def _spacing_record(sp: SpacingStats) -> dict[str, Any]:
    return {
        "mean": sp.mean,
        "error": sp.error,
        "n_spectra": sp.n_spectra,
        "goe": sp.goe,
        "poisson": sp.poisson,
    }


def _with_diverged(p: PointData, name: str) -> np.ndarray:
    """The point's finished trajectories (n_done, ...) followed by NaN rows for its diverged replicas."""
    done = p.trajectories[name] if name in p.trajectories else p.scalars[name]
    nan = np.full((p.n_diverged, *done.shape[1:]), np.nan)
    return np.concatenate([done, nan])


def of_dataset(ds: Dataset) -> PhaseDiagram | None:
    """The phase diagram of a multilayer results file; None for any other family."""
    if ds.config.model.kind != KIND or SPECTRUM not in ds.spectra:
        return None
    diagram = PhaseDiagram([])
    for p in ds.points:
        model = ds.config.variants[p.variant].model
        if p.n_done + p.n_diverged == 0:
            diagram.skipped[p.index] = f"no finished replica ({p.n_pending} pending)"
            continue
        sv, loss = _with_diverged(p, SPECTRUM), _with_diverged(p, LOSS)
        diverged = np.arange(len(sv)) >= p.n_done
        teacher = teacher_edge(model.w_sigma, model.n_features, model.n_hidden)
        try:
            obs = point_observables(
                sv, loss, diverged, p.learning_rate, p.batch_size, model.init_width, teacher
            )
        except InsufficientDataError as exc:
            diagram.skipped[p.index] = str(exc)
            continue
        try:
            spacing = spacing_statistics(sv, diverged) if p.n_done else None
        except InsufficientDataError:
            spacing = None
        diagram.points.append(DiagramPoint(p.index, PhasePoint(obs, classify(obs), spacing)))
    return diagram
