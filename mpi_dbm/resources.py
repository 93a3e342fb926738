"""Files that ship inside the package (job-script templates, reproduction recipes), found with
`importlib.resources` so that every command works from a wheel install in any directory.

Nothing in `mpi_dbm/` reads or writes paths of the source tree; this module is the one place
that knows where the package's own data lives.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["recipes_dir", "template_path"]


def _package_path(*parts: str) -> Path:
    """A data folder or file of the installed package as a filesystem path (setuptools installs
    packages as plain directories; a zipped install is refused with one message)."""
    node = resources.files("mpi_dbm").joinpath(*parts)
    path = Path(str(node))
    if not path.exists():
        from .errors import MpiDbmError

        raise MpiDbmError(
            f"package data {'/'.join(parts)!r} not found at {str(path)!r}: reinstall mpi-dbm "
            "(pip install mpi-dbm, or pip install . from the repository)"
        )
    return path


def template_path(name: str) -> Path:
    """A job-script template (`slurm.sbatch`, `pbs.sh`) of `mpi_dbm/templates/`."""
    return _package_path("templates", name)


def recipes_dir() -> Path:
    """`mpi_dbm/recipes/`: one folder per reproduction size with its `reproduce.toml` and configs."""
    return _package_path("recipes")
