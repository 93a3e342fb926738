"""`[model] kind = "imported"`: spectra of weights trained elsewhere (`mpi-dbm import`, docs/import.md).

The family describes what a results file written by the importer holds, so that `analyze`,
`status` and `verify` read it like a run's file: the recorded spectra (names, sizes,
descriptions) and any scalar labels of the configuration (e.g. `noise = 0.1` of a data release),
kept as keys of the canonical [model] table so that a parameter scan can vary them. It has no
theory (`Family.expectation` is None: the analysis reports measured statistics, clusters detected
from the data, and no theory verdicts) and it cannot be trained: `init` and `step` raise.

    [model]
    kind = "imported"
    spectra = ["W", "W.shuffled"]
    sizes = [8, 8]
    descriptions = ["eigenvalues of ...", "..."]
    sources = ["cfg-a.npz"]     # where the weights came from (informative)
    noise = 0.1                 # any other key: a scalar label (number, string or boolean)

Spectra are computed as a run computes them (`gram_eigenvalues`): the eigenvalues of the smaller
Gram matrix, W Wᵀ (n ≤ m) or Wᵀ W (n > m), ascending, in float64.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..streams import ReplicaStreams
from ..tables import Table
from .base import Measurement, Model, SpectrumInfo

KIND = "imported"
#: the [model] keys of the family; every other key is a label
FIXED_KEYS = ("kind", "spectra", "sizes", "descriptions", "sources")
#: a label must be a bare TOML key (the canonical text writes it unquoted)
LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
#: a spectrum is an HDF5 dataset /spectra/NAME: no '/', not '.' or '..', printable
SPECTRUM_NAME = re.compile(r"(?![.]{1,2}\Z)[^/\x00-\x1f]+\Z")
NOT_TRAINABLE = (
    "an imported family cannot be trained: its weights were trained elsewhere "
    "(analyse the imported file with `mpi-dbm analyze`)"
)

Label = float | int | str | bool


def gram_eigenvalues(W: np.ndarray) -> np.ndarray:
    """Eigenvalues of the smaller Gram matrix of each matrix in a stack (..., n, m), ascending.

    W Wᵀ (n × n) when n ≤ m, else Wᵀ W (m × m): min(n, m) values per matrix, float64, from
    `np.linalg.eigvalsh` (ascending), as the families compute their recorded Gram spectra.
    """
    W = np.asarray(W, dtype=np.float64)
    Wt = np.swapaxes(W, -1, -2)
    gram = W @ Wt if W.shape[-2] <= W.shape[-1] else Wt @ W
    values: np.ndarray = np.linalg.eigvalsh(gram)
    return values


@dataclass(frozen=True)
class ImportedSpec:
    """Spectra of an imported file and the labels of its configuration."""

    kind: str
    spectra: tuple[str, ...]
    sizes: tuple[int, ...]
    descriptions: tuple[str, ...]
    sources: tuple[str, ...] = ()
    labels: tuple[tuple[str, Label], ...] = ()  # sorted by name

    @property
    def infos(self) -> tuple[SpectrumInfo, ...]:
        return tuple(SpectrumInfo(*t) for t in zip(self.spectra, self.sizes, self.descriptions, strict=True))

    def to_tables(self) -> dict[str, dict[str, object]]:
        model: dict[str, object] = {
            "kind": self.kind,
            "spectra": list(self.spectra),
            "sizes": list(self.sizes),
            "descriptions": list(self.descriptions),
        }
        if self.sources:
            model["sources"] = list(self.sources)
        model.update(self.labels)
        return {"model": model}


def _strings(t: Table, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
        raise t.error(key, f"must be a list of strings, got {value!r}")
    return tuple(value)


def _sizes(t: Table, value: Any) -> tuple[int, ...]:
    if not isinstance(value, list) or any(
        isinstance(v, bool) or not isinstance(v, int) or v < 1 for v in value
    ):
        raise t.error("sizes", f"must be a list of integers >= 1, got {value!r}")
    return tuple(value)


def _label(t: Table, key: str) -> Label:
    if not LABEL_NAME.match(key):
        raise t.error(key, "a label's name must be a bare key (letters, digits, '_' and '-')")
    value = t.raw(key)
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return t._check_number(key, value) if isinstance(value, float) else value
    raise t.error(key, f"a label must be a number, string or boolean, got {value!r}")


def parse(model: Table, target: Table) -> ImportedSpec:
    """The [model] table of an imported file (written by the importer; strict like every family).

    Every fixed key is read before any is checked, so a mistake names the first bad key and an
    unknown one still gets a did-you-mean."""
    raw = {key: model.raw(key, None) for key in FIXED_KEYS[1:]}
    for key in ("spectra", "sizes", "descriptions"):
        if raw[key] is None:
            raise model.error(key, "missing (this key is required)")
    names = _strings(model, "spectra", raw["spectra"])
    sizes = _sizes(model, raw["sizes"])
    descriptions = _strings(model, "descriptions", raw["descriptions"])
    sources = _strings(model, "sources", raw["sources"] or [])
    model.check("spectra", bool(names), "must name at least one spectrum")
    for key, n in (("sizes", len(sizes)), ("descriptions", len(descriptions))):
        model.check(key, n == len(names), f"must have one entry per spectrum ({len(names)}), has {n}")
    for name in names:
        model.check("spectra", bool(SPECTRUM_NAME.match(name)), f"{name!r} is not a valid spectrum name")
    model.check("spectra", len(set(names)) == len(names), "names a spectrum twice")
    labels = tuple((key, _label(model, key)) for key in sorted(set(model.data) - set(FIXED_KEYS)))
    target.not_taken('[model] kind = "imported" takes no [target] table')
    return ImportedSpec(KIND, names, sizes, descriptions, sources, labels)


class Imported(Model):
    """The spectra of an imported file; nothing to train."""

    spec: ImportedSpec

    def __init__(self, spec: ImportedSpec, shared_seed: np.random.SeedSequence) -> None:
        self.spec = spec

    @property
    def spectra(self) -> tuple[SpectrumInfo, ...]:
        return self.spec.infos

    @property
    def scalars(self) -> tuple[str, ...]:
        return ()

    def init(self, streams: ReplicaStreams, batch_size: int) -> Any:
        raise ConfigError(NOT_TRAINABLE)

    def step(self, state: Any, learning_rate: float, batch_size: int, streams: ReplicaStreams) -> None:
        raise ConfigError(NOT_TRAINABLE)

    def measure(self, state: Any) -> Measurement:
        raise ConfigError(NOT_TRAINABLE)

    def unstable(self, state: Any) -> np.ndarray:
        raise ConfigError(NOT_TRAINABLE)

    def park(self, state: Any, mask: np.ndarray) -> None:
        raise ConfigError(NOT_TRAINABLE)
