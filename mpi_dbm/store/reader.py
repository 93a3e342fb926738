"""Reading a results file: `open_results` checks what the file is, `Results` reads it
(every HDF5 error becomes one ResultsFileError) and finds its damage (damage.py)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from .. import __version__
from ..config import Config, parse_text
from ..errors import ResultsFileError
from .damage import Damage, find_damage
from .hdf5 import _READ_ERRORS, _plain, _reading
from .layout import LAYOUT_VERSION
from .scales import UNREAD_ATTRIBUTES


class Results:
    """Read access to a results file (serial, any process). Use as a context manager.

    Every read turns an HDF5 error into ResultsFileError ("... is damaged: ..."); `damage`
    checks the whole file against its checksums and its stored config.
    """

    def __init__(self, path: Path, file: h5py.File) -> None:
        self.path = path
        self.file = file

    def __enter__(self) -> Results:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(*_READ_ERRORS):
            self.file.close()

    def _read(self, name: str, sel: Any = ...) -> np.ndarray:
        with _reading(self.path, f"/{name}"):
            return np.asarray(self.file[name][sel])

    @property
    def attrs(self) -> dict[str, Any]:
        with _reading(self.path, "the root attributes"):
            return {k: _plain(v) for k, v in self.file.attrs.items()}

    def _attr_text(self, key: str) -> str:
        with _reading(self.path, f"the root attribute {key!r}"):
            value = _plain(self.file.attrs[key])
        if not isinstance(value, str):
            raise ResultsFileError(f"{str(self.path)!r} is damaged: the root attribute {key!r} is not text")
        return value

    @property
    def config_text(self) -> str:
        return self._attr_text("config")

    @property
    def config_sha256(self) -> str:
        return self._attr_text("config_sha256")

    def config(self) -> Config:
        return parse_text(self.config_text, source=f"{self.path} (stored config)")

    def status(self) -> np.ndarray:
        return self._read("tasks/status")

    def tasks(self) -> dict[str, np.ndarray]:
        with _reading(self.path, "/tasks"):
            names = list(self.file["tasks"])
        return {name: self._read(f"tasks/{name}") for name in names}

    def points(self) -> dict[str, np.ndarray]:
        """The /points columns: learning_rate, batch_size and, with a scan, variant and one column
        per scanned key ("model.noise_strength", ...; strings as bytes)."""
        with _reading(self.path, "/points"):
            names = list(self.file["points"])
        return {name: self._read(f"points/{name}") for name in names}

    def measure_steps(self) -> np.ndarray:
        return self._read("measure/step")

    def spectrum_names(self) -> list[str]:
        with _reading(self.path, "/spectra"):
            return list(self.file["spectra"])

    def scalar_names(self) -> list[str]:
        with _reading(self.path, "/scalars"):
            return list(self.file["scalars"]) if "scalars" in self.file else []

    def spectra(self, name: str, measurement: int | slice = slice(None)) -> np.ndarray:
        return self._read(f"spectra/{name}", (slice(None), measurement))

    def scalars(self, name: str) -> np.ndarray:
        return self._read(f"scalars/{name}")

    def require_intact(self) -> None:
        """Raise ResultsFileError naming the damage unless `damage()` finds none."""
        found = self.damage()
        if not found.intact:
            raise ResultsFileError(found.message(self.path))

    def _read_all_metadata(self) -> None:
        """Read every object header and attribute once: HDF5 checks their checksums. The
        dimension scales' DIMENSION_LIST (variable-length, in the unchecksummed global heap) is
        never read (scales.py)."""

        def visit(name: str, obj: Any) -> None:
            with _reading(self.path, f"/{name}"):
                for key in obj.attrs:
                    if key not in UNREAD_ATTRIBUTES:
                        _plain(obj.attrs[key])

        _ = self.attrs
        with _reading(self.path, "the file's groups"):
            self.file.visititems(visit)

    def damage(self, block: int = 512) -> Damage:
        """Check the structure against the stored config, and every finished task against its checksum.

        Structure: the config matches its SHA-256, every dataset has the layout's shape and
        dtype, /points, /measure/step and the task columns equal what the config implies,
        status values are 0, 1 or 2. Rows: the checksum of each done or diverged task
        (`task_checksums`) equals /tasks/checksum. Pending tasks are not checked (their
        rows may hold a unit that was interrupted). Reads `block` tasks at a time.
        """
        return find_damage(self, block)


_REQUIRED = ("tasks/status", "tasks/learning_rate", "tasks/batch_size", "tasks/replica", "measure/step")


def _superblock_version(path: Path) -> int | None:
    """Version byte of an HDF5 superblock at offset 0 (0/1: the 'earliest' format), None if elsewhere."""
    with open(path, "rb") as fh:
        head = fh.read(9)
    return head[8] if len(head) == 9 and head[:8] == b"\x89HDF\r\n\x1a\n" else None


def open_results(path: str | Path) -> Results:
    """Open a results file for reading, or raise ResultsFileError saying what is wrong with it.

    Only layout-2 files (HDF5 1.10 format, no variable-length data) are read: layout 1 has
    no checksums, and HDF5 can loop forever on its damaged metadata. Reading attributes of
    the 'earliest' format that hold no variable-length data (layout_version) is safe.
    """
    p = Path(path)
    if not p.exists():
        raise ResultsFileError(f"results file {str(p)!r} does not exist")
    if p.is_dir():
        raise ResultsFileError(f"{str(p)!r} is a directory, not a results file")
    try:
        hdf5 = h5py.is_hdf5(p)
        superblock = _superblock_version(p)
    except OSError as exc:
        raise ResultsFileError(f"cannot read {str(p)!r}: {exc}") from None
    if not hdf5:
        raise ResultsFileError(f"{str(p)!r} is not an HDF5 file (truncated, or not written by mpi-dbm)")
    try:
        # locking=False: read while a run holds the file open (the layout never changes during a
        # run, and readers use only rows whose status is done)
        f = h5py.File(p, "r", locking=False)
    except _READ_ERRORS as exc:
        text = " ".join(str(exc).split())
        raise ResultsFileError(f"cannot open {str(p)!r}: {text} (truncated or damaged?)") from None
    try:
        fmt: Any = None
        with _reading(p, "the root attributes"):
            names = set(f.attrs)  # every name; h5py's attrs.get() would take damage for absence
            version = f.attrs["layout_version"] if "layout_version" in names else None
            current = isinstance(version, np.integer | int) and int(version) == LAYOUT_VERSION
            if current and superblock not in (0, 1):  # no variable-length strings to read
                fmt = _plain(f.attrs.get("format"))
        if not isinstance(version, np.integer | int):
            raise ResultsFileError(f"{str(p)!r} is an HDF5 file but not an mpi-dbm results file")
        if int(version) > LAYOUT_VERSION:
            raise ResultsFileError(
                f"{str(p)!r} has layout version {int(version)}; "
                f"this mpi-dbm ({__version__}) reads up to {LAYOUT_VERSION}: upgrade mpi-dbm"
            )
        if int(version) < LAYOUT_VERSION or superblock in (0, 1):
            raise ResultsFileError(
                f"{str(p)!r} has layout version {int(version)}, written by an older mpi-dbm without "
                f"checksums (HDF5 can hang on such a file when it is damaged); this mpi-dbm reads layout "
                f"{LAYOUT_VERSION} only: run its config again into a new file "
                "(the same config gives the same bits)"
            )
        if fmt != "mpi-dbm results":
            raise ResultsFileError(f"{str(p)!r} is an HDF5 file but not an mpi-dbm results file")
        with _reading(p, "the layout"):
            missing = [name for name in (*_REQUIRED, "tasks/checksum", "spectra") if name not in f]
        if missing:
            raise ResultsFileError(f"{str(p)!r} is damaged: it lacks {', '.join('/' + m for m in missing)}")
    except ResultsFileError:
        with contextlib.suppress(*_READ_ERRORS):
            f.close()
        raise
    return Results(p, f)
