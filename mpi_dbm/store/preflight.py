"""The pre-flight of a run (rank 0): may the output path be created, or resumed?"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..config import RESULT_NEUTRAL, Config, compatibility_sha256
from ..errors import ResultsFileError
from .layout import PENDING
from .reader import open_results


@dataclass(frozen=True)
class Preflight:
    """What rank 0 found about the output path, broadcast to all ranks."""

    error: str | None
    exists: bool
    done: np.ndarray | None  # task-done mask of an existing file being resumed


def config_difference(stored: str, wanted: str) -> str:
    """Keys whose values differ between two canonical config texts."""
    import tomllib

    a, b = tomllib.loads(stored), tomllib.loads(wanted)
    diffs = []
    for table in sorted(set(a) | set(b)):
        ta, tb = a.get(table, {}), b.get(table, {})
        for key in sorted(set(ta) | set(tb)):
            if ta.get(key) != tb.get(key) and key not in RESULT_NEUTRAL.get(table, ()):
                diffs.append(f"[{table}] {key}: file has {ta.get(key)!r}, config has {tb.get(key)!r}")
    return "; ".join(diffs) or "(formatting only)"


def preflight(path: Path, config: Config, *, force: bool, resume: bool) -> Preflight:
    """Decide, before anything is written, whether `path` may be created or resumed."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return Preflight(f"output directory {str(parent)!r} does not exist; create it first", False, None)
    if not os.access(parent, os.W_OK):
        return Preflight(f"output directory {str(parent)!r} is not writable", False, None)
    if path.is_dir():
        return Preflight(f"output path {str(path)!r} is a directory; give a file name", False, None)
    if not path.exists():
        return Preflight(None, False, None)
    if resume:
        try:
            res = open_results(path)
        except ResultsFileError as exc:
            return Preflight(f"cannot resume: {exc}", True, None)
        with res:
            damage = res.damage()  # first: a damaged config would not parse
            if not damage.resumable:  # damaged pending rows are recomputed
                return Preflight(f"cannot resume: {damage.message(path)}", True, None)
            if compatibility_sha256(res.config_text) != config.compat_sha256:  # schedule etc. may differ
                diff = config_difference(res.config_text, config.to_toml())
                return Preflight(
                    f"cannot resume {str(path)!r}: it was made with a different config ({diff}); "
                    "use the original config, or another output file",
                    True,
                    None,
                )
            return Preflight(None, True, res.status() != PENDING)
    if force:
        return Preflight(None, True, None)
    return Preflight(
        f"results file {str(path)!r} exists; pass --resume to complete it, "
        "--force to overwrite it, or choose another -o",
        True,
        None,
    )
